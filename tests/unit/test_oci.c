/* SPDX-License-Identifier: MIT */
/* imagebuild/oci.c: layers applied in order with the whiteouts of the OCI image spec
 * (image-spec layer.md "Whiteouts", "Opaque Whiteout"), and members that try to escape
 * the rootfs. The layers are built here with libarchive. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <cmocka.h>

#include "../../imagebuild/fsutil.h"
#include "../../imagebuild/oci.h"

struct member {
	const char *path;
	const char *data; /* NULL: a directory; starting with '@': a symlink to the rest */
};

static void
write_layer(const char *file, const struct member *m, size_t n)
{
	struct archive *a = archive_write_new();

	assert_non_null(a);
	assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_filename(a, file), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		size_t len = m[i].data && m[i].data[0] != '@' ? strlen(m[i].data) : 0;

		archive_entry_set_pathname(e, m[i].path);
		if (!m[i].data)
			archive_entry_set_mode(e, S_IFDIR | 0755);
		else if (m[i].data[0] == '@') {
			archive_entry_set_mode(e, S_IFLNK | 0777);
			archive_entry_set_symlink(e, m[i].data + 1);
		} else
			archive_entry_set_mode(e, S_IFREG | 0644);
		archive_entry_set_size(e, (la_int64_t)len);
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		if (len)
			assert_int_equal(archive_write_data(a, m[i].data, len), (la_ssize_t)len);
		archive_entry_free(e);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
}

static char tmp[64];

static int
setup(void **state)
{
	(void)state;
	strcpy(tmp, "/tmp/test_oci.XXXXXX");
	return mkdtemp(tmp) ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	return fsutil_rm_tree(tmp, NULL);
}

static bool
exists(const char *root, const char *rel)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	return lstat(p, &st) == 0;
}

static void
test_whiteouts(void **state)
{
	static const struct member l1[] = {
		{ "etc", NULL }, { "etc/a", "a1" }, { "etc/b", "b1" },
		{ "./dir", NULL }, { "./dir/x", "x" }, { "dir/sub", NULL }, { "dir/sub/y", "y" },
		{ "keep", NULL }, { "keep/k", "k" }, { "gone", NULL }, { "gone/deep", "d" },
	};
	static const struct member l2[] = {
		{ "etc/.wh.a", "" },          /* delete etc/a */
		{ "dir/z", "z2" },            /* same-layer content survives the opaque marker */
		{ "dir/.wh..wh..opq", "" },   /* hide dir/x and dir/sub from layer 1 */
		{ ".wh.gone", "" },           /* delete a whole directory */
		{ "etc/b", "b2" },            /* overwrite */
		{ "etc/.wh.nothere", "" },    /* whiteout of nothing: fine */
	};
	char rootfs[128], p1[160], p2[160], buf[8] = "";
	struct dl_err e = {};
	FILE *f;

	(void)state;
	snprintf(rootfs, sizeof(rootfs), "%s/root", tmp);
	snprintf(p1, sizeof(p1), "%s/l1.tar.gz", tmp);
	snprintf(p2, sizeof(p2), "%s/l2.tar.gz", tmp);
	assert_int_equal(mkdir(rootfs, 0755), 0);
	write_layer(p1, l1, sizeof(l1) / sizeof(l1[0]));
	write_layer(p2, l2, sizeof(l2) / sizeof(l2[0]));
	assert_int_equal(oci_apply_layer(rootfs, p1, &e), 0);
	assert_true(exists(rootfs, "etc/a") && exists(rootfs, "dir/sub/y"));
	if (oci_apply_layer(rootfs, p2, &e) < 0)
		print_error("%s\n", e.msg);
	assert_false(exists(rootfs, "etc/a"));
	assert_true(exists(rootfs, "etc/b"));
	assert_false(exists(rootfs, "dir/x"));
	assert_false(exists(rootfs, "dir/sub"));
	assert_true(exists(rootfs, "dir/z"));
	assert_true(exists(rootfs, "dir"));
	assert_false(exists(rootfs, "gone"));
	assert_true(exists(rootfs, "keep/k"));
	assert_false(exists(rootfs, "etc/.wh.a")); /* markers are never extracted */
	snprintf(p1, sizeof(p1), "%s/etc/b", rootfs);
	f = fopen(p1, "re");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "b2");
}

/* A lower layer plants a symlink to outside; upper members must not write or delete
 * through it, and ".." names are refused. */
static void
test_escapes(void **state)
{
	static const struct member l1[] = { { "evil", "@/tmp" } };
	static const struct member dotdot[] = { { "../outside", "x" } };
	static const struct member through[] = { { "evil/planted", "x" } };
	static const struct member wh_through[] = { { "evil/.wh.victim", "" } };
	char rootfs[128], p[128], victim[128];
	struct dl_err e = {};

	(void)state;
	snprintf(rootfs, sizeof(rootfs), "%s/root", tmp);
	assert_int_equal(mkdir(rootfs, 0755), 0);
	snprintf(p, sizeof(p), "%s/l1.tar", tmp);
	write_layer(p, l1, 1);
	assert_int_equal(oci_apply_layer(rootfs, p, &e), 0);

	snprintf(p, sizeof(p), "%s/dotdot.tar", tmp);
	write_layer(p, dotdot, 1);
	assert_true(oci_apply_layer(rootfs, p, &e) < 0);
	assert_non_null(strstr(e.msg, "escapes the rootfs"));
	assert_false(exists(tmp, "outside"));

	snprintf(p, sizeof(p), "%s/through.tar", tmp);
	write_layer(p, through, 1);
	/* libarchive either refuses or (with ARCHIVE_EXTRACT_UNLINK) replaces the symlink
	 * by a directory; both keep the member inside. */
	(void)oci_apply_layer(rootfs, p, &e);
	assert_false(exists("/tmp", "planted"));

	/* The whiteout's target, reached only through the symlink, must survive. */
	snprintf(victim, sizeof(victim), "%s/victim", tmp);
	fclose(fopen(victim, "we"));
	snprintf(rootfs, sizeof(rootfs), "%s/root2", tmp);
	assert_int_equal(mkdir(rootfs, 0755), 0);
	{
		char link[160];
		snprintf(link, sizeof(link), "%s/evil", rootfs);
		assert_int_equal(symlink(tmp, link), 0);
	}
	snprintf(p, sizeof(p), "%s/wh.tar", tmp);
	write_layer(p, wh_through, 1);
	(void)oci_apply_layer(rootfs, p, &e);
	assert_true(exists(tmp, "victim"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_whiteouts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_escapes, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
