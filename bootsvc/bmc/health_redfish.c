/* SPDX-License-Identifier: MIT */
/* A Redfish BMC's sensors and log as a health reading (health/health.h), in the same shape
 * health_ipmi.c gives, so the rules, the energy accounting and the temperature feed do
 * not know which kind of BMC they read: the first Chassis' Thermal (temperatures, fans)
 * and Power (draw, supplies), or its Sensors collection where those are gone, and the
 * first ComputerSystem's first LogService's entries, every page of them (the SEL on BMCs
 * that keep one), classified by health_sel_classify_redfish(). */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "bmc/health_bmc.h"
#include "bmc/redfish.h"

static void
redfish_closep(struct redfish *rf)
{
	redfish_close(rf);
}

static void
reading_freep(struct health_reading *r)
{
	health_reading_done(r);
}

/* GET uri and take its link key into ret: 0, -ENOENT (no such link), or an error. */
static int
follow(struct redfish *rf, const char *uri, const char *key, char ret[static REDFISH_MAX_URI],
    struct dl_err *reterr)
{
	int r;

	if ((r = redfish_call(rf, "GET", uri, NULL, reterr)) < 0)
		return r;
	r = redfish_json_link(rf->body, rf->len, key, ret, reterr);
	if (r < 0 && r != -ENOENT)
		dl_err_prefix(reterr, "BMC '%s': %s", rf->t->host, uri);
	return r;
}

/* GET uri into parse: 0 when it parsed, 1 when the BMC has no such resource (404, 405,
 * 501: ENOTSUP), or an error. A Thermal or Power linked but gone (firmware that
 * deprecates them answers 404) is no error: the Sensors collection stands in. */
static int
get_optional(struct redfish *rf, const char *uri,
    int (*parse)(const char *, size_t, struct health_reading *, struct dl_err *),
    struct health_reading *out, struct dl_err *reterr)
{
	struct dl_err e = { 0 };
	int r;

	r = redfish_call(rf, "GET", uri, NULL, &e);
	if (r == -ENOTSUP)
		return 1;
	if (r < 0) {
		if (reterr)
			*reterr = e;
		return r;
	}
	if ((r = parse(rf->body, rf->len, out, reterr)) < 0)
		return dl_err_prefix(reterr, "BMC '%s': %s", rf->t->host, uri);
	return 0;
}

/* The Chassis' Sensors collection (Redfish 2019.4+): expanded in one GET when the
 * service root says it can, else each member GET on its own (REDFISH_MAX_SENSOR_GETS). */
static int
read_sensors(struct redfish *rf, const char *sensors, struct health_reading *out,
    struct dl_err *reterr)
{
	_cleanup_free_ char (*links)[REDFISH_MAX_URI] = NULL;
	char uri[REDFISH_MAX_URI];
	bool expanded = false;
	size_t n = 0;
	int r;

	links = calloc(REDFISH_MAX_SENSOR_GETS, sizeof(*links));
	if (!links)
		return -ENOMEM;
	if (rf->root.expand_levels &&
	    snprintf(uri, sizeof(uri), "%s%s", sensors, REDFISH_EXPAND_QUERY) < (int)sizeof(uri)) {
		struct dl_err e = { 0 };

		r = redfish_call(rf, "GET", uri, NULL, &e);
		expanded = r >= 0;
		/* A service that says it expands but refuses this query (400, 501): as
		 * one that does not say. */
		if (r < 0 && r != -ENOTSUP && r != -EIO) {
			if (reterr)
				*reterr = e;
			return r;
		}
	}
	if (!expanded) {
		(void)snprintf(uri, sizeof(uri), "%s", sensors);
		if ((r = redfish_call(rf, "GET", uri, NULL, reterr)) < 0)
			return r;
	}
	if ((r = redfish_json_sensors(rf->body, rf->len, out, links, REDFISH_MAX_SENSOR_GETS, &n,
		 reterr)) < 0)
		return dl_err_prefix(reterr, "BMC '%s': %s", rf->t->host, uri);
	for (size_t i = 0; i < n; i++) {
		r = get_optional(rf, links[i], redfish_json_sensor, out, reterr);
		if (r < 0)
			return r;
		/* a member gone between the two GETs: no reading, as an absent sensor */
	}
	return 0;
}

static int
read_chassis(struct redfish *rf, struct health_reading *out, struct dl_err *reterr)
{
	char chassis[REDFISH_MAX_URI], thermal[REDFISH_MAX_URI], power[REDFISH_MAX_URI];
	char sensors[REDFISH_MAX_URI];
	bool got_thermal = false, got_power = false;
	int r;

	if (!rf->root.chassis[0])
		return 0; /* no chassis: no sensors, as an IPMI BMC without SDR */
	if ((r = redfish_call(rf, "GET", rf->root.chassis, NULL, reterr)) < 0)
		return r;
	if ((r = redfish_json_first_member(rf->body, rf->len, chassis, reterr)) < 0)
		return dl_err_prefix(reterr, "BMC '%s': %s", rf->t->host, rf->root.chassis);
	if ((r = follow(rf, chassis, "Thermal", thermal, reterr)) < 0 && r != -ENOENT)
		return r;
	/* the chassis is still in rf->body: its Power and Sensors links too */
	if ((r = redfish_json_link(rf->body, rf->len, "Power", power, reterr)) < 0 &&
	    r != -ENOENT)
		return dl_err_prefix(reterr, "BMC '%s': %s", rf->t->host, chassis);
	if ((r = redfish_json_link(rf->body, rf->len, "Sensors", sensors, reterr)) < 0 &&
	    r != -ENOENT)
		return dl_err_prefix(reterr, "BMC '%s': %s", rf->t->host, chassis);
	if (thermal[0]) {
		if ((r = get_optional(rf, thermal, redfish_json_thermal, out, reterr)) < 0)
			return r;
		got_thermal = r == 0;
	}
	if (power[0]) {
		if ((r = get_optional(rf, power, redfish_json_power, out, reterr)) < 0)
			return r;
		got_power = r == 0;
	}
	/* Thermal and Power are deprecated since Redfish 2020.4 (Sensors and
	 * ThermalSubsystem stand in); a BMC with neither, or whose links answer 404, has
	 * its readings in Sensors. Not both: one with all three would count each twice. */
	if (!got_thermal && !got_power && sensors[0])
		return read_sensors(rf, sensors, out, reterr);
	return 0;
}

/* Every page of the Entries collection (Members@odata.nextLink), within
 * REDFISH_MAX_LOG_PAGES and REDFISH_MAX_LOG_ENTRIES. A walk that stops early (a cap, a
 * nextLink that is not the service's, or one that repeats) keeps what it read, with a
 * warning: the sensors and the entries read still count, and an error would leave the
 * node's health unread on every poll. */
static int
read_entries(struct redfish *rf, const char *entries, uint32_t sel_after,
    struct health_reading *out, struct dl_err *reterr)
{
	_cleanup_free_ struct redfish_log_walk *w = calloc(1, sizeof(*w));
	char uri[REDFISH_MAX_URI];
	struct dl_err e = { 0 };
	int r;

	if (!w)
		return -ENOMEM;
	redfish_json_log_init(w, sel_after, entries);
	(void)snprintf(uri, sizeof(uri), "%s", entries);
	for (;;) {
		if ((r = redfish_call(rf, "GET", uri, NULL, reterr)) < 0)
			return r;
		if ((r = redfish_json_log_page(rf->body, rf->len, w, out, reterr)) < 0)
			return dl_err_prefix(reterr, "BMC '%s': %s", rf->t->host, uri);
		r = redfish_json_log_next(w, uri, &e);
		if (r == 0)
			break;
		if (r < 0) {
			log_warning("event=redfish_log_walk msg=\"%s, will retry\" bmc=%s "
				    "pages=%zu entries=%zu err=%s",
			    e.msg, rf->t->host, w->n_pages, w->n_entries, dl_errno_name(r));
			break;
		}
	}
	redfish_json_log_end(w, out);
	return 0;
}

static int
read_log(struct redfish *rf, uint32_t sel_after, struct health_reading *out,
    struct dl_err *reterr)
{
	char sys[REDFISH_MAX_URI], services[REDFISH_MAX_URI], service[REDFISH_MAX_URI];
	char entries[REDFISH_MAX_URI];
	int r;

	if ((r = redfish_call(rf, "GET", rf->root.systems, NULL, reterr)) < 0)
		return r;
	if ((r = redfish_json_first_member(rf->body, rf->len, sys, reterr)) < 0)
		return dl_err_prefix(reterr, "BMC '%s': %s", rf->t->host, rf->root.systems);
	if ((r = follow(rf, sys, "LogServices", services, reterr)) == -ENOENT)
		return 0; /* no log: no events */
	if (r < 0)
		return r;
	if ((r = redfish_call(rf, "GET", services, NULL, reterr)) < 0)
		return r;
	if ((r = redfish_json_first_member(rf->body, rf->len, service, reterr)) < 0)
		return dl_err_prefix(reterr, "BMC '%s': %s", rf->t->host, services);
	if ((r = follow(rf, service, "Entries", entries, reterr)) == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	return read_entries(rf, entries, sel_after, out, reterr);
}

int
health_redfish_read(const struct bmc_target *t, uint32_t sel_after, struct health_reading *ret,
    struct dl_err *reterr)
{
	_cleanup_(redfish_closep) struct redfish rf = { 0 };
	_cleanup_(reading_freep) struct health_reading out = { 0 };
	int r;

	assert(t);
	assert(ret);
	if ((r = redfish_open(&rf, t, reterr)) < 0)
		return r;
	if ((r = read_chassis(&rf, &out, reterr)) < 0 ||
	    (r = read_log(&rf, sel_after, &out, reterr)) < 0)
		return r;
	*ret = out;
	out = (struct health_reading){ 0 };
	return 0;
}
