/* SPDX-License-Identifier: MIT */
/* lib/readfile.c: whole files into memory, in a temp dir. Vectors come from readfile.h's
 * contract: the bound (a file of exactly max bytes reads, one byte more is -E2BIG naming
 * the file and the limit), files whose size fstat() does not tell (/proc, a pipe) read to
 * their end, the type, symlink and owner/mode checks, and messages that quote the path.
 * The secret checks chown to nobody, so this test runs as root (tmpdir_write() says so),
 * like test_bmc_creds. */
#include <fcntl.h>
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

#include "readfile.h"
#include "check_r.h"
#include "tmpdir.h"

/* The uid Debian gives "nobody": a secret owned by it must be refused. */
#define UID_NOBODY 65534

/* A file of len bytes ('a' + i % 26) with mode, owned by uid. */
static void
make_file(const char *path, size_t len, mode_t mode, uid_t uid)
{
	char *data = malloc(len + 1);

	assert_non_null(data);
	for (size_t i = 0; i < len; i++)
		data[i] = (char)('a' + i % 26);
	tmpdir_write(path, data, len, mode, uid);
	free(data);
}

static void
check_content(const char *buf, size_t len, size_t want_len, const char *file, int line)
{
	_assert_int_equal(len, want_len, file, line);
	_assert_int_equal(buf[len], '\0', file, line);
	for (size_t i = 0; i < len; i++)
		if (buf[i] != (char)('a' + i % 26))
			_assert_true(false, "content", file, line);
}

static const struct {
	int line;
	size_t size;          /* bytes in the file */
	size_t max;
	mode_t mode;
	bool nobody;          /* owned by nobody instead of root */
	int flags;
	int want_r;
	const char *want_msg; /* failures: substring of the message, besides the path */
} vectors[] = {
	{ __LINE__, 0, 16, 0644, false, 0, 0, NULL },
	{ __LINE__, 0, 0, 0644, false, 0, 0, NULL },
	{ __LINE__, 15, 16, 0644, false, 0, 0, NULL },
	{ __LINE__, 16, 16, 0644, false, 0, 0, NULL },
	{ __LINE__, 17, 16, 0644, false, 0, -E2BIG, "larger than 16 bytes" },
	{ __LINE__, 1, 0, 0644, false, 0, -E2BIG, "larger than 0 bytes" },
	/* larger than the first buffer a file of unknown size gets */
	{ __LINE__, 10000, 1 << 20, 0644, false, 0, 0, NULL },
	{ __LINE__, 4096, 4096, 0644, false, READ_FILE_REGULAR | READ_FILE_NOFOLLOW, 0, NULL },
	/* secrets: root's and private, else refused whatever their size */
	{ __LINE__, 40, 4096, 0600, false, READ_FILE_SECRET, 0, NULL },
	{ __LINE__, 40, 4096, 0400, false, READ_FILE_SECRET, 0, NULL },
	{ __LINE__, 40, 4096, 0640, false, READ_FILE_SECRET, -EPERM,
	  "mode 0640 gives group or others access (chmod 0600)" },
	{ __LINE__, 40, 4096, 0604, false, READ_FILE_SECRET, -EPERM, "mode 0604" },
	{ __LINE__, 40, 4096, 0600, true, READ_FILE_SECRET, -EPERM,
	  "owned by uid 65534, must be owned by root" },
	{ __LINE__, 5000, 4096, 0600, false, READ_FILE_SECRET, -E2BIG, "larger than 4096 bytes" },
	/* without the flag neither is looked at */
	{ __LINE__, 40, 4096, 0644, true, 0, 0, NULL },
};

static void
test_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(vectors); i++) {
		char path[128], *buf = (char *)"untouched";
		size_t len = 12345;
		struct dl_err e = { 0 };
		int r;

		snprintf(path, sizeof(path), "%s/v%zu", tmpdir, i);
		make_file(path, vectors[i].size, vectors[i].mode,
		    vectors[i].nobody ? UID_NOBODY : 0);
		r = read_file(path, vectors[i].max, vectors[i].flags, &buf, &len, &e);
		check_r_at(__FILE__, vectors[i].line, NULL, r, &e, vectors[i].want_r,
		    vectors[i].want_msg);
		if (r == 0) {
			check_content(buf, len, vectors[i].size, __FILE__, vectors[i].line);
			free(buf);
		} else {
			char quoted[160];

			/* nothing written on failure; the message quotes the file */
			_assert_string_equal(buf, "untouched", __FILE__, vectors[i].line);
			_assert_int_equal(len, 12345, __FILE__, vectors[i].line);
			_assert_int_equal(e.code, r, __FILE__, vectors[i].line);
			snprintf(quoted, sizeof(quoted), "'%s': ", path);
			_assert_true(strstr(e.msg, quoted) == e.msg, "path in message", __FILE__,
			    vectors[i].line);
		}
		assert_int_equal(unlink(path), 0);
	}
}

static void
test_missing(void **state)
{
	char path[128], want[192], *buf = NULL;
	struct dl_err e = { 0 };

	(void)state;
	snprintf(path, sizeof(path), "%s/missing", tmpdir);
	assert_int_equal(read_file(path, 16, 0, &buf, NULL, &e), -ENOENT);
	snprintf(want, sizeof(want), "'%s': No such file or directory", path);
	assert_string_equal(e.msg, want);
	assert_null(buf);
	/* reterr may be NULL */
	assert_int_equal(read_file(path, 16, 0, &buf, NULL, NULL), -ENOENT);
}

/* A directory: refused for its type with READ_FILE_REGULAR, read(2)'s EISDIR without. */
static void
test_not_regular(void **state)
{
	char path[128], *buf = NULL;
	struct dl_err e = { 0 };

	(void)state;
	snprintf(path, sizeof(path), "%s/dir", tmpdir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(read_file(path, 16, READ_FILE_REGULAR, &buf, NULL, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "': not a regular file"));
	assert_int_equal(read_file(path, 16, 0, &buf, NULL, &e), -EISDIR);
	assert_null(buf);
	assert_int_equal(rmdir(path), 0);

	/* a FIFO with no writer: refused at once, the open does not wait for one */
	snprintf(path, sizeof(path), "%s/fifo", tmpdir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(read_file(path, 16, READ_FILE_REGULAR, &buf, NULL, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "not a regular file"));
	assert_int_equal(unlink(path), 0);
}

static void
test_symlink(void **state)
{
	char target[128], link[128], *buf = NULL;
	struct dl_err e = { 0 };
	size_t len = 0;

	(void)state;
	snprintf(target, sizeof(target), "%s/target", tmpdir);
	snprintf(link, sizeof(link), "%s/link", tmpdir);
	make_file(target, 5, 0644, 0);
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(read_file(link, 16, READ_FILE_NOFOLLOW, &buf, &len, &e), -ELOOP);
	assert_non_null(strstr(e.msg, link));
	assert_null(buf);
	assert_int_equal(read_file(link, 16, 0, &buf, &len, &e), 0);
	check_content(buf, len, 5, __FILE__, __LINE__);
	free(buf);
	assert_int_equal(unlink(link), 0);
	assert_int_equal(unlink(target), 0);
}

/* /proc files say size 0 and hold more: read to their end, bounded all the same. */
static void
test_proc(void **state)
{
	char *buf = NULL;
	struct dl_err e = { 0 };
	size_t len = 0;

	(void)state;
	assert_int_equal(read_file("/proc/self/status", 1 << 20, 0, &buf, &len, &e), 0);
	assert_true(len > 100);
	assert_int_equal(strlen(buf), len);
	assert_non_null(strstr(buf, "Pid:"));
	free(buf);
	buf = NULL;
	assert_int_equal(read_file("/proc/self/status", 100, 0, &buf, &len, &e), -E2BIG);
	assert_string_equal(e.msg, "'/proc/self/status': larger than 100 bytes");
	assert_null(buf);
}

/* read_file_fd(): a pipe (no size at all) grows the buffer past its first 4 KiB; the
 * data may hold NULs; reading starts at the fd's offset and the fd stays open. */
static void
test_fd(void **state)
{
	static char data[10000];
	char path[128], *buf = NULL;
	struct dl_err e = { 0 };
	size_t len = 0;
	int p[2], fd;

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)(i % 7 == 0 ? '\0' : 'a' + i % 26);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(write(p[1], data, sizeof(data)), (ssize_t)sizeof(data));
	assert_int_equal(close(p[1]), 0);
	assert_int_equal(read_file_fd(p[0], "pipe", sizeof(data), 0, &buf, &len, &e), 0);
	assert_int_equal(len, sizeof(data));
	assert_memory_equal(buf, data, sizeof(data));
	assert_int_equal(buf[len], '\0');
	free(buf);
	assert_int_equal(close(p[0]), 0);

	/* one byte over the bound, found only by reading */
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(write(p[1], data, 5000), 5000);
	assert_int_equal(close(p[1]), 0);
	buf = NULL;
	assert_int_equal(read_file_fd(p[0], "pipe", 4999, 0, &buf, &len, &e), -E2BIG);
	assert_string_equal(e.msg, "'pipe': larger than 4999 bytes");
	assert_null(buf);
	assert_int_equal(close(p[0]), 0);

	snprintf(path, sizeof(path), "%s/offset", tmpdir);
	make_file(path, 26, 0644, 0);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(lseek(fd, 20, SEEK_SET), 20);
	assert_int_equal(read_file_fd(fd, path, 26, READ_FILE_REGULAR, &buf, &len, &e), 0);
	assert_string_equal(buf, "uvwxyz");
	assert_int_equal(len, 6);
	free(buf);
	assert_int_equal(fcntl(fd, F_GETFD), FD_CLOEXEC); /* still open */
	assert_int_equal(close(fd), 0);
	assert_int_equal(unlink(path), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_not_regular),
		cmocka_unit_test(test_symlink),
		cmocka_unit_test(test_proc),
		cmocka_unit_test(test_fd),
	};

	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
