/* SPDX-License-Identifier: MIT */
/* One node's health state to and from JSON (persist.h). Loading treats the text as
 * untrusted: a damaged store row is an error naming the key, never a quietly reset
 * doomed node. */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "health/health_internal.h"
#include "health/persist.h"
#include "health/sel_class.h"
#include "parse.h"

int
health_persist_to_json(const struct health_state *st, char **ret_json)
{
	_cleanup_(json_decrefp) json_t *root = NULL;
	json_t *ev, *arr;
	char *s;

	assert(st);
	assert(ret_json);

	root = json_object();
	ev = json_object();
	if (!root || !ev || json_object_set_new(root, "ev", ev) < 0)
		return -ENOMEM;
	if (json_object_set_new(root, "v", json_integer(1)) < 0 ||
	    json_object_set_new(root, "sel", json_integer(st->sel_last_id)) < 0 ||
	    json_object_set_new(root, "primed", json_boolean(st->primed)) < 0)
		return -ENOMEM;
	for (size_t c = 0; c < _HEALTH_SEL_CLASS_MAX; c++) {
		if (st->ev[c].n == 0)
			continue;
		arr = json_array();
		if (!arr || json_object_set_new(ev,
		    health_sel_class_to_string((enum health_sel_class)c), arr) < 0)
			return -ENOMEM;
		for (size_t i = 0; i < st->ev[c].n; i++)
			if (json_array_append_new(arr, json_integer(st->ev[c].t[i])) < 0)
				return -ENOMEM;
	}
	if (st->doomed) {
		json_t *d = json_object(), *reasons = json_array();

		if (!d || json_object_set_new(root, "doomed", d) < 0) {
			json_decref(reasons);
			return -ENOMEM;
		}
		if (!reasons || json_object_set_new(d, "reasons", reasons) < 0 ||
		    json_object_set_new(d, "since", json_integer(st->doomed_since)) < 0)
			return -ENOMEM;
		for (size_t i = 0; i < st->n_doomed_reasons; i++)
			if (json_array_append_new(reasons, json_string(st->doomed_reason[i])) < 0)
				return -ENOMEM;
	}
	s = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
	if (!s)
		return -ENOMEM;
	*ret_json = s;
	return 0;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Times stored: after 1970 and before the year 10000; anything else is damage. */
#define MAX_STATE_TIME 253402300799LL

static int
state_events_from_json(json_t *ev, struct health_state *st, struct dl_err *reterr)
{
	const char *key;
	json_t *arr;

	if (!json_is_object(ev))
		return dl_err_set(reterr, -EINVAL, "health state: 'ev' is not an object");
	json_object_foreach(ev, key, arr) {
		char q[QUOTE_BUF_SIZE];
		enum health_sel_class c = health_sel_class_from_string(key);
		struct health_event_list *l;
		size_t n;

		if (c < 0)
			return dl_err_set(reterr, -EINVAL,
			    "health state: 'ev' key '%s' is not an event class",
			    parse_quote(q, key, strlen(key)));
		if (!json_is_array(arr))
			return dl_err_set(reterr, -EINVAL, "health state: 'ev.%s' is not an array",
			    key);
		n = json_array_size(arr);
		if (n > MAX_HEALTH_EVENTS)
			return dl_err_set(reterr, -E2BIG,
			    "health state: 'ev.%s' has %zu events, more than %d", key, n,
			    MAX_HEALTH_EVENTS);
		if (n == 0)
			continue;
		l = &st->ev[c];
		if (health_window_reserve(l, n) < 0)
			return -ENOMEM;
		for (size_t i = 0; i < n; i++) {
			json_t *t = json_array_get(arr, i);

			if (!json_is_integer(t) || json_integer_value(t) < 0 ||
			    json_integer_value(t) > MAX_STATE_TIME)
				return dl_err_set(reterr, -EINVAL,
				    "health state: 'ev.%s[%zu]' is not a time in seconds", key, i);
			l->t[i] = (int64_t)json_integer_value(t);
		}
		l->n = (uint16_t)n;
		/* our writer keeps them ascending; a hand-edited store need not */
		qsort(l->t, n, sizeof(*l->t), cmp_i64);
	}
	return 0;
}

static int
state_doomed_from_json(json_t *d, struct health_state *st, struct dl_err *reterr)
{
	json_t *since = json_object_get(d, "since"), *reasons = json_object_get(d, "reasons");
	const char *key;
	json_t *val;
	size_t n;

	if (!json_is_object(d))
		return dl_err_set(reterr, -EINVAL, "health state: 'doomed' is not an object");
	json_object_foreach(d, key, val) {
		char q[QUOTE_BUF_SIZE];

		if (!streq(key, "since") && !streq(key, "reasons"))
			return dl_err_set(reterr, -EINVAL,
			    "health state: unknown key 'doomed.%s'", parse_quote(q, key, strlen(key)));
	}
	if (!json_is_integer(since) || json_integer_value(since) < 0 ||
	    json_integer_value(since) > MAX_STATE_TIME)
		return dl_err_set(reterr, -EINVAL,
		    "health state: 'doomed.since' is not a time in seconds");
	if (!json_is_array(reasons))
		return dl_err_set(reterr, -EINVAL, "health state: 'doomed.reasons' is not an array");
	n = json_array_size(reasons);
	if (n > MAX_HEALTH_REASONS)
		return dl_err_set(reterr, -E2BIG,
		    "health state: 'doomed.reasons' has %zu reasons, more than %d", n,
		    MAX_HEALTH_REASONS);
	for (size_t i = 0; i < n; i++) {
		json_t *s = json_array_get(reasons, i);
		const char *text = json_string_value(s);
		size_t len = json_is_string(s) ? json_string_length(s) : 0;

		if (!text || len == 0 || len >= MAX_HEALTH_REASON || strlen(text) != len)
			return dl_err_set(reterr, -EINVAL,
			    "health state: 'doomed.reasons[%zu]' is not a reason of 1 to %d bytes",
			    i, MAX_HEALTH_REASON - 1);
		for (size_t k = 0; k < len; k++)
			if ((unsigned char)text[k] < 0x20 || (unsigned char)text[k] == 0x7f)
				return dl_err_set(reterr, -EINVAL,
				    "health state: 'doomed.reasons[%zu]' has a control character",
				    i);
		health_eval_reason_add(st->doomed_reason, &st->n_doomed_reasons, NULL, text);
	}
	st->doomed = true;
	st->doomed_since = (int64_t)json_integer_value(since);
	return 0;
}

int
health_persist_from_json(const char *json, struct health_state *ret, struct dl_err *reterr)
{
	_cleanup_(json_decrefp) json_t *root = NULL;
	struct health_state st;
	json_error_t jerr;
	const char *key;
	json_t *val, *v;
	size_t len;
	int r;

	assert(ret);
	if (!json)
		return dl_err_set(reterr, -EINVAL, "health state is missing");
	len = strnlen(json, MAX_HEALTH_STATE_JSON + 1);
	if (len > MAX_HEALTH_STATE_JSON)
		return dl_err_set(reterr, -E2BIG, "health state is longer than %d bytes",
		    MAX_HEALTH_STATE_JSON);
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return dl_err_set(reterr, -EINVAL, "health state: bad JSON at column %d: %s",
		    jerr.column, jerr.text);
	if (!json_is_object(root))
		return dl_err_set(reterr, -EINVAL, "health state is not a JSON object");
	json_object_foreach(root, key, val) {
		char q[QUOTE_BUF_SIZE];

		if (!streq(key, "v") && !streq(key, "sel") && !streq(key, "primed") &&
		    !streq(key, "ev") && !streq(key, "doomed"))
			return dl_err_set(reterr, -EINVAL, "health state: unknown key '%s'",
			    parse_quote(q, key, strlen(key)));
	}
	v = json_object_get(root, "v");
	if (!json_is_integer(v) || json_integer_value(v) != 1)
		return dl_err_set(reterr, -EINVAL, "health state: 'v' is not 1");

	health_state_init(&st);
	v = json_object_get(root, "sel");
	if (v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > UINT32_MAX)
			return dl_err_set(reterr, -EINVAL,
			    "health state: 'sel' is not a SEL record id");
		st.sel_last_id = (uint32_t)json_integer_value(v);
	}
	v = json_object_get(root, "primed");
	if (v) {
		if (!json_is_boolean(v))
			return dl_err_set(reterr, -EINVAL, "health state: 'primed' is not a boolean");
		st.primed = json_is_true(v);
	}
	v = json_object_get(root, "ev");
	if (v) {
		r = state_events_from_json(v, &st, reterr);
		if (r < 0) {
			health_state_done(&st);
			return r;
		}
	}
	v = json_object_get(root, "doomed");
	if (v) {
		r = state_doomed_from_json(v, &st, reterr);
		if (r < 0) {
			health_state_done(&st);
			return r;
		}
	}
	health_state_done(ret);
	*ret = st;
	return 0;
}
