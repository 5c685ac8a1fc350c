/* SPDX-License-Identifier: MIT */
/* Hand over to the image: move the API mounts into the new root, free the initramfs,
 * make the new root "/" and exec its init. */
#pragma once

#include "util.h"

/* Check that newroot has an init (sbin/init, possibly a symlink); -ENOENT otherwise. */
int switchroot_check(const char *newroot, struct init_err *reterr);

/* Move /dev /proc /sys /run into newroot, delete the initramfs contents (same device only,
 * like busybox switch_root), MS_MOVE newroot onto /, chroot, unblock signals and exec
 * /sbin/init with envp. Returns only on failure, with -errno; past the first move there
 * is no way back, so the caller's only option is to reboot. */
int switchroot_exec(const char *newroot, char *const envp[], struct init_err *reterr);
