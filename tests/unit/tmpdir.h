/* SPDX-License-Identifier: MIT */
/* Temporary files for unit tests: one directory per test binary, made and removed by
 * cmocka's group set-up and tear-down (tmpdir_setup, tmpdir_teardown), files written
 * into it, and trees removed without following links. Include after <cmocka.h>. */
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* "/tmp/<test binary>.XXXXXX" once tmpdir_setup() ran. */
static char tmpdir[64] __attribute__((unused));

static inline int
tmpdir_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/%s.XXXXXX", program_invocation_short_name);
	return mkdtemp(tmpdir) ? 0 : -1;
}

/* The directory must be empty again: a test that leaves a file behind fails here. */
static inline int
tmpdir_teardown(void **state)
{
	(void)state;
	return rmdir(tmpdir);
}

/* Create path anew with len bytes of data, then mode and (when uid is not 0) owner uid,
 * both set on the fd. Giving a file away needs root: the tests run as root, and say so
 * rather than skip (CONVENTIONS §11). */
static inline void
tmpdir_write(const char *path, const void *data, size_t len, mode_t mode, uid_t uid)
{
	int fd;

	if (uid != 0 && geteuid() != 0)
		fail_msg("%s: chown to uid %u needs root; run the tests as root", path,
		    (unsigned)uid);
	(void)unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	if (uid != 0)
		assert_int_equal(fchown(fd, uid, (gid_t)-1), 0);
	assert_int_equal(close(fd), 0);
}

static inline int
rm_rf_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 ? -1 : 0;
}

/* Remove a tree a test made; FTW_PHYS so a symlink is removed, not followed. */
static inline void
rm_rf(const char *dir)
{
	assert_int_equal(nftw(dir, rm_rf_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}
