/* SPDX-License-Identifier: MIT */
/* One node's health memory (state.h): readings in, the doomed latch cleared on request. */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "health/health_internal.h"
#include "health/state.h"

/* IPMI 2.0 §37.1: SEL timestamps up to 0x20000000 count seconds since the BMC initialised,
 * not since 1970, and 0xffffffff means "unspecified". */
#define SEL_TIME_POSTINIT_MAX 0x20000000u
#define SEL_TIME_UNSPECIFIED 0xffffffffu

void
health_state_init(struct health_state *st)
{
	assert(st);
	*st = (struct health_state){ 0 };
}

void
health_state_done(struct health_state *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < _HEALTH_SEL_CLASS_MAX; i++)
		free(st->ev[i].t);
	free(st->alerts);
	health_state_init(st);
}

/* When a record happened (state.h, health_state_update(): "An event's time"). */
static int64_t
event_time(const struct health_sel_entry *e, bool trust_sel_clock, int64_t now)
{
	if (trust_sel_clock && e->timestamp > SEL_TIME_POSTINIT_MAX &&
	    e->timestamp != SEL_TIME_UNSPECIFIED && (int64_t)e->timestamp <= now)
		return (int64_t)e->timestamp;
	return now;
}

int
health_state_update(struct health_state *st, const struct health_reading *r, int64_t now)
{
	_cleanup_free_ struct health_sensor *alerts = NULL;
	size_t n_alerts = 0, add[_HEALTH_SEL_CLASS_MAX] = { 0 };
	bool trust_sel_clock;

	assert(st);
	assert(r);
	assert(r->n_sensors == 0 || r->sensors);
	assert(r->n_sel == 0 || r->sel);

	for (size_t i = 0; i < r->n_sensors; i++)
		if (r->sensors[i].state == HEALTH_SENSOR_WARNING ||
		    r->sensors[i].state == HEALTH_SENSOR_CRITICAL)
			n_alerts++;
	if (n_alerts > 0) {
		alerts = calloc(n_alerts, sizeof(*alerts));
		if (!alerts)
			return -ENOMEM;
		n_alerts = 0;
		for (size_t i = 0; i < r->n_sensors; i++)
			if (r->sensors[i].state == HEALTH_SENSOR_WARNING ||
			    r->sensors[i].state == HEALTH_SENSOR_CRITICAL)
				alerts[n_alerts++] = r->sensors[i];
	}

	for (size_t i = 0; i < r->n_sel; i++)
		if (r->sel[i].assertion && r->sel[i].cls >= 0 && r->sel[i].cls < _HEALTH_SEL_CLASS_MAX)
			add[r->sel[i].cls]++;
	for (size_t c = 0; c < _HEALTH_SEL_CLASS_MAX; c++)
		if (add[c] > 0 && health_window_reserve(&st->ev[c], st->ev[c].n + add[c]) < 0)
			return -ENOMEM;

	/* nothing fails from here on */
	trust_sel_clock = !st->primed || r->sel_reset;
	for (size_t i = 0; i < r->n_sel; i++) {
		const struct health_sel_entry *e = &r->sel[i];

		if (!e->assertion || e->cls < 0 || e->cls >= _HEALTH_SEL_CLASS_MAX)
			continue;
		health_window_insert(&st->ev[e->cls], event_time(e, trust_sel_clock, now));
	}
	for (size_t c = 0; c < _HEALTH_SEL_CLASS_MAX; c++)
		health_window_prune(&st->ev[c], now - MAX_HEALTH_WINDOW_S);

	free(st->alerts);
	st->alerts = TAKE_PTR(alerts);
	st->n_alerts = n_alerts;
	st->sel_last_id = r->sel_last_id;
	st->primed = true;
	return 0;
}

void
health_state_clear(struct health_state *st)
{
	assert(st);
	for (size_t c = 0; c < _HEALTH_SEL_CLASS_MAX; c++)
		st->ev[c].n = 0;
	st->doomed = false;
	st->doomed_since = 0;
	st->n_doomed_reasons = 0;
	memset(st->doomed_reason, 0, sizeof(st->doomed_reason));
}
