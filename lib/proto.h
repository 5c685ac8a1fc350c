/* SPDX-License-Identifier: MIT */
/* The control protocol's messages (docs/control-protocol.md): newline-delimited JSON
 * requests {"id","verb","args"} and responses {"id","ok","result"|"error"}. Framing and
 * transport live with the programs; this file only parses and builds messages. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "err.h"

/* Longest request line: large enough for a node.add of a few thousand nodes written
 * out, small enough that one client cannot make bootsvc buffer without bound. */
#define MAX_CONTROL_LINE (64 * 1024)
/* Longest verb name. */
#define MAX_VERB 32

struct proto_req {
	json_t *id;   /* owned; integer or string (json null when the line had none) */
	char verb[MAX_VERB + 1];
	json_t *args; /* owned; an object, empty when absent */
};

/* Parse one request line (without the '\n'). On error *ret still gets a usable id (the
 * request's if it could be read, else null) so the error response can carry it; the
 * caller calls proto_req_done() in both cases. */
int proto_req_parse(const char *line, size_t len, struct proto_req *ret, struct dl_err *reterr);
void proto_req_done(struct proto_req *r);

/* Build a response line, '\n'-terminated, malloc'd; NULL on ENOMEM.
 * proto_ok steals result (NULL means {}). */
char *proto_ok(json_t *id, json_t *result);
/* proto_ok() for a result already written as JSON text (trusted: not re-parsed). */
char *proto_ok_text(json_t *id, const char *result);
/* The message may hold any bytes: invalid UTF-8 is sent as '?'. */
char *proto_error(json_t *id, int code, const char *message);
/* Replace each byte of s that is not part of a valid UTF-8 sequence with '?', in place. */
void proto_utf8_clean(char *s);

/* Build a request line for clients; steals args (NULL means {}). */
char *proto_request(json_t *id, const char *verb, json_t *args);

/* Check that args has only keys from allowed (NULL-terminated); else -EINVAL naming the
 * first unknown key. */
int proto_args_check(const json_t *args, const char *const *allowed, struct dl_err *reterr);
/* Get a string arg. Missing: -ENOENT if required (reterr "missing 'key'"), else 0 with
 * *ret = NULL. Wrong type or over max_len bytes: -EINVAL. *ret is borrowed from args. */
int proto_arg_str(const json_t *args, const char *key, bool required, size_t max_len,
    const char **ret, struct dl_err *reterr);
int proto_arg_bool(const json_t *args, const char *key, bool def, bool *ret,
    struct dl_err *reterr);
