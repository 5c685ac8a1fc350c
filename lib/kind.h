/* SPDX-License-Identifier: MIT */
/* Image kinds as data (issue #10): one row of one table says everything that differs
 * between kinds of image: the iPXE template bootsvc renders for it, the files (roles) a
 * version of the kind has, the boot phases its node passes and who reports each, and
 * what the node's receipt covers. Code reads the row instead of naming a kind: adding a
 * kind is a row in kind.c, a template in ipxe-scripts/ and their tests
 * (docs/images.md "Image kinds").
 *
 * It lives in lib/ because two programs read it and neither may include the other:
 * imagebuild writes a version's files under the names the row gives and lib/manifest.c
 * holds a manifest's files to its kind's roles when it parses one (bootsvc and
 * imagebuild's store both parse manifests); bootsvc reads the rest. The table is plain
 * constant data with lookups: no I/O, no allocation, nothing from bootsvc. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

/* Rows in the table: bootsvc keeps one loaded template per kind in a fixed array. Room
 * for linux and the kinds the next issues add (xen, kvm, windows-iscsi) and more. */
#define MAX_KINDS 8
/* Longest kind name with its NUL ("windows-iscsi" is 14): the store's kind column. */
#define MAX_KIND_NAME 16
/* Files one version of a kind can have: the store keeps as many per version
 * (MAX_IMAGE_FILES), and each is a URL and two script variables. */
#define MAX_KIND_ROLES 8
/* Longest role name with its NUL: a URL component, a manifest key and the prefix of the
 * script variables <role>_sha256 and <role>_size; the store's MAX_ROLE_NAME. */
#define MAX_KIND_ROLE_NAME 16
/* Phases in one kind's boot: linux passes four; room for a kind with a few more. */
#define MAX_KIND_PHASES 8
/* Fields in one kind's receipt: linux has three, one per role at most. */
#define MAX_KIND_RECEIPT MAX_KIND_ROLES

/* kind_role.flags */
enum {
	KIND_ROLE_REQUIRED = 1 << 0, /* a manifest of the kind must list it */
	KIND_ROLE_SERVED = 1 << 1,   /* GET /images/<id>/<role> serves it */
};

/* Who tells bootsvc that a node reached a phase. */
enum kind_reporter {
	KIND_BY_SCRIPT, /* bootsvc itself, when it serves the node the kind's script */
	KIND_BY_FETCH,  /* bootsvc itself, when the node fetches the phase's fetch_role */
	KIND_BY_INIT,   /* our init (initramfs/), POST /api/v1/nodes/<name>/phase */
	KIND_BY_IMAGE,  /* dl-report in the booted image: phase up with the receipt */
	KIND_BY_TARGET, /* bootsvc itself, when tgtd shows the node's initiator logged in to
	                 * its iSCSI target (kind iscsi: the firmware's sanboot) */
	KIND_BY_PROBE,  /* bootsvc itself, when the booted OS answers the image's up_probe
	                 * (manifest.h): an OS that runs nothing of ours */
	_KIND_REPORTER_MAX,
	_KIND_REPORTER_INVALID = -EINVAL,
};

/* How a receipt field is held against the version bootsvc served. */
enum kind_measure {
	KIND_MEASURE_SHA256,      /* the role's file sha256 */
	KIND_MEASURE_INITRD_TREE, /* the manifest's initrd_tree; for a manifest without
	                           * one, the role's file sha256 (docs/boot-protocol.md) */
	KIND_MEASURE_KERNEL,      /* the kernel banner (/proc/version) or the role's sha256
	                           * (boot/receipt.h receipt_kernel_matches) */
	KIND_MEASURE_HYPERVISOR,  /* "<version> <build id>" as the hypervisor tells its dom0
	                           * (/sys/hypervisor), against the manifest's
	                           * hypervisor_version and hypervisor_build_id */
	_KIND_MEASURE_MAX,
	_KIND_MEASURE_INVALID = -EINVAL,
};

struct kind_role {
	const char *name; /* "kernel": the manifest's files key and the URL's last component */
	const char *file; /* "vmlinuz": its fixed name in the version directory, never taken
	                   * from a request or a manifest */
	unsigned flags;   /* KIND_ROLE_* */
};

struct kind_phase {
	const char *name;       /* a phase bootsvc knows (boot/nodes.c phase_is_valid) */
	enum kind_reporter by;
	const char *fetch_role; /* KIND_BY_FETCH: the role whose fetch marks it; else NULL */
};

struct kind_receipt {
	const char *field; /* its key in the receipt JSON */
	const char *role;  /* the role it proves */
	enum kind_measure measure;
};

/* One row. The arrays end at the first entry without a name; the compiler refuses a
 * row with more entries than they hold. */
struct kind {
	const char *name; /* the manifest's "kind" */
	const char *tmpl; /* its script: <template_dir>/<tmpl>.ipxe, loaded at start-up */
	/* A node up on the kind is a VM host: its libvirt driver ("qemu", "xen"), the scheme
	 * of the URI bootsvc reaches it by (<libvirt>+tls://<address>/system). NULL: not a
	 * VM host. */
	const char *libvirt;
	/* A configuration file the kind's UEFI loader reads, rendered per node by bootsvc
	 * from <template_dir>/<efi_cfg>.cfg and served at /ipxe/<efi_cfg>.cfg (xen.efi reads
	 * xen.cfg). NULL: none. */
	const char *efi_cfg;
	struct kind_role roles[MAX_KIND_ROLES];
	struct kind_phase phases[MAX_KIND_PHASES];     /* in the order a boot passes them */
	struct kind_receipt receipt[MAX_KIND_RECEIPT]; /* checked in this order: the first
	                                                * mismatch is the one reported */
};

/* The rows, for walking the table: kind_at(i) for i < kind_count(); NULL past it. */
size_t kind_count(void);
const struct kind *kind_at(size_t i);
/* The row number of k (a pointer into the table): kind_at(kind_index(k)) == k. */
size_t kind_index(const struct kind *k);

/* The kind named name; NULL when the table has none. */
const struct kind *kind_find(const char *name);
/* The same for input from outside: -EINVAL with "unknown image kind 'name'" in reterr. */
int kind_lookup(const char *name, const struct kind **ret, struct dl_err *reterr);

/* Is s a well-formed role name: [a-z][a-z0-9_]*, shorter than MAX_KIND_ROLE_NAME? */
bool kind_role_name_is_valid(const char *s);
/* k's role named name; NULL when k has none. */
const struct kind_role *kind_role(const struct kind *k, const char *name);
/* The number of k's roles. */
size_t kind_n_roles(const struct kind *k);
/* The table's own copy (static) of role name if some kind has that role; else NULL.
 * What an image URL may name before the image, and so its kind, is known. */
const char *kind_any_role(const char *name);
/* "exactly kernel, initrd and rootfs" (no optional roles), or "kernel and initrd,
 * optionally x or y": for messages. Truncates to size. */
void kind_roles_describe(const struct kind *k, char *buf, size_t size);

/* Does a node booting kind k pass phase (e.g. "imaging": a node that sanboots an iSCSI
 * disk never runs our init, so it never does)? The controller's phase timeouts ask. */
bool kind_passes_phase(const struct kind *k, const char *phase);
/* k's entry for phase; NULL when k does not pass it. */
const struct kind_phase *kind_phase(const struct kind *k, const char *phase);
/* The phase k passes right before / after phase; NULL at either end or when k does not
 * pass phase. */
const char *kind_phase_prev(const struct kind *k, const char *phase);
const char *kind_phase_next(const struct kind *k, const char *phase);
/* The phase bootsvc sets when it serves k's script (linux: "pxe"); NULL for none. */
const char *kind_script_phase(const struct kind *k);
/* The phase a node of kind k reaches by fetching role (linux: "loading" for "kernel");
 * NULL when fetching role marks none. */
const char *kind_fetch_phase(const struct kind *k, const char *role);

/* The number of fields in k's receipt; the index of field in it, or -ENOENT. */
size_t kind_n_receipt(const struct kind *k);
int kind_receipt_index(const struct kind *k, const char *field);
/* "kernel, initrd, rootfs": k's receipt fields in the order of its roles, for messages. */
void kind_receipt_describe(const struct kind *k, char *buf, size_t size);

const char *kind_reporter_to_string(enum kind_reporter r);

/* Does kind k boot from a per-node iSCSI disk (a "disk" role it never serves over
 * HTTP, sanbooted through tgtd)? */
bool kind_is_sanboot(const struct kind *k);

/* Is a node up on kind k a VM host (k->libvirt is set)? */
bool kind_is_vm_host(const struct kind *k);
