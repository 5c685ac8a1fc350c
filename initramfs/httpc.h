/* SPDX-License-Identifier: MIT */
/* A tiny HTTP/1.1 client for the init and dl-report: one request per TCP connection
 * (Connection: close), numeric IPv4, Content-Length bodies, every wait bounded. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cmdline.h"
#include "httpresp.h"
#include "util.h"

/* bootsvc is on the boot LAN: a connect that takes longer is a dead server or route. */
#define HTTP_CONNECT_TIMEOUT_MS 5000
/* A stalled transfer (no byte for this long) is cut and resumed by the caller. */
#define HTTP_IO_TIMEOUT_MS 15000

struct httpc_conn {
	int fd;
	struct http_resp resp;
	char buf[MAX_HTTP_HEAD];
	size_t buf_len, buf_off;     /* body bytes read along with the head */
	int64_t body_left;           /* -1: until EOF (no Content-Length) */
};

struct httpc_req {
	const char *method;          /* "GET", "POST" */
	const char *path;            /* absolute path, already safe for a request line */
	const char *token;           /* Bearer token or NULL */
	uint64_t range_from;         /* > 0: send "Range: bytes=<from>-" */
	const char *content_type;    /* with body */
	const void *body;
	size_t body_len;
};

/* Connect to srv, send req and read the response head into c->resp. On success c->fd is
 * open and the body can be read with httpc_read(); close with httpc_close() in every case.
 * Returns 0, -ETIMEDOUT, -ECONNREFUSED and other connect/send errors, -EPROTO on a
 * malformed head or a chunked body (bootsvc sends Content-Length), with reterr set. */
int httpc_begin(struct httpc_conn *c, const struct http_server *srv, const struct httpc_req *req,
    struct init_err *reterr);

/* Read up to n body bytes. Returns the count, 0 at the end of the body, or -errno:
 * -ECONNRESET when the peer closed before Content-Length bytes, -ETIMEDOUT on a stall. */
ssize_t httpc_read(struct httpc_conn *c, void *buf, size_t n, struct init_err *reterr);

/* Read the whole body (at most max bytes) into a malloc()ed buffer, NUL-terminated.
 * *ret_buf is owned by the caller. Returns the length or -errno (-EFBIG beyond max). */
ssize_t httpc_read_all(struct httpc_conn *c, size_t max, char **ret_buf, struct init_err *reterr);

/* Close the connection; safe to call twice and on a never-begun conn (fd -1). */
void httpc_close(struct httpc_conn *c);
