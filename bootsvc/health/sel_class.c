/* SPDX-License-Identifier: MIT */
/* SEL record -> class (IPMI 2.0 Tables 42-2 and 42-3), and the classes' names. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "health/sel_class.h"
#include "name_table.h"

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

DEFINE_NAME_TABLE_LOOKUP(health_sel_class, enum health_sel_class, sel_class_table, _HEALTH_SEL_CLASS_INVALID)

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

/* Redfish LogEntry.SensorType names (Redfish LogEntry schema, the IPMI Table 42-3 order)
 * and their IPMI codes: only those health_sel_classify() or the reports look at. */
static const struct {
	const char *name;
	uint8_t type;
} redfish_sensor_types[] = {
	{ "Temperature", SENSOR_TYPE_TEMPERATURE },
	{ "Voltage", 0x02 },
	{ "Current", 0x03 },
	{ "Fan", SENSOR_TYPE_FAN },
	{ "Processor", SENSOR_TYPE_PROCESSOR },
	{ "Power Supply / Converter", SENSOR_TYPE_POWER_SUPPLY },
	{ "PowerUnit", 0x09 },
	{ "CoolingDevice", SENSOR_TYPE_COOLING_DEVICE },
	{ "Memory", SENSOR_TYPE_MEMORY },
};

/* LogEntry.EntryCode's threshold values, in IPMI Table 42-2 offset order (0x00..0x0b). */
static const char *const redfish_threshold_codes[] = {
	"Lower Non-critical - going low", "Lower Non-critical - going high",
	"Lower Critical - going low", "Lower Critical - going high",
	"Lower Non-recoverable - going low", "Lower Non-recoverable - going high",
	"Upper Non-critical - going low", "Upper Non-critical - going high",
	"Upper Critical - going low", "Upper Critical - going high",
	"Upper Non-recoverable - going low", "Upper Non-recoverable - going high",
};

/* MessageId keys (the part after the registry's "Name.Major.Minor.") of the registries
 * BMCs use for SEL-like events, as (sensor type, event type, offset). First match wins,
 * so "Uncorrectable" comes before "Correctable", which it contains. type 0: keep the
 * entry's SensorType. */
static const struct {
	const char *key;
	uint8_t type, event_type, offset;
} redfish_message_keys[] = {
	{ "MemoryECCUncorrectable", SENSOR_TYPE_MEMORY, EVENT_TYPE_SENSOR_SPECIFIC, 0x01 },
	{ "UncorrectableECC", SENSOR_TYPE_MEMORY, EVENT_TYPE_SENSOR_SPECIFIC, 0x01 },
	{ "MemoryParity", SENSOR_TYPE_MEMORY, EVENT_TYPE_SENSOR_SPECIFIC, 0x02 },
	{ "MemoryECCLoggingLimit", SENSOR_TYPE_MEMORY, EVENT_TYPE_SENSOR_SPECIFIC, 0x05 },
	{ "MemoryECCCorrectable", SENSOR_TYPE_MEMORY, EVENT_TYPE_SENSOR_SPECIFIC, 0x00 },
	{ "CorrectableECC", SENSOR_TYPE_MEMORY, EVENT_TYPE_SENSOR_SPECIFIC, 0x00 },
	{ "CPUThermalTrip", SENSOR_TYPE_PROCESSOR, EVENT_TYPE_SENSOR_SPECIFIC, 0x01 },
	{ "PowerSupplyPredictiveFailure", SENSOR_TYPE_POWER_SUPPLY, EVENT_TYPE_SENSOR_SPECIFIC, 0x02 },
	{ "PowerSupplyFailed", SENSOR_TYPE_POWER_SUPPLY, EVENT_TYPE_SENSOR_SPECIFIC, 0x01 },
	{ "PowerSupplyFailure", SENSOR_TYPE_POWER_SUPPLY, EVENT_TYPE_SENSOR_SPECIFIC, 0x01 },
	{ "PowerSupplyACLost", SENSOR_TYPE_POWER_SUPPLY, EVENT_TYPE_SENSOR_SPECIFIC, 0x03 },
	{ "PowerSupplyInputLost", SENSOR_TYPE_POWER_SUPPLY, EVENT_TYPE_SENSOR_SPECIFIC, 0x03 },
	/* DMTF SensorEvent 1.0: threshold crossings of the entry's SensorType */
	{ "ReadingAboveUpperFatalThreshold", 0, EVENT_TYPE_THRESHOLD, 0x0b },
	{ "ReadingAboveUpperCriticalThreshold", 0, EVENT_TYPE_THRESHOLD, 0x09 },
	{ "ReadingBelowLowerFatalThreshold", 0, EVENT_TYPE_THRESHOLD, 0x04 },
	{ "ReadingBelowLowerCriticalThreshold", 0, EVENT_TYPE_THRESHOLD, 0x02 },
	/* OpenBMC 0.1 threshold messages */
	{ "SensorThresholdCriticalHighGoingHigh", 0, EVENT_TYPE_THRESHOLD, 0x09 },
	{ "SensorThresholdCriticalLowGoingLow", 0, EVENT_TYPE_THRESHOLD, 0x02 },
};

enum health_sel_class
health_sel_classify_redfish(const char *sensor_type, const char *entry_code,
    const char *message_id, enum health_sensor_state severity, uint8_t *ret_sensor_type,
    uint8_t *ret_event_type, uint8_t *ret_offset, bool *ret_assertion)
{
	uint8_t type = 0, event_type = 0, offset = 0;
	bool assertion = true, known = false;
	const char *key = NULL;

	for (size_t i = 0; sensor_type && i < ELEMENTSOF(redfish_sensor_types); i++)
		if (strcasecmp(sensor_type, redfish_sensor_types[i].name) == 0)
			type = redfish_sensor_types[i].type;
	for (size_t i = 0; entry_code && i < ELEMENTSOF(redfish_threshold_codes); i++)
		if (strcasecmp(entry_code, redfish_threshold_codes[i]) == 0) {
			event_type = EVENT_TYPE_THRESHOLD;
			offset = (uint8_t)i;
			known = true;
		}
	if (entry_code && strcasecmp(entry_code, "Deassert") == 0)
		assertion = false;
	if (!known && message_id) {
		/* "OpenBMC.0.1.MemoryECCCorrectable": the key is the last component */
		key = strrchr(message_id, '.');
		key = key ? key + 1 : message_id;
		for (size_t i = 0; i < ELEMENTSOF(redfish_message_keys); i++)
			if (strcasecmp(key, redfish_message_keys[i].key) == 0) {
				if (redfish_message_keys[i].type)
					type = redfish_message_keys[i].type;
				event_type = redfish_message_keys[i].event_type;
				offset = redfish_message_keys[i].offset;
				known = true;
				break;
			}
	}
	/* Neither names the event: a discrete one, judged by its severity where the IPMI
	 * rules do so too (fan, power supply). */
	if (!known)
		event_type = 0x00;
	*ret_sensor_type = type;
	*ret_event_type = event_type;
	*ret_offset = offset;
	*ret_assertion = assertion;
	return health_sel_classify(type, event_type, offset, severity);
}
