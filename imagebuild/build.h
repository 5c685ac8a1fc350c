/* SPDX-License-Identifier: MIT */
/* One image build, step by step: recipe -> rootfs -> kernel -> overlay -> reporter ->
 * squashfs -> initrd -> manifest -> publish. Progress goes to stderr, one line per step. */
#pragma once

#include <stdbool.h>

#include "err.h"
#include "sha256.h"

/* imagebuild's exit codes (docs/images.md "Exit codes"). */
enum build_exit {
	BUILD_EXIT_OK = 0,      /* built, or already up to date */
	BUILD_EXIT_FAILED = 1,  /* a build step failed (tool, I/O) */
	BUILD_EXIT_USAGE = 2,   /* bad command line or bad recipe */
	BUILD_EXIT_PREREQ = 3,  /* a prerequisite is missing: build/init, a tool, a kernel */
};

struct build_opts {
	const char *recipe_dir; /* images/<name> */
	const char *store;      /* the image store directory: versions at <store>/<id>/ */
	const char *work;       /* parent of the scratch dir */
	const char *init;       /* the node's static init (build/init) */
	const char *kernel_dir; /* kernel tree for bases without their own kernel */
	const char *etc_apt;    /* where apt sources are read for the default mirror */
	bool force;             /* rebuild even if the newest version has this recipe hash */
};

struct build_result {
	char id[SHA256_HEX_SIZE];
	bool up_to_date;        /* nothing built: the newest version matched the recipe */
};

/* Run the build. On failure returns -errno with reterr saying which step, and sets
 * *ret_exit to the exit code main() should use. */
int build_run(const struct build_opts *o, struct build_result *ret, enum build_exit *ret_exit,
    struct dl_err *reterr);
