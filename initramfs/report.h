/* SPDX-License-Identifier: MIT */
/* Phase reports to bootsvc (POST /api/v1/nodes/<node>/phase) and the receipt. */
#pragma once

#include <stdint.h>

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

/* The same with "facts": facts_json (report_facts_check()ed) when not NULL. The answer's
 * HTTP status goes to *ret_status when not NULL (0 when there was none). */
int report_phase_facts(const struct http_server *srv, const char *node, const char *token,
    const char *phase, const char *reason, const char *receipt_json, const char *facts_json,
    int *ret_status, struct init_err *reterr);

/* Retries (issue 15, docs/boot-protocol.md "Reports that cannot reach bootsvc"): a report
 * that finds bootsvc down (refused, reset, timed out, unreachable, a 5xx, 408 or 429) is
 * tried again after REPORT_BACKOFF_MIN_MS doubling to REPORT_BACKOFF_MAX_MS, for a bounded
 * total time; any other answer (a 4xx is the server's considered word) or a local error
 * ends it at once. The first wait is short because the common case is a restart (seconds);
 * the cap keeps a long outage from stretching the last wait past the budget's sense. */
#define REPORT_BACKOFF_MIN_MS 500
#define REPORT_BACKOFF_MAX_MS 8000
/* The whole time a report is retried: longer than a bootsvc restart (a few seconds, the
 * restart test's is 5 s), shorter than the shortest default phase timeout (timeout_loading,
 * 2 min), so a node never waits on a report longer than the controller would wait for the
 * report itself before acting. */
#define REPORT_BUDGET_MS 60000
/* The `imaging` report before the rootfs fetch is tried only this long (plus one connect
 * timeout at worst): a bootsvc that is down must not hold the fetch up, which has its own
 * retries. A report still not delivered is posted again, with REPORT_BUDGET_MS, once the
 * rootfs is in (initramfs/pid1.c). */
#define REPORT_QUICK_MS 3000

enum report_next {
	REPORT_NEXT_DONE,    /* delivered */
	REPORT_NEXT_RETRY,   /* try again after *ret_delay_ms */
	REPORT_NEXT_GIVE_UP, /* a considered answer, a local error, or the budget is spent */
};

/* The retry decision, pure: try number `tries` (from 1) returned rc (0, or -errno; -EPROTO
 * with the answer's http_status, 0 when the answer was not HTTP at all), spent_ms after
 * the first try began, of budget_ms. On REPORT_NEXT_RETRY, *ret_delay_ms is the backoff
 * for this try, cut to what is left of the budget (never 0). */
enum report_next report_retry_next(int rc, int http_status, unsigned tries, uint64_t spent_ms,
    uint64_t budget_ms, unsigned *ret_delay_ms);

/* report_phase_facts() tried as report_retry_next() says, for at most budget_ms on the
 * monotonic clock, each retry logged as a warning. Returns 0 once delivered; -ETIME when
 * bootsvc could not be reached within the budget (reterr holds the last try's error: the
 * report may be worth posting later); the error of a try that is not worth repeating. */
int report_phase_retry(const struct http_server *srv, const char *node, const char *token,
    const char *phase, const char *reason, const char *receipt_json, const char *facts_json,
    uint64_t budget_ms, struct init_err *reterr);

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
