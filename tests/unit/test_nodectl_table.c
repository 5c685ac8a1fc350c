/* SPDX-License-Identifier: MIT */
/* nodectl/table.c and nodectl/format.c: widths, rendering, sanitising, value formats.
 * Expected renderings are written out by hand from the rules in table.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../nodectl/format.h"
#include "macro.h"
#include "../../nodectl/table.h"

/* Render t and compare with want, pointing at the caller's line on a mismatch. */
static void
check_render_at(const char *file, int line, const struct table *t, const char *want)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	_assert_true(f != NULL, "open_memstream", file, line);
	_assert_int_equal(table_print(t, f), 0, file, line);
	(void)fclose(f);
	if (!streq(buf, want))
		print_error("%s:%d: got\n%s---\nwant\n%s---\n", file, line, buf, want);
	_assert_true(streq(buf, want), "rendering", file, line);
	free(buf);
}
#define check_render(t, want) check_render_at(__FILE__, __LINE__, (t), (want))

static void
test_widths(void **state)
{
	static const char *const headers[] = { "NAME", "MAC", "REASON" };
	/* Header wider than cells, cells wider than the header, an empty/NULL cell as "-". */
	const char *r1[] = { "n1", "52:54:00:00:00:01", NULL };
	const char *r2[] = { "node-0002", "", "pxe timeout" };
	struct table *t = table_new(headers, 3);

	(void)state;
	assert_non_null(t);
	assert_int_equal(table_col_width(t, 0), 4);
	assert_int_equal(table_add_row(t, r1), 0);
	assert_int_equal(table_add_row(t, r2), 0);
	assert_int_equal(table_rows(t), 2);
	assert_int_equal(table_col_width(t, 0), 9);
	assert_int_equal(table_col_width(t, 1), 17);
	assert_int_equal(table_col_width(t, 2), 11);
	check_render(t,
	    "NAME       MAC                REASON\n"
	    "n1         52:54:00:00:00:01  -\n"
	    "node-0002  -                  pxe timeout\n");
	table_free(t);
}

static void
test_cap_no_truncation(void **state)
{
	static const char *const headers[] = { "A", "B" };
	char long_cell[MAX_TABLE_COL_WIDTH + 11];
	const char *r1[] = { long_cell, "x" };
	const char *r2[] = { "short", "y" };
	char *want;
	struct table *t = table_new(headers, 2);

	(void)state;
	memset(long_cell, 'a', sizeof(long_cell) - 1);
	long_cell[sizeof(long_cell) - 1] = '\0';
	assert_int_equal(table_add_row(t, r1), 0);
	assert_int_equal(table_add_row(t, r2), 0);
	/* The column stops growing at the cap; the long cell is still printed whole and
	 * pushes its own row right, other rows stay aligned at the cap. */
	assert_int_equal(table_col_width(t, 0), MAX_TABLE_COL_WIDTH);
	assert_true(asprintf(&want, "A%*s  B\n%s  x\nshort%*s  y\n",
	    MAX_TABLE_COL_WIDTH - 1, "", long_cell, MAX_TABLE_COL_WIDTH - 5, "") > 0);
	check_render(t, want);
	free(want);
	table_free(t);
}

static void
test_right_align_and_utf8(void **state)
{
	static const char *const headers[] = { "NAME", "SIZE", "NOTE" };
	/* "é" is two bytes, one column: widths count code points, not bytes. */
	const char *r1[] = { "caf\xc3\xa9", "1.5G", "ok" };
	const char *r2[] = { "b", "12K", "" };
	struct table *t = table_new(headers, 3);

	(void)state;
	table_set_right(t, 1);
	assert_int_equal(table_add_row(t, r1), 0);
	assert_int_equal(table_add_row(t, r2), 0);
	assert_int_equal(table_col_width(t, 0), 4);
	check_render(t,
	    "NAME  SIZE  NOTE\n"
	    "caf\xc3\xa9  1.5G  ok\n"
	    "b      12K  -\n");
	table_free(t);
}

static void
test_sanitize(void **state)
{
	static const char *const headers[] = { "SERIAL", "X" };
	/* A serial a booting node sent, with ESC [ 2J and a C1 CSI (U+009B) in it: a table
	 * must never pass terminal controls through. */
	const char *r1[] = { "ab\x1b[2Jc\xc2\x9b" "1m\n", "\x7f" };
	struct table *t = table_new(headers, 2);

	(void)state;
	assert_int_equal(table_add_row(t, r1), 0);
	check_render(t,
	    "SERIAL       X\n"
	    "ab?[2Jc?1m?  ?\n");
	table_free(t);
	assert_int_equal(table_text_width("a\xe2\x82\xac" "b"), 3);
	assert_null(table_new(headers, 0));
	assert_null(table_new(headers, MAX_TABLE_COLS + 1));
	assert_null(table_free(NULL));
}

static const struct {
	int line;
	json_int_t at, now;
	const char *want;
} age_vectors[] = {
	{ __LINE__, 1000, 1000, "0s" },
	{ __LINE__, 1000, 1119, "119s" },
	{ __LINE__, 1000, 1120, "2m" },
	{ __LINE__, 1000, 1000 + 2 * 3600 - 1, "119m" },
	{ __LINE__, 1000, 1000 + 2 * 3600, "2h" },
	{ __LINE__, 1000, 1000 + 2 * 86400 - 1, "47h" },
	{ __LINE__, 1000, 1000 + 2 * 86400, "2d" },
	{ __LINE__, 5000, 1000, "0s" }, /* clock step: the future is "now", not negative */
	{ __LINE__, 0, 1000, NULL },    /* 0 is bootsvc's "never" */
};

static const struct {
	int line;
	json_int_t bytes;
	const char *want;
} size_vectors[] = {
	{ __LINE__, 0, "0B" },
	{ __LINE__, 1023, "1023B" },
	{ __LINE__, 1024, "1.0K" },
	{ __LINE__, 1536, "1.5K" },
	{ __LINE__, 10 * 1024 * 1024, "10M" },
	{ __LINE__, 3435973837LL, "3.2G" }, /* 3.2 GiB */
	{ __LINE__, -1, NULL },
};

static void
test_format(void **state)
{
	char buf[FORMAT_BUF];
	json_t *v;

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(age_vectors); i++) {
		const char *got, *want = age_vectors[i].want;

		v = json_integer(age_vectors[i].at);
		got = format_age(v, (time_t)age_vectors[i].now, buf);

		_assert_true(want ? got && streq(got, want) : !got, "age", __FILE__,
		    age_vectors[i].line);
		json_decref(v);
	}
	for (size_t i = 0; i < ELEMENTSOF(size_vectors); i++) {
		const char *got, *want = size_vectors[i].want;

		v = json_integer(size_vectors[i].bytes);
		got = format_size(v, buf);
		_assert_true(want ? got && streq(got, want) : got == NULL, "size", __FILE__,
		    size_vectors[i].line);
		json_decref(v);
	}

	v = json_integer(1714564803); /* 2024-05-01T12:00:03Z per date -u -d @1714564803 */
	assert_string_equal(format_time(v, buf), "2024-05-01T12:00:03Z");
	json_decref(v);
	v = json_string("yesterday");
	assert_string_equal(format_time(v, buf), "yesterday");
	assert_string_equal(format_scalar(v, buf), "yesterday");
	json_decref(v);
	assert_null(format_time(NULL, buf));
	v = json_integer(0);
	assert_null(format_time(v, buf));
	json_decref(v);
	assert_null(format_age(json_null(), 0, buf));
	assert_string_equal(format_scalar(json_true(), buf), "yes");
	assert_null(format_scalar(json_null(), buf));
}

static void
test_kv(void **state)
{
	const struct format_kv kv[] = { { "name", "n01" }, { "image_id", NULL },
		{ "ip", "" } };
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	(void)state;
	assert_int_equal(format_kv_print(f, kv, ELEMENTSOF(kv)), 0);
	(void)fclose(f);
	assert_string_equal(buf,
	    "name:     n01\n"
	    "image_id: -\n"
	    "ip:       -\n");
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_widths),
		cmocka_unit_test(test_cap_no_truncation),
		cmocka_unit_test(test_right_align_and_utf8),
		cmocka_unit_test(test_sanitize),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_kv),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
