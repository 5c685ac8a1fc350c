/* SPDX-License-Identifier: MIT */
/* newc ("070701") cpio reader for the per-node overlay. Pure and bounds-checked: the
 * archive comes over the network (CONVENTIONS §8). Applying entries is overlay.c's job. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* Longest member name we accept; overlay paths are short (etc/diskless/node.conf). */
#define MAX_CPIO_NAME 1024
/* Most members we accept: an overlay is a handful of files plus templates. */
#define MAX_CPIO_ENTRIES 4096

enum cpio_type {
	CPIO_FILE,
	CPIO_DIR,
	CPIO_SYMLINK,
};

struct cpio_entry {
	const char *name;          /* relative, normalised ("./" stripped), NUL-terminated,
	                            * borrowed from the archive buffer */
	enum cpio_type type;
	uint32_t perm;             /* mode & 07777 */
	uint32_t uid, gid;
	uint64_t mtime;
	const uint8_t *data;       /* file contents or symlink target (not NUL-terminated) */
	size_t size;
};

/* Called for each member in archive order; a negative return stops the walk and is
 * returned by cpio_walk(). */
typedef int (*cpio_entry_fn)(const struct cpio_entry *e, void *userdata, struct init_err *reterr);

/* Walk a newc archive in buf (len bytes). Every member is checked before fn sees it: magic
 * 070701 or 070702, hex fields, name NUL-terminated inside the header's namesize, data
 * within the buffer, name relative without '..' or empty components, type regular file,
 * directory or symlink only, symlink target 1..MAX_CPIO_NAME bytes without NUL. The root
 * entry "." is skipped. The archive must end with a TRAILER!!! member.
 * Returns the number of members passed to fn, or -EINVAL/-EBADMSG with reterr naming the
 * member and the problem. */
int cpio_walk(const uint8_t *buf, size_t len, cpio_entry_fn fn, void *userdata,
    struct init_err *reterr);

/* The check cpio_walk() applies to names (after stripping "./"); exposed for tests. */
int cpio_name_check(const char *name);
