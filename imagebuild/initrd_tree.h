/* SPDX-License-Identifier: MIT */
/* The initrd tree hash (docs/boot-protocol.md "The initrd tree hash") of the entries
 * initramfs.c writes into the cpio: the digest the node's init computes again over the
 * unpacked tree (initramfs/treehash.c) and reports in its receipt. */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "err.h"
#include "sha256.h"
#include "tree_digest.h"

/* Embedded; zero it to start. */
struct initrd_tree {
	struct tree_digest_entry *v; /* owned array, and each entry's path */
	size_t n, cap;
};

/* Record one archive entry as the kernel will unpack it. path is the cpio member name
 * ("init", "lib/modules/..."); mode the full st_mode written; data/len the file's bytes or
 * the symlink's target. Directories, device nodes, FIFOs and anything under the init's
 * mount points (proc sys dev run newroot tmp) are not part of the digest and are skipped.
 * Errors: -EINVAL for an empty, absolute or "."/".." path, -E2BIG over
 * MAX_TREE_DIGEST_ENTRIES, -ENOMEM. */
int initrd_tree_add(struct initrd_tree *t, const char *path, mode_t mode, const void *data,
    size_t len, struct dl_err *reterr);

/* Sort t by path and write the digest's 64 hex into ret. Errors: -EEXIST when a path was
 * added twice (the kernel would keep only the last; the digest would not say which). */
int initrd_tree_hash(struct initrd_tree *t, char ret[static SHA256_HEX_SIZE],
    struct dl_err *reterr);

/* Free what t owns and zero it. */
void initrd_tree_done(struct initrd_tree *t);
