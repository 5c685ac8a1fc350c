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

/* The same with "facts": facts_json (report_facts_check()ed) when not NULL. */
int report_phase_facts(const struct http_server *srv, const char *node, const char *token,
    const char *phase, const char *reason, const char *receipt_json, const char *facts_json,
    struct init_err *reterr);

/* Format {"kernel": ..., "initrd": ..., "rootfs": ...[, "hypervisor": ...]} into buf
 * (JSON-escaped); hypervisor NULL or "" leaves its field out (not a Xen dom0).
 * Returns the length or -ENOSPC. */
int report_receipt_build(char *buf, size_t size, const char *kernel, const char *initrd,
    const char *rootfs, const char *hypervisor);

/* The facts of a VM host (dl-report up --facts FILE), at most this: nine short fields. */
#define MAX_FACTS 2048

/* Check that s is one JSON object (RFC 8259) with nothing but whitespace around it, at
 * most MAX_FACTS bytes, no control characters; trailing whitespace is cut. A full
 * syntax check (strings, numbers, nesting up to MAX_FACTS_DEPTH), since it is spliced
 * into the report body as it is. */
#define MAX_FACTS_DEPTH 8
int report_facts_check(char *s, struct init_err *reterr);

/* Check that s looks like the object report_receipt_build() writes: starts with '{', ends with
 * '}' (after trailing whitespace, which is cut), no control characters, fits MAX_RECEIPT.
 * It is sent as-is, so this keeps a damaged file from breaking the request body. */
int report_receipt_check(char *s, struct init_err *reterr);
