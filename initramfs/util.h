/* SPDX-License-Identifier: MIT */
/* Small helpers shared by the init's files: an error message buffer and console output.
 * libc only (CONVENTIONS §1): the init links only lib/'s libc-only files (the Makefile's
 * INIT_FROM_LIB: sha256.c, relpath.c, tree_digest.c). */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define _init_printf_(a, b) __attribute__((format(printf, a, b)))

/* Longest error text kept; it ends up in a console line and a JSON "reason". */
#define MAX_INIT_ERR 256

struct init_err {
	char msg[MAX_INIT_ERR];
};

/* Format msg into e (may be NULL) and return code, so callers write
 * `return init_err_set(reterr, -EINVAL, "...")`. */
int init_err_set(struct init_err *e, int code, const char *fmt, ...) _init_printf_(3, 4);

/* Prefix e->msg with "ctx: " (truncating); returns code. */
int init_err_prefix(struct init_err *e, int code, const char *fmt, ...) _init_printf_(3, 4);

/* Longest console line init_vlog() writes. */
#define MAX_INIT_LINE 600

/* One line "<prefix><message>\n" to stderr (the console for PID 1) as a single write(),
 * cut to size bytes (at most MAX_INIT_LINE; the prefix must leave room). */
void init_vlog(const char *prefix, size_t size, const char *fmt, va_list ap)
    _init_printf_(3, 0);

/* One line to stderr, prefixed "diskless: ", at most 512 bytes (init_vlog()). */
void init_log(const char *fmt, ...) _init_printf_(1, 2);

/* Copy s into dst (size bytes incl. NUL) replacing control and non-ASCII bytes by '?'
 * and capping the length, so text from outside can be logged and embedded in JSON. */
void init_sanitize(char *dst, size_t size, const char *s, size_t len);

/* Write s as a JSON string (with quotes) into dst. Returns the length written, or -ENOSPC. */
int init_json_str(char *dst, size_t size, const char *s);

/* write(2) all of buf, retrying EINTR and short writes. Returns 0 or -errno. */
int init_write_all(int fd, const void *buf, size_t len);

/* Read a whole small file (at most max bytes) into buf and NUL-terminate it.
 * Returns the length or -errno (-EFBIG when longer than max). */
int init_read_file(const char *path, char *buf, size_t max);

/* Sleep ms milliseconds, ignoring EINTR (all signals are blocked in PID 1 anyway). */
void init_sleep_ms(unsigned ms);

/* Strict unsigned decimal, whole string, no sign, in [0, max]. Returns 0 or -EINVAL/-ERANGE. */
int init_parse_u64(const char *s, size_t len, uint64_t max, uint64_t *ret);
