/* SPDX-License-Identifier: MIT */
/* libFuzzer target: everything a Redfish BMC sends that bootsvc/bmc/redfish_json.c reads
 * (service root, collections, a ComputerSystem, Thermal, Power, a Sensors collection and
 * a Sensor, log entries one page or a walk over pages). Any input is either accepted or
 * refused with a message; what is accepted holds its bounds: URIs are paths of under
 * REDFISH_MAX_URI (a nextLink one under /redfish/v1/), arrays within their caps, classes
 * and states in range, a walk never revisits a page. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bmc/redfish_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_uri(const char *s, bool may_be_empty)
{
	size_t n = strnlen(s, REDFISH_MAX_URI);

	if (n == REDFISH_MAX_URI || (n == 0 && !may_be_empty) || (n && s[0] != '/'))
		__builtin_trap();
}

static void
check_reading(const struct health_reading *r)
{
	if (r->n_sensors > MAX_HEALTH_SENSORS || r->n_sel > MAX_HEALTH_SEL_NEW)
		__builtin_trap();
	for (size_t i = 0; i < r->n_sensors; i++)
		if (r->sensors[i].state < 0 || r->sensors[i].state >= _HEALTH_SENSOR_STATE_MAX ||
		    strnlen(r->sensors[i].name, sizeof(r->sensors[i].name)) ==
			sizeof(r->sensors[i].name))
			__builtin_trap();
	for (size_t i = 0; i < r->n_sel; i++)
		if (r->sel[i].cls < 0 || r->sel[i].cls >= _HEALTH_SEL_CLASS_MAX ||
		    r->sel[i].record_id > r->sel_last_id || r->sel[i].record_id == 0)
			__builtin_trap();
}

/* The input as every page of a log (it names itself as its own nextLink at worst): the
 * walk must stop, by its caps or by seeing a page twice, and a nextLink it follows must
 * be a path under /redfish/v1/. */
static void
check_walk(const char *buf, size_t size)
{
	struct redfish_log_walk *w = calloc(1, sizeof(*w));
	struct health_reading r = { 0 };
	char uri[REDFISH_MAX_URI];
	struct dl_err e = { 0 };
	size_t pages = 0;
	int k = 0;

	if (!w)
		return;
	redfish_json_log_init(w, 2, "/redfish/v1/Systems/1/LogServices/Log/Entries");
	while (redfish_json_log_page(buf, size, w, &r, &e) == 0) {
		if (++pages > REDFISH_MAX_LOG_PAGES)
			__builtin_trap();
		k = redfish_json_log_next(w, uri, &e);
		if (k <= 0)
			break;
		if (strncmp(uri, "/redfish/v1/", 12) != 0)
			__builtin_trap();
		check_uri(uri, false);
	}
	if (k < 0 && (!e.msg[0] || !w->truncated))
		__builtin_trap();
	if (pages) {
		redfish_json_log_end(w, &r);
		check_reading(&r);
		if (r.sel_reset && w->truncated)
			__builtin_trap();
	}
	health_reading_done(&r);
	free(w);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct dl_err e = { 0 };
	struct redfish_root root;
	struct redfish_system sys;
	struct health_reading r = { 0 };
	char uri[REDFISH_MAX_URI], many[4][REDFISH_MAX_URI];
	size_t n = 0;

	if (redfish_json_root(buf, size, &root, &e) == 0) {
		check_uri(root.systems, false);
		check_uri(root.chassis, true);
		check_uri(root.sessions, true);
	} else if (!e.msg[0])
		__builtin_trap();
	if (redfish_json_first_member(buf, size, uri, NULL) == 0)
		check_uri(uri, false);
	if (redfish_json_members(buf, size, many, 4, &n, NULL) == 0)
		for (size_t i = 0; i < n; i++)
			check_uri(many[i], false);
	if (redfish_json_system(buf, size, &sys, NULL) == 0) {
		check_uri(sys.reset_target, true);
		for (int w = REDFISH_RESET_ON; w <= REDFISH_RESET_FORCE_RESTART; w++) {
			enum redfish_reset t = redfish_reset_choose((enum redfish_reset)w,
			    sys.reset_allowed);
			if (t >= 0 && (t >= _REDFISH_RESET_MAX ||
			    (sys.reset_allowed && !(sys.reset_allowed & (1u << t)))))
				__builtin_trap();
		}
	}
	if (redfish_json_link(buf, size, "Thermal", uri, NULL) == 0)
		check_uri(uri, false);
	(void)redfish_json_thermal(buf, size, &r, NULL);
	(void)redfish_json_power(buf, size, &r, NULL);
	check_reading(&r);
	health_reading_done(&r);
	for (uint32_t after = 0; after <= 3; after += 3) {
		if (redfish_json_log_entries(buf, size, after, &r, NULL) == 0)
			check_reading(&r);
		health_reading_done(&r);
	}
	if (redfish_json_sensors(buf, size, &r, many, 4, &n, NULL) == 0)
		for (size_t i = 0; i < n; i++)
			check_uri(many[i], false);
	(void)redfish_json_sensor(buf, size, &r, NULL);
	check_reading(&r);
	health_reading_done(&r);
	check_walk(buf, size);
	return 0;
}
