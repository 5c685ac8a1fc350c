/* SPDX-License-Identifier: MIT */
/* The health rule language (issue #5 item 1): one rule per `health_rule =` config value
 * (docs/health.md):
 *
 *     VERDICT CLASS >= COUNT in WINDOW     a rate of SEL events over a sliding window
 *     VERDICT sensor NAME STATE            one sensor, by name (case-insensitive)
 *     VERDICT sensor_type TYPE STATE       every sensor of an IPMI type, or `any`
 *
 *   VERDICT  risky | doomed
 *   CLASS    ecc_correctable | ecc_uncorrectable | over_temperature | fan | power_supply |
 *            other    (health_sel_classify() says which SEL records are which)
 *   COUNT    1..MAX_HEALTH_EVENTS; `>` is accepted too (> N means >= N+1)
 *   WINDOW   an integer and a unit s, m, h or d: 90s, 15m, 24h, 30d (1 s .. 90 d)
 *   NAME     "a quoted name" (no '"' inside), or one word: "CPU Temp", Fan1
 *   TYPE     temperature, voltage, current, fan, processor, power_supply, power_unit,
 *            cooling_device, memory, drive_slot, battery, ... (health_sensor_type_to_string()), any
 *   STATE    warning (matches warning and critical) | critical
 *
 * Examples: `risky ecc_correctable >= 10 in 24h`, `doomed sensor "CPU Temp" critical`,
 * `risky sensor_type fan critical`. Words are separated by spaces or tabs; keywords are
 * lower case. What a rule means for a node is health_eval()'s (eval.h). The parser reads
 * config input: tests/fuzz/fuzz_healthrule.c fuzzes it. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "health/health.h"

enum health_rule_kind {
	HEALTH_RULE_SEL_RATE,
	HEALTH_RULE_SENSOR,
	HEALTH_RULE_SENSOR_TYPE,
};

/* Longest rule text: a sensor name of MAX_HEALTH_NAME plus keywords fits many times over;
 * anything longer is a mistake or an attack on the parser. */
#define MAX_HEALTH_RULE_TEXT 256
/* Rules per daemon: each is checked for every node at every poll; no site needs more. */
#define MAX_HEALTH_RULES 64
/* Any sensor type, for sensor_type rules. */
#define HEALTH_SENSOR_TYPE_ANY (-1)

struct health_rule {
	enum health verdict;             /* HEALTH_RISKY or HEALTH_DOOMED */
	enum health_rule_kind kind;
	/* HEALTH_RULE_SEL_RATE */
	enum health_sel_class sel_class;
	unsigned count;                  /* matches when at least count events are in the window */
	uint32_t window_s;
	char window_unit;                /* 's', 'm', 'h' or 'd': how the rule wrote it */
	/* HEALTH_RULE_SENSOR (sensor) and HEALTH_RULE_SENSOR_TYPE (sensor_type) */
	char sensor[MAX_HEALTH_NAME + 1];
	int sensor_type;                 /* IPMI type, or HEALTH_SENSOR_TYPE_ANY */
	enum health_sensor_state min_state; /* WARNING or CRITICAL */
};

struct health_rules {
	struct health_rule rule[MAX_HEALTH_RULES];
	size_t n;
};

/* Parse one rule (the syntax above). On success fills *ret and returns 0. On error returns
 * -EINVAL and reterr names the offending word and what was expected there, e.g.
 * "health rule: 'foo' (word 2) is not an event class, 'sensor' or 'sensor_type'". */
int health_rule_parse(const char *text, struct health_rule *ret, struct dl_err *reterr);

/* The rule in canonical form (which health_rule_parse() reads back to the same rule) into
 * buf of size bytes. Returns the length, or -ENOBUFS if it does not fit (buf then holds a
 * truncated string), or -EINVAL for a malformed rule. MAX_HEALTH_RULE_TEXT always fits. */
int health_rule_format(const struct health_rule *r, char *buf, size_t size);

/* Empty rs, then the built-in defaults used when the config names no rule:
 *     doomed ecc_uncorrectable >= 1 in 30d
 *     risky ecc_correctable >= 10 in 24h
 *     doomed sensor_type temperature critical
 *     risky sensor_type temperature warning
 *     risky over_temperature >= 1 in 24h
 *     risky sensor_type fan critical
 *     risky fan >= 1 in 24h
 *     risky sensor_type power_supply critical
 *     risky power_supply >= 1 in 24h
 *     risky sensor_type any critical
 * (the list lives in rule.c's default_rules[] and docs/health.md). */
void health_rules_init_default(struct health_rules *rs);

/* Parse text and append it to rs: for the config's repeatable `health_rule` key (start
 * from an empty rs, rs->n = 0). -EINVAL as health_rule_parse(), -E2BIG beyond
 * MAX_HEALTH_RULES rules. */
int health_rules_add(struct health_rules *rs, const char *text, struct dl_err *reterr);
