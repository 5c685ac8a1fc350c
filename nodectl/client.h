/* SPDX-License-Identifier: MIT */
/* nodectl's side of the control socket (docs/control-protocol.md): connect, send one
 * request line, read its response line; on a connection subscribed with "events", also
 * read the event lines that arrive between responses. Knows framing, ids and the two
 * envelopes, nothing about verbs. */
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
/* Events kept while a call waits for its response on a subscribed connection. A
 * provision of 10,000 nodes makes about ten events per node, and a node.list call takes
 * a fraction of a second, so this is far above what arrives during one call; it bounds
 * what a daemon flooding the stream can make nodectl hold. */
#define MAX_QUEUED_EVENTS (256 * 1024)
/* Room for an event's node name (bootsvc's are RFC 1123 labels, at most 63). */
#define MAX_EVENT_NODE 64
/* Room for an event's kind ("phase", "action") and what ("power-cycle", "imaging"). */
#define MAX_EVENT_WORD 32
/* Room for an event's reason; longer ones are cut (the raw object keeps them whole). */
#define MAX_EVENT_REASON 256

/* One event line, {"event": {"seq", "node", "kind", "phase" | "action", "reason",
 * "at"}}. Strings are copied with control characters replaced by '?'. */
struct client_event {
	int64_t seq;
	int64_t at;                     /* Unix seconds; 0 if absent */
	char node[MAX_EVENT_NODE];
	char kind[MAX_EVENT_WORD];      /* "phase" or "action" (others passed on) */
	char what[MAX_EVENT_WORD];      /* the phase or the action */
	char reason[MAX_EVENT_REASON];  /* "" if absent */
	json_t *raw;                    /* owned: the inner object as sent, for --json */
};

void client_event_done(struct client_event *e);

struct client_queued;
struct tls_client;

struct client {
	int fd;                 /* owned (by tls when that is set) */
	struct tls_client *tls; /* owned; NULL: the Unix socket */
	int64_t next_id;        /* id of the next request, from 1 */
	int timeout_ms;         /* per read/write wait; CLIENT_TIMEOUT_MS by default */
	size_t max_line;        /* MAX_RESPONSE_LINE by default; tests lower it */
	char *buf;              /* owned; bytes read past the last response line */
	size_t len, cap;
	int wake_fd;            /* borrowed, -1: when readable, waits end with -EINTR */
	struct client_queued *queue_head, *queue_tail; /* owned: events read by a call */
	size_t queued;
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

/* Connect to bootsvc's control_tcp at server ("host:port") over mutual TLS with the
 * client certificate cert and key, verifying the server against ca (PEM paths). Errors
 * as client_connect(), with the TLS reason in words (tls_client.h). */
int client_connect_tls(const char *server, const char *cert, const char *key,
    const char *ca, struct client **ret, struct dl_err *reterr);

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

/* The next event on a subscribed connection: first those a client_call() read while it
 * waited for its response, then new ones, waiting at most timeout_ms (0: only what is
 * already buffered or readable now). Returns 0 and fills *ret (caller calls
 * client_event_done()), -ETIMEDOUT when none came in time (no message), -EINTR when
 * wake_fd became readable, or -errno with reterr as for client_call(); a response line
 * here is -EPROTO (no request is outstanding). */
int client_next_event(struct client *c, int timeout_ms, struct client_event *ret,
    struct dl_err *reterr);

/* Parse one event line (len bytes, no '\n'). Returns 0 and fills *ret, -ENOMSG when the
 * line is not an event (no "event" key: try client_parse_response()), or -EPROTO /
 * -ENOMEM with reterr. Inside the event object unknown keys are allowed (a newer
 * bootsvc may add some); "seq", "node", "kind" and "phase" or "action" are required. */
int client_parse_event(const char *line, size_t len, struct client_event *ret,
    struct dl_err *reterr);

/* Parse one response line (len bytes, no '\n') to the request with id expect_id.
 * A response with "id": null and ok false is accepted as the answer: the daemon sends
 * that when it could not read our line at all (too long, not JSON), and nodectl has one
 * request outstanding. Returns 0 and fills *ret, or -EPROTO / -ENOMEM with reterr. */
int client_parse_response(const char *line, size_t len, int64_t expect_id,
    struct client_reply *ret, struct dl_err *reterr);
