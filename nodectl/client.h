/* SPDX-License-Identifier: MIT */
/* nodectl's side of the control socket (docs/control-protocol.md): connect, send one
 * request line, read its response line. Knows framing and ids, nothing about verbs. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Longest response line read: node.list of 10,000 nodes is about 3 MiB of JSON; 16 MiB
 * leaves room for a few times that while still bounding what a broken daemon can make
 * nodectl allocate. */
#define MAX_RESPONSE_LINE (16 * 1024 * 1024)
/* How long to wait for an answer. image.add hashes a rootfs of several GiB on a worker
 * and node.add of a large hostlist commits in one transaction; a daemon that says
 * nothing for this long is wedged, and a script should learn so rather than hang. */
#define CLIENT_TIMEOUT_MS (300 * 1000)
/* Longest error code string kept from a response ("EINVAL"). */
#define MAX_REPLY_CODE 32

struct client {
	int fd;                 /* owned */
	int64_t next_id;        /* id of the next request, from 1 */
	int timeout_ms;         /* per read/write wait; CLIENT_TIMEOUT_MS by default */
	size_t max_line;        /* MAX_RESPONSE_LINE by default; tests lower it */
	char *buf;              /* owned; bytes read past the last response line */
	size_t len, cap;
};

/* The daemon's answer to one request. */
struct client_reply {
	bool ok;
	json_t *result;                 /* ok: owned, an object */
	char code[MAX_REPLY_CODE];      /* !ok: the daemon's code, "EINVAL" */
	char message[MAX_ERR_MSG];      /* !ok: the daemon's message */
};

void client_reply_done(struct client_reply *r);

/* Connect to the control socket at path (SOCK_CLOEXEC). Returns a new client in *ret
 * (caller frees with client_free()), or -errno with reterr naming the socket and the
 * reason, with a hint for the usual causes (daemon not running, not in the group). */
int client_connect(const char *path, struct client **ret, struct dl_err *reterr);

/* Wrap an already connected stream fd (taken over, also on failure). NULL on ENOMEM. */
struct client *client_new_fd(int fd);

/* Close and free; accepts NULL, returns NULL. */
struct client *client_free(struct client *c);

/* Send {"id","verb","args"} (args borrowed; NULL sends {}) and read the response.
 * Returns 0 when the daemon answered this request, ok or not (see ret->ok); the caller
 * calls client_reply_done(). Returns -errno when there was no usable answer, reterr
 * saying why: -ETIMEDOUT, -ECONNRESET (closed before answering), -EMSGSIZE (request over
 * MAX_CONTROL_LINE or response over max_line), -EPROTO (not a response, wrong id),
 * -ENOMEM, or a socket error. */
int client_call(struct client *c, const char *verb, const json_t *args,
    struct client_reply *ret, struct dl_err *reterr);

/* Parse one response line (len bytes, no '\n') to the request with id expect_id.
 * A response with "id": null and ok false is accepted as the answer: the daemon sends
 * that when it could not read our line at all (too long, not JSON), and nodectl has one
 * request outstanding. Returns 0 and fills *ret, or -EPROTO / -ENOMEM with reterr. */
int client_parse_response(const char *line, size_t len, int64_t expect_id,
    struct client_reply *ret, struct dl_err *reterr);
