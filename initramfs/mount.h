/* SPDX-License-Identifier: MIT */
/* File systems of the init: the API mounts, the modules, and the image stack
 * (squashfs on a loop device, overlay with a tmpfs upper). */
#pragma once

#include "util.h"

#define DL_RUN_DIR "/run/diskless"
#define DL_ROOTFS_FILE DL_RUN_DIR "/rootfs.squashfs"
#define DL_LOWER_DIR DL_RUN_DIR "/lower"
#define DL_RW_DIR DL_RUN_DIR "/rw"
#define DL_NEWROOT "/newroot"
#define DL_MODULES_LIST "/etc/diskless/modules"

/* Mount proc, sysfs, devtmpfs and a tmpfs on /run; make fds 0-2 the console if the kernel
 * could not. Errors are returned for the first mount that fails. */
int mount_api_filesystems(struct init_err *reterr);

/* finit_module() every path listed in DL_MODULES_LIST, in order. EEXIST counts as loaded;
 * other failures are logged and skipped (a missing NIC shows up later, by name). Returns
 * the number loaded, 0 when the list is absent. */
int mount_load_modules(void);

/* Attach DL_ROOTFS_FILE to a free loop device (read-only, autoclear), mount it as squashfs
 * on DL_LOWER_DIR, a tmpfs on DL_RW_DIR for upper+work, and the overlay on DL_NEWROOT. */
int mount_image(struct init_err *reterr);

/* Undo mount_image() and remove the rootfs file, so a retry starts clean. Best effort. */
void mount_image_teardown(void);
