/* SPDX-License-Identifier: MIT */
/* Health of one node as its BMC reports it (issue #5 item 1): the sensors' current states
 * and the System Event Log records added since the previous read, through
 * libipmimonitoring over IPMI 2.0 / RMCP+ (bmc/health_ipmi.c). health_read() blocks, so it
 * runs on worker threads only (CONVENTIONS §6); it touches no loop state and logs nothing.
 *
 * What the readings mean is decided by the rest of health/, which does no I/O, no clock
 * (callers pass `now`), no logging and has no globals; so the loop thread calls it
 * directly and the unit tests drive it with tables (docs/health.md):
 *   health.c     the names of this header's enums; a reading's power draw
 *   sel_class.c  which class a SEL record belongs to
 *   rule.c       the rule language: parse, format, the defaults
 *   window.c     a class's event times as a sliding window (private: health_internal.h)
 *   state.c      one node's memory: events, alerting sensors, the doomed latch
 *   eval.c       rules x state -> ok, risky or doomed with reasons
 *   persist.c    the state to and from the JSON the store keeps */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* A node's verdict, worst last: callers compare with >. */
enum health {
	HEALTH_OK,
	HEALTH_RISKY,
	HEALTH_DOOMED,
	_HEALTH_MAX,
	_HEALTH_INVALID = -EINVAL,
};

/* A sensor's state as libipmimonitoring interprets it (the same words ipmi-sensors
 * prints). Ordered by severity: rules compare with >=. UNKNOWN (no reading, no
 * interpretation) never matches a rule. */
enum health_sensor_state {
	HEALTH_SENSOR_NOMINAL,
	HEALTH_SENSOR_WARNING,
	HEALTH_SENSOR_CRITICAL,
	HEALTH_SENSOR_UNKNOWN,
	_HEALTH_SENSOR_STATE_MAX,
	_HEALTH_SENSOR_STATE_INVALID = -EINVAL,
};

/* What a SEL record is about, for the rate rules (health_sel_classify() decides). */
enum health_sel_class {
	HEALTH_SEL_ECC_CORRECTABLE,   /* memory: correctable ECC, ECC logging limit */
	HEALTH_SEL_ECC_UNCORRECTABLE, /* memory: uncorrectable ECC, parity */
	HEALTH_SEL_OVER_TEMPERATURE,  /* a temperature above its upper critical threshold,
				       * CPU thermal trip, memory critical over-temperature */
	HEALTH_SEL_FAN,               /* a fan below its lower critical threshold, failed, lost
				       * redundancy */
	HEALTH_SEL_POWER_SUPPLY,      /* a PSU failed, lost its input, lost redundancy */
	HEALTH_SEL_OTHER,             /* everything else (non-critical crossings, OEM, ...) */
	_HEALTH_SEL_CLASS_MAX,
	_HEALTH_SEL_CLASS_INVALID = -EINVAL,
};

/* Longest sensor name kept: an SDR ID string is at most 16 bytes (IPMI 2.0 §43.1, Table
 * 43-1), twice that leaves room for BMCs that prefix entity names. Longer ones are cut. */
#define MAX_HEALTH_NAME 32
/* Longest event text kept ("At or Above (>=) Upper Critical Threshold" is 41). */
#define MAX_HEALTH_TEXT 96
/* Sensors kept per read: the lab BMC has 3, a two-socket server 60-150. More are dropped
 * (n_sensors_dropped) rather than letting one BMC's SDR grow a worker's memory. */
#define MAX_HEALTH_SENSORS 256
/* New SEL records kept per read, the newest ones: a full SEL is 512-3000 entries on
 * common BMCs, and the rate rules keep at most MAX_HEALTH_EVENTS per class anyway. */
#define MAX_HEALTH_SEL_NEW 512
/* SEL events remembered per node and class, the newest ones: also the largest COUNT a rule
 * may ask for (a count needs that many events kept). 256 x 8 bytes x 6 classes is the
 * worst case per node; nodes without events allocate nothing. */
#define MAX_HEALTH_EVENTS 256
/* Longest window, and how long any event is remembered. */
#define MAX_HEALTH_WINDOW_S (90 * 24 * 3600)

struct health_sensor {
	char name[MAX_HEALTH_NAME + 1];  /* "CPU Temp"; control characters become '?' */
	uint8_t type;                    /* IPMI sensor type (IPMI 2.0 Table 42-3): 0x01 temperature */
	enum health_sensor_state state;
	bool has_reading;                /* threshold sensors with a numeric reading */
	double reading;
	char units[8];                   /* "C", "RPM", "V", ... or "" */
	char condition[24];              /* threshold sensors out of range: "upper critical",
					  * "lower non-critical", ...; else "" */
	char event[MAX_HEALTH_TEXT];     /* libipmimonitoring's texts, joined by "; " */
};

struct health_sel_entry {
	uint32_t record_id;
	uint32_t timestamp;              /* the BMC's clock, seconds since 1970; values below
					  * 0x20000000 are "post-init" relative times (IPMI 2.0
					  * §37.1); 0 for records without one */
	uint8_t sensor_type;             /* IPMI sensor type; 0 for OEM records */
	uint8_t event_type;              /* event/reading type code: 0x01 threshold, 0x6f sensor-specific */
	uint8_t offset;                  /* event offset (event data 1, bits 3:0) */
	bool assertion;                  /* false: a deassertion (the condition went away) */
	enum health_sel_class cls;
	enum health_sensor_state severity; /* libipmimonitoring's SEL state */
	char sensor[MAX_HEALTH_NAME + 1];  /* "" when the SDR has no such sensor */
	char event[MAX_HEALTH_TEXT];       /* "Correctable ECC", "Upper Critical - going high" */
};

/* One read of one BMC. Owns its arrays: release with health_reading_done(). */
struct health_reading {
	struct health_sensor *sensors;
	size_t n_sensors;
	size_t n_sensors_dropped;        /* beyond MAX_HEALTH_SENSORS */
	struct health_sel_entry *sel;    /* new records, oldest first (SEL order) */
	size_t n_sel;
	size_t n_sel_dropped;            /* new records beyond MAX_HEALTH_SEL_NEW (the oldest) */
	uint32_t sel_last_id;            /* pass as sel_after next time; 0 when the SEL is empty */
	bool sel_reset;                  /* the SEL's ids went below sel_after (cleared or wrapped):
					  * every record counted as new */
};

/* Free r's arrays and zero it; r may be half-filled or already done. */
void health_reading_done(struct health_reading *r);

/* Names. to_string returns a static string, or NULL for an out-of-range value;
 * from_string returns the value or _X_INVALID (-EINVAL). */
const char *health_to_string(enum health h);                      /* "ok", "risky", "doomed" */
enum health health_from_string(const char *s);
const char *health_sensor_state_to_string(enum health_sensor_state s); /* "Nominal", ... */
/* IPMI sensor types (IPMI 2.0 Table 42-3) by rule name: "temperature" = 0x01. Unnamed
 * types give NULL; from_string returns the type or -EINVAL. */
const char *health_sensor_type_to_string(unsigned type);
int health_sensor_type_from_string(const char *s);

/* The node's power draw from one read, in whole watts: the largest reading among the
 * threshold sensors in watts ("Pwr Consumption", "Total Power", a PSU's input power).
 * The largest, not the sum: a BMC that reports a total beside per-PSU inputs would be
 * counted twice, and one that reports only per-PSU inputs of a redundant pair draws on
 * the whole mostly through one. 0 when the BMC reports no power sensor (the energy
 * accounting then uses the configured wattage model), when the reading is not positive,
 * or beyond 100 kW (a misread, not a node). */
unsigned health_power_watts(const struct health_reading *r);

/* The node's temperature from one read, in degrees C: the hottest temperature sensor
 * (type 0x01) with a reading in C (or F, converted). The hottest, not an average: what sheds load is the
 * part nearest its limit (a CPU, not the inlet). false when the BMC reports none, or
 * only readings outside -50..200 C (a misread, not a part). */
bool health_temperature_c(const struct health_reading *r, double *ret);
