/* SPDX-License-Identifier: MIT */
/* The names of health.h's enums (verdicts, sensor states, IPMI sensor types) and what a
 * reading says about the node's power draw. */
#include <stddef.h>
#include <string.h>

#include "health/health.h"
#include "name_table.h"

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

DEFINE_NAME_TABLE_LOOKUP(health, enum health, health_table, _HEALTH_INVALID)

DEFINE_NAME_TABLE_TO_STRING(health_sensor_state, enum health_sensor_state, sensor_state_table)

DEFINE_NAME_TABLE_TO_STRING(health_sensor_type, unsigned, sensor_type_table)

int
health_sensor_type_from_string(const char *s)
{
	long i = name_table_index(sensor_type_table, ELEMENTSOF(sensor_type_table), s);

	return i < 0 ? -EINVAL : (int)i;
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

bool
health_temperature_c(const struct health_reading *r, double *ret)
{
	bool found = false;

	for (size_t i = 0; i < r->n_sensors; i++) {
		const struct health_sensor *s = &r->sensors[i];

		double c;

		if (s->type != 0x01 || !s->has_reading)
			continue;
		if (strcmp(s->units, "C") == 0)
			c = s->reading;
		else if (strcmp(s->units, "F") == 0)
			c = (s->reading - 32.0) * 5.0 / 9.0;
		else
			continue;
		if (c < -50.0 || c > 200.0)
			continue;
		if (!found || c > *ret)
			*ret = c;
		found = true;
	}
	return found;
}
