/* SPDX-License-Identifier: MIT */
/* An error for people: code, message and where it was raised (CONVENTIONS §4). */
#pragma once

#include "macro.h"

/* Longest message kept; longer ones are truncated, never overflowed. */
#define MAX_ERR_MSG 512

struct dl_err {
	int code;             /* negative errno, 0 when unset */
	char msg[MAX_ERR_MSG];
	const char *file;     /* static string: __FILE__ of the raising site */
	int line;
};

/* Fill *e (which may be NULL) and return code, so callers can write
 * `return dl_err_set(reterr, -EINVAL, "...")`. */
#define dl_err_set(e, code, ...) dl_err_set_at((e), __FILE__, __LINE__, (code), __VA_ARGS__)
int dl_err_set_at(struct dl_err *e, const char *file, int line, int code, const char *fmt, ...)
    _printf_(5, 6);

/* Prefix an existing message ("ctx: old message"); keeps code and site. Returns e->code. */
int dl_err_prefix(struct dl_err *e, const char *fmt, ...) _printf_(2, 3);

void dl_err_clear(struct dl_err *e);

/* A stable short code name for an errno ("EINVAL"), for logs and API answers. */
const char *dl_errno_name(int code);
