/* SPDX-License-Identifier: MIT */
/* Checking a node's boot receipt (what it measured it booted) against the image version
 * bootsvc served it (docs/boot-protocol.md "The receipt"). Pure functions. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "store/store.h"

/* Does a reported kernel identity match? The kernel's bytes are gone once it runs, so a
 * node reports either the kernel's sha256 (if it could measure it) or /proc/version;
 * the latter matches the bzImage header banner when the release (first word) and the
 * build tail from '#' agree: the banner has no compiler part, /proc/version has. */
bool receipt_kernel_matches(const char *banner, const char *sha256, const char *reported);

/* Compare a receipt with img. initrd is held against img->initrd_tree, or against the
 * initrd file's sha256 when the image has no tree hash. Returns true if all match; else
 * false with a reason "booted <role> <x>, expected <y>" in buf. */
bool receipt_check(const struct image_rec *img, const char *kernel, const char *initrd,
    const char *rootfs, char *buf, size_t size);
