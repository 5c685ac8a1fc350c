/* SPDX-License-Identifier: MIT */
/* The VM-host connection decision (bootsvc/vm/vm_conn.c), as tables: each scenario is a
 * run of events at given times from a new host, each step with what it must decide and
 * the state it must leave. Params: poll 10 s, backoff 1 s doubling to 60 s (the
 * defaults, docs/vm.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "macro.h"
#include "vm/vm_conn.h"

static const struct vm_conn_params P = { .poll_ms = 10000, .backoff_min_ms = 1000,
	.backoff_max_ms = 60000 };

#define N VM_CONN_NEW
#define CING VM_CONN_CONNECTING
#define C VM_CONN_CONNECTED
#define L VM_CONN_LOST

struct step {
	enum vm_conn_event ev;
	uint64_t now;
	enum vm_conn_action act;
	bool lost, connected;
	enum vm_conn_state state;
	bool busy;
	uint64_t due;
};

#define STEPS_MAX 16
static const struct {
	const char *name;
	struct step s[STEPS_MAX];
	size_t n;
} scenarios[] = {
	{ "connects, reads at once, then every poll", {
		{ VM_EV_TICK, 0, VM_ACT_CONNECT, 0, 0, CING, 1, 0 },
		{ VM_EV_TICK, 500, VM_ACT_NONE, 0, 0, CING, 1, 0 },         /* busy */
		{ VM_EV_CONNECT_OK, 800, VM_ACT_REFRESH, 0, 1, C, 1, 10800 },
		{ VM_EV_REFRESH_OK, 900, VM_ACT_NONE, 0, 0, C, 0, 10800 },
		{ VM_EV_TICK, 5000, VM_ACT_NONE, 0, 0, C, 0, 10800 },       /* not due */
		{ VM_EV_TICK, 10800, VM_ACT_REFRESH, 0, 0, C, 1, 20800 },
		{ VM_EV_REFRESH_OK, 10900, VM_ACT_NONE, 0, 0, C, 0, 20800 },
	}, 7 },
	{ "the first connect fails: lost once, backoff doubles to 60 s", {
		{ VM_EV_TICK, 0, VM_ACT_CONNECT, 0, 0, CING, 1, 0 },
		{ VM_EV_CONNECT_FAILED, 100, VM_ACT_NONE, 1, 0, L, 0, 1100 },
		{ VM_EV_TICK, 1000, VM_ACT_NONE, 0, 0, L, 0, 1100 },
		{ VM_EV_TICK, 1100, VM_ACT_CONNECT, 0, 0, L, 1, 1100 },
		{ VM_EV_CONNECT_FAILED, 1200, VM_ACT_NONE, 0, 0, L, 0, 3200 },   /* no new event */
		{ VM_EV_TICK, 3200, VM_ACT_CONNECT, 0, 0, L, 1, 3200 },
		{ VM_EV_CONNECT_FAILED, 3200, VM_ACT_NONE, 0, 0, L, 0, 7200 },
		{ VM_EV_TICK, 7200, VM_ACT_CONNECT, 0, 0, L, 1, 7200 },
		{ VM_EV_CONNECT_FAILED, 7200, VM_ACT_NONE, 0, 0, L, 0, 15200 },
		{ VM_EV_TICK, 15200, VM_ACT_CONNECT, 0, 0, L, 1, 15200 },
		{ VM_EV_CONNECT_FAILED, 15200, VM_ACT_NONE, 0, 0, L, 0, 31200 },
		{ VM_EV_TICK, 31200, VM_ACT_CONNECT, 0, 0, L, 1, 31200 },
		{ VM_EV_CONNECT_FAILED, 31200, VM_ACT_NONE, 0, 0, L, 0, 63200 },  /* 32 s */
		{ VM_EV_TICK, 63200, VM_ACT_CONNECT, 0, 0, L, 1, 63200 },
		{ VM_EV_CONNECT_FAILED, 63200, VM_ACT_NONE, 0, 0, L, 0, 123200 }, /* 60 s cap */
		{ VM_EV_CONNECT_OK, 123300, VM_ACT_NONE, 0, 0, L, 0, 123200 },   /* not busy */
	}, 16 },
	{ "a connected host dies: lost, closed, reconnects from 1 s, connected again", {
		{ VM_EV_TICK, 0, VM_ACT_CONNECT, 0, 0, CING, 1, 0 },
		{ VM_EV_CONNECT_OK, 0, VM_ACT_REFRESH, 0, 1, C, 1, 10000 },
		{ VM_EV_REFRESH_OK, 0, VM_ACT_NONE, 0, 0, C, 0, 10000 },
		{ VM_EV_TICK, 10000, VM_ACT_REFRESH, 0, 0, C, 1, 20000 },
		{ VM_EV_REFRESH_FAILED, 10100, VM_ACT_CLOSE_RECONNECT_LATER, 1, 0, L, 0, 11100 },
		{ VM_EV_TICK, 11100, VM_ACT_CONNECT, 0, 0, L, 1, 11100 },
		{ VM_EV_CONNECT_FAILED, 11200, VM_ACT_NONE, 0, 0, L, 0, 13200 },
		{ VM_EV_TICK, 13200, VM_ACT_CONNECT, 0, 0, L, 1, 13200 },
		{ VM_EV_CONNECT_OK, 13300, VM_ACT_REFRESH, 0, 1, C, 1, 23300 },
		{ VM_EV_REFRESH_OK, 13400, VM_ACT_NONE, 0, 0, C, 0, 23300 },
		/* and after the next loss the backoff starts from 1 s again */
		{ VM_EV_TICK, 23300, VM_ACT_REFRESH, 0, 0, C, 1, 33300 },
		{ VM_EV_REFRESH_FAILED, 23300, VM_ACT_CLOSE_RECONNECT_LATER, 1, 0, L, 0, 24300 },
	}, 12 },
	{ "libvirt's close callback: refresh now, or again after the one in flight", {
		{ VM_EV_TICK, 0, VM_ACT_CONNECT, 0, 0, CING, 1, 0 },
		{ VM_EV_CONNECT_OK, 0, VM_ACT_REFRESH, 0, 1, C, 1, 10000 },
		{ VM_EV_CLOSED, 50, VM_ACT_NONE, 0, 0, C, 1, 50 },       /* busy: due now */
		{ VM_EV_REFRESH_OK, 60, VM_ACT_NONE, 0, 0, C, 0, 50 },
		{ VM_EV_TICK, 1000, VM_ACT_REFRESH, 0, 0, C, 1, 11000 },
		{ VM_EV_REFRESH_OK, 1010, VM_ACT_NONE, 0, 0, C, 0, 11000 },
		{ VM_EV_CLOSED, 2000, VM_ACT_REFRESH, 0, 0, C, 1, 12000 },
		{ VM_EV_REFRESH_FAILED, 2010, VM_ACT_CLOSE_RECONNECT_LATER, 1, 0, L, 0, 3010 },
		{ VM_EV_CLOSED, 2020, VM_ACT_NONE, 0, 0, L, 0, 3010 },   /* lost already */
	}, 9 },
	{ "a call that could not be queued is tried at the next tick", {
		{ VM_EV_TICK, 0, VM_ACT_CONNECT, 0, 0, CING, 1, 0 },
		{ VM_EV_NOT_STARTED, 0, VM_ACT_NONE, 0, 0, CING, 0, 0 },
		{ VM_EV_TICK, 1000, VM_ACT_CONNECT, 0, 0, CING, 1, 0 },
		{ VM_EV_CONNECT_OK, 1000, VM_ACT_REFRESH, 0, 1, C, 1, 11000 },
		{ VM_EV_NOT_STARTED, 1000, VM_ACT_NONE, 0, 0, C, 0, 1000 },
		{ VM_EV_TICK, 2000, VM_ACT_REFRESH, 0, 0, C, 1, 12000 },
	}, 6 },
};

static void
test_scenarios(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(scenarios); i++) {
		struct vm_conn c;

		vm_conn_init(&c);
		assert_int_equal(c.state, N);
		for (size_t k = 0; k < scenarios[i].n; k++) {
			const struct step *w = &scenarios[i].s[k];
			struct vm_conn_step s = vm_conn_decide(&c, w->ev, w->now, &P);

			if (s.act != w->act || s.lost != w->lost || s.connected != w->connected ||
			    c.state != w->state || c.busy != w->busy || c.due_ms != w->due)
				fail_msg("'%s' step %zu: act %d lost %d connected %d state %d busy %d "
				    "due %llu; want %d %d %d %d %d %llu", scenarios[i].name, k,
				    s.act, s.lost, s.connected, c.state, c.busy,
				    (unsigned long long)c.due_ms, w->act, w->lost, w->connected,
				    w->state, w->busy, (unsigned long long)w->due);
		}
	}
}

static void
test_state_words(void **state)
{
	(void)state;
	assert_string_equal(vm_conn_state_to_string(VM_CONN_NEW), "connecting");
	assert_string_equal(vm_conn_state_to_string(VM_CONN_CONNECTING), "connecting");
	assert_string_equal(vm_conn_state_to_string(VM_CONN_CONNECTED), "connected");
	assert_string_equal(vm_conn_state_to_string(VM_CONN_LOST), "lost");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scenarios),
		cmocka_unit_test(test_state_words),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
