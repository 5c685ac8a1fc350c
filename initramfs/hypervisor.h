/* SPDX-License-Identifier: MIT */
/* The receipt's hypervisor field (issue 12): what a Xen dom0 can know of the hypervisor
 * that booted it, "<version> <build id>", held by bootsvc against the manifest's
 * hypervisor_version and hypervisor_build_id (lib/kind.h KIND_MEASURE_HYPERVISOR). */
#pragma once

#include <stddef.h>

#include "util.h"

/* "4.17.7 " + a build id of at most 64 bytes in hex, with room. */
#define MAX_HYPERVISOR_RECEIPT 192

/* Most build id bytes read: 64 (MAX_HYPERVISOR_BUILD_ID hex digits in the manifest). */
#define MAX_HV_BUILD_ID_BYTES 64

/* Compose the field from what the kernel shows (text files, a trailing newline allowed):
 * type "xen" and capabilities naming control_d (a dom0), else "" (not a Xen dom0: the
 * receipt has no hypervisor field). version = major "." minor extra ("4" "17" ".7" ->
 * "4.17.7"). The build id is binary: /sys/hypervisor/properties/buildid is the raw bytes
 * Xen returns (Linux prints them with "%.*s", so they end at the first zero byte, and
 * carry no newline): id_len bytes, written as lowercase hex. Returns the length (0 for
 * not a dom0), -EINVAL for a malformed value (reterr names it), -ENOSPC. */
int hypervisor_receipt_format(const char *type, const char *caps, const char *major,
    const char *minor, const char *extra, const unsigned char *build_id, size_t id_len,
    char *out, size_t size, struct init_err *reterr);

/* Read /sys/hypervisor and /proc/xen/capabilities (mounting xenfs on /proc/xen for the
 * read, and unmounting it again) and format the field into out. 0 with out "" when this
 * is not a Xen dom0. */
int hypervisor_receipt_measure(char *out, size_t size, struct init_err *reterr);
