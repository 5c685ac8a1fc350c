/* SPDX-License-Identifier: MIT */
/* The initrd tree hash (docs/boot-protocol.md "The initrd tree hash"), defined once for
 * both of its sides, which must agree to the byte: imagebuild computes it from the
 * entries it writes into the cpio (imagebuild/initrd_tree.c), the node's init from the
 * tree they unpacked into (initramfs/treehash.c). Each side collects its entries; these
 * say which entries count and how they are hashed. libc and sha256.c only: the static
 * init links this file. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sha256.h"

/* Entries one initrd may have: /init, its module list and a few hundred modules. Both
 * sides refuse more (-E2BIG) rather than hash a part. */
#define MAX_TREE_DIGEST_ENTRIES 8192

/* One regular file or symlink of the tree. */
struct tree_digest_entry {
	char *path;     /* absolute: "/init", "/lib/modules/..."; owned by whoever fills it */
	char type;      /* 'f' (a regular file) or 'l' (a symlink) */
	unsigned mode;  /* permission bits (& 07777 is taken); Linux makes a symlink's 0777 */
	uint64_t size;  /* bytes of the contents or of the link target */
	char sha256[SHA256_HEX_SIZE]; /* of the contents or of the link target (not followed) */
};

/* Whether relpath ("proc", "run/x", no leading '/') lies under a top-level mount point the
 * init creates or may use (proc sys dev run newroot tmp): what is there at hash time is
 * not the initrd's. Matched on the first component only, so "lib/run/x" and "runx"
 * count. */
bool tree_digest_excludes(const char *relpath);

/* Sort v[0..n) bytewise by path, then hash one record per entry,
 * "<path>\0<type>\0<mode, 4 octal>\0<size>\0<sha256>\n", as one stream into ret_hex (64
 * lowercase hex and a NUL; an empty tree is the sha256 of nothing). -EEXIST when two
 * entries have one path (the kernel would keep only the last, and the digest could not
 * say which): ret_hex is then untouched and *ret_dup, when not NULL, is the index of one
 * of them in the sorted v. */
int tree_digest_compute(struct tree_digest_entry *v, size_t n,
    char ret_hex[static SHA256_HEX_SIZE], size_t *ret_dup);
