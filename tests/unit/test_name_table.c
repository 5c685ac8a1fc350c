/* SPDX-License-Identifier: MIT */
/* lib/name_table.c: both lookups over a dense and a sparse table, at and past the ends,
 * and the macro's functions as an enum's own code uses them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "name_table.h"

enum colour { RED, GREEN, BLUE, _COLOUR_MAX, _COLOUR_INVALID = -EINVAL };

static const char *const colour_table[_COLOUR_MAX] = {
	[RED] = "red",
	[GREEN] = "green",
	[BLUE] = "blue",
};

/* The way every enum's file uses it (the prototypes a header would hold). */
const char *colour_to_string(enum colour v);
enum colour colour_from_string(const char *s);
DEFINE_NAME_TABLE_LOOKUP(colour, enum colour, colour_table, _COLOUR_INVALID)

/* Sparse: 0 and 2 have no name, as IPMI's sensor types 0x00 and gaps. */
static const char *const sparse[] = { [1] = "one", [3] = "three" };

static void
test_dense(void **state)
{
	(void)state;
	assert_string_equal(colour_to_string(RED), "red");
	assert_string_equal(colour_to_string(BLUE), "blue");
	assert_null(colour_to_string(_COLOUR_MAX));
	assert_null(colour_to_string((enum colour)-1));
	assert_null(colour_to_string(_COLOUR_INVALID));
	assert_int_equal(colour_from_string("red"), RED);
	assert_int_equal(colour_from_string("blue"), BLUE);
	assert_int_equal(colour_from_string("Red"), _COLOUR_INVALID); /* case counts */
	assert_int_equal(colour_from_string("re"), _COLOUR_INVALID);
	assert_int_equal(colour_from_string("redd"), _COLOUR_INVALID);
	assert_int_equal(colour_from_string(""), _COLOUR_INVALID);
	assert_int_equal(colour_from_string(NULL), _COLOUR_INVALID);
	/* every name there and back */
	for (int i = 0; i < _COLOUR_MAX; i++)
		assert_int_equal(colour_from_string(colour_to_string((enum colour)i)), i);
}

static void
test_sparse(void **state)
{
	(void)state;
	assert_null(name_table_name(sparse, ELEMENTSOF(sparse), 0));
	assert_string_equal(name_table_name(sparse, ELEMENTSOF(sparse), 1), "one");
	assert_null(name_table_name(sparse, ELEMENTSOF(sparse), 2));
	assert_string_equal(name_table_name(sparse, ELEMENTSOF(sparse), 3), "three");
	assert_null(name_table_name(sparse, ELEMENTSOF(sparse), 4));
	assert_null(name_table_name(sparse, ELEMENTSOF(sparse), -1));
	assert_int_equal(name_table_index(sparse, ELEMENTSOF(sparse), "three"), 3);
	assert_int_equal(name_table_index(sparse, ELEMENTSOF(sparse), "two"), -1);
	assert_int_equal(name_table_index(sparse, ELEMENTSOF(sparse), NULL), -1);
	assert_int_equal(name_table_index(sparse, 0, "one"), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dense),
		cmocka_unit_test(test_sparse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
