/* SPDX-License-Identifier: MIT */
/* The image manifest (docs/boot-protocol.md "manifest.json"): parsed strictly into a
 * struct, and written back in one canonical form whose sha256 is the image's content id.
 * The id is computed from the struct, never from the bytes read, so whitespace or key
 * order in a file cannot give one image two ids. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "kind.h"
#include "sha256.h"

/* A manifest is a few hundred bytes; anything near this is not one of ours. */
#define MAX_MANIFEST_SIZE (1024 * 1024)
/* Per-node template files one image may carry; each costs a render per node boot. */
#define MAX_MANIFEST_TEMPLATES 256
/* Longest template path (relative, under templates/): PATH_MAX-ish paths are not config. */
#define MAX_TEMPLATE_PATH 255
/* Longest kernel command line the manifest adds: the x86 boot protocol allows 2048 in
 * total and the linux template adds ~400 bytes of dl.* arguments. */
#define MAX_MANIFEST_CMDLINE 1024
/* Longest kernel_banner ("Linux version ... (gcc ...) #1 SMP ..."), as in the bzImage. */
#define MAX_KERNEL_BANNER 256
/* Longest kernel release ("6.1.0-56-amd64"): utsname's release field is 65 bytes. */
#define MAX_KERNEL_VERSION 64

/* Longest hypervisor_version ("4.17.7"; Xen's extra can carry a "-rc" or "-pre"). */
#define MAX_HYPERVISOR_VERSION 32
/* Longest hypervisor_build_id: a GNU build id is a 20-byte SHA-1 in practice; the ELF
 * note allows any length, 64 bytes (128 hex) is room for a SHA-512 truncated to 64. */
#define MAX_HYPERVISOR_BUILD_ID 128
/* Longest hypervisor_cmdline: Xen's own command line (COMMAND_LINE_SIZE is 1024). */
#define MAX_HYPERVISOR_CMDLINE 1023

#define MANIFEST_FORMAT 1

/* Files one version lists: as many as a kind can have (kind.h). */
#define MAX_MANIFEST_FILES MAX_KIND_ROLES

/* A file of the version: the role its kind gives it ("kernel"), never a path. Its name in
 * the version directory is the kind's (kind_role()->file), so a manifest cannot point
 * bootsvc at another file. */
struct manifest_file {
	char role[MAX_KIND_ROLE_NAME];
	char sha256[SHA256_HEX_SIZE];
	uint64_t size;
};

struct manifest_template {
	char *path; /* owned; relative to the version's templates/ */
	char sha256[SHA256_HEX_SIZE];
	uint64_t size;
};

struct manifest {
	char *name;              /* owned; an image name (parse.h image_name_is_valid) */
	const struct kind *kind; /* borrowed: a row of the kind table (kind.h) */
	char built[21];          /* "YYYY-MM-DDTHH:MM:SSZ" */
	char recipe_sha256[SHA256_HEX_SIZE];
	char *kernel_version;    /* owned */
	char *kernel_banner;     /* owned */
	char *cmdline;           /* owned; may be "" */
	/* The kind's roles this version has, each once, in the kind's role order when
	 * parsed; every required role of the kind is among them. */
	struct manifest_file files[MAX_MANIFEST_FILES];
	size_t n_files;
	/* The initrd tree hash (docs/boot-protocol.md "The initrd tree hash"): what the node's
	 * init measures and reports. "" when absent (manifests written before it existed). */
	char initrd_tree[SHA256_HEX_SIZE];
	/* What the hypervisor of a VM-host image says it is (xen: both required): the
	 * upstream version "4.17.7" (/sys/hypervisor/version as dom0 reads it) and the GNU
	 * build id of its binary, lowercase hex (/sys/hypervisor/properties/buildid). NULL
	 * or "" when absent; written to the canonical form only when non-empty, so
	 * manifests written before they existed keep their ids. */
	char *hypervisor_version;  /* owned */
	char *hypervisor_build_id; /* owned */
	/* The build id of the UEFI binary (xen: xen.efi, linked on its own, so its id is
	 * not the ELF's): the CodeView record's GUID and age as Xen returns them to a dom0
	 * it booted through UEFI; lowercase hex, optional, NULL or "" when absent. */
	char *hypervisor_efi_build_id; /* owned */
	/* The hypervisor's own command line (xen: dom0_mem, dom0_max_vcpus, console...),
	 * composed by imagebuild from the recipe; NULL or "" when absent. */
	char *hypervisor_cmdline;  /* owned */
	/* How bootsvc learns that a node of a kind without our init is up (kind.h
	 * KIND_BY_PROBE: iscsi): "tcp:<port>", a TCP port the booted OS answers on (22 for
	 * sshd, 3389 for Windows' RDP). NULL or "" when absent; written to the canonical form
	 * only when set, so older manifests keep their ids. */
	char *up_probe;            /* owned */
	struct manifest_template *templates; /* owned array */
	size_t n_templates;
};

/* m's file of role; NULL when it has none. */
const struct manifest_file *manifest_file(const struct manifest *m, const char *role);
/* Set role's file in m, adding it if new (for imagebuild, which fills a struct in code;
 * manifest_validate() checks the role against m->kind). -EINVAL for a role name that
 * kind_role_name_is_valid() refuses, -E2BIG past MAX_MANIFEST_FILES. */
int manifest_file_set(struct manifest *m, const char *role, const char *sha256, uint64_t size);

/* Parse len bytes of JSON (need not be NUL-terminated) into *ret. Duplicate keys,
 * unknown keys, a wrong type, a bad hash, path, name or size are all errors; reterr names
 * the field and value. The kind must be a row of the kind table ("unknown image kind
 * 'x'") and files must be exactly its roles: all its required ones, any of its optional
 * ones, no other (a file a reader would not know what to do with is refused, not
 * skipped), each at the path the kind gives it. *ret is written only on success;
 * release it with manifest_done(). Errors: -EINVAL, -E2BIG (over MAX_MANIFEST_SIZE), -ENOMEM. */
int manifest_parse(const char *buf, size_t len, struct manifest *ret, struct dl_err *reterr);

/* Check a struct built in code (imagebuild) by the same rules as manifest_parse. */
int manifest_validate(const struct manifest *m, struct dl_err *reterr);

/* The canonical form: json_dumps(JSON_COMPACT | JSON_SORT_KEYS) of m. *ret is a new
 * malloc'd NUL-terminated string. Validates m first. Errors: -EINVAL, -ENOMEM. */
int manifest_canonical(const struct manifest *m, char **ret, struct dl_err *reterr);

/* The content id: lowercase hex sha256 of the canonical form, into id. */
int manifest_id(const struct manifest *m, char id[static SHA256_HEX_SIZE], struct dl_err *reterr);

/* What a dom0 can read of build id hex (/sys/hypervisor/properties/buildid: Linux prints
 * Xen's bytes with "%.*s", so they end before the first zero byte): hex up to its first
 * "00" byte, into out (size >= strlen(hex) + 1). "" when the id starts with a zero byte. */
void manifest_build_id_as_seen(const char *hex, char *out, size_t size);

/* Parse an up_probe ("tcp:<port>", port 1-65535) into *ret_port. -EINVAL otherwise. */
int manifest_probe_port(const char *probe, unsigned *ret_port);

/* Free what m owns and zero it; m may be zeroed or half-built. */
void manifest_done(struct manifest *m);
