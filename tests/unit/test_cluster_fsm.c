/* SPDX-License-Identifier: MIT */
/* bootsvc/cluster/cluster_fsm.c: the leader's lease, table-driven. Each row is a state,
 * one event with its times, and what must follow (issue 15: one leader, fenced before
 * another can act). Times are ms from an arbitrary epoch T; the lease is 10 s.
 * W, A and C are cluster_fsm.h's parts of it, spelled out so a change there shows here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../bootsvc/cluster/cluster_fsm.h"

#define T 1000000000LL
#define L 10000LL
#define W (L / 3) /* how long a confirmation keeps a leader acting */
#define A (L / 2) /* how long a new holder waits */
#define C (L / 6) /* how often a check goes out */

static const struct {
	int line;
	struct cluster_fsm in;
	enum cluster_event ev;
	int64_t at, now;
	enum cluster_state state;
	bool acting, took_over, fenced, drop;
	int64_t until;
} rows[] = {
	/* a follower contends */
	{ __LINE__, { CS_FOLLOWER, 0, 0 }, CE_TICK, 0, T, CS_FOLLOWER, false, false, false,
	    false, 0 },
	{ __LINE__, { CS_FOLLOWER, 0, 0 }, CE_LOCK_BUSY, T, T, CS_FOLLOWER, false, false,
	    false, false, 0 },
	{ __LINE__, { CS_FOLLOWER, 0, 0 }, CE_SESSION_LOST, 0, T, CS_FOLLOWER, false, false,
	    false, false, 0 },
	/* acquire: wait half a lease before acting */
	{ __LINE__, { CS_FOLLOWER, 0, 0 }, CE_LOCK_TAKEN, T, T + 20, CS_WAITING, false, false,
	    false, false, 0 },
	/* the answer came after the confirmation window: not confirmed in time, give it back */
	{ __LINE__, { CS_FOLLOWER, 0, 0 }, CE_LOCK_TAKEN, T, T + W, CS_FENCED, false,
	    false, false, true, 0 },
	/* clock edge: taken "in the future" */
	{ __LINE__, { CS_FOLLOWER, 0, 0 }, CE_LOCK_TAKEN, T + 5, T, CS_FENCED, false, false,
	    false, true, 0 },
	/* waiting: keep checking; not a moment before the wait is over */
	{ __LINE__, { CS_WAITING, T, T + A - 100 }, CE_CHECK_OK, T + A - 1, T + A - 1,
	    CS_WAITING, false, false, false, false, 0 },
	{ __LINE__, { CS_WAITING, T, T + A - 100 }, CE_CHECK_OK, T + A - 10, T + A,
	    CS_LEADER, true, true, false, false, T + A - 10 + W },
	{ __LINE__, { CS_WAITING, T, T + A - 100 }, CE_TICK, 0, T + A, CS_LEADER, true, true,
	    false, false, T + A - 100 + W },
	/* waiting but unconfirmed for the window: fenced (never acted: nothing to drain) */
	{ __LINE__, { CS_WAITING, T, T }, CE_TICK, 0, T + W, CS_FENCED, false, false, false,
	    true, 0 },
	{ __LINE__, { CS_WAITING, T, T }, CE_CHECK_FAILED, 0, T + 1, CS_FENCED, false, false,
	    false, true, 0 },
	{ __LINE__, { CS_WAITING, T, T }, CE_SESSION_LOST, 0, T + 1, CS_FENCED, false, false,
	    false, true, 0 },
	/* keep: each confirmation extends acting by the window from when it was sent */
	{ __LINE__, { CS_LEADER, T, T + L }, CE_CHECK_OK, T + L + C, T + L + C + 30,
	    CS_LEADER, true, false, false, false, T + L + C + W },
	{ __LINE__, { CS_LEADER, T, T + L }, CE_TICK, 0, T + L + W - 1, CS_LEADER, true,
	    false, false, false, T + L + W },
	/* an old answer (sent before the last confirmed one) confirms nothing new */
	{ __LINE__, { CS_LEADER, T, T + L }, CE_CHECK_OK, T + L - 100, T + L + 10, CS_LEADER,
	    true, false, false, false, T + L + W },
	/* lose: the window without a confirmation fences, whatever the thread does */
	{ __LINE__, { CS_LEADER, T, T + L }, CE_TICK, 0, T + L + W, CS_FENCED, false,
	    false, true, true, 0 },
	/* an answer that arrives late, even a good one, cannot save the lease */
	{ __LINE__, { CS_LEADER, T, T + L }, CE_CHECK_OK, T + L + 1, T + L + W + 1,
	    CS_FENCED, false, false, true, true, 0 },
	/* a failed check or a lost session fences at once */
	{ __LINE__, { CS_LEADER, T, T + L }, CE_CHECK_FAILED, 0, T + L + 1, CS_FENCED, false,
	    false, true, true, 0 },
	{ __LINE__, { CS_LEADER, T, T + L }, CE_SESSION_LOST, 0, T + L + 1, CS_FENCED, false,
	    false, true, true, 0 },
	{ __LINE__, { CS_LEADER, T, T + L }, CE_LOCK_BUSY, 0, T + L + 1, CS_FENCED, false,
	    false, true, true, 0 },
	{ __LINE__, { CS_LEADER, T, T + L }, CE_SESSION_NEW, 0, T + L + 1, CS_FENCED, false,
	    false, true, true, 0 },
	/* clock edges: now before the last confirmation; a check sent in the future */
	{ __LINE__, { CS_LEADER, T, T + L }, CE_TICK, 0, T + L - 1, CS_FENCED, false, false,
	    true, true, 0 },
	{ __LINE__, { CS_LEADER, T, T + L }, CE_CHECK_OK, T + L + 100, T + L + 50, CS_FENCED,
	    false, false, true, true, 0 },
	/* fenced stays fenced until a fresh session; then contends again */
	{ __LINE__, { CS_FENCED, T, T }, CE_LOCK_TAKEN, T + L, T + L, CS_FENCED, false, false,
	    false, true, 0 },
	{ __LINE__, { CS_FENCED, T, T }, CE_CHECK_OK, T + L, T + L, CS_FENCED, false, false,
	    false, true, 0 },
	{ __LINE__, { CS_FENCED, T, T }, CE_SESSION_NEW, 0, T + L, CS_FOLLOWER, false, false,
	    false, false, 0 },
};

static void
test_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct cluster_fsm f = rows[i].in;
		struct cluster_out o = cluster_fsm_step(&f, L, rows[i].ev, rows[i].at,
		    rows[i].now);

		if (o.state != rows[i].state || o.acting != rows[i].acting ||
		    o.took_over != rows[i].took_over || o.fenced != rows[i].fenced ||
		    o.drop_session != rows[i].drop || o.acting_until != rows[i].until)
			fail_msg("row at line %d: got %s acting=%d took_over=%d fenced=%d drop=%d "
			    "until=T%+lld", rows[i].line, cluster_state_to_string(o.state),
			    o.acting, o.took_over, o.fenced, o.drop_session,
			    (long long)(o.acting_until ? o.acting_until - T : 0));
		assert_int_equal(f.state, o.state);
	}
}

/* Re-acquire after a fence, the whole way, and the safety property on a shared
 * timeline: the old leader's last acting moment is before the new one's first. */
static void
test_handover(void **state)
{
	struct cluster_fsm a, b;
	struct cluster_out o;
	int64_t a_last_acting, b_first_acting = 0;
	bool took = false;

	(void)state;
	cluster_fsm_init(&a);
	cluster_fsm_init(&b);
	o = cluster_fsm_step(&a, L, CE_LOCK_TAKEN, T, T + 5);
	assert_int_equal(o.state, CS_WAITING);
	for (int64_t t = T + C; t <= T + L; t += C) {
		o = cluster_fsm_step(&a, L, CE_CHECK_OK, t, t + 5);
		took |= o.took_over;
		/* never before the wait is over */
		assert_true(!o.acting || t + 5 >= T + A);
	}
	assert_true(o.acting);
	assert_true(took);
	/* A's last check that succeeded was sent at its last t; its session dies at once
	 * after (the server frees the lock at the earliest possible moment), and B takes it
	 * right away. */
	a_last_acting = o.acting_until;
	o = cluster_fsm_step(&b, L, CE_LOCK_TAKEN, T + L + 1, T + L + 2);
	assert_int_equal(o.state, CS_WAITING);
	for (int64_t t = T + L + 1; t < T + 3 * L; t += C) {
		o = cluster_fsm_step(&b, L, CE_CHECK_OK, t, t + 5);
		if (o.acting && !b_first_acting)
			b_first_acting = t + 5;
		/* A hears nothing (its checks hang); its own ticks fence it. */
		struct cluster_out oa = cluster_fsm_step(&a, L, CE_TICK, 0, t + 5);
		if (oa.acting)
			assert_true(t + 5 < a_last_acting);
	}
	assert_int_equal(a.state, CS_FENCED);
	assert_true(b_first_acting > 0);
	/* the margin: what the lease has beyond a confirmation's window */
	assert_true(a_last_acting + (A - W) <= b_first_acting);
	/* and within the lease of the crash */
	assert_true(b_first_acting - (T + L) <= L);
	/* A reconnects and contends again: a follower while B holds the lock. */
	o = cluster_fsm_step(&a, L, CE_SESSION_NEW, 0, T + 3 * L);
	assert_int_equal(o.state, CS_FOLLOWER);
	o = cluster_fsm_step(&a, L, CE_LOCK_BUSY, T + 3 * L, T + 3 * L + 1);
	assert_int_equal(o.state, CS_FOLLOWER);
	assert_false(o.acting);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(cluster_state_to_string(CS_LEADER), "leader");
	assert_string_equal(cluster_state_to_string(CS_FOLLOWER), "follower");
	assert_string_equal(cluster_state_to_string((enum cluster_state)99), "?");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_handover),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
