/* SPDX-License-Identifier: MIT */
/* A request body read in pieces, up to a cap: the boot network's node callbacks and the
 * web view's POSTs. Past the cap the rest is drained, not kept, and only marked, so the
 * server answers 413 once the request has been read rather than cutting the client off
 * mid-send. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Append n bytes of data to *body (owned, NUL-terminated, *len bytes), unless *len + n
 * would pass cap: then *too_big is set and nothing more is kept. -ENOMEM (and *body
 * unchanged) when memory runs out, else 0. */
int body_append(char **body, size_t *len, bool *too_big, const void *data, size_t n,
    size_t cap);
