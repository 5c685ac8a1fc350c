/* SPDX-License-Identifier: MIT */
/* lib/body.c: a request body kept up to its cap, the rest only marked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "body.h"

static void
test_up_to_the_cap(void **state)
{
	char *b = NULL;
	size_t len = 0;
	bool big = false;

	(void)state;
	assert_int_equal(body_append(&b, &len, &big, "abc", 3, 5), 0);
	assert_int_equal(body_append(&b, &len, &big, "de", 2, 5), 0);
	assert_false(big);
	assert_int_equal(len, 5);
	assert_string_equal(b, "abcde"); /* NUL-terminated */
	assert_int_equal(body_append(&b, &len, &big, "f", 1, 5), 0);
	assert_true(big);                  /* one byte past the cap: marked, not kept */
	assert_int_equal(len, 5);
	assert_int_equal(body_append(&b, &len, &big, "", 0, 5), 0);
	assert_true(big);                  /* and stays marked */
	assert_string_equal(b, "abcde");
	free(b);
}

static void
test_one_piece_too_big(void **state)
{
	char *b = NULL;
	size_t len = 0;
	bool big = false;

	(void)state;
	assert_int_equal(body_append(&b, &len, &big, "abcdef", 6, 5), 0);
	assert_true(big);
	assert_null(b);
	assert_int_equal(len, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_up_to_the_cap),
		cmocka_unit_test(test_one_piece_too_big),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
