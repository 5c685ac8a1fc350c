/* SPDX-License-Identifier: MIT */
#include <assert.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "readfile.h"

/* The first buffer for a file whose size fstat() does not tell (/proc, sysfs, a pipe):
 * such files are a line or two; a larger one grows the buffer by doubling. */
#define READ_FILE_FIRST 4096

/* n bytes into buf, or fewer at the end of the file. Returns the count or -errno. */
static ssize_t
read_all(int fd, char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return negative_errno();
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* Free a buffer of size bytes, wiped first when it held a secret. */
static void
buf_free(char *p, size_t size, bool secret)
{
	if (p && secret)
		explicit_bzero(p, size);
	free(p);
}

/* Grow p (size bytes) to new_size. A secret is copied and the old buffer wiped, since
 * realloc() may leave the old bytes in freed memory. NULL on ENOMEM, p then untouched. */
static char *
buf_grow(char *p, size_t size, size_t new_size, bool secret)
{
	char *n;

	if (!secret)
		return realloc(p, new_size);
	n = malloc(new_size);
	if (!n)
		return NULL;
	memcpy(n, p, size);
	buf_free(p, size, true);
	return n;
}

static int
too_big(struct dl_err *reterr, const char *name, size_t max)
{
	return dl_err_set(reterr, -E2BIG, "'%s': larger than %zu bytes", name, max);
}

int
read_file_fd(int fd, const char *name, size_t max, int flags, char **ret, size_t *ret_len,
    struct dl_err *reterr)
{
	bool secret = flags & READ_FILE_SECRET;
	size_t limit, cap, len = 0;
	struct stat st;
	char *buf;
	int r;

	assert(fd >= 0);
	assert(name);
	assert(ret);

	if (fstat(fd, &st) < 0)
		return dl_err_set(reterr, negative_errno(), "'%s': %s", name, strerror(errno));
	if ((flags & READ_FILE_REGULAR) && !S_ISREG(st.st_mode))
		return dl_err_set(reterr, -EINVAL, "'%s': not a regular file", name);
	if (secret && st.st_uid != 0)
		return dl_err_set(reterr, -EPERM, "'%s': owned by uid %u, must be owned by root",
		    name, (unsigned)st.st_uid);
	if (secret && (st.st_mode & 077))
		return dl_err_set(reterr, -EPERM,
		    "'%s': mode %04o gives group or others access (chmod 0600)", name,
		    (unsigned)(st.st_mode & 07777));
	/* A regular file says its size: one too large is refused before any of it is read. */
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max)
		return too_big(reterr, name, max);

	/* Read up to one byte past max: that byte tells a file of exactly max bytes from a
	 * larger one (or one that grew since fstat()). */
	limit = max < SSIZE_MAX ? max + 1 : SSIZE_MAX;
	cap = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 1 : READ_FILE_FIRST;
	if (cap > limit)
		cap = limit;
	buf = malloc(cap + 1); /* + 1 for the NUL */
	if (!buf)
		return dl_err_set(reterr, -ENOMEM, "'%s': out of memory", name);
	for (;;) {
		ssize_t n = read_all(fd, buf + len, cap - len);
		size_t grown;
		char *p;

		if (n < 0) {
			r = dl_err_set(reterr, (int)n, "'%s': %s", name, strerror((int)-n));
			goto fail;
		}
		len += (size_t)n;
		if (len < cap)
			break; /* the end of the file came first */
		if (cap == limit) {
			r = too_big(reterr, name, max);
			goto fail;
		}
		grown = cap > limit / 2 ? limit : cap * 2;
		p = buf_grow(buf, cap + 1, grown + 1, secret);
		if (!p) {
			r = dl_err_set(reterr, -ENOMEM, "'%s': out of memory", name);
			goto fail;
		}
		buf = p;
		cap = grown;
	}
	buf[len] = '\0';
	*ret = buf;
	if (ret_len)
		*ret_len = len;
	return 0;
fail:
	buf_free(buf, cap + 1, secret);
	return r;
}

int
read_file(const char *path, size_t max, int flags, char **ret, size_t *ret_len,
    struct dl_err *reterr)
{
	_cleanup_close_ int fd = -1;
	int oflags = O_RDONLY | O_CLOEXEC | O_NOCTTY;

	assert(path);
	if (flags & READ_FILE_NOFOLLOW)
		oflags |= O_NOFOLLOW;
	if (flags & READ_FILE_REGULAR)
		oflags |= O_NONBLOCK; /* regular files read the same; a FIFO opens at once */
	fd = open(path, oflags);
	if (fd < 0)
		return dl_err_set(reterr, negative_errno(), "'%s': %s", path, strerror(errno));
	return read_file_fd(fd, path, max, flags, ret, ret_len, reterr);
}
