/* SPDX-License-Identifier: MIT */
/* See treehash.h. The walk collects the entries; what each contributes, and which count,
 * is lib/tree_digest.c's, shared with imagebuild, which computes the same digest. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tree_digest.h"
#include "treehash.h"

struct walk {
	struct tree_digest_entry *v; /* owned array, and each entry's path */
	size_t n, cap;
	struct init_err *err;
};

static int
add_record(struct walk *w, const char *path, char type, mode_t mode, uint64_t size,
    const uint8_t d[static SHA256_DIGEST_SIZE])
{
	struct tree_digest_entry *e;

	if (w->n == MAX_TREE_DIGEST_ENTRIES)
		return init_err_set(w->err, -E2BIG, "tree hash: more than %d files",
		    MAX_TREE_DIGEST_ENTRIES);
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		struct tree_digest_entry *v = reallocarray(w->v, cap, sizeof(*v));

		if (!v)
			return init_err_set(w->err, -ENOMEM, "tree hash: out of memory");
		w->v = v;
		w->cap = cap;
	}
	e = &w->v[w->n];
	e->path = strdup(path);
	if (!e->path)
		return init_err_set(w->err, -ENOMEM, "tree hash: out of memory");
	e->type = type;
	e->mode = (unsigned)(mode & 07777);
	e->size = size;
	(void)sha256_to_hex(d, e->sha256);
	w->n++;
	return 0;
}

static int
hash_file(struct walk *w, int dfd, const char *name, const char *path)
{
	uint8_t d[SHA256_DIGEST_SIZE];
	uint64_t size;
	struct stat st;
	int fd, r;

	/* O_NOFOLLOW and fstat of the fd: it is the file lstat saw, not what a name swap
	 * put there since. */
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return init_err_set(w->err, -errno, "tree hash: open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		r = init_err_set(w->err, -errno, "tree hash: stat %s: %s", path, strerror(errno));
		goto out_close_fd;
	}
	if (!S_ISREG(st.st_mode)) {
		r = init_err_set(w->err, -ESTALE, "tree hash: %s changed while hashing", path);
		goto out_close_fd;
	}
	r = sha256_fd(fd, d, &size);
	if (r < 0) {
		r = init_err_set(w->err, r, "tree hash: read %s: %s", path, strerror(-r));
		goto out_close_fd;
	}
	r = add_record(w, path, 'f', st.st_mode, size, d);
out_close_fd:
	(void)close(fd); /* read-only */
	return r;
}

static int
hash_link(struct walk *w, int dfd, const char *name, const char *path, mode_t mode)
{
	char target[PATH_MAX];
	uint8_t d[SHA256_DIGEST_SIZE];
	ssize_t n;

	n = readlinkat(dfd, name, target, sizeof(target));
	if (n < 0)
		return init_err_set(w->err, -errno, "tree hash: readlink %s: %s", path,
		    strerror(errno));
	if ((size_t)n >= sizeof(target))
		return init_err_set(w->err, -E2BIG, "tree hash: link %s is too long", path);
	sha256_buf(target, (size_t)n, d);
	return add_record(w, path, 'l', mode, (uint64_t)n, d);
}

/* path holds the directory's path ("" for root), len its length; children are appended
 * in place. Takes over dfd. */
static int
walk_dir(struct walk *w, int dfd, char path[static PATH_MAX], size_t len, unsigned depth)
{
	struct dirent *de;
	DIR *dir;
	int r = 0;

	dir = fdopendir(dfd);
	if (!dir) {
		r = init_err_set(w->err, -errno, "tree hash: %s/: %s", path, strerror(errno));
		(void)close(dfd);
		return r;
	}
	for (;;) {
		const char *name;
		struct stat st;
		size_t nlen;

		errno = 0;
		de = readdir(dir);
		if (!de) {
			if (errno)
				r = init_err_set(w->err, -errno, "tree hash: read %s/: %s", path,
				    strerror(errno));
			break;
		}
		name = de->d_name;
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		if (depth == 0 && tree_digest_excludes(name))
			continue;
		nlen = strlen(name);
		if (len + 1 + nlen >= PATH_MAX) {
			r = init_err_set(w->err, -E2BIG, "tree hash: path under %s/ too long", path);
			break;
		}
		path[len] = '/';
		memcpy(path + len + 1, name, nlen + 1);
		if (fstatat(dirfd(dir), name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = init_err_set(w->err, -errno, "tree hash: stat %s: %s", path, strerror(errno));
			break;
		}
		if (S_ISREG(st.st_mode)) {
			r = hash_file(w, dirfd(dir), name, path);
		} else if (S_ISLNK(st.st_mode)) {
			r = hash_link(w, dirfd(dir), name, path, st.st_mode);
		} else if (S_ISDIR(st.st_mode)) {
			int cfd;

			if (depth + 1 > MAX_TREE_DEPTH) {
				r = init_err_set(w->err, -ELOOP, "tree hash: %s is deeper than %d",
				    path, MAX_TREE_DEPTH);
				break;
			}
			cfd = openat(dirfd(dir), name,
			    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (cfd < 0) {
				r = init_err_set(w->err, -errno, "tree hash: open %s: %s", path,
				    strerror(errno));
				break;
			}
			/* Recursion depth is bounded by MAX_TREE_DEPTH above. */
			r = walk_dir(w, cfd, path, len + 1 + nlen, depth + 1);
		}
		/* devices, FIFOs and sockets are not content */
		path[len] = '\0';
		if (r < 0)
			break;
	}
	(void)closedir(dir); /* read-only */
	return r;
}

int
treehash_compute(const char *root, char ret_hex[static SHA256_HEX_SIZE],
    struct init_err *reterr)
{
	static char path[PATH_MAX]; /* static: PID 1's stack stays small */
	struct walk w = { .err = reterr };
	int fd, r;

	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return init_err_set(reterr, -errno, "tree hash: open %s: %s", root, strerror(errno));
	path[0] = '\0';
	r = walk_dir(&w, fd, path, 0, 0);
	if (r < 0)
		goto out_free;
	/* a walk names each path once: EEXIST would be a broken file system */
	if (tree_digest_compute(w.v, w.n, ret_hex, NULL) < 0)
		r = init_err_set(reterr, -EEXIST, "tree hash: a path appears twice");
out_free:
	for (size_t i = 0; i < w.n; i++)
		free(w.v[i].path);
	free(w.v);
	return r;
}
