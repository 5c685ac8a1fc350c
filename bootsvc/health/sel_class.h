/* SPDX-License-Identifier: MIT */
/* Which class a SEL record belongs to, for the rate rules (docs/health.md, "What counts as
 * which SEL class"), and the classes' names as rules and the stored state write them. */
#pragma once

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
