/* SPDX-License-Identifier: MIT */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "grow.h"
#include "log.h"
#include "macro.h"
#include "notify.h"
#include "vm/vm.h"
#include "vm/vm_exec.h"
#include "vm/vm_policy.h"
#include "vm/vm_reimage.h"

/* ---- the world ---- */

struct read_ctx {
	struct bootsvc *bs;
	struct vm_world *w;
	size_t cap_hosts, cap_vms, cap_groups;
	int err;
};

static enum plan_host_health
health_of(const char *h)
{
	if (strcmp(h, "doomed") == 0)
		return PLAN_DOOMED;
	if (strcmp(h, "risky") == 0)
		return PLAN_RISKY;
	return PLAN_OK;
}

static int
host_one(const struct vm_host_rec *h, void *userdata)
{
	struct read_ctx *rc = userdata;
	struct vm_world *w = rc->w;
	size_t cap = rc->cap_hosts;
	struct plan_host *ph;
	struct node_rec n;
	double temp;

	if (store_node_get(rc->bs->store, h->node, &n) < 0)
		return 0; /* removed meanwhile */
	if (grow((void **)&w->hosts, &cap, w->n_hosts, sizeof(*w->hosts)) < 0 ||
	    grow((void **)&w->host_names, &rc->cap_hosts, w->n_hosts, MAX_NODE_NAME) < 0)
		return -ENOMEM;
	ph = &w->hosts[w->n_hosts];
	(void)snprintf(w->host_names[w->n_hosts], MAX_NODE_NAME, "%s", h->node);
	*ph = (struct plan_host){
		.cpus = h->guest_cpus ? h->guest_cpus : h->cpus,
		.mem_mib = h->guest_memory_mib ? h->guest_memory_mib : h->memory_mib,
		.health = health_of(n.health),
		/* Only a host bootsvc reaches now, up and on, sends or receives. */
		.usable = strcmp(h->state, "connected") == 0 && strcmp(n.phase, "up") == 0 &&
		    strcmp(n.power, "off") != 0 && strcmp(n.want_power, "off") != 0,
		.drain = store_vm_drain_get(rc->bs->store, h->node, NULL, 0),
		/* An admin's node drain: no new VM; it stays on with its own (so no
		 * consolidation frees it either). */
		.closed = n.drain,
		.spare_ok = !n.hold && !n.alloc_job[0] && !n.drain,
	};
	if (vm_host_temp(rc->bs->vm, h->node, &temp)) {
		ph->has_temp = true;
		ph->temp_c = temp;
	}
	w->n_hosts++;
	return 0;
}

static int
cmp_host(const void *a, const void *b)
{
	return strcmp(*(const char (*)[MAX_NODE_NAME])a, *(const char (*)[MAX_NODE_NAME])b);
}

size_t
vm_world_host(const struct vm_world *w, const char *name)
{
	/* host_names is sorted (vm_world_read): hosts are looked up once per VM */
	size_t lo = 0, hi = w->n_hosts;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, w->host_names[mid]);

		if (c == 0)
			return mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return SIZE_MAX;
}

size_t
vm_world_vm(const struct vm_world *w, const char *name_or_uuid)
{
	for (size_t i = 0; i < w->n_vms; i++)
		if (strcmp(w->vm_names[i], name_or_uuid) == 0 ||
		    strcasecmp(w->vm_uuids[i], name_or_uuid) == 0)
			return i;
	return SIZE_MAX;
}

static int
group_index(struct read_ctx *rc, const char *g)
{
	struct vm_world *w = rc->w;

	if (!g[0])
		return -1;
	for (size_t i = 0; i < w->n_groups; i++)
		if (strcmp(w->groups[i], g) == 0)
			return (int)i;
	if (grow((void **)&w->groups, &rc->cap_groups, w->n_groups, MAX_VM_NAME) < 0)
		return -2;
	(void)snprintf(w->groups[w->n_groups], MAX_VM_NAME, "%s", g);
	return (int)w->n_groups++;
}

static int
vm_one(const struct vm_domain_rec *d, void *userdata)
{
	struct read_ctx *rc = userdata;
	struct vm_world *w = rc->w;
	size_t h = vm_world_host(w, d->host), c1 = rc->cap_vms, c2 = rc->cap_vms,
	    c3 = rc->cap_vms;
	const struct job_class *jc;
	int g;

	if (h == SIZE_MAX || !vm_domain_state_active(d->state))
		return 0; /* a shut-off domain takes nothing and moves with nothing */
	if (grow((void **)&w->vms, &c1, w->n_vms, sizeof(*w->vms)) < 0 ||
	    grow((void **)&w->vm_names, &c2, w->n_vms, MAX_VM_NAME) < 0 ||
	    grow((void **)&w->risky_ok, &c3, w->n_vms, sizeof(*w->risky_ok)) < 0 ||
	    grow((void **)&w->vm_uuids, &rc->cap_vms, w->n_vms, UUID_STR_LEN) < 0)
		return -ENOMEM;
	if ((g = group_index(rc, d->group)) < -1)
		return -ENOMEM;
	(void)snprintf(w->vm_names[w->n_vms], MAX_VM_NAME, "%s", d->name);
	(void)snprintf(w->vm_uuids[w->n_vms], UUID_STR_LEN, "%s", d->uuid);
	jc = d->job_class[0] ? config_class(&rc->bs->cfg, d->job_class) : NULL;
	w->risky_ok[w->n_vms] = jc && jc->allow_risky;
	w->vms[w->n_vms] = (struct plan_vm){
		.host = h,
		.vcpus = d->vcpus ? d->vcpus : 1,
		/* rounded up: memory is never overcommitted, not even by a rounding */
		.mem_mib = (d->memory_kib + 1023) / 1024,
		.group = g,
		.pinned = d->pinned,
	};
	w->n_vms++;
	return 0;
}

/* A VM an unfinished plan moves: on its destination already, and pinned there. */
static int
step_one(const struct vm_step_rec *st, void *userdata)
{
	struct read_ctx *rc = userdata;
	struct vm_world *w = rc->w;
	size_t v, dst;

	if (strcmp(st->action, "migrate") != 0 || (strcmp(st->state, "pending") != 0 &&
	    strcmp(st->state, "running") != 0))
		return 0;
	v = vm_world_vm(w, st->vm_uuid);
	dst = vm_world_host(w, st->dst);
	if (v == SIZE_MAX)
		return 0;
	if (dst != SIZE_MAX)
		w->vms[v].host = dst;
	w->vms[v].pinned = true;
	return 0;
}

int
vm_world_read(struct bootsvc *bs, struct vm_world *ret, struct dl_err *reterr)
{
	struct read_ctx rc = { .bs = bs, .w = ret };
	int r;

	memset(ret, 0, sizeof(*ret));
	if ((r = store_vm_host_foreach(bs->store, host_one, &rc)) < 0)
		goto fail;
	/* Sorted by name, the plan_host array with it (names are unique keys). */
	if (ret->n_hosts > 1) {
		struct { char name[MAX_NODE_NAME]; struct plan_host h; } *tmp;

		tmp = calloc(ret->n_hosts, sizeof(*tmp));
		if (!tmp) {
			r = -ENOMEM;
			goto fail;
		}
		for (size_t i = 0; i < ret->n_hosts; i++) {
			memcpy(tmp[i].name, ret->host_names[i], MAX_NODE_NAME);
			tmp[i].h = ret->hosts[i];
		}
		qsort(tmp, ret->n_hosts, sizeof(*tmp), cmp_host);
		for (size_t i = 0; i < ret->n_hosts; i++) {
			memcpy(ret->host_names[i], tmp[i].name, MAX_NODE_NAME);
			ret->hosts[i] = tmp[i].h;
		}
		free(tmp);
	}
	for (size_t i = 0; i < ret->n_hosts; i++)
		ret->hosts[i].name = ret->host_names[i];
	if ((r = store_vm_domain_foreach(bs->store, NULL, vm_one, &rc)) < 0 ||
	    (r = store_vm_step_foreach(bs->store, 0, step_one, &rc)) < 0)
		goto fail;
	for (size_t i = 0; i < ret->n_vms; i++)
		ret->vms[i].name = ret->vm_names[i];
	return 0;
fail:
	vm_world_done(ret);
	return dl_err_set(reterr, r == -ENOMEM ? -ENOMEM : -EIO, "%s",
	    r == -ENOMEM ? "out of memory reading the VM hosts" : "reading the VM hosts failed");
}

void
vm_world_done(struct vm_world *w)
{
	free(w->hosts);
	free(w->vms);
	free(w->host_names);
	free(w->vm_names);
	free(w->vm_uuids);
	free(w->groups);
	free(w->risky_ok);
	memset(w, 0, sizeof(*w));
}

/* ---- plans ---- */

struct plan_policy
vm_policy_of(const struct bootsvc *bs, enum plan_strategy s)
{
	const struct config *cfg = &bs->cfg;

	return (struct plan_policy){
		.strategy = s,
		.cpu_ratio = cfg->vm_cpu_ratio,
		.warm_spares = cfg->vm_warm_spares,
		.hot_c = cfg->vm_thermal_hot,
		.cool_c = cfg->vm_thermal_cool,
		.c_per_cpu = cfg->vm_thermal_c_per_cpu,
		.max_steps = cfg->vm_plan_max_steps,
		.only_host = SIZE_MAX,
	};
}

static unsigned
priority_of(enum plan_cause c)
{
	switch (c) {
	case PLAN_CAUSE_DOOMED:
	case PLAN_CAUSE_RISKY:
	case PLAN_CAUSE_DRAIN:
		return 0;
	case PLAN_CAUSE_HOT:
		return 1;
	default:
		return 2;
	}
}

void
vm_step_reason(const struct vm_world *w, const struct plan_step *st, char *buf, size_t size)
{
	const struct plan_host *from = &w->hosts[st->from];
	const char *cause = plan_cause_to_string(st->cause);

	switch (st->cause) {
	case PLAN_CAUSE_DOOMED:
	case PLAN_CAUSE_RISKY:
		(void)snprintf(buf, size, "%s: %s is %s", cause, from->name, cause);
		break;
	case PLAN_CAUSE_DRAIN:
		(void)snprintf(buf, size, "drain: %s is drained", from->name);
		break;
	case PLAN_CAUSE_HOT:
		(void)snprintf(buf, size, "hot: %s at %.0f C, over %.0f C", from->name,
		    from->has_temp ? from->temp_c : 0.0, w->hot_c);
		break;
	case PLAN_CAUSE_CONSOLIDATE:
		(void)snprintf(buf, size, "consolidate: frees %s", from->name);
		break;
	default:
		(void)snprintf(buf, size, "%s", cause ? cause : "manual");
		break;
	}
}

int
vm_policy_store(struct bootsvc *bs, const struct vm_world *w, const struct plan *p,
    const char *strategy, const char *origin, const char *why, int64_t *ret_id,
    struct dl_err *reterr)
{
	struct vm_plan_rec rec = { 0 };
	struct vm_step_rec *steps;
	int64_t now_ms = (int64_t)time(NULL) * 1000;
	char ev[MAX_REASON];
	int r;

	*ret_id = 0;
	if (p->n_steps == 0)
		return 0;
	if (p->n_steps > MAX_VM_PLAN_STEPS)
		return dl_err_set(reterr, -E2BIG, "the plan has %zu steps, more than %d: ask "
		    "for less (vm_plan_max_steps)", p->n_steps, MAX_VM_PLAN_STEPS);
	steps = calloc(p->n_steps, sizeof(*steps));
	if (!steps)
		return dl_err_set(reterr, -ENOMEM, "out of memory for the plan's steps");
	for (size_t i = 0; i < p->n_steps; i++) {
		const struct plan_step *ps = &p->steps[i];
		struct vm_step_rec *st = &steps[i];

		st->seq = (unsigned)i;
		st->priority = priority_of(ps->cause);
		(void)snprintf(st->src, sizeof(st->src), "%s", w->host_names[ps->from]);
		strcpy(st->state, "pending");
		vm_step_reason(w, ps, st->reason, sizeof(st->reason));
		if (ps->action == PLAN_STEP_POWER_OFF) {
			strcpy(st->action, "power-off");
			continue;
		}
		strcpy(st->action, "migrate");
		(void)snprintf(st->dst, sizeof(st->dst), "%s", w->host_names[ps->to]);
		(void)snprintf(st->vm_uuid, sizeof(st->vm_uuid), "%s", w->vm_uuids[ps->vm]);
		(void)snprintf(st->vm_name, sizeof(st->vm_name), "%s", w->vm_names[ps->vm]);
		st->mem_mib = w->vms[ps->vm].mem_mib;
	}
	(void)snprintf(rec.strategy, sizeof(rec.strategy), "%s", strategy);
	(void)snprintf(rec.origin, sizeof(rec.origin), "%s", origin);
	strcpy(rec.state, "pending");
	(void)snprintf(rec.reason, sizeof(rec.reason), "%s", why ? why : "");
	rec.created_ms = now_ms;
	rec.migrations = (unsigned)p->eff.migrations;
	rec.hosts_freed = (unsigned)p->eff.hosts_freed;
	rec.unplaced = (unsigned)p->eff.unplaced;
	rec.mib_moved = p->eff.mib_moved;
	rec.peak_c_before = p->eff.peak_c_before;
	rec.peak_c_after = p->eff.peak_c_after;
	r = store_vm_plan_add(bs->store, &rec, steps, p->n_steps);
	if (r < 0) {
		free(steps);
		return dl_err_set(reterr, r, "storing the plan failed");
	}
	*ret_id = rec.id;
	(void)snprintf(ev, sizeof(ev), "plan %lld %s (%s): %zu migrations, %zu hosts freed, "
	    "%lld MiB, %zu unplaced%s%s", (long long)rec.id, strategy, origin,
	    p->eff.migrations, p->eff.hosts_freed, (long long)p->eff.mib_moved,
	    p->eff.unplaced, why && why[0] ? ": " : "", why ? why : "");
	/* the event goes on each host the plan touches, once */
	for (size_t i = 0; i < w->n_hosts; i++) {
		bool touched = false;

		for (size_t k = 0; !touched && k < p->n_steps; k++)
			touched = p->steps[k].from == i ||
			    (p->steps[k].action == PLAN_STEP_MIGRATE && p->steps[k].to == i);
		if (touched)
			(void)store_event_add(bs->store, w->host_names[i], "vm-plan", ev,
			    now_ms / 1000);
	}
	log_notice("event=vm_plan id=%lld strategy=%s origin=%s steps=%zu migrations=%zu "
	    "hosts_freed=%zu mib=%lld unplaced=%zu reason=\"%s\"", (long long)rec.id, strategy,
	    origin, p->n_steps, p->eff.migrations, p->eff.hosts_freed,
	    (long long)p->eff.mib_moved, p->eff.unplaced, why ? why : "");
	free(steps);
	notify(&bs->notify, NOTIFY_HISTORY);
	vm_exec_kick(bs->vm);
	return 0;
}

int
vm_policy_run(struct bootsvc *bs, enum plan_strategy s, const char *only_host,
    const char *origin, const char *why, bool apply, struct vm_world *ret_w,
    struct plan *ret, int64_t *ret_id, struct dl_err *reterr)
{
	struct plan_policy pol = vm_policy_of(bs, s);
	int r;

	*ret_id = 0;
	memset(ret, 0, sizeof(*ret));
	if ((r = vm_world_read(bs, ret_w, reterr)) < 0)
		return r;
	ret_w->hot_c = pol.hot_c;
	if (only_host && only_host[0]) {
		pol.only_host = vm_world_host(ret_w, only_host);
		if (pol.only_host == SIZE_MAX) {
			vm_world_done(ret_w);
			return dl_err_set(reterr, -ENOENT, "no VM host '%s'", only_host);
		}
	}
	if ((r = plan_make(ret_w->hosts, ret_w->n_hosts, ret_w->vms, ret_w->n_vms, &pol, ret,
	    reterr)) < 0) {
		vm_world_done(ret_w);
		return r;
	}
	if (apply && (r = vm_policy_store(bs, ret_w, ret, plan_strategy_to_string(s), origin,
	    why, ret_id, reterr)) < 0) {
		plan_free(ret);
		vm_world_done(ret_w);
		return r;
	}
	return 0;
}

/* ---- triggers ---- */

struct in_use {
	const char *node;
	bool yes;
};

static int
dom_active(const struct vm_domain_rec *d, void *userdata)
{
	struct in_use *u = userdata;

	if (vm_domain_state_active(d->state))
		u->yes = true;
	return u->yes ? -1 : 0;
}

/* Plan node's evacuation as if it were drained: the plan in *ret on the world *ret_w, or
 * -ENOENT when node is no VM host. risky: as vm_policy_evacuate(). */
static int
evacuate_plan(struct bootsvc *bs, const char *node, bool risky, struct vm_world *ret_w,
    struct plan *ret, struct dl_err *reterr)
{
	struct plan_policy pol = vm_policy_of(bs, PLAN_EVACUATE);
	int r;

	memset(ret, 0, sizeof(*ret));
	if ((r = vm_world_read(bs, ret_w, reterr)) < 0)
		return r;
	pol.only_host = vm_world_host(ret_w, node);
	if (pol.only_host == SIZE_MAX) {
		vm_world_done(ret_w);
		return dl_err_set(reterr, -ENOENT, "no VM host '%s'", node);
	}
	/* planned as drained, whether or not the drain is written yet */
	ret_w->hosts[pol.only_host].drain = true;
	/* A risky host keeps the VMs whose job class takes risky nodes, as the allocator
	 * would give that class's jobs a risky node (config `class ... risky=yes`). */
	for (size_t i = 0; risky && i < ret_w->n_vms; i++)
		if (ret_w->vms[i].host == pol.only_host && ret_w->risky_ok[i])
			ret_w->vms[i].pinned = true;
	if ((r = plan_make(ret_w->hosts, ret_w->n_hosts, ret_w->vms, ret_w->n_vms, &pol, ret,
	    reterr)) < 0) {
		vm_world_done(ret_w);
		return r;
	}
	return 0;
}

int
vm_policy_evacuate(struct bootsvc *bs, const char *node, const char *origin, const char *why,
    bool risky, bool apply, struct vm_world *ret_w, struct plan *ret, int64_t *ret_id,
    struct dl_err *reterr)
{
	int r;

	*ret_id = 0;
	if ((r = evacuate_plan(bs, node, risky, ret_w, ret, reterr)) < 0 || !apply)
		return r;
	/* Drained first: it receives nothing from now on, whatever the plan manages. */
	if ((r = store_vm_drain_set(bs->store, node, true, why)) < 0 ||
	    (r = vm_policy_store(bs, ret_w, ret, "evacuate", origin, why, ret_id, reterr)) < 0) {
		plan_free(ret);
		vm_world_done(ret_w);
		return r == -ENOENT ? dl_err_set(reterr, r, "no node '%s'", node) : r;
	}
	return 0;
}

bool
vm_reason_is(const char *reason, const char *verdict)
{
	size_t n = strlen(verdict);

	return strncmp(reason, verdict, n) == 0 && reason[n] == ':';
}

void
vm_policy_keep_drained(struct bootsvc *bs, const char *node)
{
	struct in_use u = { .node = node };
	char reason[MAX_REASON], why[MAX_REASON];
	struct dl_err err = { 0 };
	struct vm_world w;
	struct plan p;
	int64_t id;

	if (!store_vm_drain_get(bs->store, node, reason, sizeof(reason)))
		return;
	/* the common case, a drained host that is empty, reads one host's rows */
	(void)store_vm_domain_foreach(bs->store, node, dom_active, &u);
	if (!u.yes)
		return;
	/* VMs pinned by an unfinished plan (one moving them already) get no step, nor do
	 * those a risky host keeps: an empty plan is not stored, so a host whose VMs all
	 * stay for good costs a plan's arithmetic per listing and writes nothing. */
	if (evacuate_plan(bs, node, vm_reason_is(reason, "risky"), &w, &p, &err) < 0) {
		log_err("event=vm_evacuate node=%s msg=\"kept drained: no plan: %s\"", node,
		    err.msg);
		return;
	}
	/* cut: the drain's reason fills the buffer it was read into */
	(void)snprintf(why, sizeof(why), "kept drained (%.*s)", MAX_REASON - 20, reason);
	if (vm_policy_store(bs, &w, &p, "evacuate", "drain", why, &id, &err) < 0)
		log_err("event=vm_evacuate node=%s msg=\"kept drained: plan not stored: %s\"",
		    node, err.msg);
	else if (id)
		log_notice("event=vm_evacuate node=%s plan=%lld migrations=%zu msg=\"VMs listed "
		    "on a drained host move off again\"", node, (long long)id, p.n_steps);
	plan_free(&p);
	vm_world_done(&w);
}

void
vm_policy_health(struct bootsvc *bs, const char *node, const char *health, const char *why)
{
	struct vm_host_rec h;
	struct vm_world w;
	struct plan p;
	struct dl_err err = { 0 };
	char reason[MAX_REASON];
	int64_t id;

	if (store_vm_host_get(bs->store, node, &h) < 0)
		return;
	/* A host bootsvc cannot reach moves nothing: its VMs are left where they are (and
	 * it is not drained for an outage of its libvirtd, which comes back by itself). */
	if (strcmp(h.state, "connected") != 0) {
		log_notice("event=vm_evacuate node=%s msg=\"not evacuated: its libvirt is %s\"",
		    node, h.state);
		return;
	}
	/* "risky: <reasons>": the health evaluator's reasons begin so already (eval.c) */
	if (vm_reason_is(why, health))
		(void)snprintf(reason, sizeof(reason), "%s", why);
	else
		(void)snprintf(reason, sizeof(reason), "%s: %s", health, why);
	if (vm_policy_evacuate(bs, node, "health", reason, strcmp(health, "risky") == 0, true,
	    &w, &p, &id, &err) < 0) {
		log_err("event=vm_evacuate node=%s msg=\"no plan: %s\"", node, err.msg);
		return;
	}
	if (p.eff.unplaced)
		log_warning("event=vm_evacuate node=%s plan=%lld unplaced=%zu msg=\"%zu VMs fit "
		    "nowhere and stay\"", node, (long long)id, p.eff.unplaced, p.eff.unplaced);
	plan_free(&p);
	vm_world_done(&w);
}

void
vm_policy_health_ok(struct bootsvc *bs, const char *node)
{
	char reason[MAX_REASON];

	if (!store_vm_drain_get(bs->store, node, reason, sizeof(reason)) ||
	    (!vm_reason_is(reason, "risky") && !vm_reason_is(reason, "doomed")))
		return;
	(void)store_vm_drain_set(bs->store, node, false, "");
	(void)store_event_add(bs->store, node, "undrain", "healthy again", (int64_t)time(NULL));
	log_notice("event=vm_drain node=%s drain=no reason=\"healthy again after %s\"", node,
	    reason);
}

struct unfinished {
	bool strategy[_PLAN_STRATEGY_MAX];
};

static int
plan_unfinished(const struct vm_plan_rec *p, void *userdata)
{
	struct unfinished *u = userdata;
	enum plan_strategy s = plan_strategy_from_string(p->strategy);

	if (s >= 0 && s < _PLAN_STRATEGY_MAX)
		u->strategy[s] = true;
	return 0;
}

static void
periodic(struct bootsvc *bs, enum plan_strategy s, const char *why)
{
	struct vm_world w;
	struct plan p;
	struct dl_err err = { 0 };
	int64_t id;

	if (vm_policy_run(bs, s, NULL, s == PLAN_THERMAL ? "thermal" : "green", why, true, &w,
	    &p, &id, &err) < 0) {
		log_err("event=vm_balance strategy=%s msg=\"no plan: %s\"",
		    plan_strategy_to_string(s), err.msg);
		return;
	}
	plan_free(&p);
	vm_world_done(&w);
}

void
vm_policy_tick(struct bootsvc *bs, int64_t now_ms, int64_t *last_ms)
{
	struct unfinished u = { 0 };
	const struct config *cfg = &bs->cfg;

	if (!cfg->vm_balance_interval_ms ||
	    now_ms - *last_ms < (int64_t)cfg->vm_balance_interval_ms)
		return;
	*last_ms = now_ms;
	if (store_vm_plan_foreach(bs->store, true, plan_unfinished, &u) < 0)
		return;
	if (cfg->vm_thermal_hot > 0 && !u.strategy[PLAN_THERMAL])
		periodic(bs, PLAN_THERMAL, "a host over vm_thermal_hot");
	/* consolidation waits for evacuations and thermal moves: it packs what they leave */
	if (cfg->vm_consolidate && !u.strategy[PLAN_CONSOLIDATE] && !u.strategy[PLAN_THERMAL] &&
	    !u.strategy[PLAN_EVACUATE])
		periodic(bs, PLAN_CONSOLIDATE, "packing VMs so that emptied hosts power off");
}

int
vm_policy_replace(void *userdata, const struct vm_step_rec *failed, char *new_dst, size_t size)
{
	struct bootsvc *bs = userdata;
	struct plan_policy pol = vm_policy_of(bs, PLAN_EVACUATE);
	struct dl_err err = { 0 };
	struct vm_world w;
	bool *exclude;
	size_t v, to, dst;
	int r = -ENOSPC;

	if (vm_world_read(bs, &w, &err) < 0)
		return -EIO;
	v = vm_world_vm(&w, failed->vm_uuid);
	exclude = calloc(w.n_hosts ? w.n_hosts : 1, sizeof(*exclude));
	if (v != SIZE_MAX && exclude) {
		/* the world pins it at the failed destination: it is still on its source */
		w.vms[v].host = vm_world_host(&w, failed->src);
		w.vms[v].pinned = false;
		if ((dst = vm_world_host(&w, failed->dst)) != SIZE_MAX)
			exclude[dst] = true;
		if (w.vms[v].host != SIZE_MAX) {
			to = plan_place_one(w.hosts, w.n_hosts, w.vms, w.n_vms, v, exclude, &pol);
			if (to != SIZE_MAX) {
				(void)snprintf(new_dst, size, "%s", w.host_names[to]);
				r = 0;
			}
		}
	}
	free(exclude);
	vm_world_done(&w);
	return r;
}

static int
step_touches(const struct vm_step_rec *st, void *userdata)
{
	struct in_use *u = userdata;

	if (strcmp(st->action, "migrate") == 0 && (strcmp(st->state, "pending") == 0 ||
	    strcmp(st->state, "running") == 0) &&
	    (strcmp(st->src, u->node) == 0 || strcmp(st->dst, u->node) == 0))
		u->yes = true;
	return u->yes ? -1 : 0;
}

bool
vm_host_in_use(struct bootsvc *bs, const char *node)
{
	struct in_use u = { .node = node };
	struct vm_host_rec h;

	if (store_vm_host_get(bs->store, node, &h) < 0)
		return false;
	(void)store_vm_domain_foreach(bs->store, node, dom_active, &u);
	if (!u.yes)
		(void)store_vm_step_foreach(bs->store, 0, step_touches, &u);
	return u.yes;
}
