/* SPDX-License-Identifier: MIT */
/* The receipt's hypervisor field (issue 12): what a Xen dom0 can know of the hypervisor
 * that booted it, "<version> <build id>", held by bootsvc against the manifest's
 * hypervisor_version and hypervisor_build_id (lib/kind.h KIND_MEASURE_HYPERVISOR). */
#pragma once

#include <stddef.h>

#include "util.h"

/* "4.17.7 " + a build id of at most 64 bytes in hex, with room. */
#define MAX_HYPERVISOR_RECEIPT 192

/* Compose the field from what the kernel shows (each a file's text, a trailing newline
 * allowed): type "xen" and capabilities naming control_d (a dom0), else "" (not a Xen
 * dom0: the receipt has no hypervisor field). version = major "." minor extra
 * ("4" "17" ".7" -> "4.17.7"); build id lowercase hex. Returns the length (0 for not a
 * dom0), -EINVAL for a malformed value (reterr names it), -ENOSPC. */
int hypervisor_receipt_format(const char *type, const char *caps, const char *major,
    const char *minor, const char *extra, const char *build_id, char *out, size_t size,
    struct init_err *reterr);

/* Read /sys/hypervisor and /proc/xen/capabilities (mounting xenfs on /proc/xen for the
 * read, and unmounting it again) and format the field into out. 0 with out "" when this
 * is not a Xen dom0. */
int hypervisor_receipt_measure(char *out, size_t size, struct init_err *reterr);
