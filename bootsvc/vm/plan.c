/* SPDX-License-Identifier: MIT */
/* The planner's entry points: the input checked, the strategy run on a working state, the
 * efficacy read from the state it ends in (plan.h; strategies in plan_<strategy>.c). */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "vm/plan.h"
#include "vm/plan_state.h"
#include "name_table.h"

/* Highest CPU overcommit accepted: far past what anyone runs (OpenStack's default is 16),
 * and small enough that ratio * cpus stays exact in a double and an int64. */
#define MAX_PLAN_CPU_RATIO 1024.0
/* Temperatures and the model's slope beyond these are a unit mix-up (kelvin, millidegrees),
 * not a reading. */
#define MAX_PLAN_TEMP_C 1000.0

/* |x| <= limit, false for NaN (bootsvc links no libm for fabs) */
static bool
within(double x, double limit)
{
	return x >= -limit && x <= limit;
}

static const char *const strategy_names[_PLAN_STRATEGY_MAX] = {
	[PLAN_EVACUATE] = "evacuate",
	[PLAN_THERMAL] = "thermal",
	[PLAN_CONSOLIDATE] = "consolidate",
};

static const char *const cause_names[_PLAN_CAUSE_MAX] = {
	[PLAN_CAUSE_DOOMED] = "doomed",
	[PLAN_CAUSE_RISKY] = "risky",
	[PLAN_CAUSE_DRAIN] = "drain",
	[PLAN_CAUSE_HOT] = "hot",
	[PLAN_CAUSE_CONSOLIDATE] = "consolidate",
	[PLAN_CAUSE_MANUAL] = "manual",
};

DEFINE_NAME_TABLE_LOOKUP(plan_strategy, enum plan_strategy, strategy_names, _PLAN_STRATEGY_INVALID)

DEFINE_NAME_TABLE_TO_STRING(plan_cause, enum plan_cause, cause_names)

static const char *
host_name(const struct plan_host *h)
{
	return h->name ? h->name : "?";
}

static int
check_policy(const struct plan_policy *p, size_t n_hosts, struct dl_err *reterr)
{
	if ((unsigned)p->strategy >= _PLAN_STRATEGY_MAX)
		return dl_err_set(reterr, -EINVAL, "plan: strategy %d is not one of evacuate, "
		    "thermal, consolidate", (int)p->strategy);
	if (!(p->cpu_ratio >= 1.0 && p->cpu_ratio <= MAX_PLAN_CPU_RATIO))
		return dl_err_set(reterr, -EINVAL, "plan: cpu_ratio %g is not between 1 and %g",
		    p->cpu_ratio, MAX_PLAN_CPU_RATIO);
	if (!(p->c_per_cpu >= 0 && p->c_per_cpu <= MAX_PLAN_TEMP_C))
		return dl_err_set(reterr, -EINVAL, "plan: c_per_cpu %g is not between 0 and %g",
		    p->c_per_cpu, MAX_PLAN_TEMP_C);
	if (p->strategy == PLAN_THERMAL) {
		if (!within(p->hot_c, MAX_PLAN_TEMP_C) || !within(p->cool_c, MAX_PLAN_TEMP_C))
			return dl_err_set(reterr, -EINVAL, "plan: thermal thresholds hot %g, "
			    "cool %g are not temperatures in C", p->hot_c, p->cool_c);
		if (!(p->cool_c < p->hot_c))
			return dl_err_set(reterr, -EINVAL, "plan: thermal cool_c %g must be below "
			    "hot_c %g (hysteresis)", p->cool_c, p->hot_c);
		if (!(p->c_per_cpu > 0))
			return dl_err_set(reterr, -EINVAL, "plan: thermal needs c_per_cpu > 0 (the "
			    "model by which shedding a VM cools a host)");
	}
	if (p->strategy == PLAN_EVACUATE && p->only_host != SIZE_MAX && p->only_host >= n_hosts)
		return dl_err_set(reterr, -EINVAL, "plan: only_host %zu is not one of the %zu "
		    "hosts", p->only_host, n_hosts);
	return 0;
}

static int
check_input(const struct plan_host *hosts, size_t n_hosts, const struct plan_vm *vms,
    size_t n_vms, struct dl_err *reterr)
{
	if (n_hosts > MAX_PLAN_HOSTS || n_vms > MAX_PLAN_VMS)
		return dl_err_set(reterr, -E2BIG, "plan: %zu hosts and %zu VMs, at most %u and %u",
		    n_hosts, n_vms, MAX_PLAN_HOSTS, MAX_PLAN_VMS);
	if ((n_hosts && !hosts) || (n_vms && !vms))
		return dl_err_set(reterr, -EINVAL, "plan: no array for %zu hosts / %zu VMs",
		    n_hosts, n_vms);
	for (size_t h = 0; h < n_hosts; h++) {
		const struct plan_host *x = &hosts[h];

		if (x->mem_mib < 0)
			return dl_err_set(reterr, -EINVAL, "plan: host '%s': memory %" PRId64
			    " MiB is negative", host_name(x), x->mem_mib);
		if ((unsigned)x->health > PLAN_DOOMED)
			return dl_err_set(reterr, -EINVAL, "plan: host '%s': health %d is not ok, "
			    "risky or doomed", host_name(x), (int)x->health);
		if (x->has_temp && !within(x->temp_c, MAX_PLAN_TEMP_C))
			return dl_err_set(reterr, -EINVAL, "plan: host '%s': temperature %g C is "
			    "not a reading", host_name(x), x->temp_c);
	}
	for (size_t v = 0; v < n_vms; v++) {
		const struct plan_vm *m = &vms[v];
		const char *name = m->name ? m->name : "?";

		if (m->host >= n_hosts)
			return dl_err_set(reterr, -EINVAL, "plan: VM '%s': host %zu is not one of "
			    "the %zu hosts", name, m->host, n_hosts);
		/* a VM's memory beyond a host's sum would overflow nothing, but half of
		 * INT64_MAX keeps every sum of a host's VMs away from overflow */
		if (m->mem_mib < 0 || m->mem_mib > INT64_MAX / 2 / MAX_PLAN_VMS)
			return dl_err_set(reterr, -EINVAL, "plan: VM '%s': memory %" PRId64
			    " MiB is out of range", name, m->mem_mib);
		if (m->group < -1)
			return dl_err_set(reterr, -EINVAL, "plan: VM '%s': anti-affinity group %d "
			    "(-1 is none)", name, m->group);
	}
	return 0;
}

static void
efficacy(const struct plan_state *st, struct plan_efficacy *e)
{
	bool temp_seen = false;

	*e = (struct plan_efficacy){ .migrations = st->migrations, .unplaced = st->unplaced,
		.deferred = st->deferred };
	for (size_t i = 0; i < st->n_steps; i++) {
		if (st->steps[i].action == PLAN_STEP_MIGRATE)
			e->mib_moved += st->vms[st->steps[i].vm].mem_mib;
		else
			e->power_offs++;
	}
	for (size_t h = 0; h < st->n_hosts; h++) {
		const struct plan_host *x = &st->hosts[h];

		e->hosts_used_before += st->n_before[h] > 0;
		e->hosts_used_after += st->n_on[h] > 0;
		e->hosts_freed += st->n_before[h] > 0 && st->n_on[h] == 0;
		e->hosts_empty_after += x->usable && st->n_on[h] == 0 && !st->off[h];
		if (!x->has_temp)
			continue;
		e->hosts_with_temp++;
		if (!temp_seen || x->temp_c > e->peak_c_before)
			e->peak_c_before = x->temp_c;
		if (!st->off[h] && (!temp_seen || st->temp[h] > e->peak_c_after))
			e->peak_c_after = st->temp[h];
		temp_seen = true;
	}
}

int
plan_make(const struct plan_host *hosts, size_t n_hosts, const struct plan_vm *vms,
    size_t n_vms, const struct plan_policy *p, struct plan *ret, struct dl_err *reterr)
{
	struct plan_state st;
	int r;

	if (!p || !ret)
		return dl_err_set(reterr, -EINVAL, "plan: no policy or no result");
	r = check_input(hosts, n_hosts, vms, n_vms, reterr);
	if (r < 0)
		return r;
	r = check_policy(p, n_hosts, reterr);
	if (r < 0)
		return r;

	r = plan_state_init(&st, hosts, n_hosts, vms, n_vms, p);
	if (r >= 0) {
		switch (p->strategy) {
		case PLAN_EVACUATE:
			r = plan_evacuate(&st);
			break;
		case PLAN_THERMAL:
			r = plan_thermal(&st);
			break;
		case PLAN_CONSOLIDATE:
			r = plan_consolidate(&st);
			break;
		default:
			r = -EINVAL; /* check_policy let it through: a programmer error */
			break;
		}
	}
	if (r < 0) {
		plan_state_done(&st);
		return dl_err_set(reterr, r, "plan: %s: %s", strategy_names[p->strategy],
		    r == -ENOMEM ? "out of memory" : "failed");
	}
	*ret = (struct plan){ 0 };
	efficacy(&st, &ret->eff);
	ret->n_steps = st.n_steps;
	ret->steps = TAKE_PTR(st.steps);
	plan_state_done(&st);
	return 0;
}

void
plan_free(struct plan *p)
{
	if (!p)
		return;
	free(p->steps);
	*p = (struct plan){ 0 };
}

size_t
plan_place_one(const struct plan_host *hosts, size_t n_hosts, const struct plan_vm *vms,
    size_t n_vms, size_t vm, const bool *exclude, const struct plan_policy *p)
{
	struct plan_policy q;
	struct plan_state st;
	size_t best = SIZE_MAX;
	double best_fill = 0;

	if (!p || vm >= n_vms || check_input(hosts, n_hosts, vms, n_vms, NULL) < 0)
		return SIZE_MAX;
	/* only the capacity rules matter here: no thresholds to check */
	q = *p;
	q.strategy = PLAN_CONSOLIDATE;
	q.only_host = SIZE_MAX;
	if (check_policy(&q, n_hosts, NULL) < 0 || vms[vm].pinned)
		return SIZE_MAX;
	if (plan_state_init(&st, hosts, n_hosts, vms, n_vms, &q) < 0) {
		plan_state_done(&st);
		return SIZE_MAX;
	}
	for (size_t h = 0; h < n_hosts; h++) {
		double f;

		if (h == vms[vm].host || (exclude && exclude[h]) || !plan_state_receiver(&st, h) ||
		    !plan_state_fits(&st, h, vm))
			continue;
		/* the fullest that fits, as the evacuation's first fit over the fullest first */
		f = plan_state_fill(&st, h);
		if (best == SIZE_MAX || f > best_fill) {
			best = h;
			best_fill = f;
		}
	}
	plan_state_done(&st);
	return best;
}
