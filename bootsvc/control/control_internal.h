/* SPDX-License-Identifier: MIT */
/* What the control room's files share: a client, the control socket's state, and the limits
 * every client is held to. control.c dispatches verbs and streams events, conn.c is a
 * client's I/O and service, listen.c accepts (the Unix socket and control_tcp). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "control/control.h"
#include "log.h"
#include "proto.h"
#include "role.h"

/* Largest reply queued for one client: a node.list of ~100,000 nodes. A bigger one is
 * answered with an error instead. */
#define MAX_CONTROL_OUTBUF (64 * 1024 * 1024)
/* A client's next request is read only while less than this is queued for it: a client
 * that pipelines requests but reads slowly is served at its own pace, and one that never
 * reads holds at most this plus one reply (issue 11: 65 MB per such client before). */
#define CONTROL_OUT_LOW (256 * 1024)
/* Requests served per client per loop pass, so one pipelining client cannot keep the loop
 * from HTTP and the other clients (issue 11: 1,000 node.list stalled scripts 29.9 s). */
#define MAX_REQUESTS_PER_PASS 4
/* How often idle and stalled clients are looked for. */
#define CONTROL_SWEEP_MS 1000
/* accept() failed for lack of fds or memory: try again after this, instead of spinning on
 * a level-triggered listener that stays readable (issue 11: 96% CPU at EMFILE). */
#define CONTROL_ACCEPT_BACKOFF_MS 200
/* Refusals and drops under a flood: a few lines per interval, then a count. */
#define CONTROL_LOG_INTERVAL_MS 10000
#define CONTROL_LOG_BURST 5

/* Why a client is closed: each reason is rate-limited on its own, so a crowd of idle
 * clients closed at once does not hide the one that stopped reading. */
enum close_reason {
	CLOSE_NONE = -1,
	CLOSE_IDLE,
	CLOSE_NOT_READING,
	CLOSE_NO_QUEUE,
	_CLOSE_MAX,
};

struct client {
	struct control *ctl;
	uint64_t id;
	bool subscribed;
	bool events_behind;    /* an event flush skipped it while its queue was full */
	int64_t last_seq;      /* events sent up to here */
	int fd;
	uid_t uid;
	struct control_tls_conn *tls; /* NULL: a Unix socket client */
	enum role role;               /* what the client may do (lib/role.h) */
	int64_t hs_timer;             /* TLS: the handshake deadline until it is done */
	char in[MAX_CONTROL_LINE + 1];
	size_t in_len;
	bool discarding; /* skipping the rest of an oversized line */
	bool read_closed;      /* the peer shut down its side: answer what came, then close */
	unsigned n_deferred;   /* answers owed by control_complete() */
	uint64_t last_active;  /* ms: last request read or reply byte taken */
	enum close_reason close_why; /* not CLOSE_NONE: close it after this pass, saying why */
	bool kick;             /* serve it in the next pass (an answer came mid-dispatch) */
	bool mid_line;         /* the bytes sent so far end inside a reply */
	char *out;
	size_t out_len, out_off;
	struct client *next;
};

struct control {
	struct bootsvc *bs;
	uint64_t next_client_id;
	struct client *current;  /* the client whose request is being dispatched */
	int64_t flush_timer;
	int fd;
	gid_t gid; /* control_group's gid, or (gid_t)-1 */
	struct control_tls *tls; /* control_tcp's listener, or NULL */
	struct client *clients;
	size_t n_clients;
	int64_t sweep_timer, resume_timer, accept_timer, accept_timer_tcp;
	struct log_ratelimit rl_refuse, rl_accept, rl_close[_CLOSE_MAX];
	void (*events_hook)(void *userdata); /* control_events_hook() */
	void *events_hook_data;
};

/* conn.c */
/* A client on cfd (not yet watched); NULL when out of memory. */
struct client *conn_new(struct control *ctl, int cfd, uid_t uid, enum role role);
/* Watch cl on the loop and list it; on failure the caller still owns cl and cfd. */
int conn_attach(struct client *cl);
/* Unlist, unwatch, close and free cl. */
void conn_free(struct client *cl);
struct client *conn_by_id(struct control *ctl, uint64_t id);
/* Queue s for cl: -ENOBUFS past MAX_CONTROL_OUTBUF. */
int conn_queue(struct client *cl, const char *s);
/* Send what is queued, as far as the peer takes it; < 0 when the peer is gone. */
int conn_flush(struct client *cl);
/* Queue a reply line (freed); a reply over the limit is answered with an error. */
void conn_respond(struct client *cl, char *line);
/* Serve what is buffered, send what is queued, then close it or wait for it. May free cl. */
void conn_service(struct client *cl);
/* Serve cl in the next loop pass. */
void conn_kick(struct client *cl);
/* The sweep timer: closes idle and stalled clients, and schedules itself again. */
void conn_sweep(struct loop *l, void *userdata);

/* listen.c */
/* The Unix socket (control_socket, peer credentials) and, with control_tcp, the TLS
 * listener: bound and watched. */
int listen_start(struct control *ctl, struct dl_err *reterr);
/* Unwatch and close both; the socket file is removed. */
void listen_stop(struct control *ctl);
