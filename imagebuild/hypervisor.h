/* SPDX-License-Identifier: MIT */
/* The hypervisor of a xen image (issue 12): Debian's xen-hypervisor package puts
 * /boot/xen-<ver>-amd64.gz (the multiboot ELF, gzipped) and xen-<ver>-amd64.efi into the
 * rootfs. The version gets them as its `xen` file, gunzipped because Debian 12's iPXE
 * (2019) cannot load a gzip image, and `xen.efi`; the manifest gets what dom0 will read
 * back from /sys/hypervisor: the upstream version and the GNU build id. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "manifest.h"

/* The gunzipped Xen 4.17 is 2.5 MB; a hypervisor this size is not one. */
#define MAX_HYPERVISOR_SIZE (64 * 1024 * 1024)
/* dpkg's status of a full image is a few MB; bigger is not a status file. */
#define MAX_DPKG_STATUS (64 * 1024 * 1024)

struct hypervisor_info {
	char version[MAX_HYPERVISOR_VERSION + 1];   /* "4.17.7" */
	char build_id[MAX_HYPERVISOR_BUILD_ID + 1]; /* lowercase hex */
	char efi_build_id[MAX_HYPERVISOR_BUILD_ID + 1]; /* xen.efi's, lowercase hex */
	char package[129];                          /* "xen-hypervisor-4.17-amd64" */
};

/* The GNU build id (an NT_GNU_BUILD_ID note named "GNU") of the ELF image buf (ELF32 or
 * ELF64, little-endian), from its PT_NOTE segments, else its SHT_NOTE sections, as
 * lowercase hex into hex (size >= 2 * MAX_HYPERVISOR_BUILD_ID / 2 + 1). Every offset
 * and size is checked against len. -EINVAL (not an ELF, a damaged header or note),
 * -ENOENT (no build id note), -E2BIG (an id longer than MAX_HYPERVISOR_BUILD_ID hex). */
int hypervisor_elf_build_id(const uint8_t *buf, size_t len, char *hex, size_t size,
    struct dl_err *reterr);

/* The build id Xen reports when booted from the PE/COFF image buf (xen.efi): its
 * ".buildid" section holds a debug directory entry of type CodeView whose record is
 * "RSDS", a 16-byte GUID and a 4-byte age; Xen returns the GUID (what a dom0 booted by
 * Debian's xen.efi read), 16 bytes, written as lowercase hex into hex. Offsets checked against len.
 * -EINVAL (not a PE image, damaged headers), -ENOENT (no .buildid or no RSDS record). */
int hypervisor_pe_build_id(const uint8_t *buf, size_t len, char *hex, size_t size,
    struct dl_err *reterr);

/* In dpkg's status file (len bytes), the one installed package whose name starts with
 * prefix: its name into ret->package and the upstream version's leading numeric release
 * ("4.17.7+13-g2445b30a44-0+deb12u1" -> "4.17.7", the epoch dropped) into ret->version.
 * -ENOENT (none installed), -EINVAL (two of them, or a version without digits). */
int hypervisor_dpkg_version(const char *status, size_t len, const char *prefix,
    struct hypervisor_info *ret, struct dl_err *reterr);

/* For a xen image: find the one /boot/xen-*.gz and /boot/xen-*.efi in rootfs (regular
 * files), gunzip the first to out_xen, copy the second to out_efi, and fill *ret from the
 * ELF note and the dpkg status. Errors name the file. */
int hypervisor_xen_extract(const char *rootfs, const char *out_xen, const char *out_efi,
    struct hypervisor_info *ret, struct dl_err *reterr);
