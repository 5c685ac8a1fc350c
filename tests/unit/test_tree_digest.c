/* SPDX-License-Identifier: MIT */
/* lib/tree_digest.c: which entries the initrd tree hash leaves out, one record against
 * docs/boot-protocol.md's example (TREE_ONE_INIT in initrd_tree_vectors.h, computed with
 * coreutils, not with this code), the empty tree, the order and a path twice. Whole trees
 * are test_initrd_tree.c's and test_init_treehash.c's, over the same vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "macro.h"
#include "tree_digest.h"
#include "initrd_tree_vectors.h"

static const struct {
	int line;
	const char *relpath;
	bool want;
} excluded[] = {
	{ __LINE__, "proc", true },
	{ __LINE__, "proc/y", true },
	{ __LINE__, "sys/x", true },
	{ __LINE__, "dev/console", true },
	{ __LINE__, "run", true },
	{ __LINE__, "newroot/sbin/init", true },
	{ __LINE__, "tmp/z", true },
	{ __LINE__, "runx", false },       /* the first component, whole */
	{ __LINE__, "ru", false },
	{ __LINE__, "lib/run/f", false },  /* top level only */
	{ __LINE__, "init", false },
	{ __LINE__, "", false },
};

static void
test_excludes(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(excluded); i++)
		_assert_int_equal(tree_digest_excludes(excluded[i].relpath), excluded[i].want,
		    __FILE__, excluded[i].line);
}

static void
test_one_record(void **state)
{
	const char *data = tree_one_init[0].data;
	uint8_t d[SHA256_DIGEST_SIZE];
	struct tree_digest_entry e = { .path = (char *)"/init", .type = 'f',
		/* only the permission bits count: the file type bits are dropped */
		.mode = S_IFREG | 0755, .size = strlen(data) };
	char hex[SHA256_HEX_SIZE];

	(void)state;
	sha256_buf(data, strlen(data), d);
	(void)sha256_to_hex(d, e.sha256);
	assert_int_equal(tree_digest_compute(&e, 1, hex, NULL), 0);
	assert_string_equal(hex, TREE_ONE_INIT);
}

/* Nothing at all: the sha256 of nothing (docs/boot-protocol.md). */
static void
test_empty(void **state)
{
	char hex[SHA256_HEX_SIZE];

	(void)state;
	assert_int_equal(tree_digest_compute(NULL, 0, hex, NULL), 0);
	assert_string_equal(hex,
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

/* Sorted bytewise whatever the order given; a path twice is refused and named. */
static void
test_order_and_dup(void **state)
{
	struct tree_digest_entry a[] = {
		{ .path = (char *)"/etc/a/b", .type = 'f', .mode = 0644 },
		{ .path = (char *)"/etc/a-b", .type = 'f', .mode = 0644 },
	};
	struct tree_digest_entry b[2];
	char h1[SHA256_HEX_SIZE], h2[SHA256_HEX_SIZE] = "untouched";
	size_t dup = 99;

	(void)state;
	memset(a[0].sha256, '0', SHA256_HEX_SIZE - 1);
	memset(a[1].sha256, '1', SHA256_HEX_SIZE - 1);
	b[0] = a[1];
	b[1] = a[0];
	assert_int_equal(tree_digest_compute(a, 2, h1, NULL), 0);
	assert_string_equal(a[0].path, "/etc/a-b"); /* '-' 0x2d before '/' 0x2f */
	assert_int_equal(tree_digest_compute(b, 2, h2, NULL), 0);
	assert_string_equal(h1, h2);

	a[1].path = (char *)"/etc/a-b";
	strcpy(h2, "untouched");
	assert_int_equal(tree_digest_compute(a, 2, h2, &dup), -EEXIST);
	assert_string_equal(a[dup].path, "/etc/a-b");
	assert_string_equal(h2, "untouched");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_excludes),
		cmocka_unit_test(test_one_record),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_order_and_dup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
