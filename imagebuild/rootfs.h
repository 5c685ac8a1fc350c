/* SPDX-License-Identifier: MIT */
/* The image's root file system, made from the recipe's base in a work directory, then
 * given what diskless needs inside an image (the up-reporter and its unit). */
#pragma once

#include <stdbool.h>

#include "err.h"
#include "recipe.h"

struct rootfs_ctx {
	const char *rootfs;  /* empty directory to fill */
	const char *workdir; /* scratch space (downloaded debs, unpacked archives) */
	const char *log;     /* tool output is appended here */
	const char *mirror;  /* debootstrap mirror, already chosen */
	bool *ret_mounted;   /* set when rootfs is an overlay mount: the caller unmounts it */
};

/* Make the base: debootstrap, tarball, oci, directory or busybox. */
int rootfs_create(const struct recipe *r, const struct rootfs_ctx *c, struct dl_err *reterr);

/* Copy the recipe's overlay directory (if it exists) over the rootfs. */
int rootfs_apply_overlay(const struct recipe *r, const char *rootfs, struct dl_err *reterr);

/* Install init as /usr/lib/diskless/dl-report, and for a systemd rootfs the unit
 * diskless-up.service, enabled in multi-user.target (docs/boot-protocol.md). */
int rootfs_install_reporter(const char *rootfs, const char *init, struct dl_err *reterr);

/* Copy kernel modules (moddir, ".../lib/modules/<kver>") into the rootfs unless it has
 * them already, so an image booted with a kernel it did not ship can load modules. */
int rootfs_install_modules(const char *rootfs, const char *moddir, const char *kver,
    struct dl_err *reterr);
