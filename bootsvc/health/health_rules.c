/* SPDX-License-Identifier: MIT */
/* Health rules: parsing, the per-node state, evaluation and its JSON form. Pure (see
 * health_rules.h): the only outside effects are allocations. */
#include <assert.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "health/health_rules.h"
#include "parse.h"

/* IPMI 2.0 §37.1: SEL timestamps up to 0x20000000 count seconds since the BMC initialised,
 * not since 1970, and 0xffffffff means "unspecified". */
#define SEL_TIME_POSTINIT_MAX 0x20000000u
#define SEL_TIME_UNSPECIFIED 0xffffffffu
/* Words in the longest rule: risky CLASS >= COUNT in WINDOW. */
#define MAX_RULE_WORDS 6

/* IPMI 2.0 Table 42-1/42-2 event/reading type codes and offsets health_sel_classify()
 * looks at. */
#define EVENT_TYPE_THRESHOLD 0x01
#define EVENT_TYPE_SENSOR_SPECIFIC 0x6f
#define SENSOR_TYPE_TEMPERATURE 0x01
#define SENSOR_TYPE_FAN 0x04
#define SENSOR_TYPE_PROCESSOR 0x07
#define SENSOR_TYPE_POWER_SUPPLY 0x08
#define SENSOR_TYPE_COOLING_DEVICE 0x0a
#define SENSOR_TYPE_MEMORY 0x0c

static const char *const health_table[_HEALTH_MAX] = {
	[HEALTH_OK] = "ok",
	[HEALTH_RISKY] = "risky",
	[HEALTH_DOOMED] = "doomed",
};

static const char *const sensor_state_table[_HEALTH_SENSOR_STATE_MAX] = {
	[HEALTH_SENSOR_NOMINAL] = "Nominal",
	[HEALTH_SENSOR_WARNING] = "Warning",
	[HEALTH_SENSOR_CRITICAL] = "Critical",
	[HEALTH_SENSOR_UNKNOWN] = "Unknown",
};

static const char *const sel_class_table[_HEALTH_SEL_CLASS_MAX] = {
	[HEALTH_SEL_ECC_CORRECTABLE] = "ecc_correctable",
	[HEALTH_SEL_ECC_UNCORRECTABLE] = "ecc_uncorrectable",
	[HEALTH_SEL_OVER_TEMPERATURE] = "over_temperature",
	[HEALTH_SEL_FAN] = "fan",
	[HEALTH_SEL_POWER_SUPPLY] = "power_supply",
	[HEALTH_SEL_OTHER] = "other",
};

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

/* IPMI 2.0 Table 42-3, named as in FreeIPMI's ipmi-sensors --sensor-types, lower case with
 * '_' (so a name is one word in a rule). */
static const char *const sensor_type_table[] = {
	[0x01] = "temperature",
	[0x02] = "voltage",
	[0x03] = "current",
	[0x04] = "fan",
	[0x05] = "physical_security",
	[0x06] = "platform_security",
	[0x07] = "processor",
	[0x08] = "power_supply",
	[0x09] = "power_unit",
	[0x0a] = "cooling_device",
	[0x0b] = "other_units_based_sensor",
	[0x0c] = "memory",
	[0x0d] = "drive_slot",
	[0x0e] = "post_memory_resize",
	[0x0f] = "system_firmware_progress",
	[0x10] = "event_logging_disabled",
	[0x11] = "watchdog1",
	[0x12] = "system_event",
	[0x13] = "critical_interrupt",
	[0x14] = "button_switch",
	[0x15] = "module_board",
	[0x16] = "microcontroller_coprocessor",
	[0x17] = "add_in_card",
	[0x18] = "chassis",
	[0x19] = "chip_set",
	[0x1a] = "other_fru",
	[0x1b] = "cable_interconnect",
	[0x1c] = "terminator",
	[0x1d] = "system_boot_initiated",
	[0x1e] = "boot_error",
	[0x1f] = "os_boot",
	[0x20] = "os_critical_stop",
	[0x21] = "slot_connector",
	[0x22] = "system_acpi_power_state",
	[0x23] = "watchdog2",
	[0x24] = "platform_alert",
	[0x25] = "entity_presence",
	[0x26] = "monitor_asic_ic",
	[0x27] = "lan",
	[0x28] = "management_subsystem_health",
	[0x29] = "battery",
	[0x2a] = "session_audit",
	[0x2b] = "version_change",
	[0x2c] = "fru_state",
};

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

const char *
health_to_string(enum health h)
{
	if (h < 0 || h >= _HEALTH_MAX)
		return NULL;
	return health_table[h];
}

enum health
health_from_string(const char *s)
{
	if (!s)
		return _HEALTH_INVALID;
	for (size_t i = 0; i < ELEMENTSOF(health_table); i++)
		if (streq(health_table[i], s))
			return (enum health)i;
	return _HEALTH_INVALID;
}

const char *
health_sensor_state_to_string(enum health_sensor_state s)
{
	if (s < 0 || s >= _HEALTH_SENSOR_STATE_MAX)
		return NULL;
	return sensor_state_table[s];
}

const char *
health_sel_class_to_string(enum health_sel_class c)
{
	if (c < 0 || c >= _HEALTH_SEL_CLASS_MAX)
		return NULL;
	return sel_class_table[c];
}

enum health_sel_class
health_sel_class_from_string(const char *s)
{
	if (!s)
		return _HEALTH_SEL_CLASS_INVALID;
	for (size_t i = 0; i < ELEMENTSOF(sel_class_table); i++)
		if (streq(sel_class_table[i], s))
			return (enum health_sel_class)i;
	return _HEALTH_SEL_CLASS_INVALID;
}

const char *
health_sensor_type_to_string(unsigned type)
{
	if (type >= ELEMENTSOF(sensor_type_table))
		return NULL;
	return sensor_type_table[type];
}

int
health_sensor_type_from_string(const char *s)
{
	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < ELEMENTSOF(sensor_type_table); i++)
		if (sensor_type_table[i] && streq(sensor_type_table[i], s))
			return (int)i;
	return -EINVAL;
}

/* Threshold offsets (IPMI 2.0 Table 42-2) that mean "beyond a critical or non-recoverable
 * threshold": lower critical/non-recoverable going low, upper ones going high. Crossing a
 * non-critical threshold, and the "going high" of a lower threshold (recovering), is not a
 * failure. */
static bool
threshold_offset_is_critical(uint8_t offset)
{
	return offset == 0x02 || offset == 0x04 || offset == 0x09 || offset == 0x0b;
}

enum health_sel_class
health_sel_classify(uint8_t sensor_type, uint8_t event_type, uint8_t offset,
    enum health_sensor_state severity)
{
	bool bad = severity == HEALTH_SENSOR_WARNING || severity == HEALTH_SENSOR_CRITICAL;

	switch (sensor_type) {
	case SENSOR_TYPE_MEMORY:
		/* IPMI 2.0 Table 42-3, Memory: 00h correctable ECC, 01h uncorrectable ECC,
		 * 02h parity (not correctable either), 05h correctable ECC logging limit
		 * reached (the BMC stops logging each one: at least a burst), 0Ah critical
		 * over-temperature. */
		if (event_type != EVENT_TYPE_SENSOR_SPECIFIC)
			return HEALTH_SEL_OTHER;
		switch (offset) {
		case 0x00:
		case 0x05:
			return HEALTH_SEL_ECC_CORRECTABLE;
		case 0x01:
		case 0x02:
			return HEALTH_SEL_ECC_UNCORRECTABLE;
		case 0x0a:
			return HEALTH_SEL_OVER_TEMPERATURE;
		default:
			return HEALTH_SEL_OTHER;
		}
	case SENSOR_TYPE_TEMPERATURE:
		/* only the upper thresholds: too cold is not over-temperature */
		if (event_type == EVENT_TYPE_THRESHOLD && (offset == 0x09 || offset == 0x0b))
			return HEALTH_SEL_OVER_TEMPERATURE;
		return HEALTH_SEL_OTHER;
	case SENSOR_TYPE_PROCESSOR:
		/* Processor 01h: thermal trip */
		if (event_type == EVENT_TYPE_SENSOR_SPECIFIC && offset == 0x01)
			return HEALTH_SEL_OVER_TEMPERATURE;
		return HEALTH_SEL_OTHER;
	case SENSOR_TYPE_FAN:
	case SENSOR_TYPE_COOLING_DEVICE:
		if (event_type == EVENT_TYPE_THRESHOLD)
			return threshold_offset_is_critical(offset) ? HEALTH_SEL_FAN :
								      HEALTH_SEL_OTHER;
		/* discrete fan states (presence, redundancy, performance) mean different
		 * things per type code: trust libipmimonitoring's severity */
		return bad ? HEALTH_SEL_FAN : HEALTH_SEL_OTHER;
	case SENSOR_TYPE_POWER_SUPPLY:
		/* Power Supply 01h failure, 02h predictive failure, 03h input lost, 04h input
		 * lost or out of range, 05h input out of range, 06h configuration error;
		 * 00h is "presence detected". */
		if (event_type == EVENT_TYPE_SENSOR_SPECIFIC)
			return offset >= 0x01 && offset <= 0x06 ? HEALTH_SEL_POWER_SUPPLY :
								  HEALTH_SEL_OTHER;
		if (event_type == EVENT_TYPE_THRESHOLD)
			return threshold_offset_is_critical(offset) ? HEALTH_SEL_POWER_SUPPLY :
								      HEALTH_SEL_OTHER;
		return bad ? HEALTH_SEL_POWER_SUPPLY : HEALTH_SEL_OTHER;
	default:
		return HEALTH_SEL_OTHER;
	}
}

/* ---- parsing */

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
	static const char *const expected =
	    "a window like 90s, 15m, 24h or 30d (from 1s to 90d)";
	char digits[16];
	uint64_t v, mult;
	struct dl_err ignored = { 0 };
	char unit;

	if (w->len < 2 || w->len - 1 >= sizeof(digits))
		return rule_fail(reterr, w, n, expected);
	unit = w->s[w->len - 1];
	switch (unit) {
	case 's':
		mult = 1;
		break;
	case 'm':
		mult = 60;
		break;
	case 'h':
		mult = 3600;
		break;
	case 'd':
		mult = 24 * 3600;
		break;
	default:
		return rule_fail(reterr, w, n, expected);
	}
	memcpy(digits, w->s, w->len - 1);
	digits[w->len - 1] = '\0';
	if (parse_u64(digits, 1, MAX_HEALTH_WINDOW_S, &v, &ignored) < 0 ||
	    v * mult > MAX_HEALTH_WINDOW_S)
		return rule_fail(reterr, w, n, expected);
	*ret_s = (uint32_t)(v * mult);
	*ret_unit = unit;
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

static uint32_t
unit_seconds(char unit)
{
	switch (unit) {
	case 'm':
		return 60;
	case 'h':
		return 3600;
	case 'd':
		return 24 * 3600;
	default:
		return 1;
	}
}

/* "24h" for a rule that said 24h; a rule built by hand without a unit gets seconds. */
static void
window_format(const struct health_rule *r, char buf[static 16])
{
	char unit = r->window_unit;
	uint32_t per;

	if (unit != 's' && unit != 'm' && unit != 'h' && unit != 'd')
		unit = 's';
	per = unit_seconds(unit);
	if (r->window_s % per != 0) {
		unit = 's';
		per = 1;
	}
	snprintf(buf, 16, "%" PRIu32 "%c", r->window_s / per, unit);
}

int
health_rule_format(const struct health_rule *r, char *buf, size_t size)
{
	const char *verdict;
	char window[16];
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
		window_format(r, window);
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

/* ---- state */

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

/* Forget events at or before cutoff (the list is ascending). */
static void
events_prune(struct health_event_list *l, int64_t cutoff)
{
	uint16_t k = 0;

	while (k < l->n && l->t[k] <= cutoff)
		k++;
	if (k == 0)
		return;
	memmove(l->t, l->t + k, (size_t)(l->n - k) * sizeof(*l->t));
	l->n = (uint16_t)(l->n - k);
}

/* Make room for want events (capped at MAX_HEALTH_EVENTS). The contents stay valid on
 * failure: a larger capacity than needed is harmless. */
static int
events_reserve(struct health_event_list *l, size_t want)
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

/* Insert t keeping the list ascending; when full the oldest goes (or t itself, when it is
 * older than everything kept). Capacity must have been reserved. */
static void
events_insert(struct health_event_list *l, int64_t t)
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
		if (add[c] > 0 && events_reserve(&st->ev[c], st->ev[c].n + add[c]) < 0)
			return -ENOMEM;

	/* nothing fails from here on */
	trust_sel_clock = !st->primed || r->sel_reset;
	for (size_t i = 0; i < r->n_sel; i++) {
		const struct health_sel_entry *e = &r->sel[i];

		if (!e->assertion || e->cls < 0 || e->cls >= _HEALTH_SEL_CLASS_MAX)
			continue;
		events_insert(&st->ev[e->cls], event_time(e, trust_sel_clock, now));
	}
	for (size_t c = 0; c < _HEALTH_SEL_CLASS_MAX; c++)
		events_prune(&st->ev[c], now - MAX_HEALTH_WINDOW_S);

	free(st->alerts);
	st->alerts = TAKE_PTR(alerts);
	st->n_alerts = n_alerts;
	st->sel_last_id = r->sel_last_id;
	st->primed = true;
	return 0;
}

void
health_clear(struct health_state *st)
{
	assert(st);
	for (size_t c = 0; c < _HEALTH_SEL_CLASS_MAX; c++)
		st->ev[c].n = 0;
	st->doomed = false;
	st->doomed_since = 0;
	st->n_doomed_reasons = 0;
	memset(st->doomed_reason, 0, sizeof(st->doomed_reason));
}

/* ---- evaluation */

static bool
reasons_have(char (*reason)[MAX_HEALTH_REASON], size_t n, const char *text)
{
	for (size_t i = 0; i < n; i++)
		if (streq(reason[i], text))
			return true;
	return false;
}

/* Append text unless it is there already; count it as omitted when the list is full. */
static void
reasons_add(char (*reason)[MAX_HEALTH_REASON], size_t *n, size_t *omitted, const char *text)
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

static size_t
events_in_window(const struct health_event_list *l, int64_t now, uint32_t window_s)
{
	int64_t cutoff = now - (int64_t)window_s;
	size_t k = 0;

	/* ascending: walk back from the newest while inside (now - window, ...] */
	for (size_t i = l->n; i > 0 && l->t[i - 1] > cutoff; i--)
		k++;
	return k;
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
		events_prune(&st->ev[c], now - MAX_HEALTH_WINDOW_S);

	for (size_t i = 0; i < rs->n && i < MAX_HEALTH_RULES; i++) {
		const struct health_rule *r = &rs->rule[i];
		char (*list)[MAX_HEALTH_REASON] = r->verdict == HEALTH_DOOMED ? doomed : risky;
		size_t *n = r->verdict == HEALTH_DOOMED ? &n_doomed : &n_risky;
		size_t *omitted = r->verdict == HEALTH_DOOMED ? &omitted_doomed : &omitted_risky;
		char text[MAX_HEALTH_REASON];

		if (r->verdict != HEALTH_RISKY && r->verdict != HEALTH_DOOMED)
			continue;
		if (r->kind == HEALTH_RULE_SEL_RATE) {
			char window[16];
			size_t k;

			if (r->sel_class < 0 || r->sel_class >= _HEALTH_SEL_CLASS_MAX)
				continue;
			k = events_in_window(&st->ev[r->sel_class], now, r->window_s);
			if (k == 0 || k < r->count)
				continue;
			window_format(r, window);
			snprintf(text, sizeof(text), "%s: %zu %s in %s",
			    health_to_string(r->verdict), k, sel_class_text[r->sel_class][k != 1],
			    window);
			reasons_add(list, n, omitted, text);
			continue;
		}
		for (size_t s = 0; s < st->n_alerts; s++) {
			if (!sensor_matches(r, &st->alerts[s]))
				continue;
			sensor_reason(r, &st->alerts[s], text);
			reasons_add(list, n, omitted, text);
		}
	}

	/* latch: the first doomed evaluation stamps the time; later ones add reasons */
	if (n_doomed > 0) {
		if (!st->doomed) {
			st->doomed = true;
			st->doomed_since = now;
		}
		for (size_t i = 0; i < n_doomed; i++)
			reasons_add(st->doomed_reason, &st->n_doomed_reasons, NULL, doomed[i]);
	}

	if (st->doomed) {
		v.health = HEALTH_DOOMED;
		for (size_t i = 0; i < st->n_doomed_reasons; i++)
			reasons_add(v.reason, &v.n_reasons, &v.n_reasons_omitted,
			    st->doomed_reason[i]);
		/* doomed now but beyond the latch's room */
		for (size_t i = 0; i < n_doomed; i++)
			reasons_add(v.reason, &v.n_reasons, &v.n_reasons_omitted, doomed[i]);
		v.n_reasons_omitted += omitted_doomed;
	} else if (n_risky > 0) {
		v.health = HEALTH_RISKY;
	}
	for (size_t i = 0; i < n_risky; i++) {
		/* "risky: CPU Temp upper critical" says nothing "doomed: CPU Temp upper
		 * critical" did not (a warning rule and a critical rule on one sensor) */
		if (v.health == HEALTH_DOOMED && doomed_says(&v, risky[i] + strlen("risky: ")))
			continue;
		reasons_add(v.reason, &v.n_reasons, &v.n_reasons_omitted, risky[i]);
	}
	v.n_reasons_omitted += omitted_risky;
	*ret = v;
	return 0;
}

/* ---- JSON */

int
health_state_to_json(const struct health_state *st, char **ret_json)
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
		if (!arr || json_object_set_new(ev, sel_class_table[c], arr) < 0)
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
		if (events_reserve(l, n) < 0)
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
		reasons_add(st->doomed_reason, &st->n_doomed_reasons, NULL, text);
	}
	st->doomed = true;
	st->doomed_since = (int64_t)json_integer_value(since);
	return 0;
}

int
health_state_from_json(const char *json, struct health_state *ret, struct dl_err *reterr)
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

unsigned
health_power_watts(const struct health_reading *r)
{
	double best = 0;

	for (size_t i = 0; i < r->n_sensors; i++) {
		const struct health_sensor *s = &r->sensors[i];

		if (s->has_reading && strcmp(s->units, "W") == 0 && s->reading > best &&
		    s->reading <= 100000.0)
			best = s->reading;
	}
	return (unsigned)(best + 0.5);
}
