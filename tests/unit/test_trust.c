/* SPDX-License-Identifier: MIT */
/* bootsvc/boot/trust.c: who may move a node and who gets its credential (issue #11),
 * table-driven. Each row is what bootsvc knows when a script request arrives and what it
 * must do: a fetch for a node that is up, or that the controller is not booting, never
 * moves it unless it comes from the node's own address; a fixed-address node is served
 * to that address only; a self-initiated boot is watched (self_op), never started. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../bootsvc/boot/trust.h"

/* source: fixed address and the request from it / from elsewhere / no fixed address */
#define OWN .fixed_ip = true, .from_registered = true
#define OTHER .fixed_ip = true, .from_registered = false
#define NOIP .fixed_ip = false, .from_registered = false

static const struct {
	int line;
	struct trust_script_in in;
	enum trust_serve serve;
	bool set_pxe, arm, self_op, event;
	const char *why; /* substring */
} rows[] = {
	/* another address than the node's: refused whatever the state, and evented */
	{ __LINE__, { OTHER, .phase = TP_UP }, TS_REFUSE, false, false, false, true, "other" },
	{ __LINE__, { OTHER, .phase = TP_UP, .armed = true }, TS_REFUSE, 0, 0, 0, 1, "other" },
	{ __LINE__, { OTHER, .ctrl_booting = true, .phase = TP_BOOTING, .armed = true },
	    TS_REFUSE, 0, 0, 0, 1, "other" },
	{ __LINE__, { OTHER, .phase = TP_FAILED, .op_idle = true }, TS_REFUSE, 0, 0, 0, 1, NULL },
	/* a boot the controller ordered: it armed the node already */
	{ __LINE__, { OWN, .ctrl_booting = true, .armed = true, .phase = TP_IDLE }, TS_BOOT,
	    true, false, false, false, "controller" },
	{ __LINE__, { NOIP, .ctrl_booting = true, .armed = true, .phase = TP_IDLE }, TS_BOOT,
	    true, false, false, false, "controller" },
	/* ... whose credential went already (iPXE asks again): a fresh one to its address */
	{ __LINE__, { OWN, .ctrl_booting = true, .phase = TP_BOOTING }, TS_BOOT, 1, 1, 0, 0,
	    "controller" },
	/* ... but not to anyone who knows the MAC of a node without a fixed address */
	{ __LINE__, { NOIP, .ctrl_booting = true, .phase = TP_BOOTING }, TS_BOOT, 1, 0, 0, 0,
	    "controller" },
	/* the node's own address, no controller boot: it rebooted itself while up. Armed,
	 * and watched by the controller (self_op), not power-cycled */
	{ __LINE__, { OWN, .phase = TP_UP, .op_idle = true, .reboot_evidence = true }, TS_BOOT,
	    1, 1, 1, 1, "itself" },
	{ __LINE__, { OWN, .phase = TP_UP, .op_idle = true, .armed = true,
	    .reboot_evidence = true }, TS_BOOT, 1, 1, 1, 1,
	    "itself" },                    /* up and armed (an admin): a new boot, a new token */
	{ __LINE__, { OWN, .phase = TP_UP, .reboot_evidence = true }, TS_BOOT, 1, 1, 0, 1,
	    "itself" },                    /* unmanaged */
	/* ... but without a PXE DHCP exchange since it came up, the running system asks (a
	 * user on the node): an observation, nothing armed, nothing moved */
	{ __LINE__, { OWN, .phase = TP_UP, .op_idle = true }, TS_HOLD, 0, 0, 0, 1, "not a reboot" },
	{ __LINE__, { OWN, .phase = TP_UP }, TS_HOLD, 0, 0, 0, 1, "not a reboot" },
	{ __LINE__, { OWN, .phase = TP_UP, .armed = true }, TS_HOLD, 0, 0, 0, 1, "not a reboot" },
	/* the evidence matters only for an up node: a controller boot needs none */
	{ __LINE__, { OWN, .ctrl_booting = true, .phase = TP_UP, .armed = true }, TS_BOOT, 1, 0,
	    0, 0, "controller" },
	/* a failed node booting by itself from its address: armed, evented */
	{ __LINE__, { OWN, .phase = TP_FAILED, .reboot_evidence = true }, TS_BOOT, 1, 1, 0, 1,
	    "failed" },
	/* ... without a PXE DHCP exchange since it failed: an OS that may run asks */
	{ __LINE__, { OWN, .phase = TP_FAILED }, TS_HOLD, 0, 0, 0, 1, "not a reboot" },
	/* a node without a BMC (not managed): every boot is its own */
	{ __LINE__, { OWN, .phase = TP_IDLE }, TS_BOOT, 1, 1, 0, 0, "address" },
	/* iPXE retrying its script before it fetched the credential: the token is kept */
	{ __LINE__, { OWN, .phase = TP_BOOTING, .armed = true }, TS_BOOT, 1, 0, 0, 0, NULL },
	{ __LINE__, { OWN, .phase = TP_BOOTING, .armed = true, .op_idle = true }, TS_BOOT, 1, 0,
	    1, 0, NULL },
	/* no fixed address, not armed, no controller boot: an observation, nothing moves */
	{ __LINE__, { NOIP, .phase = TP_UP, .op_idle = true }, TS_HOLD, 0, 0, 0, 1, "not armed" },
	{ __LINE__, { NOIP, .phase = TP_FAILED }, TS_HOLD, 0, 0, 0, 1, "not armed" },
	{ __LINE__, { NOIP, .phase = TP_IDLE }, TS_HOLD, 0, 0, 0, 1, "nodectl node arm" },
	{ __LINE__, { NOIP, .phase = TP_BOOTING }, TS_HOLD, 0, 0, 0, 1, NULL },
	/* ... unless an admin armed it */
	{ __LINE__, { NOIP, .phase = TP_UP, .armed = true, .op_idle = true }, TS_BOOT, 1, 0, 1, 0,
	    "armed" },
	{ __LINE__, { NOIP, .phase = TP_IDLE, .armed = true }, TS_BOOT, 1, 0, 0, 0, "armed" },
};

static void
test_script_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct trust_script_verdict v = trust_script_decide(&rows[i].in);
		int l = rows[i].line;

		_assert_int_equal(v.serve, rows[i].serve, __FILE__, l);
		_assert_int_equal(v.set_pxe, rows[i].set_pxe, __FILE__, l);
		_assert_int_equal(v.arm, rows[i].arm, __FILE__, l);
		_assert_int_equal(v.self_op, rows[i].self_op, __FILE__, l);
		_assert_int_equal(v.event, rows[i].event, __FILE__, l);
		_assert_true(v.why != NULL, "why", __FILE__, l);
		if (rows[i].why)
			_assert_true(strstr(v.why, rows[i].why) != NULL, rows[i].why, __FILE__, l);
		/* invariants: a refusal or a hold moves nothing and arms nothing */
		if (v.serve != TS_BOOT)
			_assert_true(!v.set_pxe && !v.arm && !v.self_op, "moves", __FILE__, l);
		/* only the node's own address or the controller arms */
		if (v.arm)
			_assert_true(rows[i].in.from_registered, "arm source", __FILE__, l);
	}
}

/* Every combination: the invariants hold, not only on the rows above. */
static void
test_script_exhaustive(void **state)
{
	(void)state;
	for (unsigned m = 0; m < (1u << 6) * 4 * 2; m++) {
		struct trust_script_in in = {
			.fixed_ip = m & 1, .from_registered = (m & 1) && (m & 2),
			.ctrl_booting = m & 4, .op_idle = (m & 8) && !(m & 4), .armed = m & 16,
			.phase = (enum trust_phase)((m >> 6) & 3), .reboot_evidence = m & 256,
		};
		struct trust_script_verdict v = trust_script_decide(&in);

		if (in.fixed_ip && !in.from_registered)
			assert_int_equal(v.serve, TS_REFUSE);
		if (v.serve != TS_BOOT)
			assert_false(v.set_pxe || v.arm || v.self_op);
		/* without a controller boot, nothing but the node's own address or an armed
		 * node moves a phase */
		if (v.set_pxe && !in.ctrl_booting)
			assert_true(in.from_registered || in.armed);
		/* a self-boot op only where the controller has none */
		if (v.self_op)
			assert_true(in.op_idle && !in.ctrl_booting);
		if (v.arm)
			assert_true(in.from_registered);
		/* an up node is armed only by the controller or with evidence of a reboot: a
		 * user on the running node asks from its address too */
		if (v.arm && (in.phase == TP_UP || in.phase == TP_FAILED))
			assert_true(in.ctrl_booting || in.reboot_evidence);
	}
}

static void
test_source_and_credential(void **state)
{
	(void)state;
	assert_true(trust_source_ok(false, false));
	assert_true(trust_source_ok(true, true));
	assert_false(trust_source_ok(true, false));

	assert_int_equal(trust_cred_decide(true, true, true), TC_SERVE);
	assert_int_equal(trust_cred_decide(true, true, false), TC_NOT_ARMED);
	assert_int_equal(trust_cred_decide(true, false, true), TC_WRONG_SOURCE);
	assert_int_equal(trust_cred_decide(true, false, false), TC_WRONG_SOURCE);
	assert_int_equal(trust_cred_decide(false, false, true), TC_SERVE);
	assert_int_equal(trust_cred_decide(false, false, false), TC_NOT_ARMED);

	assert_int_equal(trust_phase_of("up"), TP_UP);
	assert_int_equal(trust_phase_of("failed"), TP_FAILED);
	assert_int_equal(trust_phase_of("pxe"), TP_BOOTING);
	assert_int_equal(trust_phase_of("loading"), TP_BOOTING);
	assert_int_equal(trust_phase_of("imaging"), TP_BOOTING);
	assert_int_equal(trust_phase_of("powering-on"), TP_IDLE);
	assert_int_equal(trust_phase_of("discovered"), TP_IDLE);
	assert_int_equal(trust_phase_of(""), TP_IDLE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_script_table),
		cmocka_unit_test(test_script_exhaustive),
		cmocka_unit_test(test_source_and_credential),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
