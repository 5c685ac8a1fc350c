/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tree_digest.h"

/* The init mounts on these (initramfs/mount.c, switchroot.c) or may. */
static const char *const excluded[] = { "proc", "sys", "dev", "run", "newroot", "tmp" };

bool
tree_digest_excludes(const char *relpath)
{
	size_t first = strcspn(relpath, "/");

	for (size_t i = 0; i < sizeof(excluded) / sizeof(excluded[0]); i++)
		if (strlen(excluded[i]) == first && strncmp(relpath, excluded[i], first) == 0)
			return true;
	return false;
}

static int
cmp_entry(const void *a, const void *b)
{
	/* strcmp compares as unsigned char: the bytewise order of the definition */
	return strcmp(((const struct tree_digest_entry *)a)->path,
	    ((const struct tree_digest_entry *)b)->path);
}

static void
update_record(struct sha256_ctx *c, const struct tree_digest_entry *e)
{
	/* type, 4 octal digits, 20 decimal digits at most and three NULs: always fits, and
	 * no assert() here, since the node's PID 1 runs this */
	char tail[48];
	int n;

	/* the path's own NUL is the first separator */
	sha256_update(c, e->path, strlen(e->path) + 1);
	n = snprintf(tail, sizeof(tail), "%c%c%04o%c%llu%c", e->type, '\0', e->mode & 07777,
	    '\0', (unsigned long long)e->size, '\0');
	sha256_update(c, tail, (size_t)n);
	sha256_update(c, e->sha256, SHA256_HEX_SIZE - 1);
	sha256_update(c, "\n", 1);
}

int
tree_digest_compute(struct tree_digest_entry *v, size_t n,
    char ret_hex[static SHA256_HEX_SIZE], size_t *ret_dup)
{
	struct sha256_ctx c;
	uint8_t d[SHA256_DIGEST_SIZE];

	if (n)
		qsort(v, n, sizeof(*v), cmp_entry);
	for (size_t i = 1; i < n; i++)
		if (strcmp(v[i - 1].path, v[i].path) == 0) {
			if (ret_dup)
				*ret_dup = i;
			return -EEXIST;
		}
	sha256_init(&c);
	for (size_t i = 0; i < n; i++)
		update_record(&c, &v[i]);
	sha256_final(&c, d);
	(void)sha256_to_hex(d, ret_hex);
	return 0;
}
