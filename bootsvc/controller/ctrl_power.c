/* SPDX-License-Identifier: MIT */
/* Power: the FSM's decisions carried out (intent persisted first, then the BMC job), the
 * power-on rate limit, status polls, and the imperative power verb's operations. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "control/control.h"
#include "controller/ctrl_internal.h"
#include "log.h"
#include "boot/nodes.h"

struct power_job {
	struct work_item job;
	struct ctrl *c;
	char node[MAX_NODE_NAME];
	struct bmc_target target;   /* a copy: the password lives only as long as the job */
	enum power_op op;
	bool managed;               /* a reconcile action (vs. an imperative verb) */
	char prev_op[16];           /* the node's op before this action, for a failed BMC */
	int prev_attempts;
	int r;
	bool on;
	struct dl_err err;
	ctrl_power_now_cb cb;
	void *userdata;
};

bool
ctrl_power_busy(struct ctrl *c, const char *name)
{
	for (unsigned i = 0; i < c->n_busy; i++)
		if (strcmp(c->busy[i], name) == 0)
			return true;
	return false;
}

static void
set_busy(struct ctrl *c, const char *name, bool busy)
{
	for (unsigned i = 0; i < c->n_busy; i++)
		if (strcmp(c->busy[i], name) == 0) {
			if (!busy)
				memcpy(c->busy[i], c->busy[--c->n_busy], MAX_NODE_NAME);
			return;
		}
	if (busy && c->n_busy < MAX_BUSY)
		strcpy(c->busy[c->n_busy++], name);
}

void
ctrl_power_init(struct ctrl *c)
{
	c->tokens_at_ms = ctrl_now_ms();
	c->tokens = c->bs->cfg.power_on_rate;
}

static void
job_run(struct work_item *j)
{
	struct power_job *pj = (struct power_job *)j;

	pj->r = power_ipmi_run(&pj->target, pj->op, &pj->on, &pj->err);
}

static void
clear_secret(struct power_job *pj)
{
	/* explicit_bzero: the compiler may not drop it as a dead store. */
	explicit_bzero(pj->target.pass, sizeof(pj->target.pass));
}

static void
job_done(struct work_item *j)
{
	struct power_job *pj = (struct power_job *)j;
	struct ctrl *c = pj->c;
	struct bootsvc *bs = c->bs;
	struct node_rec n;
	char safe[MAX_LOG_VALUE + 1];
	bool cancelled = atomic_load(&j->cancelled);

	clear_secret(pj);
	set_busy(c, pj->node, false);
	if (cancelled) {
		pj->r = -ECANCELED;
		dl_err_set(&pj->err, -ECANCELED, "cancelled at shutdown");
	}
	if (store_node_get(bs->store, pj->node, &n) == 0 && !cancelled) {
		if (pj->r == 0) {
			if (strcmp(n.bmc_state, "unreachable") == 0) {
				log_notice("event=bmc_ok node=%s", n.name);
				(void)store_event_add(bs->store, n.name, "bmc-ok",
				    "the BMC answers again", (int64_t)time(NULL));
			}
			strcpy(n.bmc_state, "ok");
			n.last_error[0] = '\0';
			if (pj->op == POWER_STATUS || pj->op == POWER_ON || pj->op == POWER_OFF ||
			    pj->op == POWER_CYCLE)
				strcpy(n.power, pj->on ? "on" : "off");
			/* The off half of a reboot keeps its powering-on phase: the FSM
			 * powers the node on next. */
			if (pj->op == POWER_OFF && strcmp(n.phase, "off") != 0 &&
			    strcmp(n.op, "booting") != 0)
				(void)nodes_set_phase(bs, n.name, "off", "");
			else if (pj->op == POWER_STATUS && !pj->on && strcmp(n.op, "booting") != 0 &&
			    strcmp(n.phase, "off") != 0 && strcmp(n.phase, "discovered") != 0 &&
			    strcmp(n.phase, "new") != 0)
				(void)nodes_set_phase(bs, n.name, "off", "seen off by the BMC");
		} else {
			(void)snprintf(n.last_error, sizeof(n.last_error), "%.250s", pj->err.msg);
			if (pj->r == -ETIMEDOUT || pj->r == -EHOSTUNREACH ||
			    pj->r == -ECONNREFUSED) {
				/* Reachability is not a boot phase: the node keeps its phase
				 * and the state shows as bmc-unreachable (one event per change). */
				if (strcmp(n.bmc_state, "unreachable") != 0)
					(void)store_event_add(bs->store, n.name, "bmc-unreachable",
					    pj->err.msg, (int64_t)time(NULL));
				strcpy(n.bmc_state, "unreachable");
			}
			log_warning("event=bmc_error node=%s op=%s err=%s msg=\"%s\", will retry",
			    n.name, power_op_to_string(pj->op), dl_errno_name(pj->r),
			    log_safe(safe, sizeof(safe), pj->err.msg));
			if (pj->managed) {
				/* The action did not happen: undo the intent, back off. */
				snprintf(n.op, sizeof(n.op), "%s", pj->prev_op);
				n.attempts = pj->prev_attempts;
				n.retry_at_ms = ctrl_now_ms() + c->policy.backoff_ms;
			}
		}
		(void)store_node_update_ctrl(bs->store, &n);
		/* A job waits for its nodes: route around one whose BMC does not answer. */
		if (pj->r < 0 && pj->managed && n.alloc_job[0] &&
		    strcmp(n.bmc_state, "unreachable") == 0)
			ctrl_alloc_replace(c, &n);
	}
	if (pj->cb)
		pj->cb(bs, pj->node, pj->op, pj->r, pj->on, pj->err.msg, pj->userdata);
	control_events_notify(bs);
	free(pj);
	ctrl_kick(c);
}

static int
submit(struct ctrl *c, const struct node_rec *n, enum power_op op, bool pxe,
    bool managed, const char *prev_op, int prev_attempts, ctrl_power_now_cb cb,
    void *userdata, struct dl_err *reterr)
{
	struct power_job *pj = calloc(1, sizeof(*pj));
	int r;

	if (!pj)
		return -ENOMEM;
	r = ctrl_bmc_target(c->bs, n, &pj->target, reterr);
	if (r < 0) {
		free(pj);
		return r;
	}
	pj->target.pxe_first = pxe;
	pj->job.run = job_run;
	pj->job.done = job_done;
	pj->c = c;
	pj->op = op;
	pj->managed = managed;
	pj->cb = cb;
	pj->userdata = userdata;
	pj->prev_attempts = prev_attempts;
	(void)snprintf(pj->prev_op, sizeof(pj->prev_op), "%s", prev_op);
	strcpy(pj->node, n->name);
	r = work_submit(c->work, &pj->job);
	if (r < 0) {
		clear_secret(pj);
		free(pj);
		return dl_err_set(reterr, r, "BMC job queue is full, try again");
	}
	set_busy(c, n->name, true);
	return 0;
}

int
ctrl_power_now(struct ctrl *c, const char *node, enum power_op op,
    ctrl_power_now_cb cb, void *userdata, struct dl_err *reterr)
{
	struct node_rec n;

	if (store_node_get(c->bs->store, node, &n) < 0)
		return dl_err_set(reterr, -ENOENT, "no node '%s'", node);
	if (ctrl_power_busy(c, node) && op != POWER_STATUS)
		return dl_err_set(reterr, -EBUSY, "node '%s' has a BMC operation in flight",
		    node);
	if (op != POWER_STATUS) {
		char what[24];
		(void)snprintf(what, sizeof(what), "power-%s", power_op_to_string(op));
		(void)store_event_add(c->bs->store, node, what, "requested by an admin",
		    (int64_t)time(NULL));
	}
	return submit(c, &n, op, op == POWER_ON || op == POWER_CYCLE || op == POWER_RESET,
	    false, n.op, n.attempts, cb, userdata, reterr);
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
	if (d->wake_at_ms && (c->next_wake_ms == 0 || d->wake_at_ms < c->next_wake_ms))
		c->next_wake_ms = d->wake_at_ms;
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
	if (work_pending(c->work) >= t->inflight_cap) {
		c->next_wake_ms = t->now + 200;
		return;
	}
	if (d->act == CA_POWER_ON && !take_power_token(c, t->now)) {
		c->next_wake_ms = t->now + 200;
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
	(void)store_node_update_ctrl(bs->store, n);
	(void)store_event_add(bs->store, n->name, ctrl_act_name(d->act), d->reason,
	    (int64_t)time(NULL));
	if (d->act != CA_POWER_OFF && strcmp(n->phase, "powering-on") != 0)
		(void)nodes_set_phase(bs, n->name, "powering-on", d->reason);
	log_notice("event=ctrl_action node=%s action=%s attempt=%d msg=\"%s\"", n->name,
	    ctrl_act_name(d->act), n->attempts, d->reason);
	r = submit(c, n, op, op != POWER_OFF, true, prev_op, prev_attempts, NULL, NULL, &err);
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
ctrl_power_poll(struct ctrl *c, const struct node_rec *n)
{
	struct dl_err err = { 0 };

	(void)submit(c, n, POWER_STATUS, false, false, n->op, n->attempts, NULL, NULL, &err);
}
