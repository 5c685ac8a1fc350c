/* SPDX-License-Identifier: MIT */
/* A Redfish BMC's sensors and log as a health reading (health/health.h), in the same shape
 * health_ipmi.c gives, so the rules, the energy accounting and the temperature feed do
 * not know which kind of BMC they read: the first Chassis' Thermal (temperatures, fans)
 * and Power (draw, supplies), and the first ComputerSystem's first LogService's entries
 * (the SEL on BMCs that keep one), classified by health_sel_classify_redfish(). */
#include <assert.h>
#include <string.h>

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

static int
read_chassis(struct redfish *rf, struct health_reading *out, struct dl_err *reterr)
{
	char chassis[REDFISH_MAX_URI], thermal[REDFISH_MAX_URI], power[REDFISH_MAX_URI];
	int r;

	if (!rf->root.chassis[0])
		return 0; /* no chassis: no sensors, as an IPMI BMC without SDR */
	if ((r = redfish_call(rf, "GET", rf->root.chassis, NULL, reterr)) < 0)
		return r;
	if ((r = redfish_json_first_member(rf->body, rf->len, chassis, reterr)) < 0)
		return dl_err_prefix(reterr, "BMC '%s': %s", rf->t->host, rf->root.chassis);
	if ((r = follow(rf, chassis, "Thermal", thermal, reterr)) < 0 && r != -ENOENT)
		return r;
	/* the chassis is still in rf->body: its Power link too */
	if ((r = redfish_json_link(rf->body, rf->len, "Power", power, reterr)) < 0 &&
	    r != -ENOENT)
		return r;
	if (thermal[0]) {
		if ((r = redfish_call(rf, "GET", thermal, NULL, reterr)) < 0)
			return r;
		if ((r = redfish_json_thermal(rf->body, rf->len, out, reterr)) < 0)
			return dl_err_prefix(reterr, "BMC '%s': %s", rf->t->host, thermal);
	}
	if (power[0]) {
		if ((r = redfish_call(rf, "GET", power, NULL, reterr)) < 0)
			return r;
		if ((r = redfish_json_power(rf->body, rf->len, out, reterr)) < 0)
			return dl_err_prefix(reterr, "BMC '%s': %s", rf->t->host, power);
	}
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
	/* One page: a BMC pages at 50-1000 entries (Members@odata.nextLink), newest last on
	 * most; REDFISH_MAX_BODY bounds what one page may cost. */
	if ((r = redfish_call(rf, "GET", entries, NULL, reterr)) < 0)
		return r;
	if ((r = redfish_json_log_entries(rf->body, rf->len, sel_after, out, reterr)) < 0)
		return dl_err_prefix(reterr, "BMC '%s': %s", rf->t->host, entries);
	return 0;
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
