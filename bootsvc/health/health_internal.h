/* SPDX-License-Identifier: MIT */
/* What the files of health/ share and nobody else calls: the sliding windows over a
 * class's event times (window.c) and the reason lists (eval.c). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "health/state.h"

/* Room for a window's text: "7776000s" is the longest (MAX_HEALTH_WINDOW_S in seconds). */
#define HEALTH_WINDOW_TEXT 16

/* WINDOW as a rule writes it (s[0..len), not NUL-terminated): digits and one unit letter
 * s, m, h or d, 1 s .. MAX_HEALTH_WINDOW_S. Fills *ret_s and *ret_unit and returns 0, or
 * -EINVAL (the caller's error names the word). */
int health_window_parse(const char *s, size_t len, uint32_t *ret_s, char *ret_unit);

/* "24h" for a window of 86400 s written with unit 'h'; a unit that does not divide the
 * window, or no unit (a rule built by hand), gives seconds. */
void health_window_format(uint32_t window_s, char unit, char buf[static HEALTH_WINDOW_TEXT]);

/* Events of l in (now - window_s, now]: an event exactly window_s old has left. */
size_t health_window_count(const struct health_event_list *l, int64_t now, uint32_t window_s);

/* Forget events at or before cutoff. */
void health_window_prune(struct health_event_list *l, int64_t cutoff);

/* Make room for want events (capped at MAX_HEALTH_EVENTS). 0 or -ENOMEM; the contents
 * stay valid on failure. */
int health_window_reserve(struct health_event_list *l, size_t want);

/* Insert t keeping l ascending; when full the oldest goes (or t itself, when it is older
 * than everything kept). Capacity must have been reserved. */
void health_window_insert(struct health_event_list *l, int64_t t);

/* Append text to a reason list of *n entries unless it is there already; when the list
 * holds MAX_HEALTH_REASONS, count it in *omitted (which may be NULL) instead. */
void health_eval_reason_add(char (*reason)[MAX_HEALTH_REASON], size_t *n, size_t *omitted,
    const char *text);
