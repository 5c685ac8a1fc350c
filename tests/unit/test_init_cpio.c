/* SPDX-License-Identifier: MIT */
/* initramfs/cpio.c and overlay.c: the node overlay is a newc archive from the network.
 * Archives are built here member by member (the format of the kernel's
 * Documentation/driver-api/early-userspace/buffer-format.rst), then damaged on purpose. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../initramfs/cpio.h"
#include "../../initramfs/overlay.h"

struct ar {
	uint8_t buf[16384];
	size_t len;
};

static void
pad(struct ar *a)
{
	while (a->len % 4)
		a->buf[a->len++] = 0;
}

static void
add(struct ar *a, const char *name, unsigned mode, const char *data)
{
	size_t dlen = data ? strlen(data) : 0;

	a->len += (size_t)sprintf((char *)a->buf + a->len,
	    "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X", 1u, mode, 0u, 0u, 1u,
	    0u, dlen, 0u, 0u, 0u, 0u, strlen(name) + 1, 0u);
	memcpy(a->buf + a->len, name, strlen(name) + 1);
	a->len += strlen(name) + 1;
	pad(a);
	if (dlen)
		memcpy(a->buf + a->len, data, dlen);
	a->len += dlen;
	pad(a);
}

static void
trailer(struct ar *a)
{
	add(a, "TRAILER!!!", 0, NULL);
}

struct seen {
	int n;
	char names[16][64];
	int types[16];
};

static int
collect(const struct cpio_entry *e, void *userdata, struct init_err *reterr)
{
	struct seen *s = userdata;

	(void)reterr;
	if (s->n < 16) {
		snprintf(s->names[s->n], sizeof(s->names[0]), "%s", e->name);
		s->types[s->n] = (int)e->type;
	}
	s->n++;
	return 0;
}

static void
test_good(void **state)
{
	struct ar a = { .len = 0 };
	struct seen s = { 0 };
	struct init_err e = { "" };

	(void)state;
	add(&a, ".", 040755, NULL);
	add(&a, "./etc", 040755, NULL);
	add(&a, "etc/hostname", 0100644, "n01\n");
	add(&a, "etc/link", 0120777, "hostname");
	trailer(&a);
	assert_int_equal(cpio_walk(a.buf, a.len, collect, &s, &e), 3);
	assert_string_equal(s.names[0], "etc");
	assert_int_equal(s.types[0], CPIO_DIR);
	assert_string_equal(s.names[1], "etc/hostname");
	assert_int_equal(s.types[1], CPIO_FILE);
	assert_int_equal(s.types[2], CPIO_SYMLINK);
}

/* One bad member between good ones; the message must name it. */
static const struct {
	int line;
	const char *name;
	unsigned mode;
	const char *data;
	const char *msg;
} bad[] = {
	{ __LINE__, "/etc/passwd", 0100644, "x", "'/etc/passwd': name must be relative" },
	{ __LINE__, "../etc/passwd", 0100644, "x", "without '..'" },
	{ __LINE__, "etc/../../x", 0100644, "x", "without '..'" },
	{ __LINE__, "etc//x", 0100644, "x", "'//'" },
	{ __LINE__, "etc/./x", 0100644, "x", "'.'" },
	{ __LINE__, "etc/", 040755, NULL, "name must be" },
	{ __LINE__, "dev/sda", 060644, NULL, "is not a file, directory or symlink" },
	{ __LINE__, "dev/null", 020666, NULL, "not a file, directory or symlink" },
	{ __LINE__, "run/fifo", 010644, NULL, "not a file, directory or symlink" },
	{ __LINE__, "dir", 040755, "data", "directory with data" },
	{ __LINE__, "etc/x\x1b[2J", 0100644, "x", "'etc/x?[2J'" },
};

static void
test_bad_members(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ar a = { .len = 0 };
		struct seen s = { 0 };
		struct init_err e = { "" };
		int r;

		add(&a, "etc", 040755, NULL);
		add(&a, bad[i].name, bad[i].mode, bad[i].data);
		trailer(&a);
		r = cpio_walk(a.buf, a.len, collect, &s, &e);
		if (r >= 0 || !strstr(e.msg, bad[i].msg))
			print_error("%s:%d: r=%d msg='%s', want '%s'\n", __FILE__, bad[i].line, r,
			    e.msg, bad[i].msg);
		_assert_true(r < 0, "rejected", __FILE__, bad[i].line);
		_assert_true(strstr(e.msg, bad[i].msg) != NULL, "message", __FILE__, bad[i].line);
		_assert_int_equal(s.n, 1, __FILE__, bad[i].line); /* nothing after the bad one */
	}
}

/* a made anew: etc/hostname, then the trailer when with_trailer. */
static void
one_file(struct ar *a, bool with_trailer)
{
	a->len = 0;
	add(a, "etc/hostname", 0100644, "n01\n");
	if (with_trailer)
		trailer(a);
}

/* cpio_walk of a fails with -EBADMSG and a message containing msg (NULL: unchecked). */
static void
walk_bad_at(const char *file, int line, struct ar *a, const char *msg)
{
	struct seen s = { 0 };
	struct init_err e = { "" };

	_assert_int_equal(cpio_walk(a->buf, a->len, collect, &s, &e), -EBADMSG, file, line);
	if (msg)
		_assert_true(strstr(e.msg, msg) != NULL, msg, file, line);
}

#define walk_bad(a, msg) walk_bad_at(__FILE__, __LINE__, (a), (msg))

static void
test_damaged(void **state)
{
	struct ar a = { .len = 0 };
	struct seen s = { 0 };
	struct init_err e = { "" };
	size_t cut, full;

	(void)state;
	one_file(&a, true);
	full = a.len;
	/* every truncation fails cleanly, never reads past the end (ASan watches) */
	for (cut = 0; cut < full; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1);

		memcpy(copy, a.buf, cut);
		s.n = 0;
		assert_true(cpio_walk(copy, cut, collect, &s, &e) < 0);
		free(copy);
	}
	/* no trailer */
	one_file(&a, false);
	walk_bad(&a, "no TRAILER!!!");
	/* old binary cpio magic */
	memcpy(a.buf, "070707", 6);
	walk_bad(&a, "bad magic");
	/* filesize past the end */
	one_file(&a, true);
	memcpy(a.buf + 6 + 6 * 8, "7FFFFFFF", 8);
	walk_bad(&a, "runs past the end");
	/* namesize past the end, and one without the NUL */
	one_file(&a, true);
	memcpy(a.buf + 6 + 11 * 8, "FFFFFFFF", 8);
	walk_bad(&a, NULL);
	memcpy(a.buf + 6 + 11 * 8, "00000005", 8); /* "etc/h" without NUL */
	walk_bad(&a, "not NUL-terminated");
	/* non-hex field */
	memcpy(a.buf + 6, "0000000G", 8);
	walk_bad(&a, "non-hex");
}

static char *
slurp(int dirfd, const char *path, char *buf, size_t size)
{
	int fd = openat(dirfd, path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return NULL;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return buf;
}

/* overlay_apply: files land beneath root, existing files and symlinks are replaced, and a
 * symlink in the image pointing outside (etc -> /) cannot carry writes out of root. */
static void
test_apply(void **state)
{
	char root[] = "/tmp/test_init_cpio.XXXXXX", outside[] = "/tmp/test_init_out.XXXXXX";
	char buf[256], link[PATH_MAX];
	struct ar a = { .len = 0 };
	struct init_err e = { "" };
	struct stat st;
	int rfd;

	(void)state;
	assert_non_null(mkdtemp(root));
	assert_non_null(mkdtemp(outside));
	rfd = open(root, O_PATH | O_DIRECTORY);
	assert_true(rfd >= 0);
	/* the image: etc/resolv.conf is an absolute symlink, evil -> the outside dir */
	assert_int_equal(mkdirat(rfd, "etc", 0755), 0);
	assert_int_equal(symlinkat("/run/resolv.conf", rfd, "etc/resolv.conf"), 0);
	assert_int_equal(symlinkat(outside, rfd, "evil"), 0);
	assert_int_equal(symlinkat("/", rfd, "up"), 0);

	add(&a, "etc/hostname", 0100644, "n01\n");
	add(&a, "etc/resolv.conf", 0100644, "nameserver 10.0.0.1\n");
	add(&a, "etc/diskless", 040700, NULL);
	add(&a, "etc/diskless/node.conf", 0100600, "node=n01\n");
	add(&a, "new/deep/dir/file", 0100644, "deep\n");
	add(&a, "up/tmp/escaped2", 0100644, "must stay inside\n");
	add(&a, "etc/motd.link", 0120777, "/etc/hostname");
	trailer(&a);
	if (overlay_apply(root, a.buf, a.len, &e) != 7)
		fail_msg("overlay_apply: %s", e.msg);

	assert_string_equal(slurp(rfd, "etc/hostname", buf, sizeof(buf)), "n01\n");
	assert_int_equal(fstatat(rfd, "etc/resolv.conf", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISREG(st.st_mode)); /* the image's symlink was replaced, not followed */
	assert_int_equal(fstatat(rfd, "etc/diskless/node.conf", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(fstatat(rfd, "etc/diskless", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_string_equal(slurp(rfd, "new/deep/dir/file", buf, sizeof(buf)), "deep\n");
	assert_int_equal(readlinkat(rfd, "etc/motd.link", link, sizeof(link)), 13);
	/* "evil" points at a real directory outside by an absolute path: resolved inside
	 * root it does not exist, so the write fails instead of escaping */
	a.len = 0;
	add(&a, "evil/escaped", 0100644, "must stay inside\n");
	trailer(&a);
	assert_int_equal(overlay_apply(root, a.buf, a.len, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "overlay 'evil/escaped'"));
	snprintf(buf, sizeof(buf), "%s/escaped", outside);
	assert_int_equal(access(buf, F_OK), -1);
	/* "up" -> "/" is root itself, so up/tmp/escaped2 lands in <root>/tmp */
	assert_int_equal(access("/tmp/escaped2", F_OK), -1);
	assert_int_equal(faccessat(rfd, "tmp/escaped2", F_OK, 0), 0);
	close(rfd);
	snprintf(buf, sizeof(buf), "rm -rf '%s' '%s'", root, outside);
	assert_int_equal(system(buf), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad_members),
		cmocka_unit_test(test_damaged),
		cmocka_unit_test(test_apply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
