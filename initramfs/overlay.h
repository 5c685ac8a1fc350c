/* SPDX-License-Identifier: MIT */
/* Lay the node's overlay cpio over the new root. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* Apply the newc archive buf (len bytes, see cpio_walk()) beneath the directory root
 * (a path, e.g. "/newroot"). Parent directories are created (0755) as needed; existing
 * non-directories are replaced; paths are resolved with openat2(RESOLVE_IN_ROOT), so a
 * symlink in the image (etc/resolv.conf -> /run/...) cannot lead outside root.
 * Returns the number of members applied or -errno with reterr naming the member. */
int overlay_apply(const char *root, const uint8_t *buf, size_t len, struct init_err *reterr);
