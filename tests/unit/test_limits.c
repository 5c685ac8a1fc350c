/* SPDX-License-Identifier: MIT */
/* The pure parts of issue 11's limits: the log rate limiter (lib/log.c) with an injected
 * clock, and the RLIMIT_NOFILE plan (bootsvc/fdlimit.c). Vectors written from the
 * issue's observations (a flood of identical warnings; 1024 fds against 4096 connections). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../bootsvc/control/control.h"
#include "../../bootsvc/fdlimit.h"
#include "log.h"

/* burst 3 per 1000 ms: lines 4.. of a window are held back and counted; the first line
 * of the next window carries the count, once. */
static void
test_ratelimit_burst_then_count(void **state)
{
	struct log_ratelimit rl = { .interval_ms = 1000, .burst = 3 };
	uint64_t sup = 99;
	unsigned passed = 0;

	(void)state;
	for (unsigned i = 0; i < 20148; i++)
		if (log_ratelimit_pass(&rl, 5000 + i / 100, &sup)) /* all within 202 ms */
			passed++;
	assert_int_equal(passed, 3);
	assert_true(log_ratelimit_pass(&rl, 6000, &sup));
	assert_int_equal(sup, 20148 - 3);
	assert_true(log_ratelimit_pass(&rl, 6001, &sup));
	assert_int_equal(sup, 0);
}

/* A quiet message always gets through, with nothing suppressed. */
static void
test_ratelimit_quiet(void **state)
{
	struct log_ratelimit rl = { .interval_ms = 10000, .burst = 1 };
	uint64_t sup = 99;

	(void)state;
	for (uint64_t t = 0; t < 100000; t += 10000) {
		assert_true(log_ratelimit_pass(&rl, t, &sup));
		assert_int_equal(sup, 0);
	}
}

/* A clock that goes back (another clock source, a test) starts a window, never wedges. */
static void
test_ratelimit_clock_back(void **state)
{
	struct log_ratelimit rl = { .interval_ms = 1000, .burst = 1 };
	uint64_t sup;

	(void)state;
	assert_true(log_ratelimit_pass(&rl, 50000, &sup));
	assert_false(log_ratelimit_pass(&rl, 50001, &sup));
	assert_true(log_ratelimit_pass(&rl, 10, &sup));
	assert_int_equal(sup, 1);
}

static void
test_fdlimit_need(void **state)
{
	struct config c;

	(void)state;
	config_init(&c);
	c.max_connections = 4096;
	assert_int_equal(fdlimit_need(&c), 2 * 4096 + CONTROL_MAX_CLIENTS + FDLIMIT_MARGIN);
}

static void
test_fdlimit_plan(void **state)
{
	static const struct {
		rlim_t cur, max, need, want_cur, want_max;
	} v[] = {
		{ 1024, 4096, 8576, 8576, 8576 },         /* both raised (root may) */
		{ 1024, 1048576, 8576, 8576, 1048576 },   /* soft raised, hard kept */
		{ 65536, 1048576, 8576, 65536, 1048576 }, /* never lowered */
		{ RLIM_INFINITY, RLIM_INFINITY, 8576, RLIM_INFINITY, RLIM_INFINITY },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		struct rlimit got = fdlimit_plan((struct rlimit){ v[i].cur, v[i].max }, v[i].need);
		assert_int_equal(got.rlim_cur, v[i].want_cur);
		assert_int_equal(got.rlim_max, v[i].want_max);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ratelimit_burst_then_count),
		cmocka_unit_test(test_ratelimit_quiet),
		cmocka_unit_test(test_ratelimit_clock_back),
		cmocka_unit_test(test_fdlimit_need),
		cmocka_unit_test(test_fdlimit_plan),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
