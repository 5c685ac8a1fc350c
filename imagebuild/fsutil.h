/* SPDX-License-Identifier: MIT */
/* File-system chores of imagebuild: write whole files, copy and remove trees, hash files.
 * Whole files are read with lib/readfile.h. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

/* Create path (mode) with data, fsync'd; an existing file is replaced. */
int fsutil_write_file(const char *path, const void *data, size_t len, mode_t mode,
    struct dl_err *reterr);

/* mkdir -p with mode for every created component. */
int fsutil_mkdir_p(const char *path, mode_t mode, struct dl_err *reterr);

/* Copy a regular file, preserving mode; dst is replaced. */
int fsutil_copy_file(const char *src, const char *dst, struct dl_err *reterr);

/* Copy the tree under src into dst (created if missing), preserving modes, owners,
 * symlinks, device nodes and mtimes, replacing files that exist in dst: the semantics of
 * `cp -a src/. dst/` without a shell. Never follows symlinks in src. */
int fsutil_copy_tree(const char *src, const char *dst, struct dl_err *reterr);

/* rm -rf path, staying on path's file system (never descends into a mount left behind
 * in a rootfs). A missing path is not an error. */
int fsutil_rm_tree(const char *path, struct dl_err *reterr);

/* sha256 of a file as lowercase hex, and its size. */
int fsutil_sha256_file(const char *path, char hex[static 65], uint64_t *ret_size,
    struct dl_err *reterr);
