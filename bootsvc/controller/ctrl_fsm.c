/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include "controller/ctrl_fsm.h"
#include "name_table.h"

static const char *const phase_names[_CP_MAX] = {
	[CP_NONE] = "none", [CP_POWERING] = "powering-on", [CP_PXE] = "pxe",
	[CP_LOADING] = "loading", [CP_IMAGING] = "imaging", [CP_UP] = "up",
	[CP_FAILED] = "failed",
};
static const char *const act_names[_CA_MAX] = {
	[CA_NONE] = "none", [CA_POWER_ON] = "power-on", [CA_POWER_CYCLE] = "power-cycle",
	[CA_POWER_OFF] = "power-off", [CA_FAIL] = "fail", [CA_DONE] = "done",
};
static const char *const op_names[_COP_MAX] = {
	[COP_IDLE] = "", [COP_BOOTING] = "booting", [COP_POWER_OFF] = "power-off",
	[COP_FAILED] = "failed", [COP_SELF] = "self-boot",
};

void
ctrl_policy_default(struct ctrl_policy *p)
{
	memset(p, 0, sizeof(*p));
	/* From power-on to the first script: firmware, DHCP, TFTP of iPXE (TCG is slow). */
	p->timeout_ms[CP_NONE] = 180000;
	p->timeout_ms[CP_POWERING] = 180000;
	p->timeout_ms[CP_PXE] = 120000;     /* script to kernel fetch */
	p->timeout_ms[CP_LOADING] = 180000; /* kernel + initrd to the init's first report */
	p->timeout_ms[CP_IMAGING] = 600000; /* rootfs fetch, verify, OS boot to up */
	p->timeout_ms[CP_FAILED] = 0;
	p->off_timeout_ms = 60000;
	p->max_attempts = 3;
	p->backoff_ms = 5000;
	p->backoff_max_ms = 300000;
	p->failed_retry_ms = 30 * 60000;
}

const char *
ctrl_phase_name(enum ctrl_phase p)
{
	return NAME_OF(phase_names, p, "none");
}

enum ctrl_phase
ctrl_phase_from_string(const char *s)
{
	for (int i = 0; i < _CP_MAX; i++)
		if (strcmp(phase_names[i], s) == 0)
			return (enum ctrl_phase)i;
	return CP_NONE;
}

const char *
ctrl_act_name(enum ctrl_act a)
{
	return NAME_OF(act_names, a, "none");
}

const char *
ctrl_op_name(enum ctrl_op o)
{
	return NAME_OF(op_names, o, "");
}

enum ctrl_op
ctrl_op_from_string(const char *s)
{
	for (int i = 1; i < _COP_MAX; i++)
		if (strcmp(op_names[i], s) == 0)
			return (enum ctrl_op)i;
	return COP_IDLE;
}

static int64_t
backoff(const struct ctrl_policy *p, int attempts)
{
	int64_t d = p->backoff_ms;

	for (int i = 1; i < attempts && d < p->backoff_max_ms; i++)
		d *= 2;
	return d > p->backoff_max_ms ? p->backoff_max_ms : d;
}

/* Start (or restart) a boot: the action depends on what the BMC last said. */
static struct ctrl_decision
start_boot(const struct ctrl_node *n, int64_t now, int attempts, const char *why)
{
	struct ctrl_decision d = { .op = COP_BOOTING, .op_at_ms = now, .attempts = attempts };

	d.act = n->power == CPOW_OFF ? CA_POWER_ON : CA_POWER_CYCLE;
	(void)snprintf(d.reason, sizeof(d.reason), "%s", why);
	return d;
}

struct ctrl_decision
ctrl_decide(const struct ctrl_node *n, const struct ctrl_policy *p, int64_t now)
{
	struct ctrl_decision d = { .act = CA_NONE, .op = n->op, .op_at_ms = n->op_at_ms,
		.attempts = n->attempts };

	/* Hands off: held, not ours to power, or a BMC job already in flight. */
	if (n->hold || !n->has_bmc || n->want == CW_NONE || n->bmc_busy)
		return d;
	if (n->retry_at_ms > now) {
		d.wake_at_ms = n->retry_at_ms;
		return d;
	}

	if (n->want == CW_OFF) {
		if (n->power == CPOW_OFF) {
			if (n->op != COP_IDLE) {
				d.act = CA_DONE;
				d.op = COP_IDLE;
				d.attempts = 0;
				(void)snprintf(d.reason, sizeof(d.reason), "powered off");
			}
			return d;
		}
		if (n->op == COP_POWER_OFF && now - n->op_at_ms < p->off_timeout_ms) {
			d.wake_at_ms = n->op_at_ms + p->off_timeout_ms;
			return d; /* asked already; the power poll will see it off */
		}
		d.act = CA_POWER_OFF;
		d.op = COP_POWER_OFF;
		d.op_at_ms = now;
		(void)snprintf(d.reason, sizeof(d.reason), n->op == COP_POWER_OFF ?
		    "still on after power-off, asking again" : "desired power off");
		return d;
	}

	/* want on */
	if (!n->target_set)
		return d; /* nothing to boot: it holds at its script */
	if (n->phase == CP_UP && n->booted_is_target) {
		if (n->op != COP_IDLE) {
			d.act = CA_DONE;
			d.op = COP_IDLE;
			d.attempts = 0;
			(void)snprintf(d.reason, sizeof(d.reason), "up on the desired image");
		}
		return d;
	}
	/* Failed is not for ever: what failed a boot (a switch port, a DHCP or BMC glitch, a
	 * node that was being repaired) often heals, and a scheduler must not need an admin
	 * to get its node back (issue #7). After failed_retry the node boots again from the
	 * first attempt; a new provision or a release tries at once. */
	if (n->op == COP_FAILED) {
		if (p->failed_retry_ms <= 0)
			return d;
		if (now - n->op_at_ms < p->failed_retry_ms) {
			d.wake_at_ms = n->op_at_ms + p->failed_retry_ms;
			return d;
		}
		return start_boot(n, now, 1, "failed_retry elapsed: boot again");
	}

	if (n->op == COP_IDLE || n->op == COP_POWER_OFF) {
		const char *why = n->phase == CP_UP ? "up on another image: reimage" :
		    n->power == CPOW_OFF ? "powered off: boot" : "not up on the desired image: boot";
		return start_boot(n, now, 1, why);
	}

	/* op booting or self-boot: watch progress. */
	{
		/* A phase older than the op belongs to the previous boot. */
		bool fresh = n->phase_at_ms >= n->op_at_ms;
		enum ctrl_phase ph = fresh ? n->phase : CP_POWERING;
		int64_t since = fresh ? n->phase_at_ms : n->op_at_ms;
		char why[96];

		/* A node in a reboot loop keeps reporting pxe and never stays long in one
		 * phase: the whole boot has a deadline too, the sum of the phase timeouts. */
		int64_t total = p->timeout_ms[CP_POWERING] + p->timeout_ms[CP_PXE] +
		    p->timeout_ms[CP_LOADING] + p->timeout_ms[CP_IMAGING];

		if (ph == CP_FAILED)
			(void)snprintf(why, sizeof(why), "boot failed");
		else if (now - since >= p->timeout_ms[ph])
			(void)snprintf(why, sizeof(why), "timed out in phase %s",
			    ctrl_phase_name(ph));
		else if (now - n->op_at_ms >= total)
			(void)snprintf(why, sizeof(why), "timed out booting, last in phase %s",
			    ctrl_phase_name(ph));
		else if (ph == CP_POWERING && n->power == CPOW_OFF) {
			/* The off half of a reboot is done (or a power-on did not take):
			 * power on, within the same attempt and its deadline. */
			d.act = CA_POWER_ON;
			(void)snprintf(d.reason, sizeof(d.reason), "off: power on (attempt %d)",
			    n->attempts);
			return d;
		} else {
			int64_t w = since + p->timeout_ms[ph];
			d.wake_at_ms = w < n->op_at_ms + total ? w : n->op_at_ms + total;
			return d;
		}
		if (n->attempts >= p->max_attempts) {
			d.act = CA_FAIL;
			d.op = COP_FAILED;
			d.op_at_ms = now; /* failed_retry counts from here */
			(void)snprintf(d.reason, sizeof(d.reason), "%s after %d attempts", why,
			    n->attempts);
			return d;
		}
		/* Retry after a backoff that grows with each attempt. */
		if (now - since < backoff(p, n->attempts) && ph == CP_FAILED) {
			d.wake_at_ms = since + backoff(p, n->attempts);
			return d;
		}
		char msg[160];
		(void)snprintf(msg, sizeof(msg), "%s: retry %d of %d", why, n->attempts + 1,
		    p->max_attempts);
		return start_boot(n, now, n->attempts + 1, msg);
	}
}
