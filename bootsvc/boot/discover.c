/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include "boot/discover.h"

static struct discover_src *
bucket(struct discover_limit *d, const char *addr, unsigned per_min, int64_t now_ms)
{
	struct discover_src *oldest = NULL, *s;

	for (unsigned i = 0; i < d->n; i++) {
		s = &d->src[i];
		if (strcmp(s->addr, addr) == 0)
			return s;
		if (!oldest || s->at_ms < oldest->at_ms)
			oldest = s;
	}
	s = d->n < MAX_DISCOVER_SOURCES ? &d->src[d->n++] : oldest;
	memset(s, 0, sizeof(*s));
	(void)snprintf(s->addr, sizeof(s->addr), "%s", addr);
	s->credit = (int64_t)per_min * 60000;
	s->at_ms = now_ms;
	return s;
}

enum discover_verdict
discover_rate_take(struct discover_limit *d, const char *addr, unsigned per_min,
    int64_t now_ms)
{
	struct discover_src *s = bucket(d, addr, per_min, now_ms);

	int64_t full = (int64_t)per_min * 60000;

	if (now_ms > s->at_ms) {
		/* a minute refills per_min tokens; capped before the product can overflow */
		int64_t dt = now_ms - s->at_ms > 60000 ? 60000 : now_ms - s->at_ms;

		s->credit += dt * per_min;
		if (s->credit > full)
			s->credit = full;
	}
	s->at_ms = now_ms;
	if (s->credit >= 60000) {
		s->credit -= 60000;
		s->refusing = false;
		return DISCOVER_OK;
	}
	d->refused_rate++;
	if (s->refusing)
		return DISCOVER_REFUSED;
	s->refusing = true;
	return DISCOVER_REFUSED_FIRST;
}

bool
discover_cap_recount(const struct discover_limit *d, int64_t now_ms)
{
	return !d->cap_reached || now_ms - d->counted_ms >= DISCOVER_RECOUNT_MS ||
	    now_ms < d->counted_ms;
}

enum discover_verdict
discover_cap_check(struct discover_limit *d, int64_t discovered, unsigned max,
    int64_t now_ms)
{
	d->counted_ms = now_ms;
	if (discovered < (int64_t)max) {
		d->cap_reached = false;
		return DISCOVER_OK;
	}
	d->refused_cap++;
	if (d->cap_reached)
		return DISCOVER_REFUSED;
	d->cap_reached = true;
	return DISCOVER_REFUSED_FIRST;
}
