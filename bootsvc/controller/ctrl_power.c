/* SPDX-License-Identifier: MIT */
/* Power: the FSM's decisions carried out (intent persisted first, then the BMC action),
 * the power-on rate limit, status polls, and the imperative power verb's operations. All
 * go through the action path (action.h) as one of two types on the bmc pool: a change
 * (on, off, cycle, reset: one at a time per node) and a read (status: beside anything),
 * so the controller and the verb share the node's busy entry and the pool's cap. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cluster/cluster.h"
#include "controller/ctrl_internal.h"
#include "log.h"
#include "iscsi/disks.h"
#include "boot/nodes.h"

/* One power action's payload: a copy of what the worker needs, and who to tell. */
struct power_job {
	struct ctrl *c;
	char node[MAX_NODE_NAME];
	struct bmc_target target;   /* a copy: the password lives only as long as the job */
	enum power_op op;
	bool managed;               /* a reconcile action (vs. an imperative verb) */
	bool boot;                  /* it starts a boot, or is a reboot's off half: its
	                             * failure is boot-blocked */
	char prev_op[16];           /* the node's op before this action, for a failed BMC */
	int prev_attempts;
	bool on;                    /* written by the worker */
	ctrl_power_now_cb cb;
	void *userdata;
};

bool
ctrl_power_busy(struct ctrl *c, const char *name)
{
	return action_busy(c->bs->action, name, ACTION_RES_BMC_POWER);
}

static int
power_run(void *payload, const atomic_bool *cancelled, struct dl_err *reterr)
{
	struct power_job *pj = payload;

	(void)cancelled; /* one session (IPMI or Redfish): nothing to stop between steps */
	pj->on = false;
	return bmc_power_run(&pj->target, pj->op, &pj->on, reterr);
}

static const char *
power_what(const void *payload)
{
	static const char *const what[_POWER_OP_MAX] = {
		[POWER_STATUS] = "power-status", [POWER_ON] = "power-on",
		[POWER_OFF] = "power-off", [POWER_CYCLE] = "power-cycle",
		[POWER_RESET] = "power-reset",
	};
	const struct power_job *pj = payload;

	return what[pj->op];
}

static void
power_free(void *payload)
{
	struct power_job *pj = payload;

	/* explicit_bzero: the compiler may not drop it as a dead store. */
	explicit_bzero(pj->target.pass, sizeof(pj->target.pass));
	free(pj);
}

/* Reachability is not a boot phase: the node keeps its phase and the state shows as
 * bmc-unreachable, with one event and one warning per change (the action path logged
 * each failure). */
static void
mark_unreachable(struct bootsvc *bs, struct node_rec *n, const char *msg)
{
	char safe[MAX_LOG_VALUE + 1];

	if (strcmp(n->bmc_state, "unreachable") != 0) {
		log_warning("event=bmc_unreachable node=%s msg=\"%s\", will retry", n->name,
		    log_safe(safe, sizeof(safe), msg));
		(void)store_event_add(bs->store, n->name, "bmc-unreachable", msg,
		    (int64_t)time(NULL));
	}
	strcpy(n->bmc_state, "unreachable");
}

/* A power action that starts a boot (the controller's, or an admin's power verb) did not
 * happen: one event per failed attempt, so that whoever waits for the node (a scheduler's
 * resume: slurm-resumewatch) learns now that the boot has not even begun, whether the
 * BMC just stopped answering or had not answered for hours (bmc-unreachable comes once
 * per change). A status read that fails while a node boots is no such event. */
static void
boot_blocked(struct bootsvc *bs, const struct node_rec *n, enum power_op op, const char *msg)
{
	char why[MAX_REASON], safe[MAX_LOG_VALUE + 1];

	(void)snprintf(why, sizeof(why), "power %s failed: %.200s", power_op_to_string(op), msg);
	(void)store_event_add(bs->store, n->name, "boot-blocked", why, (int64_t)time(NULL));
	log_info("event=boot_blocked node=%s op=%s msg=\"%s\"", n->name, n->op,
	    log_safe(safe, sizeof(safe), why));
}

/* The outcome on the loop: the node's observed power and BMC state, the intent undone
 * when the BMC did not act, the verb's answer. When timed out pj->on is the worker's
 * still and is not read. */
static void
power_done(void *payload, const struct action_result *res)
{
	struct power_job *pj = payload;
	struct ctrl *c = pj->c;
	struct bootsvc *bs = c->bs;
	struct node_rec n;
	bool cancelled = res->outcome == ACTION_CANCELLED;
	bool on = res->outcome == ACTION_OK && pj->on;

	if (store_node_get(bs->store, pj->node, &n) == 0 && !cancelled) {
		if (res->r == 0) {
			if (strcmp(n.bmc_state, "unreachable") == 0) {
				log_notice("event=bmc_ok node=%s", n.name);
				(void)store_event_add(bs->store, n.name, "bmc-ok",
				    "the BMC answers again", (int64_t)time(NULL));
			}
			strcpy(n.bmc_state, "ok");
			n.last_error[0] = '\0';
			if (pj->op == POWER_STATUS || pj->op == POWER_ON || pj->op == POWER_OFF ||
			    pj->op == POWER_CYCLE)
				strcpy(n.power, on ? "on" : "off");
			/* The off half of a reboot keeps its powering-on phase: the FSM
			 * powers the node on next. */
			if (pj->op == POWER_OFF && strcmp(n.phase, "off") != 0 &&
			    strcmp(n.op, "booting") != 0)
				(void)nodes_set_phase(bs, n.name, "off", "");
			else if (pj->op == POWER_STATUS && !on && strcmp(n.op, "booting") != 0 &&
			    strcmp(n.phase, "off") != 0 && strcmp(n.phase, "discovered") != 0 &&
			    strcmp(n.phase, "new") != 0)
				(void)nodes_set_phase(bs, n.name, "off", "seen off by the BMC");
		} else {
			(void)snprintf(n.last_error, sizeof(n.last_error), "%.250s", res->msg);
			/* EBADMSG, EKEYREJECTED: a Redfish BMC that answers garbage or
			 * with a certificate that fails the pin or CA (bmc_power_run()) */
			if (res->r == -ETIMEDOUT || res->r == -EHOSTUNREACH ||
			    res->r == -ECONNREFUSED || res->r == -EBADMSG ||
			    res->r == -EKEYREJECTED)
				mark_unreachable(bs, &n, res->msg);
			if (pj->boot)
				boot_blocked(bs, &n, pj->op, res->msg);
			if (pj->managed) {
				/* The action did not happen: undo the intent, back off. */
				snprintf(n.op, sizeof(n.op), "%s", pj->prev_op);
				n.attempts = pj->prev_attempts;
				n.retry_at_ms = ctrl_now_ms() + c->policy.backoff_ms;
			}
		}
		(void)store_node_update_ctrl(bs->store, &n);
		/* A job waits for its nodes: route around one whose BMC does not answer. */
		if (res->r < 0 && pj->managed && n.alloc_job[0] &&
		    strcmp(n.bmc_state, "unreachable") == 0)
			ctrl_alloc_replace(c, &n);
	}
	if (pj->cb)
		pj->cb(bs, pj->node, pj->op, res->r, on, res->msg, pj->userdata);
	notify(&bs->notify, NOTIFY_HISTORY);
	ctrl_kick(c);
}

void
ctrl_power_init(struct ctrl *c)
{
	uint64_t deadline = CTRL_BMC_DEADLINE_TIMEOUTS * c->bs->cfg.bmc_timeout_ms;

	/* No retries here: the FSM retries a managed power action with a persisted, doubling
	 * backoff (a crash does not lose the count), and a verb's caller decides; a second
	 * layer of retries under it would only delay marking a BMC unreachable. */
	c->power_change = (struct action_type){ .name = "power", .pool = ACTION_POOL_BMC,
		.res = ACTION_RES_BMC_POWER, .deadline_ms = deadline, .run = power_run,
		.done = power_done, .free = power_free, .what = power_what };
	/* A status read runs beside a change (it sees one side of it) and is polled every
	 * power_poll: routine, its success no history. */
	c->power_read = c->power_change;
	c->power_read.shared = true;
	c->power_read.routine = true;
	c->tokens_at_ms = ctrl_now_ms();
	c->tokens = c->bs->cfg.power_on_rate;
}

/* Start op on n's BMC. flags: ACTION_WAIT for the verb (its batch answers when all its
 * nodes are done, so it waits for a slot), 0 for the controller (it checked for room
 * and decides again next tick). */
static int
submit(struct ctrl *c, const struct node_rec *n, enum power_op op, bool pxe,
    bool managed, const char *prev_op, int prev_attempts, ctrl_power_now_cb cb,
    void *userdata, unsigned flags, struct dl_err *reterr)
{
	const struct action_type *t = op == POWER_STATUS ? &c->power_read : &c->power_change;
	struct power_job *pj;
	int r;

	if (!t->shared && ctrl_power_busy(c, n->name))
		return dl_err_set(reterr, -EBUSY, "node '%s' has a BMC operation in flight",
		    n->name);
	pj = calloc(1, sizeof(*pj));
	if (!pj)
		return -ENOMEM;
	r = ctrl_bmc_target(c->bs, n, &pj->target, reterr);
	if (r < 0) {
		free(pj);
		return r;
	}
	pj->target.pxe_first = pxe;
	pj->c = c;
	pj->op = op;
	pj->managed = managed;
	/* Decided here, where the action is chosen: the controller wrote its intent (op
	 * booting) before asking, also for a reboot's off half, which asks for no PXE. */
	pj->boot = op != POWER_STATUS && (pxe || (managed && strcmp(n->op, "booting") == 0));
	pj->cb = cb;
	pj->userdata = userdata;
	pj->prev_attempts = prev_attempts;
	(void)snprintf(pj->prev_op, sizeof(pj->prev_op), "%s", prev_op);
	strcpy(pj->node, n->name);
	r = action_submit(c->bs->action, n->name, t, pj, flags, reterr);
	if (r < 0) {
		power_free(pj);
		if (r == -EAGAIN)
			return dl_err_set(reterr, r, "BMC job queue is full, try again");
		return r;
	}
	return 0;
}

int
ctrl_power_now(struct ctrl *c, const char *node, enum power_op op,
    ctrl_power_now_cb cb, void *userdata, struct dl_err *reterr)
{
	struct node_rec n;
	int r;

	if (store_node_get(c->bs->store, node, &n) < 0)
		return dl_err_set(reterr, -ENOENT, "no node '%s'", node);
	/* A change is an action: only the leader takes one (issue 15); a status read
	 * changes nothing and any instance may ask. */
	if (op != POWER_STATUS && !cluster_may_act(c->bs->cluster))
		return dl_err_set(reterr, -EAGAIN, "node '%s': this bootsvc is not the leader; "
		    "ask the one 'nodectl server list' shows as leader", node);
	r = submit(c, &n, op, op == POWER_ON || op == POWER_CYCLE || op == POWER_RESET,
	    false, n.op, n.attempts, cb, userdata, ACTION_WAIT, reterr);
	if (r < 0)
		return r;
	if (op != POWER_STATUS) {
		char what[24];
		(void)snprintf(what, sizeof(what), "power-%s", power_op_to_string(op));
		(void)store_event_add(c->bs->store, node, what, "requested by an admin",
		    (int64_t)time(NULL));
	}
	/* A boot an admin ordered through the BMC arms the node like the controller's own
	 * (boot/trust.h): also one without a fixed address gets its credential. A power-on
	 * of a node the BMC last read on boots nothing: no arming. */
	if (op == POWER_CYCLE || op == POWER_RESET ||
	    (op == POWER_ON && strcmp(n.power, "on") != 0)) {
		if (nodes_arm(c->bs, &n, "admin", "power verb: the boot that follows may "
		    "take its credential") == 0)
			disks_prepare(c->bs->disks, &n);
	}
	return 0;
}

/* Token bucket for power-ons (a reboot's too): spares the circuits in a boot storm. */
static bool
take_power_token(struct ctrl *c, int64_t now)
{
	double rate = c->bs->cfg.power_on_rate;

	if (rate <= 0)
		return true;
	c->tokens += (double)(now - c->tokens_at_ms) / 1000.0 * rate;
	/* A burst of at most one second's worth, and at least one power-on: with a rate
	 * under 1/s the bucket would otherwise never hold a whole token. */
	if (c->tokens > (rate > 1.0 ? rate : 1.0))
		c->tokens = rate > 1.0 ? rate : 1.0;
	c->tokens_at_ms = now;
	if (c->tokens < 1.0)
		return false;
	c->tokens -= 1.0;
	return true;
}

void
ctrl_power_apply(struct ctrl *c, struct node_rec *n, const struct ctrl_decision *d,
    struct ctrl_tick *t)
{
	struct bootsvc *bs = c->bs;
	struct dl_err err = { 0 };
	char prev_op[16];
	int prev_attempts = n->attempts;
	enum power_op op;
	int r;

	(void)snprintf(prev_op, sizeof(prev_op), "%s", n->op);
	ctrl_wake_by(c, d->wake_at_ms);
	switch (d->act) {
	case CA_NONE:
		return;
	case CA_DONE:
		strcpy(n->op, ctrl_op_name(d->op));
		n->attempts = d->attempts;
		(void)store_node_update_ctrl(bs->store, n);
		(void)store_event_add(bs->store, n->name, "done", d->reason, (int64_t)time(NULL));
		log_notice("event=ctrl_done node=%s msg=\"%s\"", n->name, d->reason);
		return;
	case CA_FAIL:
		strcpy(n->op, ctrl_op_name(d->op));
		(void)snprintf(n->last_error, sizeof(n->last_error), "%s", d->reason);
		(void)store_node_update_ctrl(bs->store, n);
		/* An event of its own: a node's own failed report is retried, this is final. */
		(void)store_event_add(bs->store, n->name, "fail", d->reason, (int64_t)time(NULL));
		(void)nodes_set_phase(bs, n->name, "failed", d->reason);
		if (n->alloc_job[0])
			ctrl_alloc_replace(c, n);
		return;
	case CA_POWER_ON:
	case CA_POWER_CYCLE:
	case CA_POWER_OFF:
		break;
	default:
		return;
	}
	/* The cap is shared with the verbs, whose waiting requests go first. Either wait
	 * looks again in 200 ms, or sooner if another node's decision asked for it. */
	if (!action_has_room(bs->action, ACTION_POOL_BMC)) {
		ctrl_wake_by(c, t->now + 200);
		return;
	}
	if (d->act == CA_POWER_ON && !take_power_token(c, t->now)) {
		ctrl_wake_by(c, t->now + 200);
		return;
	}
	/* A reboot's first step is a power-off (ctrl_fsm.h says why). */
	op = d->act == CA_POWER_ON ? POWER_ON : POWER_OFF;
	/* Intent first (CONVENTIONS, DESIGN "desired state"): the op and its start are in
	 * the store before the BMC is asked, so a crash now does not make us act twice. */
	strcpy(n->op, ctrl_op_name(d->op));
	n->op_at_ms = d->op_at_ms;
	n->attempts = d->attempts;
	n->retry_at_ms = 0;
	/* No intent in the store, no action: a store that cannot be written (or refuses a
	 * leader that was superseded: store_fence()) must not leave a BMC call nobody
	 * recorded. The next tick tries again, or the new leader acts. */
	if ((r = store_node_update_ctrl(bs->store, n)) < 0) {
		log_err("event=ctrl_action node=%s action=%s err=%s msg=\"the intent could not be "
		    "written: not acting\"", n->name, ctrl_act_name(d->act), dl_errno_name(r));
		ctrl_wake_by(c, t->now + c->policy.backoff_ms);
		return;
	}
	/* A boot the controller orders arms the node: its credential, fresh, may be handed
	 * out once to the boot that follows (boot/trust.h). At the power-on, not at the
	 * power-off half of a reboot: the node's old OS is gone by then, so none of its
	 * users can take the new credential, and one taken before is worthless. */
	if (d->op == COP_BOOTING && d->act == CA_POWER_ON &&
	    nodes_arm(bs, n, "controller", d->reason) == 0)
		disks_prepare(bs->disks, n); /* an iscsi node's clone, made while it POSTs */
	(void)store_event_add(bs->store, n->name, ctrl_act_name(d->act), d->reason,
	    (int64_t)time(NULL));
	if (d->act != CA_POWER_OFF && strcmp(n->phase, "powering-on") != 0)
		(void)nodes_set_phase(bs, n->name, "powering-on", d->reason);
	log_notice("event=ctrl_action node=%s action=%s attempt=%d msg=\"%s\"", n->name,
	    ctrl_act_name(d->act), n->attempts, d->reason);
	r = submit(c, n, op, op != POWER_OFF, true, prev_op, prev_attempts, NULL, NULL, 0,
	    &err);
	if (r < 0) {
		log_err("event=ctrl_action node=%s msg=\"%s\"", n->name, err.msg);
		(void)snprintf(n->op, sizeof(n->op), "%s", prev_op);
		n->attempts = prev_attempts;
		n->retry_at_ms = t->now + c->policy.backoff_ms;
		(void)snprintf(n->last_error, sizeof(n->last_error), "%.250s", err.msg);
		(void)store_node_update_ctrl(bs->store, n);
	}
}

void
ctrl_power_poll(struct ctrl *c, const struct node_rec *n, const struct ctrl_tick *t)
{
	struct dl_err err = { 0 };

	if (!t->poll || ctrl_power_busy(c, n->name) ||
	    !action_has_room(c->bs->action, ACTION_POOL_BMC))
		return;
	(void)submit(c, n, POWER_STATUS, false, false, n->op, n->attempts, NULL, NULL, 0, &err);
}
