/* SPDX-License-Identifier: MIT */
/* What the Redfish client reads out of a BMC's JSON (DMTF DSP0266 / DSP8010 schemas):
 * the service root's links, a collection's first member, a ComputerSystem's power state,
 * its Reset action and allowed reset types, Chassis Thermal and Power as health sensors,
 * a LogService's entries as SEL entries. Pure: no I/O, no clock, no globals, so the unit
 * tests feed it fixtures and tests/fuzz/fuzz_redfish_json.c feeds it anything. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "health/health.h"

/* Longest @odata.id / action target kept. Real BMCs use 30-90 characters
 * ("/redfish/v1/Systems/System.Embedded.1/Actions/ComputerSystem.Reset" is 67); a longer
 * one is refused rather than cut, since a cut URI names another resource. */
#define REDFISH_MAX_URI 256

/* Reset types (ComputerSystem.ResetType), those the client may choose. */
enum redfish_reset {
	REDFISH_RESET_ON,
	REDFISH_RESET_FORCE_OFF,
	REDFISH_RESET_GRACEFUL_SHUTDOWN,
	REDFISH_RESET_FORCE_RESTART,
	REDFISH_RESET_FORCE_ON,
	REDFISH_RESET_POWER_CYCLE,
	REDFISH_RESET_GRACEFUL_RESTART,
	_REDFISH_RESET_MAX,
	_REDFISH_RESET_INVALID = -EINVAL,
};

struct redfish_root {
	char systems[REDFISH_MAX_URI];  /* "/redfish/v1/Systems" */
	char chassis[REDFISH_MAX_URI];  /* "" when absent */
	char managers[REDFISH_MAX_URI]; /* "" when absent */
	char sessions[REDFISH_MAX_URI]; /* Links.Sessions; "" without a SessionService:
					 * the client then uses basic auth */
};

struct redfish_system {
	bool on;                        /* PowerState "On" (and "PoweringOff": still on) */
	char reset_target[REDFISH_MAX_URI]; /* Actions."#ComputerSystem.Reset".target */
	unsigned reset_allowed;         /* bit (1 << enum redfish_reset) per allowed value;
					 * 0 when the BMC does not say: all assumed */
	bool boot_override;             /* has a Boot object: the override can be set */
	char log_services[REDFISH_MAX_URI]; /* LogServices collection, "" when absent */
};

const char *redfish_reset_to_string(enum redfish_reset r);
enum redfish_reset redfish_reset_from_string(const char *s);

/* Each parser: 0, or -EBADMSG with reterr saying what was wrong (not JSON, a field of
 * the wrong type, a required field missing, a URI too long). */
int redfish_json_root(const char *buf, size_t len, struct redfish_root *ret,
    struct dl_err *reterr);
/* The first member's @odata.id of a collection (Systems, Chassis, LogServices). */
int redfish_json_first_member(const char *buf, size_t len, char ret[static REDFISH_MAX_URI],
    struct dl_err *reterr);
/* All members' @odata.id, at most max of them (*ret_n set). */
int redfish_json_members(const char *buf, size_t len, char (*ret)[REDFISH_MAX_URI],
    size_t max, size_t *ret_n, struct dl_err *reterr);
/* o[key]["@odata.id"] of the top-level object: 0, -ENOENT when absent (reterr untouched),
 * -EBADMSG. */
int redfish_json_link(const char *buf, size_t len, const char *key,
    char ret[static REDFISH_MAX_URI], struct dl_err *reterr);
int redfish_json_system(const char *buf, size_t len, struct redfish_system *ret,
    struct dl_err *reterr);
/* Thermal (Temperatures[], Fans[]) or Power (PowerControl[], PowerSupplies[]) of a
 * Chassis, appended to r->sensors (at most MAX_HEALTH_SENSORS, the rest counted in
 * n_sensors_dropped): temperatures as IPMI type 0x01 in "C", fans 0x04 in "RPM" (or "%"),
 * consumed power 0x08 in "W", so health rules and health_power_watts() apply unchanged. */
int redfish_json_thermal(const char *buf, size_t len, struct health_reading *r,
    struct dl_err *reterr);
int redfish_json_power(const char *buf, size_t len, struct health_reading *r,
    struct dl_err *reterr);
/* A LogService's Entries collection: entries with an id above sel_after appended to
 * r->sel (oldest first, at most MAX_HEALTH_SEL_NEW, the newest kept), r->sel_last_id the
 * highest id seen. An entry's id is its Id when that is a decimal number, else its
 * position in the collection (1-based). Classified by health_sel_classify_redfish(). */
int redfish_json_log_entries(const char *buf, size_t len, uint32_t sel_after,
    struct health_reading *r, struct dl_err *reterr);

/* The reset type for a wanted action, from what the BMC allows (reset_allowed; 0: all):
 *   on:       On, else ForceOn
 *   off:      ForceOff, else GracefulShutdown
 *   restart:  ForceRestart, else PowerCycle, else GracefulRestart
 * want is REDFISH_RESET_ON, _FORCE_OFF or _FORCE_RESTART; -ENOTSUP when none is allowed. */
enum redfish_reset redfish_reset_choose(enum redfish_reset want, unsigned allowed);
