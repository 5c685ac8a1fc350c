/* SPDX-License-Identifier: MIT */
/* Shared by http.c and the route files (http_ipxe.c, http_images.c, api_node.c,
 * metrics.c): the per-request context and response helpers. */
#pragma once

#include <microhttpd.h>

#include "bootsvc.h"
#include "http/http_path.h"

/* Largest request body accepted (phase reports are a few hundred bytes). */
#define MAX_API_BODY (16 * 1024)

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
};

/* Queue a response and record status/bytes in r. Takes ownership of resp. */
enum MHD_Result http_queue(struct MHD_Connection *c, struct req *r, unsigned status,
    struct MHD_Response *resp);
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
enum MHD_Result http_images(struct bootsvc *bs, struct MHD_Connection *c, struct req *r,
    const char *url, const char *method);
enum MHD_Result api_node(struct bootsvc *bs, struct MHD_Connection *c, struct req *r,
    const char *url, const char *method);
/* Whether api_node() would refuse this request on its headers alone (an unknown node, no
 * or a wrong credential): checked before the body is read, so an unauthenticated client
 * cannot make us read one (issue 11); api_node() then answers the refusal. */
bool api_node_refused(struct bootsvc *bs, struct MHD_Connection *c, const char *url);
enum MHD_Result http_metrics(struct bootsvc *bs, struct MHD_Connection *c, struct req *r);
/* One /ipxe request done after ms milliseconds: into the script latency histogram. */
void http_metrics_script_observe(struct metrics *m, uint64_t ms);
