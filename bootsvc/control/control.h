/* SPDX-License-Identifier: MIT */
/* The control socket (docs/control-protocol.md): a Unix stream socket, newline-delimited
 * JSON, clients authorised by peer credentials (root or control_group). */
#pragma once

#include <jansson.h>

#include "bootsvc.h"
#include "role.h"

/* Most control clients at once: nodectl invocations and a scheduler or two. The last
 * CONTROL_ROOT_RESERVED slots are root's, so a full table never locks the admin out. */
#define CONTROL_MAX_CLIENTS 128
#define CONTROL_ROOT_RESERVED 4

int control_start(struct bootsvc *bs, struct control **ret, struct dl_err *reterr);
struct control *control_stop(struct control *c);

/* A verb handler: args validated by proto_req_parse (an object). On success sets
 * *ret_result (new reference); on failure returns -errno with reterr. */
typedef int (*control_verb_fn)(struct bootsvc *bs, const json_t *args, json_t **ret_result,
    struct dl_err *reterr);

/* A verb whose result grows with the cluster (node.list of every node) writes it as JSON
 * text, one node at a time, instead of building one json_t tree of it all: *ret_text is
 * the result object's JSON (malloc'd). Errors as for control_verb_fn. */
typedef int (*control_text_verb_fn)(struct bootsvc *bs, const json_t *args, char **ret_text,
    struct dl_err *reterr);

struct control_verb {
	const char *name;
	control_verb_fn fn;
	control_text_verb_fn text_fn; /* set instead of fn */
};

/* The verb tables of verbs_node.c and verbs_image.c, NULL-name terminated. */
extern const struct control_verb verbs_node[];
extern const struct control_verb verbs_image[];
/* verbs_disk.c: node.reset-disk (issue 14). */
extern const struct control_verb verbs_disk[];

/* The verbs of verbs_ctrl.c (provision, power, hold, release, events). */
extern const struct control_verb verbs_ctrl[];

/* The verbs of verbs_vm.c (host.list, vm.list). */
extern const struct control_verb verbs_vm[];

/* The VM layer's verbs of verbs_vm_plan.c (vm.plan, vm.balance, vm.migrate, host.drain,
 * vm.plans, vm.cancel). */
extern const struct control_verb verbs_vm_plan[];

/* verbs_server.c: server.list (issue 15). */
extern const struct control_verb verbs_server[];

/* Dispatch one request line and return the response line (malloc'd, '\n'-terminated),
 * or NULL when the verb deferred its answer. Exposed for the fuzz target and tests. */
char *control_handle_line(struct bootsvc *bs, const char *line, size_t len);

/* A verb handler returns this (> 0) after control_defer() to answer later. */
#define CONTROL_DEFERRED 1

/* An answer owed to a client: refers to the client by id, so a client that went away
 * meanwhile is simply not answered. */
struct control_pending;

/* Only from inside a verb handler: take the request's id for a later answer. NULL when
 * the request did not come from a socket client (tests, fuzzing) or on ENOMEM. */
struct control_pending *control_defer(struct bootsvc *bs);
/* Answer it (steals result; or error when code < 0) and free pending. */
void control_complete(struct bootsvc *bs, struct control_pending *p, json_t *result, int code,
    const char *message);

/* Only from inside a verb handler: stream events with seq > since to this client as
 * {"event": {...}} lines after its answer. -ENOTSUP outside a socket client. */
int control_subscribe(struct bootsvc *bs, int64_t since);
/* New events were stored: send them to subscribers (coalesced on the loop). */
void control_events_notify(struct bootsvc *bs);
/* One event as the protocol's {"event": {...}} line carries it (new reference). */
json_t *control_event_json(const struct event_rec *e);
/* Also tell fn (the admin listener's event stream, web/) each time the subscribers are
 * sent new events; one hook, NULL to remove it. */
void control_events_hook(struct bootsvc *bs, void (*fn)(void *userdata), void *userdata);

/* Call verb for a client other than the socket's (the admin listener, web/), as role
 * (who names it in refusals): the same role check and handler as a socket request.
 * Deferred verbs answer at once with what they queued. On success *ret_result (new
 * reference) or *ret_text (malloc'd JSON) is set; -EPERM when the role may not use the
 * verb, -ENOENT for an unknown verb (reterr says so), else the verb's -errno. */
int control_call_as(struct bootsvc *bs, enum role role, const char *who, const char *verb,
    const json_t *args, json_t **ret_result, char **ret_text, struct dl_err *reterr);
