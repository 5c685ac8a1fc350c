/* SPDX-License-Identifier: MIT */
/* One node's health memory: recent SEL events per class (time in seconds, ascending), the
 * sensors that were not nominal at the last read, the last SEL record id consumed, and the
 * latched doomed verdict. Embedded; health_state_init() / health_state_done(). Owned and
 * touched by one thread (the loop). persist.h stores it; eval.h judges it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "health/health.h"

/* Reasons reported and doomed reasons latched per node; more are counted, not listed. */
#define MAX_HEALTH_REASONS 8
/* "doomed: " + sensor name + " upper non-recoverable (" + event text + ")" */
#define MAX_HEALTH_REASON 160

/* One class's event times, ascending, at most MAX_HEALTH_EVENTS (window.c keeps it). */
struct health_event_list {
	int64_t *t;
	uint16_t n, cap;
};

struct health_state {
	struct health_event_list ev[_HEALTH_SEL_CLASS_MAX];
	struct health_sensor *alerts;    /* not-nominal sensors of the last reading */
	size_t n_alerts;
	uint32_t sel_last_id;            /* pass to health_read() as sel_after */
	bool primed;                     /* a reading was taken since the state was new */
	bool doomed;                     /* latched until health_state_clear() */
	int64_t doomed_since;
	char doomed_reason[MAX_HEALTH_REASONS][MAX_HEALTH_REASON];
	size_t n_doomed_reasons;
};

void health_state_init(struct health_state *st);
/* Free st's memory and re-init it; copes with a half-filled st. */
void health_state_done(struct health_state *st);

/* Take one reading into st at time now: its asserted SEL records become events (events
 * older than MAX_HEALTH_WINDOW_S are forgotten, a class keeps its MAX_HEALTH_EVENTS
 * newest), its not-nominal sensors replace st's, and its sel_last_id is kept.
 *
 * An event's time: once the state is primed, new records happened since the previous
 * read, so they count at `now` (a BMC clock that is wrong by years cannot hide them). On
 * the first reading of a node, and after the SEL was reset, records may be old: then the
 * SEL timestamp counts when it is a real date no later than now (older events fall out of
 * their windows), else now.
 *
 * Returns 0, or -ENOMEM leaving st as it was. r is borrowed. */
int health_state_update(struct health_state *st, const struct health_reading *r, int64_t now);

/* An administrator's "the node is fixed": drop the latched doomed verdict and every
 * remembered SEL event (else a rule like `doomed ecc_uncorrectable >= 1 in 30d` re-dooms at
 * once from the history). Sensors are kept: one still critical dooms again at the next
 * evaluation, which is right. sel_last_id is kept (those records were consumed). */
void health_state_clear(struct health_state *st);
