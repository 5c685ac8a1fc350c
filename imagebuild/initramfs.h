/* SPDX-License-Identifier: MIT */
/* The initrd (docs/boot-protocol.md "The initrd"): a newc cpio written with libarchive,
 * holding our static /init, the resolved modules (decompressed) and their load order. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "err.h"
#include "kmod.h"
#include "sha256.h"

/* A file packed as is (after the modules): a tool of the initrd and its libraries. */
struct initramfs_file {
	const char *src;  /* a regular file on the build host */
	const char *dest; /* relative path in the initrd ("sbin/iscsistart") */
	mode_t mode;      /* permission bits */
};

/* Largest extra file: a static busybox is ~2 MB, a libc ~2 MB. */
#define MAX_INITRAMFS_FILE (64u * 1024 * 1024)

struct initramfs_spec {
	const char *init;           /* the static init binary (build/init) */
	const char *kver;           /* modules go under /lib/modules/<kver>/ */
	const struct kmod_set *mods;
	bool zstd;                  /* zstd if the kernel can unpack it, else gzip */
	const struct initramfs_file *files; /* more files (iscsi disks' initrd); may be NULL */
	size_t n_files;
};

/* Write the compressed cpio to out (created or replaced). Every entry has uid 0, gid 0
 * and mtime 0, so equal inputs give an equal initrd. On success ret_tree gets the initrd
 * tree hash of the entries written (initrd_tree.h), for the manifest's initrd_tree.
 * Errors: -errno with reterr naming the file or the libarchive message. */
int initramfs_write(const char *out, const struct initramfs_spec *s,
    char ret_tree[static SHA256_HEX_SIZE], struct dl_err *reterr);
