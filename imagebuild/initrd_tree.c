/* SPDX-License-Identifier: MIT */
/* See initrd_tree.h. What an entry contributes, and which count, is lib/tree_digest.c's,
 * shared with the init that computes the same digest on the node. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "initrd_tree.h"
#include "log.h"
#include "macro.h"
#include "relpath.h"
#include "tree_digest.h"

int
initrd_tree_add(struct initrd_tree *t, const char *path, mode_t mode, const void *data,
    size_t len, struct dl_err *reterr)
{
	char q[MAX_LOG_VALUE + 1];
	struct tree_digest_entry *e;
	uint8_t d[SHA256_DIGEST_SIZE];

	if (!relpath_is_plain(path))
		return dl_err_set(reterr, -EINVAL, "initrd: member name '%s' is not a relative path",
		    log_safe(q, sizeof(q), path));
	if ((!S_ISREG(mode) && !S_ISLNK(mode)) || tree_digest_excludes(path))
		return 0;
	if (t->n == MAX_TREE_DIGEST_ENTRIES)
		return dl_err_set(reterr, -E2BIG, "initrd: more than %d files",
		    MAX_TREE_DIGEST_ENTRIES);
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct tree_digest_entry *v = reallocarray(t->v, cap, sizeof(*v));

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

int
initrd_tree_hash(struct initrd_tree *t, char ret[static SHA256_HEX_SIZE], struct dl_err *reterr)
{
	char q[MAX_LOG_VALUE + 1];
	size_t dup = 0;

	if (tree_digest_compute(t->v, t->n, ret, &dup) < 0)
		return dl_err_set(reterr, -EEXIST, "initrd: member '%s' appears twice",
		    log_safe(q, sizeof(q), t->v[dup].path));
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
