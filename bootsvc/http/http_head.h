/* SPDX-License-Identifier: MIT */
/* The head of a plain GET, parsed for the direct path (http_direct.c), which answers a
 * script on a connection libmicrohttpd never sees. Strict by design: whatever is not the
 * plainest request (a body, percent-escapes, a folded header, bare LF, a second request
 * behind the first, more arguments than fit) is -EINVAL, and libmicrohttpd answers it
 * as it answers everything else. The direct path is a shortcut, never a second dialect
 * of HTTP. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* The most of a request the direct path reads: iPXE's script request is ~200 bytes. */
#define HTTP_HEAD_MAX 2048
/* Query arguments kept: /ipxe/boot has mac, uuid, serial; /ipxe/<kind>.cfg four. */
#define HTTP_HEAD_ARGS 8

struct http_head {
	char target[HTTP_HEAD_MAX]; /* the path and the arguments, NUL-separated */
	const char *path;           /* "/ipxe/boot" */
	bool keep_alive;            /* the client keeps the connection for another request:
	                             * HTTP/1.1 without "Connection: close", or HTTP/1.0 with
	                             * "Connection: keep-alive" */
	unsigned n_args;
	struct {
		const char *key, *value;
	} args[HTTP_HEAD_ARGS];
};

/* data[0..len) as one whole request head: "GET <target> HTTP/1.0|1.1" CRLF, header lines
 * CRLF, an empty line, and nothing after it. Returns len when it is one, 0 when it is a
 * beginning that more bytes could complete (shorter than HTTP_HEAD_MAX, no CRLF CRLF
 * yet), -EINVAL for anything else, which includes a header announcing a body
 * (Content-Length, Transfer-Encoding), Expect and Upgrade. A target is '/' and visible
 * ASCII but '%', '+' and '#'; its query, key=value pairs joined by '&', each with a
 * non-empty key. */
int http_head_parse(const char *data, size_t len, struct http_head *ret);

/* The value of the first argument named key, or NULL, as libmicrohttpd's lookup. */
const char *http_head_arg(const struct http_head *h, const char *key);
