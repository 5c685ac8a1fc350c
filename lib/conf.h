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

/* Read and parse a whole file (at most 1 MiB). -ENOENT etc. with reterr naming the file. */
int conf_parse_file(const char *path, conf_item_fn fn, void *userdata, struct dl_err *reterr);
