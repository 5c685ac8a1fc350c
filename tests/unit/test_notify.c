/* SPDX-License-Identifier: MIT */
/* bootsvc/notify.c: how the parts below the front ends tell the control socket and the
 * controller what happened without calling up into them (issue #10). Listeners run in
 * the order they registered, per signal; a signal nobody listens to is a no-op;
 * unlisten removes only its own; the table is bounded. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../bootsvc/notify.h"

struct rec {
	char calls[16];
	size_t n;
};

static struct rec log_rec;

static void
on_a(void *userdata)
{
	(void)userdata;
	log_rec.calls[log_rec.n++] = 'a';
}

static void
on_b(void *userdata)
{
	(void)userdata;
	log_rec.calls[log_rec.n++] = 'b';
}

static void
test_order_and_signals(void **state)
{
	struct notify n = { 0 };
	int ua, ub;

	(void)state;
	memset(&log_rec, 0, sizeof(log_rec));
	notify(&n, NOTIFY_HISTORY); /* nobody listens: nothing happens */
	assert_int_equal(log_rec.n, 0);
	assert_int_equal(notify_listen(&n, NOTIFY_HISTORY, on_a, &ua), 0);
	assert_int_equal(notify_listen(&n, NOTIFY_HISTORY, on_b, &ub), 0);
	assert_int_equal(notify_listen(&n, NOTIFY_NODE, on_b, &ub), 0);
	notify(&n, NOTIFY_HISTORY);
	assert_string_equal(log_rec.calls, "ab");
	notify(&n, NOTIFY_NODE);
	assert_string_equal(log_rec.calls, "abb");

	notify_unlisten(&n, NOTIFY_HISTORY, &ua);
	notify(&n, NOTIFY_HISTORY);
	assert_string_equal(log_rec.calls, "abbb");
	notify_unlisten(&n, NOTIFY_HISTORY, &ub);
	notify(&n, NOTIFY_HISTORY);
	assert_string_equal(log_rec.calls, "abbb");
	notify(&n, NOTIFY_NODE); /* another signal's listener stays */
	assert_string_equal(log_rec.calls, "abbbb");
}

static void
test_bounded(void **state)
{
	struct notify n = { 0 };
	int u[MAX_NOTIFY_LISTENERS + 1];

	(void)state;
	for (int i = 0; i < MAX_NOTIFY_LISTENERS; i++)
		assert_int_equal(notify_listen(&n, NOTIFY_NODE, on_a, &u[i]), 0);
	assert_int_equal(notify_listen(&n, NOTIFY_NODE, on_a, &u[MAX_NOTIFY_LISTENERS]), -E2BIG);
	notify_unlisten(&n, NOTIFY_NODE, &u[0]);
	assert_int_equal(notify_listen(&n, NOTIFY_NODE, on_a, &u[MAX_NOTIFY_LISTENERS]), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_signals),
		cmocka_unit_test(test_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
