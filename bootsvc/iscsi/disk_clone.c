/* SPDX-License-Identifier: MIT */
/* A node's disk from the golden one: reflink, or a sparse copy, always through a temp
 * name, fsync and rename (disk_clone.h says why and what each method costs). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "iscsi/disk_clone.h"
#include "log.h"
#include "macro.h"
#include "parse.h"

static int64_t
mono_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
disk_clone_path(const char *dir, const char *node, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/%s.img", dir, node);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static bool
cancelled(const struct disk_clone_req *q)
{
	return q->cancel && atomic_load(q->cancel);
}

/* Errors of FICLONE that say "not here", not "failed": the next method may work. */
static bool
reflink_absent(int r)
{
	return r == -EOPNOTSUPP || r == -EXDEV || r == -EINVAL || r == -ENOTTY || r == -ENOSYS;
}

static int
clone_reflink(int src, int dst)
{
	return ioctl(dst, FICLONE, src) < 0 ? negative_errno() : 0;
}

/* Copy [off, off + len) at the same offsets, by copy_file_range, else read/write. */
static int
copy_range(const struct disk_clone_req *q, int src, int dst, off_t off, off_t len, char **buf)
{
	bool plain = false;

	while (len > 0) {
		size_t want = len > DISK_CLONE_CHUNK ? DISK_CLONE_CHUNK : (size_t)len;
		ssize_t n;

		if (cancelled(q))
			return -ECANCELED;
		if (!plain) {
			loff_t in = off, out = off;

			n = copy_file_range(src, &in, dst, &out, want, 0);
			if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
			    errno == EOPNOTSUPP)) {
				plain = true; /* not across these file systems: copy by hand */
				continue;
			}
		} else {
			if (!*buf && !(*buf = malloc(DISK_CLONE_CHUNK)))
				return -ENOMEM;
			n = pread(src, *buf, want, off);
			if (n > 0) {
				ssize_t w = pwrite(dst, *buf, (size_t)n, off);

				if (w >= 0 && w != n) {
					errno = EIO; /* a short write to a regular file */
					w = -1;
				}
				if (w < 0)
					n = -1;
			}
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return negative_errno();
		}
		if (n == 0)
			return -EIO; /* the golden shrank under us */
		off += n;
		len -= n;
	}
	return 0;
}

/* Copy src's data extents to dst at their offsets; holes stay holes (dst is sized to
 * src's size last, so a trailing hole is one too). */
static int
clone_copy(const struct disk_clone_req *q, int src, int dst, off_t size)
{
	_cleanup_free_ char *buf = NULL;
	off_t data = 0, hole;
	int r;

	for (;;) {
		data = lseek(src, data, SEEK_DATA);
		if (data < 0) {
			if (errno == ENXIO)
				break; /* no data past here */
			return negative_errno();
		}
		if ((hole = lseek(src, data, SEEK_HOLE)) < 0)
			return negative_errno();
		if (hole > size)
			hole = size;
		if (hole <= data)
			break;
		if ((r = copy_range(q, src, dst, data, hole - data, &buf)) < 0)
			return r;
		data = hole;
	}
	return ftruncate(dst, size) < 0 ? negative_errno() : 0;
}

static int
fsync_dir(const char *dir)
{
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || fsync(fd) < 0)
		return negative_errno();
	return 0;
}

int
disk_clone_stat(const char *path, int64_t *ret_apparent, int64_t *ret_allocated)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return negative_errno();
	*ret_apparent = (int64_t)st.st_size;
	*ret_allocated = (int64_t)st.st_blocks * 512;
	return 0;
}

/* Make the clone into the open temp file dst by method m (not AUTO). */
static int
make_into(const struct disk_clone_req *q, enum disk_clone m, int src, int dst, off_t size)
{
	switch (m) {
	case DISK_CLONE_REFLINK:
		return clone_reflink(src, dst);
	case DISK_CLONE_QCOW2:
		/* Never here: the overlay is the parent's (disk_clone_make). */
		return -EOPNOTSUPP;
	case DISK_CLONE_COPY:
		return clone_copy(q, src, dst, size);
	default:
		return -EINVAL;
	}
}

int
disk_clone_make(const struct disk_clone_req *q, struct disk_clone_result *ret,
    struct dl_err *reterr)
{
	_cleanup_close_ int src = -1, dst = -1;
	char final[MAX_STORE_PATH], tmp[MAX_STORE_PATH + 64];
	enum disk_clone tries[3], made = DISK_CLONE_AUTO;
	unsigned n_tries = 0;
	int64_t t0 = mono_ms();
	struct stat st;
	int r = -EINVAL;

	if (!hostname_is_valid(q->node))
		return dl_err_set(reterr, -EINVAL, "clone: node name '%s' is not valid", q->node);
	if (disk_clone_path(q->dir, q->node, final, sizeof(final)) < 0 ||
	    snprintf(tmp, sizeof(tmp), "%s/.%s" DISK_CLONE_TEMP_MARK "XXXXXX", q->dir,
	    q->node) >= (int)sizeof(tmp))
		return dl_err_set(reterr, -ENAMETOOLONG, "clone: disk_dir '%s' is too long",
		    q->dir);
	switch (q->method) {
	case DISK_CLONE_AUTO:
		tries[n_tries++] = DISK_CLONE_REFLINK;
		if (q->qcow2_offered)
			tries[n_tries++] = DISK_CLONE_QCOW2;
		tries[n_tries++] = DISK_CLONE_COPY;
		break;
	case DISK_CLONE_QCOW2:
		if (!q->qcow2_offered)
			return dl_err_set(reterr, -EOPNOTSUPP, "clone of node '%s': disk_clone = "
			    "qcow2, and this bootsvc has no qemu-storage-daemon export to serve "
			    "it: set disk_clone = auto or reflink or copy", q->node);
		fallthrough;
	case DISK_CLONE_REFLINK:
	case DISK_CLONE_COPY:
		tries[n_tries++] = q->method;
		break;
	default:
		return dl_err_set(reterr, -EINVAL, "clone: method %d is not one", (int)q->method);
	}

	if ((src = open(q->golden, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return dl_err_set(reterr, negative_errno(), "clone of node '%s': golden '%s': %s",
		    q->node, q->golden, strerror(errno));
	if (fstat(src, &st) < 0 || !S_ISREG(st.st_mode))
		return dl_err_set(reterr, -EINVAL, "clone of node '%s': golden '%s' is not a "
		    "regular file", q->node, q->golden);

	for (unsigned k = 0; k < n_tries; k++) {
		enum disk_clone m = tries[k];

		if (m == DISK_CLONE_QCOW2) {
			/* The qcow2 overlay is made and kept by the root parent (docs/iscsi.md
			 * "qcow2 exports"): nothing to write here. A plain clone of the node's
			 * earlier disk goes, so one node never has two. */
			if ((r = disk_clone_remove(q->dir, q->node, reterr)) < 0)
				return r;
			memset(ret, 0, sizeof(*ret));
			ret->method = DISK_CLONE_QCOW2;
			ret->apparent_bytes = (int64_t)st.st_size;
			ret->ms = mono_ms() - t0;
			return 0;
		}

		if ((dst = mkostemp(tmp, O_CLOEXEC)) < 0)
			return dl_err_set(reterr, negative_errno(), "clone of node '%s': making a "
			    "temp file in '%s': %s", q->node, q->dir, strerror(errno));
		r = make_into(q, m, src, dst, st.st_size);
		if (r == 0 && fsync(dst) < 0)
			r = negative_errno();
		if (r == 0) {
			made = m;
			break;
		}
		/* this attempt's file goes whatever happens next: never a half clone */
		(void)unlink(tmp);
		(void)close(TAKE_FD(dst));
		memcpy(tmp + strlen(tmp) - 6, "XXXXXX", 6);
		if (q->method == DISK_CLONE_AUTO && m == DISK_CLONE_REFLINK && reflink_absent(r)) {
			log_info("event=disk_clone_fallback node=%s from=reflink errno=%d "
			    "why=\"%s\"", q->node, -r, strerror(-r));
			continue;
		}
		return dl_err_set(reterr, r, "clone of node '%s' from '%s' by %s into '%s': %s",
		    q->node, q->golden, disk_clone_to_string(m), q->dir, strerror(-r));
	}
	if (r < 0)
		return dl_err_set(reterr, r, "clone of node '%s': no method worked", q->node);
	if (rename(tmp, final) < 0) {
		r = negative_errno();
		(void)unlink(tmp);
		return dl_err_set(reterr, r, "clone of node '%s': renaming to '%s': %s", q->node,
		    final, strerror(-r));
	}
	/* The rename is durable only once the directory is: until then a crash may bring
	 * back the old name, never a half file at the new one. */
	if ((r = fsync_dir(q->dir)) < 0)
		return dl_err_set(reterr, r, "clone of node '%s': fsync of '%s': %s", q->node,
		    q->dir, strerror(-r));
	memset(ret, 0, sizeof(*ret));
	ret->method = made;
	(void)snprintf(ret->path, sizeof(ret->path), "%s", final);
	if ((r = disk_clone_stat(final, &ret->apparent_bytes, &ret->allocated_bytes)) < 0)
		return dl_err_set(reterr, r, "clone of node '%s': stat of '%s': %s", q->node,
		    final, strerror(-r));
	ret->ms = mono_ms() - t0;
	return 0;
}

int
disk_clone_remove(const char *dir, const char *node, struct dl_err *reterr)
{
	char path[MAX_STORE_PATH];
	int r;

	if (disk_clone_path(dir, node, path, sizeof(path)) < 0)
		return dl_err_set(reterr, -ENAMETOOLONG, "disk_dir '%s' is too long", dir);
	if (unlink(path) < 0) {
		if (errno == ENOENT)
			return 0;
		r = negative_errno();
		return dl_err_set(reterr, r, "removing clone '%s': %s", path, strerror(-r));
	}
	if ((r = fsync_dir(dir)) < 0)
		return dl_err_set(reterr, r, "fsync of '%s': %s", dir, strerror(-r));
	return 0;
}

int
disk_clone_sweep(const char *dir, unsigned *ret_n, struct dl_err *reterr)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	unsigned n = 0;

	if (!d)
		return dl_err_set(reterr, negative_errno(), "disk_dir '%s': %s", dir,
		    strerror(errno));
	while ((de = readdir(d))) {
		if (de->d_name[0] != '.' || !strstr(de->d_name, DISK_CLONE_TEMP_MARK))
			continue;
		if (n >= MAX_DISK_CLONE_SWEEP) {
			log_warning("event=disk_clone_sweep dir=%s why=\"more than %d temp files, "
			    "left alone\"", dir, MAX_DISK_CLONE_SWEEP);
			break;
		}
		if (unlinkat(dirfd(d), de->d_name, 0) == 0) {
			log_notice("event=disk_clone_sweep dir=%s file=%s why=\"half-made clone "
			    "from before\"", dir, de->d_name);
			n++;
		}
	}
	(void)closedir(d);
	if (n)
		(void)fsync_dir(dir); /* the removals are a cleanup: best effort */
	*ret_n = n;
	return 0;
}
