/* SPDX-License-Identifier: MIT */
/* bootsvc/health/ (rule.c, sel_class.c, window.c, state.c, eval.c, persist.c): the health
 * rules as pure functions, table-driven (issue #5 item 1): rule parsing and its errors,
 * rates over a sliding window including its boundary, sensors critical versus warning,
 * ties between rules, recovery of risky, doomed sticky until health_state_clear(), the SEL
 * classification, event times, and the JSON state. Times are seconds from an arbitrary T;
 * vectors are written from the rule syntax in rule.h and IPMI 2.0 Tables 42-2/42-3. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../bootsvc/health/eval.h"
#include "../../bootsvc/health/persist.h"
#include "../../bootsvc/health/sel_class.h"

#define T 1764000000LL
#define H 3600LL
#define D (24 * H)

/* ---- parsing */

static const struct {
	int line;
	const char *text;
	int rc;
	const char *want; /* canonical form on success, error substring on failure */
} parse_rows[] = {
	{ __LINE__, "risky ecc_correctable >= 10 in 24h", 0, "risky ecc_correctable >= 10 in 24h" },
	{ __LINE__, "doomed ecc_uncorrectable >= 1 in 30d", 0, "doomed ecc_uncorrectable >= 1 in 30d" },
	{ __LINE__, "  risky\tfan  > 2   in 90s ", 0, "risky fan >= 3 in 90s" },
	{ __LINE__, "risky other > 0 in 15m", 0, "risky other >= 1 in 15m" },
	{ __LINE__, "risky power_supply >= 256 in 90d", 0, "risky power_supply >= 256 in 90d" },
	{ __LINE__, "doomed sensor \"CPU Temp\" critical", 0, "doomed sensor \"CPU Temp\" critical" },
	{ __LINE__, "risky sensor Fan1 warning", 0, "risky sensor \"Fan1\" warning" },
	{ __LINE__, "risky sensor_type fan critical", 0, "risky sensor_type fan critical" },
	{ __LINE__, "risky sensor_type any warning", 0, "risky sensor_type any warning" },
	{ __LINE__, "doomed sensor_type power_supply critical", 0,
	    "doomed sensor_type power_supply critical" },
	/* errors name the word */
	{ __LINE__, "", -EINVAL, "empty" },
	{ __LINE__, "   ", -EINVAL, "empty" },
	{ __LINE__, "sick ecc_correctable >= 1 in 1h", -EINVAL, "'sick' (word 1) is not 'risky' or 'doomed'" },
	{ __LINE__, "Risky fan >= 1 in 1h", -EINVAL, "'Risky' (word 1)" },
	{ __LINE__, "risky", -EINVAL, "word 2 missing" },
	{ __LINE__, "risky ecc >= 1 in 1h", -EINVAL, "'ecc' (word 2) is not an event class" },
	{ __LINE__, "risky fan", -EINVAL, "word 3 missing: expected '>=' or '>'" },
	{ __LINE__, "risky fan = 1 in 1h", -EINVAL, "'=' (word 3) is not '>=' or '>'" },
	{ __LINE__, "risky fan >=1 in 1h", -EINVAL, "'>=1' (word 3)" },
	{ __LINE__, "risky fan >= 0 in 1h", -EINVAL, "'0' (word 4) is not a count from 1 to 256" },
	{ __LINE__, "risky fan >= 257 in 1h", -EINVAL, "'257' (word 4)" },
	{ __LINE__, "risky fan > 256 in 1h", -EINVAL, "'256' (word 4) is not a count from 0 to 255" },
	{ __LINE__, "risky fan >= -1 in 1h", -EINVAL, "'-1' (word 4)" },
	{ __LINE__, "risky fan >= ten in 1h", -EINVAL, "'ten' (word 4)" },
	{ __LINE__, "risky fan >= 1", -EINVAL, "word 5 missing" },
	{ __LINE__, "risky fan >= 1 within 1h", -EINVAL, "'within' (word 5) is not 'in'" },
	{ __LINE__, "risky fan >= 1 in", -EINVAL, "word 6 missing" },
	{ __LINE__, "risky fan >= 1 in 24", -EINVAL, "'24' (word 6) is not a window" },
	{ __LINE__, "risky fan >= 1 in 1w", -EINVAL, "'1w' (word 6)" },
	{ __LINE__, "risky fan >= 1 in 0h", -EINVAL, "'0h' (word 6)" },
	{ __LINE__, "risky fan >= 1 in 91d", -EINVAL, "'91d' (word 6)" },
	{ __LINE__, "risky fan >= 1 in 2161h", -EINVAL, "'2161h' (word 6)" },
	{ __LINE__, "risky fan >= 1 in h", -EINVAL, "'h' (word 6)" },
	{ __LINE__, "risky fan >= 1 in 1h now", -EINVAL, "unexpected 'now' (word 7)" },
	{ __LINE__, "risky sensor", -EINVAL, "word 3 missing: expected a sensor name" },
	{ __LINE__, "risky sensor \"CPU Temp critical", -EINVAL, "missing the closing '\"'" },
	{ __LINE__, "risky sensor \"CPU Temp\"x critical", -EINVAL, "right after the closing" },
	{ __LINE__, "risky sensor \"\" critical", -EINVAL, "the sensor name (word 3) is empty" },
	{ __LINE__, "risky sensor \"123456789012345678901234567890123\" critical", -EINVAL,
	    "of 1 to 32 characters" },
	{ __LINE__, "risky sensor CPU\"Temp critical", -EINVAL, "(word 3) is not a sensor name" },
	{ __LINE__, "risky sensor \"CPU Temp\"", -EINVAL, "word 4 missing: expected 'warning' or 'critical'" },
	{ __LINE__, "risky sensor \"CPU Temp\" hot", -EINVAL, "'hot' (word 4) is not 'warning' or 'critical'" },
	{ __LINE__, "risky sensor \"CPU Temp\" critical now", -EINVAL, "unexpected 'now' (word 5)" },
	{ __LINE__, "risky sensor_type", -EINVAL, "word 3 missing: expected a sensor type" },
	{ __LINE__, "risky sensor_type fans critical", -EINVAL, "'fans' (word 3) is not a sensor type" },
	{ __LINE__, "risky sensor_type fan nominal", -EINVAL, "'nominal' (word 4)" },
	{ __LINE__, "risky fan >= 1 in 1h\n", -EINVAL, "byte 0x0a at column 21" },
	{ __LINE__, "risky sensor \"CPU\xc3\xa9\" critical", -EINVAL, "byte 0xc3 at column 18" },
};

static void
test_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(parse_rows) / sizeof(parse_rows[0]); i++) {
		struct health_rule r, again;
		struct dl_err e = { 0 };
		char buf[MAX_HEALTH_RULE_TEXT + 1];
		int rc = health_rule_parse(parse_rows[i].text, &r, &e);

		if (rc != parse_rows[i].rc)
			fail_msg("line %d: '%s': rc %d, want %d (%s)", parse_rows[i].line,
			    parse_rows[i].text, rc, parse_rows[i].rc, e.msg);
		if (rc < 0) {
			if (!strstr(e.msg, parse_rows[i].want) || e.code != rc)
				fail_msg("line %d: message '%s' lacks '%s'", parse_rows[i].line, e.msg,
				    parse_rows[i].want);
			continue;
		}
		if (health_rule_format(&r, buf, sizeof(buf)) < 0 || strcmp(buf, parse_rows[i].want) != 0)
			fail_msg("line %d: formatted '%s', want '%s'", parse_rows[i].line, buf,
			    parse_rows[i].want);
		/* the canonical form reads back to the same rule */
		if (health_rule_parse(buf, &again, &e) < 0 || memcmp(&again, &r, sizeof(r)) != 0)
			fail_msg("line %d: '%s' does not round-trip", parse_rows[i].line, buf);
	}
}

static void
test_parse_limits(void **state)
{
	struct health_rules rs = { .n = 0 };
	struct health_rule r;
	struct dl_err e = { 0 };
	char buf[8], big[MAX_HEALTH_RULE_TEXT + 2];

	(void)state;
	assert_int_equal(health_rule_parse(NULL, &r, &e), -EINVAL);
	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(health_rule_parse(big, &r, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "longer than 256"));

	/* the defaults parse (health_rules_init_default asserts it) and round-trip */
	health_rules_init_default(&rs);
	assert_int_equal(rs.n, 10);
	for (size_t i = 0; i < rs.n; i++) {
		char text[MAX_HEALTH_RULE_TEXT + 1];

		assert_true(health_rule_format(&rs.rule[i], text, sizeof(text)) > 0);
		assert_int_equal(health_rule_parse(text, &r, &e), 0);
	}
	assert_int_equal(health_rule_format(&rs.rule[0], buf, sizeof(buf)), -ENOBUFS);

	rs.n = 0;
	for (int i = 0; i < MAX_HEALTH_RULES; i++)
		assert_int_equal(health_rules_add(&rs, "risky fan >= 1 in 1h", &e), 0);
	assert_int_equal(health_rules_add(&rs, "risky fan >= 1 in 1h", &e), -E2BIG);
	assert_int_equal(rs.n, MAX_HEALTH_RULES);
}

/* ---- helpers: readings built in memory */

struct sensor_spec {
	const char *name;
	uint8_t type;
	enum health_sensor_state state;
	const char *condition;
	const char *event;
};

static void
rules_set(struct health_rules *rs, const char *const *texts)
{
	struct dl_err e = { 0 };

	rs->n = 0;
	if (!texts) {
		health_rules_init_default(rs);
		return;
	}
	for (size_t i = 0; texts[i]; i++)
		if (health_rules_add(rs, texts[i], &e) < 0)
			fail_msg("rule '%s': %s", texts[i], e.msg);
}

/* Feed one reading: sensors (may be NULL) and n SEL assertions of cls stamped ts. */
static void
feed(struct health_state *st, const struct sensor_spec *sensors, size_t n_sensors,
    enum health_sel_class cls, size_t n_sel, uint32_t ts, int64_t now)
{
	struct health_sensor s[8] = { 0 };
	struct health_sel_entry *sel = calloc(n_sel ? n_sel : 1, sizeof(*sel));
	struct health_reading r = { .sensors = s, .n_sensors = n_sensors, .sel = sel, .n_sel = n_sel };

	assert_non_null(sel);
	assert_true(n_sensors <= 8);
	for (size_t i = 0; i < n_sensors; i++) {
		snprintf(s[i].name, sizeof(s[i].name), "%s", sensors[i].name);
		s[i].type = sensors[i].type;
		s[i].state = sensors[i].state;
		snprintf(s[i].condition, sizeof(s[i].condition), "%s",
		    sensors[i].condition ? sensors[i].condition : "");
		snprintf(s[i].event, sizeof(s[i].event), "%s", sensors[i].event ? sensors[i].event : "");
	}
	for (size_t i = 0; i < n_sel; i++) {
		sel[i].record_id = st->sel_last_id + (uint32_t)i + 1;
		sel[i].timestamp = ts;
		sel[i].assertion = true;
		sel[i].cls = cls;
	}
	r.sel_last_id = st->sel_last_id + (uint32_t)n_sel;
	assert_int_equal(health_state_update(st, &r, now), 0);
	free(sel);
}

static void
check_verdict(int line, const struct health_verdict *v, enum health want,
    const char *const *reasons)
{
	size_t n = 0;

	if (v->health != want)
		fail_msg("line %d: health %s, want %s (first reason '%s')", line,
		    health_to_string(v->health), health_to_string(want),
		    v->n_reasons ? v->reason[0] : "");
	for (; reasons && reasons[n]; n++)
		if (n >= v->n_reasons || strcmp(v->reason[n], reasons[n]) != 0)
			fail_msg("line %d: reason %zu is '%s', want '%s'", line, n,
			    n < v->n_reasons ? v->reason[n] : "(none)", reasons[n]);
	if (n != v->n_reasons)
		fail_msg("line %d: %zu reasons, want %zu (extra '%s')", line, v->n_reasons, n,
		    v->reason[n]);
}

/* ---- rates over the window: n events at `age` seconds before now, one rule */

#define R(...) ((const char *const[]){ __VA_ARGS__, NULL })

static const struct {
	int line;
	const char *rule;
	size_t n;      /* events */
	int64_t age;   /* each this old at evaluation */
	enum health want;
	const char *reason;
} rate_rows[] = {
	{ __LINE__, "risky ecc_correctable >= 10 in 24h", 12, H, HEALTH_RISKY,
	    "risky: 12 correctable ECC in 24h" },
	{ __LINE__, "risky ecc_correctable >= 10 in 24h", 10, H, HEALTH_RISKY,
	    "risky: 10 correctable ECC in 24h" },                      /* tie: count == threshold */
	{ __LINE__, "risky ecc_correctable >= 10 in 24h", 9, H, HEALTH_OK, NULL },
	{ __LINE__, "risky ecc_correctable > 10 in 24h", 10, H, HEALTH_OK, NULL },
	{ __LINE__, "risky ecc_correctable > 10 in 24h", 11, H, HEALTH_RISKY,
	    "risky: 11 correctable ECC in 24h" },
	/* the boundary: an event exactly WINDOW old has left; one second younger counts */
	{ __LINE__, "risky ecc_correctable >= 10 in 24h", 10, D, HEALTH_OK, NULL },
	{ __LINE__, "risky ecc_correctable >= 10 in 24h", 10, D - 1, HEALTH_RISKY,
	    "risky: 10 correctable ECC in 24h" },
	{ __LINE__, "risky fan >= 1 in 90s", 1, 90, HEALTH_OK, NULL },
	{ __LINE__, "risky fan >= 1 in 90s", 1, 89, HEALTH_RISKY, "risky: 1 fan failure in 90s" },
	{ __LINE__, "risky fan >= 1 in 90s", 2, 0, HEALTH_RISKY, "risky: 2 fan failures in 90s" },
	{ __LINE__, "doomed ecc_uncorrectable >= 1 in 30d", 1, 29 * D, HEALTH_DOOMED,
	    "doomed: 1 uncorrectable ECC in 30d" },
	{ __LINE__, "doomed ecc_uncorrectable >= 1 in 30d", 1, 30 * D, HEALTH_OK, NULL },
	/* a rate is not a lifetime count: other classes do not add up */
	{ __LINE__, "risky power_supply >= 1 in 24h", 5, H, HEALTH_OK, NULL },
};

static void
test_rates(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rate_rows) / sizeof(rate_rows[0]); i++) {
		struct health_rules rs;
		struct health_state st;
		struct health_verdict v;
		enum health_sel_class cls = strstr(rate_rows[i].rule, "fan") ? HEALTH_SEL_FAN :
		    strstr(rate_rows[i].rule, "uncorrectable") ? HEALTH_SEL_ECC_UNCORRECTABLE :
								 HEALTH_SEL_ECC_CORRECTABLE;
		const char *const reasons[] = { rate_rows[i].reason, NULL };

		rules_set(&rs, R(rate_rows[i].rule));
		health_state_init(&st);
		st.primed = true; /* events count at the time they were read */
		feed(&st, NULL, 0, cls, rate_rows[i].n, 0, T - rate_rows[i].age);
		health_eval(&rs, &st, T, &v);
		check_verdict(rate_rows[i].line, &v, rate_rows[i].want, reasons);
		health_state_done(&st);
	}
}

/* ---- sensors: critical versus warning, names, types, ties */

/* Sensors as libipmimonitoring reports them (macros: clang wants constants in tables). */
#define CPU_CRIT { "CPU Temp", 0x01, HEALTH_SENSOR_CRITICAL, \
	"upper critical", "At or Above (>=) Upper Critical Threshold" }
#define CPU_WARN { "CPU Temp", 0x01, HEALTH_SENSOR_WARNING, \
	"upper non-critical", "At or Above (>=) Upper Non-Critical Threshold" }
#define CPU_OK { "CPU Temp", 0x01, HEALTH_SENSOR_NOMINAL, NULL, "OK" }
#define CPU_UNKNOWN { "CPU Temp", 0x01, HEALTH_SENSOR_UNKNOWN, NULL, NULL }
#define FAN_CRIT { "Fan1", 0x04, HEALTH_SENSOR_CRITICAL, \
	"lower critical", NULL }
#define FAN2_CRIT { "Fan2", 0x04, HEALTH_SENSOR_CRITICAL, \
	"lower critical", NULL }
#define DIMM_WARN { "DIMM ECC", 0x0c, HEALTH_SENSOR_WARNING, NULL, \
	"Correctable memory error" }

static const struct {
	int line;
	const char *const *rules; /* NULL: the defaults */
	struct sensor_spec s[3];
	size_t n;
	enum health want;
	const char *const *reasons;
} sensor_rows[] = {
	{ __LINE__, R("doomed sensor \"CPU Temp\" critical"), { CPU_CRIT }, 1, HEALTH_DOOMED,
	    R("doomed: CPU Temp upper critical") },
	{ __LINE__, R("doomed sensor \"CPU Temp\" critical"), { CPU_WARN }, 1, HEALTH_OK, NULL },
	{ __LINE__, R("risky sensor \"CPU Temp\" warning"), { CPU_WARN }, 1, HEALTH_RISKY,
	    R("risky: CPU Temp upper non-critical") },
	/* warning means "at least warning" */
	{ __LINE__, R("risky sensor \"CPU Temp\" warning"), { CPU_CRIT }, 1, HEALTH_RISKY,
	    R("risky: CPU Temp upper critical") },
	{ __LINE__, R("risky sensor \"cpu temp\" warning"), { CPU_WARN }, 1, HEALTH_RISKY,
	    R("risky: CPU Temp upper non-critical") },                 /* names ignore case */
	{ __LINE__, R("risky sensor \"CPU\" warning"), { CPU_CRIT }, 1, HEALTH_OK, NULL },
	{ __LINE__, R("risky sensor_type any warning"), { CPU_UNKNOWN }, 1, HEALTH_OK, NULL },
	{ __LINE__, R("risky sensor_type any warning"), { CPU_OK }, 1, HEALTH_OK, NULL },
	{ __LINE__, R("risky sensor_type fan critical"), { CPU_CRIT }, 1, HEALTH_OK, NULL },
	{ __LINE__, R("risky sensor_type fan critical"), { FAN_CRIT, FAN2_CRIT }, 2, HEALTH_RISKY,
	    R("risky: Fan1 lower critical", "risky: Fan2 lower critical") },
	{ __LINE__, R("risky sensor_type memory warning"), { DIMM_WARN }, 1, HEALTH_RISKY,
	    R("risky: DIMM ECC warning (Correctable memory error)") },
	/* ties: the worst verdict wins, every matching rule gives its reason, the same
	 * reason twice is listed once, and a risky reason repeating a doomed one is dropped */
	{ __LINE__, R("risky sensor_type fan critical", "doomed sensor \"CPU Temp\" critical"),
	    { FAN_CRIT, CPU_CRIT }, 2, HEALTH_DOOMED,
	    R("doomed: CPU Temp upper critical", "risky: Fan1 lower critical") },
	{ __LINE__, R("doomed sensor \"CPU Temp\" critical", "doomed sensor_type temperature critical"),
	    { CPU_CRIT }, 1, HEALTH_DOOMED, R("doomed: CPU Temp upper critical") },
	{ __LINE__, R("risky sensor_type temperature warning", "doomed sensor \"CPU Temp\" critical"),
	    { CPU_CRIT }, 1, HEALTH_DOOMED, R("doomed: CPU Temp upper critical") },
	{ __LINE__, R("risky sensor_type fan critical", "risky sensor_type any critical"),
	    { FAN_CRIT }, 1, HEALTH_RISKY, R("risky: Fan1 lower critical") },
	/* the defaults */
	{ __LINE__, NULL, { CPU_CRIT }, 1, HEALTH_DOOMED, R("doomed: CPU Temp upper critical") },
	{ __LINE__, NULL, { CPU_WARN }, 1, HEALTH_RISKY, R("risky: CPU Temp upper non-critical") },
	{ __LINE__, NULL, { FAN_CRIT, DIMM_WARN }, 2, HEALTH_RISKY, R("risky: Fan1 lower critical") },
	{ __LINE__, NULL, { CPU_OK, DIMM_WARN }, 2, HEALTH_OK, NULL },
	{ __LINE__, R(NULL), { CPU_CRIT }, 1, HEALTH_OK, NULL },     /* no rules: all ok */
};

static void
test_sensors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(sensor_rows) / sizeof(sensor_rows[0]); i++) {
		struct health_rules rs;
		struct health_state st;
		struct health_verdict v;

		if (sensor_rows[i].rules && !sensor_rows[i].rules[0])
			rs.n = 0;
		else
			rules_set(&rs, sensor_rows[i].rules);
		health_state_init(&st);
		feed(&st, sensor_rows[i].s, sensor_rows[i].n, HEALTH_SEL_OTHER, 0, 0, T);
		health_eval(&rs, &st, T, &v);
		check_verdict(sensor_rows[i].line, &v, sensor_rows[i].want, sensor_rows[i].reasons);
		health_state_done(&st);
	}
}

/* ---- recovery and stickiness over time */

static void
test_risky_recovers(void **state)
{
	struct health_rules rs;
	struct health_state st;
	struct health_verdict v;

	(void)state;
	rules_set(&rs, R("risky ecc_correctable >= 10 in 24h", "risky sensor_type fan critical"));
	health_state_init(&st);
	st.primed = true;
	feed(&st, &(struct sensor_spec)FAN_CRIT, 1, HEALTH_SEL_ECC_CORRECTABLE, 12, 0, T);
	health_eval(&rs, &st, T, &v);
	check_verdict(__LINE__, &v, HEALTH_RISKY,
	    R("risky: 12 correctable ECC in 24h", "risky: Fan1 lower critical"));
	/* the fan recovers; the ECC burst is still in the window */
	feed(&st, &(struct sensor_spec){ "Fan1", 0x04, HEALTH_SENSOR_NOMINAL, NULL, NULL }, 1,
	    HEALTH_SEL_OTHER, 0, 0, T + H);
	health_eval(&rs, &st, T + H, &v);
	check_verdict(__LINE__, &v, HEALTH_RISKY, R("risky: 12 correctable ECC in 24h"));
	/* the window passes: ok again, nothing latched */
	health_eval(&rs, &st, T + D, &v);
	check_verdict(__LINE__, &v, HEALTH_OK, NULL);
	assert_false(st.doomed);
	/* a second, smaller burst later is not added to the expired one */
	feed(&st, NULL, 0, HEALTH_SEL_ECC_CORRECTABLE, 9, 0, T + D + H);
	health_eval(&rs, &st, T + D + H, &v);
	check_verdict(__LINE__, &v, HEALTH_OK, NULL);
	feed(&st, NULL, 0, HEALTH_SEL_ECC_CORRECTABLE, 1, 0, T + D + 2 * H);
	health_eval(&rs, &st, T + D + 2 * H, &v);
	check_verdict(__LINE__, &v, HEALTH_RISKY, R("risky: 10 correctable ECC in 24h"));
	health_state_done(&st);
}

static void
test_doomed_sticky(void **state)
{
	struct health_rules rs;
	struct health_state st;
	struct health_verdict v;

	(void)state;
	rules_set(&rs, NULL);
	health_state_init(&st);
	feed(&st, &(struct sensor_spec)CPU_CRIT, 1, HEALTH_SEL_OTHER, 0, 0, T);
	health_eval(&rs, &st, T, &v);
	check_verdict(__LINE__, &v, HEALTH_DOOMED, R("doomed: CPU Temp upper critical"));
	assert_true(st.doomed);
	assert_int_equal(st.doomed_since, T);

	/* back to nominal, days later: still doomed with the original reason */
	feed(&st, &(struct sensor_spec)CPU_OK, 1, HEALTH_SEL_OTHER, 0, 0, T + H);
	health_eval(&rs, &st, T + 40 * D, &v);
	check_verdict(__LINE__, &v, HEALTH_DOOMED, R("doomed: CPU Temp upper critical"));
	/* a second doomed cause adds its reason; since stays */
	feed(&st, &(struct sensor_spec)CPU_OK, 1, HEALTH_SEL_ECC_UNCORRECTABLE, 1, 0, T + 41 * D);
	health_eval(&rs, &st, T + 41 * D, &v);
	check_verdict(__LINE__, &v, HEALTH_DOOMED,
	    R("doomed: CPU Temp upper critical", "doomed: 1 uncorrectable ECC in 30d"));
	assert_int_equal(st.doomed_since, T);

	/* the admin clears: the SEL history goes too, else the 30d rule re-dooms at once */
	health_state_clear(&st);
	health_eval(&rs, &st, T + 41 * D, &v);
	check_verdict(__LINE__, &v, HEALTH_OK, NULL);
	/* a sensor still critical dooms again at once */
	feed(&st, &(struct sensor_spec)CPU_CRIT, 1, HEALTH_SEL_OTHER, 0, 0, T + 42 * D);
	health_state_clear(&st);
	health_eval(&rs, &st, T + 42 * D, &v);
	check_verdict(__LINE__, &v, HEALTH_DOOMED, R("doomed: CPU Temp upper critical"));
	health_state_done(&st);
}

/* ---- events: times, deassertions, caps */

static void
test_event_times(void **state)
{
	struct health_rules rs;
	struct health_state st;
	struct health_verdict v;
	struct health_sel_entry sel[2] = {
		{ .record_id = 1, .timestamp = (uint32_t)(T - 2 * D), .assertion = true,
		    .cls = HEALTH_SEL_ECC_UNCORRECTABLE },
		{ .record_id = 2, .timestamp = (uint32_t)(T - 2 * D), .assertion = false,
		    .cls = HEALTH_SEL_ECC_UNCORRECTABLE },
	};
	struct health_reading r = { .sel = sel, .n_sel = 2, .sel_last_id = 2 };

	(void)state;
	rules_set(&rs, R("doomed ecc_uncorrectable >= 1 in 24h"));
	/* first read: an old SEL record keeps its own (real) date and is outside 24h; the
	 * deassertion never counts */
	health_state_init(&st);
	assert_int_equal(health_state_update(&st, &r, T), 0);
	assert_int_equal(st.ev[HEALTH_SEL_ECC_UNCORRECTABLE].n, 1);
	assert_int_equal(st.ev[HEALTH_SEL_ECC_UNCORRECTABLE].t[0], T - 2 * D);
	assert_int_equal(st.sel_last_id, 2);
	health_eval(&rs, &st, T, &v);
	check_verdict(__LINE__, &v, HEALTH_OK, NULL);
	/* once primed, new records happened since the last read: counted now, whatever the
	 * BMC clock says */
	sel[0].record_id = 3;
	r.sel_last_id = 3;
	r.n_sel = 1;
	assert_int_equal(health_state_update(&st, &r, T + 60), 0);
	assert_int_equal(st.ev[HEALTH_SEL_ECC_UNCORRECTABLE].t[1], T + 60);
	health_eval(&rs, &st, T + 60, &v);
	check_verdict(__LINE__, &v, HEALTH_DOOMED, R("doomed: 1 uncorrectable ECC in 24h"));
	health_state_done(&st);

	/* first read, post-init timestamp (the BMC clock was never set) or a date in the
	 * future: now */
	health_state_init(&st);
	sel[0].timestamp = 3723;
	assert_int_equal(health_state_update(&st, &r, T), 0);
	assert_int_equal(st.ev[HEALTH_SEL_ECC_UNCORRECTABLE].t[0], T);
	health_state_done(&st);
	health_state_init(&st);
	sel[0].timestamp = (uint32_t)(T + H);
	assert_int_equal(health_state_update(&st, &r, T), 0);
	assert_int_equal(st.ev[HEALTH_SEL_ECC_UNCORRECTABLE].t[0], T);
	/* a reset SEL may hold old records again: their dates count */
	sel[0].timestamp = (uint32_t)(T - 5 * D);
	r.sel_reset = true;
	assert_int_equal(health_state_update(&st, &r, T + 1), 0);
	assert_int_equal(st.ev[HEALTH_SEL_ECC_UNCORRECTABLE].t[0], T - 5 * D);
	health_state_done(&st);
}

static void
test_event_cap(void **state)
{
	struct health_rules rs;
	struct health_state st;
	struct health_verdict v;

	(void)state;
	rules_set(&rs, R("risky ecc_correctable >= 256 in 1h"));
	health_state_init(&st);
	st.primed = true;
	feed(&st, NULL, 0, HEALTH_SEL_ECC_CORRECTABLE, 300, 0, T);
	assert_int_equal(st.ev[HEALTH_SEL_ECC_CORRECTABLE].n, MAX_HEALTH_EVENTS);
	feed(&st, NULL, 0, HEALTH_SEL_ECC_CORRECTABLE, 10, 0, T + 1);
	assert_int_equal(st.ev[HEALTH_SEL_ECC_CORRECTABLE].n, MAX_HEALTH_EVENTS);
	/* the newest are kept */
	assert_int_equal(st.ev[HEALTH_SEL_ECC_CORRECTABLE].t[MAX_HEALTH_EVENTS - 1], T + 1);
	assert_int_equal(st.ev[HEALTH_SEL_ECC_CORRECTABLE].t[MAX_HEALTH_EVENTS - 10], T + 1);
	assert_int_equal(st.ev[HEALTH_SEL_ECC_CORRECTABLE].t[MAX_HEALTH_EVENTS - 11], T);
	health_eval(&rs, &st, T + 1, &v);
	check_verdict(__LINE__, &v, HEALTH_RISKY, R("risky: 256 correctable ECC in 1h"));
	/* and everything is forgotten after the longest window */
	health_eval(&rs, &st, T + 1 + MAX_HEALTH_WINDOW_S, &v);
	assert_int_equal(st.ev[HEALTH_SEL_ECC_CORRECTABLE].n, 0);
	health_state_done(&st);
}

/* ---- SEL classification (IPMI 2.0 Tables 42-2, 42-3) */

static const struct {
	int line;
	uint8_t type, event_type, offset;
	enum health_sensor_state sev;
	enum health_sel_class want;
} class_rows[] = {
	{ __LINE__, 0x0c, 0x6f, 0x00, HEALTH_SENSOR_WARNING, HEALTH_SEL_ECC_CORRECTABLE },
	{ __LINE__, 0x0c, 0x6f, 0x05, HEALTH_SENSOR_WARNING, HEALTH_SEL_ECC_CORRECTABLE },
	{ __LINE__, 0x0c, 0x6f, 0x01, HEALTH_SENSOR_CRITICAL, HEALTH_SEL_ECC_UNCORRECTABLE },
	{ __LINE__, 0x0c, 0x6f, 0x02, HEALTH_SENSOR_CRITICAL, HEALTH_SEL_ECC_UNCORRECTABLE },
	{ __LINE__, 0x0c, 0x6f, 0x0a, HEALTH_SENSOR_CRITICAL, HEALTH_SEL_OVER_TEMPERATURE },
	{ __LINE__, 0x0c, 0x6f, 0x06, HEALTH_SENSOR_NOMINAL, HEALTH_SEL_OTHER },  /* presence */
	{ __LINE__, 0x0c, 0x01, 0x00, HEALTH_SENSOR_WARNING, HEALTH_SEL_OTHER },
	{ __LINE__, 0x01, 0x01, 0x09, HEALTH_SENSOR_CRITICAL, HEALTH_SEL_OVER_TEMPERATURE },
	{ __LINE__, 0x01, 0x01, 0x0b, HEALTH_SENSOR_CRITICAL, HEALTH_SEL_OVER_TEMPERATURE },
	{ __LINE__, 0x01, 0x01, 0x07, HEALTH_SENSOR_WARNING, HEALTH_SEL_OTHER },  /* UNC */
	{ __LINE__, 0x01, 0x01, 0x02, HEALTH_SENSOR_CRITICAL, HEALTH_SEL_OTHER }, /* too cold */
	{ __LINE__, 0x07, 0x6f, 0x01, HEALTH_SENSOR_CRITICAL, HEALTH_SEL_OVER_TEMPERATURE },
	{ __LINE__, 0x07, 0x6f, 0x00, HEALTH_SENSOR_CRITICAL, HEALTH_SEL_OTHER },
	{ __LINE__, 0x04, 0x01, 0x02, HEALTH_SENSOR_CRITICAL, HEALTH_SEL_FAN },
	{ __LINE__, 0x04, 0x01, 0x00, HEALTH_SENSOR_WARNING, HEALTH_SEL_OTHER },  /* LNC */
	{ __LINE__, 0x04, 0x01, 0x03, HEALTH_SENSOR_NOMINAL, HEALTH_SEL_OTHER },  /* recovering */
	{ __LINE__, 0x04, 0x0b, 0x01, HEALTH_SENSOR_CRITICAL, HEALTH_SEL_FAN },   /* redundancy lost */
	{ __LINE__, 0x04, 0x08, 0x01, HEALTH_SENSOR_NOMINAL, HEALTH_SEL_OTHER },  /* present */
	{ __LINE__, 0x0a, 0x01, 0x04, HEALTH_SENSOR_CRITICAL, HEALTH_SEL_FAN },
	{ __LINE__, 0x08, 0x6f, 0x01, HEALTH_SENSOR_CRITICAL, HEALTH_SEL_POWER_SUPPLY },
	{ __LINE__, 0x08, 0x6f, 0x03, HEALTH_SENSOR_CRITICAL, HEALTH_SEL_POWER_SUPPLY },
	{ __LINE__, 0x08, 0x6f, 0x00, HEALTH_SENSOR_NOMINAL, HEALTH_SEL_OTHER },
	{ __LINE__, 0x08, 0x0b, 0x01, HEALTH_SENSOR_WARNING, HEALTH_SEL_POWER_SUPPLY },
	{ __LINE__, 0x08, 0x01, 0x09, HEALTH_SENSOR_CRITICAL, HEALTH_SEL_POWER_SUPPLY },
	{ __LINE__, 0x23, 0x6f, 0x01, HEALTH_SENSOR_CRITICAL, HEALTH_SEL_OTHER }, /* watchdog */
	{ __LINE__, 0x00, 0x00, 0x00, HEALTH_SENSOR_UNKNOWN, HEALTH_SEL_OTHER },
};

static void
test_classify(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(class_rows) / sizeof(class_rows[0]); i++) {
		enum health_sel_class c = health_sel_classify(class_rows[i].type,
		    class_rows[i].event_type, class_rows[i].offset, class_rows[i].sev);

		if (c != class_rows[i].want)
			fail_msg("line %d: class %s, want %s", class_rows[i].line,
			    health_sel_class_to_string(c),
			    health_sel_class_to_string(class_rows[i].want));
	}
}

static void
test_names(void **state)
{
	(void)state;
	for (int h = 0; h < _HEALTH_MAX; h++)
		assert_int_equal(health_from_string(health_to_string((enum health)h)), h);
	assert_int_equal(health_from_string("sick"), _HEALTH_INVALID);
	assert_null(health_to_string(_HEALTH_MAX));
	for (int c = 0; c < _HEALTH_SEL_CLASS_MAX; c++)
		assert_int_equal(health_sel_class_from_string(
		    health_sel_class_to_string((enum health_sel_class)c)), c);
	assert_int_equal(health_sensor_type_from_string("temperature"), 0x01);
	assert_int_equal(health_sensor_type_from_string("fru_state"), 0x2c);
	assert_int_equal(health_sensor_type_from_string("any"), -EINVAL);
	assert_null(health_sensor_type_to_string(0x00));
	assert_null(health_sensor_type_to_string(0xc0));
	assert_string_equal(health_sensor_state_to_string(HEALTH_SENSOR_CRITICAL), "Critical");
}

/* ---- JSON state */

static void
test_json_roundtrip(void **state)
{
	struct health_rules rs;
	struct health_state st, back;
	struct health_verdict v, v2;
	struct dl_err e = { 0 };
	char *json = NULL, *json2 = NULL;

	(void)state;
	rules_set(&rs, NULL);
	health_state_init(&st);
	st.primed = true;
	feed(&st, NULL, 0, HEALTH_SEL_ECC_CORRECTABLE, 11, 0, T);
	feed(&st, NULL, 0, HEALTH_SEL_ECC_UNCORRECTABLE, 1, 0, T + 5);
	health_eval(&rs, &st, T + 5, &v);
	assert_int_equal(v.health, HEALTH_DOOMED);
	assert_int_equal(health_persist_to_json(&st, &json), 0);
	assert_non_null(strstr(json, "\"sel\":12"));
	assert_non_null(strstr(json, "\"ecc_uncorrectable\":[1764000005]"));

	health_state_init(&back);
	assert_int_equal(health_persist_from_json(json, &back, &e), 0);
	assert_int_equal(health_persist_to_json(&back, &json2), 0);
	assert_string_equal(json, json2);
	assert_int_equal(back.sel_last_id, 12);
	assert_true(back.primed && back.doomed);
	assert_int_equal(back.doomed_since, T + 5);
	/* the restored state judges the same (sensors come from the next read) */
	health_eval(&rs, &back, T + 6, &v2);
	check_verdict(__LINE__, &v2, HEALTH_DOOMED,
	    R("doomed: 1 uncorrectable ECC in 30d", "risky: 11 correctable ECC in 24h"));
	free(json);
	free(json2);

	/* an empty state is small */
	health_state_done(&back);
	assert_int_equal(health_persist_to_json(&back, &json), 0);
	assert_string_equal(json, "{\"ev\":{},\"primed\":false,\"sel\":0,\"v\":1}");
	free(json);
	health_state_done(&back);
	health_state_done(&st);
}

static const struct {
	int line;
	const char *json;
	int rc;
	const char *msg;
} json_rows[] = {
	{ __LINE__, "{\"v\":1}", 0, NULL },
	{ __LINE__, "{\"v\":1,\"ev\":{\"fan\":[3,1,2]}}", 0, NULL },   /* sorted on load */
	{ __LINE__, "", -EINVAL, "bad JSON" },
	{ __LINE__, "[]", -EINVAL, "not a JSON object" },
	{ __LINE__, "{}", -EINVAL, "'v' is not 1" },
	{ __LINE__, "{\"v\":2}", -EINVAL, "'v' is not 1" },
	{ __LINE__, "{\"v\":1,\"x\":1}", -EINVAL, "unknown key 'x'" },
	{ __LINE__, "{\"v\":1,\"v\":1}", -EINVAL, "bad JSON" },
	{ __LINE__, "{\"v\":1,\"sel\":-1}", -EINVAL, "'sel'" },
	{ __LINE__, "{\"v\":1,\"sel\":4294967296}", -EINVAL, "'sel'" },
	{ __LINE__, "{\"v\":1,\"primed\":1}", -EINVAL, "'primed'" },
	{ __LINE__, "{\"v\":1,\"ev\":[]}", -EINVAL, "'ev' is not an object" },
	{ __LINE__, "{\"v\":1,\"ev\":{\"ecc\":[]}}", -EINVAL, "'ecc' is not an event class" },
	{ __LINE__, "{\"v\":1,\"ev\":{\"fan\":1}}", -EINVAL, "'ev.fan' is not an array" },
	{ __LINE__, "{\"v\":1,\"ev\":{\"fan\":[\"1\"]}}", -EINVAL, "'ev.fan[0]'" },
	{ __LINE__, "{\"v\":1,\"ev\":{\"fan\":[1,-5]}}", -EINVAL, "'ev.fan[1]'" },
	{ __LINE__, "{\"v\":1,\"doomed\":true}", -EINVAL, "'doomed' is not an object" },
	{ __LINE__, "{\"v\":1,\"doomed\":{\"reasons\":[]}}", -EINVAL, "'doomed.since'" },
	{ __LINE__, "{\"v\":1,\"doomed\":{\"since\":1}}", -EINVAL, "'doomed.reasons'" },
	{ __LINE__, "{\"v\":1,\"doomed\":{\"since\":1,\"reasons\":[\"\"]}}", -EINVAL,
	    "'doomed.reasons[0]'" },
	{ __LINE__, "{\"v\":1,\"doomed\":{\"since\":1,\"reasons\":[\"a\\nb\"]}}", -EINVAL,
	    "control character" },
	{ __LINE__, "{\"v\":1,\"doomed\":{\"since\":1,\"reasons\":[\"a\\u0000b\"]}}", -EINVAL,
	    "bad JSON" },                                              /* NUL inside */
	{ __LINE__, "{\"v\":1,\"doomed\":{\"since\":1,\"reasons\":[],\"x\":2}}", -EINVAL,
	    "unknown key 'doomed.x'" },
	{ __LINE__, "{\"v\":1,\"doomed\":{\"since\":1,\"reasons\":[\"a\",\"b\",\"c\",\"d\","
		    "\"e\",\"f\",\"g\",\"h\",\"i\"]}}", -E2BIG, "more than 8" },
};

static void
test_json_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(json_rows) / sizeof(json_rows[0]); i++) {
		struct health_state st;
		struct dl_err e = { 0 };
		int rc;

		health_state_init(&st);
		st.sel_last_id = 77; /* untouched on failure */
		rc = health_persist_from_json(json_rows[i].json, &st, &e);
		if (rc != json_rows[i].rc)
			fail_msg("line %d: rc %d, want %d (%s)", json_rows[i].line, rc,
			    json_rows[i].rc, e.msg);
		if (rc < 0 && (!strstr(e.msg, json_rows[i].msg) || st.sel_last_id != 77))
			fail_msg("line %d: message '%s' lacks '%s'", json_rows[i].line, e.msg,
			    json_rows[i].msg);
		if (rc == 0 && st.ev[HEALTH_SEL_FAN].n == 3 &&
		    (st.ev[HEALTH_SEL_FAN].t[0] != 1 || st.ev[HEALTH_SEL_FAN].t[2] != 3))
			fail_msg("line %d: events not sorted", json_rows[i].line);
		health_state_done(&st);
	}
}

static void
test_json_too_many_events(void **state)
{
	struct health_state st;
	struct dl_err e = { 0 };
	char *json = calloc(1, 16 + (MAX_HEALTH_EVENTS + 1) * 3 + 16);
	size_t n;

	(void)state;
	assert_non_null(json);
	n = (size_t)sprintf(json, "{\"v\":1,\"ev\":{\"fan\":[");
	for (int i = 0; i <= MAX_HEALTH_EVENTS; i++)
		n += (size_t)sprintf(json + n, "%s1", i ? "," : "");
	sprintf(json + n, "]}}");
	health_state_init(&st);
	assert_int_equal(health_persist_from_json(json, &st, &e), -E2BIG);
	assert_non_null(strstr(e.msg, "more than 256"));
	health_state_done(&st);
	free(json);
}

/* The power draw for energy accounting: the largest watts reading, rounded; sensors in
 * other units, without a reading, or absurd are ignored. */
static void
test_power_watts(void **state)
{
	struct health_sensor s[] = {
		{ .name = "CPU Temp", .has_reading = true, .reading = 400, .units = "C" },
		{ .name = "PSU1 Input", .has_reading = true, .reading = 151.6, .units = "W" },
		{ .name = "Pwr Consumption", .has_reading = true, .reading = 289.4, .units = "W" },
		{ .name = "PSU2 Input", .has_reading = false, .reading = 900, .units = "W" },
		{ .name = "Broken", .has_reading = true, .reading = 1e9, .units = "W" },
	};
	struct health_reading r = { .sensors = s, .n_sensors = 5 };

	(void)state;
	assert_int_equal(health_power_watts(&r), 289);
	r.n_sensors = 2;
	assert_int_equal(health_power_watts(&r), 152);
	r.n_sensors = 1;
	assert_int_equal(health_power_watts(&r), 0); /* no power sensor: the model */
	s[1].reading = -3;
	r.sensors = &s[1];
	assert_int_equal(health_power_watts(&r), 0);
	r.n_sensors = 0;
	assert_int_equal(health_power_watts(&r), 0);
}

/* The node's temperature for the VM layer's thermal policy: the hottest temperature
 * sensor in C or F; other types, missing readings and absurd values are ignored. */
static void
test_temperature(void **state)
{
	struct health_sensor s[] = {
		{ .name = "Inlet", .type = 0x01, .has_reading = true, .reading = 24, .units = "C" },
		{ .name = "CPU Temp", .type = 0x01, .has_reading = true, .reading = 71.5,
		  .units = "C" },
		{ .name = "DIMM", .type = 0x01, .has_reading = true, .reading = 176, .units = "F" },
		{ .name = "Fan1", .type = 0x04, .has_reading = true, .reading = 9000,
		  .units = "RPM" },
		{ .name = "Bad", .type = 0x01, .has_reading = true, .reading = 999, .units = "C" },
		{ .name = "Absent", .type = 0x01, .has_reading = false, .reading = 120,
		  .units = "C" },
	};
	struct health_reading r = { .sensors = s, .n_sensors = 6 };
	double c = -1;

	(void)state;
	assert_true(health_temperature_c(&r, &c));
	assert_true(c > 79.99 && c < 80.01); /* 176 F */
	r.n_sensors = 2;
	assert_true(health_temperature_c(&r, &c));
	assert_true(c > 71.49 && c < 71.51);
	r.sensors = &s[3];
	r.n_sensors = 3; /* a fan, an absurd one, one without a reading */
	assert_false(health_temperature_c(&r, &c));
	r.n_sensors = 0;
	assert_false(health_temperature_c(&r, &c));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_sensors),
		cmocka_unit_test(test_risky_recovers),
		cmocka_unit_test(test_doomed_sticky),
		cmocka_unit_test(test_event_times),
		cmocka_unit_test(test_event_cap),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_power_watts),
		cmocka_unit_test(test_temperature),
		cmocka_unit_test(test_json_roundtrip),
		cmocka_unit_test(test_json_errors),
		cmocka_unit_test(test_json_too_many_events),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
