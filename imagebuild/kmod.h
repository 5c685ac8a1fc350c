/* SPDX-License-Identifier: MIT */
/* Which kernel modules the initrd carries: named modules plus every dependency, in load
 * order, looked up with libkmod in the image's own kernel tree (modules.dep and friends,
 * as written by depmod). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

/* Modules the init needs to reach its image: NICs (whichever this kernel has), then the
 * block and file-system stack it mounts the rootfs with (docs/boot-protocol.md). */
#define KMOD_NIC_MODULES "virtio_net", "virtio_pci", "e1000", "e1000e", "igb", "ixgbe", "mlx5_core"
#define KMOD_ROOT_MODULES "loop", "squashfs", "overlay"

/* An iSCSI disk's initramfs (imagebuild/disk.c): iBFT, the initiator (crc32c: without
 * it the login fails on data digests' setup), the SCSI disk and the root's file system;
 * virtio_blk only so the same disk also boots as a local VM disk. */
#define KMOD_ISCSI_MODULES "iscsi_ibft", "crc32c_generic", "iscsi_tcp", "sd_mod", "ext4"
#define KMOD_ISCSI_OPTIONAL "virtio_blk", "virtio_scsi"

struct kmod_mod {
	char *name; /* owned; as libkmod names it ("virtio_net") */
	char *path; /* owned; absolute path of the .ko[.xz|.zst|.gz] in the tree */
	char *rel;  /* owned; path relative to the modules dir ("kernel/fs/...") */
};

struct kmod_set {
	struct kmod_mod *m; /* owned; dependencies before the modules that need them */
	size_t n;
};

/* Resolve names against moddir (".../lib/modules/<kver>"). A name that this kernel does
 * not have is skipped if optional is true and an error otherwise; a built-in module needs
 * no file and is skipped either way. Appends to *set (which may already hold modules from
 * an earlier call; none is added twice). Errors: -ENOENT (unknown module, reterr names it),
 * -EIO (no modules.dep: depmod never ran), -ENOMEM. */
int kmod_resolve(const char *moddir, const char *const *names, size_t n, bool optional,
    struct kmod_set *set, struct dl_err *reterr);

/* True if set holds a module by that name. */
bool kmod_set_has(const struct kmod_set *set, const char *name);

void kmod_set_done(struct kmod_set *set);
