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

/* Coolest first, ties by index. */
static int
cmp_coolest(const void *a, const void *b, void *ctx)
{
	const struct plan_state *st = ctx;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	if (st->temp[x] != st->temp[y])
		return st->temp[x] < st->temp[y] ? -1 : 1;
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

/* Where the coolest receiver is: a tree over the receivers with a temperature, in index
 * order, each node holding its coolest leaf (ties: the lowest index) and its largest free
 * memory and vCPUs. The search visits the cooler child first and prunes a subtree that
 * cannot beat the best found, cannot stay below cool_c or has no room, so a placement is
 * about O(log n) where scanning every host made a third of 10,000 hosts hot cost 0.6 s. */
/* Failed sizes remembered per pass: the flavours of a site are a few dozen; beyond this
 * a failure is just not remembered (the search answers the same, slower). */
#define MAX_COOL_FAILS 64

struct cool {
	size_t leaves;
	double *key;               /* leaf position -> modelled temperature (COOL_CLOSED: none) */
	size_t *min;               /* node -> position of its coolest leaf */
	int64_t *mem, *cpu;        /* node -> largest free memory, vCPUs */
	unsigned *cpus;            /* node -> most guest CPUs of a host: the least it warms */
	size_t *host;              /* position -> host */
	size_t *pos;               /* host -> position, SIZE_MAX when not a receiver */
	/* Sizes that found no destination in this pass, none smaller than another: within
	 * a pass receivers only warm and fill, so a VM at least as large fails too without a
	 * search (a group only adds a constraint, so grouped VMs are checked against it but
	 * never recorded). A host that sheds below cool_c starts a new pass, which starts
	 * afresh. */
	struct cool_fail { unsigned vcpus; int64_t mem_mib; } fails[MAX_COOL_FAILS];
	size_t n_fails;
};

/* Above any temperature plan.c accepts: a padding leaf never receives. */
#define COOL_CLOSED 1e300
#define COOL_NO_ROOM (INT64_MIN / 4)

static bool
cool_less(const struct cool *c, size_t a, size_t b)
{
	return c->key[a] < c->key[b] || (c->key[a] == c->key[b] && c->host[a] < c->host[b]);
}

static void
cool_join(struct cool *c, size_t node)
{
	size_t l = 2 * node, r = 2 * node + 1;

	c->min[node] = cool_less(c, c->min[r], c->min[l]) ? c->min[r] : c->min[l];
	c->mem[node] = c->mem[l] > c->mem[r] ? c->mem[l] : c->mem[r];
	c->cpu[node] = c->cpu[l] > c->cpu[r] ? c->cpu[l] : c->cpu[r];
	c->cpus[node] = c->cpus[l] > c->cpus[r] ? c->cpus[l] : c->cpus[r];
}

static void
cool_done(struct cool *c)
{
	free(c->key);
	free(c->min);
	free(c->mem);
	free(c->cpu);
	free(c->cpus);
	free(c->host);
	free(c->pos);
	*c = (struct cool){ 0 };
}

static void
cool_leaf(struct cool *c, const struct plan_state *st, size_t p, size_t h)
{
	c->key[p] = st->temp[h];
	c->mem[c->leaves + p] = st->hosts[h].mem_mib - st->mem_used[h];
	c->cpu[c->leaves + p] = st->cpu_cap[h] - st->cpu_used[h];
	c->cpus[c->leaves + p] = st->hosts[h].cpus ? st->hosts[h].cpus : 1;
}

static int
cool_init(struct cool *c, const struct plan_state *st)
{
	size_t n = 0, leaves = 1;

	*c = (struct cool){ 0 };
	for (size_t h = 0; h < st->n_hosts; h++)
		n += st->hosts[h].has_temp && plan_state_receiver(st, h);
	while (leaves < n)
		leaves *= 2;
	c->leaves = leaves;
	c->key = calloc(leaves, sizeof(*c->key));
	c->min = calloc(2 * leaves, sizeof(*c->min));
	c->mem = calloc(2 * leaves, sizeof(*c->mem));
	c->cpu = calloc(2 * leaves, sizeof(*c->cpu));
	c->cpus = calloc(2 * leaves, sizeof(*c->cpus));
	c->host = calloc(leaves, sizeof(*c->host));
	c->pos = calloc(st->n_hosts ? st->n_hosts : 1, sizeof(*c->pos));
	if (!c->key || !c->min || !c->mem || !c->cpu || !c->cpus || !c->host || !c->pos) {
		cool_done(c);
		return -ENOMEM;
	}
	for (size_t p = 0; p < leaves; p++) {
		c->key[p] = COOL_CLOSED;
		c->min[leaves + p] = p;
		c->mem[leaves + p] = c->cpu[leaves + p] = COOL_NO_ROOM;
		c->cpus[leaves + p] = 1;
	}
	n = 0;
	for (size_t h = 0; h < st->n_hosts; h++) {
		c->pos[h] = SIZE_MAX;
		if (st->hosts[h].has_temp && plan_state_receiver(st, h))
			c->host[n++] = h;
	}
	/* leaves in order of temperature at the start: the hosts that fill up first (the
	 * coolest) sit together, so subtrees of full hosts are pruned whole by their room */
	qsort_r(c->host, n, sizeof(*c->host), cmp_coolest, (void *)st);
	for (size_t p = 0; p < n; p++) {
		c->pos[c->host[p]] = p;
		cool_leaf(c, st, p, c->host[p]);
	}
	for (size_t node = leaves - 1; node >= 1; node--)
		cool_join(c, node);
	return 0;
}

/* Host h's temperature or room changed. */
static void
cool_update(struct cool *c, const struct plan_state *st, size_t h)
{
	size_t p = c->pos[h];

	if (p == SIZE_MAX)
		return;
	cool_leaf(c, st, p, h);
	for (size_t node = (c->leaves + p) / 2; node >= 1; node /= 2)
		cool_join(c, node);
}

static void
cool_search(const struct cool *c, const struct plan_state *st, size_t v, size_t node,
    size_t *best)
{
	const struct plan_vm *m = &st->vms[v];
	/* the least any host below warms by taking v: the one with the most CPUs */
	double warm = st->p->c_per_cpu * (double)m->vcpus / c->cpus[node];
	size_t first, second;

	if (!(c->key[c->min[node]] + warm < st->p->cool_c) || c->mem[node] < m->mem_mib ||
	    c->cpu[node] < (int64_t)m->vcpus)
		return;
	if (*best != SIZE_MAX && !cool_less(c, c->min[node], *best))
		return;
	if (node >= c->leaves) {
		size_t p = node - c->leaves, h = c->host[p];

		if (c->key[p] + plan_state_dtemp(st, h, m->vcpus) < st->p->cool_c &&
		    !plan_state_group_on(st, h, v))
			*best = p;
		return;
	}
	first = 2 * node;
	second = 2 * node + 1;
	if (cool_less(c, c->min[second], c->min[first])) {
		first = second;
		second = 2 * node;
	}
	cool_search(c, st, v, first, best);
	cool_search(c, st, v, second, best);
}

/* The coolest receiver with a temperature where VM v fits and stays below cool_c, ties by
 * index; SIZE_MAX when none. */
static size_t
coolest_for(struct cool *c, const struct plan_state *st, size_t v)
{
	const struct plan_vm *m = &st->vms[v];
	size_t best = SIZE_MAX, keep = 0;

	for (size_t i = 0; i < c->n_fails; i++)
		if (c->fails[i].vcpus <= m->vcpus && c->fails[i].mem_mib <= m->mem_mib)
			return SIZE_MAX;
	cool_search(c, st, v, 1, &best);
	if (best != SIZE_MAX)
		return c->host[best];
	if (m->group < 0) {
		/* drop what the new failure covers, then remember it if there is room */
		for (size_t i = 0; i < c->n_fails; i++)
			if (!(c->fails[i].vcpus >= m->vcpus && c->fails[i].mem_mib >= m->mem_mib))
				c->fails[keep++] = c->fails[i];
		c->n_fails = keep;
		if (keep < MAX_COOL_FAILS)
			c->fails[c->n_fails++] = (struct cool_fail){ m->vcpus, m->mem_mib };
	}
	return SIZE_MAX;
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
shed(struct plan_state *st, struct cool *cool, size_t h, const size_t *cand, size_t n,
    bool *done)
{
	while (hot(st, h)) {
		size_t pick = SIZE_MAX, to = SIZE_MAX;

		if (plan_state_capped(st))
			return 0;
		for (size_t i = 0; i < n && pick == SIZE_MAX; i++) {
			size_t v = cand[i];
			double after = st->temp[h] - plan_state_dtemp(st, h, st->vms[v].vcpus);

			if (done[i] || after >= st->p->hot_c)
				continue;
			to = coolest_for(cool, st, v);
			if (to == SIZE_MAX)
				done[i] = true;
			else
				pick = i;
		}
		for (size_t i = n; i-- > 0 && pick == SIZE_MAX;) {
			if (done[i])
				continue;
			to = coolest_for(cool, st, cand[i]);
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
		cool_update(cool, st, h);
		cool_update(cool, st, to);
	}
	return 0;
}

/* Shed from every hot host in hosts[0..n_hot), hottest first. @ret 1 when a host that shed
 * went below cool_c (it may now receive what an earlier hot host could not place). */
static int
pass(struct plan_state *st, struct cool *cool, const size_t *hosts, size_t n_hot, size_t *cand,
    bool *done)
{
	bool new_receiver = false;

	cool->n_fails = 0;
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
		r = shed(st, cool, h, cand, m, done);
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
	struct cool cool;
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
	r = cool_init(&cool, st);
	if (r < 0)
		return r;
	do
		r = pass(st, &cool, hosts, n_hot, cand, done);
	while (r > 0 && !plan_state_capped(st));
	cool_done(&cool);
	if (r < 0)
		return r;
	/* what the cap left for a later plan: the hosts still hot */
	for (size_t k = 0; k < n_hot && plan_state_capped(st); k++)
		st->deferred += hot(st, hosts[k]);
	return 0;
}
