/* SPDX-License-Identifier: MIT */
/* What the Redfish client reads out of a BMC's JSON (DMTF DSP0266 / DSP8010 schemas):
 * the service root's links, a collection's first member, a ComputerSystem's power state,
 * its Reset action and allowed reset types, Chassis Thermal and Power, or its Sensors
 * collection, as health sensors, a LogService's entries (page by page) as SEL entries.
 * Pure: no I/O, no clock, no globals, so the unit tests feed it fixtures and
 * tests/fuzz/fuzz_redfish_json.c feeds it anything. */
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
	bool expand_levels;             /* ProtocolFeaturesSupported.ExpandQuery has NoLinks
					 * and Levels: "$expand=.($levels=1)" is understood */
};

/* The query that expands a collection's members one level (DSP0266 §7.3.1 "$expand"):
 * sent only to a service that says it takes it (redfish_root.expand_levels). */
#define REDFISH_EXPAND_QUERY "?$expand=.($levels=1)"

/* Pages of log entries one read follows (Members@odata.nextLink). BMCs page at 50
 * (iDRAC) to 1000 (OpenBMC) entries, so 32 pages hold a full SEL even from the smallest
 * pager; at REDFISH_MAX_BODY each, one read costs 32 MiB at worst, not unbounded. */
#define REDFISH_MAX_LOG_PAGES 32
/* Log entries one read parses over all its pages. IPMI's SEL ids are 16 bits and real
 * SELs hold 512-3000 records; 16384 is five times the largest, and bounds the work
 * (every entry is classified) a log that never ends could cost. */
#define REDFISH_MAX_LOG_ENTRIES 16384
/* Sensor members one read GETs one by one when the BMC cannot expand the collection: a
 * large server has 100-200; each is a request of its own, bounded by bmc_timeout. The
 * rest are counted in n_sensors_dropped. */
#define REDFISH_MAX_SENSOR_GETS 256

/* One walk over a LogService's Entries collection, page by page (redfish_json_log_*). */
struct redfish_log_walk {
	uint32_t sel_after;          /* ids above it are new (the caller's last poll) */
	size_t n_entries;            /* entries seen on the pages so far */
	size_t n_new;                /* of those, above sel_after */
	size_t n_pages;              /* pages parsed */
	uint32_t last;               /* the highest id seen */
	bool truncated;              /* stopped at a cap or a bad nextLink: not the whole log */
	char next[REDFISH_MAX_URI];  /* the last page's Members@odata.nextLink, "" for none */
	bool next_bad;               /* it had one that is no path under /redfish/v1/ */
	char seen[REDFISH_MAX_LOG_PAGES][REDFISH_MAX_URI]; /* pages asked for, in order */
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
/* A LogService's Entries collection, one page: entries with an id above sel_after
 * appended to r->sel (oldest first, at most MAX_HEALTH_SEL_NEW, the newest kept),
 * r->sel_last_id the highest id seen. An entry's id is its Id when that is a decimal
 * number, else its position in the collection (1-based). Classified by
 * health_sel_classify_redfish(). Members@odata.nextLink is not followed: the walk below
 * does that. */
int redfish_json_log_entries(const char *buf, size_t len, uint32_t sel_after,
    struct health_reading *r, struct dl_err *reterr);

/* The same over every page of the collection:
 *   redfish_json_log_init(w, sel_after, entries_uri);
 *   do { GET uri; redfish_json_log_page(body, len, w, r, &e); }
 *   while ((k = redfish_json_log_next(w, uri, &e)) > 0);
 *   redfish_json_log_end(w, r);
 * w is the caller's (about 8 KiB: put it on the heap); r as for
 * redfish_json_log_entries(), filled by _end(). Ids of entries without a decimal Id
 * count on across pages. A log cleared since the last poll (all ids below sel_after) is
 * recognised only when the whole log was read (!w->truncated): a walk cut short has not
 * seen the newest ids. */
void redfish_json_log_init(struct redfish_log_walk *w, uint32_t sel_after,
    const char *first_uri);
/* One page: its entries kept in r->sel (all of them, the newest MAX_HEALTH_SEL_NEW: _end
 * keeps those above sel_after), its nextLink in w->next. 0, or -EBADMSG (no Members
 * array, a member not an object, a nextLink not a string); -ENOMEM. Past
 * REDFISH_MAX_LOG_ENTRIES entries the rest are not read and w->truncated is set. */
int redfish_json_log_page(const char *buf, size_t len, struct redfish_log_walk *w,
    struct health_reading *r, struct dl_err *reterr);
/* What to GET next: 1 and ret the page's nextLink; 0 at the last page; or the walk
 * stops (w->truncated set, reterr says why): -EBADMSG for a nextLink that is no path under
 * /redfish/v1/ (or too long), -ELOOP for one asked for before, -E2BIG after
 * REDFISH_MAX_LOG_PAGES pages or REDFISH_MAX_LOG_ENTRIES entries. The caller logs it and
 * keeps what was read. */
int redfish_json_log_next(struct redfish_log_walk *w, char ret[static REDFISH_MAX_URI],
    struct dl_err *reterr);
/* Keep in r->sel the entries above sel_after (or all, setting r->sel_reset, when the log
 * was cleared), count the rest of the new ones in r->n_sel_dropped, set r->sel_last_id. */
void redfish_json_log_end(const struct redfish_log_walk *w, struct health_reading *r);

/* One Sensor resource (Sensor.v1: ReadingType, Reading, ReadingUnits, Status,
 * Thresholds.{Upper,Lower}{Caution,Critical,Fatal}.Reading) appended to r as the Thermal
 * and Power path gives it: ReadingType Temperature as IPMI type 0x01 in "C", Rotational
 * (and Percent of a Fan) as 0x04 in "RPM" or "%", Power as 0x08 in "W". Other types
 * (Voltage, Current, Humidity, ...) are not read by the health rules: skipped. 0 or
 * -EBADMSG, -ENOMEM. */
int redfish_json_sensor(const char *buf, size_t len, struct health_reading *r,
    struct dl_err *reterr);
/* A Chassis' Sensors collection: members that came expanded ($expand) appended to r as
 * by redfish_json_sensor(); the @odata.id of those that are links only into ret, at most
 * max (*ret_n set; the rest counted in r->n_sensors_dropped), for the caller to GET. 0,
 * -EBADMSG (no Members array, a member neither a sensor nor a usable link), -ENOMEM. */
int redfish_json_sensors(const char *buf, size_t len, struct health_reading *r,
    char (*ret)[REDFISH_MAX_URI], size_t max, size_t *ret_n, struct dl_err *reterr);

/* The reset type for a wanted action, from what the BMC allows (reset_allowed; 0: all):
 *   on:       On, else ForceOn
 *   off:      ForceOff, else GracefulShutdown
 *   restart:  ForceRestart, else PowerCycle, else GracefulRestart
 * want is REDFISH_RESET_ON, _FORCE_OFF or _FORCE_RESTART; -ENOTSUP when none is allowed. */
enum redfish_reset redfish_reset_choose(enum redfish_reset want, unsigned allowed);
