/* SPDX-License-Identifier: MIT */
/* Apply a parsed overlay beneath a root directory; see overlay.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cpio.h"
#include "overlay.h"

static int
openat2_in_root(int rootfd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)flags | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	long fd;

	/* glibc 2.36 has no openat2() wrapper */
	fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	return fd < 0 ? -errno : (int)fd;
}

/* Open the parent directory of name (relative to rootfd), creating missing components.
 * Returns the fd and points *ret_base at the last component. */
static int
open_parent(int rootfd, const char *name, const char **ret_base)
{
	char path[MAX_CPIO_NAME + 1];
	char *slash, *p;
	int fd;

	if (strlen(name) > MAX_CPIO_NAME)
		return -ENAMETOOLONG;
	strcpy(path, name);
	slash = strrchr(path, '/');
	*ret_base = slash ? name + (slash - path) + 1 : name;
	if (!slash)
		return openat2_in_root(rootfd, ".", O_PATH | O_DIRECTORY);
	*slash = '\0';
	fd = openat2_in_root(rootfd, path, O_PATH | O_DIRECTORY);
	if (fd != -ENOENT)
		return fd;
	/* mkdir -p, one component at a time, each resolved inside the root again */
	for (p = path;; p = slash + 1) {
		int parent, r;

		slash = strchr(p, '/');
		if (slash)
			*slash = '\0';
		if (p == path) {
			parent = openat2_in_root(rootfd, ".", O_PATH | O_DIRECTORY);
		} else {
			p[-1] = '\0';
			parent = openat2_in_root(rootfd, path, O_PATH | O_DIRECTORY);
			p[-1] = '/';
		}
		if (parent < 0)
			return parent;
		r = mkdirat(parent, p, 0755) < 0 && errno != EEXIST ? -errno : 0;
		(void)close(parent); /* O_PATH fd */
		if (r < 0)
			return r;
		if (!slash)
			break;
		*slash = '/';
	}
	return openat2_in_root(rootfd, path, O_PATH | O_DIRECTORY);
}

struct apply_ctx {
	int rootfd;
};

static int
apply_one(const struct cpio_entry *e, void *userdata, struct init_err *reterr)
{
	struct apply_ctx *ctx = userdata;
	char target[MAX_CPIO_NAME + 1];
	const char *base;
	struct stat st;
	int dirfd, fd, r = 0;

	dirfd = open_parent(ctx->rootfd, e->name, &base);
	if (dirfd < 0)
		return init_err_set(reterr, dirfd, "overlay '%s': parent directory: %s", e->name,
		    strerror(-dirfd));
	/* Replace what the image has there unless both are directories (cpio -u semantics). */
	if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    !(e->type == CPIO_DIR && S_ISDIR(st.st_mode)) &&
	    unlinkat(dirfd, base, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0) {
		r = init_err_set(reterr, -errno, "overlay '%s': cannot replace: %s", e->name,
		    strerror(errno));
		goto out_close_dir;
	}
	switch (e->type) {
	case CPIO_DIR:
		if (mkdirat(dirfd, base, e->perm) < 0 && errno != EEXIST) {
			r = -errno;
			break;
		}
		if (fchmodat(dirfd, base, e->perm, 0) < 0 ||
		    fchownat(dirfd, base, e->uid, e->gid, AT_SYMLINK_NOFOLLOW) < 0)
			r = -errno;
		break;
	case CPIO_SYMLINK:
		memcpy(target, e->data, e->size);
		target[e->size] = '\0';
		if (symlinkat(target, dirfd, base) < 0 ||
		    fchownat(dirfd, base, e->uid, e->gid, AT_SYMLINK_NOFOLLOW) < 0)
			r = -errno;
		break;
	case CPIO_FILE:
		fd = openat(dirfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0) {
			r = -errno;
			break;
		}
		r = init_write_all(fd, e->data, e->size);
		/* owner before mode: fchown clears setuid bits */
		if (r == 0 && (fchown(fd, e->uid, e->gid) < 0 || fchmod(fd, e->perm) < 0))
			r = -errno;
		if (close(fd) < 0 && r == 0)
			r = -errno;
		break;
	}
	if (r < 0)
		(void)init_err_set(reterr, r, "overlay '%s': %s", e->name, strerror(-r));
out_close_dir:
	(void)close(dirfd); /* O_PATH fd */
	return r;
}

int
overlay_apply(const char *root, const uint8_t *buf, size_t len, struct init_err *reterr)
{
	struct apply_ctx ctx;
	int r;

	ctx.rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ctx.rootfd < 0)
		return init_err_set(reterr, -errno, "open %s: %s", root, strerror(errno));
	r = cpio_walk(buf, len, apply_one, &ctx, reterr);
	(void)close(ctx.rootfd); /* O_PATH fd */
	return r;
}
