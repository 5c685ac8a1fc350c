/* SPDX-License-Identifier: MIT */
/* bootsvc/store/rowcache.c: rows found by either key, replaced by either, dropped from
 * both by either, and never more of them than the table's bound. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../bootsvc/store/rowcache.h"

/* The row's bytes as a string (rows here are "row:<something>"), "" when not found. */
static const char *
find(const struct rowcache *rc, enum rowcache_key k, const char *value)
{
	static char buf[64];
	size_t len;
	const void *p = rowcache_find(rc, k, value, &len);

	if (!p)
		return "";
	assert_true(len < sizeof(buf));
	memcpy(buf, p, len);
	buf[len] = '\0';
	return buf;
}

static int
put_len(struct rowcache *rc, const char *a, const char *b, const char *c, const void *row,
    size_t len)
{
	const char *keys[_ROWCACHE_KEY_MAX] = { a, b, c };

	return rowcache_put(rc, keys, row, len);
}

static void
put3(struct rowcache *rc, const char *a, const char *b, const char *c, const char *row)
{
	assert_int_equal(put_len(rc, a, b, c, row, strlen(row)), 0);
}

/* Under a and b, and a rowid key of its own made from a ("#m1"). */
static void
put(struct rowcache *rc, const char *a, const char *b, const char *row)
{
	char c[64];

	(void)snprintf(c, sizeof(c), "#%s", a);
	put3(rc, a, b, c, row);
}

static void
test_both_keys(void **state)
{
	struct rowcache *rc = rowcache_new(16);

	(void)state;
	assert_non_null(rc);
	assert_string_equal(find(rc, ROWCACHE_KEY_A, "m1"), ""); /* empty, no index yet */
	rowcache_forget(rc, ROWCACHE_KEY_B, "n1");              /* harmless */
	put(rc, "m1", "n1", "row:1");
	put(rc, "m2", "n2", "row:2");
	assert_string_equal(find(rc, ROWCACHE_KEY_A, "m1"), "row:1");
	assert_string_equal(find(rc, ROWCACHE_KEY_B, "n1"), "row:1");
	assert_string_equal(find(rc, ROWCACHE_KEY_A, "n1"), ""); /* keys are per index */
	assert_int_equal(rowcache_count(rc), 2);

	/* forgotten by its name, it is gone by its MAC too */
	rowcache_forget(rc, ROWCACHE_KEY_B, "n1");
	assert_string_equal(find(rc, ROWCACHE_KEY_A, "m1"), "");
	assert_string_equal(find(rc, ROWCACHE_KEY_A, "m2"), "row:2");
	assert_int_equal(rowcache_count(rc), 1);

	/* a put replaces the row of either key: m2's row under a new name, then a new MAC
	 * for that name; no row is left behind under an old key */
	put(rc, "m2", "n3", "row:3");
	assert_string_equal(find(rc, ROWCACHE_KEY_B, "n2"), "");
	assert_string_equal(find(rc, ROWCACHE_KEY_B, "n3"), "row:3");
	put(rc, "m4", "n3", "row:4");
	assert_string_equal(find(rc, ROWCACHE_KEY_A, "m2"), "");
	assert_string_equal(find(rc, ROWCACHE_KEY_A, "m4"), "row:4");
	assert_int_equal(rowcache_count(rc), 1);

	/* a row of no bytes is a row */
	assert_int_equal(put_len(rc, "m5", "n5", "#m5", NULL, 0), 0);
	{
		size_t len = 99;

		assert_non_null(rowcache_find(rc, ROWCACHE_KEY_B, "n5", &len));
		assert_int_equal(len, 0);
	}

	rowcache_clear(rc);
	assert_int_equal(rowcache_count(rc), 0);
	assert_string_equal(find(rc, ROWCACHE_KEY_B, "n3"), "");
	put(rc, "m1", "n1", "row:again");
	assert_string_equal(find(rc, ROWCACHE_KEY_B, "n1"), "row:again");
	rowcache_free(rc);
	assert_null(rowcache_free(NULL));
}

/* The rowid key (SQLite's update hook names a row by it): forgotten by it, a row is gone
 * by MAC and name too; a put with a rowid another row holds replaces that row. */
static void
test_rowid_key(void **state)
{
	struct rowcache *rc = rowcache_new(16);

	(void)state;
	assert_non_null(rc);
	put3(rc, "m1", "n1", "1", "row:1");
	put3(rc, "m2", "n2", "2", "row:2");
	assert_string_equal(find(rc, ROWCACHE_KEY_C, "1"), "row:1");
	rowcache_forget(rc, ROWCACHE_KEY_C, "1");
	assert_string_equal(find(rc, ROWCACHE_KEY_A, "m1"), "");
	assert_string_equal(find(rc, ROWCACHE_KEY_B, "n1"), "");
	assert_string_equal(find(rc, ROWCACHE_KEY_B, "n2"), "row:2");
	put3(rc, "m3", "n3", "2", "row:3"); /* rowid 2 is another row now */
	assert_string_equal(find(rc, ROWCACHE_KEY_A, "m2"), "");
	assert_string_equal(find(rc, ROWCACHE_KEY_C, "2"), "row:3");
	assert_int_equal(rowcache_count(rc), 1);
	rowcache_free(rc);
}

static void
test_bad_keys(void **state)
{
	struct rowcache *rc = rowcache_new(4);
	static char longkey[70000];

	(void)state;
	memset(longkey, 'k', sizeof(longkey) - 1);
	assert_int_equal(put_len(rc, "", "n", "1", "x", 1), -EINVAL);
	assert_int_equal(put_len(rc, "m", "", "1", "x", 1), -EINVAL);
	assert_int_equal(put_len(rc, "m", "n", "", "x", 1), -EINVAL);
	assert_int_equal(put_len(rc, longkey, "n", "1", "x", 1), -EINVAL);
	assert_int_equal(put_len(rc, "m", longkey, "1", "x", 1), -EINVAL);
	assert_int_equal(put_len(rc, "m", "n", longkey, "x", 1), -EINVAL);
	assert_int_equal(rowcache_count(rc), 0);
	rowcache_free(rc);
}

/* Past its bound a put drops an older row; whatever is left is whole: found by both of
 * its keys, with its own bytes. Many rows in few buckets (bound 50, 64 buckets) also
 * walk and unlink from the middle of chains. */
static void
test_bound(void **state)
{
	struct rowcache *rc = rowcache_new(50);
	char a[32], b[32], row[32];
	unsigned found = 0;

	(void)state;
	for (unsigned i = 0; i < 1000; i++) {
		snprintf(a, sizeof(a), "52:54:00:00:%02x:%02x", i >> 8, i & 255);
		snprintf(b, sizeof(b), "n%04u", i);
		snprintf(row, sizeof(row), "row:%u", i);
		put(rc, a, b, row);
		assert_true(rowcache_count(rc) <= 50);
		if (i % 7 == 0) /* and some go by name on the way */
			rowcache_forget(rc, ROWCACHE_KEY_B, b);
	}
	for (unsigned i = 0; i < 1000; i++) {
		const char *by_a;

		snprintf(a, sizeof(a), "52:54:00:00:%02x:%02x", i >> 8, i & 255);
		snprintf(b, sizeof(b), "n%04u", i);
		snprintf(row, sizeof(row), "row:%u", i);
		by_a = find(rc, ROWCACHE_KEY_A, a);
		if (!*by_a) {
			assert_string_equal(find(rc, ROWCACHE_KEY_B, b), "");
			continue;
		}
		found++;
		assert_string_equal(by_a, row);
		assert_string_equal(find(rc, ROWCACHE_KEY_B, b), row);
		assert_true(i % 7 != 0);
	}
	assert_int_equal(found, rowcache_count(rc));
	assert_true(found >= 40); /* eviction drops one row per put, not the table */
	rowcache_free(rc);
}

/* A clear empties every index, whatever puts, forgets and evictions left in them (the
 * rows alone are walked, rowcache.c), and the table takes rows again after it. */
static void
test_clear(void **state)
{
	struct rowcache *rc = rowcache_new(50);
	char a[32], b[32], c[40], row[32];

	(void)state;
	for (int round = 0; round < 3; round++) {
		for (unsigned i = 0; i < 300; i++) {
			snprintf(a, sizeof(a), "52:54:00:00:%02x:%02x", i >> 8, i & 255);
			snprintf(b, sizeof(b), "n%04u", i);
			snprintf(row, sizeof(row), "row:%u", i);
			put(rc, a, b, row);
			if (i % 5 == 0)
				rowcache_forget(rc, ROWCACHE_KEY_A, a);
		}
		assert_true(rowcache_count(rc) > 0);
		rowcache_clear(rc);
		assert_int_equal(rowcache_count(rc), 0);
		for (unsigned i = 0; i < 300; i++) {
			snprintf(a, sizeof(a), "52:54:00:00:%02x:%02x", i >> 8, i & 255);
			snprintf(b, sizeof(b), "n%04u", i);
			snprintf(c, sizeof(c), "#%s", a);
			assert_string_equal(find(rc, ROWCACHE_KEY_A, a), "");
			assert_string_equal(find(rc, ROWCACHE_KEY_B, b), "");
			assert_string_equal(find(rc, ROWCACHE_KEY_C, c), "");
		}
	}
	rowcache_clear(rc); /* an empty one */
	put(rc, "m1", "n1", "row:after");
	assert_string_equal(find(rc, ROWCACHE_KEY_C, "#m1"), "row:after");
	rowcache_free(rc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_both_keys),
		cmocka_unit_test(test_rowid_key),
		cmocka_unit_test(test_bad_keys),
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_clear),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
