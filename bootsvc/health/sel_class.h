/* SPDX-License-Identifier: MIT */
/* Which class a SEL record belongs to, for the rate rules (docs/health.md, "What counts as
 * which SEL class"), and the classes' names as rules and the stored state write them. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "health/health.h"

/* Which class a SEL system event record belongs to, from its sensor type, event/reading
 * type code, event offset and libipmimonitoring's severity (used for discrete fan and PSU
 * events whose meaning differs per type code). Direction is not looked at: the caller
 * counts assertions only. */
enum health_sel_class health_sel_classify(uint8_t sensor_type, uint8_t event_type,
    uint8_t offset, enum health_sensor_state severity);

/* "ecc_correctable", ...; NULL for an out-of-range value. */
const char *health_sel_class_to_string(enum health_sel_class c);
/* The class, or _HEALTH_SEL_CLASS_INVALID (-EINVAL) for NULL or an unknown name. */
enum health_sel_class health_sel_class_from_string(const char *s);

/* A Redfish LogEntry (EntryType SEL or Event) as the IPMI record it stands for, then
 * health_sel_classify() on it, so the same rules count both kinds of BMC alike:
 *   SensorType  the IPMI sensor type by its Redfish name ("Memory" = 0x0c, "Fan" = 0x04,
 *               "Power Supply / Converter" = 0x08: LogEntry's enum follows IPMI Table 42-3)
 *   EntryCode   a threshold crossing ("Upper Critical - going high" = type 0x01, offset
 *               0x09, Table 42-2), or "Assert"/"Deassert"
 *   MessageId   for sensor-specific events, which the EntryCode does not name: the
 *               message key of the common registries (OpenBMC's MemoryECCCorrectable,
 *               CPUThermalTrip, PowerSupplyFailed; DMTF SensorEvent's
 *               ReadingAboveUpperCriticalThreshold, ...) gives type and offset
 *   Severity    as libipmimonitoring's state for discrete fan and PSU events.
 * Any argument may be NULL. Fills the ret_ values (0 when unknown); "Deassert" sets
 * *ret_assertion false. */
enum health_sel_class health_sel_classify_redfish(const char *sensor_type,
    const char *entry_code, const char *message_id, enum health_sensor_state severity,
    uint8_t *ret_sensor_type, uint8_t *ret_event_type, uint8_t *ret_offset,
    bool *ret_assertion);
