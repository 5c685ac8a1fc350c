/* SPDX-License-Identifier: MIT */
/* SEL record -> class (IPMI 2.0 Tables 42-2 and 42-3), and the classes' names. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "health/sel_class.h"

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

static const char *const sel_class_table[_HEALTH_SEL_CLASS_MAX] = {
	[HEALTH_SEL_ECC_CORRECTABLE] = "ecc_correctable",
	[HEALTH_SEL_ECC_UNCORRECTABLE] = "ecc_uncorrectable",
	[HEALTH_SEL_OVER_TEMPERATURE] = "over_temperature",
	[HEALTH_SEL_FAN] = "fan",
	[HEALTH_SEL_POWER_SUPPLY] = "power_supply",
	[HEALTH_SEL_OTHER] = "other",
};

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
