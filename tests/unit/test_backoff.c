/* SPDX-License-Identifier: MIT */
/* lib/backoff.c: the restart delays dnsmasq and tgtd share. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "backoff.h"
#include "macro.h"

static void
test_sequence(void **state)
{
	struct backoff b = BACKOFF_INIT(1000, 30000, 60000);
	/* (ran_ms, want delay): quick deaths double up to the cap; a long run resets */
	const uint64_t v[][2] = {
		{ 10, 1000 }, { 10, 2000 }, { 10, 4000 }, { 10, 8000 }, { 10, 16000 },
		{ 10, 30000 }, { 10, 30000 }, { 59999, 30000 }, { 60000, 1000 }, { 0, 2000 },
		{ UINT64_MAX, 1000 },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(v); i++)
		assert_int_equal(backoff_next(&b, v[i][0]), v[i][1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sequence),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
