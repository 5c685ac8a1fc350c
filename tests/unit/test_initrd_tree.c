/* SPDX-License-Identifier: MIT */
/* imagebuild/initrd_tree.c and the tree hash initramfs_write() returns: the same shared
 * vectors as test_init_treehash.c (initrd_tree_vectors.h), recorded as cpio entries, and
 * one real archive unpacked and walked by the init's own code, so builder and node
 * provably agree on the digest. */
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
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <cmocka.h>

#include "../../imagebuild/initramfs.h"
#include "../../imagebuild/initrd_tree.h"
#include "../../initramfs/treehash.h"
#include "initrd_tree_vectors.h"
#include "tmpdir.h"

static void
check_vector(const struct tree_vec_entry *v, size_t n, const char *want, int line)
{
	struct initrd_tree t = {};
	struct dl_err e = {};
	char hex[SHA256_HEX_SIZE];

	for (size_t i = 0; i < n; i++) {
		const char *d = v[i].data ? v[i].data : "";

		assert_int_equal(initrd_tree_add(&t, v[i].path, v[i].mode, d, strlen(d), &e), 0);
	}
	assert_int_equal(initrd_tree_hash(&t, hex, &e), 0);
	if (strcmp(hex, want) != 0)
		print_error("vector at line %d: got %s want %s\n", line, hex, want);
	assert_string_equal(hex, want);
	initrd_tree_done(&t);
}

static void
test_vectors(void **state)
{
	(void)state;
	check_vector(tree_one_init, 1, TREE_ONE_INIT, __LINE__);
	check_vector(tree_full, ELEMENTSOF(tree_full), TREE_FULL, __LINE__);
}

/* The kernel makes every symlink 0777, so the mode in the archive does not count. */
static void
test_symlink_mode(void **state)
{
	static const struct tree_vec_entry a[] = { { "l", S_IFLNK | 0777, "t" } };
	static const struct tree_vec_entry b[] = { { "l", S_IFLNK | 0644, "t" } };
	struct initrd_tree t1 = {}, t2 = {};
	char h1[SHA256_HEX_SIZE], h2[SHA256_HEX_SIZE];

	(void)state;
	assert_int_equal(initrd_tree_add(&t1, a[0].path, a[0].mode, "t", 1, NULL), 0);
	assert_int_equal(initrd_tree_add(&t2, b[0].path, b[0].mode, "t", 1, NULL), 0);
	assert_int_equal(initrd_tree_hash(&t1, h1, NULL), 0);
	assert_int_equal(initrd_tree_hash(&t2, h2, NULL), 0);
	assert_string_equal(h1, h2);
	initrd_tree_done(&t1);
	initrd_tree_done(&t2);
}

static void
test_bad(void **state)
{
	static const char *const paths[] = { "", "/init", "a//b", "./init", "a/../b", "a/" };
	struct initrd_tree t = {};
	struct dl_err e = {};
	char hex[SHA256_HEX_SIZE] = "untouched";

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
		assert_int_equal(initrd_tree_add(&t, paths[i], S_IFREG | 0644, "x", 1, &e), -EINVAL);
		assert_non_null(strstr(e.msg, "is not a relative path"));
	}
	assert_int_equal(t.n, 0);
	assert_int_equal(initrd_tree_add(&t, "init", S_IFREG | 0755, "a", 1, &e), 0);
	assert_int_equal(initrd_tree_add(&t, "init", S_IFREG | 0755, "b", 1, &e), 0);
	assert_int_equal(initrd_tree_hash(&t, hex, &e), -EEXIST);
	assert_non_null(strstr(e.msg, "'/init' appears twice"));
	assert_string_equal(hex, "untouched");
	initrd_tree_done(&t);
}

/* Unpack archive into dir as the kernel would (exact modes), minus device nodes, which
 * need root and sit under /dev, excluded from the digest anyway. */
static void
unpack(const char *archive, const char *dir)
{
	struct archive *r = archive_read_new(), *w = archive_write_disk_new();
	struct archive_entry *e;
	char path[PATH_MAX];
	int rc, n;

	assert_non_null(r);
	assert_non_null(w);
	archive_read_support_filter_all(r);
	archive_read_support_format_cpio(r);
	assert_int_equal(archive_write_disk_set_options(w, ARCHIVE_EXTRACT_PERM), ARCHIVE_OK);
	assert_int_equal(archive_read_open_filename(r, archive, 65536), ARCHIVE_OK);
	while ((rc = archive_read_next_header(r, &e)) == ARCHIVE_OK) {
		if (AE_IFCHR == archive_entry_filetype(e) || AE_IFBLK == archive_entry_filetype(e))
			continue;
		/* initramfs_write leaves ino 0 on every member and gives directories nlink 2;
		 * libarchive's reader then takes the second directory for a hard link to the
		 * first. The kernel links only regular files with nlink >= 2 (there are none). */
		if (archive_entry_filetype(e) == AE_IFDIR)
			archive_entry_set_hardlink(e, NULL);
		n = snprintf(path, sizeof(path), "%s/%s", dir, archive_entry_pathname(e));
		assert_true(n > 0 && (size_t)n < sizeof(path));
		archive_entry_set_pathname(e, path);
		rc = archive_read_extract2(r, e, w);
		if (rc != ARCHIVE_OK)
			print_error("extract %s: %s\n", path, archive_error_string(w));
		assert_int_equal(rc, ARCHIVE_OK);
	}
	assert_int_equal(rc, ARCHIVE_EOF);
	(void)archive_read_free(r);
	(void)archive_write_free(w);
}

/* initramfs_write with no modules: /init and an empty module list. The expected digest
 * is by hand (Python hashlib) from the definition:
 *   /etc/diskless/modules f 0644 size 0, /init f 0755 "init-bytes\n" (11 bytes). */
#define TREE_WRITTEN "e1c338394c4e552be7e90ac5352b1b8f381e67f9f90623e7a6c909f3ea20a2f0"

static void
test_write_and_walk(void **state)
{
	char dir[] = "/tmp/test_initrd_tree.XXXXXX", init[PATH_MAX], out[PATH_MAX], root[PATH_MAX];
	char built[SHA256_HEX_SIZE], walked[SHA256_HEX_SIZE];
	struct kmod_set mods = {};
	struct dl_err e = {};
	struct init_err ie = { "" };
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	(void)snprintf(init, sizeof(init), "%s/init.bin", dir);
	(void)snprintf(out, sizeof(out), "%s/initrd", dir);
	(void)snprintf(root, sizeof(root), "%s/root", dir);
	f = fopen(init, "we");
	assert_non_null(f);
	assert_true(fputs("init-bytes\n", f) >= 0);
	assert_int_equal(fclose(f), 0);
	for (int zstd = 0; zstd <= 1; zstd++) {
		struct initramfs_spec spec = { .init = init, .kver = "6.1.0-test", .mods = &mods,
			.zstd = zstd };

		assert_int_equal(initramfs_write(out, &spec, built, &e), 0);
		assert_string_equal(built, TREE_WRITTEN);
		assert_int_equal(mkdir(root, 0755), 0);
		unpack(out, root);
		assert_int_equal(treehash_compute(root, walked, &ie), 0);
		assert_string_equal(walked, built);
		rm_rf(root);
	}
	rm_rf(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_symlink_mode),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_write_and_walk),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
