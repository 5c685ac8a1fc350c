/* SPDX-License-Identifier: MIT */
/* images/<name>/image.conf: the recipe, parsed into a struct (docs/images.md). Parsing is
 * pure (a buffer in, a struct out) so the fuzzer reaches all of it; recipe_load() adds
 * the file system: reading the file and resolving paths against the recipe directory. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

/* Packages or modules one recipe may list: a whole Debian desktop is ~2000 packages. */
#define MAX_RECIPE_LIST 4096
/* Largest image.conf read: a recipe is a screenful; anything larger is a wrong path. */
#define MAX_RECIPE_FILE (64 * 1024)
/* Longest single value (a path, a mirror URL, a command line). */
#define MAX_RECIPE_VALUE 1024

enum recipe_base {
	RECIPE_BASE_DEBOOTSTRAP,
	RECIPE_BASE_TARBALL,
	RECIPE_BASE_OCI,
	RECIPE_BASE_DIRECTORY,
	RECIPE_BASE_BUSYBOX,
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
	char *dir;           /* recipe_load(): the recipe directory, absolute */
};

const char *recipe_base_to_string(enum recipe_base b);
enum recipe_base recipe_base_from_string(const char *s);

/* True if kernel names a kernel tree (a path) rather than a Debian package. */
bool recipe_kernel_is_path(const struct recipe *r);

/* Parse len bytes of image.conf into *ret, then check the keys fit together (a source
 * for tarball/oci/directory, suite only for debootstrap, ...). fname prefixes messages:
 * "image.conf:3: unknown key 'x'". *ret is written only on success.
 * Errors: -EINVAL, -E2BIG, -ENOMEM. */
int recipe_parse(const char *fname, const char *buf, size_t len, struct recipe *ret,
    struct dl_err *reterr);

/* Read <dir>/image.conf and parse it; sets ret->dir to dir made absolute. */
int recipe_load(const char *dir, struct recipe *ret, struct dl_err *reterr);

/* Free what r owns and zero it; r may be zeroed or half-built. */
void recipe_done(struct recipe *r);
void strv_done(struct strv *s);
