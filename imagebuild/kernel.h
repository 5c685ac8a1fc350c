/* SPDX-License-Identifier: MIT */
/* The image's kernel: found in a tree laid out like a Debian root (boot/vmlinuz-<kver>,
 * lib/modules/<kver>/), described by its bzImage header and its config. */
#pragma once

#include <stdbool.h>

#include "err.h"
#include "manifest.h"

struct kernel {
	char *kver;    /* owned: "6.1.0-56-amd64" */
	char *vmlinuz; /* owned: <root>/boot/vmlinuz-<kver> */
	char *moddir;  /* owned: <root>/lib/modules/<kver> */
	char *config;  /* owned: <root>/boot/config-<kver>, NULL if the tree has none */
	char banner[MAX_KERNEL_BANNER + 1]; /* the bzImage header's kernel_version string */
	bool rd_zstd;  /* CONFIG_RD_ZSTD=y: the kernel unpacks a zstd initramfs */
};

/* Find the newest kernel (by version order) in root that has both a vmlinuz and a
 * modules dir, read its banner and config. Errors: -ENOENT (reterr says what is
 * missing), -EINVAL (not a bzImage), -ENOMEM. */
int kernel_find(const char *root, struct kernel *ret, struct dl_err *reterr);

void kernel_done(struct kernel *k);
