/* SPDX-License-Identifier: MIT */
/* Disks of kind iscsi (docs/images.md "iSCSI disks"): a golden disk imported as it is
 * (base=disk: raw, or qcow2 converted to raw), or made from a debootstrap rootfs: an MBR
 * disk whose partition 1 is a FAT boot partition (syslinux for BIOS, systemd-boot for
 * UEFI, the kernel and an initramfs that logs in with iBFT's session) and partition 2
 * the ext4 root. The header checks and the layout are pure (a buffer or a size in, a
 * struct out): the fuzzer and the unit tests reach them without tools. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "kernel.h"
#include "kmod.h"

#define DISK_SECTOR 512
/* The first partition starts at 1 MiB: the alignment fdisk, sfdisk and every
 * partitioning tool use, good for 4K-sector and RAID-backed storage alike. */
#define DISK_FIRST_LBA 2048
/* The boot partition: kernel (~8 MB) + initramfs (~10 MB) + loaders, with room for a
 * second kernel when the admin updates the disk in place. 128 MiB stays FAT16. */
#define DISK_BOOT_MIB 128
/* The MBR's disk identifier: fixed, so equal inputs give equal partition tables. */
#define DISK_MBR_ID "0x646c6b31"
/* Bytes of a disk's start read to tell what it is: MBR, GPT header (LBA 1 of 512-byte
 * sectors), qcow2 header (104 bytes in version 3). */
#define DISK_PROBE_BYTES 1024
/* The ext4 label of the root partition; the initramfs finds the root by partition number,
 * the label is for people and debugfs. */
#define DISK_ROOT_LABEL "dlroot"

struct disk_layout {
	uint64_t size;       /* the whole disk, bytes */
	uint64_t boot_start; /* partition 1 (FAT), bytes */
	uint64_t boot_size;
	uint64_t root_start; /* partition 2 (ext4), to the end of the disk */
	uint64_t root_size;
};

/* The layout of a disk of size bytes (a multiple of 1 MiB, at least
 * MIN_RECIPE_DISK_SIZE). -EINVAL otherwise, naming the size. */
int disk_layout_make(uint64_t size, struct disk_layout *ret, struct dl_err *reterr);

/* sfdisk's input for the layout into buf: "label: dos", the fixed id, partition 1 FAT16
 * (type 6, bootable), partition 2 Linux (83). Returns the length, or -E2BIG. */
int disk_sfdisk_script(const struct disk_layout *l, char *buf, size_t size);

enum disk_format {
	DISK_FORMAT_RAW,
	DISK_FORMAT_QCOW2,
};

/* What the first bytes of a source disk (len of them, up to DISK_PROBE_BYTES; fewer when
 * the file is shorter) and its file size say. qcow2: by its magic; refused when it has a
 * backing file, an external data file, encryption, an unknown version or a virtual size
 * of 0. raw: refused when the file is empty, not whole sectors or has neither an MBR
 * boot signature (0x55AA at 510, also GPT's protective MBR) nor a GPT header at LBA 1.
 * -EINVAL with reterr saying why. */
int disk_probe(const uint8_t *buf, size_t len, uint64_t file_size, enum disk_format *ret,
    struct dl_err *reterr);

/* base=disk: src into dst as a raw disk, holes kept: qcow2 through `qemu-img convert
 * -O raw`, raw through `cp --reflink=auto --sparse=always`; the copy is checked again
 * (a qcow2 whose contents are not a disk, a source changed under us). Tool output goes
 * to log. */
int disk_import(const char *src, const char *dst, const char *log, struct dl_err *reterr);

struct disk_make_spec {
	const char *rootfs;   /* the image's root, complete (overlay applied) */
	const char *work;     /* scratch directory */
	const char *log;
	const char *out;      /* disk.img to write */
	uint64_t size;        /* disk_size */
	const struct kernel *k; /* the image's kernel, in rootfs */
	const struct kmod_set *mods; /* the initramfs's modules, resolved in k's tree */
	const char *cmdline;  /* kernel command line */
};

/* The /init script of a made disk's initramfs (the recipe hash covers it). */
const char *disk_init_text(void);

/* Make the disk (docs/images.md "images/disk-debian"). */
int disk_make(const struct disk_make_spec *s, struct dl_err *reterr);
