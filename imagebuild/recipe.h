/* SPDX-License-Identifier: MIT */
/* images/<name>/image.conf: the recipe, parsed into a struct (docs/images.md). Parsing is
 * pure (a buffer in, a struct out) so the fuzzer reaches all of it; recipe_load() adds
 * the file system: reading the file and resolving paths against the recipe directory. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "kind.h"

/* Packages or modules one recipe may list: a whole Debian desktop is ~2000 packages. */
#define MAX_RECIPE_LIST 4096
/* Largest image.conf read: a recipe is a screenful; anything larger is a wrong path. */
#define MAX_RECIPE_FILE (64 * 1024)
/* Longest single value (a path, a mirror URL, a command line). */
#define MAX_RECIPE_VALUE 1024
/* Longest dom0_mem ("1024M", "4G"): Xen's size syntax, digits and a unit. */
#define MAX_DOM0_MEM 16
/* dom0_vcpus and guest_reserve_cpus: Xen 4.17's NR_CPUS on amd64 is 4096. */
#define MAX_RECIPE_CPUS 4096
/* guest_reserve_mib: 16 TiB, more than any host this runs on. */
#define MAX_RECIPE_RESERVE_MIB (16ULL * 1024 * 1024)
/* disk_size of a built iSCSI disk: at least room for the boot partition (DISK_BOOT_MIB)
 * and a minbase rootfs; at most 2 TiB, the most an MBR partition table addresses. */
#define MIN_RECIPE_DISK_SIZE (256ULL << 20)
#define MAX_RECIPE_DISK_SIZE (2ULL << 40)

enum recipe_base {
	RECIPE_BASE_DEBOOTSTRAP,
	RECIPE_BASE_TARBALL,
	RECIPE_BASE_OCI,
	RECIPE_BASE_DIRECTORY,
	RECIPE_BASE_BUSYBOX,
	RECIPE_BASE_DISK,     /* a golden disk the admin provides (raw or qcow2): kind iscsi */
	_RECIPE_BASE_MAX,
	_RECIPE_BASE_INVALID = -EINVAL,
};

struct strv {
	char **v; /* owned, each owned */
	size_t n;
};

struct recipe {
	char *name;          /* required; an image name */
	enum recipe_base base; /* required */
	char *suite;         /* debootstrap; default "bookworm" */
	char *variant;       /* debootstrap; default "minbase" */
	char *mirror;        /* debootstrap; NULL: from the machine's apt sources */
	struct strv packages;
	char *source;        /* tarball, oci, directory: a path (relative to the recipe dir) */
	char *kernel;        /* a package name or a kernel tree path (contains '/'); NULL: default */
	char *cmdline;       /* extra kernel arguments; default "console=ttyS0 quiet" */
	struct strv modules; /* extra initrd modules */
	char *overlay;       /* default "overlay" */
	char *templates;     /* default "templates" */
	const struct kind *kind; /* borrowed, the kind table's row; default linux */
	/* xen only (required there): Xen's dom0_mem=<m>,max:<m> and dom0_max_vcpus=<n>,
	 * and more of Xen's own command line (optional). */
	char *dom0_mem;
	unsigned dom0_vcpus;
	char *xen_cmdline;
	/* VM hosts only (kvm, xen): what the host keeps for itself, taken from what it
	 * reports free for guests (/etc/diskless/vmhost.conf in the image). */
	uint64_t guest_reserve_mib;
	unsigned guest_reserve_cpus;
	/* kind iscsi only: the TCP port the booted OS answers on ("tcp:<port>", the
	 * manifest's up_probe; NULL: none), and for base=debootstrap the size of the disk
	 * imagebuild makes (bytes, a multiple of 1 MiB; required there). */
	char *up_probe;
	uint64_t disk_size;
	char *dir;           /* recipe_load(): the recipe directory, absolute */
};

const char *recipe_base_to_string(enum recipe_base b);
enum recipe_base recipe_base_from_string(const char *s);

/* True if kernel names a kernel tree (a path) rather than a Debian package. */
bool recipe_kernel_is_path(const struct recipe *r);

/* Parse a size: digits and an optional unit K, M, G or T (powers of 1024), the result
 * a whole number of MiB in [MIN_RECIPE_DISK_SIZE, MAX_RECIPE_DISK_SIZE].
 * -EINVAL with reterr naming the value. */
int recipe_parse_disk_size(const char *s, uint64_t *ret, struct dl_err *reterr);

/* Parse len bytes of image.conf into *ret, then check the keys fit together (a source
 * for tarball/oci/directory, suite only for debootstrap, ...). fname prefixes messages:
 * "image.conf:3: unknown key 'x'". *ret is written only on success.
 * Errors: -EINVAL, -E2BIG, -ENOMEM. */
int recipe_parse(const char *fname, const char *buf, size_t len, struct recipe *ret,
    struct dl_err *reterr);

/* Xen's own command line for a xen recipe: "dom0_mem=<m>,max:<m> dom0_max_vcpus=<n>
 * [xen_cmdline]" into a new string at *ret (the manifest's hypervisor_cmdline).
 * -EINVAL for a recipe that is not xen, -ENOMEM. */
int recipe_hypervisor_cmdline(const struct recipe *r, char **ret);

/* Read <dir>/image.conf and parse it; sets ret->dir to dir made absolute. */
int recipe_load(const char *dir, struct recipe *ret, struct dl_err *reterr);

/* Free what r owns and zero it; r may be zeroed or half-built. */
void recipe_done(struct recipe *r);
void strv_done(struct strv *s);
