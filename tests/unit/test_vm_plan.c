/* SPDX-License-Identifier: MIT */
/* bootsvc/vm/plan.c: the VM planner (issue 13). Hand-checked small clusters per strategy,
 * each plan written out as text ("<cause> v<vm> <from>><to>", "<cause> off <host>") and
 * compared whole, with the efficacy it claims; then a property test: a few hundred seeded
 * random clusters per strategy, every plan simulated step by step against the rules of
 * plan.h, its end state against the efficacy it claims. Sizes in the tables are MiB. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "check_r.h"
#include "vm/plan.h"

#define G 1024 /* MiB per GiB */

/* Allocation faults (the Makefile links this test with --wrap for these): when armed,
 * the countdown-th allocation from here on fails, as CONVENTIONS §11 asks of error paths. */
static long fault_countdown = -1;
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_reallocarray(void *p, size_t n, size_t size);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_reallocarray(void *p, size_t n, size_t size);

static bool
fault_now(void)
{
	return fault_countdown >= 0 && fault_countdown-- == 0;
}

void *
__wrap_malloc(size_t n)
{
	return fault_now() ? NULL : __real_malloc(n);
}

void *
__wrap_calloc(size_t n, size_t size)
{
	return fault_now() ? NULL : __real_calloc(n, size);
}

void *
__wrap_reallocarray(void *p, size_t n, size_t size)
{
	return fault_now() ? NULL : __real_reallocarray(p, n, size);
}

/* An ok, usable host that may be freed, without a temperature. */
#define HOST(c, m) { .name = "h", .cpus = (c), .mem_mib = (m), .health = PLAN_OK, \
	.usable = true, .spare_ok = true }
#define HOT(c, m, t) { .name = "h", .cpus = (c), .mem_mib = (m), .health = PLAN_OK, \
	.usable = true, .spare_ok = true, .has_temp = true, .temp_c = (t) }
#define VM(h, c, m) { .name = "v", .host = (h), .vcpus = (c), .mem_mib = (m), .group = -1 }
#define VMG(h, c, m, g) { .name = "v", .host = (h), .vcpus = (c), .mem_mib = (m), .group = (g) }

static struct plan_policy
policy(enum plan_strategy s)
{
	return (struct plan_policy){ .strategy = s, .cpu_ratio = 1.0, .hot_c = 70,
		.cool_c = 50, .c_per_cpu = 20, .only_host = SIZE_MAX };
}

/* The plan as text, for whole-plan comparisons that show what differs. */
static void
plan_text(const struct plan *pl, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < pl->n_steps && n < size; i++) {
		const struct plan_step *s = &pl->steps[i];

		if (s->action == PLAN_STEP_MIGRATE)
			n += snprintf(buf + n, size - n, "%s%s v%zu %zu>%zu", i ? ", " : "",
			    plan_cause_to_string(s->cause), s->vm, s->from, s->to);
		else
			n += snprintf(buf + n, size - n, "%s%s off %zu", i ? ", " : "",
			    plan_cause_to_string(s->cause), s->from);
	}
}

#define check_plan(h, v, p, want, pl) \
	check_plan_at(__FILE__, __LINE__, (h), ELEMENTSOF(h), (v), ELEMENTSOF(v), (p), (want), (pl))
static void
check_plan_at(const char *file, int line, const struct plan_host *hosts, size_t nh,
    const struct plan_vm *vms, size_t nv, const struct plan_policy *p, const char *want,
    struct plan *pl)
{
	struct dl_err e = { 0 };
	char got[4096];
	int r;

	r = plan_make(hosts, nh, vms, nv, p, pl, &e);
	check_r_at(file, line, "plan_make", r, &e, 0, NULL);
	plan_text(pl, got, sizeof(got));
	if (strcmp(got, want) != 0)
		print_error("%s:%d: plan '%s', want '%s'\n", file, line, got, want);
	_assert_string_equal(got, want, file, line);
}

/* ---------------------------------------------------------------- evacuate */

static void
test_evacuate_order(void **state)
{
	/* h0 doomed, h1 risky, h2 drained: doomed's VMs first (largest first), then its
	 * power-off, then risky's, then drained's. Receivers h3 (half full) before h4 (empty):
	 * the fullest that fits first, so the empty h4 takes only what h3 cannot. */
	struct plan_host h[] = { HOST(8, 16 * G), HOST(8, 16 * G), HOST(8, 16 * G),
		HOST(8, 16 * G), HOST(8, 16 * G) };
	struct plan_vm v[] = { VM(0, 1, 2 * G), VM(0, 2, 4 * G), VM(1, 1, 4 * G), VM(2, 1, 1 * G),
		VM(3, 4, 8 * G) };
	struct plan_policy p = policy(PLAN_EVACUATE);
	struct plan pl;

	(void)state;
	h[0].health = PLAN_DOOMED;
	h[1].health = PLAN_RISKY;
	h[2].drain = true;
	check_plan(h, v, &p, "doomed v1 0>3, doomed v0 0>3, doomed off 0, risky v2 1>4, "
	    "drain v3 2>3", &pl);
	assert_int_equal(pl.eff.migrations, 4);
	assert_int_equal(pl.eff.power_offs, 1);
	assert_int_equal(pl.eff.unplaced, 0);
	assert_int_equal(pl.eff.hosts_freed, 3);
	assert_int_equal(pl.eff.hosts_used_before, 4);
	assert_int_equal(pl.eff.hosts_used_after, 2);
	assert_int_equal(pl.eff.mib_moved, 11 * G);
	plan_free(&pl);
	plan_free(&pl); /* twice is harmless */
}

static void
test_evacuate_unplaced(void **state)
{
	/* the doomed host's 12 GiB VM fits nowhere: unplaced, and the host is not powered
	 * off with it still running; its small VM still leaves */
	struct plan_host h[] = { HOST(8, 16 * G), HOST(8, 16 * G) };
	struct plan_vm v[] = { VM(0, 1, 12 * G), VM(0, 1, 1 * G), VM(1, 1, 8 * G) };
	struct plan_policy p = policy(PLAN_EVACUATE);
	struct plan pl;

	(void)state;
	h[0].health = PLAN_DOOMED;
	check_plan(h, v, &p, "doomed v1 0>1", &pl);
	assert_int_equal(pl.eff.unplaced, 1);
	assert_int_equal(pl.eff.power_offs, 0);
	assert_int_equal(pl.eff.hosts_freed, 0);
	plan_free(&pl);

	/* an unusable doomed host sends nothing: all its VMs are unplaced, no power-off */
	h[0].usable = false;
	check_plan(h, v, &p, "", &pl);
	assert_int_equal(pl.eff.unplaced, 2);
	plan_free(&pl);
}

static void
test_evacuate_pinned_group_ratio(void **state)
{
	/* h0 risky: v0 pinned stays (unplaced); v1 of group 7 may not join v3 on h1 (the
	 * fullest), so it goes to h2; v2 with 3 vCPUs fits h1 (2 cpus, 1 vCPU used) only with
	 * a cpu_ratio of 2. */
	struct plan_host h[] = { HOST(4, 16 * G), HOST(2, 16 * G), HOST(4, 8 * G) };
	struct plan_vm v[] = { VM(0, 1, 1 * G), VMG(0, 1, 1 * G, 7), VM(0, 3, 2 * G),
		VMG(1, 1, 8 * G, 7) };
	struct plan_policy p = policy(PLAN_EVACUATE);
	struct plan pl;

	(void)state;
	h[0].health = PLAN_RISKY;
	v[0].pinned = true;
	/* ratio 1: h1 has 2 - 1 = 1 vCPU free, v2 goes to h2 */
	check_plan(h, v, &p, "risky v2 0>2, risky v1 0>2", &pl);
	assert_int_equal(pl.eff.unplaced, 1);
	assert_int_equal(pl.eff.hosts_freed, 0);
	plan_free(&pl);
	/* ratio 2: h1 takes 4 vCPUs, v2 joins v3 there */
	p.cpu_ratio = 2.0;
	check_plan(h, v, &p, "risky v2 0>1, risky v1 0>2", &pl);
	plan_free(&pl);
	/* ratio 1.5: floor(1.5 * 2) = 3 < 1 + 3 */
	p.cpu_ratio = 1.5;
	check_plan(h, v, &p, "risky v2 0>2, risky v1 0>2", &pl);
	plan_free(&pl);
}

static void
test_evacuate_receivers(void **state)
{
	/* only ok, usable, undrained hosts receive: h1 risky, h2 drained, h3 off, h4 ok */
	struct plan_host h[] = { HOST(8, 16 * G), HOST(8, 16 * G), HOST(8, 16 * G),
		HOST(8, 16 * G), HOST(8, 16 * G) };
	struct plan_vm v[] = { VM(0, 1, 1 * G), VM(1, 1, 4 * G), VM(2, 1, 4 * G), VM(3, 1, 4 * G) };
	struct plan_policy p = policy(PLAN_EVACUATE);
	struct plan pl;

	(void)state;
	h[0].health = PLAN_DOOMED;
	h[1].health = PLAN_RISKY;
	h[2].drain = true;
	h[3].usable = false;
	check_plan(h, v, &p, "doomed v0 0>4, doomed off 0, risky v1 1>4, drain v2 2>4", &pl);
	plan_free(&pl);
	/* only_host: just that one, even when healthy and not drained (a reimage --evacuate) */
	h[2].drain = false;
	p.only_host = 2;
	check_plan(h, v, &p, "manual v2 2>4", &pl);
	plan_free(&pl);
	p.only_host = 1;
	check_plan(h, v, &p, "risky v1 1>2", &pl); /* h2, no longer drained, is fuller than h4 */
	plan_free(&pl);
	/* h2's node drained by an admin (closed): it keeps v2 but receives nothing */
	h[2].closed = true;
	check_plan(h, v, &p, "risky v1 1>4", &pl);
	plan_free(&pl);
}

static void
test_evacuate_cap(void **state)
{
	/* max_steps 1: one move, the other VM deferred, no power-off */
	struct plan_host h[] = { HOST(8, 16 * G), HOST(8, 16 * G) };
	struct plan_vm v[] = { VM(0, 1, 1 * G), VM(0, 1, 2 * G) };
	struct plan_policy p = policy(PLAN_EVACUATE);
	struct plan pl;

	(void)state;
	h[0].health = PLAN_DOOMED;
	p.max_steps = 1;
	check_plan(h, v, &p, "doomed v1 0>1", &pl);
	assert_int_equal(pl.eff.deferred, 1);
	assert_int_equal(pl.eff.unplaced, 0);
	plan_free(&pl);
	p.max_steps = 2;
	check_plan(h, v, &p, "doomed v1 0>1, doomed v0 0>1, doomed off 0", &pl);
	plan_free(&pl);
}

/* ---------------------------------------------------------------- consolidate */

static void
test_consolidate_beats_ffd(void **state)
{
	/* Three 16 GiB hosts: h0 runs 8 GiB, h1 4 + 4 GiB, h2 4 GiB. Freeing one host takes
	 * one migration: h2's VM to h0. First-fit decreasing (Watcher) sorts 8, 4, 4, 4 and
	 * packs them into h0, h0, h0, h1: v1, v2 and v3 all move (3 migrations) for the same
	 * two hosts used. Here: h2 (one small VM) is the cheapest to free; it goes to the
	 * fullest receiver, h0 (tie with h1, by index); h1 would then need both its VMs on
	 * h0, which has room for one: rolled back, nothing of h1 moves. */
	struct plan_host h[] = { HOST(8, 16 * G), HOST(8, 16 * G), HOST(8, 16 * G) };
	struct plan_vm v[] = { VM(0, 1, 8 * G), VM(1, 1, 4 * G), VM(1, 1, 4 * G), VM(2, 1, 4 * G) };
	struct plan_policy p = policy(PLAN_CONSOLIDATE);
	struct plan pl;

	(void)state;
	check_plan(h, v, &p, "consolidate v3 2>0", &pl);
	assert_int_equal(pl.eff.migrations, 1);
	assert_int_equal(pl.eff.hosts_freed, 1);
	assert_int_equal(pl.eff.hosts_used_after, 2);
	assert_int_equal(pl.eff.power_offs, 0); /* the green policy powers hosts off */
	assert_int_equal(pl.eff.hosts_empty_after, 1);
	plan_free(&pl);
}

static void
test_consolidate_whole_hosts(void **state)
{
	/* h1's two VMs: one would fit on h0, the other nowhere: no move at all (a move that
	 * frees no host is churn) */
	struct plan_host h[] = { HOST(8, 16 * G), HOST(8, 16 * G) };
	struct plan_vm v[] = { VM(0, 1, 10 * G), VM(1, 1, 4 * G), VM(1, 1, 8 * G) };
	struct plan_policy p = policy(PLAN_CONSOLIDATE);
	struct plan pl;

	(void)state;
	check_plan(h, v, &p, "", &pl);
	assert_int_equal(pl.eff.hosts_freed, 0);
	plan_free(&pl);
	/* a pinned VM keeps its host: h2 cannot be freed; h1 (not spare_ok) receives but is
	 * never emptied, though it is the cheapest */
	struct plan_host h2[] = { HOST(8, 16 * G), HOST(8, 16 * G), HOST(8, 16 * G) };
	struct plan_vm v2[] = { VM(0, 1, 4 * G), VM(1, 1, 2 * G), VM(2, 1, 1 * G) };

	h2[1].spare_ok = false;
	v2[2].pinned = true;
	check_plan(h2, v2, &p, "consolidate v0 0>1", &pl);
	plan_free(&pl);
	/* the cap counts whole hosts: 1 step allowed, h1 needs 2 (h0 is kept, not spare_ok) */
	struct plan_vm v3[] = { VM(0, 1, 8 * G), VM(1, 1, 1 * G), VM(1, 1, 1 * G) };
	h[0].spare_ok = false;
	p.max_steps = 1;
	check_plan(h, v3, &p, "", &pl);
	plan_free(&pl);
	p.max_steps = 2;
	check_plan(h, v3, &p, "consolidate v1 1>0, consolidate v2 1>0", &pl);
	plan_free(&pl);
}

static void
test_consolidate_spares_groups(void **state)
{
	/* h2 is empty (a warm spare): h0's and h1's VMs would all fit on it, freeing two
	 * hosts for one, but consolidation never fills an empty host; h0 and h1 cannot share
	 * (12 + 12 > 16), so nothing moves and the spare stays empty */
	struct plan_host h[] = { HOST(8, 16 * G), HOST(8, 16 * G), HOST(8, 64 * G) };
	struct plan_vm v[] = { VM(0, 1, 12 * G), VM(1, 1, 12 * G) };
	struct plan_policy p = policy(PLAN_CONSOLIDATE);
	struct plan pl;

	(void)state;
	p.warm_spares = 1;
	check_plan(h, v, &p, "", &pl);
	assert_int_equal(pl.eff.hosts_empty_after, 1);
	plan_free(&pl);
	/* anti-affinity: h2's v2 (group 3) may not join v0 on h0 (the fullest), so h1 */
	struct plan_host hg[] = { HOST(8, 16 * G), HOST(8, 16 * G), HOST(8, 16 * G) };
	struct plan_vm vg[] = { VMG(0, 1, 8 * G, 3), VM(1, 1, 6 * G), VMG(2, 1, 2 * G, 3) };

	check_plan(hg, vg, &p, "consolidate v2 2>1", &pl);
	plan_free(&pl);
	/* risky, drained and unusable hosts are neither emptied nor filled by it */
	hg[0].health = PLAN_RISKY;
	hg[1].drain = true;
	check_plan(hg, vg, &p, "", &pl);
	plan_free(&pl);
}

/* ---------------------------------------------------------------- thermal */

/* The state a plan leaves: VMs on their new hosts, temperatures by the model. */
static void
apply(struct plan_host *h, struct plan_vm *v, const struct plan *pl, double c_per_cpu)
{
	for (size_t i = 0; i < pl->n_steps; i++) {
		const struct plan_step *s = &pl->steps[i];

		if (s->action != PLAN_STEP_MIGRATE)
			continue;
		h[s->from].temp_c -= c_per_cpu * v[s->vm].vcpus / h[s->from].cpus;
		h[s->to].temp_c += c_per_cpu * v[s->vm].vcpus / h[s->to].cpus;
		v[s->vm].host = s->to;
	}
}

static void
test_thermal(void **state)
{
	/* h0 at 80 C (hot 70, cool 50, 20 C per vCPU share, 8 cpus): its 4-vCPU VM alone
	 * gives -10 C (70: not below), so two VMs are needed; the fewest are the 4-vCPU one
	 * and then the smallest that finishes the job, the 1-vCPU one (-2.5 C: 67.5). The 4
	 * goes to the coolest, h1 (30 C -> 40 C); the 1 then to h2 (35 C, now the coolest).
	 * h3 (45 C) would go past cool_c with the 4 (55); h4 has no temperature. */
	struct plan_host h[] = { HOT(8, 64 * G, 80), HOT(8, 64 * G, 30), HOT(8, 64 * G, 35),
		HOT(8, 64 * G, 45), HOST(8, 64 * G) };
	struct plan_vm v[] = { VM(0, 1, 1 * G), VM(0, 2, 1 * G), VM(0, 4, 1 * G) };
	struct plan_policy p = policy(PLAN_THERMAL);
	struct plan pl;

	(void)state;
	check_plan(h, v, &p, "hot v2 0>1, hot v0 0>2", &pl);
	assert_true(pl.eff.peak_c_before == 80);
	assert_true(pl.eff.peak_c_after == 67.5);
	assert_int_equal(pl.eff.hosts_with_temp, 4);
	assert_int_equal(pl.eff.hosts_freed, 0);
	/* hysteresis: a plan on the state this one leaves moves nothing */
	apply(h, v, &pl, p.c_per_cpu);
	plan_free(&pl);
	check_plan(h, v, &p, "", &pl);
	plan_free(&pl);
}

static void
test_thermal_no_room(void **state)
{
	/* every cool host would pass cool_c: the hot host stays hot, nothing moves; and a
	 * hot host at exactly hot_c is not above it */
	struct plan_host h[] = { HOT(4, 64 * G, 90), HOT(4, 64 * G, 45), HOT(4, 64 * G, 70) };
	struct plan_vm v[] = { VM(0, 2, 1 * G), VM(2, 2, 1 * G) };
	struct plan_policy p = policy(PLAN_THERMAL);
	struct plan pl;

	(void)state;
	check_plan(h, v, &p, "", &pl);
	assert_true(pl.eff.peak_c_after == 90);
	plan_free(&pl);
	/* h1 at 40 C would reach 50, not below cool_c; at 39 C it takes v0 (49 C) */
	h[1].temp_c = 39;
	check_plan(h, v, &p, "hot v0 0>1", &pl);
	assert_true(pl.eff.peak_c_after == 80);
	plan_free(&pl);
}

/* ---------------------------------------------------------------- input, strings, one */

static void
test_invalid(void **state)
{
	struct plan_host h[] = { HOST(8, 16 * G), HOST(8, 16 * G) };
	struct plan_vm v[] = { VM(0, 1, 1 * G) };
	struct plan_vm bad[] = { VM(2, 1, 1 * G) };
	struct plan_policy p;
	struct plan pl = { .n_steps = 99 };
	struct dl_err e = { 0 };

	(void)state;
	check_r_at(__FILE__, __LINE__, NULL, plan_make(h, 2, bad, 1,
	    &(struct plan_policy){ .cpu_ratio = 1 }, &pl, &e), &e, -EINVAL, "host 2 is not one of");
	p = policy(PLAN_CONSOLIDATE);
	p.cpu_ratio = 0.5;
	check_r_at(__FILE__, __LINE__, NULL, plan_make(h, 2, v, 1, &p, &pl, &e), &e, -EINVAL,
	    "cpu_ratio 0.5");
	p = policy(PLAN_THERMAL);
	p.cool_c = 70;
	check_r_at(__FILE__, __LINE__, NULL, plan_make(h, 2, v, 1, &p, &pl, &e), &e, -EINVAL,
	    "must be below hot_c");
	p = policy(PLAN_EVACUATE);
	p.only_host = 2;
	check_r_at(__FILE__, __LINE__, NULL, plan_make(h, 2, v, 1, &p, &pl, &e), &e, -EINVAL,
	    "only_host 2");
	p = policy(PLAN_EVACUATE);
	p.strategy = _PLAN_STRATEGY_MAX;
	check_r_at(__FILE__, __LINE__, NULL, plan_make(h, 2, v, 1, &p, &pl, &e), &e, -EINVAL,
	    "strategy 3");
	p = policy(PLAN_EVACUATE);
	v[0].mem_mib = -1;
	check_r_at(__FILE__, __LINE__, NULL, plan_make(h, 2, v, 1, &p, &pl, &e), &e, -EINVAL,
	    "memory -1");
	v[0].mem_mib = 1;
	v[0].group = -2;
	check_r_at(__FILE__, __LINE__, NULL, plan_make(h, 2, v, 1, &p, &pl, &e), &e, -EINVAL,
	    "group -2");
	check_r_at(__FILE__, __LINE__, NULL, plan_make(h, (size_t)MAX_PLAN_HOSTS + 1, v, 1, &p, &pl,
	    &e), &e, -E2BIG, "at most");
	check_r_at(__FILE__, __LINE__, NULL, plan_make(NULL, 2, v, 1, &p, &pl, &e), &e, -EINVAL,
	    "no array");
	h[1].temp_c = 1e9;
	h[1].has_temp = true;
	check_r_at(__FILE__, __LINE__, NULL, plan_make(h, 2, v, 1, &p, &pl, &e), &e, -EINVAL,
	    "not a reading");
	h[1].has_temp = false;
	assert_int_equal(pl.n_steps, 99); /* untouched on error */
	/* nothing at all is a valid, empty plan */
	assert_int_equal(plan_make(NULL, 0, NULL, 0, &p, &pl, &e), 0);
	assert_int_equal(pl.n_steps, 0);
	plan_free(&pl);
	plan_free(NULL);
}

static void
test_strings(void **state)
{
	(void)state;
	for (int s = 0; s < _PLAN_STRATEGY_MAX; s++)
		assert_int_equal(plan_strategy_from_string(plan_strategy_to_string(s)), s);
	assert_string_equal(plan_strategy_to_string(PLAN_CONSOLIDATE), "consolidate");
	assert_int_equal(plan_strategy_from_string("green"), _PLAN_STRATEGY_INVALID);
	assert_int_equal(plan_strategy_from_string(NULL), _PLAN_STRATEGY_INVALID);
	assert_null(plan_strategy_to_string(_PLAN_STRATEGY_MAX));
	static const char *const causes[] = { "doomed", "risky", "drain", "hot", "consolidate",
		"manual" };
	for (int c = 0; c < _PLAN_CAUSE_MAX; c++)
		assert_string_equal(plan_cause_to_string(c), causes[c]);
	assert_null(plan_cause_to_string(_PLAN_CAUSE_MAX));
}

static void
test_place_one(void **state)
{
	/* v0 on h0: h1 is fullest but risky, h2 fullest ok (group clash for v3), h3 emptier */
	struct plan_host h[] = { HOST(8, 16 * G), HOST(8, 16 * G), HOST(8, 16 * G),
		HOST(8, 16 * G) };
	struct plan_vm v[] = { VMG(0, 1, 4 * G, 1), VM(1, 1, 12 * G), VM(2, 1, 8 * G),
		VMG(2, 1, 2 * G, 1), VM(3, 1, 1 * G) };
	struct plan_policy p = policy(PLAN_EVACUATE);
	bool ex[4] = { false, false, false, true };

	(void)state;
	h[1].health = PLAN_RISKY;
	assert_int_equal(plan_place_one(h, 4, v, 5, 0, NULL, &p), 3); /* h2: group 1 there */
	v[3].group = -1;
	assert_int_equal(plan_place_one(h, 4, v, 5, 0, NULL, &p), 2);
	ex[2] = true;
	assert_int_equal(plan_place_one(h, 4, v, 5, 0, ex, &p), SIZE_MAX);
	ex[2] = false;
	ex[3] = false;
	v[0].mem_mib = 7 * G; /* fits h3 only */
	assert_int_equal(plan_place_one(h, 4, v, 5, 0, ex, &p), 3);
	v[0].pinned = true;
	assert_int_equal(plan_place_one(h, 4, v, 5, 0, ex, &p), SIZE_MAX);
	assert_int_equal(plan_place_one(h, 4, v, 5, 5, ex, &p), SIZE_MAX); /* no such VM */
}

/* ---------------------------------------------------------------- the property test */

#define PROP_CLUSTERS 300 /* per strategy: a few hundred, as the issue asks */
#define PROP_MAX_HOSTS 40
#define PROP_MAX_VMS (PROP_MAX_HOSTS * 8)

static uint64_t prop_rng;

static unsigned
rnd(unsigned n)
{
	prop_rng ^= prop_rng << 13;
	prop_rng ^= prop_rng >> 7;
	prop_rng ^= prop_rng << 17;
	return (unsigned)(prop_rng % n);
}

struct cluster {
	struct plan_host h[PROP_MAX_HOSTS];
	struct plan_vm v[PROP_MAX_VMS];
	size_t nh, nv;
	struct plan_policy p;
};

/* A random cluster whose input keeps the rules (no host over capacity, groups apart), so
 * any break the simulation finds is the plan's. Small (2..8 hosts) or medium (..40). */
static void
random_cluster(struct cluster *c, enum plan_strategy s, unsigned seed)
{
	int64_t mem[PROP_MAX_HOSTS] = { 0 }, cpu[PROP_MAX_HOSTS] = { 0 };

	prop_rng = 0x9e3779b97f4a7c15ULL * (seed + 1) + s;
	memset(c, 0, sizeof(*c));
	c->p = policy(s);
	c->p.cpu_ratio = 1.0 + rnd(5) * 0.5;
	c->p.hot_c = 60 + rnd(20);
	c->p.cool_c = c->p.hot_c - 5 - rnd(20);
	c->p.c_per_cpu = 5 + rnd(30);
	c->p.max_steps = rnd(4) == 0 ? 1 + rnd(6) : 0;
	c->p.warm_spares = rnd(3);
	c->nh = seed % 2 ? 2 + rnd(7) : 9 + rnd(PROP_MAX_HOSTS - 8);
	for (size_t i = 0; i < c->nh; i++) {
		struct plan_host *x = &c->h[i];
		unsigned r = rnd(20);

		*x = (struct plan_host){ .name = "h", .cpus = 1 + rnd(16), .mem_mib = (1 + rnd(32)) * G,
			.health = r == 0 ? PLAN_DOOMED : r < 3 ? PLAN_RISKY : PLAN_OK,
			.usable = rnd(12) != 0, .drain = rnd(12) == 0, .has_temp = rnd(6) != 0,
			.temp_c = 20 + rnd(70), .spare_ok = rnd(8) != 0 };
	}
	if (s == PLAN_EVACUATE && rnd(4) == 0)
		c->p.only_host = rnd((unsigned)c->nh);
	for (size_t tries = 0; tries < c->nh * 8; tries++) {
		size_t h = rnd((unsigned)c->nh);
		struct plan_vm m = { .name = "v", .host = h, .vcpus = rnd(5),
			.mem_mib = rnd(4) == 0 ? rnd(G) : (1 + rnd(8)) * G,
			.group = rnd(3) == 0 ? (int)rnd(4) : -1, .pinned = rnd(20) == 0 };
		bool clash = false;

		if (mem[h] + m.mem_mib > c->h[h].mem_mib ||
		    cpu[h] + m.vcpus > (int64_t)(c->p.cpu_ratio * c->h[h].cpus + 1e-9))
			continue;
		for (size_t j = 0; j < c->nv && m.group >= 0; j++)
			clash |= c->v[j].host == h && c->v[j].group == m.group;
		if (clash)
			continue;
		mem[h] += m.mem_mib;
		cpu[h] += m.vcpus;
		c->v[c->nv++] = m;
	}
}

static bool
must_empty(const struct cluster *c, size_t h)
{
	const struct plan_host *x = &c->h[h];

	if (c->p.only_host != SIZE_MAX)
		return h == c->p.only_host;
	return x->health != PLAN_OK || x->drain;
}

/* Simulate pl on c step by step against plan.h's rules; then its end state against the
 * efficacy it claims. ctx names the case in every failure. */
static void
simulate(const struct cluster *c, const struct plan *pl, const char *ctx)
{
	size_t host[PROP_MAX_VMS], n_on[PROP_MAX_HOSTS] = { 0 }, n_before[PROP_MAX_HOSTS] = { 0 };
	int64_t mem[PROP_MAX_HOSTS] = { 0 }, cpu[PROP_MAX_HOSTS] = { 0 }, mib = 0;
	double temp[PROP_MAX_HOSTS];
	bool moved[PROP_MAX_VMS] = { false }, off[PROP_MAX_HOSTS] = { false };
	bool received[PROP_MAX_HOSTS] = { false }, sent[PROP_MAX_HOSTS] = { false };
	bool empty_before[PROP_MAX_HOSTS];
	double fill0[PROP_MAX_HOSTS]; /* fill at the start: the receivers' order */
	size_t migrations = 0, power_offs = 0;
	int last_cause = -1;

	for (size_t h = 0; h < c->nh; h++)
		temp[h] = c->h[h].temp_c;
	for (size_t v = 0; v < c->nv; v++) {
		host[v] = c->v[v].host;
		n_on[host[v]]++;
		n_before[host[v]]++;
		mem[host[v]] += c->v[v].mem_mib;
		cpu[host[v]] += c->v[v].vcpus;
	}
	for (size_t h = 0; h < c->nh; h++) {
		double cap = (double)(int64_t)(c->p.cpu_ratio * c->h[h].cpus + 1e-9);
		double fm = c->h[h].mem_mib ? (double)mem[h] / c->h[h].mem_mib : 0;
		double fc = cap > 0 ? cpu[h] / cap : 0;

		empty_before[h] = n_on[h] == 0;
		fill0[h] = fm > fc ? fm : fc;
	}
	for (size_t i = 0; i < pl->n_steps; i++) {
		const struct plan_step *s = &pl->steps[i];

		if (s->action == PLAN_STEP_POWER_OFF) {
			if (!(c->p.strategy == PLAN_EVACUATE && s->from < c->nh && n_on[s->from] == 0 &&
			    c->h[s->from].health == PLAN_DOOMED && c->h[s->from].usable && !off[s->from]))
				fail_msg("%s: step %zu powers off host %zu: not an emptied doomed host", ctx,
				    i, s->from);
			off[s->from] = true;
			power_offs++;
			continue;
		}
		size_t v = s->vm, to = s->to, from = s->from;

		if (v >= c->nv || to >= c->nh || from != host[v] || to == from)
			fail_msg("%s: step %zu: v%zu %zu>%zu is not where the VM is", ctx, i, v, from, to);
		if (moved[v] || c->v[v].pinned)
			fail_msg("%s: step %zu moves v%zu %s", ctx, i, v, moved[v] ? "twice" : "pinned");
		if (!c->h[to].usable || c->h[to].drain || c->h[to].health != PLAN_OK || off[to])
			fail_msg("%s: step %zu: host %zu may not receive", ctx, i, to);
		if (!c->h[from].usable)
			fail_msg("%s: step %zu: host %zu is unusable and cannot send", ctx, i, from);
		for (size_t w = 0; w < c->nv && c->v[v].group >= 0; w++)
			if (w != v && host[w] == to && c->v[w].group == c->v[v].group)
				fail_msg("%s: step %zu: v%zu joins v%zu of group %d on host %zu", ctx, i,
				    v, w, c->v[v].group, to);
		if (c->p.strategy != PLAN_THERMAL) {
			/* the fullest host at the start that may take it now, by brute force */
			size_t best = SIZE_MAX;
			for (size_t d = 0; d < c->nh; d++) {
				const struct plan_host *x = &c->h[d];
				bool clash = false;

				for (size_t w = 0; w < c->nv && c->v[v].group >= 0; w++)
					clash |= host[w] == d && c->v[w].group == c->v[v].group;
				if (!x->usable || x->drain || x->health != PLAN_OK || off[d] || d == from ||
				    clash || mem[d] + c->v[v].mem_mib > x->mem_mib ||
				    cpu[d] + c->v[v].vcpus > (int64_t)(c->p.cpu_ratio * x->cpus + 1e-9))
					continue;
				if (c->p.strategy == PLAN_EVACUATE && must_empty(c, d))
					continue;
				if (c->p.strategy == PLAN_CONSOLIDATE && (empty_before[d] || sent[d]))
					continue;
				if (best == SIZE_MAX || fill0[d] > fill0[best])
					best = d;
			}
			if (best != to)
				fail_msg("%s: step %zu sends v%zu to host %zu, the fullest that fits is %zu",
				    ctx, i, v, to, best);
		}
		if (c->p.strategy == PLAN_THERMAL) {
			/* the coolest host that may take it, found by brute force, ties by index */
			size_t best = SIZE_MAX;
			for (size_t d = 0; d < c->nh; d++) {
				const struct plan_host *x = &c->h[d];
				double after = temp[d] + c->p.c_per_cpu * c->v[v].vcpus / (x->cpus ? x->cpus : 1);
				bool clash = false;

				for (size_t w = 0; w < c->nv && c->v[v].group >= 0; w++)
					clash |= host[w] == d && c->v[w].group == c->v[v].group;
				if (!x->usable || x->drain || x->health != PLAN_OK || !x->has_temp ||
				    !(after < c->p.cool_c) || clash ||
				    mem[d] + c->v[v].mem_mib > x->mem_mib ||
				    cpu[d] + c->v[v].vcpus > (int64_t)(c->p.cpu_ratio * x->cpus + 1e-9))
					continue;
				if (best == SIZE_MAX || temp[d] < temp[best])
					best = d;
			}
			if (best != to)
				fail_msg("%s: step %zu sends v%zu to host %zu, the coolest that fits is %zu",
				    ctx, i, v, to, best);
		}
		host[v] = to;
		moved[v] = true;
		n_on[from]--;
		n_on[to]++;
		mem[from] -= c->v[v].mem_mib;
		mem[to] += c->v[v].mem_mib;
		cpu[from] -= c->v[v].vcpus;
		cpu[to] += c->v[v].vcpus;
		temp[from] -= c->p.c_per_cpu * c->v[v].vcpus / (c->h[from].cpus ? c->h[from].cpus : 1);
		temp[to] += c->p.c_per_cpu * c->v[v].vcpus / (c->h[to].cpus ? c->h[to].cpus : 1);
		if (mem[to] > c->h[to].mem_mib)
			fail_msg("%s: step %zu overcommits the memory of host %zu", ctx, i, to);
		if (cpu[to] > (int64_t)(c->p.cpu_ratio * c->h[to].cpus + 1e-9))
			fail_msg("%s: step %zu breaks the cpu ratio on host %zu", ctx, i, to);
		if (c->p.max_steps && migrations >= c->p.max_steps)
			fail_msg("%s: step %zu is past max_steps %zu", ctx, i, c->p.max_steps);
		if ((int)s->cause < last_cause)
			fail_msg("%s: step %zu: cause %s after a later one", ctx, i,
			    plan_cause_to_string(s->cause));
		last_cause = (int)s->cause;
		received[to] = true;
		sent[from] = true;
		migrations++;
		mib += c->v[v].mem_mib;
		switch (c->p.strategy) {
		case PLAN_EVACUATE:
			if (!must_empty(c, from))
				fail_msg("%s: step %zu evacuates host %zu, which need not empty", ctx, i, from);
			break;
		case PLAN_CONSOLIDATE:
			if (s->cause != PLAN_CAUSE_CONSOLIDATE || empty_before[to] || sent[to] ||
			    received[from] || !c->h[from].spare_ok)
				fail_msg("%s: step %zu: consolidation moves v%zu %zu>%zu", ctx, i, v, from, to);
			break;
		case PLAN_THERMAL:
			if (s->cause != PLAN_CAUSE_HOT || !c->h[to].has_temp || !(temp[to] < c->p.cool_c) ||
			    !c->h[from].has_temp || !(c->h[from].temp_c > c->p.hot_c))
				fail_msg("%s: step %zu: thermal moves v%zu %zu>%zu (%.2f C after)", ctx, i,
				    v, from, to, temp[to]);
			break;
		default:
			fail_msg("%s: strategy", ctx);
		}
	}

	/* the end state against the claimed efficacy */
	size_t used_b = 0, used_a = 0, freed = 0, empty_a = 0, with_temp = 0, left = 0;
	double peak_b = 0, peak_a = 0;
	bool seen = false;

	for (size_t h = 0; h < c->nh; h++) {
		used_b += n_before[h] > 0;
		used_a += n_on[h] > 0;
		freed += n_before[h] > 0 && n_on[h] == 0;
		empty_a += c->h[h].usable && n_on[h] == 0 && !off[h];
		if (c->p.strategy == PLAN_CONSOLIDATE && sent[h] && n_on[h] != 0)
			fail_msg("%s: consolidation moved VMs off host %zu but it is not empty", ctx, h);
		if (c->p.strategy == PLAN_EVACUATE && must_empty(c, h))
			left += n_on[h];
		if (c->p.strategy == PLAN_EVACUATE && must_empty(c, h) && n_on[h] == 0 &&
		    c->h[h].health == PLAN_DOOMED && c->h[h].usable && !off[h])
			fail_msg("%s: doomed host %zu emptied but not powered off", ctx, h);
		if (!c->h[h].has_temp)
			continue;
		with_temp++;
		if (!seen || c->h[h].temp_c > peak_b)
			peak_b = c->h[h].temp_c;
		if (!off[h] && (!seen || temp[h] > peak_a))
			peak_a = temp[h];
		seen = true;
	}
	const struct plan_efficacy *e = &pl->eff;
	if (e->migrations != migrations || e->mib_moved != mib || e->hosts_freed != freed ||
	    e->hosts_used_before != used_b || e->hosts_used_after != used_a ||
	    e->hosts_empty_after != empty_a || e->power_offs != power_offs ||
	    e->hosts_with_temp != with_temp)
		fail_msg("%s: efficacy claims migrations %zu freed %zu used %zu>%zu empty %zu off %zu, "
		    "simulated %zu %zu %zu>%zu %zu %zu", ctx, e->migrations, e->hosts_freed,
		    e->hosts_used_before, e->hosts_used_after, e->hosts_empty_after, e->power_offs,
		    migrations, freed, used_b, used_a, empty_a, power_offs);
	if (e->peak_c_before != peak_b || e->peak_c_after - peak_a > 1e-9 ||
	    peak_a - e->peak_c_after > 1e-9)
		fail_msg("%s: peak claims %.3f > %.3f, simulated %.3f > %.3f", ctx, e->peak_c_before,
		    e->peak_c_after, peak_b, peak_a);
	if (c->p.strategy == PLAN_EVACUATE && e->unplaced + e->deferred != left)
		fail_msg("%s: %zu VMs left on hosts to empty, claimed %zu unplaced + %zu deferred",
		    ctx, left, e->unplaced, e->deferred);
	if (c->p.strategy != PLAN_EVACUATE && e->unplaced != 0)
		fail_msg("%s: %zu unplaced outside an evacuation", ctx, e->unplaced);
}

static void
test_property(void **state)
{
	static struct cluster c, after;
	char ctx[96];
	size_t moves[_PLAN_STRATEGY_MAX] = { 0 }, freed = 0;

	(void)state;
	for (int s = 0; s < _PLAN_STRATEGY_MAX; s++) {
		for (unsigned seed = 0; seed < PROP_CLUSTERS; seed++) {
			struct plan pl, pl2;
			struct dl_err e = { 0 };

			random_cluster(&c, (enum plan_strategy)s, seed);
			snprintf(ctx, sizeof(ctx), "%s seed %u (%zu hosts, %zu VMs)",
			    plan_strategy_to_string(s), seed, c.nh, c.nv);
			if (plan_make(c.h, c.nh, c.v, c.nv, &c.p, &pl, &e) != 0)
				fail_msg("%s: %s", ctx, e.msg);
			simulate(&c, &pl, ctx);
			moves[s] += pl.eff.migrations;
			if (s == PLAN_CONSOLIDATE)
				freed += pl.eff.hosts_freed;
			/* deterministic: the same input, the same plan */
			if (plan_make(c.h, c.nh, c.v, c.nv, &c.p, &pl2, &e) != 0 ||
			    pl2.n_steps != pl.n_steps ||
			    (pl.n_steps && memcmp(pl.steps, pl2.steps, pl.n_steps * sizeof(*pl.steps))))
				fail_msg("%s: a second plan of the same input differs", ctx);
			plan_free(&pl2);
			/* hysteresis: thermal on the state it leaves moves nothing (unless the cap
			 * cut it short); consolidation on its own end state frees nothing more by
			 * moving what it moved (no VM twice) */
			if (s == PLAN_THERMAL && pl.eff.deferred == 0) {
				after = c;
				apply(after.h, after.v, &pl, c.p.c_per_cpu);
				if (plan_make(after.h, after.nh, after.v, after.nv, &after.p, &pl2, &e) != 0)
					fail_msg("%s: replan: %s", ctx, e.msg);
				if (pl2.n_steps != 0)
					fail_msg("%s: a thermal plan on its own end state moves v%zu %zu>%zu",
					    ctx, pl2.steps[0].vm, pl2.steps[0].from, pl2.steps[0].to);
				plan_free(&pl2);
			}
			plan_free(&pl);
		}
	}
	/* the generator must exercise every strategy, or the property says nothing */
	print_message("property: %d clusters per strategy; migrations evacuate %zu, thermal "
	    "%zu, consolidate %zu (%zu hosts freed)\n", PROP_CLUSTERS, moves[PLAN_EVACUATE],
	    moves[PLAN_THERMAL], moves[PLAN_CONSOLIDATE], freed);
	assert_true(moves[PLAN_EVACUATE] > 100 && moves[PLAN_THERMAL] > 20 &&
	    moves[PLAN_CONSOLIDATE] > 100);
}

/* Every allocation of a plan failed in turn, for each strategy on a medium cluster:
 * -ENOMEM, the result untouched, nothing leaked (LSan at exit), until one succeeds. */
static void
test_faults(void **state)
{
	static struct cluster c;

	(void)state;
	for (int s = 0; s < _PLAN_STRATEGY_MAX; s++) {
		long n;

		random_cluster(&c, (enum plan_strategy)s, 2 + (unsigned)s * 2); /* medium: even */
		c.p.max_steps = 0;
		for (n = 0;; n++) {
			struct plan pl = { .n_steps = 77 };
			struct dl_err e = { 0 };
			int r;

			fault_countdown = n;
			r = plan_make(c.h, c.nh, c.v, c.nv, &c.p, &pl, &e);
			fault_countdown = -1;
			if (r == 0) {
				assert_true(pl.n_steps != 77);
				plan_free(&pl);
				break;
			}
			assert_int_equal(r, -ENOMEM);
			assert_int_equal(pl.n_steps, 77);
			assert_non_null(strstr(e.msg, "out of memory"));
			assert_true(n < 10000);
		}
		print_message("faults: %s survived %ld failed allocations\n",
		    plan_strategy_to_string(s), n);
		assert_true(n > 5);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_evacuate_order),
		cmocka_unit_test(test_evacuate_unplaced),
		cmocka_unit_test(test_evacuate_pinned_group_ratio),
		cmocka_unit_test(test_evacuate_receivers),
		cmocka_unit_test(test_evacuate_cap),
		cmocka_unit_test(test_consolidate_beats_ffd),
		cmocka_unit_test(test_consolidate_whole_hosts),
		cmocka_unit_test(test_consolidate_spares_groups),
		cmocka_unit_test(test_thermal),
		cmocka_unit_test(test_thermal_no_room),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_place_one),
		cmocka_unit_test(test_property),
		cmocka_unit_test(test_faults),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
