/* SPDX-License-Identifier: MIT */
/* The image manifest (docs/boot-protocol.md "manifest.json"): parsed strictly into a
 * struct, and written back in one canonical form whose sha256 is the image's content id.
 * The id is computed from the struct, never from the bytes read, so whitespace or key
 * order in a file cannot give one image two ids. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "err.h"
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

#define MANIFEST_FORMAT 1

enum manifest_role {
	MANIFEST_KERNEL,
	MANIFEST_INITRD,
	MANIFEST_ROOTFS,
	_MANIFEST_ROLE_MAX,
	_MANIFEST_ROLE_INVALID = -EINVAL,
};

enum manifest_kind {
	MANIFEST_KIND_LINUX,
	_MANIFEST_KIND_MAX,
	_MANIFEST_KIND_INVALID = -EINVAL,
};

struct manifest_file {
	char sha256[SHA256_HEX_SIZE];
	uint64_t size;
};

struct manifest_template {
	char *path; /* owned; relative to the version's templates/ */
	char sha256[SHA256_HEX_SIZE];
	uint64_t size;
};

struct manifest {
	char *name;           /* owned; an image name (parse.h image_name_is_valid) */
	enum manifest_kind kind;
	char built[21];       /* "YYYY-MM-DDTHH:MM:SSZ" */
	char recipe_sha256[SHA256_HEX_SIZE];
	char *kernel_version; /* owned */
	char *kernel_banner;  /* owned */
	char *cmdline;        /* owned; may be "" */
	struct manifest_file files[_MANIFEST_ROLE_MAX];
	/* The initrd tree hash (docs/boot-protocol.md "The initrd tree hash"): what the node's
	 * init measures and reports. "" when absent (manifests written before it existed). */
	char initrd_tree[SHA256_HEX_SIZE];
	struct manifest_template *templates; /* owned array */
	size_t n_templates;
};

/* "kernel", "initrd", "rootfs"; NULL for an invalid role. */
const char *manifest_role_to_string(enum manifest_role r);
enum manifest_role manifest_role_from_string(const char *s);
/* The fixed file name of a role inside a version directory ("vmlinuz", ...). */
const char *manifest_role_path(enum manifest_role r);
const char *manifest_kind_to_string(enum manifest_kind k);
enum manifest_kind manifest_kind_from_string(const char *s);

/* Parse len bytes of JSON (need not be NUL-terminated) into *ret. Duplicate keys,
 * unknown keys, a wrong type, a bad hash, path, name or size are all errors; reterr names
 * the field and value. *ret is written only on success; release it with manifest_done().
 * Errors: -EINVAL, -E2BIG (over MAX_MANIFEST_SIZE), -ENOMEM. */
int manifest_parse(const char *buf, size_t len, struct manifest *ret, struct dl_err *reterr);

/* Check a struct built in code (imagebuild) by the same rules as manifest_parse. */
int manifest_validate(const struct manifest *m, struct dl_err *reterr);

/* The canonical form: json_dumps(JSON_COMPACT | JSON_SORT_KEYS) of m. *ret is a new
 * malloc'd NUL-terminated string. Validates m first. Errors: -EINVAL, -ENOMEM. */
int manifest_canonical(const struct manifest *m, char **ret, struct dl_err *reterr);

/* The content id: lowercase hex sha256 of the canonical form, into id. */
int manifest_id(const struct manifest *m, char id[static SHA256_HEX_SIZE], struct dl_err *reterr);

/* Free what m owns and zero it; m may be zeroed or half-built. */
void manifest_done(struct manifest *m);
