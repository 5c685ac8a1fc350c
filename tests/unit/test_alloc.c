/* SPDX-License-Identifier: MIT */
/* bootsvc/alloc.c: choosing nodes for an allocation (issue #5), table-driven: reuse before
 * reimage before power-on, ok before risky, never doomed, risky only for classes that
 * allow it, ties by name, and no-capacity errors that say why. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../bootsvc/controller/alloc.h"

#define U .usable = true

/* A small cluster: names chosen so name order and preference order differ. */
static const struct alloc_node cluster[] = {
	{ "n01", U, AH_OK, false, false },   /* off */
	{ "n02", U, AH_OK, false, true },    /* on another image */
	{ "n03", U, AH_OK, true, true },     /* up on target */
	{ "n04", U, AH_RISKY, true, true },  /* up on target, risky */
	{ "n05", U, AH_DOOMED, true, true }, /* never */
	{ "n06", .usable = false, AH_OK, true, true }, /* held / allocated / failed */
	{ "n07", U, AH_OK, true, true },     /* up on target */
	{ "n08", U, AH_RISKY, false, false },
	{ "n09", U, AH_OK, false, true },
};

static const struct {
	int line;
	size_t count;
	bool allow_risky;
	const char *want;  /* chosen names, space separated; NULL = error */
	const char *err;   /* substring of the error */
} rows[] = {
	{ __LINE__, 1, false, "n03", NULL },
	{ __LINE__, 2, false, "n03 n07", NULL },          /* reuse, ties by name */
	{ __LINE__, 3, false, "n03 n07 n02", NULL },      /* then reimage */
	{ __LINE__, 5, false, "n03 n07 n02 n09 n01", NULL }, /* then power on */
	{ __LINE__, 6, false, NULL, "needs 6 nodes, 5 qualify (8 usable, 2 risky excluded, 1 doomed)" },
	{ __LINE__, 3, true, "n03 n07 n04", NULL },       /* risky reuse after ok reuse */
	{ __LINE__, 7, true, "n03 n07 n04 n02 n09 n01 n08", NULL },
	{ __LINE__, 8, true, NULL, "7 qualify" },
	{ __LINE__, 0, false, NULL, "at least 1" },
};

static void
test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct alloc_choice ch[16];
		struct alloc_request req = { .count = rows[i].count, .allow_risky = rows[i].allow_risky,
			.class_name = "test" };
		struct dl_err err = { 0 };
		char got[256] = "";
		int r = alloc_choose(cluster, sizeof(cluster) / sizeof(cluster[0]), &req, ch, &err);

		if (!rows[i].want) {
			if (r >= 0 || !strstr(err.msg, rows[i].err))
				fail_msg("%s:%d: want error ~'%s', got r=%d '%s'", __FILE__, rows[i].line,
				    rows[i].err, r, err.msg);
			continue;
		}
		if (r < 0)
			fail_msg("%s:%d: unexpected error '%s'", __FILE__, rows[i].line, err.msg);
		for (size_t k = 0; k < rows[i].count; k++) {
			if (k)
				strcat(got, " ");
			strcat(got, cluster[ch[k].index].name);
		}
		if (strcmp(got, rows[i].want) != 0)
			fail_msg("%s:%d: chose '%s', want '%s'", __FILE__, rows[i].line, got,
			    rows[i].want);
	}
}

static void
test_tiers(void **state)
{
	struct alloc_choice ch[5];
	struct alloc_request req = { .count = 5, .class_name = "mpi" };

	(void)state;
	assert_int_equal(alloc_choose(cluster, 9, &req, ch, NULL), 0);
	assert_int_equal(ch[0].tier, TIER_REUSE);
	assert_int_equal(ch[2].tier, TIER_REIMAGE);
	assert_int_equal(ch[4].tier, TIER_POWER_ON);
}

static void
test_empty(void **state)
{
	struct alloc_choice ch[1];
	struct alloc_request req = { .count = 1, .class_name = "mpi" };
	struct dl_err err = { 0 };

	(void)state;
	assert_int_equal(alloc_choose(NULL, 0, &req, ch, &err), -ENOSPC);
	assert_non_null(strstr(err.msg, "needs 1 nodes, 0 qualify"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_tiers),
		cmocka_unit_test(test_empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
