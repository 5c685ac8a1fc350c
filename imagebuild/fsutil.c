/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>

#include "fsutil.h"
#include "sha256.h"
#include "spawn.h"

/* cp -a keeps hard links, xattrs (file capabilities such as ping's) and sparse files,
 * which a hand-written copy would each have to relearn. */
#define CP_PATH "/usr/bin/cp"
/* Copying a rootfs of a few GB on a slow disk: generous, but never unbounded. */
#define COPY_TIMEOUT_MS (30u * 60 * 1000)

int
fsutil_write_file(const char *path, const void *data, size_t len, mode_t mode,
    struct dl_err *reterr)
{
	_cleanup_close_ int fd = -1;
	const char *p = data;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return dl_err_set(reterr, negative_errno(), "%s: %s", path, strerror(errno));
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return dl_err_set(reterr, negative_errno(), "%s: %s", path, strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	/* open() applies the umask; the image's files need exactly mode. */
	if (fchmod(fd, mode) < 0 || fsync(fd) < 0)
		return dl_err_set(reterr, negative_errno(), "%s: %s", path, strerror(errno));
	return 0;
}

int
fsutil_mkdir_p(const char *path, mode_t mode, struct dl_err *reterr)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		return dl_err_set(reterr, -ENAMETOOLONG, "'%s': bad path length", path);
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return dl_err_set(reterr, negative_errno(), "mkdir %s: %s", buf, strerror(errno));
		*p = c;
		if (!c)
			break;
	}
	return 0;
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
fsutil_copy_file(const char *src, const char *dst, struct dl_err *reterr)
{
	_cleanup_close_ int in = -1, out = -1;
	struct stat st;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return dl_err_set(reterr, negative_errno(), "%s: %s", src, strerror(errno));
	if (fstat(in, &st) < 0)
		return dl_err_set(reterr, negative_errno(), "%s: %s", src, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return dl_err_set(reterr, -EINVAL, "%s: not a regular file", src);
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, st.st_mode & 07777);
	if (out < 0)
		return dl_err_set(reterr, negative_errno(), "%s: %s", dst, strerror(errno));
	for (bool ranged = true;;) {
		ssize_t n;

		if (ranged) {
			n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
			/* Not between these filesystems (an overlay mount over the source, see
			 * rootfs.c): copy through a buffer from where it stopped. */
			if (n < 0 && (errno == EXDEV || errno == EOPNOTSUPP || errno == ENOSYS ||
			    errno == EINVAL)) {
				ranged = false;
				continue;
			}
		} else {
			char buf[65536];

			n = read(in, buf, sizeof(buf));
			if (n > 0 && write_all(out, buf, (size_t)n) < 0)
				n = -1;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return dl_err_set(reterr, negative_errno(), "copy %s to %s: %s", src, dst,
			    strerror(errno));
		if (n == 0)
			break;
	}
	if (fchmod(out, st.st_mode & 07777) < 0 || fsync(out) < 0)
		return dl_err_set(reterr, negative_errno(), "%s: %s", dst, strerror(errno));
	return 0;
}

int
fsutil_copy_tree(const char *src, const char *dst, struct dl_err *reterr)
{
	char from[PATH_MAX];
	int rc;

	if ((size_t)snprintf(from, sizeof(from), "%s/.", src) >= sizeof(from))
		return dl_err_set(reterr, -ENAMETOOLONG, "'%s': path too long", src);
	rc = fsutil_mkdir_p(dst, 0755, reterr);
	if (rc < 0)
		return rc;
	const char *argv[] = { CP_PATH, "-a", "--reflink=auto", "--", from, dst, NULL };
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;
	return spawn_run(argv, &o, -1, COPY_TIMEOUT_MS, reterr);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path) < 0 ? -1 : 0;
	return unlink(path) < 0 ? -1 : 0;
}

int
fsutil_rm_tree(const char *path, struct dl_err *reterr)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 :
		    dl_err_set(reterr, negative_errno(), "%s: %s", path, strerror(errno));
	/* FTW_MOUNT: a proc or dev mount left in a rootfs by a killed debootstrap must stop
	 * the walk (rmdir fails, we report it) instead of deleting the host's files. */
	if (nftw(path, rm_one, 64, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) < 0)
		return dl_err_set(reterr, negative_errno(), "remove %s: %s", path, strerror(errno));
	return 0;
}

int
fsutil_sha256_file(const char *path, char hex[static 65], uint64_t *ret_size,
    struct dl_err *reterr)
{
	_cleanup_close_ int fd = -1;
	uint8_t d[SHA256_DIGEST_SIZE];
	int rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return dl_err_set(reterr, negative_errno(), "%s: %s", path, strerror(errno));
	rc = sha256_fd(fd, d, ret_size);
	if (rc < 0)
		return dl_err_set(reterr, rc, "read %s: %s", path, strerror(-rc));
	sha256_to_hex(d, hex);
	return 0;
}
