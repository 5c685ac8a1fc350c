/* SPDX-License-Identifier: MIT */
/* Sliding windows: a class's event times kept ascending and bounded, counted over a rule's
 * window, and a window's text as rules write it ("24h"). */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health/health_internal.h"
#include "parse.h"

/* Seconds per window unit; 0 for a letter that is not one. */
static uint32_t
unit_seconds(char unit)
{
	switch (unit) {
	case 's':
		return 1;
	case 'm':
		return 60;
	case 'h':
		return 3600;
	case 'd':
		return 24 * 3600;
	default:
		return 0;
	}
}

int
health_window_parse(const char *s, size_t len, uint32_t *ret_s, char *ret_unit)
{
	char digits[16];
	uint64_t v, mult;
	struct dl_err ignored = { 0 };
	char unit;

	if (len < 2 || len - 1 >= sizeof(digits))
		return -EINVAL;
	unit = s[len - 1];
	mult = unit_seconds(unit);
	if (mult == 0)
		return -EINVAL;
	memcpy(digits, s, len - 1);
	digits[len - 1] = '\0';
	if (parse_u64(digits, 1, MAX_HEALTH_WINDOW_S, &v, &ignored) < 0 ||
	    v * mult > MAX_HEALTH_WINDOW_S)
		return -EINVAL;
	*ret_s = (uint32_t)(v * mult);
	*ret_unit = unit;
	return 0;
}

void
health_window_format(uint32_t window_s, char unit, char buf[static HEALTH_WINDOW_TEXT])
{
	uint32_t per = unit_seconds(unit);

	if (per == 0 || window_s % per != 0) {
		unit = 's';
		per = 1;
	}
	snprintf(buf, HEALTH_WINDOW_TEXT, "%" PRIu32 "%c", window_s / per, unit);
}

size_t
health_window_count(const struct health_event_list *l, int64_t now, uint32_t window_s)
{
	int64_t cutoff = now - (int64_t)window_s;
	size_t k = 0;

	/* ascending: walk back from the newest while inside (now - window, ...] */
	for (size_t i = l->n; i > 0 && l->t[i - 1] > cutoff; i--)
		k++;
	return k;
}

void
health_window_prune(struct health_event_list *l, int64_t cutoff)
{
	uint16_t k = 0;

	while (k < l->n && l->t[k] <= cutoff)
		k++;
	if (k == 0)
		return;
	memmove(l->t, l->t + k, (size_t)(l->n - k) * sizeof(*l->t));
	l->n = (uint16_t)(l->n - k);
}

/* A larger capacity than needed is harmless, so a failed grow keeps the old array. */
int
health_window_reserve(struct health_event_list *l, size_t want)
{
	int64_t *t;
	size_t cap;

	if (want > MAX_HEALTH_EVENTS)
		want = MAX_HEALTH_EVENTS;
	if (want <= l->cap)
		return 0;
	cap = l->cap ? l->cap : 16;
	while (cap < want)
		cap *= 2;
	if (cap > MAX_HEALTH_EVENTS)
		cap = MAX_HEALTH_EVENTS;
	t = reallocarray(l->t, cap, sizeof(*t));
	if (!t)
		return -ENOMEM;
	l->t = t;
	l->cap = (uint16_t)cap;
	return 0;
}

void
health_window_insert(struct health_event_list *l, int64_t t)
{
	size_t i;

	if (l->n == MAX_HEALTH_EVENTS) {
		if (t < l->t[0])
			return;
		memmove(l->t, l->t + 1, (size_t)(l->n - 1) * sizeof(*l->t));
		l->n--;
	}
	assert(l->n < l->cap);
	i = l->n;
	while (i > 0 && l->t[i - 1] > t) {
		l->t[i] = l->t[i - 1];
		i--;
	}
	l->t[i] = t;
	l->n++;
}
