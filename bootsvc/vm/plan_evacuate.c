/* SPDX-License-Identifier: MIT */
/* Evacuate: empty doomed hosts first, then risky ones, then drained ones (or just
 * policy.only_host), each VM to the fullest receiver it fits on; a doomed host that ends
 * empty is powered off after its VMs' steps (docs/vm.md "Planner"). */
#include <errno.h>
#include <stdlib.h>

#include "vm/plan_state.h"

static enum plan_cause
cause_of(const struct plan_host *x)
{
	if (x->health == PLAN_DOOMED)
		return PLAN_CAUSE_DOOMED;
	if (x->health == PLAN_RISKY)
		return PLAN_CAUSE_RISKY;
	return x->drain ? PLAN_CAUSE_DRAIN : PLAN_CAUSE_MANUAL;
}

static int
empty_host(struct plan_state *st, struct plan_fit *fit, size_t h, size_t *buf)
{
	const struct plan_host *x = &st->hosts[h];
	enum plan_cause cause = cause_of(x);
	size_t n = plan_state_vms_largest(st, h, buf);
	int r;

	for (size_t i = 0; i < n; i++) {
		size_t v = buf[i], to;

		/* pinned, or on a host nobody can reach: it stays, and the host is not empty */
		if (st->vms[v].pinned || !x->usable) {
			st->unplaced++;
			continue;
		}
		if (plan_state_capped(st)) {
			st->deferred++;
			continue;
		}
		to = plan_fit_find(fit, st, v);
		if (to == SIZE_MAX) {
			st->unplaced++;
			continue;
		}
		r = plan_state_move(st, v, to, cause);
		if (r < 0)
			return r;
		plan_fit_update(fit, st, to, true);
	}
	if (x->health == PLAN_DOOMED && x->usable && st->n_on[h] == 0)
		return plan_state_power_off(st, h, PLAN_CAUSE_DOOMED);
	return 0;
}

int
plan_evacuate(struct plan_state *st)
{
	size_t n = st->n_hosts ? st->n_hosts : 1, n_src = 0, n_recv = 0, widest = 1;
	_cleanup_free_ size_t *src = calloc(n, sizeof(*src));
	_cleanup_free_ size_t *recv = calloc(n, sizeof(*recv));
	_cleanup_free_ bool *is_src = calloc(n, sizeof(*is_src));
	_cleanup_free_ size_t *buf = NULL;
	struct plan_fit fit;
	int r;

	if (!src || !recv || !is_src)
		return -ENOMEM;
	if (st->p->only_host != SIZE_MAX) {
		src[n_src++] = st->p->only_host;
	} else {
		/* doomed first (it may die any moment), then risky, then drained */
		for (size_t h = 0; h < st->n_hosts; h++)
			if (st->hosts[h].health == PLAN_DOOMED)
				src[n_src++] = h;
		for (size_t h = 0; h < st->n_hosts; h++)
			if (st->hosts[h].health == PLAN_RISKY)
				src[n_src++] = h;
		for (size_t h = 0; h < st->n_hosts; h++)
			if (st->hosts[h].health == PLAN_OK && st->hosts[h].drain)
				src[n_src++] = h;
	}
	for (size_t i = 0; i < n_src; i++) {
		is_src[src[i]] = true;
		if (st->n_before[src[i]] > widest)
			widest = st->n_before[src[i]];
	}
	for (size_t h = 0; h < st->n_hosts; h++)
		if (!is_src[h] && plan_state_receiver(st, h))
			recv[n_recv++] = h;
	r = plan_state_sort_fullest(st, recv, n_recv);
	if (r < 0)
		return r;
	buf = calloc(widest, sizeof(*buf));
	if (!buf)
		return -ENOMEM;
	r = plan_fit_init(&fit, st, recv, n_recv);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n_src && r >= 0; i++)
		r = empty_host(st, &fit, src[i], buf);
	plan_fit_done(&fit);
	return r;
}
