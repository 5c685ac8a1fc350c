/* SPDX-License-Identifier: MIT */
/* The VM-host side of an image of a kind with a libvirt driver (kvm, xen; issue 12): up
 * means usable, so such an image reports up only once libvirtd answers, with the host's
 * facts (docs/images.md "VM hosts"). imagebuild writes into the rootfs:
 *   /etc/diskless/vmhost.conf                what the recipe keeps for the host itself
 *   /usr/lib/diskless/vmhost-up              waits for libvirtd, writes the facts, reports
 *   /etc/systemd/system/diskless-vmhost-up.service  (enabled; replaces diskless-up) */
#pragma once

#include "err.h"
#include "recipe.h"

/* Limits of the script's wait for libvirtd: 90 tries 2 s apart. A TCG node with
 * socket-activated libvirtd answered in a few seconds; this rides out a slow disk-less
 * first start of libvirtd's drivers. */
#define VMHOST_LIBVIRT_TRIES 90

/* The texts imagebuild writes (script, unit), i = 0, 1, ...; NULL past the last. The
 * recipe hash covers them for VM-host kinds, so a changed script is a new image. */
const char *vmhost_file_text(size_t i);

/* Write the three files for recipe r (kind_is_vm_host(r->kind)) into rootfs, enable the
 * unit. -EINVAL for a kind that is not a VM host; file errors name the path. */
int vmhost_install(const char *rootfs, const struct recipe *r, struct dl_err *reterr);
