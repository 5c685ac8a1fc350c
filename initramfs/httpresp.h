/* SPDX-License-Identifier: MIT */
/* HTTP/1.x response head parser (status line + the few headers the init needs). Pure, so
 * it is unit-tested and fuzzed apart from the socket code in http.c. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A response head larger than this is not from bootsvc: refuse it rather than buffer it. */
#define MAX_HTTP_HEAD 8192

struct http_resp {
	int status;                /* 100..599 */
	int64_t content_length;    /* -1 when absent */
	bool chunked;              /* Transfer-Encoding: chunked */
	bool has_range;            /* a valid Content-Range was present */
	uint64_t range_start, range_end; /* inclusive */
	int64_t range_total;       /* -1 for an unknown total ("*") */
};

/* Parse the head at the start of buf (len bytes, not NUL-terminated). Returns the head's
 * length including the blank line (> 0) and fills *ret; 0 when the head is not complete
 * yet; -EMSGSIZE when no end was found within MAX_HTTP_HEAD; -EPROTO on a malformed status
 * line, a malformed or duplicate Content-Length, a malformed Content-Range, or a
 * Transfer-Encoding other than chunked. */
int httpresp_parse(const char *buf, size_t len, struct http_resp *ret);

/* Parse a Content-Range value "bytes <start>-<end>/<total|*>" (len bytes). Rejects
 * end < start and end >= total. Returns 0 or -EPROTO. */
int httpresp_parse_content_range(const char *v, size_t len, uint64_t *ret_start,
    uint64_t *ret_end, int64_t *ret_total);
