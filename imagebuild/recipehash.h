/* SPDX-License-Identifier: MIT */
/* The recipe hash (manifest recipe_sha256): what decides whether a build is needed. */
#pragma once

#include "err.h"
#include "recipe.h"
#include "sha256.h"

/* sha256 over, in this order: image.conf; the overlay and templates trees (each entry's
 * kind, relative path, mode and content or link target, paths in byte order); the base's
 * source (a file's bytes or a directory tree); and the init binary, because it is packed
 * into the initrd: a new init must give a new image (kind iscsi: the disk initramfs's
 * /init script instead, as our init is not in the disk). Missing overlay/templates dirs count
 * as empty. Errors: -errno with reterr naming the file. */
int recipehash_compute(const struct recipe *r, const char *init_path,
    char hex[static SHA256_HEX_SIZE], struct dl_err *reterr);
