/* SPDX-License-Identifier: MIT */
/* What http.c (the servers, the requests), http_reader.c (the reader threads, the
 * hand-off to the loop) and http_observe.c (the server's event rate) share; only they
 * include it. */
#pragma once

#include <pthread.h>
#include <stdatomic.h>

#include "http/http_internal.h"
#include "log.h"

struct conn; /* http.c's: one TCP connection */

/* One serving thread's server: its listening socket, its libmicrohttpd daemon in
 * external-epoll mode on the thread's loop, its connections' deadlines. The loop's serves
 * everything; a reader thread's (http_threads > 1) answers the scripts it can from its
 * view and hands every other request to the loop (handoff_push), because the loop stays
 * the only writer and the owner of every room. The kernel spreads connections among the
 * servers' sockets (SO_REUSEPORT); a connection stays with the server that accepted it. */
struct srv {
	struct http *h;
	struct bootsvc *bs;
	struct loop *loop;  /* the thread's */
	struct http_view *view; /* NULL: the loop's server */
	struct metrics *m;  /* the thread's counters: bs->metrics, or the view's */
	struct MHD_Daemon *d;
	int epfd;
	int listen_fd;      /* ours: accepted here and handed to MHD (on_listen) */
	unsigned n_conns;   /* open, as MHD notifies them */
	unsigned max_conns; /* this server's share of max_connections */
	bool accept_off;    /* at max_conns: the queue waits in the kernel's backlog */
	struct conn *head, *tail; /* the deadline list */
	struct log_ratelimit rl_mhd, rl_deadline;
	uint64_t n_deadline;
	uint64_t n_requests; /* for diskless_http_thread_requests_total */
	uint64_t n_handoffs; /* a reader's requests handed to the loop (handoff_push) */
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
	struct observe_slot observe[OBSERVE_SLOTS]; /* the loop's (http_observe.c) */
};

/* http.c: a server's parts, for the reader threads' too. */
int srv_open(struct http *h, struct srv *s, unsigned max_conns, struct dl_err *reterr);
int srv_listen(struct srv *s, struct dl_err *reterr);
int srv_watch(struct srv *s, struct loop *l, struct dl_err *reterr);
void srv_unwatch(struct srv *s);
void srv_close(struct srv *s);
/* One pass of s's daemon (a store batch on the loop, a reader's batch on a reader). */
void run_mhd(struct srv *s);
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

/* http_reader.c: the reader threads of h. readers_open makes n servers, their sockets
 * bound but not listening (before privileges are dropped); readers_free stops and frees
 * them (http_stop). handoff_push gives the loop a reader's request (on_request). */
int readers_open(struct http *h, unsigned n, struct dl_err *reterr);
void readers_free(struct http *h);
enum MHD_Result handoff_push(struct srv *s, struct MHD_Connection *c, struct req *r,
    enum handoff stage);
