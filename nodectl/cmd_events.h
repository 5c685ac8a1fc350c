/* SPDX-License-Identifier: MIT */
/* The events stream as nodectl takes it, shared by nodectl events and provision --wait:
 * the subscription, and the human form of event lines (on a non-terminal for --wait). */
#pragma once

#include <stdio.h>

#include "client.h"

/* Send verb (the events verb) with args and take its answer: 0 when the stream is on,
 * NODECTL_EXIT_DAEMON when bootsvc refused (its message on stderr as "nodectl: <label>:
 * <message>", or "nodectl: <message>" with label NULL), or -errno from client_call()
 * (-EINTR: woken). */
int cmd_events_subscribe(struct client *c, const char *verb, const json_t *args,
    const char *label, struct dl_err *reterr);

/* "TIME                  NODE            KIND    WHAT             REASON" */
int cmd_events_print_header(FILE *out);

/* One event as a line: TIME (UTC) NODE KIND WHAT REASON in fixed-width columns (the
 * stream has no end to measure widths at; longer values push the rest right), "-" for
 * an empty reason. With json, e->raw compact on one line instead. Returns 0 or -EIO. */
int cmd_events_print_line(FILE *out, const struct client_event *e, bool json);
