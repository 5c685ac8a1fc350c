/* SPDX-License-Identifier: MIT */
/* Thermal: a host above hot_c sheds the fewest VMs that bring its modelled temperature
 * below hot_c, each to the coolest receiver that stays below cool_c with it
 * (docs/vm.md "Planner").
 *
 * The model: a host's temperature moves by c_per_cpu * (vCPUs moved / its cpus), down at
 * the source, up at the destination. Since a destination must stay below cool_c, and
 * cool_c < hot_c, nothing the plan moves makes a host hot, and a plan made on the state
 * this one leaves moves nothing more (hysteresis). Watcher's thermal strategy moves one VM
 * per audit; here a host sheds what the model says it must in one plan. */
#include <errno.h>
#include <stdlib.h>

#include "vm/plan_state.h"

/* Hottest first, ties by index. */
static int
cmp_hottest(const void *a, const void *b, void *ctx)
{
	const struct plan_state *st = ctx;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	if (st->temp[x] != st->temp[y])
		return st->temp[x] > st->temp[y] ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* Fewest vCPUs first, then least memory, then index: the search below walks it both ways. */
static int
cmp_smallest(const void *a, const void *b, void *ctx)
{
	const struct plan_vm *vms = ctx;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	if (vms[x].vcpus != vms[y].vcpus)
		return vms[x].vcpus < vms[y].vcpus ? -1 : 1;
	if (vms[x].mem_mib != vms[y].mem_mib)
		return vms[x].mem_mib < vms[y].mem_mib ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* The coolest receiver with a temperature where VM v fits and stays below cool_c. */
static size_t
coolest_for(const struct plan_state *st, size_t v)
{
	size_t best = SIZE_MAX;

	for (size_t d = 0; d < st->n_hosts; d++) {
		if (!st->hosts[d].has_temp || !plan_state_receiver(st, d))
			continue;
		if (best != SIZE_MAX && st->temp[d] >= st->temp[best])
			continue;
		if (!(st->temp[d] + plan_state_dtemp(st, d, st->vms[v].vcpus) < st->p->cool_c))
			continue;
		if (plan_state_fits(st, d, v))
			best = d;
	}
	return best;
}

static bool
hot(const struct plan_state *st, size_t h)
{
	return !(st->temp[h] < st->p->hot_c);
}

/* Shed from host h. cand: its movable VMs, smallest first; done: tried or moved. Each round
 * takes the smallest VM that alone brings h below hot_c, or else the largest (fewest VMs
 * in all), among those with a destination; a VM with none is not tried again (the
 * destinations only fill up as the plan goes on). */
static int
shed(struct plan_state *st, size_t h, const size_t *cand, size_t n, bool *done)
{
	while (hot(st, h)) {
		size_t pick = SIZE_MAX, to = SIZE_MAX;

		if (plan_state_capped(st))
			return 0;
		for (size_t i = 0; i < n && pick == SIZE_MAX; i++) {
			size_t v = cand[i];

			if (done[i] || st->temp[h] - plan_state_dtemp(st, h, st->vms[v].vcpus) >= st->p->hot_c)
				continue;
			to = coolest_for(st, v);
			if (to == SIZE_MAX)
				done[i] = true;
			else
				pick = i;
		}
		for (size_t i = n; i-- > 0 && pick == SIZE_MAX;) {
			if (done[i])
				continue;
			to = coolest_for(st, cand[i]);
			if (to == SIZE_MAX)
				done[i] = true;
			else
				pick = i;
		}
		if (pick == SIZE_MAX)
			return 0; /* nothing more fits anywhere cool: the host stays hot */
		done[pick] = true;
		int r = plan_state_move(st, cand[pick], to, PLAN_CAUSE_HOT);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Shed from every hot host in hosts[0..n_hot), hottest first. @ret 1 when a host that shed
 * went below cool_c (it may now receive what an earlier hot host could not place). */
static int
pass(struct plan_state *st, const size_t *hosts, size_t n_hot, size_t *cand, bool *done)
{
	bool new_receiver = false;

	for (size_t k = 0; k < n_hot; k++) {
		size_t h = hosts[k], m = 0;
		bool was_cool;
		int r;

		if (!hot(st, h))
			continue;
		for (size_t i = st->first[h]; i < st->first[h + 1]; i++) {
			size_t v = st->by_host[i];
			/* a VM without vCPUs would not cool anything by leaving */
			if (!st->vms[v].pinned && !st->moved[v] && st->vms[v].vcpus > 0)
				cand[m++] = v;
		}
		qsort_r(cand, m, sizeof(*cand), cmp_smallest, (void *)st->vms);
		for (size_t i = 0; i < m; i++)
			done[i] = false;
		was_cool = st->temp[h] < st->p->cool_c;
		r = shed(st, h, cand, m, done);
		if (r < 0)
			return r;
		if (!was_cool && st->temp[h] < st->p->cool_c && plan_state_receiver(st, h))
			new_receiver = true;
		if (plan_state_capped(st))
			break;
	}
	return new_receiver;
}

int
plan_thermal(struct plan_state *st)
{
	size_t n = st->n_hosts ? st->n_hosts : 1, n_hot = 0, widest = 1;
	_cleanup_free_ size_t *hosts = calloc(n, sizeof(*hosts));
	_cleanup_free_ size_t *cand = NULL;
	_cleanup_free_ bool *done = NULL;
	int r;

	if (!hosts)
		return -ENOMEM;
	for (size_t h = 0; h < st->n_hosts; h++) {
		if (!st->hosts[h].has_temp || !st->hosts[h].usable || st->temp[h] <= st->p->hot_c)
			continue;
		hosts[n_hot++] = h;
		if (st->n_before[h] > widest)
			widest = st->n_before[h];
	}
	qsort_r(hosts, n_hot, sizeof(*hosts), cmp_hottest, st);
	cand = calloc(widest, sizeof(*cand));
	done = calloc(widest, sizeof(*done));
	if (!cand || !done)
		return -ENOMEM;
	/* Again while a pass turned a hot host into a receiver: so the plan ends where a
	 * plan made on its end state moves nothing. Each repeat needs a host that was hot to
	 * cool below cool_c, which it does once: at most n_hot + 1 passes. */
	do
		r = pass(st, hosts, n_hot, cand, done);
	while (r > 0 && !plan_state_capped(st));
	if (r < 0)
		return r;
	/* what the cap left for a later plan: the hosts still hot */
	for (size_t k = 0; k < n_hot && plan_state_capped(st); k++)
		st->deferred += hot(st, hosts[k]);
	return 0;
}
