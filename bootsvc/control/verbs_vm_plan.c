/* SPDX-License-Identifier: MIT */
/* The VM layer's verbs (issue 13, docs/vm.md "Plans"): vm.plan (a dry run: the plan and
 * what it would achieve), vm.balance (the same, stored for the executor), vm.migrate
 * (one VM, to a host or wherever fits best), host.drain (empty a host, receive nothing),
 * vm.plans (plans and their steps' progress), vm.cancel. Every plan is written before
 * anything moves (vm/vm_policy.h); the executor (vm/vm_exec.h) carries it out. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "control/control.h"
#include "log.h"
#include "proto.h"
#include "vm/vm_exec.h"
#include "vm/vm_policy.h"
#include "wallclock.h"

static json_t *
efficacy_json(const struct plan_efficacy *e)
{
	json_t *o = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}",
	    "migrations", (json_int_t)e->migrations, "hosts_freed", (json_int_t)e->hosts_freed,
	    "unplaced", (json_int_t)e->unplaced, "mib_moved", (json_int_t)e->mib_moved,
	    "hosts_used_before", (json_int_t)e->hosts_used_before,
	    "hosts_used_after", (json_int_t)e->hosts_used_after);

	/* null: no host reported a temperature */
	if (o) {
		(void)json_object_set_new(o, "peak_c_before", e->hosts_with_temp ?
		    json_real(e->peak_c_before) : json_null());
		(void)json_object_set_new(o, "peak_c_after", e->hosts_with_temp ?
		    json_real(e->peak_c_after) : json_null());
	}
	return o;
}

static json_t *
plan_json(const struct vm_world *w, const struct plan *p, const char *strategy, int64_t id)
{
	json_t *steps = json_array(), *o;

	for (size_t i = 0; steps && i < p->n_steps; i++) {
		const struct plan_step *st = &p->steps[i];
		char reason[MAX_REASON];

		vm_step_reason(w, st, reason, sizeof(reason));
		o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}",
		    "action", st->action == PLAN_STEP_MIGRATE ? "migrate" : "power-off",
		    "vm", st->action == PLAN_STEP_MIGRATE ? w->vm_names[st->vm] : "",
		    "uuid", st->action == PLAN_STEP_MIGRATE ? w->vm_uuids[st->vm] : "",
		    "from", w->host_names[st->from],
		    "to", st->action == PLAN_STEP_MIGRATE ? w->host_names[st->to] : "",
		    "cause", plan_cause_to_string(st->cause), "reason", reason);
		if (!o || json_array_append_new(steps, o) < 0) {
			json_decref(steps);
			return NULL;
		}
	}
	if (!steps)
		return NULL;
	return json_pack("{s:I,s:s,s:o,s:o*}", "id", (json_int_t)id, "strategy", strategy,
	    "steps", steps, "efficacy", efficacy_json(&p->eff));
}

static int
strategy_arg(const json_t *args, bool required, enum plan_strategy *ret,
    struct dl_err *reterr)
{
	const char *s = NULL;
	int r;

	if ((r = proto_arg_str(args, "strategy", required, 32, &s, reterr)) < 0)
		return r;
	if (!s)
		return 1; /* not given */
	*ret = plan_strategy_from_string(s);
	if ((int)*ret < 0)
		return dl_err_set(reterr, -EINVAL, "strategy '%s': evacuate, thermal or "
		    "consolidate", s);
	return 0;
}

/* The answer {"plan": {...}} of plan p (made on w, stored as id or 0), both freed. */
static int
answer(struct vm_world *w, struct plan *p, const char *strategy, int64_t id, json_t **ret)
{
	json_t *pj = plan_json(w, p, strategy, id);

	plan_free(p);
	vm_world_done(w);
	*ret = pj ? json_pack("{s:o}", "plan", pj) : NULL;
	return *ret ? 0 : -ENOMEM;
}

/* Plan s; apply: store it. */
static int
plan_and_answer(struct bootsvc *bs, enum plan_strategy s, const char *host,
    const char *origin, const char *why, bool apply, json_t **ret, struct dl_err *reterr)
{
	struct vm_world w;
	struct plan p;
	int64_t id;
	int r;

	if ((r = vm_policy_run(bs, s, host, origin, why, apply, &w, &p, &id, reterr)) < 0)
		return r;
	return answer(&w, &p, plan_strategy_to_string(s), id, ret);
}

static int
vm_plan(struct bootsvc *bs, const json_t *args, json_t **ret, struct dl_err *reterr)
{
	static const char *const allowed[] = { "strategy", "host", NULL };
	enum plan_strategy s = PLAN_CONSOLIDATE;
	const char *host = NULL;
	int r;

	if ((r = proto_args_check(args, allowed, reterr)) < 0 ||
	    (r = strategy_arg(args, true, &s, reterr)) < 0 ||
	    (r = proto_arg_str(args, "host", false, MAX_NODE_NAME - 1, &host, reterr)) < 0)
		return r;
	return plan_and_answer(bs, s, host, "admin", "dry run", false, ret, reterr);
}

static int
vm_balance(struct bootsvc *bs, const json_t *args, json_t **ret, struct dl_err *reterr)
{
	static const char *const allowed[] = { "strategy", "apply", NULL };
	enum plan_strategy s = PLAN_CONSOLIDATE;
	bool apply;
	int r;

	if ((r = proto_args_check(args, allowed, reterr)) < 0 ||
	    (r = strategy_arg(args, true, &s, reterr)) < 0 ||
	    (r = proto_arg_bool(args, "apply", false, &apply, reterr)) < 0)
		return r;
	/* without apply, the dry run vm.plan gives */
	return plan_and_answer(bs, s, NULL, "admin", apply ? "vm balance" : "dry run", apply,
	    ret, reterr);
}

static int
host_drain(struct bootsvc *bs, const json_t *args, json_t **ret, struct dl_err *reterr)
{
	static const char *const allowed[] = { "host", "undo", "reason", NULL };
	const char *host, *reason = NULL;
	struct vm_host_rec h;
	struct node_rec n;
	char why[MAX_REASON];
	bool undo;
	int r;

	if ((r = proto_args_check(args, allowed, reterr)) < 0 ||
	    (r = proto_arg_str(args, "host", true, MAX_NODE_NAME - 1, &host, reterr)) < 0 ||
	    (r = proto_arg_str(args, "reason", false, 200, &reason, reterr)) < 0 ||
	    (r = proto_arg_bool(args, "undo", false, &undo, reterr)) < 0)
		return r;
	/* A drain is the node's, kept while the host is off or booting: undone for any
	 * node; set only on a VM host (there is something to empty). */
	if (undo ? store_node_get(bs->store, host, &n) < 0 :
	    store_vm_host_get(bs->store, host, &h) < 0)
		return dl_err_set(reterr, -ENOENT, undo ? "no node '%s'" : "no VM host '%s'", host);
	(void)snprintf(why, sizeof(why), "admin%s%s", reason ? ": " : "", reason ? reason : "");
	(void)store_event_add(bs->store, host, undo ? "undrain" : "drain", why,
	    (int64_t)time(NULL));
	log_notice("event=vm_drain node=%s drain=%s reason=\"%s\"", host, undo ? "no" : "yes",
	    why);
	if (undo) {
		if ((r = store_vm_drain_set(bs->store, host, false, why)) < 0)
			return dl_err_set(reterr, r, "host '%s': drain not written", host);
		*ret = json_pack("{s:s,s:b}", "host", host, "drain", 0);
		return *ret ? 0 : -ENOMEM;
	}
	{
		struct vm_world w;
		struct plan p;
		int64_t id;

		if ((r = vm_policy_evacuate(bs, host, "admin", why, false, true, &w, &p, &id,
		    reterr)) < 0 ||
		    (r = answer(&w, &p, "evacuate", id, ret)) < 0)
			return r;
		/* a listing asked after this shows the host as the drain left it (nodectl
		 * host drain --wait, when there was nothing to plan) */
		return json_object_set_new(*ret, "answered_ms", json_integer(wall_ms())) < 0 ?
		    -ENOMEM : 0;
	}
}

static int
vm_migrate(struct bootsvc *bs, const json_t *args, json_t **ret, struct dl_err *reterr)
{
	static const char *const allowed[] = { "vm", "to", NULL };
	struct plan_policy pol = vm_policy_of(bs, PLAN_EVACUATE);
	const char *vm, *to = NULL;
	struct plan_step step = { .action = PLAN_STEP_MIGRATE, .cause = PLAN_CAUSE_MANUAL };
	struct plan p = { .steps = &step, .n_steps = 1 };
	struct vm_world w;
	bool *exclude = NULL;
	int64_t id = 0;
	size_t v, dst;
	json_t *pj;
	int r;

	if ((r = proto_args_check(args, allowed, reterr)) < 0 ||
	    (r = proto_arg_str(args, "vm", true, MAX_VM_NAME - 1, &vm, reterr)) < 0 ||
	    (r = proto_arg_str(args, "to", false, MAX_NODE_NAME - 1, &to, reterr)) < 0)
		return r;
	if ((r = vm_world_read(bs, &w, reterr)) < 0)
		return r;
	v = vm_world_vm(&w, vm);
	if (v == SIZE_MAX) {
		r = dl_err_set(reterr, -ENOENT, "no running VM '%s'", vm);
		goto out;
	}
	if (w.vms[v].pinned) {
		r = dl_err_set(reterr, -EBUSY, "VM '%s' is pinned, or an unfinished plan moves "
		    "it already (nodectl vm plans)", vm);
		goto out;
	}
	exclude = calloc(w.n_hosts, sizeof(*exclude));
	if (!exclude) {
		r = -ENOMEM;
		goto out;
	}
	if (to) {
		size_t t = vm_world_host(&w, to);

		if (t == SIZE_MAX) {
			r = dl_err_set(reterr, -ENOENT, "no VM host '%s'", to);
			goto out;
		}
		if (t == w.vms[v].host) {
			r = dl_err_set(reterr, -EALREADY, "VM '%s' runs on '%s' already", vm, to);
			goto out;
		}
		for (size_t i = 0; i < w.n_hosts; i++)
			exclude[i] = i != t;
	}
	/* The same rules as any plan: memory, the CPU ratio, groups, drain, health. */
	dst = plan_place_one(w.hosts, w.n_hosts, w.vms, w.n_vms, v, exclude, &pol);
	if (dst == SIZE_MAX) {
		r = dl_err_set(reterr, -ENOSPC, to ? "VM '%s' (%u vCPUs, %lld MiB) does not fit "
		    "on '%s' (memory, vm_cpu_ratio, its group, or the host is drained, unhealthy "
		    "or unreachable)" : "VM '%s' (%u vCPUs, %lld MiB) fits on no other host%s",
		    vm, w.vms[v].vcpus, (long long)w.vms[v].mem_mib, to ? to : "");
		goto out;
	}
	step.vm = v;
	step.from = w.vms[v].host;
	step.to = dst;
	p.eff.migrations = 1;
	p.eff.mib_moved = w.vms[v].mem_mib;
	if ((r = vm_policy_store(bs, &w, &p, "migrate", "admin", "vm migrate", &id, reterr)) < 0)
		goto out;
	pj = plan_json(&w, &p, "migrate", id);
	*ret = pj ? json_pack("{s:o}", "plan", pj) : NULL;
	r = *ret ? 0 : -ENOMEM;
out:
	free(exclude);
	vm_world_done(&w);
	return r;
}

struct plans_ctx {
	struct bootsvc *bs;
	int64_t only;
	json_t *arr;
};

static int
step_json(const struct vm_step_rec *st, void *userdata)
{
	json_t *steps = userdata;
	json_t *o = json_pack("{s:i,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:b,s:I,s:I,s:I,s:I,s:I,"
	    "s:I,s:I}",
	    "seq", (int)st->seq, "action", st->action, "vm", st->vm_name, "uuid", st->vm_uuid,
	    "src", st->src, "dst", st->dst, "state", st->state, "reason", st->reason,
	    "attempts", (int)st->attempts, "postcopy", st->postcopy,
	    "mem_mib", (json_int_t)st->mem_mib, "started_ms", (json_int_t)st->started_ms,
	    "ended_ms", (json_int_t)st->ended_ms, "data_total", (json_int_t)st->data_total,
	    "data_processed", (json_int_t)st->data_processed,
	    "data_remaining", (json_int_t)st->data_remaining,
	    "downtime_ms", (json_int_t)st->downtime_ms);

	if (!o || json_array_append_new(steps, o) < 0)
		return -ENOMEM;
	return 0;
}

static int
plan_row(const struct vm_plan_rec *p, void *userdata)
{
	struct plans_ctx *pc = userdata;
	json_t *steps, *o;

	if (pc->only && p->id != pc->only)
		return 0;
	if (!(steps = json_array()))
		return -ENOMEM;
	if (store_vm_step_foreach(pc->bs->store, p->id, step_json, steps) < 0) {
		json_decref(steps);
		return -EIO;
	}
	o = json_pack("{s:I,s:s,s:s,s:s,s:s,s:I,s:I,s:i,s:i,s:i,s:I,s:o}", "id", (json_int_t)p->id,
	    "strategy", p->strategy, "origin", p->origin, "state", p->state, "reason", p->reason,
	    "created_ms", (json_int_t)p->created_ms, "ended_ms", (json_int_t)p->ended_ms,
	    "migrations", (int)p->migrations, "hosts_freed", (int)p->hosts_freed,
	    "unplaced", (int)p->unplaced, "mib_moved", (json_int_t)p->mib_moved, "steps", steps);
	if (!o || json_array_append_new(pc->arr, o) < 0)
		return -ENOMEM;
	return 0;
}

static int
vm_plans(struct bootsvc *bs, const json_t *args, json_t **ret, struct dl_err *reterr)
{
	static const char *const allowed[] = { "id", "all", NULL };
	struct plans_ctx pc = { .bs = bs };
	const json_t *id = json_object_get(args, "id");
	bool all;
	int r;

	if ((r = proto_args_check(args, allowed, reterr)) < 0 ||
	    (r = proto_arg_bool(args, "all", false, &all, reterr)) < 0)
		return r;
	if (id && (!json_is_integer(id) || json_integer_value(id) <= 0))
		return dl_err_set(reterr, -EINVAL, "id must be a plan's number");
	pc.only = id ? json_integer_value(id) : 0;
	if (!(pc.arr = json_array()))
		return -ENOMEM;
	/* one plan by id, or every unfinished one (all: finished ones the store keeps too) */
	if ((r = store_vm_plan_foreach(bs->store, !all && !pc.only, plan_row, &pc)) < 0) {
		json_decref(pc.arr);
		return dl_err_set(reterr, r == -ENOMEM ? r : -EIO, "reading the plans failed");
	}
	if (pc.only && json_array_size(pc.arr) == 0) {
		json_decref(pc.arr);
		return dl_err_set(reterr, -ENOENT, "no plan %lld", (long long)pc.only);
	}
	*ret = json_pack("{s:o}", "plans", pc.arr);
	return *ret ? 0 : -ENOMEM;
}

static int
vm_cancel(struct bootsvc *bs, const json_t *args, json_t **ret, struct dl_err *reterr)
{
	static const char *const allowed[] = { "id", NULL };
	const json_t *id = json_object_get(args, "id");
	struct vm_plan_rec p;
	int r;

	if ((r = proto_args_check(args, allowed, reterr)) < 0)
		return r;
	if (!json_is_integer(id) || json_integer_value(id) <= 0)
		return dl_err_set(reterr, -EINVAL, "id must be a plan's number");
	if (store_vm_plan_get(bs->store, json_integer_value(id), &p) < 0)
		return dl_err_set(reterr, -ENOENT, "no plan %lld",
		    (long long)json_integer_value(id));
	if ((r = vm_exec_cancel(bs->vm, p.id, "cancelled by request")) < 0)
		return dl_err_set(reterr, r, "plan %lld: cannot cancel (%s)", (long long)p.id,
		    p.state);
	log_notice("event=vm_plan id=%lld msg=\"cancelled by request\"", (long long)p.id);
	*ret = json_pack("{s:I}", "cancelled", (json_int_t)p.id);
	return *ret ? 0 : -ENOMEM;
}

const struct control_verb verbs_vm_plan[] = {
	{ .name = "vm.plan", .fn = vm_plan },
	{ .name = "vm.balance", .fn = vm_balance },
	{ .name = "vm.migrate", .fn = vm_migrate },
	{ .name = "host.drain", .fn = host_drain },
	{ .name = "vm.plans", .fn = vm_plans },
	{ .name = "vm.cancel", .fn = vm_cancel },
	{ .name = NULL },
};
