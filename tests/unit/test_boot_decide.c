/* SPDX-License-Identifier: MIT */
/* bootsvc/boot/boot_decide.c: a known node's script request, table-driven. The gate's
 * order decides which answer a node in several states at once gets (a held node whose
 * version is not here is held by the admin, not fetched for); boot_read_only() is what a
 * reader thread may answer without the loop, so every write or event of a boot must make
 * it false, and boot_record_only() what it may answer leaving the loop the record, so
 * every write the answer depends on must make that false. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../bootsvc/boot/boot_decide.h"

/* source_ok, discovered_unassigned, hold, have_version, kind_known, files_here */
#define G(src, disc, held, ver, kind, here) { .source_ok = src, .discovered_unassigned = disc, \
	.hold = held, .have_version = ver, .kind_known = kind, .files_here = here }

static const struct {
	int line;
	struct boot_gate_in in;
	enum boot_gate want;
} gate_rows[] = {
	{ __LINE__, G(1, 0, 0, 1, 1, 1), BG_TRUST },
	/* one step failing: its own answer */
	{ __LINE__, G(0, 0, 0, 1, 1, 1), BG_REFUSE },
	{ __LINE__, G(1, 1, 0, 1, 1, 1), BG_DISCOVER },
	{ __LINE__, G(1, 0, 1, 1, 1, 1), BG_HOLD_ADMIN },
	{ __LINE__, G(1, 0, 0, 0, 1, 1), BG_HOLD_NO_VERSION },
	{ __LINE__, G(1, 0, 0, 1, 0, 1), BG_HOLD_UNKNOWN_KIND },
	{ __LINE__, G(1, 0, 0, 1, 1, 0), BG_HOLD_NOT_HERE },
	/* several: the earliest step answers */
	{ __LINE__, G(0, 1, 1, 0, 0, 0), BG_REFUSE }, /* another address learns nothing */
	{ __LINE__, G(1, 1, 1, 0, 0, 0), BG_DISCOVER },
	{ __LINE__, G(1, 0, 1, 1, 1, 0), BG_HOLD_ADMIN }, /* held: no sync started */
	{ __LINE__, G(1, 0, 1, 0, 0, 0), BG_HOLD_ADMIN },
	{ __LINE__, G(1, 0, 0, 0, 0, 0), BG_HOLD_NO_VERSION },
	{ __LINE__, G(1, 0, 0, 1, 0, 0), BG_HOLD_UNKNOWN_KIND },
};

static void
test_gate(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(gate_rows) / sizeof(gate_rows[0]); i++)
		if (boot_gate_decide(&gate_rows[i].in) != gate_rows[i].want)
			fail_msg("row at line %d: got %d, want %d", gate_rows[i].line,
			    boot_gate_decide(&gate_rows[i].in), gate_rows[i].want);
}

/* Over all 64 inputs: the trust decision is reached only when every step passes. */
static void
test_gate_trust_only_when_all_pass(void **state)
{
	(void)state;
	for (unsigned b = 0; b < 64; b++) {
		struct boot_gate_in in = {
			.source_ok = b & 1, .discovered_unassigned = b & 2, .hold = b & 4,
			.have_version = b & 8, .kind_known = b & 16, .files_here = b & 32,
		};
		bool all = in.source_ok && !in.discovered_unassigned && !in.hold &&
		    in.have_version && in.kind_known && in.files_here;

		assert_int_equal(boot_gate_decide(&in) == BG_TRUST, all);
	}
}

#define BOOT(...) ((struct trust_script_verdict){ .serve = TS_BOOT, __VA_ARGS__ })

static void
test_moves_phase(void **state)
{
	struct trust_script_verdict hold = { .serve = TS_HOLD, .set_pxe = true };

	(void)state;
	assert_true(boot_moves_phase(&BOOT(.set_pxe = true), "pxe", "registered"));
	assert_true(boot_moves_phase(&BOOT(.set_pxe = true), "pxe", "up"));
	/* iPXE asking again: the phase and its start stay */
	assert_false(boot_moves_phase(&BOOT(.set_pxe = true), "pxe", "pxe"));
	/* a boot the trust decision does not let move the node */
	assert_false(boot_moves_phase(&BOOT(.set_pxe = false), "pxe", "registered"));
	/* a kind whose script marks no phase */
	assert_false(boot_moves_phase(&BOOT(.set_pxe = true), NULL, "registered"));
	/* not a boot */
	assert_false(boot_moves_phase(&hold, "pxe", "registered"));
}

static const struct {
	int line;
	struct trust_script_verdict v;
	bool sanboot, served_same, moves_phase;
	bool want;        /* boot_read_only */
	bool want_record; /* boot_record_only */
} ro_rows[] = {
	/* iPXE retrying the version it was served, nothing to record */
	{ __LINE__, BOOT(.set_pxe = true), false, true, false, true, true },
	{ __LINE__, BOOT(.set_pxe = false), false, true, false, true, true },
	/* the record of a boot: the loop's to write, but the answer a reader's to give */
	{ __LINE__, BOOT(.set_pxe = true), false, false, false, false, true }, /* a new version */
	{ __LINE__, BOOT(.set_pxe = true), false, true, true, false, true },   /* the phase moves */
	{ __LINE__, BOOT(.set_pxe = true), false, false, true, false, true },  /* both */
	/* the writes an answer depends on are the loop's, answer and all */
	{ __LINE__, BOOT(.arm = true), false, true, false, false, false },     /* a new token */
	{ __LINE__, BOOT(.event = true), false, true, false, false, false },   /* an event */
	{ __LINE__, BOOT(.self_op = true), false, true, false, false, false }, /* the op starts */
	{ __LINE__, BOOT(.set_pxe = true), true, true, false, false, false },  /* secrets, disarm */
	{ __LINE__, BOOT(.set_pxe = true), true, false, true, false, false },
	/* not a boot: the hold script and its event, or a refusal */
	{ __LINE__, { .serve = TS_HOLD }, false, true, false, false, false },
	{ __LINE__, { .serve = TS_REFUSE }, false, true, false, false, false },
};

static void
test_read_only(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(ro_rows) / sizeof(ro_rows[0]); i++) {
		if (boot_read_only(&ro_rows[i].v, ro_rows[i].sanboot, ro_rows[i].served_same,
		    ro_rows[i].moves_phase) != ro_rows[i].want)
			fail_msg("row at line %d: read-only, want %d", ro_rows[i].line,
			    ro_rows[i].want);
		if (boot_record_only(&ro_rows[i].v, ro_rows[i].sanboot) != ro_rows[i].want_record)
			fail_msg("row at line %d: record-only, want %d", ro_rows[i].line,
			    ro_rows[i].want_record);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gate),
		cmocka_unit_test(test_gate_trust_only_when_all_pass),
		cmocka_unit_test(test_moves_phase),
		cmocka_unit_test(test_read_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
