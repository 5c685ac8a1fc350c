/* SPDX-License-Identifier: MIT */
/* What iscsi.ipxe reports when sanboot failed three times:
 * GET /ipxe/failed?mac=..&what=sanboot&errno=.. (http_ipxe.c). The query is a node's,
 * so anyone on the boot network can send it: parsed strictly here, fuzzed
 * (tests/fuzz/fuzz_san_report.c). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* iPXE's ${errno}: a 32-bit error number, "0x" and up to 8 hex digits (iPXE prints
 * numeric settings so), or the digits alone. */
#define MAX_SAN_ERRNO_LEN 10
/* The one failure iscsi.ipxe reports. */
#define SAN_REPORT_WHAT "sanboot"

/* what must be "sanboot", errno_s iPXE's error number. 0 and *ret_errno, or -EINVAL with
 * reterr naming the bad field (its value cut and made printable). */
int san_report_parse(const char *what, const char *errno_s, uint32_t *ret_errno,
    struct dl_err *reterr);
/* The node's failed reason: "sanboot failed: iPXE error 0x3d126083
 * (https://ipxe.org/3d126083)". -ENOSPC if size is too small. */
int san_report_reason(uint32_t err, char *buf, size_t size);
