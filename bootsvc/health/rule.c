/* SPDX-License-Identifier: MIT */
/* The rule language (rule.h): words, their errors, the canonical form, the defaults. */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "health/health_internal.h"
#include "health/rule.h"
#include "health/sel_class.h"
#include "parse.h"

/* Words in the longest rule: risky CLASS >= COUNT in WINDOW. */
#define MAX_RULE_WORDS 6

/* The defaults, what a Moab/Slurm site would start from (docs/health.md says why each):
 * an uncorrectable memory error or a CPU past its critical temperature takes a node out
 * until someone looks; correctable ECC bursts, warm CPUs and failing fans or PSUs only
 * steer work away while they last. */
static const char *const default_rules[] = {
	"doomed ecc_uncorrectable >= 1 in 30d",
	"risky ecc_correctable >= 10 in 24h",
	"doomed sensor_type temperature critical",
	"risky sensor_type temperature warning",
	"risky over_temperature >= 1 in 24h",
	"risky sensor_type fan critical",
	"risky fan >= 1 in 24h",
	"risky sensor_type power_supply critical",
	"risky power_supply >= 1 in 24h",
	"risky sensor_type any critical",
};

struct word {
	const char *s;
	size_t len;
};

static int
rule_fail(struct dl_err *reterr, const struct word *w, unsigned n, const char *expected)
{
	char q[QUOTE_BUF_SIZE];

	return dl_err_set(reterr, -EINVAL, "health rule: '%s' (word %u) is not %s",
	    parse_quote(q, w->s, w->len), n, expected);
}

static bool
word_is(const struct word *w, const char *kw)
{
	return w->len == strlen(kw) && memcmp(w->s, kw, w->len) == 0;
}

/* Copy a word into buf (size bytes); false if it does not fit. */
static bool
word_copy(const struct word *w, char *buf, size_t size)
{
	if (w->len >= size)
		return false;
	memcpy(buf, w->s, w->len);
	buf[w->len] = '\0';
	return true;
}

/* Split text into words: spaces and tabs separate, a word that starts with '"' runs to the
 * next '"' and must end there. */
static int
rule_split(const char *text, struct word words[static MAX_RULE_WORDS], size_t *ret_n,
    struct dl_err *reterr)
{
	const char *p = text;
	size_t n = 0;

	for (;;) {
		const char *start;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		start = p;
		if (*p == '"') {
			const char *close = strchr(p + 1, '"');

			if (!close)
				return dl_err_set(reterr, -EINVAL,
				    "health rule: word %zu: missing the closing '\"' of the "
				    "sensor name", n + 1);
			p = close + 1;
			if (*p && *p != ' ' && *p != '\t')
				return dl_err_set(reterr, -EINVAL,
				    "health rule: word %zu: text right after the closing '\"'",
				    n + 1);
		} else {
			while (*p && *p != ' ' && *p != '\t')
				p++;
		}
		if (n == MAX_RULE_WORDS) {
			char q[QUOTE_BUF_SIZE];

			return dl_err_set(reterr, -EINVAL,
			    "health rule: unexpected '%s' (word %zu) after the end of the rule",
			    parse_quote(q, start, (size_t)(p - start)), n + 1);
		}
		words[n].s = start;
		words[n].len = (size_t)(p - start);
		n++;
	}
	*ret_n = n;
	return 0;
}

static int
rule_missing(struct dl_err *reterr, unsigned n, const char *what)
{
	return dl_err_set(reterr, -EINVAL, "health rule: word %u missing: expected %s", n, what);
}

static int
rule_end(const struct word *words, size_t n_words, size_t n_used, struct dl_err *reterr)
{
	char q[QUOTE_BUF_SIZE];

	if (n_words > n_used)
		return dl_err_set(reterr, -EINVAL,
		    "health rule: unexpected '%s' (word %zu) after the end of the rule",
		    parse_quote(q, words[n_used].s, words[n_used].len), n_used + 1);
	return 0;
}

static int
parse_state(const struct word *w, unsigned n, enum health_sensor_state *ret,
    struct dl_err *reterr)
{
	if (word_is(w, "warning"))
		*ret = HEALTH_SENSOR_WARNING;
	else if (word_is(w, "critical"))
		*ret = HEALTH_SENSOR_CRITICAL;
	else
		return rule_fail(reterr, w, n, "'warning' or 'critical'");
	return 0;
}

/* A sensor name as written in a rule: "quoted" (may hold spaces) or one bare word;
 * printable ASCII, 1..MAX_HEALTH_NAME chars, no '"' inside. */
static int
parse_name(const struct word *w, unsigned n, char ret[static MAX_HEALTH_NAME + 1],
    struct dl_err *reterr)
{
	const char *s = w->s;
	size_t len = w->len;

	if (len >= 2 && s[0] == '"') {
		s++;
		len -= 2;
	}
	if (len == 0)
		return dl_err_set(reterr, -EINVAL, "health rule: the sensor name (word %u) is empty",
		    n);
	if (len > MAX_HEALTH_NAME) {
		/* quote the name alone: parse_quote() shows quotes as '?' */
		struct word inner = { .s = s, .len = len };

		return rule_fail(reterr, &inner, n, "a sensor name of 1 to 32 characters");
	}
	for (size_t i = 0; i < len; i++)
		if (s[i] == '"')
			return rule_fail(reterr, w, n,
			    "a sensor name (a quote must enclose the whole name)");
	memcpy(ret, s, len);
	ret[len] = '\0';
	return 0;
}

/* WINDOW: digits and one unit letter, 1 s .. MAX_HEALTH_WINDOW_S. */
static int
parse_window(const struct word *w, unsigned n, uint32_t *ret_s, char *ret_unit,
    struct dl_err *reterr)
{
	if (health_window_parse(w->s, w->len, ret_s, ret_unit) < 0)
		return rule_fail(reterr, w, n,
		    "a window like 90s, 15m, 24h or 30d (from 1s to 90d)");
	return 0;
}

int
health_rule_parse(const char *text, struct health_rule *ret, struct dl_err *reterr)
{
	struct word words[MAX_RULE_WORDS];
	struct health_rule r = { 0 };
	size_t n_words = 0, len;
	int c, t;

	assert(ret);
	if (!text)
		return dl_err_set(reterr, -EINVAL, "health rule is missing");
	len = strnlen(text, MAX_HEALTH_RULE_TEXT + 1);
	if (len > MAX_HEALTH_RULE_TEXT)
		return dl_err_set(reterr, -EINVAL, "health rule is longer than %d bytes",
		    MAX_HEALTH_RULE_TEXT);
	/* config values are one line of text: anything else is a broken file */
	for (size_t i = 0; i < len; i++) {
		unsigned char b = (unsigned char)text[i];

		if ((b < 0x20 && b != '\t') || b >= 0x7f)
			return dl_err_set(reterr, -EINVAL,
			    "health rule: byte 0x%02x at column %zu is not printable ASCII", b,
			    i + 1);
	}
	c = rule_split(text, words, &n_words, reterr);
	if (c < 0)
		return c;
	if (n_words == 0)
		return dl_err_set(reterr, -EINVAL,
		    "health rule is empty: expected 'risky' or 'doomed' and a condition");

	if (word_is(&words[0], "risky"))
		r.verdict = HEALTH_RISKY;
	else if (word_is(&words[0], "doomed"))
		r.verdict = HEALTH_DOOMED;
	else
		return rule_fail(reterr, &words[0], 1, "'risky' or 'doomed'");
	if (n_words < 2)
		return rule_missing(reterr, 2,
		    "an event class (ecc_correctable, ...), 'sensor' or 'sensor_type'");

	if (word_is(&words[1], "sensor") || word_is(&words[1], "sensor_type")) {
		bool by_type = word_is(&words[1], "sensor_type");

		if (n_words < 3)
			return rule_missing(reterr, 3,
			    by_type ? "a sensor type (temperature, fan, ..., any)" :
				      "a sensor name, e.g. \"CPU Temp\"");
		if (by_type) {
			char name[40];

			r.kind = HEALTH_RULE_SENSOR_TYPE;
			if (word_is(&words[2], "any")) {
				r.sensor_type = HEALTH_SENSOR_TYPE_ANY;
			} else {
				t = word_copy(&words[2], name, sizeof(name)) ?
					health_sensor_type_from_string(name) : -EINVAL;
				if (t < 0)
					return rule_fail(reterr, &words[2], 3,
					    "a sensor type (temperature, voltage, current, fan, "
					    "processor, power_supply, memory, ..., any)");
				r.sensor_type = t;
			}
		} else {
			r.kind = HEALTH_RULE_SENSOR;
			r.sensor_type = HEALTH_SENSOR_TYPE_ANY;
			c = parse_name(&words[2], 3, r.sensor, reterr);
			if (c < 0)
				return c;
		}
		if (n_words < 4)
			return rule_missing(reterr, 4, "'warning' or 'critical'");
		c = parse_state(&words[3], 4, &r.min_state, reterr);
		if (c < 0)
			return c;
		c = rule_end(words, n_words, 4, reterr);
		if (c < 0)
			return c;
		*ret = r;
		return 0;
	}

	{
		char name[24];
		uint64_t v;
		struct dl_err ignored = { 0 };
		bool greater;

		r.kind = HEALTH_RULE_SEL_RATE;
		t = word_copy(&words[1], name, sizeof(name)) ?
			health_sel_class_from_string(name) : -EINVAL;
		if (t < 0)
			return rule_fail(reterr, &words[1], 2,
			    "an event class (ecc_correctable, ecc_uncorrectable, "
			    "over_temperature, fan, power_supply, other), 'sensor' or "
			    "'sensor_type'");
		r.sel_class = (enum health_sel_class)t;
		if (n_words < 3)
			return rule_missing(reterr, 3, "'>=' or '>'");
		if (word_is(&words[2], ">="))
			greater = false;
		else if (word_is(&words[2], ">"))
			greater = true;
		else
			return rule_fail(reterr, &words[2], 3, "'>=' or '>'");
		if (n_words < 4)
			return rule_missing(reterr, 4, "a count");
		if (!word_copy(&words[3], name, sizeof(name)) ||
		    parse_u64(name, greater ? 0 : 1, greater ? MAX_HEALTH_EVENTS - 1 :
			MAX_HEALTH_EVENTS, &v, &ignored) < 0)
			return rule_fail(reterr, &words[3], 4,
			    greater ? "a count from 0 to 255" : "a count from 1 to 256");
		r.count = (unsigned)v + (greater ? 1 : 0);
		if (n_words < 5)
			return rule_missing(reterr, 5, "'in' and a window, e.g. 'in 24h'");
		if (!word_is(&words[4], "in"))
			return rule_fail(reterr, &words[4], 5, "'in'");
		if (n_words < 6)
			return rule_missing(reterr, 6, "a window, e.g. 24h");
		c = parse_window(&words[5], 6, &r.window_s, &r.window_unit, reterr);
		if (c < 0)
			return c;
		*ret = r;
		return 0;
	}
}

int
health_rule_format(const struct health_rule *r, char *buf, size_t size)
{
	const char *verdict;
	char window[HEALTH_WINDOW_TEXT];
	int n;

	assert(r);
	assert(buf || size == 0);
	if (r->verdict != HEALTH_RISKY && r->verdict != HEALTH_DOOMED)
		return -EINVAL;
	verdict = health_to_string(r->verdict);
	switch (r->kind) {
	case HEALTH_RULE_SEL_RATE:
		if (!health_sel_class_to_string(r->sel_class))
			return -EINVAL;
		health_window_format(r->window_s, r->window_unit, window);
		n = snprintf(buf, size, "%s %s >= %u in %s", verdict,
		    health_sel_class_to_string(r->sel_class), r->count, window);
		break;
	case HEALTH_RULE_SENSOR:
		n = snprintf(buf, size, "%s sensor \"%s\" %s", verdict, r->sensor,
		    r->min_state == HEALTH_SENSOR_CRITICAL ? "critical" : "warning");
		break;
	case HEALTH_RULE_SENSOR_TYPE: {
		const char *type = r->sensor_type == HEALTH_SENSOR_TYPE_ANY ? "any" :
		    r->sensor_type < 0 ? NULL : health_sensor_type_to_string((unsigned)r->sensor_type);

		if (!type)
			return -EINVAL;
		n = snprintf(buf, size, "%s sensor_type %s %s", verdict, type,
		    r->min_state == HEALTH_SENSOR_CRITICAL ? "critical" : "warning");
		break;
	}
	default:
		return -EINVAL;
	}
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= size)
		return -ENOBUFS;
	return n;
}

void
health_rules_init_default(struct health_rules *rs)
{
	assert(rs);
	rs->n = 0;
	for (size_t i = 0; i < ELEMENTSOF(default_rules); i++) {
		int r = health_rules_add(rs, default_rules[i], NULL);

		/* the table above is ours: a rule that fails here is a programming error,
		 * and test_health_rules parses every default */
		assert(r == 0);
		(void)r;
	}
}

int
health_rules_add(struct health_rules *rs, const char *text, struct dl_err *reterr)
{
	struct health_rule r;
	int c;

	assert(rs);
	if (rs->n >= MAX_HEALTH_RULES)
		return dl_err_set(reterr, -E2BIG, "more than %d health rules", MAX_HEALTH_RULES);
	c = health_rule_parse(text, &r, reterr);
	if (c < 0)
		return c;
	rs->rule[rs->n++] = r;
	return 0;
}
