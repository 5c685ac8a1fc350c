/* SPDX-License-Identifier: MIT */
/* See initrd_tree.h. Each entry becomes the record
 * "<path>\0<f|l>\0<mode, 4 octal>\0<size>\0<sha256 hex>\n"; the records, sorted bytewise
 * by path, are hashed as one stream. */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "initrd_tree.h"
#include "log.h"
#include "macro.h"

/* The init mounts on these before it hashes (initramfs/treehash.c has the same list). */
static const char *const excluded[] = { "proc", "sys", "dev", "run", "newroot", "tmp" };

static bool
is_excluded(const char *path)
{
	size_t first = strcspn(path, "/");

	for (size_t i = 0; i < ELEMENTSOF(excluded); i++)
		if (strlen(excluded[i]) == first && strncmp(path, excluded[i], first) == 0)
			return true;
	return false;
}

static bool
path_is_valid(const char *p)
{
	if (!*p || *p == '/')
		return false;
	for (;;) {
		size_t len = strcspn(p, "/");

		if (len == 0 || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		if (!p[len])
			return true;
		p += len + 1;
	}
}

int
initrd_tree_add(struct initrd_tree *t, const char *path, mode_t mode, const void *data,
    size_t len, struct dl_err *reterr)
{
	char q[MAX_LOG_VALUE + 1];
	struct initrd_tree_entry *e;
	uint8_t d[SHA256_DIGEST_SIZE];

	if (!path_is_valid(path))
		return dl_err_set(reterr, -EINVAL, "initrd: member name '%s' is not a relative path",
		    log_safe(q, sizeof(q), path));
	if ((!S_ISREG(mode) && !S_ISLNK(mode)) || is_excluded(path))
		return 0;
	if (t->n == MAX_INITRD_TREE_ENTRIES)
		return dl_err_set(reterr, -E2BIG, "initrd: more than %d files",
		    MAX_INITRD_TREE_ENTRIES);
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct initrd_tree_entry *v = reallocarray(t->v, cap, sizeof(*v));

		if (!v)
			return dl_err_set(reterr, -ENOMEM, "out of memory");
		t->v = v;
		t->cap = cap;
	}
	e = &t->v[t->n];
	if (asprintf(&e->path, "/%s", path) < 0)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	e->type = S_ISREG(mode) ? 'f' : 'l';
	/* The kernel's initramfs unpacker fchmod()s files to the archive's mode, umask
	 * notwithstanding; a symlink is always 0777 on Linux whatever the archive says. */
	e->mode = S_ISREG(mode) ? (unsigned)(mode & 07777) : 0777;
	e->size = len;
	sha256_buf(len ? data : "", len, d); /* memcpy(x, NULL, 0) is still UB */
	(void)sha256_to_hex(d, e->sha256);
	t->n++;
	return 0;
}

static int
cmp_entry(const void *a, const void *b)
{
	/* strcmp compares as unsigned char: the bytewise order of the definition */
	return strcmp(((const struct initrd_tree_entry *)a)->path,
	    ((const struct initrd_tree_entry *)b)->path);
}

int
initrd_tree_hash(struct initrd_tree *t, char ret[static SHA256_HEX_SIZE], struct dl_err *reterr)
{
	char q[MAX_LOG_VALUE + 1];
	struct sha256_ctx c;
	uint8_t d[SHA256_DIGEST_SIZE];

	if (t->n)
		qsort(t->v, t->n, sizeof(*t->v), cmp_entry);
	sha256_init(&c);
	for (size_t i = 0; i < t->n; i++) {
		const struct initrd_tree_entry *e = &t->v[i];
		char tail[64];
		int n;

		if (i > 0 && streq(t->v[i - 1].path, e->path))
			return dl_err_set(reterr, -EEXIST, "initrd: member '%s' appears twice",
			    log_safe(q, sizeof(q), e->path));
		/* the path's own NUL is the first separator */
		sha256_update(&c, e->path, strlen(e->path) + 1);
		n = snprintf(tail, sizeof(tail), "%c%c%04o%c%llu%c", e->type, '\0', e->mode, '\0',
		    (unsigned long long)e->size, '\0');
		assert(n > 0 && (size_t)n < sizeof(tail));
		sha256_update(&c, tail, (size_t)n);
		sha256_update(&c, e->sha256, SHA256_HEX_SIZE - 1);
		sha256_update(&c, "\n", 1);
	}
	sha256_final(&c, d);
	(void)sha256_to_hex(d, ret);
	return 0;
}

void
initrd_tree_done(struct initrd_tree *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].path);
	free(t->v);
	memset(t, 0, sizeof(*t));
}
