/* SPDX-License-Identifier: MIT */
/* bench/vm_plan.c: the VM planner (bootsvc/vm/plan.c) on seeded synthetic clusters, beside
 * a first-fit-decreasing baseline written here (OpenStack Watcher's consolidation: sort the
 * VMs by size decreasing, pack them first fit into the hosts in order, count the VMs whose
 * host changed). Issue 13's goals: a plan under 1 s at 10,000 hosts, hosts used within 5%
 * of the lower bound, fewer migrations than the baseline.
 *
 *   vm_plan [-r ROUNDS] [-s SEED] N_HOSTS...
 *
 * For each N: N hosts of 32 CPUs and 256 GiB, cpu_ratio 2; 0..20 VMs per host (10 on
 * average) of seven flavours (1 vCPU/2 GiB .. 16 vCPUs/64 GiB), placed as they fit; one VM
 * in ten in an anti-affinity group of three on three hosts. One line per case:
 *   case=consolidate hosts=N vms=M plan_ms=<median> used_before= used_after= bound=
 *        ffd_used= migrations= ffd_migrations= freed= ffd_ms=
 * and, for the largest N, the evacuation of 1% of the hosts turned risky, and the thermal
 * plan with 1% of the hosts at 85 C (the rest 40..59 C; hot 75, cool 60, 20 C per host's
 * worth of guest CPUs):
 *   case=evacuate hosts=N risky= plan_ms= migrations= unplaced=
 *   case=thermal hosts=N hot= plan_ms= migrations= peak_before= peak_after= */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vm/plan.h"

#define HOST_CPUS 32
#define HOST_MEM_MIB (256 * 1024)
#define CPU_RATIO 2.0
#define MAX_VMS_PER_HOST 20 /* uniform 0..20: 10 on average */
#define GROUP_SIZE 3
#define MAX_ROUNDS 99

static const struct {
	unsigned vcpus;
	int64_t mem_mib;
	unsigned weight; /* of 100 */
} flavours[] = {
	{ 1, 2048, 25 }, { 2, 4096, 20 }, { 2, 8192, 15 }, { 4, 8192, 15 },
	{ 4, 16384, 12 }, { 8, 32768, 9 }, { 16, 65536, 4 },
};

/* xorshift64*: seeded, the same cluster on every machine */
static uint64_t rng_state;

static uint64_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static size_t
rng_below(size_t n)
{
	return (size_t)(rng() % n);
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

struct cluster {
	struct plan_host *hosts;
	size_t n_hosts;
	struct plan_vm *vms;
	size_t n_vms;
};

static int
cluster_make(struct cluster *c, size_t n_hosts, uint64_t seed)
{
	int64_t *mem = calloc(n_hosts, sizeof(*mem));
	unsigned *cpu = calloc(n_hosts, sizeof(*cpu));
	size_t cap = n_hosts * MAX_VMS_PER_HOST, n_groups;

	rng_state = seed * 0x9e3779b97f4a7c15ULL + 1;
	c->hosts = calloc(n_hosts, sizeof(*c->hosts));
	c->vms = calloc(cap ? cap : 1, sizeof(*c->vms));
	if (!mem || !cpu || !c->hosts || !c->vms)
		return -ENOMEM;
	c->n_hosts = n_hosts;
	c->n_vms = 0;
	for (size_t h = 0; h < n_hosts; h++) {
		size_t k = rng_below(MAX_VMS_PER_HOST + 1);

		c->hosts[h] = (struct plan_host){ .name = "h", .cpus = HOST_CPUS,
			.mem_mib = HOST_MEM_MIB, .health = PLAN_OK, .usable = true,
			.spare_ok = true, .has_temp = true, .temp_c = 40 };
		for (size_t i = 0; i < k; i++) {
			unsigned w = (unsigned)rng_below(100), f = 0;

			while (w >= flavours[f].weight) {
				w -= flavours[f].weight;
				f++;
			}
			if (mem[h] + flavours[f].mem_mib > HOST_MEM_MIB ||
			    cpu[h] + flavours[f].vcpus > CPU_RATIO * HOST_CPUS)
				continue;
			mem[h] += flavours[f].mem_mib;
			cpu[h] += flavours[f].vcpus;
			c->vms[c->n_vms++] = (struct plan_vm){ .name = "v", .host = h,
				.vcpus = flavours[f].vcpus, .mem_mib = flavours[f].mem_mib,
				.group = -1 };
		}
	}
	/* groups of three VMs on three different hosts: one VM in ten */
	n_groups = c->n_vms / 10 / GROUP_SIZE;
	for (size_t g = 0; g < n_groups; g++) {
		size_t members[GROUP_SIZE], got = 0;

		for (int tries = 0; got < GROUP_SIZE && tries < 100; tries++) {
			size_t v = rng_below(c->n_vms);
			bool clash = c->vms[v].group >= 0;

			for (size_t j = 0; j < got && !clash; j++)
				clash = c->vms[members[j]].host == c->vms[v].host;
			if (!clash)
				members[got++] = v;
		}
		for (size_t j = 0; j < got; j++)
			c->vms[members[j]].group = (int)g;
	}
	free(mem);
	free(cpu);
	return 0;
}

static void
cluster_free(struct cluster *c)
{
	free(c->hosts);
	free(c->vms);
}

/* ---------------------------------------------------------------- the FFD baseline */

struct ffd_tree {
	size_t leaves;
	int64_t *mem, *cpu; /* free, maxima over subtrees */
};

static int64_t
max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

static void
ffd_set(struct ffd_tree *t, size_t h, int64_t mem, int64_t cpu)
{
	size_t n = t->leaves + h;

	t->mem[n] = mem;
	t->cpu[n] = cpu;
	for (n /= 2; n >= 1; n /= 2) {
		t->mem[n] = max64(t->mem[2 * n], t->mem[2 * n + 1]);
		t->cpu[n] = max64(t->cpu[2 * n], t->cpu[2 * n + 1]);
	}
}

/* Group of VM v on host h? A sorted scan would do; hosts carry few groups. */
struct ffd_state {
	const struct cluster *c;
	size_t *host_of;      /* new host per VM, SIZE_MAX while unplaced */
	size_t **on;          /* grouped VMs per host */
	size_t *n_on, *cap_on;
};

static bool
ffd_group_clash(const struct ffd_state *s, size_t h, size_t v)
{
	int g = s->c->vms[v].group;

	if (g < 0)
		return false;
	for (size_t i = 0; i < s->n_on[h]; i++)
		if (s->c->vms[s->on[h][i]].group == g)
			return true;
	return false;
}

static size_t
ffd_find(const struct ffd_tree *t, const struct ffd_state *s, size_t v, size_t n)
{
	const struct plan_vm *m = &s->c->vms[v];
	size_t r;

	if (t->mem[n] < m->mem_mib || t->cpu[n] < (int64_t)m->vcpus)
		return SIZE_MAX;
	if (n >= t->leaves) {
		size_t h = n - t->leaves;
		return h < s->c->n_hosts && !ffd_group_clash(s, h, v) ? h : SIZE_MAX;
	}
	r = ffd_find(t, s, v, 2 * n);
	return r != SIZE_MAX ? r : ffd_find(t, s, v, 2 * n + 1);
}

static int
cmp_ffd(const void *a, const void *b, void *ctx)
{
	const struct plan_vm *vms = ctx;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	/* size = the sum of the VM's shares of a host's memory and CPU capacity */
	double sx = (double)vms[x].mem_mib / HOST_MEM_MIB + vms[x].vcpus / (CPU_RATIO * HOST_CPUS);
	double sy = (double)vms[y].mem_mib / HOST_MEM_MIB + vms[y].vcpus / (CPU_RATIO * HOST_CPUS);

	if (sx != sy)
		return sx > sy ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* FFD of the whole cluster: *ret_used hosts, *ret_moved VMs on another host than before,
 * *ret_failed VMs that fit nowhere (stay where they are). */
static int
ffd(const struct cluster *c, size_t *ret_used, size_t *ret_moved, size_t *ret_failed)
{
	struct ffd_tree t = { .leaves = 1 };
	struct ffd_state s = { .c = c };
	size_t *order = calloc(c->n_vms ? c->n_vms : 1, sizeof(*order));
	int64_t *mem_used, *cpu_used;
	size_t used = 0, moved = 0, failed = 0;

	while (t.leaves < c->n_hosts)
		t.leaves *= 2;
	t.mem = malloc(2 * t.leaves * sizeof(*t.mem));
	t.cpu = malloc(2 * t.leaves * sizeof(*t.cpu));
	s.host_of = calloc(c->n_vms ? c->n_vms : 1, sizeof(*s.host_of));
	s.on = calloc(c->n_hosts, sizeof(*s.on));
	s.n_on = calloc(c->n_hosts, sizeof(*s.n_on));
	s.cap_on = calloc(c->n_hosts, sizeof(*s.cap_on));
	mem_used = calloc(c->n_hosts, sizeof(*mem_used));
	cpu_used = calloc(c->n_hosts, sizeof(*cpu_used));
	if (!order || !t.mem || !t.cpu || !s.host_of || !s.on || !s.n_on || !s.cap_on ||
	    !mem_used || !cpu_used)
		return -ENOMEM;
	for (size_t i = 0; i < 2 * t.leaves; i++)
		t.mem[i] = t.cpu[i] = -1;
	for (size_t h = 0; h < c->n_hosts; h++)
		ffd_set(&t, h, c->hosts[h].mem_mib, (int64_t)(CPU_RATIO * c->hosts[h].cpus));
	for (size_t v = 0; v < c->n_vms; v++)
		order[v] = v;
	qsort_r(order, c->n_vms, sizeof(*order), cmp_ffd, c->vms);
	for (size_t i = 0; i < c->n_vms; i++) {
		size_t v = order[i], h = ffd_find(&t, &s, v, 1);

		if (h == SIZE_MAX) {
			failed++;
			continue;
		}
		mem_used[h] += c->vms[v].mem_mib;
		cpu_used[h] += c->vms[v].vcpus;
		ffd_set(&t, h, c->hosts[h].mem_mib - mem_used[h],
		    (int64_t)(CPU_RATIO * c->hosts[h].cpus) - cpu_used[h]);
		if (c->vms[v].group >= 0) {
			if (s.n_on[h] == s.cap_on[h]) {
				s.cap_on[h] = s.cap_on[h] ? 2 * s.cap_on[h] : 4;
				s.on[h] = reallocarray(s.on[h], s.cap_on[h], sizeof(*s.on[h]));
				if (!s.on[h])
					return -ENOMEM;
			}
			s.on[h][s.n_on[h]++] = v;
		}
		moved += h != c->vms[v].host;
	}
	for (size_t h = 0; h < c->n_hosts; h++) {
		used += mem_used[h] > 0 || cpu_used[h] > 0;
		free(s.on[h]);
	}
	*ret_used = used + 0 * failed;
	*ret_moved = moved;
	*ret_failed = failed;
	free(order);
	free(t.mem);
	free(t.cpu);
	free(s.host_of);
	free(s.on);
	free(s.n_on);
	free(s.cap_on);
	free(mem_used);
	free(cpu_used);
	return 0;
}

/* ---------------------------------------------------------------- cases */

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int
bench_consolidate(size_t n_hosts, int rounds, uint64_t seed)
{
	struct cluster c;
	struct plan_policy p = { .strategy = PLAN_CONSOLIDATE, .cpu_ratio = CPU_RATIO,
		.warm_spares = 2, .only_host = SIZE_MAX };
	struct plan plan = { 0 };
	struct dl_err err = { 0 };
	double ms[MAX_ROUNDS], t0, ffd_ms;
	int64_t sum_mem = 0, sum_cpu = 0;
	size_t bound, ffd_used, ffd_moved, ffd_failed;
	int r;

	r = cluster_make(&c, n_hosts, seed);
	if (r < 0)
		return r;
	for (size_t v = 0; v < c.n_vms; v++) {
		sum_mem += c.vms[v].mem_mib;
		sum_cpu += c.vms[v].vcpus;
	}
	/* the lower bound: the most constrained resource over one host's capacity */
	{
		int64_t cap_cpu = (int64_t)(CPU_RATIO * HOST_CPUS);
		size_t bm = (size_t)((sum_mem + HOST_MEM_MIB - 1) / HOST_MEM_MIB);
		size_t bc = (size_t)((sum_cpu + cap_cpu - 1) / cap_cpu);
		bound = bm > bc ? bm : bc;
	}
	for (int i = 0; i < rounds; i++) {
		plan_free(&plan);
		t0 = now_ms();
		r = plan_make(c.hosts, c.n_hosts, c.vms, c.n_vms, &p, &plan, &err);
		ms[i] = now_ms() - t0;
		if (r < 0) {
			fprintf(stderr, "vm_plan: consolidate %zu hosts: %s\n", n_hosts, err.msg);
			cluster_free(&c);
			return r;
		}
	}
	t0 = now_ms();
	r = ffd(&c, &ffd_used, &ffd_moved, &ffd_failed);
	ffd_ms = now_ms() - t0;
	if (r < 0)
		return r;
	printf("case=consolidate hosts=%zu vms=%zu plan_ms=%.1f used_before=%zu used_after=%zu "
	    "bound=%zu ffd_used=%zu migrations=%zu ffd_migrations=%zu freed=%zu ffd_unplaced=%zu "
	    "ffd_ms=%.1f gib_moved=%.1f\n",
	    n_hosts, c.n_vms, median(ms, rounds), plan.eff.hosts_used_before,
	    plan.eff.hosts_used_after, bound, ffd_used, plan.eff.migrations, ffd_moved,
	    plan.eff.hosts_freed, ffd_failed, ffd_ms, plan.eff.mib_moved / 1024.0);
	plan_free(&plan);
	cluster_free(&c);
	return 0;
}

static int
bench_evacuate(size_t n_hosts, int rounds, uint64_t seed)
{
	struct cluster c;
	struct plan_policy p = { .strategy = PLAN_EVACUATE, .cpu_ratio = CPU_RATIO,
		.only_host = SIZE_MAX };
	struct plan plan = { 0 };
	struct dl_err err = { 0 };
	double ms[MAX_ROUNDS], t0;
	size_t risky = 0;
	int r;

	r = cluster_make(&c, n_hosts, seed);
	if (r < 0)
		return r;
	/* 1% of the hosts risky, spread: every 100th */
	for (size_t h = 0; h < n_hosts; h += 100, risky++)
		c.hosts[h].health = PLAN_RISKY;
	for (int i = 0; i < rounds; i++) {
		plan_free(&plan);
		t0 = now_ms();
		r = plan_make(c.hosts, c.n_hosts, c.vms, c.n_vms, &p, &plan, &err);
		ms[i] = now_ms() - t0;
		if (r < 0) {
			fprintf(stderr, "vm_plan: evacuate %zu hosts: %s\n", n_hosts, err.msg);
			cluster_free(&c);
			return r;
		}
	}
	printf("case=evacuate hosts=%zu vms=%zu risky=%zu plan_ms=%.1f migrations=%zu "
	    "unplaced=%zu gib_moved=%.1f\n", n_hosts, c.n_vms, risky, median(ms, rounds),
	    plan.eff.migrations, plan.eff.unplaced, plan.eff.mib_moved / 1024.0);
	plan_free(&plan);
	cluster_free(&c);
	return 0;
}

static int
bench_thermal(size_t n_hosts, int rounds, uint64_t seed)
{
	struct cluster c;
	struct plan_policy p = { .strategy = PLAN_THERMAL, .cpu_ratio = CPU_RATIO, .hot_c = 75,
		.cool_c = 60, .c_per_cpu = 20, .only_host = SIZE_MAX };
	struct plan plan = { 0 };
	struct dl_err err = { 0 };
	double ms[MAX_ROUNDS], t0;
	size_t hot = 0;
	int r;

	r = cluster_make(&c, n_hosts, seed);
	if (r < 0)
		return r;
	for (size_t h = 0; h < n_hosts; h++)
		c.hosts[h].temp_c = 40 + (double)rng_below(20);
	for (size_t h = 50; h < n_hosts; h += 100, hot++)
		c.hosts[h].temp_c = 85;
	for (int i = 0; i < rounds; i++) {
		plan_free(&plan);
		t0 = now_ms();
		r = plan_make(c.hosts, c.n_hosts, c.vms, c.n_vms, &p, &plan, &err);
		ms[i] = now_ms() - t0;
		if (r < 0) {
			fprintf(stderr, "vm_plan: thermal %zu hosts: %s\n", n_hosts, err.msg);
			cluster_free(&c);
			return r;
		}
	}
	/* the hosts the plan leaves hot, by the same model (hosts with too few vCPUs of VMs
	 * to shed stay hot: peak_after alone would hide how many were cooled) */
	size_t still_hot = 0;
	for (size_t i = 0; i < plan.n_steps; i++) {
		const struct plan_step *st = &plan.steps[i];
		unsigned vcpus = c.vms[st->vm].vcpus;

		c.hosts[st->from].temp_c -= p.c_per_cpu * vcpus / c.hosts[st->from].cpus;
		c.hosts[st->to].temp_c += p.c_per_cpu * vcpus / c.hosts[st->to].cpus;
	}
	for (size_t h = 0; h < n_hosts; h++)
		still_hot += c.hosts[h].temp_c >= p.hot_c;
	printf("case=thermal hosts=%zu vms=%zu hot=%zu plan_ms=%.1f migrations=%zu still_hot=%zu "
	    "peak_before=%.1f peak_after=%.1f\n", n_hosts, c.n_vms, hot, median(ms, rounds),
	    plan.eff.migrations, still_hot, plan.eff.peak_c_before, plan.eff.peak_c_after);
	plan_free(&plan);
	cluster_free(&c);
	return 0;
}

int
main(int argc, char **argv)
{
	int rounds = 5, i = 1;
	uint64_t seed = 13;
	size_t largest = 0;

	for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		if (strcmp(argv[i], "-r") == 0)
			rounds = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "-s") == 0)
			seed = strtoull(argv[i + 1], NULL, 10);
		else
			break;
	}
	if (i >= argc || rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "usage: vm_plan [-r ROUNDS (1..%d)] [-s SEED] N_HOSTS...\n", MAX_ROUNDS);
		return EXIT_FAILURE;
	}
	for (; i < argc; i++) {
		size_t n = strtoull(argv[i], NULL, 10);

		if (n == 0 || n > MAX_PLAN_HOSTS) {
			fprintf(stderr, "vm_plan: '%s' is not a host count (1..%u)\n", argv[i], MAX_PLAN_HOSTS);
			return EXIT_FAILURE;
		}
		if (bench_consolidate(n, rounds, seed) < 0)
			return EXIT_FAILURE;
		if (n > largest)
			largest = n;
	}
	if (bench_evacuate(largest, rounds, seed) < 0 || bench_thermal(largest, rounds, seed) < 0)
		return EXIT_FAILURE;
	return EXIT_SUCCESS;
}
