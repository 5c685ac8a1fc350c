/* SPDX-License-Identifier: MIT */
/* Health (issue #5): every node with a BMC has its sensors and new SEL records read on a
 * worker every health_poll; health_rules.c judges them; a worse verdict runs the
 * configured health actions (drain, power off, evacuate, the notify hook). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sys/stat.h>

#include "controller/ctrl_internal.h"
#include "bmc/health_bmc.h"
#include "log.h"
#include "vm/vm.h"
#include "vm/vm_policy.h"

/* One health read's payload: what the worker needs, and what it read. */
struct health_job {
	struct ctrl *c;
	char node[MAX_NODE_NAME];
	struct bmc_target target;
	char sdr_dir[MAX_STORE_PATH + 80];
	uint32_t sel_after;
	struct health_reading reading; /* written by the worker */
};

/* notify: the admin's hook, exec'd with argv (no shell): HOOK NODE HEALTH REASONS, under
 * notify_hook_timeout (controller/hook.h). */
static void
run_hook(struct ctrl *c, const char *node, const char *health, const char *reasons)
{
	const char *argv[] = { c->bs->cfg.notify_hook, node, health, reasons, NULL };

	if (!c->bs->cfg.notify_hook[0])
		return;
	(void)hooks_run(&c->hooks, argv, node); /* logged */
}

/* The configured actions for a node that just turned risky or doomed. */
static void
respond(struct ctrl *c, struct node_rec *n, unsigned actions)
{
	struct bootsvc *bs = c->bs;
	int64_t now = (int64_t)time(NULL);

	if (actions & HA_DRAIN)
		(void)store_event_add(bs->store, n->name, "drain", n->health_reasons, now);
	/* A VM host's VMs move off (issue 13): it is drained and an evacuation planned;
	 * the power-off below then waits for it (ctrl.c holds a drained host in use). */
	if (actions & HA_EVACUATE)
		vm_policy_health(bs, n->name, n->health, n->health_reasons);
	if (actions & HA_POWEROFF) {
		strcpy(n->want_power, "off");
		n->op[0] = '\0';
		(void)store_node_update_ctrl(bs->store, n);
		(void)store_event_add(bs->store, n->name, "want-off", n->health_reasons, now);
		if (n->alloc_job[0])
			ctrl_alloc_replace(c, n);
	}
	if (actions & HA_NOTIFY)
		run_hook(c, n->name, n->health, n->health_reasons);
}

static int
job_run(void *payload, const atomic_bool *cancelled, struct dl_err *reterr)
{
	struct health_job *hj = payload;

	(void)cancelled; /* two library calls that each bound themselves by bmc_timeout */
	health_reading_done(&hj->reading);
	return bmc_health_read(&hj->target, hj->sdr_dir, hj->sel_after, &hj->reading, reterr);
}

static void
job_free(void *payload)
{
	struct health_job *hj = payload;

	explicit_bzero(hj->target.pass, sizeof(hj->target.pass));
	health_reading_done(&hj->reading);
	free(hj);
}

/* The reading on the loop: the measured draw, the rules' verdict, the health actions of a
 * worse one. Nothing else to do for a failed read: the action path logged it. */
static void
job_done(void *payload, const struct action_result *res)
{
	struct health_job *hj = payload;
	struct ctrl *c = hj->c;
	struct bootsvc *bs = c->bs;
	struct health_state st;
	struct health_verdict v;
	struct node_rec n;
	_cleanup_free_ char *json = NULL, *out = NULL;
	char reasons[MAX_REASON] = "";
	struct dl_err err = { 0 };
	int64_t now = (int64_t)time(NULL);

	if (res->outcome != ACTION_OK || store_node_get(bs->store, hj->node, &n) < 0)
		return;
	health_state_init(&st);
	if (store_node_health_state_get(bs->store, n.name, &json) == 0 && json[0] &&
	    health_persist_from_json(json, &st, &err) < 0)
		log_warning("event=health_state node=%s msg=\"%s, starting afresh\"", n.name,
		    err.msg);
	ctrl_energy_measured(c, &n, health_power_watts(&hj->reading));
	{
		double temp = 0;
		bool has = health_temperature_c(&hj->reading, &temp);

		vm_host_temperature(bs->vm, n.name, has, temp);
	}
	if (health_state_update(&st, &hj->reading, now) < 0 ||
	    health_eval(&c->rules, &st, now, &v) < 0)
		goto out;
	for (size_t i = 0; i < v.n_reasons; i++) {
		size_t len = strlen(reasons);
		(void)snprintf(reasons + len, sizeof(reasons) - len, "%s%s", i ? "; " : "",
		    v.reason[i]);
	}
	/* The vm room's input (issue 12): a VM host bootsvc cannot reach is risky at least,
	 * whatever its BMC says, until the connection is back. */
	if (vm_host_is_lost(bs->vm, n.name)) {
		size_t len = strlen(reasons);
		if (v.health < HEALTH_RISKY)
			v.health = HEALTH_RISKY;
		(void)snprintf(reasons + len, sizeof(reasons) - len, "%s%s", len ? "; " : "",
		    VM_HEALTH_REASON);
	}
	if (health_persist_to_json(&st, &out) == 0)
		(void)store_node_health_state_set(bs->store, n.name, out);
	n.sel_last = st.sel_last_id;
	if (strcmp(n.health, health_to_string(v.health)) != 0 ||
	    strcmp(n.health_reasons, reasons) != 0) {
		bool worse = v.health > health_from_string(n.health[0] ? n.health : "ok");
		strcpy(n.health, health_to_string(v.health));
		(void)snprintf(n.health_reasons, sizeof(n.health_reasons), "%s", reasons);
		(void)store_node_update_ctrl(bs->store, &n);
		(void)store_event_add(bs->store, n.name, "health", reasons[0] ? reasons : "ok", now);
		log_notice("event=node_health node=%s health=%s reasons=\"%s\"", n.name, n.health,
		    reasons);
		if (worse)
			respond(c, &n, v.health == HEALTH_DOOMED ? bs->cfg.on_doomed :
			    v.health == HEALTH_RISKY ? bs->cfg.on_risky : 0);
		else if (v.health == HEALTH_OK)
			vm_policy_health_ok(bs, n.name);
		notify(&bs->notify, NOTIFY_HISTORY);
	} else
		(void)store_node_update_ctrl(bs->store, &n);
out:
	health_state_done(&st);
}

int
ctrl_health_init(struct ctrl *c, struct dl_err *reterr)
{
	const struct config *cfg = &c->bs->cfg;
	int r;

	/* A poll, every health_poll: a failure is routine (a BMC that does not answer is
	 * the power path's bmc-unreachable), and the next poll is the retry. */
	c->health_read = (struct action_type){ .name = "health", .pool = ACTION_POOL_BMC,
		.res = ACTION_RES_BMC_SENSORS, .routine = true,
		.deadline_ms = CTRL_BMC_DEADLINE_TIMEOUTS * cfg->bmc_timeout_ms,
		.run = job_run, .done = job_done, .free = job_free };
	/* Rules: the configured ones, else the built-in defaults (docs/health.md). */
	if (cfg->n_health_rules == 0)
		health_rules_init_default(&c->rules);
	for (unsigned i = 0; i < cfg->n_health_rules; i++) {
		r = health_rules_add(&c->rules, cfg->health_rules[i], reterr);
		if (r < 0)
			return dl_err_prefix(reterr, "health_rule '%s'", cfg->health_rules[i]), r;
	}
	return 0;
}

void
ctrl_health_poll(struct ctrl *c, const struct node_rec *n, const struct ctrl_tick *t)
{
	struct action *a = c->bs->action;
	struct health_job *hj;
	struct dl_err err = { 0 };

	if (!t->health || action_busy(a, n->name, ACTION_RES_BMC_SENSORS) ||
	    !action_has_room(a, ACTION_POOL_BMC))
		return;
	hj = calloc(1, sizeof(*hj));
	if (!hj)
		return;
	if (ctrl_bmc_target(c->bs, n, &hj->target, &err) < 0) {
		free(hj);
		return;
	}
	/* The SDR cache is keyed by host (lab pitfall 6): one directory per node. */
	(void)snprintf(hj->sdr_dir, sizeof(hj->sdr_dir), "%s/sdr/%s", c->bs->cfg.state_dir,
	    n->name);
	{
		char parent[MAX_STORE_PATH + 16];
		(void)snprintf(parent, sizeof(parent), "%s/sdr", c->bs->cfg.state_dir);
		(void)mkdir(parent, 0700);
		(void)mkdir(hj->sdr_dir, 0700);
	}
	hj->sel_after = (uint32_t)n->sel_last;
	hj->c = c;
	strcpy(hj->node, n->name);
	if (action_submit(a, n->name, &c->health_read, hj, 0, &err) < 0)
		job_free(hj);
}

int
ctrl_health_clear(struct ctrl *c, const char *name)
{
	struct bootsvc *bs = c->bs;
	struct health_state st;
	struct node_rec n;
	_cleanup_free_ char *json = NULL, *out = NULL;
	int r;

	if ((r = store_node_get(bs->store, name, &n)) < 0)
		return r;
	health_state_init(&st);
	if (store_node_health_state_get(bs->store, name, &json) == 0 && json[0])
		(void)health_persist_from_json(json, &st, NULL);
	health_state_clear(&st);
	if (health_persist_to_json(&st, &out) == 0)
		(void)store_node_health_state_set(bs->store, name, out);
	health_state_done(&st);
	strcpy(n.health, "ok");
	n.health_reasons[0] = '\0';
	(void)store_node_update_ctrl(bs->store, &n);
	(void)store_event_add(bs->store, name, "health", "cleared by an admin",
	    (int64_t)time(NULL));
	vm_policy_health_ok(bs, name);
	notify(&bs->notify, NOTIFY_HISTORY);
	return 0;
}
