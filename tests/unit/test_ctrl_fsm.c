/* SPDX-License-Identifier: MIT */
/* bootsvc/ctrl_fsm.c: the controller's decision, table-driven. Each row is a node's
 * state at a time and the action the controller must take (issue #4: power a node whose
 * image must change, watch its phases, time out each phase, retry with backoff a bounded
 * number of times, then fail it with the phase it was stuck in; never act twice). Times
 * are ms from an arbitrary epoch T; policy is ctrl_policy_default(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../bootsvc/controller/ctrl_fsm.h"

#define T 1000000000LL
#define S 1000LL

/* A managed node that wants to be on, with a target image. */
#define ON .want = CW_ON, .has_bmc = true, .target_set = true

static const struct {
	int line;
	struct ctrl_node n;
	int64_t now;
	enum ctrl_act act;
	enum ctrl_op op;
	int attempts;
	const char *reason; /* substring, or NULL */
} rows[] = {
	/* hands off */
	{ __LINE__, { .want = CW_NONE, .has_bmc = true }, T, CA_NONE, COP_IDLE, 0, NULL },
	{ __LINE__, { ON, .hold = true, .power = CPOW_OFF }, T, CA_NONE, COP_IDLE, 0, NULL },
	{ __LINE__, { .want = CW_ON, .target_set = true, .power = CPOW_OFF }, T, CA_NONE,
	    COP_IDLE, 0, NULL },                                      /* no BMC */
	{ __LINE__, { ON, .bmc_busy = true, .power = CPOW_OFF }, T, CA_NONE, COP_IDLE, 0, NULL },
	{ __LINE__, { ON, .power = CPOW_OFF, .retry_at_ms = T + S }, T, CA_NONE, COP_IDLE, 0,
	    NULL },                                                   /* backing off */
	/* start a boot */
	{ __LINE__, { ON, .power = CPOW_OFF }, T, CA_POWER_ON, COP_BOOTING, 1, "powered off" },
	{ __LINE__, { ON, .power = CPOW_ON, .phase = CP_UP }, T, CA_POWER_CYCLE, COP_BOOTING, 1,
	    "reimage" },                                              /* up on another image */
	{ __LINE__, { ON, .power = CPOW_UNKNOWN }, T, CA_POWER_CYCLE, COP_BOOTING, 1, NULL },
	{ __LINE__, { .want = CW_ON, .has_bmc = true, .power = CPOW_OFF }, T, CA_NONE, COP_IDLE,
	    0, NULL },                                                /* nothing to boot */
	/* converged */
	{ __LINE__, { ON, .phase = CP_UP, .booted_is_target = true, .power = CPOW_ON }, T,
	    CA_NONE, COP_IDLE, 0, NULL },
	{ __LINE__, { ON, .phase = CP_UP, .booted_is_target = true, .op = COP_BOOTING,
	    .op_at_ms = T - 60 * S, .phase_at_ms = T - S, .attempts = 2 }, T, CA_DONE, COP_IDLE,
	    0, "up on the desired image" },
	/* booting: progress within timeouts waits (crash safety: no second action) */
	{ __LINE__, { ON, .op = COP_BOOTING, .op_at_ms = T - 10 * S, .phase_at_ms = T - 20 * S,
	    .phase = CP_UP, .attempts = 1, .power = CPOW_ON }, T, CA_NONE, COP_BOOTING, 1, NULL },
	{ __LINE__, { ON, .op = COP_BOOTING, .op_at_ms = T - 100 * S, .phase = CP_PXE,
	    .phase_at_ms = T - 30 * S, .attempts = 1 }, T, CA_NONE, COP_BOOTING, 1, NULL },
	{ __LINE__, { ON, .op = COP_BOOTING, .op_at_ms = T - 400 * S, .phase = CP_IMAGING,
	    .phase_at_ms = T - 300 * S, .attempts = 1 }, T, CA_NONE, COP_BOOTING, 1, NULL },
	/* a reboot is power-off, then power-on once the BMC reads off, in the same attempt */
	{ __LINE__, { ON, .op = COP_BOOTING, .op_at_ms = T - 5 * S, .phase = CP_POWERING,
	    .phase_at_ms = T - 5 * S, .attempts = 1, .power = CPOW_OFF }, T, CA_POWER_ON,
	    COP_BOOTING, 1, "off: power on (attempt 1)" },
	{ __LINE__, { ON, .op = COP_BOOTING, .op_at_ms = T - 5 * S, .phase = CP_POWERING,
	    .phase_at_ms = T - 5 * S, .attempts = 2, .power = CPOW_ON }, T, CA_NONE,
	    COP_BOOTING, 2, NULL },                                   /* on: wait for pxe */
	{ __LINE__, { ON, .op = COP_BOOTING, .op_at_ms = T - 5 * S, .phase = CP_POWERING,
	    .phase_at_ms = T - 5 * S, .attempts = 1, .power = CPOW_OFF, .bmc_busy = true }, T,
	    CA_NONE, COP_BOOTING, 1, NULL },                          /* power-on in flight */
	/* a node that reported a phase and then went off is a boot problem, not a reboot
	 * step: the phase timeout retries it (and counts the attempt) */
	{ __LINE__, { ON, .op = COP_BOOTING, .op_at_ms = T - 50 * S, .phase = CP_PXE,
	    .phase_at_ms = T - 30 * S, .attempts = 1, .power = CPOW_OFF }, T, CA_NONE,
	    COP_BOOTING, 1, NULL },
	/* the powering-on deadline holds even while the node reads off */
	{ __LINE__, { ON, .op = COP_BOOTING, .op_at_ms = T - 181 * S, .phase = CP_POWERING,
	    .phase_at_ms = T - 181 * S, .attempts = 1, .power = CPOW_OFF }, T, CA_POWER_ON,
	    COP_BOOTING, 2, "timed out in phase powering-on: retry 2 of 3" },
	/* timeouts: retried with the stuck phase named */
	{ __LINE__, { ON, .op = COP_BOOTING, .op_at_ms = T - 181 * S, .phase_at_ms = T - 999 * S,
	    .phase = CP_UP, .attempts = 1 }, T, CA_POWER_CYCLE, COP_BOOTING, 2,
	    "timed out in phase powering-on: retry 2 of 3" },
	{ __LINE__, { ON, .op = COP_BOOTING, .op_at_ms = T - 200 * S, .phase = CP_PXE,
	    .phase_at_ms = T - 121 * S, .attempts = 2 }, T, CA_POWER_CYCLE, COP_BOOTING, 3,
	    "timed out in phase pxe" },
	{ __LINE__, { ON, .op = COP_BOOTING, .op_at_ms = T - 900 * S, .phase = CP_LOADING,
	    .phase_at_ms = T - 181 * S, .attempts = 3 }, T, CA_FAIL, COP_FAILED, 3,
	    "timed out in phase loading after 3 attempts" },
	/* a reboot loop: fresh phases, but the whole boot is over its deadline */
	{ __LINE__, { ON, .op = COP_BOOTING, .op_at_ms = T - 1081 * S, .phase = CP_PXE,
	    .phase_at_ms = T - 5 * S, .attempts = 1 }, T, CA_POWER_CYCLE, COP_BOOTING, 2,
	    "timed out booting, last in phase pxe" },
	/* a reported failure: backoff, then retry; at the limit, fail */
	{ __LINE__, { ON, .op = COP_BOOTING, .op_at_ms = T - 60 * S, .phase = CP_FAILED,
	    .phase_at_ms = T - 1 * S, .attempts = 1 }, T, CA_NONE, COP_BOOTING, 1, NULL },
	{ __LINE__, { ON, .op = COP_BOOTING, .op_at_ms = T - 60 * S, .phase = CP_FAILED,
	    .phase_at_ms = T - 6 * S, .attempts = 1 }, T, CA_POWER_CYCLE, COP_BOOTING, 2,
	    "boot failed: retry 2 of 3" },
	{ __LINE__, { ON, .op = COP_BOOTING, .op_at_ms = T - 60 * S, .phase = CP_FAILED,
	    .phase_at_ms = T - 6 * S, .attempts = 3 }, T, CA_FAIL, COP_FAILED, 3,
	    "boot failed after 3 attempts" },
	/* a failure from before this op belongs to the previous boot */
	{ __LINE__, { ON, .op = COP_BOOTING, .op_at_ms = T - 10 * S, .phase = CP_FAILED,
	    .phase_at_ms = T - 20 * S, .attempts = 1 }, T, CA_NONE, COP_BOOTING, 1, NULL },
	/* failed waits failed_retry (30 min by default) from the failure, then boots again
	 * from the first attempt */
	{ __LINE__, { ON, .op = COP_FAILED, .op_at_ms = T - 29 * 60 * S, .phase = CP_FAILED,
	    .attempts = 3 }, T, CA_NONE, COP_FAILED, 3, NULL },
	{ __LINE__, { ON, .op = COP_FAILED, .op_at_ms = T - 30 * 60 * S, .phase = CP_FAILED,
	    .attempts = 3, .power = CPOW_ON }, T, CA_POWER_CYCLE, COP_BOOTING, 1, "failed_retry" },
	{ __LINE__, { ON, .op = COP_FAILED, .op_at_ms = T - 31 * 60 * S, .phase = CP_FAILED,
	    .attempts = 3, .power = CPOW_OFF }, T, CA_POWER_ON, COP_BOOTING, 1, "failed_retry" },
	/* a node that rebooted by itself (boot/trust.h: its script from its own address
	 * started a self-boot op): watched with the boot's timeouts, never power-cycled to
	 * start it, where the same node with no op would be (issue #11) */
	{ __LINE__, { ON, .op = COP_SELF, .op_at_ms = T - 2 * S, .phase = CP_PXE,
	    .phase_at_ms = T - 2 * S, .attempts = 1, .power = CPOW_ON }, T, CA_NONE, COP_SELF, 1,
	    NULL },
	{ __LINE__, { ON, .phase = CP_PXE, .phase_at_ms = T - 2 * S, .power = CPOW_ON }, T,
	    CA_POWER_CYCLE, COP_BOOTING, 1, "not up on the desired image" },
	{ __LINE__, { ON, .op = COP_SELF, .op_at_ms = T - 100 * S, .phase = CP_IMAGING,
	    .phase_at_ms = T - 50 * S, .attempts = 1, .power = CPOW_ON }, T, CA_NONE, COP_SELF, 1,
	    NULL },
	{ __LINE__, { ON, .op = COP_SELF, .op_at_ms = T - 100 * S, .phase = CP_UP,
	    .phase_at_ms = T - 5 * S, .booted_is_target = true, .attempts = 1 }, T, CA_DONE,
	    COP_IDLE, 0, "up on the desired image" },
	/* ... and if it does not make it, the controller's retry is an ordinary boot */
	{ __LINE__, { ON, .op = COP_SELF, .op_at_ms = T - 200 * S, .phase = CP_PXE,
	    .phase_at_ms = T - 121 * S, .attempts = 1, .power = CPOW_ON }, T, CA_POWER_CYCLE,
	    COP_BOOTING, 2, "timed out in phase pxe: retry 2 of 3" },
	{ __LINE__, { ON, .op = COP_SELF, .op_at_ms = T - 60 * S, .phase = CP_FAILED,
	    .phase_at_ms = T - 6 * S, .attempts = 1 }, T, CA_POWER_CYCLE, COP_BOOTING, 2,
	    "boot failed: retry 2 of 3" },
	/* power off */
	{ __LINE__, { .want = CW_OFF, .has_bmc = true, .power = CPOW_ON }, T, CA_POWER_OFF,
	    COP_POWER_OFF, 0, "desired power off" },
	{ __LINE__, { .want = CW_OFF, .has_bmc = true, .power = CPOW_ON, .op = COP_POWER_OFF,
	    .op_at_ms = T - 10 * S }, T, CA_NONE, COP_POWER_OFF, 0, NULL },
	{ __LINE__, { .want = CW_OFF, .has_bmc = true, .power = CPOW_ON, .op = COP_POWER_OFF,
	    .op_at_ms = T - 61 * S }, T, CA_POWER_OFF, COP_POWER_OFF, 0, "asking again" },
	{ __LINE__, { .want = CW_OFF, .has_bmc = true, .power = CPOW_OFF, .op = COP_POWER_OFF },
	    T, CA_DONE, COP_IDLE, 0, "powered off" },
	{ __LINE__, { .want = CW_OFF, .has_bmc = true, .power = CPOW_OFF }, T, CA_NONE,
	    COP_IDLE, 0, NULL },
};

static void
test_table(void **state)
{
	struct ctrl_policy p;

	(void)state;
	ctrl_policy_default(&p);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct ctrl_decision d = ctrl_decide(&rows[i].n, &p, rows[i].now);
		if (d.act != rows[i].act || d.op != rows[i].op || d.attempts != rows[i].attempts ||
		    (rows[i].reason && !strstr(d.reason, rows[i].reason)))
			fail_msg("%s:%d: got act=%s op=%s attempts=%d reason='%s'; want act=%s "
				 "op=%s attempts=%d reason~'%s'", __FILE__, rows[i].line,
			    ctrl_act_name(d.act), ctrl_op_name(d.op), d.attempts, d.reason,
			    ctrl_act_name(rows[i].act), ctrl_op_name(rows[i].op), rows[i].attempts,
			    rows[i].reason ? rows[i].reason : "");
		/* An action that starts an op (or an attempt) starts it now: that is what is
		 * persisted first. The power-on after a reboot's power-off continues its op. */
		bool acts = d.act == CA_POWER_ON || d.act == CA_POWER_CYCLE ||
		    d.act == CA_POWER_OFF;
		bool starts = d.op != rows[i].n.op || d.attempts != rows[i].n.attempts ||
		    d.act == CA_POWER_OFF;
		if (acts && starts && d.op_at_ms != rows[i].now)
			fail_msg("%s:%d: action without op_at = now", __FILE__, rows[i].line);
		if (acts && !starts && d.op_at_ms != rows[i].n.op_at_ms)
			fail_msg("%s:%d: a continued op moved its op_at", __FILE__, rows[i].line);
	}
}

/* Replaying a decision's outcome must not produce a second action: after the action the
 * controller sees op=booting with op_at=now, and must wait. */
static void
test_no_double_action(void **state)
{
	struct ctrl_policy p;
	struct ctrl_node n = { ON, .power = CPOW_ON, .phase = CP_UP };
	struct ctrl_decision d;

	(void)state;
	ctrl_policy_default(&p);
	d = ctrl_decide(&n, &p, T);
	assert_int_equal(d.act, CA_POWER_CYCLE);
	n.op = d.op;
	n.op_at_ms = d.op_at_ms;
	n.attempts = d.attempts;
	for (int64_t t = T; t < T + 170 * S; t += 5 * S) {
		d = ctrl_decide(&n, &p, t);
		assert_int_equal(d.act, CA_NONE);
		assert_true(d.wake_at_ms > t);
	}
}

/* A failure is stamped with its time, the node then waits failed_retry and asks to be
 * woken for it; failed_retry=0 (off) keeps it failed for good. */
static void
test_failed_retry(void **state)
{
	struct ctrl_policy p;
	struct ctrl_node n = { ON, .op = COP_BOOTING, .op_at_ms = T - 60 * S, .phase = CP_FAILED,
		.phase_at_ms = T - 6 * S, .attempts = 3, .power = CPOW_ON };
	struct ctrl_decision d;

	(void)state;
	ctrl_policy_default(&p);
	d = ctrl_decide(&n, &p, T);
	assert_int_equal(d.act, CA_FAIL);
	assert_int_equal(d.op_at_ms, T);
	n.op = d.op;
	n.op_at_ms = d.op_at_ms;
	d = ctrl_decide(&n, &p, T + S);
	assert_int_equal(d.act, CA_NONE);
	assert_int_equal(d.wake_at_ms, T + p.failed_retry_ms);
	d = ctrl_decide(&n, &p, T + p.failed_retry_ms);
	assert_int_equal(d.act, CA_POWER_CYCLE);
	assert_int_equal(d.attempts, 1);
	p.failed_retry_ms = 0;
	d = ctrl_decide(&n, &p, T + 365 * 86400 * S);
	assert_int_equal(d.act, CA_NONE);
	assert_int_equal(d.op, COP_FAILED);
	assert_int_equal(d.wake_at_ms, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_no_double_action),
		cmocka_unit_test(test_failed_retry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
