/* SPDX-License-Identifier: MIT */
/* Shared by http.c and the route files (http_ipxe.c, http_images.c, api_node.c,
 * metrics.c): the per-request context and response helpers. */
#pragma once

#include <microhttpd.h>

#include "bootsvc.h"
#include "http/http_path.h"

struct boot_records;
struct http_head;

/* Largest request body accepted (phase reports are a few hundred bytes). */
#define MAX_API_BODY (16 * 1024)

/* A reader thread's request the loop answers (http.c's hand-off): at which call of
 * on_request it was handed over. */
enum handoff {
	HANDOFF_NONE,
	HANDOFF_HEADERS, /* its headers: whether api_node() refuses it before its body */
	HANDOFF_FINAL,   /* the whole request: its answer */
};

/* What a reader thread answers scripts from (http_ipxe_read): the store through a
 * reader of its own, the kind scripts it bound itself, and its own counters, which
 * /metrics adds to the loop's (http_metrics_readers). */
struct http_view {
	struct store_reader *rd;
	struct tmpl_bound_cache bound;
	struct metrics m;
	struct boot_records *records; /* the loop's queue, NULL when first boots are its */
	uint64_t epoch;               /* records' commits when rd's read transaction began */
};

/* A reader thread, before it decides on a node's rows: its read transaction begun after
 * every commit of boot records so far (boot/boot_records.h); returns the count it began
 * at, for http_view_stands. */
uint64_t http_view_fresh(struct http_view *v);
/* After deciding on node's rows read since http_view_fresh returned e0: whether the
 * decision stands, false when node has a boot record pending or records were committed
 * since (the reader hands the request to the loop). True without records. */
bool http_view_stands(struct http_view *v, const char *node, uint64_t e0);

struct req {
	enum http_route route;
	uint64_t start_ms;
	unsigned status;
	uint64_t bytes;           /* body bytes we queued */
	char node[MAX_NODE_NAME]; /* for the log line, when known */
	char client[16];
	char *body;               /* POST body, owned */
	size_t body_len;
	bool body_too_big;
	/* The hand-off to the loop (http.c), for a request on a reader thread's connection. */
	struct MHD_Connection *c;
	const char *url, *method; /* MHD's, valid while the request lives */
	enum handoff handoff;     /* the stage handed over; HANDOFF_NONE once taken back */
	bool handed;              /* the loop holds it: an answer goes to resp, not to MHD */
	bool deferred;            /* the loop's handler suspended it (http_suspend) */
	bool failed;              /* the loop's handler returned MHD_NO: close */
	unsigned resp_status;
	struct MHD_Response *resp; /* the loop's answer, queued by the reader thread */
	struct req *next;         /* in the hand-off queue */
	int wake_fd;              /* the reader thread's eventfd (http_resume); -1: the loop's */
	/* A request of the direct path (http_direct.c), whose c is NULL: its head, and the
	 * answer http_respond*() leave here for it to send. */
	const struct http_head *head;
	char *answer;             /* owned */
	size_t answer_len;
	const char *answer_type;  /* a string literal of the route's */
};

/* The query argument key of r: from its head on the direct path, else MHD's. */
const char *http_arg(struct MHD_Connection *c, const struct req *r, const char *key);

/* Queue a response and record status/bytes in r. Takes ownership of resp. */
enum MHD_Result http_queue(struct MHD_Connection *c, struct req *r, unsigned status,
    struct MHD_Response *resp);
/* Suspend c until the answer comes from elsewhere (a worker pool); whoever answers it
 * then calls http_resume(). For a reader thread's request that the loop holds, the
 * connection is suspended already: the loop then leaves resuming it to the answer. */
void http_suspend(struct MHD_Connection *c, struct req *r);
/* Resume c, and wake the thread whose daemon it is: libmicrohttpd in external-polling
 * mode takes a resumption only in its next MHD_run(). */
void http_resume(struct MHD_Connection *c, struct req *r);
/* Text or JSON body from a buffer we own (copied). */
enum MHD_Result http_respond(struct MHD_Connection *c, struct req *r, unsigned status,
    const char *content_type, const char *body, size_t len);
/* The same from a malloc'd body, which the response frees (no copy: a script's answer). */
enum MHD_Result http_respond_owned(struct MHD_Connection *c, struct req *r, unsigned status,
    const char *content_type, char *body, size_t len);
/* {"error":{"code":..,"message":..}} */
enum MHD_Result http_respond_error(struct MHD_Connection *c, struct req *r, unsigned status,
    int code, const char *message);
/* A store lookup of what ("node", "image id") that failed with rc: 404 "unknown <what>"
 * for -ENOENT; anything else is the store failing (a PostgreSQL restart, a lost
 * connection being remade), which passes: 503, so the node's script, init and iPXE ask
 * again instead of taking it for a missing thing. */
enum MHD_Result http_respond_lookup_error(struct MHD_Connection *c, struct req *r, int rc,
    const char *what);

/* An event naming the request's source address, and a warning, for a node request that
 * moves nothing or is refused (issue #11); rate-limited per node and kind
 * (http_observe.c). */
void http_observe(struct bootsvc *bs, const struct req *r, const struct node_rec *n,
    const char *what, const char *why);
enum MHD_Result http_ipxe(struct bootsvc *bs, struct MHD_Connection *c, struct req *r,
    const char *url);
/* GET /ipxe/boot on a reader thread, from v alone: true with *ret when the answer is a
 * kind's script whose only writes are its boot's record (none, or the version served and
 * the phase, queued on v->records for the loop), needing no clock or DHCP evidence; false
 * for the loop to answer (http_ipxe) with everything it may do, and for a node whose
 * record the loop has not committed yet. */
bool http_ipxe_read(struct bootsvc *bs, struct http_view *v, struct MHD_Connection *c,
    struct req *r, const char *url, enum MHD_Result *ret);
/* The loop's boot records queue (boot/boot_records.h): NULL without reader threads or on
 * a store that is not embedded, where every boot's record is written before its answer. */
struct boot_records *http_records(const struct bootsvc *bs);
/* The loop: write the boot records queued (the readers' and its own), in the store batch
 * that is open, each against the node's row as it is now. Whoever ends that batch calls
 * boot_records_committed() after it. */
void http_records_write(struct bootsvc *bs);
/* At most RECORDS_TURN of them, for one turn of the loop (records_run): a storm's first
 * round queues hundreds, each a node read and up to three writes, which written at once
 * held the loop's own connections for milliseconds. boot_records_committed wakes the
 * loop again for the rest, after what else is ready. */
#define RECORDS_TURN 32
void http_records_write_turn(struct bootsvc *bs);
/* The loop, before it decides on node's rows: when node has a record pending, write the
 * queued ones first and return true (the caller looks the node up again). */
bool http_records_before(struct bootsvc *bs, const char *node);
enum MHD_Result http_images(struct bootsvc *bs, struct MHD_Connection *c, struct req *r,
    const char *url, const char *method);
/* http_images()' answer from a reader thread's view, when it writes nothing: the file is
 * here and its fetch moves no node (no node at the client's address, or not in the phase
 * the fetch moves it from). false for the loop to answer: a refusal, a fetch that moves a
 * node, a file that does not open. */
bool http_images_read(struct bootsvc *bs, struct http_view *v, struct MHD_Connection *c,
    struct req *r, const char *url, const char *method, enum MHD_Result *ret);
enum MHD_Result api_node(struct bootsvc *bs, struct MHD_Connection *c, struct req *r,
    const char *url, const char *method);
/* Whether api_node() would refuse this request on its headers alone (an unknown node, no
 * or a wrong credential): checked before the body is read, so an unauthenticated client
 * cannot make us read one (issue 11); api_node() then answers the refusal. */
bool api_node_refused(struct bootsvc *bs, struct MHD_Connection *c, const char *url);
enum MHD_Result http_metrics(struct bootsvc *bs, struct MHD_Connection *c, struct req *r);
/* One /ipxe request done after ms milliseconds: into the script latency histogram. */
void http_metrics_script_observe(struct metrics *m, uint64_t ms);
/* The HTTP counters of bs->http's reader threads added into m (a copy of bs->metrics). */
void http_metrics_readers(const struct bootsvc *bs, struct metrics *m);
/* A serving thread's counts: the requests its connections carried; of those the ones it
 * handed to the loop to answer (a reader's; a POST to the node API counts twice, its
 * headers and its body), and the scripts it answered on the direct path (http_direct.c). */
struct http_thread_count {
	uint64_t requests, handoffs, direct;
};
/* Each serving thread's counts (the loop's is index 0), for /metrics; returns how many
 * threads, at most max. */
unsigned http_thread_counts(const struct bootsvc *bs, struct http_thread_count *ret,
    unsigned max);
/* Whether no boot record of a reader thread waits to be written or committed (true
 * without readers): every answer given is in the store. */
bool http_records_idle(const struct bootsvc *bs);
