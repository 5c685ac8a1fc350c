/* SPDX-License-Identifier: MIT */
/* Rules x one node's state -> ok, risky or doomed with reasons (eval.h). */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "health/eval.h"
#include "health/health_internal.h"

/* How a class reads in a reason, singular and plural: "risky: 12 correctable ECC in 24h",
 * "risky: 1 fan failure in 24h". */
static const char *const sel_class_text[_HEALTH_SEL_CLASS_MAX][2] = {
	[HEALTH_SEL_ECC_CORRECTABLE] = { "correctable ECC", "correctable ECC" },
	[HEALTH_SEL_ECC_UNCORRECTABLE] = { "uncorrectable ECC", "uncorrectable ECC" },
	[HEALTH_SEL_OVER_TEMPERATURE] = { "over-temperature event", "over-temperature events" },
	[HEALTH_SEL_FAN] = { "fan failure", "fan failures" },
	[HEALTH_SEL_POWER_SUPPLY] = { "power supply failure", "power supply failures" },
	[HEALTH_SEL_OTHER] = { "other SEL event", "other SEL events" },
};

static bool
reasons_have(char (*reason)[MAX_HEALTH_REASON], size_t n, const char *text)
{
	for (size_t i = 0; i < n; i++)
		if (streq(reason[i], text))
			return true;
	return false;
}

void
health_eval_reason_add(char (*reason)[MAX_HEALTH_REASON], size_t *n, size_t *omitted,
    const char *text)
{
	if (reasons_have(reason, *n, text))
		return;
	if (*n >= MAX_HEALTH_REASONS) {
		if (omitted)
			(*omitted)++;
		return;
	}
	snprintf(reason[*n], MAX_HEALTH_REASON, "%s", text);
	(*n)++;
}

static bool
sensor_matches(const struct health_rule *r, const struct health_sensor *s)
{
	if (s->state != HEALTH_SENSOR_WARNING && s->state != HEALTH_SENSOR_CRITICAL)
		return false;
	if (s->state < r->min_state)
		return false;
	if (r->kind == HEALTH_RULE_SENSOR)
		return strcasecmp(r->sensor, s->name) == 0;
	return r->sensor_type == HEALTH_SENSOR_TYPE_ANY || r->sensor_type == (int)s->type;
}

/* "doomed: CPU Temp upper critical" (threshold sensors name the threshold), "risky: DIMM
 * ECC warning (Correctable memory error)" (discrete ones their state and event). */
static void
sensor_reason(const struct health_rule *r, const struct health_sensor *s,
    char buf[static MAX_HEALTH_REASON])
{
	const char *verdict = health_to_string(r->verdict);
	int n;

	if (s->condition[0])
		n = snprintf(buf, MAX_HEALTH_REASON, "%s: %s %s", verdict, s->name, s->condition);
	else if (s->event[0])
		n = snprintf(buf, MAX_HEALTH_REASON, "%s: %s %s (%s)", verdict, s->name,
		    s->state == HEALTH_SENSOR_CRITICAL ? "critical" : "warning", s->event);
	else
		n = snprintf(buf, MAX_HEALTH_REASON, "%s: %s %s", verdict, s->name,
		    s->state == HEALTH_SENSOR_CRITICAL ? "critical" : "warning");
	/* a cut reason is still a reason: the sensor name comes first */
	(void)n;
}

/* Is "doomed: <what>" among v's reasons? */
static bool
doomed_says(const struct health_verdict *v, const char *what)
{
	for (size_t i = 0; i < v->n_reasons; i++)
		if (strncmp(v->reason[i], "doomed: ", strlen("doomed: ")) == 0 &&
		    streq(v->reason[i] + strlen("doomed: "), what))
			return true;
	return false;
}

int
health_eval(const struct health_rules *rs, struct health_state *st, int64_t now,
    struct health_verdict *ret)
{
	char doomed[MAX_HEALTH_REASONS][MAX_HEALTH_REASON];
	char risky[MAX_HEALTH_REASONS][MAX_HEALTH_REASON];
	size_t n_doomed = 0, n_risky = 0, omitted_doomed = 0, omitted_risky = 0;
	struct health_verdict v = { .health = HEALTH_OK };

	assert(rs);
	assert(st);
	assert(ret);

	for (size_t c = 0; c < _HEALTH_SEL_CLASS_MAX; c++)
		health_window_prune(&st->ev[c], now - MAX_HEALTH_WINDOW_S);

	for (size_t i = 0; i < rs->n && i < MAX_HEALTH_RULES; i++) {
		const struct health_rule *r = &rs->rule[i];
		char (*list)[MAX_HEALTH_REASON] = r->verdict == HEALTH_DOOMED ? doomed : risky;
		size_t *n = r->verdict == HEALTH_DOOMED ? &n_doomed : &n_risky;
		size_t *omitted = r->verdict == HEALTH_DOOMED ? &omitted_doomed : &omitted_risky;
		char text[MAX_HEALTH_REASON];

		if (r->verdict != HEALTH_RISKY && r->verdict != HEALTH_DOOMED)
			continue;
		if (r->kind == HEALTH_RULE_SEL_RATE) {
			char window[HEALTH_WINDOW_TEXT];
			size_t k;

			if (r->sel_class < 0 || r->sel_class >= _HEALTH_SEL_CLASS_MAX)
				continue;
			k = health_window_count(&st->ev[r->sel_class], now, r->window_s);
			if (k == 0 || k < r->count)
				continue;
			health_window_format(r->window_s, r->window_unit, window);
			snprintf(text, sizeof(text), "%s: %zu %s in %s",
			    health_to_string(r->verdict), k, sel_class_text[r->sel_class][k != 1],
			    window);
			health_eval_reason_add(list, n, omitted, text);
			continue;
		}
		for (size_t s = 0; s < st->n_alerts; s++) {
			if (!sensor_matches(r, &st->alerts[s]))
				continue;
			sensor_reason(r, &st->alerts[s], text);
			health_eval_reason_add(list, n, omitted, text);
		}
	}

	/* latch: the first doomed evaluation stamps the time; later ones add reasons */
	if (n_doomed > 0) {
		if (!st->doomed) {
			st->doomed = true;
			st->doomed_since = now;
		}
		for (size_t i = 0; i < n_doomed; i++)
			health_eval_reason_add(st->doomed_reason, &st->n_doomed_reasons, NULL, doomed[i]);
	}

	if (st->doomed) {
		v.health = HEALTH_DOOMED;
		for (size_t i = 0; i < st->n_doomed_reasons; i++)
			health_eval_reason_add(v.reason, &v.n_reasons, &v.n_reasons_omitted,
			    st->doomed_reason[i]);
		/* doomed now but beyond the latch's room */
		for (size_t i = 0; i < n_doomed; i++)
			health_eval_reason_add(v.reason, &v.n_reasons, &v.n_reasons_omitted, doomed[i]);
		v.n_reasons_omitted += omitted_doomed;
	} else if (n_risky > 0) {
		v.health = HEALTH_RISKY;
	}
	for (size_t i = 0; i < n_risky; i++) {
		/* "risky: CPU Temp upper critical" says nothing "doomed: CPU Temp upper
		 * critical" did not (a warning rule and a critical rule on one sensor) */
		if (v.health == HEALTH_DOOMED && doomed_says(&v, risky[i] + strlen("risky: ")))
			continue;
		health_eval_reason_add(v.reason, &v.n_reasons, &v.n_reasons_omitted, risky[i]);
	}
	v.n_reasons_omitted += omitted_risky;
	*ret = v;
	return 0;
}
