/* SPDX-License-Identifier: MIT */
/* bootsvc/iscsi/disk_fsm.c: a node disk's lifecycle, table-driven. Each row is what
 * bootsvc knows of a node's disk when its script is asked for, and what must happen
 * (issue 14 point 3: fresh per armed boot unless persistent, kept across boots by a
 * persistent node until reset-disk or a reimage to another version, never half made,
 * refused without iscsi or a fixed address). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../bootsvc/iscsi/disk_fsm.h"

/* iscsi on, a node with a fixed address. */
#define OK .iscsi_on = true, .fixed_ip = true

static const struct {
	int line;
	struct disk_in in;
	enum disk_do act;
	const char *why; /* substring */
} rows[] = {
	/* refusals first, whatever the disk */
	{ __LINE__, { .fixed_ip = true, .state = DS_READY, .fresh = true }, DD_REFUSE,
	    "iscsi = on" },
	{ __LINE__, { .iscsi_on = true, .state = DS_READY, .fresh = true }, DD_REFUSE,
	    "--ip" },
	{ __LINE__, { .iscsi_on = true, .state = DS_NONE, .armed = true }, DD_REFUSE,
	    "fixed address" },
	/* no disk yet: make one, armed or not */
	{ __LINE__, { OK, .state = DS_NONE, .armed = true }, DD_MAKE, "no disk" },
	{ __LINE__, { OK, .state = DS_NONE }, DD_MAKE, "no disk" },
	{ __LINE__, { OK, .state = DS_NONE, .persistent = true }, DD_MAKE, "no disk" },
	/* being made: wait; left making by a dead bootsvc: made again */
	{ __LINE__, { OK, .state = DS_MAKING, .in_flight = true, .armed = true }, DD_WAIT,
	    "being made" },
	{ __LINE__, { OK, .state = DS_MAKING, .in_flight = true, .golden_changed = true },
	    DD_WAIT, "being made" },
	{ __LINE__, { OK, .state = DS_MAKING, .armed = true }, DD_MAKE, "unfinished" },
	{ __LINE__, { OK, .state = DS_MAKING, .persistent = true }, DD_MAKE, "unfinished" },
	/* ready, not persistent: fresh per armed boot */
	{ __LINE__, { OK, .state = DS_READY, .armed = true, .fresh = true }, DD_KEEP,
	    "this boot" },
	{ __LINE__, { OK, .state = DS_READY, .armed = true }, DD_MAKE, "fresh disk" },
	{ __LINE__, { OK, .state = DS_READY }, DD_KEEP, "not an armed boot" },
	{ __LINE__, { OK, .state = DS_READY, .fresh = true }, DD_KEEP, "this boot" },
	/* ready, persistent: kept across boots */
	{ __LINE__, { OK, .state = DS_READY, .persistent = true, .armed = true }, DD_KEEP,
	    "persistent" },
	{ __LINE__, { OK, .state = DS_READY, .persistent = true }, DD_KEEP, "persistent" },
	/* ... until reset-disk or a reimage to another version, persistent or not */
	{ __LINE__, { OK, .state = DS_READY, .persistent = true, .armed = true, .reset = true },
	    DD_MAKE, "reset" },
	{ __LINE__, { OK, .state = DS_READY, .persistent = true, .golden_changed = true,
	    .armed = true }, DD_MAKE, "reimaged" },
	{ __LINE__, { OK, .state = DS_READY, .golden_changed = true, .armed = true,
	    .fresh = true }, DD_MAKE, "reimaged" },
	{ __LINE__, { OK, .state = DS_READY, .reset = true, .fresh = true }, DD_MAKE,
	    "reset" },
	/* failed: not retried within the boot it failed in; a new boot tries again */
	{ __LINE__, { OK, .state = DS_FAILED, .armed = true, .fresh = true }, DD_FAILED,
	    "failed" },
	{ __LINE__, { OK, .state = DS_FAILED }, DD_FAILED, "failed" },
	{ __LINE__, { OK, .state = DS_FAILED, .armed = true }, DD_MAKE, "last clone failed" },
	{ __LINE__, { OK, .state = DS_FAILED, .persistent = true, .armed = true }, DD_MAKE,
	    "last clone failed" },
	{ __LINE__, { OK, .state = DS_FAILED, .golden_changed = true, .fresh = true }, DD_MAKE,
	    "reimaged" },
	{ __LINE__, { OK, .state = _DS_INVALID, .armed = true }, DD_MAKE, "unknown" },
};

static void
test_decide(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct disk_verdict v = disk_decide(&rows[i].in);

		if (v.act != rows[i].act || !strstr(v.why, rows[i].why))
			fail_msg("row at line %d: act %d (%s), want %d (%s)", rows[i].line,
			    (int)v.act, v.why, (int)rows[i].act, rows[i].why);
	}
}

static void
test_reset(void **state)
{
	(void)state;
	assert_int_equal(disk_reset_decide(false, false, false), DR_NOTHING);
	assert_int_equal(disk_reset_decide(false, true, false), DR_NOTHING);
	assert_int_equal(disk_reset_decide(true, false, false), DR_RESET);
	assert_int_equal(disk_reset_decide(true, true, false), DR_REFUSE);
	assert_int_equal(disk_reset_decide(true, true, true), DR_RESET);
	assert_int_equal(disk_reset_decide(true, false, true), DR_RESET);
}

static void
test_state_names(void **state)
{
	(void)state;
	for (int s = 0; s < _DS_MAX; s++)
		assert_int_equal(disk_state_from_string(disk_state_to_string(s)), s);
	assert_int_equal(disk_state_from_string("ready"), DS_READY);
	assert_int_equal(disk_state_from_string("bogus"), _DS_INVALID);
	assert_string_equal(disk_state_to_string(_DS_INVALID), "invalid");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_state_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
