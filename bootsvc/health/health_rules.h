/* SPDX-License-Identifier: MIT */
/* Health rules (issue #5 item 1): from what a node's BMC reported (health.h) to ok, risky
 * or doomed, with reasons people read. Pure: no I/O, no clock (callers pass `now`, seconds
 * since 1970), no logging, no globals; so the loop thread calls it directly and the unit
 * tests drive it with tables.
 *
 * Rule syntax: one rule per `health_rule =` config value (docs/health.md):
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
 *            cooling_device, memory, drive_slot, battery, ... (health_sensor_type_names), any
 *   STATE    warning (matches warning and critical) | critical
 *
 * Examples: `risky ecc_correctable >= 10 in 24h`, `doomed sensor "CPU Temp" critical`,
 * `risky sensor_type fan critical`. Words are separated by spaces or tabs; keywords are
 * lower case.
 *
 * Evaluation (health_eval): every rule is checked; the node is the worst verdict of the
 * rules that match, with one reason per matching rule and sensor ("doomed: CPU Temp upper
 * critical", "risky: 12 correctable ECC in 24h"; identical reasons once). A rate counts the
 * asserted SEL events of its class whose time t satisfies now - WINDOW < t: an event
 * exactly WINDOW old has left the window. Risky is recomputed on every evaluation, so a
 * risky node is ok again once its events age out of the window and its sensors return to
 * nominal. Doomed latches in the node's state with its reasons, across restarts when the
 * state is persisted, until health_clear(): a node that once reached a critical temperature
 * stays out of service until a person has looked at it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "health/health.h"

enum health {
	HEALTH_OK,
	HEALTH_RISKY,
	HEALTH_DOOMED,
	_HEALTH_MAX,
	_HEALTH_INVALID = -EINVAL,
};

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
/* SEL events remembered per node and class, the newest ones: also the largest COUNT a rule
 * may ask for (a count needs that many events kept). 256 x 8 bytes x 6 classes is the
 * worst case per node; nodes without events allocate nothing. */
#define MAX_HEALTH_EVENTS 256
/* Longest window, and how long any event is remembered. */
#define MAX_HEALTH_WINDOW_S (90 * 24 * 3600)
/* Reasons reported and doomed reasons latched per node; more are counted, not listed. */
#define MAX_HEALTH_REASONS 8
/* "doomed: " + sensor name + " upper non-recoverable (" + event text + ")" */
#define MAX_HEALTH_REASON 160
/* Any sensor type, for sensor_type rules. */
#define HEALTH_SENSOR_TYPE_ANY (-1)
/* Largest serialized state health_state_from_json() accepts: six full classes of
 * 11-digit times plus latched reasons stay well below it. */
#define MAX_HEALTH_STATE_JSON (64 * 1024)

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
 * (the list lives in health_rules.c's default_rules[] and docs/health.md). */
void health_rules_init_default(struct health_rules *rs);

/* Parse text and append it to rs: for the config's repeatable `health_rule` key (start
 * from an empty rs, rs->n = 0). -EINVAL as health_rule_parse(), -E2BIG beyond
 * MAX_HEALTH_RULES rules. */
int health_rules_add(struct health_rules *rs, const char *text, struct dl_err *reterr);

/* Names. to_string returns a static string, or NULL for an out-of-range value;
 * from_string returns the value or _X_INVALID (-EINVAL). */
/* The node's power draw from one read, in whole watts: the largest reading among the
 * threshold sensors in watts ("Pwr Consumption", "Total Power", a PSU's input power).
 * The largest, not the sum: a BMC that reports a total beside per-PSU inputs would be
 * counted twice, and one that reports only per-PSU inputs of a redundant pair draws on
 * the whole mostly through one. 0 when the BMC reports no power sensor (the energy
 * accounting then uses the configured wattage model), when the reading is not positive,
 * or beyond 100 kW (a misread, not a node). */
unsigned health_power_watts(const struct health_reading *r);

const char *health_to_string(enum health h);                      /* "ok", "risky", "doomed" */
enum health health_from_string(const char *s);
const char *health_sensor_state_to_string(enum health_sensor_state s); /* "Nominal", ... */
const char *health_sel_class_to_string(enum health_sel_class c);  /* "ecc_correctable" */
enum health_sel_class health_sel_class_from_string(const char *s);
/* IPMI sensor types (IPMI 2.0 Table 42-3) by rule name: "temperature" = 0x01. Unnamed
 * types give NULL; from_string returns the type or -EINVAL. */
const char *health_sensor_type_to_string(unsigned type);
int health_sensor_type_from_string(const char *s);

/* Which class a SEL system event record belongs to, from its sensor type, event/reading
 * type code, event offset and libipmimonitoring's severity (used for discrete fan and PSU
 * events whose meaning differs per type code). Direction is not looked at: the caller
 * counts assertions only. */
enum health_sel_class health_sel_classify(uint8_t sensor_type, uint8_t event_type,
    uint8_t offset, enum health_sensor_state severity);

/* One node's health memory: recent SEL events per class (time in seconds, ascending), the
 * sensors that were not nominal at the last read, the last SEL record id consumed, and the
 * latched doomed verdict. Embedded; health_state_init() / health_state_done(). Owned and
 * touched by one thread (the loop). */
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
	bool doomed;                     /* latched until health_clear() */
	int64_t doomed_since;
	char doomed_reason[MAX_HEALTH_REASONS][MAX_HEALTH_REASON];
	size_t n_doomed_reasons;
};

struct health_verdict {
	enum health health;
	char reason[MAX_HEALTH_REASONS][MAX_HEALTH_REASON]; /* doomed reasons first */
	size_t n_reasons;
	size_t n_reasons_omitted;        /* matched beyond MAX_HEALTH_REASONS */
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

/* Evaluate rs against st at time now into *ret (always filled; returns 0). Forgets events
 * older than MAX_HEALTH_WINDOW_S and latches doomed (with its reasons) into st, which is why
 * st is not const. Use a zero-rule rs for "no rules": every node is ok. */
int health_eval(const struct health_rules *rs, struct health_state *st, int64_t now,
    struct health_verdict *ret);

/* An administrator's "the node is fixed": drop the latched doomed verdict and every
 * remembered SEL event (else a rule like `doomed ecc_uncorrectable >= 1 in 30d` re-dooms at
 * once from the history). Sensors are kept: one still critical dooms again at the next
 * evaluation, which is right. sel_last_id is kept (those records were consumed). */
void health_clear(struct health_state *st);

/* Serialize st's persistent part (events, sel_last_id, primed, the doomed latch; not the
 * sensors, which the next read refreshes) as one compact JSON object:
 *   {"v":1,"sel":14,"primed":true,"ev":{"ecc_correctable":[1764030000,...]},
 *    "doomed":{"since":1764030100,"reasons":["doomed: uncorrectable ECC ..."]}}
 * *ret_json is a new string, caller frees. Returns 0 or -ENOMEM. */
int health_state_to_json(const struct health_state *st, char **ret_json);

/* Parse what health_state_to_json() wrote (untrusted: the store may be damaged) into *ret,
 * which the caller has health_state_init()ed and which is replaced only on success (the old
 * contents are freed then). -EINVAL with reterr naming the bad key or value, -E2BIG over
 * MAX_HEALTH_STATE_JSON bytes or MAX_HEALTH_EVENTS per class, -ENOMEM. */
int health_state_from_json(const char *json, struct health_state *ret, struct dl_err *reterr);
