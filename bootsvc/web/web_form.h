/* SPDX-License-Identifier: MIT */
/* What the admin listener reads from a browser, parsed at the boundary (CONVENTIONS §8):
 * the login form (application/x-www-form-urlencoded), the session cookie, the /api/<verb>
 * path and the few query parameters the page sends. Pure functions, no MHD: fuzzed by
 * tests/fuzz/fuzz_web_form.c and tested by tests/unit/test_web.c. */
#pragma once

#include <jansson.h>
#include <stddef.h>

#include "err.h"

/* Largest login form body: a user name, a password and their field names. */
#define MAX_WEB_FORM 1024
/* Longest user name of the password file (and the form). */
#define MAX_WEB_USER 32
/* Longest password accepted: crypt(3) reads at most this much of it anyway for
 * sha512-crypt's and yescrypt's purposes, and a bigger one only costs hashing time. */
#define MAX_WEB_PASSWORD 256
/* A session token and a CSRF token: 32 random bytes as hex. */
#define WEB_TOKEN_HEX 64
/* Longest verb name of the control protocol (vm.balance, node.reset-disk). */
#define MAX_WEB_VERB 32
/* Longest query parameter value taken into a verb's args (a hostlist of a few racks). */
#define MAX_WEB_QUERY_VALUE 1024

/* The value of field name in a urlencoded body (len bytes, not NUL-terminated):
 * '+' and %XX decoded into out (size bytes, NUL-terminated). 0, -ENOENT when the field
 * is absent, -EINVAL for a bad escape or a NUL byte, -E2BIG when the body or the value
 * is too long; reterr names the field. */
int web_form_field(const char *body, size_t len, const char *name, char *out, size_t size,
    struct dl_err *reterr);

/* The session token in a Cookie header ("a=b; dl_session=<hex>"): 0 and out (at least
 * WEB_TOKEN_HEX + 1 bytes), -ENOENT when there is none, -EINVAL when it is not
 * WEB_TOKEN_HEX lowercase hex digits. */
#define WEB_COOKIE "dl_session"
int web_cookie_token(const char *header, char out[static WEB_TOKEN_HEX + 1]);

/* The verb of an /api/<verb> URL: letters, digits, '.' and '-', at most MAX_WEB_VERB.
 * 0 and out, -ENOENT when url is not under /api/, -EINVAL otherwise (reterr says why). */
int web_api_verb(const char *url, char out[static MAX_WEB_VERB + 1], struct dl_err *reterr);

/* One query parameter of a GET /api/<verb> into args: "names" and "name" as strings,
 * "since" as a non-negative integer; any other key is refused (-EINVAL) so a typo is
 * not silently ignored, and a value longer than MAX_WEB_QUERY_VALUE is -E2BIG. */
int web_query_arg(json_t *args, const char *key, const char *value, struct dl_err *reterr);
