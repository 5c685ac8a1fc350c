/* SPDX-License-Identifier: MIT */
/* The human form of event lines, shared by nodectl events and provision --wait on a
 * non-terminal. */
#pragma once

#include <stdio.h>

#include "client.h"

/* "TIME                  NODE          KIND    WHAT             REASON" */
int cmd_events_print_header(FILE *out);

/* One event as a line: TIME (UTC) NODE KIND WHAT REASON in fixed-width columns (the
 * stream has no end to measure widths at; longer values push the rest right), "-" for
 * an empty reason. With json, e->raw compact on one line instead. Returns 0 or -EIO. */
int cmd_events_print_line(FILE *out, const struct client_event *e, bool json);
