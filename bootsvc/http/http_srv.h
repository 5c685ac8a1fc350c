/* SPDX-License-Identifier: MIT */
/* What http.c (the servers, the requests), http_direct.c (the scripts answered without
 * libmicrohttpd), http_reader.c (the reader threads, the hand-off to the loop) and
 * http_observe.c (the server's event rate) share; only they (and test_http_node, which
 * counts a server's connections) include it. */
#pragma once

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>

#include "http/http_internal.h"
#include "log.h"

/* One TCP connection: libmicrohttpd's (MHD_OPTION_NOTIFY_CONNECTION), or, until its first
 * request's head is in, the direct path's (http_direct.c). While a request's head or body
 * is still arriving it sits in its server's deadline list, oldest first: the list is
 * ordered by since, because a connection re-enters at the tail when its next request
 * starts. */
struct conn {
	int fd;
	uint64_t since; /* the request the deadline measures started here */
	bool waiting;   /* in the deadline list */
	bool counted;   /* in http's per-address counts (ip_limit) */
	bool direct;    /* the direct path's, in its epoll set: not libmicrohttpd's yet */
	uint32_t addr;  /* the client's IPv4 address, network order */
	struct sockaddr_in sa; /* for MHD_add_connection, when the direct path hands it on */
	char client[16];
	struct conn *prev, *next;
};

/* One serving thread's server: its copy of the listening socket, its libmicrohttpd daemon
 * in external-epoll mode on the thread's loop, its connections' deadlines. The loop's
 * serves everything; a reader thread's (http_threads > 1) answers the scripts it can from
 * its view and hands every other request to the loop (handoff_push), because the loop
 * stays the only writer and the owner of every room. The servers share one listening
 * socket and the kernel wakes one that is free per connection (srv_accept_on); a
 * connection stays with the server that accepted it. */
struct srv {
	struct http *h;
	struct bootsvc *bs;
	struct loop *loop;  /* the thread's */
	struct http_view *view; /* NULL: the loop's server */
	struct metrics *m;  /* the thread's counters: bs->metrics, or the view's */
	struct MHD_Daemon *d;
	int epfd;
	int listen_fd;      /* the shared listening socket (our own fd of it): on_listen */
	int direct_epfd;    /* the direct path's connections awaiting their head */
	struct conn *adopt; /* the direct path's connection MHD_add_connection is taking */
	unsigned n_conns;   /* open: the direct path's and MHD's */
	unsigned max_conns; /* this server's share of max_connections */
	bool accept_off;    /* at max_conns: the queue waits in the kernel's backlog */
	struct conn *head, *tail; /* the deadline list */
	struct log_ratelimit rl_mhd, rl_deadline;
	uint64_t n_deadline;
	uint64_t n_requests; /* for diskless_http_thread_requests_total */
	uint64_t n_handoffs; /* a reader's requests handed to the loop (handoff_push) */
	uint64_t n_direct;   /* scripts answered on the direct path (http_direct.c) */
	int wake_fd;         /* a reader's eventfd: connections resumed (http_resume), or
	                      * quit; -1 for the loop's */
};

/* A reader thread: its loop and server, and what it answers from. */
struct reader {
	struct srv srv;
	struct http_view view;
	pthread_t thread;
	bool running;
	atomic_bool quit; /* the loop asks the thread to stop */
};

/* http_observe()'s rate of one (node, kind) pair. The table has more slots than the pairs
 * one attack touches at once; two pairs sharing a slot just restart each other's burst. */
#define OBSERVE_SLOTS 256
struct observe_slot {
	char node[MAX_NODE_NAME];
	char what[24];
	unsigned tokens;
	uint64_t at_ms;
	unsigned suppressed;
};

struct http {
	struct bootsvc *bs;
	struct srv main;
	struct ip_limit *ips; /* connections per address, across every server */
	struct reader *readers;
	unsigned n_readers;
	/* Reader threads' requests for the loop, oldest first. Bounded by their
	 * connections: a connection has at most one request, suspended while it waits. */
	pthread_mutex_t lock;
	struct req *q_head, *q_tail;
	int q_fd;            /* eventfd: wakes the loop when the queue stops being empty */
	/* Boot records the readers leave for the loop to write (boot/boot_records.h); NULL
	 * without readers, or on a store that is not embedded (a PostgreSQL write can fail
	 * after the answer went: there the loop answers first boots, and records before). */
	struct boot_records *records;
	int64_t records_timer; /* the loop's wait for them to fall due, -1: none */
	struct observe_slot observe[OBSERVE_SLOTS]; /* the loop's (http_observe.c) */
};

/* http.c: a server's parts, for the reader threads' too. */
/* k's next request starts at now: its head must be in by the deadline. */
void conn_wait(struct srv *s, struct conn *k, uint64_t now);
void conn_unwait(struct srv *s, struct conn *k);
/* One of s's connections closed: below max_conns again, s accepts again. */
void srv_conn_closed(struct srv *s);
/* r done at now (ok: answered whole): its counters and its log line (CONVENTIONS §9). */
void req_done(struct srv *s, const struct req *r, uint64_t now, bool ok);
int srv_open(struct http *h, struct srv *s, unsigned max_conns, struct dl_err *reterr);
int srv_watch(struct srv *s, struct loop *l, struct dl_err *reterr);
/* s accepts from the shared listening socket, woken alone (EPOLLEXCLUSIVE). */
int srv_accept_on(struct srv *s);
void srv_unwatch(struct srv *s);
void srv_close(struct srv *s);
/* One pass of s's daemon (a store batch on the loop, a reader's batch on a reader). */
void run_mhd(struct srv *s);
/* Its halves, around the direct path's answers too (http_direct.c). */
void srv_batch_begin(struct srv *s);
void srv_batch_end(struct srv *s);
/* The end of a store batch of the loop's: its commit, then the boot records it wrote are
 * no longer pending (boot/boot_records.h), so a reader may decide on those nodes again. */
void loop_batch_end(struct http *h);
/* max_connections' share of server i (0: the loop's). */
unsigned share_of(const struct config *cfg, unsigned i);
/* A request's answer by route: what the loop does with its own and with those handed
 * over. */
enum MHD_Result route(struct bootsvc *bs, struct MHD_Connection *c, struct req *r,
    const char *url, const char *method);
/* A node API POST's headers: refused now (answered), or MHD_YES to read its body. */
enum MHD_Result route_headers(struct bootsvc *bs, struct MHD_Connection *c, struct req *r,
    const char *url, const char *method);

/* http_direct.c: a script on a connection libmicrohttpd never sees. A connection s
 * accepts waits in direct_epfd for its first bytes; a whole plain GET of an /ipxe script
 * (http_head.h) is answered there, from the view on a reader thread, and closed; anything
 * else, or a script the view leaves to the loop, goes to MHD_add_connection unread. */
int direct_open(struct srv *s, struct dl_err *reterr);
int direct_watch(struct srv *s);
void direct_run(struct srv *s);
void direct_accept(struct srv *s, int fd, const struct sockaddr_in *sa);
/* A direct connection closed: its head was not in by its deadline, its client went, or
 * it was answered. */
void direct_drop(struct srv *s, struct conn *k);
/* Every direct connection closed, and the epoll set (srv_close). */
void direct_close(struct srv *s);

/* http_reader.c: the reader threads of h. readers_open makes n servers, their sockets
 * bound but not listening (before privileges are dropped); readers_free stops and frees
 * them (http_stop). handoff_push gives the loop a reader's request (on_request). */
int readers_open(struct http *h, unsigned n, struct dl_err *reterr);
void readers_free(struct http *h);
enum MHD_Result handoff_push(struct srv *s, struct MHD_Connection *c, struct req *r,
    enum handoff stage);
