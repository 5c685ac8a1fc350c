/* SPDX-License-Identifier: MIT */
/* The store's VM plans, steps and drains (issue 13) against a real SQLite file: a plan
 * and its steps are written in one transaction (all or nothing), read back equal, walked
 * in the executor's order (priority, plan, seq), rewritten by key, pruned once finished
 * and old; a drain is kept per node and goes with it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../bootsvc/store/store.h"
#include "store_dir.h"

static struct vm_plan_rec
plan(const char *strategy, int64_t created)
{
	struct vm_plan_rec p = { 0 };

	snprintf(p.strategy, sizeof(p.strategy), "%s", strategy);
	strcpy(p.origin, "admin");
	strcpy(p.state, "pending");
	snprintf(p.reason, sizeof(p.reason), "%s asked", strategy);
	p.created_ms = created;
	p.migrations = 2;
	p.hosts_freed = 1;
	p.mib_moved = 3072;
	p.peak_c_before = 81.5;
	p.peak_c_after = 64.25;
	return p;
}

static struct vm_step_rec
step(unsigned seq, unsigned prio, const char *vm, const char *src, const char *dst)
{
	struct vm_step_rec st = { 0 };

	st.seq = seq;
	st.priority = prio;
	strcpy(st.action, dst[0] ? "migrate" : "power-off");
	snprintf(st.vm_uuid, sizeof(st.vm_uuid), "%s", dst[0] ?
	    "11111111-2222-4333-8444-555555555555" : "");
	snprintf(st.vm_name, sizeof(st.vm_name), "%s", vm);
	snprintf(st.src, sizeof(st.src), "%s", src);
	snprintf(st.dst, sizeof(st.dst), "%s", dst);
	st.mem_mib = 1024;
	strcpy(st.state, "pending");
	strcpy(st.reason, "doomed: CPU Temp upper critical");
	st.plan_id = 999; /* ignored: the store sets it */
	return st;
}

struct walk {
	struct vm_step_rec st[16];
	struct vm_plan_rec p[8];
	size_t n, np;
};

static int
collect_step(const struct vm_step_rec *st, void *userdata)
{
	struct walk *w = userdata;

	assert_true(w->n < ELEMENTSOF(w->st));
	w->st[w->n++] = *st;
	return 0;
}

static int
collect_plan(const struct vm_plan_rec *p, void *userdata)
{
	struct walk *w = userdata;

	assert_true(w->np < ELEMENTSOF(w->p));
	w->p[w->np++] = *p;
	return 0;
}

static struct walk
steps_of(struct store *s, int64_t plan_id)
{
	struct walk w = { 0 };

	assert_int_equal(store_vm_step_foreach(s, plan_id, collect_step, &w), 0);
	return w;
}

static struct walk
plans(struct store *s, bool unfinished)
{
	struct walk w = { 0 };

	assert_int_equal(store_vm_plan_foreach(s, unfinished, collect_plan, &w), 0);
	return w;
}

static void
test_add_get_put(void **state)
{
	struct store_dir *f = *state;
	struct vm_plan_rec p = plan("evacuate", 5000), got;
	struct vm_step_rec st[] = { step(0, 0, "g1", "hv1", "hv2"), step(1, 0, "g2", "hv1", "hv3"),
		step(2, 0, "", "hv1", "") };
	struct walk w;

	assert_int_equal(store_vm_plan_add(f->s, &p, st, ELEMENTSOF(st)), 0);
	assert_true(p.id > 0);
	assert_int_equal(store_vm_plan_get(f->s, p.id, &got), 0);
	assert_memory_equal(&got, &p, sizeof(p));
	assert_int_equal(store_vm_plan_get(f->s, p.id + 1, &got), -ENOENT);

	w = steps_of(f->s, p.id);
	assert_int_equal(w.n, 3);
	for (size_t i = 0; i < 3; i++) {
		struct vm_step_rec want = st[i];

		want.plan_id = p.id;
		assert_memory_equal(&w.st[i], &want, sizeof(want));
	}
	assert_string_equal(w.st[2].action, "power-off");

	/* the executor's writes: intent, progress, the end */
	struct vm_step_rec s1 = w.st[0];
	strcpy(s1.state, "running");
	s1.attempts = 1;
	s1.started_ms = 6000;
	s1.data_total = 1 << 30;
	s1.data_processed = 1 << 29;
	s1.data_remaining = 1 << 29;
	s1.downtime_ms = 42;
	s1.postcopy = true;
	assert_int_equal(store_vm_step_put(f->s, &s1), 0);
	w = steps_of(f->s, p.id);
	assert_memory_equal(&w.st[0], &s1, sizeof(s1));
	s1.seq = 7;
	assert_int_equal(store_vm_step_put(f->s, &s1), -ENOENT);

	strcpy(p.state, "failed");
	strcpy(p.reason, "g1: migration job failed");
	p.ended_ms = 9000;
	p.created_ms = 1; /* never rewritten */
	assert_int_equal(store_vm_plan_put(f->s, &p), 0);
	assert_int_equal(store_vm_plan_get(f->s, p.id, &got), 0);
	assert_string_equal(got.state, "failed");
	assert_string_equal(got.reason, "g1: migration job failed");
	assert_int_equal(got.ended_ms, 9000);
	assert_int_equal(got.created_ms, 5000);
	p.id += 100;
	assert_int_equal(store_vm_plan_put(f->s, &p), -ENOENT);
}

/* Steps of unfinished plans in (priority, plan, seq) order, whatever order they were
 * added in; a finished plan's steps are not walked. */
static void
test_order(void **state)
{
	struct store_dir *f = *state;
	struct vm_plan_rec a = plan("consolidate", 1), b = plan("evacuate", 2),
	    c = plan("thermal", 3);
	struct vm_step_rec sa[] = { step(0, 2, "a0", "hv1", "hv2"), step(1, 2, "a1", "hv1", "hv2") };
	struct vm_step_rec sb[] = { step(0, 0, "b0", "hv3", "hv2"), step(1, 0, "b1", "hv3", "hv1") };
	struct vm_step_rec sc[] = { step(0, 1, "c0", "hv2", "hv4") };
	struct walk w;

	assert_int_equal(store_vm_plan_add(f->s, &a, sa, 2), 0);
	assert_int_equal(store_vm_plan_add(f->s, &b, sb, 2), 0);
	assert_int_equal(store_vm_plan_add(f->s, &c, sc, 1), 0);
	assert_true(a.id < b.id && b.id < c.id);
	w = steps_of(f->s, 0);
	assert_int_equal(w.n, 5);
	static const char *const want[] = { "b0", "b1", "c0", "a0", "a1" };
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(w.st[i].vm_name, want[i]);

	strcpy(b.state, "done");
	b.ended_ms = 10;
	assert_int_equal(store_vm_plan_put(f->s, &b), 0);
	w = steps_of(f->s, 0);
	assert_int_equal(w.n, 3);
	assert_string_equal(w.st[0].vm_name, "c0");
	/* one plan's steps, finished or not */
	assert_int_equal(steps_of(f->s, b.id).n, 2);

	w = plans(f->s, true);
	assert_int_equal(w.np, 2);
	assert_int_equal(w.p[0].id, a.id);
	assert_int_equal(w.p[1].id, c.id);
	assert_true(w.p[1].peak_c_before == 81.5);
	assert_int_equal(plans(f->s, false).np, 3);
}

/* All or nothing: a duplicate seq rolls the whole plan back; a plan past the limit is
 * refused before anything is written. */
static void
test_add_atomic(void **state)
{
	struct store_dir *f = *state;
	struct vm_plan_rec p = plan("migrate", 1);
	struct vm_step_rec dup[] = { step(0, 2, "g1", "hv1", "hv2"), step(0, 2, "g2", "hv1", "hv2") };
	struct vm_step_rec *many;

	assert_int_equal(store_vm_plan_add(f->s, &p, dup, 2), -EEXIST);
	assert_int_equal(p.id, 0);
	assert_int_equal(plans(f->s, false).np, 0);
	assert_int_equal(steps_of(f->s, 0).n, 0);

	many = calloc(MAX_VM_PLAN_STEPS + 1, sizeof(*many));
	assert_non_null(many);
	assert_int_equal(store_vm_plan_add(f->s, &p, many, MAX_VM_PLAN_STEPS + 1), -EINVAL);
	free(many);
	assert_int_equal(plans(f->s, false).np, 0);
	/* an empty plan is a plan (the planner found nothing to do) */
	assert_int_equal(store_vm_plan_add(f->s, &p, NULL, 0), 0);
	assert_true(p.id > 0);
}

/* Finished plans that ended before the cut go with their steps; unfinished ones and
 * recent ones stay. */
static void
test_prune(void **state)
{
	struct store_dir *f = *state;
	struct vm_plan_rec old = plan("migrate", 1), recent = plan("migrate", 2),
	    live = plan("migrate", 3);
	struct vm_step_rec st[] = { step(0, 2, "g1", "hv1", "hv2") };

	assert_int_equal(store_vm_plan_add(f->s, &old, st, 1), 0);
	assert_int_equal(store_vm_plan_add(f->s, &recent, st, 1), 0);
	assert_int_equal(store_vm_plan_add(f->s, &live, st, 1), 0);
	strcpy(old.state, "done");
	old.ended_ms = 1000;
	strcpy(recent.state, "cancelled");
	recent.ended_ms = 5000;
	assert_int_equal(store_vm_plan_put(f->s, &old), 0);
	assert_int_equal(store_vm_plan_put(f->s, &recent), 0);
	assert_int_equal(store_vm_plan_prune(f->s, 4000), 1);
	assert_int_equal(store_vm_plan_get(f->s, old.id, &old), -ENOENT);
	assert_int_equal(steps_of(f->s, old.id).n, 0);
	assert_int_equal(store_vm_plan_prune(f->s, 4000), 0);
	assert_int_equal(plans(f->s, false).np, 2);
	assert_int_equal(store_vm_plan_prune(f->s, 1000000), 1);
	assert_int_equal(plans(f->s, false).np, 1);
	assert_int_equal(steps_of(f->s, live.id).n, 1);
}

static int
collect_drain(const char *node, const char *reason, void *userdata)
{
	char *out = userdata;

	strcat(out, node);
	strcat(out, "=");
	strcat(out, reason);
	strcat(out, ";");
	return 0;
}

static void
test_drain(void **state)
{
	struct store_dir *f = *state;
	char reason[MAX_REASON], all[256] = "";

	assert_int_equal(store_vm_drain_set(f->s, "hv1", true, "fan"), -ENOENT);
	assert_int_equal(store_vm_drain_set(f->s, "hv1", false, NULL), -ENOENT);
	store_dir_add_node(f->s, "hv1", "52:54:00:00:00:01", "up");
	store_dir_add_node(f->s, "hv2", "52:54:00:00:00:02", "up");
	assert_false(store_vm_drain_get(f->s, "hv1", reason, sizeof(reason)));
	assert_int_equal(store_vm_drain_set(f->s, "hv1", false, NULL), 0); /* not drained: fine */
	assert_int_equal(store_vm_drain_set(f->s, "hv1", true, "fan"), 0);
	assert_int_equal(store_vm_drain_set(f->s, "hv2", true, "bios update"), 0);
	assert_true(store_vm_drain_get(f->s, "hv1", reason, sizeof(reason)));
	assert_string_equal(reason, "fan");
	assert_true(store_vm_drain_get(f->s, "hv1", NULL, 0));
	assert_int_equal(store_vm_drain_set(f->s, "hv1", true, "fan 2"), 0);
	assert_int_equal(store_vm_drain_foreach(f->s, collect_drain, all), 0);
	assert_string_equal(all, "hv1=fan 2;hv2=bios update;");
	assert_int_equal(store_vm_drain_set(f->s, "hv1", false, NULL), 0);
	assert_false(store_vm_drain_get(f->s, "hv1", reason, sizeof(reason)));
	/* gone with its node */
	assert_int_equal(store_node_delete(f->s, "hv2"), 0);
	assert_false(store_vm_drain_get(f->s, "hv2", reason, sizeof(reason)));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, store_dir_setup, store_dir_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_add_get_put),
		T(test_order),
		T(test_add_atomic),
		T(test_prune),
		T(test_drain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
