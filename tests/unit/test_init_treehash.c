/* SPDX-License-Identifier: MIT */
/* initramfs/treehash.c: the init's initrd tree hash, over directories built from the
 * shared vectors in initrd_tree_vectors.h (digests from outside this C code), plus the
 * walk's limits and failures. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../initramfs/treehash.h"
#include "initrd_tree_vectors.h"
#include "tmpdir.h"

/* Create e beneath root. Device nodes need root: where mknod is refused, a regular file
 * stands in (both sit under /dev, which is excluded either way). */
static void
make_entry(int root, const struct tree_vec_entry *e)
{
	int fd;

	switch (e->mode & S_IFMT) {
	case S_IFDIR:
		assert_int_equal(mkdirat(root, e->path, e->mode & 07777), 0);
		break;
	case S_IFLNK:
		assert_int_equal(symlinkat(e->data, root, e->path), 0);
		break;
	case S_IFIFO:
		assert_int_equal(mkfifoat(root, e->path, e->mode & 07777), 0);
		break;
	case S_IFCHR:
		if (mknodat(root, e->path, e->mode, makedev(5, 1)) == 0)
			break;
		fd = openat(root, e->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		assert_true(fd >= 0);
		(void)close(fd);
		break;
	case S_IFREG:
		fd = openat(root, e->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, e->data, strlen(e->data)), (ssize_t)strlen(e->data));
		/* fchmod, not the create mode: the umask must not decide the vector */
		assert_int_equal(fchmod(fd, e->mode & 07777), 0);
		(void)close(fd);
		break;
	default:
		fail_msg("vector %s: unknown type", e->path);
	}
}

static void
make_tree(char dir[static 64], const struct tree_vec_entry *v, size_t n)
{
	int root;

	strcpy(dir, "/tmp/test_init_treehash.XXXXXX");
	assert_non_null(mkdtemp(dir));
	root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(root >= 0);
	for (size_t i = 0; i < n; i++)
		make_entry(root, &v[i]);
	(void)close(root);
}

static void
check_vector(const struct tree_vec_entry *v, size_t n, const char *want, int line)
{
	char dir[64], hex[SHA256_HEX_SIZE];
	struct init_err e = { "" };
	int r;

	make_tree(dir, v, n);
	r = treehash_compute(dir, hex, &e);
	rm_rf(dir);
	if (r != 0 || strcmp(hex, want) != 0)
		print_error("vector at line %d: r=%d '%s', got %s want %s\n", line, r, e.msg,
		    r == 0 ? hex : "-", want);
	assert_int_equal(r, 0);
	assert_string_equal(hex, want);
}

static void
test_vectors(void **state)
{
	(void)state;
	check_vector(tree_one_init, 1, TREE_ONE_INIT, __LINE__);
	check_vector(tree_full, sizeof(tree_full) / sizeof(tree_full[0]), TREE_FULL, __LINE__);
}

/* An empty tree hashes the empty stream: sha256(""). */
static void
test_empty(void **state)
{
	check_vector(NULL, 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    __LINE__);
	(void)state;
}

/* A change of content, mode or link target changes the digest. */
static void
test_sensitive(void **state)
{
	static const struct tree_vec_entry mode[] = { { "init", S_IFREG | 0700, "init-bytes\n" } };
	static const struct tree_vec_entry data[] = { { "init", S_IFREG | 0755, "init-bytez\n" } };
	static const struct tree_vec_entry name[] = { { "ini", S_IFREG | 0755, "init-bytes\n" } };
	static const struct tree_vec_entry link[] = { { "init", S_IFLNK | 0777, "init-bytes\n" } };
	const struct tree_vec_entry *all[] = { mode, data, name, link };
	char dir[64], hex[SHA256_HEX_SIZE];
	struct init_err e = { "" };

	(void)state;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		make_tree(dir, all[i], 1);
		assert_int_equal(treehash_compute(dir, hex, &e), 0);
		rm_rf(dir);
		assert_string_not_equal(hex, TREE_ONE_INIT);
	}
}

/* Deeper than MAX_TREE_DEPTH: refused, not walked without bound. Exactly at the limit: fine. */
static void
test_depth(void **state)
{
	char dir[64], p[PATH_MAX], hex[SHA256_HEX_SIZE];
	struct init_err e = { "" };
	size_t len;

	(void)state;
	make_tree(dir, NULL, 0);
	len = (size_t)snprintf(p, sizeof(p), "%s", dir);
	for (int i = 0; i < MAX_TREE_DEPTH; i++) {
		len += (size_t)snprintf(p + len, sizeof(p) - len, "/d");
		assert_int_equal(mkdir(p, 0755), 0);
	}
	assert_int_equal(treehash_compute(dir, hex, &e), 0);
	len += (size_t)snprintf(p + len, sizeof(p) - len, "/d");
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(treehash_compute(dir, hex, &e), -ELOOP);
	assert_non_null(strstr(e.msg, "deeper than"));
	rm_rf(dir);
}

/* A symlinked directory is hashed as a link, never followed (so a loop cannot trap it). */
static void
test_no_follow(void **state)
{
	static const struct tree_vec_entry v[] = {
		{ "init", S_IFREG | 0755, "init-bytes\n" },
		{ "loop", S_IFLNK | 0777, "." },
	};
	static const struct tree_vec_entry link_only[] = { { "loop", S_IFLNK | 0777, "." } };
	char dir[64], hex[SHA256_HEX_SIZE], hex2[SHA256_HEX_SIZE];
	struct init_err e = { "" };

	(void)state;
	make_tree(dir, v, 2);
	assert_int_equal(treehash_compute(dir, hex, &e), 0);
	rm_rf(dir);
	make_tree(dir, link_only, 1);
	assert_int_equal(treehash_compute(dir, hex2, &e), 0);
	rm_rf(dir);
	assert_string_not_equal(hex, hex2);
}

static void
test_missing_root(void **state)
{
	char hex[SHA256_HEX_SIZE] = "untouched";
	struct init_err e = { "" };

	(void)state;
	assert_int_equal(treehash_compute("/nonexistent/treehash", hex, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "/nonexistent/treehash"));
	assert_string_equal(hex, "untouched");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_sensitive),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_no_follow),
		cmocka_unit_test(test_missing_root),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
