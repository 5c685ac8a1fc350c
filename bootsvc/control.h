/* SPDX-License-Identifier: MIT */
/* The control socket (docs/control-protocol.md): a Unix stream socket, newline-delimited
 * JSON, clients authorised by peer credentials (root or control_group). */
#pragma once

#include <jansson.h>

#include "bootsvc.h"

int control_start(struct bootsvc *bs, struct control **ret, struct dl_err *reterr);
struct control *control_stop(struct control *c);

/* A verb handler: args validated by proto_req_parse (an object). On success sets
 * *ret_result (new reference); on failure returns -errno with reterr. */
typedef int (*control_verb_fn)(struct bootsvc *bs, const json_t *args, json_t **ret_result,
    struct dl_err *reterr);

struct control_verb {
	const char *name;
	control_verb_fn fn;
};

/* The verb tables of ctl_node.c and ctl_image.c, NULL-name terminated. */
extern const struct control_verb ctl_node_verbs[];
extern const struct control_verb ctl_image_verbs[];

/* Dispatch one request line and return the response line (malloc'd, '\n'-terminated).
 * Exposed for the fuzz target and tests. */
char *control_handle_line(struct bootsvc *bs, const char *line, size_t len);
