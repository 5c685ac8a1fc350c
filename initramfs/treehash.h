/* SPDX-License-Identifier: MIT */
/* The initrd tree hash (docs/boot-protocol.md "The initrd tree hash"): a digest of the
 * initramfs's contents as the running init sees them. Linux 6.1 has no
 * /sys/firmware/initrd, so the archive's bytes cannot be hashed after unpacking; the tree
 * they unpacked into can, and imagebuild computes the same digest from the entries it
 * writes (imagebuild/initrd_tree.c). */
#pragma once

#include "sha256.h"
#include "tree_digest.h"
#include "util.h"

/* Deepest directory nesting walked below root. The initrd's deepest file is a module,
 * lib/modules/<kver>/kernel/drivers/net/ethernet/<vendor>/<driver>/x.ko, 9 levels. */
#define MAX_TREE_DEPTH 16

/* Hash the tree under root ("/" in PID 1): every regular file and symlink, by path;
 * directories, devices, FIFOs, sockets and the top-level proc sys dev run newroot tmp
 * are left out. Writes 64 lowercase hex and a NUL into ret_hex on success.
 * Errors: -errno of a failed open/read/stat (reterr names the path), -ELOOP deeper than
 * MAX_TREE_DEPTH, -E2BIG over MAX_TREE_DIGEST_ENTRIES or a path over PATH_MAX, -ENOMEM. */
int treehash_compute(const char *root, char ret_hex[static SHA256_HEX_SIZE],
    struct init_err *reterr);
