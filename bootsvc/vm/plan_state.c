/* SPDX-License-Identifier: MIT */
/* The planner's working state: the cluster as the plan so far leaves it, the moves that
 * keep plan.h's rules, and the first-fit index over receivers (plan_state.h). */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vm/plan_state.h"

/* Slots of the (host, group) table to start with; it doubles at half full. */
#define PLAN_GROUPS_MIN 64
/* Leeway when cpu_ratio * cpus is computed in floating point: 1.5 * 4 must be 6, not 5. */
#define PLAN_CPU_EPS 1e-9
/* A closed first-fit position: below any VM's need, and far from overflow when compared. */
#define PLAN_FIT_CLOSED (INT64_MIN / 4)

static uint64_t
group_key(size_t h, int g)
{
	return (uint64_t)h << 32 | (uint32_t)g;
}

static size_t
group_slot(const struct plan_groups *gr, uint64_t key)
{
	/* splitmix64's finaliser: hosts and groups are small dense integers */
	uint64_t x = key + 0x9e3779b97f4a7c15ULL;

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	x ^= x >> 31;
	for (size_t i = x & (gr->cap - 1);; i = (i + 1) & (gr->cap - 1))
		if (gr->keys[i] == key || gr->keys[i] == UINT64_MAX)
			return i;
}

static int
groups_alloc(struct plan_groups *gr, size_t cap)
{
	gr->keys = malloc(cap * sizeof(*gr->keys));
	gr->counts = calloc(cap, sizeof(*gr->counts));
	if (!gr->keys || !gr->counts) {
		free(gr->keys);
		free(gr->counts);
		gr->keys = NULL;
		gr->counts = NULL;
		return -ENOMEM;
	}
	memset(gr->keys, 0xff, cap * sizeof(*gr->keys));
	gr->cap = cap;
	gr->used = 0;
	return 0;
}

static int
groups_grow(struct plan_groups *gr)
{
	struct plan_groups old = *gr;
	int r;

	r = groups_alloc(gr, old.cap * 2);
	if (r < 0) {
		*gr = old;
		return r;
	}
	for (size_t i = 0; i < old.cap; i++) {
		if (old.keys[i] == UINT64_MAX)
			continue;
		size_t s = group_slot(gr, old.keys[i]);
		gr->keys[s] = old.keys[i];
		gr->counts[s] = old.counts[i];
		gr->used++;
	}
	free(old.keys);
	free(old.counts);
	return 0;
}

static int
groups_add(struct plan_groups *gr, size_t h, int g)
{
	uint64_t key = group_key(h, g);
	size_t s;
	int r;

	if ((gr->used + 1) * 2 > gr->cap) {
		r = groups_grow(gr);
		if (r < 0)
			return r;
	}
	s = group_slot(gr, key);
	if (gr->keys[s] == UINT64_MAX) {
		gr->keys[s] = key;
		gr->used++;
	}
	gr->counts[s]++;
	return 0;
}

static void
groups_remove(struct plan_groups *gr, size_t h, int g)
{
	size_t s = group_slot(gr, group_key(h, g));

	if (gr->keys[s] != UINT64_MAX && gr->counts[s] > 0)
		gr->counts[s]--;
}

bool
plan_state_group_on(const struct plan_state *st, size_t h, size_t v)
{
	int g = st->vms[v].group;
	size_t s;

	if (g < 0)
		return false;
	s = group_slot(&st->groups, group_key(h, g));
	return st->groups.keys[s] != UINT64_MAX && st->groups.counts[s] > 0;
}

int
plan_state_init(struct plan_state *st, const struct plan_host *hosts, size_t n_hosts,
    const struct plan_vm *vms, size_t n_vms, const struct plan_policy *p)
{
	size_t nh = n_hosts ? n_hosts : 1, nv = n_vms ? n_vms : 1, cap;
	int r;

	*st = (struct plan_state){ .hosts = hosts, .n_hosts = n_hosts, .vms = vms,
		.n_vms = n_vms, .p = p };
	st->cpu_cap = calloc(nh, sizeof(*st->cpu_cap));
	st->cpu_used = calloc(nh, sizeof(*st->cpu_used));
	st->mem_used = calloc(nh, sizeof(*st->mem_used));
	st->n_on = calloc(nh, sizeof(*st->n_on));
	st->n_before = calloc(nh, sizeof(*st->n_before));
	st->temp = calloc(nh, sizeof(*st->temp));
	st->off = calloc(nh, sizeof(*st->off));
	st->first = calloc(nh + 1, sizeof(*st->first));
	st->cur = calloc(nv, sizeof(*st->cur));
	st->moved = calloc(nv, sizeof(*st->moved));
	st->by_host = calloc(nv, sizeof(*st->by_host));
	if (!st->cpu_cap || !st->cpu_used || !st->mem_used || !st->n_on || !st->n_before ||
	    !st->temp || !st->off || !st->first || !st->cur || !st->moved || !st->by_host)
		return -ENOMEM;
	for (cap = PLAN_GROUPS_MIN; cap < 4 * n_vms; cap *= 2)
		;
	r = groups_alloc(&st->groups, cap);
	if (r < 0)
		return r;

	for (size_t h = 0; h < n_hosts; h++) {
		/* positive: the conversion truncates, which is floor (and needs no libm) */
		st->cpu_cap[h] = (int64_t)(p->cpu_ratio * hosts[h].cpus + PLAN_CPU_EPS);
		st->temp[h] = hosts[h].has_temp ? hosts[h].temp_c : 0.0;
	}
	for (size_t v = 0; v < n_vms; v++) {
		size_t h = vms[v].host;

		st->cur[v] = h;
		st->n_before[h]++;
		r = plan_state_add(st, v, h);
		if (r < 0)
			return r;
	}
	/* CSR: counts, prefix sums, then fill in index order */
	for (size_t h = 0; h < n_hosts; h++)
		st->first[h + 1] = st->first[h] + st->n_before[h];
	{
		_cleanup_free_ size_t *fill = calloc(nh, sizeof(*fill));

		if (!fill)
			return -ENOMEM;
		for (size_t v = 0; v < n_vms; v++) {
			size_t h = vms[v].host;
			st->by_host[st->first[h] + fill[h]++] = v;
		}
	}
	return 0;
}

void
plan_state_done(struct plan_state *st)
{
	free(st->cpu_cap);
	free(st->cpu_used);
	free(st->mem_used);
	free(st->n_on);
	free(st->n_before);
	free(st->temp);
	free(st->off);
	free(st->first);
	free(st->cur);
	free(st->moved);
	free(st->by_host);
	free(st->groups.keys);
	free(st->groups.counts);
	free(st->steps);
	*st = (struct plan_state){ 0 };
}

bool
plan_state_receiver(const struct plan_state *st, size_t h)
{
	const struct plan_host *x = &st->hosts[h];

	return x->usable && !x->drain && !x->closed && x->health == PLAN_OK && !st->off[h];
}

bool
plan_state_fits(const struct plan_state *st, size_t h, size_t v)
{
	const struct plan_vm *m = &st->vms[v];

	return st->mem_used[h] + m->mem_mib <= st->hosts[h].mem_mib &&
	    st->cpu_used[h] + (int64_t)m->vcpus <= st->cpu_cap[h] && !plan_state_group_on(st, h, v);
}

int
plan_state_add(struct plan_state *st, size_t v, size_t h)
{
	const struct plan_vm *m = &st->vms[v];

	if (m->group >= 0) {
		int r = groups_add(&st->groups, h, m->group);
		if (r < 0)
			return r;
	}
	st->mem_used[h] += m->mem_mib;
	st->cpu_used[h] += m->vcpus;
	st->n_on[h]++;
	return 0;
}

void
plan_state_remove(struct plan_state *st, size_t v, size_t h)
{
	const struct plan_vm *m = &st->vms[v];

	if (m->group >= 0)
		groups_remove(&st->groups, h, m->group);
	st->mem_used[h] -= m->mem_mib;
	st->cpu_used[h] -= m->vcpus;
	st->n_on[h]--;
}

static int
step_add(struct plan_state *st, const struct plan_step *s)
{
	if (st->n_steps == st->cap_steps) {
		size_t cap = st->cap_steps ? 2 * st->cap_steps : 64;
		struct plan_step *n = reallocarray(st->steps, cap, sizeof(*n));

		if (!n)
			return -ENOMEM;
		st->steps = n;
		st->cap_steps = cap;
	}
	st->steps[st->n_steps++] = *s;
	return 0;
}

double
plan_state_dtemp(const struct plan_state *st, size_t h, unsigned vcpus)
{
	unsigned cpus = st->hosts[h].cpus ? st->hosts[h].cpus : 1;

	return st->p->c_per_cpu * (double)vcpus / cpus;
}

int
plan_state_move(struct plan_state *st, size_t v, size_t to, enum plan_cause cause)
{
	size_t from = st->cur[v];
	unsigned vcpus = st->vms[v].vcpus;
	int r;

	/* the strategies never ask this: a broken invariant, not bad input */
	assert(!st->moved[v] && !st->vms[v].pinned && from != to);
	r = step_add(st, &(struct plan_step){ .action = PLAN_STEP_MIGRATE, .cause = cause,
		.vm = v, .from = from, .to = to });
	if (r < 0)
		return r;
	r = plan_state_add(st, v, to);
	if (r < 0) {
		st->n_steps--;
		return r;
	}
	plan_state_remove(st, v, from);
	st->cur[v] = to;
	st->moved[v] = true;
	st->migrations++;
	st->temp[from] -= plan_state_dtemp(st, from, vcpus);
	st->temp[to] += plan_state_dtemp(st, to, vcpus);
	return 0;
}

int
plan_state_power_off(struct plan_state *st, size_t h, enum plan_cause cause)
{
	int r = step_add(st, &(struct plan_step){ .action = PLAN_STEP_POWER_OFF, .cause = cause,
		.vm = SIZE_MAX, .from = h, .to = h });

	if (r == 0)
		st->off[h] = true;
	return r;
}

bool
plan_state_capped(const struct plan_state *st)
{
	return st->p->max_steps && st->migrations >= st->p->max_steps;
}

double
plan_state_fill(const struct plan_state *st, size_t h)
{
	double m = st->hosts[h].mem_mib > 0 ? (double)st->mem_used[h] / st->hosts[h].mem_mib : 0;
	double c = st->cpu_cap[h] > 0 ? (double)st->cpu_used[h] / st->cpu_cap[h] : 0;

	return m > c ? m : c;
}

static int
cmp_fullest(const void *a, const void *b, void *ctx)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	const double *fill = ctx;

	if (fill[x] != fill[y])
		return fill[x] > fill[y] ? -1 : 1;
	return x < y ? -1 : x > y;
}

int
plan_state_sort_fullest(const struct plan_state *st, size_t *hosts, size_t n)
{
	_cleanup_free_ double *fill = calloc(st->n_hosts ? st->n_hosts : 1, sizeof(*fill));

	if (!fill)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		fill[hosts[i]] = plan_state_fill(st, hosts[i]);
	qsort_r(hosts, n, sizeof(*hosts), cmp_fullest, fill);
	return 0;
}

/* Largest first, so the big VMs get the big gaps: memory, then vCPUs, then index. */
static int
cmp_vm_largest(const void *a, const void *b, void *ctx)
{
	const struct plan_vm *vms = ctx;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	if (vms[x].mem_mib != vms[y].mem_mib)
		return vms[x].mem_mib > vms[y].mem_mib ? -1 : 1;
	if (vms[x].vcpus != vms[y].vcpus)
		return vms[x].vcpus > vms[y].vcpus ? -1 : 1;
	return x < y ? -1 : x > y;
}

size_t
plan_state_vms_largest(const struct plan_state *st, size_t h, size_t *out)
{
	size_t n = st->first[h + 1] - st->first[h];

	for (size_t i = 0; i < n; i++)
		out[i] = st->by_host[st->first[h] + i];
	qsort_r(out, n, sizeof(*out), cmp_vm_largest, (void *)st->vms);
	return n;
}

/* ---------------------------------------------------------------- first fit */

static int64_t
max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

/* an inner node from its two children */
static void
fit_join(struct plan_fit *f, size_t node)
{
	f->mem[node] = max64(f->mem[2 * node], f->mem[2 * node + 1]);
	f->cpu[node] = max64(f->cpu[2 * node], f->cpu[2 * node + 1]);
}

/* every ancestor of a leaf that changed */
static void
fit_pull(struct plan_fit *f, size_t node)
{
	for (node /= 2; node >= 1; node /= 2)
		fit_join(f, node);
}

int
plan_fit_init(struct plan_fit *f, const struct plan_state *st, const size_t *order, size_t n)
{
	size_t leaves = 1;

	*f = (struct plan_fit){ 0 };
	while (leaves < n)
		leaves *= 2;
	f->n = n;
	f->leaves = leaves;
	f->mem = malloc(2 * leaves * sizeof(*f->mem));
	f->cpu = malloc(2 * leaves * sizeof(*f->cpu));
	f->host = calloc(leaves, sizeof(*f->host));
	f->pos = malloc((st->n_hosts ? st->n_hosts : 1) * sizeof(*f->pos));
	if (!f->mem || !f->cpu || !f->host || !f->pos) {
		plan_fit_done(f);
		return -ENOMEM;
	}
	for (size_t i = 0; i < 2 * leaves; i++)
		f->mem[i] = f->cpu[i] = PLAN_FIT_CLOSED;
	for (size_t h = 0; h < st->n_hosts; h++)
		f->pos[h] = SIZE_MAX;
	for (size_t i = 0; i < n; i++) {
		size_t h = order[i];

		f->host[i] = h;
		f->pos[h] = i;
		f->mem[leaves + i] = st->hosts[h].mem_mib - st->mem_used[h];
		f->cpu[leaves + i] = st->cpu_cap[h] - st->cpu_used[h];
	}
	/* build the inner nodes bottom up, once */
	for (size_t node = leaves - 1; node >= 1; node--)
		fit_join(f, node);
	return 0;
}

void
plan_fit_done(struct plan_fit *f)
{
	free(f->mem);
	free(f->cpu);
	free(f->host);
	free(f->pos);
	*f = (struct plan_fit){ 0 };
}

void
plan_fit_update(struct plan_fit *f, const struct plan_state *st, size_t h, bool open)
{
	size_t i = f->pos[h], node;

	if (i == SIZE_MAX)
		return;
	node = f->leaves + i;
	f->mem[node] = open ? st->hosts[h].mem_mib - st->mem_used[h] : PLAN_FIT_CLOSED;
	f->cpu[node] = open ? st->cpu_cap[h] - st->cpu_used[h] : PLAN_FIT_CLOSED;
	fit_pull(f, node);
}

static size_t
fit_find(const struct plan_fit *f, const struct plan_state *st, size_t v, size_t node)
{
	const struct plan_vm *m = &st->vms[v];
	size_t r;

	if (f->mem[node] < m->mem_mib || f->cpu[node] < (int64_t)m->vcpus)
		return SIZE_MAX;
	if (node >= f->leaves) {
		size_t h = f->host[node - f->leaves];
		return plan_state_group_on(st, h, v) ? SIZE_MAX : h;
	}
	r = fit_find(f, st, v, 2 * node);
	return r != SIZE_MAX ? r : fit_find(f, st, v, 2 * node + 1);
}

size_t
plan_fit_find(const struct plan_fit *f, const struct plan_state *st, size_t v)
{
	if (f->n == 0)
		return SIZE_MAX;
	return fit_find(f, st, v, 1);
}
