/* SPDX-License-Identifier: MIT */
/* Discovery's bounds (boot/discover.h): the per-address rate and the cap, each refusal
 * counted and reported once per run of refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "../../bootsvc/boot/discover.h"

static void
test_rate(void **state)
{
	struct discover_limit *d = calloc(1, sizeof(*d));

	(void)state;
	/* a burst of 6, then refused (said once), then one a 10 s later */
	for (int i = 0; i < 6; i++)
		assert_int_equal(discover_rate_take(d, "10.0.0.9", 6, 1000), DISCOVER_OK);
	assert_int_equal(discover_rate_take(d, "10.0.0.9", 6, 1000), DISCOVER_REFUSED_FIRST);
	for (int i = 0; i < 3000; i++)
		assert_int_equal(discover_rate_take(d, "10.0.0.9", 6, 1000 + i), DISCOVER_REFUSED);
	/* another address has its own bucket */
	assert_int_equal(discover_rate_take(d, "10.0.0.10", 6, 4000), DISCOVER_OK);
	assert_int_equal(discover_rate_take(d, "10.0.0.9", 6, 11000), DISCOVER_OK);
	assert_int_equal(discover_rate_take(d, "10.0.0.9", 6, 11001), DISCOVER_REFUSED_FIRST);
	assert_int_equal(d->refused_rate, 3002);
	free(d);
}

/* Many addresses: the table stays bounded and the oldest bucket is reused. */
static void
test_rate_many_sources(void **state)
{
	struct discover_limit *d = calloc(1, sizeof(*d));
	char a[32];

	(void)state;
	for (int i = 0; i < 10 * MAX_DISCOVER_SOURCES; i++) {
		snprintf(a, sizeof(a), "10.1.%d.%d", i / 250, i % 250);
		assert_int_equal(discover_rate_take(d, a, 1, i), DISCOVER_OK);
		assert_true(d->n <= MAX_DISCOVER_SOURCES);
	}
	/* the newest address still refuses a second one in the same minute */
	assert_int_equal(discover_rate_take(d, a, 1, 10 * MAX_DISCOVER_SOURCES),
	    DISCOVER_REFUSED_FIRST);
	free(d);
}

static void
test_cap(void **state)
{
	struct discover_limit d = { 0 };

	(void)state;
	assert_int_equal(discover_cap_check(&d, 0, 3, 0), DISCOVER_OK);
	assert_int_equal(discover_cap_check(&d, 2, 3, 0), DISCOVER_OK);
	assert_int_equal(discover_cap_check(&d, 3, 3, 0), DISCOVER_REFUSED_FIRST);
	assert_int_equal(discover_cap_check(&d, 3, 3, 0), DISCOVER_REFUSED);
	assert_int_equal(discover_cap_check(&d, 4, 3, 0), DISCOVER_REFUSED);
	/* below it again (an admin assigned some), then full again: said again */
	assert_int_equal(discover_cap_check(&d, 2, 3, 0), DISCOVER_OK);
	assert_int_equal(discover_cap_check(&d, 3, 3, 0), DISCOVER_REFUSED_FIRST);
	assert_int_equal(d.refused_cap, 4);
	/* while refused, the store is counted again once a second only */
	assert_false(discover_cap_recount(&d, 999));
	assert_true(discover_cap_recount(&d, 1000));
	assert_int_equal(discover_cap_check(&d, 2, 3, 1000), DISCOVER_OK);
	assert_true(discover_cap_recount(&d, 1001));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_rate_many_sources),
		cmocka_unit_test(test_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
