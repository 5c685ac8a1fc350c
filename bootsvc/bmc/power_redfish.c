/* SPDX-License-Identifier: MIT */
/* Power control over Redfish: the first ComputerSystem's PowerState, its Reset action with
 * the reset type the BMC allows (redfish_reset_choose()), and the one-time PXE boot
 * override, in the same steps power_ipmi.c takes so both kinds of BMC behave alike. */
#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bmc/power.h"
#include "bmc/redfish.h"

static void
redfish_closep(struct redfish *rf)
{
	redfish_close(rf);
}

/* The system's URI (the Systems collection's first member: a node is one system) and its
 * state. */
static int
system_get(struct redfish *rf, char uri[static REDFISH_MAX_URI], struct redfish_system *ret,
    struct dl_err *reterr)
{
	int r;

	if (!uri[0]) {
		if ((r = redfish_call(rf, "GET", rf->root.systems, NULL, reterr)) < 0)
			return r;
		if ((r = redfish_json_first_member(rf->body, rf->len, uri, reterr)) < 0)
			return dl_err_prefix(reterr, "BMC '%s': %s", rf->t->host, rf->root.systems);
	}
	if ((r = redfish_call(rf, "GET", uri, NULL, reterr)) < 0)
		return r;
	if ((r = redfish_json_system(rf->body, rf->len, ret, reterr)) < 0)
		return dl_err_prefix(reterr, "BMC '%s': %s", rf->t->host, uri);
	return 0;
}

static int
reset(struct redfish *rf, const char *sys_uri, const struct redfish_system *s,
    enum redfish_reset want, const char *what, struct dl_err *reterr)
{
	enum redfish_reset type = redfish_reset_choose(want, s->reset_allowed);
	char body[64];
	char target[REDFISH_MAX_URI];

	if (type < 0)
		return dl_err_set(reterr, -ENOTSUP,
		    "BMC '%s': %s: the BMC allows no reset type for it", rf->t->host, what);
	/* The schema's target when the BMC does not give one. */
	if (s->reset_target[0])
		strcpy(target, s->reset_target);
	else if (snprintf(target, sizeof(target), "%s/Actions/ComputerSystem.Reset", sys_uri) >=
	    (int)sizeof(target))
		return dl_err_set(reterr, -EINVAL, "BMC '%s': system URI too long", rf->t->host);
	(void)snprintf(body, sizeof(body), "{\"ResetType\":\"%s\"}",
	    redfish_reset_to_string(type));
	return redfish_call(rf, "POST", target, body, reterr);
}

/* Like IPMI's boot flags: PXE for the next boot only ("Once"), so a node that reboots on
 * its own later comes back through its normal boot order. */
static int
boot_pxe_once(struct redfish *rf, const char *sys_uri, const struct redfish_system *s,
    struct dl_err *reterr)
{
	if (!s->boot_override)
		return dl_err_set(reterr, -ENOTSUP,
		    "BMC '%s': set boot device PXE: the system has no Boot override",
		    rf->t->host);
	return redfish_call(rf, "PATCH", sys_uri,
	    "{\"Boot\":{\"BootSourceOverrideTarget\":\"Pxe\","
	    "\"BootSourceOverrideEnabled\":\"Once\"}}", reterr);
}

/* As power_ipmi.c's: off, then poll until the system reads off, bounded by the timeout. */
static int
off_confirmed(struct redfish *rf, char sys_uri[static REDFISH_MAX_URI],
    struct redfish_system *s, struct dl_err *reterr)
{
	struct timespec t0, now, pause = { .tv_nsec = 100 * 1000 * 1000 };
	unsigned timeout_ms = rf->t->timeout_ms ? rf->t->timeout_ms : 20000;
	int r;

	if ((r = reset(rf, sys_uri, s, REDFISH_RESET_FORCE_OFF, "power cycle: power off",
		 reterr)) < 0)
		return r;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if ((r = system_get(rf, sys_uri, s, reterr)) < 0)
			return r;
		if (!s->on)
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 >=
		    (long)timeout_ms)
			return dl_err_set(reterr, -ETIMEDOUT,
			    "BMC '%s': power cycle: still on %u ms after power off", rf->t->host,
			    timeout_ms);
		nanosleep(&pause, NULL);
	}
}

int
power_redfish_run(const struct bmc_target *t, enum power_op op, bool *ret_on,
    struct dl_err *reterr)
{
	_cleanup_(redfish_closep) struct redfish rf = { 0 };
	char sys[REDFISH_MAX_URI] = "";
	struct redfish_system s;
	int r;

	assert(t);
	assert(ret_on);
	assert(op >= 0 && op < _POWER_OP_MAX); /* bmc_power_run() checks it */
	if ((r = redfish_open(&rf, t, reterr)) < 0)
		return r;
	if ((r = system_get(&rf, sys, &s, reterr)) < 0)
		return r;

	switch (op) {
	case POWER_STATUS:
		*ret_on = s.on;
		return 0;
	case POWER_OFF:
		/* Off is idempotent here as in IPMI: most BMCs refuse ForceOff of an off
		 * system with an error, so ask only when it is on. */
		if (s.on && (r = reset(&rf, sys, &s, REDFISH_RESET_FORCE_OFF, "power off",
				 reterr)) < 0)
			return r;
		*ret_on = false;
		return 0;
	default:
		break;
	}
	if (t->pxe_first && (r = boot_pxe_once(&rf, sys, &s, reterr)) < 0)
		return r;
	if (!s.on)
		/* cycle or reset of an off node: a plain power-on, as power_ipmi.c does */
		r = reset(&rf, sys, &s, REDFISH_RESET_ON, "power on", reterr);
	else if (op == POWER_ON)
		r = 0; /* already on: IPMI's power up is a no-op too */
	else if (op == POWER_CYCLE) {
		/* off, confirmed off, on: each step idempotent (power_ipmi.c says why) */
		r = off_confirmed(&rf, sys, &s, reterr);
		if (r >= 0)
			r = reset(&rf, sys, &s, REDFISH_RESET_ON, "power cycle: power on", reterr);
	} else
		r = reset(&rf, sys, &s, REDFISH_RESET_FORCE_RESTART, "hard reset", reterr);
	if (r < 0)
		return r;
	*ret_on = true;
	return 0;
}
