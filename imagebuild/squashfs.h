/* SPDX-License-Identifier: MIT */
/* rootfs.squashfs: mksquashfs with zstd (docs/boot-protocol.md). */
#pragma once

#include "err.h"

#define MKSQUASHFS "/usr/bin/mksquashfs"

/* Pack rootfs into out (replaced); tool output appended to log. */
int squashfs_make(const char *rootfs, const char *out, const char *log, struct dl_err *reterr);
