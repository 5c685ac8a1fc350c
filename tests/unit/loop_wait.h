/* SPDX-License-Identifier: MIT */
/* Run a test's event loop until what it waits for holds: a loop timer polls every
 * millisecond, so the workers' results are handled on the loop as bootsvc handles them.
 * Include after <cmocka.h>. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "../../bootsvc/loop.h"

struct loop_wait {
	bool (*pred)(void *arg);   /* NULL: run for the whole time */
	void (*sample)(void *arg); /* NULL, or called at each poll, before pred */
	void *arg;
	uint64_t until;
};

static inline void
loop_wait_poll(struct loop *l, void *userdata)
{
	struct loop_wait *w = userdata;

	if (w->sample)
		w->sample(w->arg);
	if ((w->pred && w->pred(w->arg)) || loop_now_ms() >= w->until) {
		loop_quit(l, 0);
		return;
	}
	(void)loop_add_timer(l, loop_now_ms() + 1, loop_wait_poll, w);
}

/* Run l until pred(arg) holds or ms pass, calling sample(arg) at each poll. Returns
 * whether pred holds at the end (true when pred is NULL). */
static inline bool
loop_wait(struct loop *l, bool (*pred)(void *arg), void (*sample)(void *arg), void *arg,
    unsigned ms)
{
	struct loop_wait w = { .pred = pred, .sample = sample, .arg = arg,
		.until = loop_now_ms() + ms };

	if (pred && pred(arg))
		return true;
	(void)loop_add_timer(l, loop_now_ms() + 1, loop_wait_poll, &w);
	assert_int_equal(loop_run(l), 0);
	return pred ? pred(arg) : true;
}

static inline void
loop_turn_end(struct loop *l, void *userdata)
{
	(void)userdata;
	loop_quit(l, 0);
}

/* Run l for one turn: what is ready now is handled, nothing that becomes ready after (a
 * timer due now ends the loop once the turn's ready fds are handled). */
static inline void
loop_turn(struct loop *l)
{
	assert_true(loop_add_timer(l, loop_now_ms(), loop_turn_end, NULL) >= 0);
	assert_int_equal(loop_run(l), 0);
}
