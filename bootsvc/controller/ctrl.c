/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "control/control.h"
#include "controller/ctrl.h"
#include "controller/ctrl_fsm.h"
#include "controller/energy.h"
#include "controller/green.h"
#include "health/health.h"
#include "health/eval.h"
#include "health/persist.h"
#include "hostlist.h"
#include "spawn.h"
#include "log.h"
#include "boot/nodes.h"
#include "action/work.h"

/* Node names with a BMC job in flight; a small open table is enough because the
 * concurrency cap bounds it. */
#define MAX_BUSY 1024
/* Live scheduler hints: one per image, and a site has a handful of images. */
#define MAX_HINTS 64

struct ctrl {
	struct bootsvc *bs;
	struct work *work;
	struct ctrl_policy policy;
	int64_t tick_timer;
	uint64_t tick_due_ms;   /* loop time tick_timer fires at */
	uint64_t last_tick_ms;  /* loop time the last tick began */
	int64_t next_wake_ms;   /* earliest wake a decision asked for */
	char busy[MAX_BUSY][MAX_NODE_NAME];
	unsigned n_busy;
	/* Power-on rate limit: a token bucket refilled at rate per second. */
	double tokens;
	int64_t tokens_at_ms;
	int64_t last_poll_ms;
	bool stopping;
	/* Health (issue #5): rules from the config, one read per node per health_poll. */
	struct health_rules rules;
	int64_t last_health_ms;
	char health_busy[MAX_BUSY][MAX_NODE_NAME];
	unsigned n_health_busy;
	/* Green policy (issue #7): hints in memory (a scheduler re-sends them; they live
	 * minutes), floors expanded once, and the per-tick inputs of green_decide(). */
	struct green_hint hints[MAX_HINTS];
	size_t n_hints;
	struct green_spare spares[MAX_CONF_WARM];
	struct green_floor floors[MAX_CONF_FLOORS];
	struct hostlist floor_hosts[MAX_CONF_FLOORS];
	struct green_node *gn;
	char (*gnames)[MAX_NODE_NAME];
	char (*gimages)[MAX_NODE_NAME];
	size_t n_gn, cap_gn;
	bool gn_oom;
	int64_t last_energy_ms;
};

struct health_job {
	struct work_item job;
	struct ctrl *c;
	char node[MAX_NODE_NAME];
	struct bmc_target target;
	char sdr_dir[MAX_STORE_PATH + 80];
	uint32_t sel_after;
	struct health_reading reading;
	int r;
	struct dl_err err;
};

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

static void replace_in_allocation(struct ctrl *c, struct node_rec *n);

static int64_t
now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool
is_busy(struct ctrl *c, const char *name)
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

int
ctrl_target(struct bootsvc *bs, const struct node_rec *n, struct bmc_target *ret,
    struct dl_err *reterr)
{
	struct bmc_target t = { .port = 623, .cipher = 3 };
	const char *colon;
	int r;

	if (!n->bmc[0])
		return dl_err_set(reterr, -EINVAL, "node '%s' has no BMC", n->name);
	if (!n->bmc_creds[0])
		return dl_err_set(reterr, -EINVAL, "node '%s' has no BMC credentials file",
		    n->name);
	colon = strchr(n->bmc, ':');
	if (colon) {
		uint64_t port;
		if ((size_t)(colon - n->bmc) >= sizeof(t.host) ||
		    parse_u64(colon + 1, 1, 65535, &port, reterr) < 0)
			return dl_err_set(reterr, -EINVAL, "node '%s': bad BMC address '%s'",
			    n->name, n->bmc);
		memcpy(t.host, n->bmc, (size_t)(colon - n->bmc));
		t.port = (uint16_t)port;
	} else
		(void)snprintf(t.host, sizeof(t.host), "%s", n->bmc);
	r = bmc_creds_load(n->bmc_creds, &t, reterr);
	if (r < 0)
		return r;
	t.timeout_ms = (unsigned)bs->cfg.bmc_timeout_ms;
	*ret = t;
	return 0;
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
				n.retry_at_ms = now_ms() + c->policy.backoff_ms;
			}
		}
		(void)store_node_update_ctrl(bs->store, &n);
		/* A job waits for its nodes: route around one whose BMC does not answer. */
		if (pj->r < 0 && pj->managed && n.alloc_job[0] &&
		    strcmp(n.bmc_state, "unreachable") == 0)
			replace_in_allocation(c, &n);
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
	r = ctrl_target(c->bs, n, &pj->target, reterr);
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
	if (is_busy(c, node) && op != POWER_STATUS)
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


static bool
health_busy(struct ctrl *c, const char *name, int set)
{
	for (unsigned i = 0; i < c->n_health_busy; i++)
		if (strcmp(c->health_busy[i], name) == 0) {
			if (set == 0)
				memcpy(c->health_busy[i], c->health_busy[--c->n_health_busy],
				    MAX_NODE_NAME);
			return true;
		}
	if (set == 1 && c->n_health_busy < MAX_BUSY)
		strcpy(c->health_busy[c->n_health_busy++], name);
	return false;
}

static void
hook_exit(struct loop *l, int fd, uint32_t events, void *userdata)
{
	siginfo_t si = { 0 };

	(void)events;
	(void)userdata;
	if (waitid(P_PIDFD, (id_t)fd, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
		return;
	if (si.si_code != CLD_EXITED || si.si_status != 0)
		log_warning("event=notify_hook pid=%d msg=\"hook %s %d\"", (int)si.si_pid,
		    si.si_code == CLD_EXITED ? "exited" : "killed by signal", si.si_status);
	loop_del_fd(l, fd);
	close(fd);
}

/* notify: the admin's hook, exec'd with argv (no shell): HOOK NODE HEALTH REASONS. Not
 * waited for on the loop; its pidfd reaps it. */
static void
run_hook(struct ctrl *c, const char *node, const char *health, const char *reasons)
{
	const char *argv[] = { c->bs->cfg.notify_hook, node, health, reasons, NULL };
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;
	struct dl_err err = { 0 };
	pid_t pid;
	int fd;

	if (!c->bs->cfg.notify_hook[0])
		return;
	if (spawn_start(argv, &o, &pid, &err) < 0) {
		log_err("event=notify_hook node=%s msg=\"%s\"", node, err.msg);
		return;
	}
	fd = spawn_pidfd(pid);
	if (fd < 0 || loop_add_fd(c->bs->loop, fd, EPOLLIN, hook_exit, NULL) < 0) {
		if (fd >= 0)
			close(fd);
		(void)waitpid(pid, NULL, 0); /* rare: a blocking reap beats a zombie */
	}
}


/* The configured actions for a node that just turned risky or doomed. */
static void
health_actions(struct ctrl *c, struct node_rec *n, unsigned actions)
{
	struct bootsvc *bs = c->bs;
	int64_t now = (int64_t)time(NULL);

	if (actions & HA_DRAIN)
		(void)store_event_add(bs->store, n->name, "drain", n->health_reasons, now);
	if (actions & HA_EVACUATE)
		/* XXX(#5): hypervisor nodes evacuate once the VM layer lands; recorded now. */
		(void)store_event_add(bs->store, n->name, "evacuate",
		    "recorded: no VM layer yet", now);
	if (actions & HA_POWEROFF) {
		strcpy(n->want_power, "off");
		n->op[0] = '\0';
		(void)store_node_update_ctrl(bs->store, n);
		(void)store_event_add(bs->store, n->name, "want-off", n->health_reasons, now);
		if (n->alloc_job[0])
			replace_in_allocation(c, n);
	}
	if (actions & HA_NOTIFY)
		run_hook(c, n->name, n->health, n->health_reasons);
}

static void
health_job_run(struct work_item *j)
{
	struct health_job *hj = (struct health_job *)j;

	hj->r = health_read(&hj->target, hj->sdr_dir, hj->sel_after, &hj->reading, &hj->err);
}

/* The node's energy record, or a fresh one whose clock starts at now. Returns whether
 * the store had one. */
static bool
energy_rec_load(struct store *st, const char *node, int64_t now, struct energy_rec *ret)
{
	if (store_energy_get(st, node, ret) == 0)
		return true;
	memset(ret, 0, sizeof(*ret));
	(void)snprintf(ret->name, sizeof(ret->name), "%s", node);
	ret->at_ms = now;
	return false;
}

/* The BMC's power reading (0: it has none) becomes the node's measured draw, which the
 * energy pass uses instead of the wattage model while the node is on; read while on, it
 * is also the baseline that "saved" compares an off node against. */
static void
health_power_store(struct ctrl *c, const struct node_rec *n, unsigned watts)
{
	struct energy_rec rec;
	bool on = strcmp(n->power, "on") == 0;

	if (!energy_rec_load(c->bs->store, n->name, now_ms(), &rec) && !watts)
		return;
	if (rec.last_w == watts && (!on || !watts || rec.baseline_w == watts))
		return;
	rec.last_w = watts;
	if (on && watts)
		rec.baseline_w = watts;
	(void)store_energy_put(c->bs->store, &rec);
}

static void
health_job_done(struct work_item *j)
{
	struct health_job *hj = (struct health_job *)j;
	struct ctrl *c = hj->c;
	struct bootsvc *bs = c->bs;
	struct health_state st;
	struct health_verdict v;
	struct node_rec n;
	_cleanup_free_ char *json = NULL, *out = NULL;
	char reasons[MAX_REASON] = "";
	struct dl_err err = { 0 };
	int64_t now = (int64_t)time(NULL);

	explicit_bzero(hj->target.pass, sizeof(hj->target.pass));
	(void)health_busy(c, hj->node, 0);
	health_state_init(&st);
	if (atomic_load(&j->cancelled) || hj->r < 0 || store_node_get(bs->store, hj->node, &n) < 0) {
		if (hj->r < 0 && !atomic_load(&j->cancelled))
			log_debug("event=health_read node=%s err=%s", hj->node, dl_errno_name(hj->r));
		goto out;
	}
	if (store_node_health_state_get(bs->store, n.name, &json) == 0 && json[0] &&
	    health_persist_from_json(json, &st, &err) < 0)
		log_warning("event=health_state node=%s msg=\"%s, starting afresh\"", n.name,
		    err.msg);
	health_power_store(c, &n, health_power_watts(&hj->reading));
	if (health_state_update(&st, &hj->reading, now) < 0 ||
	    health_eval(&c->rules, &st, now, &v) < 0)
		goto out;
	for (size_t i = 0; i < v.n_reasons; i++) {
		size_t len = strlen(reasons);
		(void)snprintf(reasons + len, sizeof(reasons) - len, "%s%s", i ? "; " : "",
		    v.reason[i]);
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
			health_actions(c, &n, v.health == HEALTH_DOOMED ? bs->cfg.on_doomed :
			    v.health == HEALTH_RISKY ? bs->cfg.on_risky : 0);
		control_events_notify(bs);
	} else
		(void)store_node_update_ctrl(bs->store, &n);
out:
	health_state_done(&st);
	health_reading_done(&hj->reading);
	free(hj);
}

static void
submit_health(struct ctrl *c, const struct node_rec *n)
{
	struct health_job *hj = calloc(1, sizeof(*hj));
	struct dl_err err = { 0 };

	if (!hj)
		return;
	if (ctrl_target(c->bs, n, &hj->target, &err) < 0) {
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
	hj->job.run = health_job_run;
	hj->job.done = health_job_done;
	hj->c = c;
	strcpy(hj->node, n->name);
	if (work_submit(c->work, &hj->job) < 0) {
		explicit_bzero(hj->target.pass, sizeof(hj->target.pass));
		free(hj);
		return;
	}
	(void)health_busy(c, n->name, 1);
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
	control_events_notify(bs);
	return 0;
}

/* A node of an allocation failed for good: route around it (issue #5). Another eligible
 * node takes its place in the same job; the failed one leaves the allocation and, being
 * failed, is not chosen again until an admin releases it. */
static void
replace_in_allocation(struct ctrl *c, struct node_rec *n)
{
	struct bootsvc *bs = c->bs;
	const struct job_class *jc = config_class(&bs->cfg, n->alloc_class);
	struct image_rec img;
	struct dl_err err = { 0 };
	size_t tiers[3] = { 0 };
	char job[MAX_NODE_NAME], cls[32];
	json_t *chosen = json_array();
	int r;

	strcpy(job, n->alloc_job);
	strcpy(cls, n->alloc_class);
	n->alloc_job[0] = n->alloc_class[0] = '\0';
	(void)store_node_update_ctrl(bs->store, n);
	if (!chosen || nodes_boot_image(bs, n, &img) < 0) {
		json_decref(chosen);
		return;
	}
	r = verbs_ctrl_alloc_assign(bs, job, cls, jc ? jc->allow_risky : false, &img, 1, chosen,
	    tiers, &err);
	if (r < 0) {
		log_warning("event=alloc_replace job=%s node=%s msg=\"no replacement: %s\"", job,
		    n->name, err.msg);
		char why[MAX_REASON];
		(void)snprintf(why, sizeof(why), "job %.63s: no replacement: %.150s", job, err.msg);
		(void)store_event_add(bs->store, n->name, "alloc-lost", why, (int64_t)time(NULL));
	} else {
		char why[128];
		(void)snprintf(why, sizeof(why), "job %s: replaced by %s", job,
		    json_string_value(json_array_get(chosen, 0)));
		(void)store_event_add(bs->store, n->name, "alloc-replace", why,
		    (int64_t)time(NULL));
		log_notice("event=alloc_replace job=%s failed=%s replacement=%s", job, n->name,
		    json_string_value(json_array_get(chosen, 0)));
	}
	json_decref(chosen);
	control_events_notify(bs);
	ctrl_kick(c);
}

struct tick_ctx {
	struct ctrl *c;
	int64_t now;
	unsigned inflight_cap;
	bool poll;
	bool health;
};

static void
apply(struct ctrl *c, struct node_rec *n, const struct ctrl_decision *d,
    struct tick_ctx *t)
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
			replace_in_allocation(c, n);
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

/* Green policy inputs (issue #7). A node is idle when it is up on its image for nobody
 * with nothing in flight; its idle clock starts then and stops when it is allocated or
 * boots again. */
static bool
node_is_idle(const struct node_rec *n, bool booted_is_target)
{
	return strcmp(n->want_power, "on") == 0 && strcmp(n->phase, "up") == 0 &&
	    booted_is_target && !n->alloc_job[0] && !n->hold && !n->op[0];
}

static enum green_state
green_state_of(struct ctrl *c, const struct node_rec *n, bool idle)
{
	if (idle)
		return GS_IDLE;
	if (n->alloc_job[0] || n->hold || strcmp(n->op, "failed") == 0)
		return GS_BUSY;
	/* Wanted on for nobody and not up yet: booting, or waiting for its power-on token
	 * or a BMC answer (counting it stops a hint from powering on a second node
	 * meanwhile). */
	if (strcmp(n->want_power, "on") == 0)
		return GS_BOOTING;
	/* Only nodes that can come up are candidates for a power-on. */
	if (strcmp(n->want_power, "off") == 0 && strcmp(n->bmc_state, "unreachable") != 0 &&
	    strcmp(n->health, "doomed") != 0 && !nodes_drained(c->bs, n))
		return GS_OFF;
	return GS_BUSY;
}

static void
green_add(struct ctrl *c, const struct node_rec *n, bool idle)
{
	struct green_node *g;

	if (c->n_gn == c->cap_gn) {
		size_t cap = c->cap_gn ? c->cap_gn * 2 : 64;
		struct green_node *gn = reallocarray(c->gn, cap, sizeof(*gn));
		if (gn)
			c->gn = gn;
		char (*names)[MAX_NODE_NAME] = gn ? reallocarray(c->gnames, cap, MAX_NODE_NAME) :
		    NULL;
		if (names)
			c->gnames = names;
		char (*images)[MAX_NODE_NAME] = names ? reallocarray(c->gimages, cap,
		    MAX_NODE_NAME) : NULL;
		if (!images) {
			c->gn_oom = true; /* decide nothing this tick rather than half */
			return;
		}
		c->gimages = images;
		c->cap_gn = cap;
	}
	g = &c->gn[c->n_gn];
	strcpy(c->gnames[c->n_gn], n->name);
	strcpy(c->gimages[c->n_gn], n->image);
	*g = (struct green_node){
		.state = green_state_of(c, n, idle),
		.on = strcmp(n->power, "on") == 0 || strcmp(n->want_power, "on") == 0,
		.idle_since_ms = n->idle_since_ms,
	};
	for (unsigned f = 0; f < c->bs->cfg.n_min_on; f++)
		for (size_t k = 0; k < c->floor_hosts[f].n; k++)
			if (strcmp(c->floor_hosts[f].names[k], n->name) == 0) {
				g->floors |= UINT32_C(1) << f;
				break;
			}
	c->n_gn++;
}

/* Carry out one green decision on the node as it is now (the tick's view may be stale
 * by a verb that ran in between: then the decision is dropped). */
static void
green_apply(struct ctrl *c, const struct green_decision *d, const char *name)
{
	struct bootsvc *bs = c->bs;
	struct node_rec n;
	struct image_rec img;
	int64_t now = (int64_t)time(NULL);

	if (store_node_get(bs->store, name, &n) < 0 || n.alloc_job[0] || n.hold)
		return;
	if (d->act == GA_POWER_OFF) {
		if (strcmp(n.want_power, "on") != 0 || n.op[0])
			return;
		strcpy(n.want_power, "off");
		n.idle_since_ms = 0;
		n.retry_at_ms = 0;
	} else {
		if (strcmp(n.want_power, "off") != 0)
			return;
		if (strcmp(n.image, d->image) != 0) {
			/* A hint for another image provisions the node to it, as provision
			 * does: the newest version, pinned. */
			if (store_image_current(bs->store, d->image, &img) < 0)
				return;
			strcpy(n.image, img.name);
			strcpy(n.image_pin, img.id);
			(void)store_node_update(bs->store, &n);
		}
		strcpy(n.want_power, "on");
		if (strcmp(n.op, "power-off") == 0)
			n.op[0] = '\0';
		n.attempts = 0;
		n.retry_at_ms = 0;
	}
	(void)store_node_update_ctrl(bs->store, &n);
	(void)store_event_add(bs->store, n.name, green_act_name(d->act), d->reason, now);
	log_notice("event=green node=%s action=%s image=%s msg=\"%s\"", n.name,
	    green_act_name(d->act), d->act == GA_POWER_ON ? d->image : n.image, d->reason);
}

static void
green_run(struct ctrl *c, int64_t now)
{
	struct config *cfg = &c->bs->cfg;
	struct green_policy p = { .idle_ms = (int64_t)cfg->idle_poweroff_ms,
		.spares = c->spares, .n_spares = cfg->n_warm, .hints = c->hints,
		.n_hints = c->n_hints, .floors = c->floors, .n_floors = cfg->n_min_on };
	struct green_decision *d;
	size_t n = 0;
	int64_t wake = 0;

	/* Expired hints go: they never act again. */
	for (size_t i = 0; i < c->n_hints;)
		if (c->hints[i].until_ms <= now)
			c->hints[i] = c->hints[--c->n_hints];
		else
			i++;
	if (c->gn_oom || c->n_gn == 0)
		return;
	for (size_t i = 0; i < c->n_gn; i++) {
		c->gn[i].name = c->gnames[i];
		c->gn[i].image = c->gimages[i];
	}
	d = calloc(c->n_gn, sizeof(*d));
	if (!d || green_decide(c->gn, c->n_gn, &p, now, d, &n, &wake) < 0) {
		free(d);
		return;
	}
	for (size_t i = 0; i < n; i++)
		green_apply(c, &d[i], c->gnames[d[i].node]);
	if (n)
		ctrl_kick(c);
	else if (wake && (c->next_wake_ms == 0 || wake < c->next_wake_ms))
		c->next_wake_ms = wake;
	free(d);
}

int
ctrl_expect(struct ctrl *c, const char *image, unsigned count, int64_t within_ms)
{
	int64_t until = now_ms() + within_ms;
	size_t i;

	for (i = 0; i < c->n_hints; i++)
		if (strcmp(c->hints[i].image, image) == 0)
			break;
	if (count == 0) {
		if (i < c->n_hints)
			c->hints[i] = c->hints[--c->n_hints];
		return 0;
	}
	if (i == c->n_hints) {
		if (c->n_hints == MAX_HINTS)
			return -E2BIG;
		c->n_hints++;
	}
	(void)snprintf(c->hints[i].image, sizeof(c->hints[i].image), "%s", image);
	c->hints[i].count = count;
	c->hints[i].until_ms = until;
	ctrl_kick(c);
	return 0;
}

size_t
ctrl_hints(struct ctrl *c, const struct green_hint **ret)
{
	*ret = c->hints;
	return c->n_hints;
}

/* Energy (issue #7): each node's state since the last pass, at its measured or modelled
 * draw, added to its totals and its image's, in one transaction per pass. */
static enum energy_state
energy_state_of(const struct node_rec *n)
{
	static const char *const booting[] = { "powering-on", "pxe", "loading", "imaging" };

	if (strcmp(n->power, "off") == 0 || strcmp(n->phase, "off") == 0)
		return ES_OFF;
	if (strcmp(n->op, "booting") == 0)
		return ES_BOOTING;
	for (size_t i = 0; i < ELEMENTSOF(booting); i++)
		if (strcmp(n->phase, booting[i]) == 0)
			return ES_BOOTING;
	if (strcmp(n->power, "on") == 0 || strcmp(n->phase, "up") == 0)
		return ES_ON;
	return ES_UNKNOWN;
}

struct energy_ctx {
	struct ctrl *c;
	struct energy_model model;
	int64_t now;
};

static int
energy_node(const struct node_rec *n, void *userdata)
{
	struct energy_ctx *e = userdata;
	struct store *st = e->c->bs->store;
	struct energy_totals d = { 0 };
	struct energy_rec rec;
	enum energy_state s = energy_state_of(n);

	(void)energy_rec_load(st, n->name, e->now, &rec);
	(void)energy_add(&d, &e->model, s, s == ES_OFF ? 0 : rec.last_w, rec.baseline_w,
	    e->now - rec.at_ms);
	rec.on_mj += d.on_mj;
	rec.off_mj += d.off_mj;
	rec.saved_mj += d.saved_mj;
	rec.at_ms = e->now;
	(void)store_energy_put(st, &rec);
	if (d.on_mj || d.off_mj || d.saved_mj)
		(void)store_energy_image_add(st, n->image[0] ? n->image : "(none)", d.on_mj,
		    d.off_mj, d.saved_mj);
	return 0;
}

static void
energy_run(struct ctrl *c, int64_t now)
{
	struct energy_ctx e = { .c = c, .now = now, .model = { .watts = {
		[ES_ON] = c->bs->cfg.watts_on, [ES_OFF] = c->bs->cfg.watts_off,
		[ES_BOOTING] = c->bs->cfg.watts_booting } } };

	if (store_begin(c->bs->store) < 0)
		return;
	if (store_node_foreach(c->bs->store, energy_node, &e) < 0) {
		store_rollback(c->bs->store);
		log_warning("event=energy msg=\"accounting pass failed, will retry\"");
		return;
	}
	if (store_commit(c->bs->store) < 0)
		store_rollback(c->bs->store);
}

static int
tick_node(const struct node_rec *rec, void *userdata)
{
	struct tick_ctx *t = userdata;
	struct ctrl *c = t->c;
	struct node_rec n = *rec;
	struct image_rec img;
	struct ctrl_node in = { 0 };
	struct ctrl_decision d;

	if (!n.bmc[0] || !n.bmc_creds[0])
		return 0;
	/* Health is read for every node with a BMC, managed or not. */
	if (!n.want_power[0]) {
		if (t->health && !health_busy(c, n.name, -1) &&
		    work_pending(c->work) < t->inflight_cap)
			submit_health(c, &n);
		return 0;
	}
	in.want = strcmp(n.want_power, "on") == 0 ? CW_ON : CW_OFF;
	in.hold = n.hold;
	in.has_bmc = n.bmc[0] && n.bmc_creds[0];
	in.bmc_busy = is_busy(c, n.name);
	in.target_set = nodes_boot_image(c->bs, &n, &img) == 0;
	in.booted_is_target = in.target_set && strcmp(n.booted_image, img.id) == 0;
	in.phase = ctrl_phase_from_string(n.phase);
	/* Phases are stored in seconds: compare at that grain with the op start. */
	in.phase_at_ms = n.phase_at * 1000;
	in.power = strcmp(n.power, "on") == 0 ? CPOW_ON : strcmp(n.power, "off") == 0 ?
	    CPOW_OFF : CPOW_UNKNOWN;
	in.op = ctrl_op_from_string(n.op);
	in.op_at_ms = n.op_at_ms / 1000 * 1000;
	in.attempts = n.attempts;
	in.retry_at_ms = n.retry_at_ms;
	d = ctrl_decide(&in, &c->policy, t->now);
	apply(c, &n, &d, t);
	/* The idle clock (issue #7): started when the node turns up-and-free, stopped when
	 * it is allocated or boots; persisted so a restart keeps counting from then. */
	{
		bool idle = node_is_idle(&n, in.booted_is_target);
		if (idle != (n.idle_since_ms != 0)) {
			n.idle_since_ms = idle ? t->now : 0;
			(void)store_node_update_ctrl(c->bs->store, &n);
		}
		green_add(c, &n, idle);
	}
	if (t->health && !health_busy(c, n.name, -1) && work_pending(c->work) < t->inflight_cap)
		submit_health(c, &n);
	/* Observed power is polled at an interval (and after every action). */
	if (t->poll && !is_busy(c, n.name) && work_pending(c->work) < t->inflight_cap) {
		struct dl_err err = { 0 };
		(void)submit(c, &n, POWER_STATUS, false, false, n.op, n.attempts, NULL, NULL,
		    &err);
	}
	return 0;
}

static void
tick(struct loop *l, void *userdata)
{
	struct ctrl *c = userdata;
	struct tick_ctx t = { .c = c, .now = now_ms(),
		.inflight_cap = c->bs->cfg.ipmi_concurrency };
	int64_t next;

	(void)l;
	c->tick_timer = 0;
	c->last_tick_ms = loop_now_ms();
	c->next_wake_ms = 0;
	if (t.now - c->last_poll_ms >= (int64_t)c->bs->cfg.power_poll_ms) {
		t.poll = true;
		c->last_poll_ms = t.now;
	}
	if (c->bs->cfg.health_poll_ms &&
	    t.now - c->last_health_ms >= (int64_t)c->bs->cfg.health_poll_ms) {
		t.health = true;
		c->last_health_ms = t.now;
	}
	c->n_gn = 0;
	c->gn_oom = false;
	(void)store_node_foreach_managed(c->bs->store, tick_node, &t);
	green_run(c, t.now);
	if (t.now - c->last_energy_ms >= (int64_t)c->bs->cfg.energy_interval_ms) {
		c->last_energy_ms = t.now;
		energy_run(c, t.now);
	}
	control_events_notify(c->bs);
	/* Level-triggered: decide again at least once a second, sooner if asked. */
	next = loop_now_ms() + 1000;
	if (c->next_wake_ms && c->next_wake_ms - t.now < 1000)
		next = loop_now_ms() + (c->next_wake_ms > t.now ? (uint64_t)(c->next_wake_ms - t.now) :
		    0);
	/* A kick during this tick may have scheduled the next one already: keep the sooner. */
	if (c->tick_timer > 0) {
		if (c->tick_due_ms <= (uint64_t)next)
			return;
		loop_cancel_timer(c->bs->loop, c->tick_timer);
	}
	c->tick_due_ms = (uint64_t)next;
	c->tick_timer = loop_add_timer(c->bs->loop, (uint64_t)next, tick, c);
}

/* A kick asks for a tick soon: in 10 ms, so one burst of changes makes one tick, and not
 * sooner than MIN_TICK_GAP_MS after the last one began, because a tick reads every managed
 * node and a boot storm kicks on every phase report. A tick already due by then serves
 * the kick too: a kick never postpones one, so a steady stream of them cannot starve it. */
#define MIN_TICK_GAP_MS 100

void
ctrl_kick(struct ctrl *c)
{
	uint64_t due;

	if (!c || c->stopping)
		return;
	due = loop_now_ms() + 10;
	if (c->last_tick_ms && due < c->last_tick_ms + MIN_TICK_GAP_MS)
		due = c->last_tick_ms + MIN_TICK_GAP_MS;
	if (c->tick_timer > 0) {
		if (c->tick_due_ms <= due)
			return;
		loop_cancel_timer(c->bs->loop, c->tick_timer);
	}
	c->tick_due_ms = due;
	c->tick_timer = loop_add_timer(c->bs->loop, due, tick, c);
}

int
ctrl_new(struct bootsvc *bs, struct ctrl **ret, struct dl_err *reterr)
{
	struct ctrl *c = calloc(1, sizeof(*c));
	unsigned workers;
	int r;

	if (!c)
		return -ENOMEM;
	c->bs = bs;
	ctrl_policy_default(&c->policy);
	c->policy.timeout_ms[CP_NONE] = c->policy.timeout_ms[CP_POWERING] =
	    (int64_t)bs->cfg.timeout_pxe_ms;
	c->policy.timeout_ms[CP_PXE] = (int64_t)bs->cfg.timeout_loading_ms;
	c->policy.timeout_ms[CP_LOADING] = (int64_t)bs->cfg.timeout_imaging_ms;
	c->policy.timeout_ms[CP_IMAGING] = (int64_t)bs->cfg.timeout_up_ms;
	c->policy.timeout_ms[CP_UP] = (int64_t)bs->cfg.timeout_pxe_ms;
	c->policy.max_attempts = (int)bs->cfg.boot_attempts;
	c->policy.backoff_ms = (int64_t)bs->cfg.retry_backoff_ms;
	c->policy.failed_retry_ms = (int64_t)bs->cfg.failed_retry_ms;
	/* Rules: the configured ones, else the built-in defaults (docs/health.md). */
	if (bs->cfg.n_health_rules == 0)
		health_rules_init_default(&c->rules);
	for (unsigned i = 0; i < bs->cfg.n_health_rules; i++) {
		r = health_rules_add(&c->rules, bs->cfg.health_rules[i], reterr);
		if (r < 0) {
			free(c);
			return dl_err_prefix(reterr, "health_rule '%s'", bs->cfg.health_rules[i]), r;
		}
	}
	for (unsigned i = 0; i < bs->cfg.n_warm; i++) {
		(void)snprintf(c->spares[i].image, sizeof(c->spares[i].image), "%s",
		    bs->cfg.warm[i].image);
		c->spares[i].count = bs->cfg.warm[i].count;
	}
	for (unsigned i = 0; i < bs->cfg.n_min_on; i++) {
		(void)snprintf(c->floors[i].name, sizeof(c->floors[i].name), "%s",
		    bs->cfg.min_on[i].group);
		c->floors[i].count = bs->cfg.min_on[i].count;
		r = hostlist_parse(bs->cfg.min_on[i].hosts, &c->floor_hosts[i], reterr);
		if (r < 0) {
			dl_err_prefix(reterr, "min_on '%s'", bs->cfg.min_on[i].group);
			ctrl_free(c);
			return r;
		}
	}
	c->tokens_at_ms = now_ms();
	c->tokens = bs->cfg.power_on_rate;
	/* A BMC session blocks its thread for up to bmc_timeout, so a stopped BMC must not
	 * wait for a thread held by another stopped one: by default one thread per operation
	 * in flight (docs/benchmarks.md, power status). */
	workers = bs->cfg.ipmi_workers ? bs->cfg.ipmi_workers :
	    bs->cfg.ipmi_concurrency < 256 ? bs->cfg.ipmi_concurrency : 256;
	r = work_new(bs->loop, workers, 4096, &c->work);
	if (r < 0) {
		free(c);
		return dl_err_set(reterr, r, "worker pool: %s", strerror(-r));
	}
	*ret = c;
	ctrl_kick(c);
	return 0;
}

struct ctrl *
ctrl_free(struct ctrl *c)
{
	if (!c)
		return NULL;
	c->stopping = true;
	if (c->tick_timer > 0)
		loop_cancel_timer(c->bs->loop, c->tick_timer);
	c->work = work_free(c->work);
	for (unsigned i = 0; i < MAX_CONF_FLOORS; i++)
		hostlist_done(&c->floor_hosts[i]);
	free(c->gn);
	free(c->gnames);
	free(c->gimages);
	free(c);
	return NULL;
}
