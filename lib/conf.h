/* SPDX-License-Identifier: MIT */
/* A reader for key=value files (bootsvc.conf, node.conf): '#' comments, blank lines,
 * optional spaces around '=', values taken verbatim to the end of line (trailing blanks
 * stripped). The caller's callback gives each key its meaning. */
#pragma once

#include <stddef.h>

#include "err.h"

/* Longest line accepted; a longer one is an error, never silently split. */
#define MAX_CONF_LINE 4096

/* Called for each key=value; return 0 or a -errno with reterr filled (the reader adds
 * "file:line: " in front). */
typedef int (*conf_item_fn)(const char *key, const char *value, void *userdata,
    struct dl_err *reterr);

/* Parse buf (len bytes, need not be NUL-terminated). name is used in messages. */
int conf_parse_buffer(const char *name, const char *buf, size_t len, conf_item_fn fn,
    void *userdata, struct dl_err *reterr);

/* Called with each bad line's error by conf_check_buffer(). */
typedef void (*conf_error_fn)(const struct dl_err *err, void *userdata);

/* Like conf_parse_buffer(), but a bad line goes to on_error and the reading goes on, so
 * one run names every mistake of a file (bootsvc --check-config). Returns how many lines
 * were bad (0: none). */
int conf_check_buffer(const char *name, const char *buf, size_t len, conf_item_fn fn,
    void *userdata, conf_error_fn on_error, void *err_userdata);

/* Read and parse a whole file (at most 1 MiB). -ENOENT etc. with reterr naming the file. */
int conf_parse_file(const char *path, conf_item_fn fn, void *userdata, struct dl_err *reterr);
