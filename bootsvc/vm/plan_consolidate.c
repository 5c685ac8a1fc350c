/* SPDX-License-Identifier: MIT */
/* Consolidate: free whole hosts with as few migrations as possible (docs/vm.md "Planner").
 *
 * First-fit decreasing (OpenStack Watcher's approach) repacks every VM from scratch and so
 * moves nearly all of them to free the same hosts. Here only the VMs of hosts that end
 * empty move: hosts are tried one at a time, fewest and smallest VMs first (the cheapest to
 * free); all of a host's VMs are placed tentatively, largest first, each on the first
 * receiver in fullest-first order it fits on; if one fits nowhere, the whole host is
 * rolled back and nothing of it moves. A host that received a VM is never emptied later
 * (no VM moves twice, no move is undone), and a freed host never receives; an empty host
 * never receives either, so the warm spares stay empty. Receivers fullest first means the
 * hosts least likely to be freed take the VMs. */
#include <errno.h>
#include <stdlib.h>

#include "vm/plan_state.h"

/* Cheapest to free first: fewest VMs, then least memory, then fewest vCPUs, then index. */
static int
cmp_cheapest(const void *a, const void *b, void *ctx)
{
	const struct plan_state *st = ctx;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	if (st->n_on[x] != st->n_on[y])
		return st->n_on[x] < st->n_on[y] ? -1 : 1;
	if (st->mem_used[x] != st->mem_used[y])
		return st->mem_used[x] < st->mem_used[y] ? -1 : 1;
	if (st->cpu_used[x] != st->cpu_used[y])
		return st->cpu_used[x] < st->cpu_used[y] ? -1 : 1;
	return x < y ? -1 : x > y;
}

static bool
has_pinned(const struct plan_state *st, size_t h)
{
	for (size_t i = st->first[h]; i < st->first[h + 1]; i++)
		if (st->vms[st->by_host[i]].pinned)
			return true;
	return false;
}

/* Try to free host c: 1 freed (its steps appended), 0 not (state as before), < 0 error. */
static int
try_free(struct plan_state *st, struct plan_fit *fit, bool *locked, size_t c, size_t *vbuf,
    size_t *tbuf)
{
	size_t n = plan_state_vms_largest(st, c, vbuf), placed = 0;
	int r = 0;

	plan_fit_update(fit, st, c, false);
	for (; placed < n; placed++) {
		size_t to = plan_fit_find(fit, st, vbuf[placed]);

		if (to == SIZE_MAX)
			break;
		r = plan_state_add(st, vbuf[placed], to);
		if (r < 0)
			break;
		plan_fit_update(fit, st, to, true);
		tbuf[placed] = to;
	}
	/* undo the tentative placements; on success they are made again as moves */
	for (size_t i = 0; i < placed; i++) {
		plan_state_remove(st, vbuf[i], tbuf[i]);
		plan_fit_update(fit, st, tbuf[i], true);
	}
	if (r < 0 || placed < n) {
		plan_fit_update(fit, st, c, true);
		return r;
	}
	for (size_t i = 0; i < n; i++) {
		r = plan_state_move(st, vbuf[i], tbuf[i], PLAN_CAUSE_CONSOLIDATE);
		if (r < 0)
			return r;
		plan_fit_update(fit, st, tbuf[i], true);
		locked[tbuf[i]] = true;
	}
	return 1;
}

int
plan_consolidate(struct plan_state *st)
{
	size_t n = st->n_hosts ? st->n_hosts : 1, n_cand = 0, n_recv = 0, widest = 1;
	_cleanup_free_ size_t *cand = calloc(n, sizeof(*cand));
	_cleanup_free_ size_t *recv = calloc(n, sizeof(*recv));
	_cleanup_free_ bool *locked = calloc(n, sizeof(*locked));
	_cleanup_free_ size_t *vbuf = NULL, *tbuf = NULL;
	struct plan_fit fit;
	int r = 0;

	if (!cand || !recv || !locked)
		return -ENOMEM;
	for (size_t h = 0; h < st->n_hosts; h++) {
		/* an empty host is a spare: it neither empties nor receives */
		if (!plan_state_receiver(st, h) || st->n_on[h] == 0)
			continue;
		recv[n_recv++] = h;
		if (st->hosts[h].spare_ok && !has_pinned(st, h)) {
			cand[n_cand++] = h;
			if (st->n_on[h] > widest)
				widest = st->n_on[h];
		}
	}
	r = plan_state_sort_fullest(st, recv, n_recv);
	if (r < 0)
		return r;
	qsort_r(cand, n_cand, sizeof(*cand), cmp_cheapest, st);
	vbuf = calloc(widest, sizeof(*vbuf));
	tbuf = calloc(widest, sizeof(*tbuf));
	if (!vbuf || !tbuf)
		return -ENOMEM;
	r = plan_fit_init(&fit, st, recv, n_recv);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n_cand; i++) {
		size_t c = cand[i];

		if (locked[c])
			continue;
		/* only whole hosts count: one that would not fit in the cap is left, and so
		 * is every later one, which has at least as many VMs */
		if (st->p->max_steps && st->migrations + st->n_on[c] > st->p->max_steps)
			break;
		r = try_free(st, &fit, locked, c, vbuf, tbuf);
		if (r < 0)
			break;
	}
	plan_fit_done(&fit);
	return r < 0 ? r : 0;
}
