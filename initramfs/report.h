/* SPDX-License-Identifier: MIT */
/* Phase reports to bootsvc (POST /api/v1/nodes/<node>/phase) and the receipt. */
#pragma once

#include "cmdline.h"
#include "util.h"

/* receipt.json is three short fields; anything bigger is not ours. */
#define MAX_RECEIPT 1024

/* POST {"phase": phase[, "reason": reason][, "receipt": receipt_json]} with the node's
 * Bearer token. receipt_json is a JSON object the caller vouches for (report_receipt_build() or
 * report_receipt_check()). Returns 0 on a 2xx answer; otherwise -errno (-EPROTO for a non-2xx,
 * with the status and the server's message in reterr). */
int report_phase(const struct http_server *srv, const char *node, const char *token,
    const char *phase, const char *reason, const char *receipt_json, struct init_err *reterr);

/* Format {"kernel": ..., "initrd": ..., "rootfs": ...} into buf (JSON-escaped).
 * Returns the length or -ENOSPC. */
int report_receipt_build(char *buf, size_t size, const char *kernel, const char *initrd,
    const char *rootfs);

/* Check that s looks like the object report_receipt_build() writes: starts with '{', ends with
 * '}' (after trailing whitespace, which is cut), no control characters, fits MAX_RECEIPT.
 * It is sent as-is, so this keeps a damaged file from breaking the request body. */
int report_receipt_check(char *s, struct init_err *reterr);
