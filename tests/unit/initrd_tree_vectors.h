/* SPDX-License-Identifier: MIT */
/* Test vectors for the initrd tree hash (docs/boot-protocol.md "The initrd tree hash"),
 * shared by test_init_treehash.c (the init walks a directory made from them) and
 * test_initrd_tree.c (imagebuild records them as cpio entries), so both sides are held
 * to the same digests. The digests were not computed by either side's C code:
 *   - TREE_ONE_INIT by hand with coreutils:
 *       printf '/init\0f\0000755\00011\0%s\n' \
 *           "$(printf 'init-bytes\n' | sha256sum | cut -d' ' -f1)" | sha256sum
 *   - TREE_FULL by tests/integ/initrd_tree.py (Python's hashlib), both over a directory
 *     made from tree_full (--dir) and over `find | sort | cpio -o -H newc` of it (--cpio). */
#pragma once

#include <sys/stat.h>

struct tree_vec_entry {
	const char *path; /* relative, as in the cpio */
	mode_t mode;      /* S_IFREG, S_IFLNK, S_IFDIR, S_IFIFO or S_IFCHR | permissions */
	const char *data; /* file contents or link target; NULL for others */
};

#define TREE_ONE_INIT "d334354f2af2ae4425821b50242f3f49e4985b2b48c16cf76e94c925a2cf5e49"
static const struct tree_vec_entry tree_one_init[] = {
	{ "init", S_IFREG | 0755, "init-bytes\n" },
};

#define TREE_FULL "cba43a83ac4023622d8f1d926f0ac5fb3d2a66d5562da91411cec888691eb5c1"
/* Parents before children, as a cpio lists them. What each entry checks: */
static const struct tree_vec_entry tree_full[] = {
	{ "init", S_IFREG | 0755, "init-bytes\n" },
	{ "empty", S_IFDIR | 0755, NULL },                        /* dirs: not hashed */
	{ "etc", S_IFDIR | 0755, NULL },
	{ "etc/diskless", S_IFDIR | 0755, NULL },
	{ "etc/diskless/modules", S_IFREG | 0644, "/lib/modules/6.1.0/kernel/loop.ko\n" },
	/* '-' (0x2d) sorts before '/' (0x2f): bytewise path order, not walk order */
	{ "etc/diskless-x", S_IFREG | 0600, "dash sorts before slash\n" },
	{ "etc/link", S_IFLNK | 0777, "diskless/modules" },      /* symlink: target hashed */
	{ "lib", S_IFDIR | 0755, NULL },
	{ "lib/modules", S_IFDIR | 0755, NULL },
	{ "lib/modules/6.1.0", S_IFDIR | 0755, NULL },
	{ "lib/modules/6.1.0/kernel", S_IFDIR | 0755, NULL },
	{ "lib/modules/6.1.0/kernel/loop.ko", S_IFREG | 0644, "" }, /* empty file */
	{ "lib/run", S_IFDIR | 0755, NULL },
	{ "lib/run/f", S_IFREG | 0644, "not top level\n" },      /* excluded names: top only */
	{ "sbin", S_IFDIR | 0755, NULL },
	{ "sbin/suid", S_IFREG | 04750, "x" },                    /* mode keeps special bits */
	{ "runx", S_IFREG | 0644, "top\n" },                     /* not "run" */
	{ "fifo", S_IFIFO | 0644, NULL },                         /* not content */
	{ "dev", S_IFDIR | 0755, NULL },
	{ "dev/console", S_IFCHR | 0600, NULL },                  /* devices: not hashed */
	{ "run", S_IFDIR | 0755, NULL },
	{ "run/x", S_IFREG | 0644, "hidden\n" },                 /* under a mount point */
	{ "proc", S_IFDIR | 0755, NULL },
	{ "proc/y", S_IFREG | 0644, "p\n" },
	{ "tmp", S_IFDIR | 0755, NULL },
	{ "tmp/z", S_IFREG | 0644, "t\n" },
};
