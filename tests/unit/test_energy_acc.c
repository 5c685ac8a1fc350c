/* SPDX-License-Identifier: MIT */
/* Energy accumulated in memory (controller/energy_acc.h) against a real store: passes
 * write nothing, a flush writes each node's and image's totals once, exactly what the
 * passes accounted; a removed node drops out; the clock carries across a flush. Model:
 * on 250 W, off 8 W, booting 300 W. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../bootsvc/controller/energy_acc.h"
#include "log.h"
#include "macro.h"
#include "store_dir.h"

static const struct energy_model model = { .watts = { [ES_ON] = 250, [ES_OFF] = 8,
	[ES_BOOTING] = 300 } };

static void
add_node(struct store *s, const char *name, int i, const char *power, const char *image)
{
	struct node_rec n = { 0 };
	struct dl_err e = { 0 };

	snprintf(n.name, sizeof(n.name), "%s", name);
	snprintf(n.mac, sizeof(n.mac), "52:54:00:00:00:%02x", i);
	snprintf(n.token, sizeof(n.token), "%064d", i);
	strcpy(n.phase, "new");
	assert_int_equal(store_node_insert(s, &n, &e), 0);
	assert_int_equal(store_node_get(s, name, &n), 0);
	strcpy(n.power, power);
	assert_int_equal(store_node_update_ctrl(s, &n), 0);
	strcpy(n.image, image);
	assert_int_equal(store_node_update(s, &n), 0);
}

static int
count_rows(const struct energy_rec *e, void *userdata)
{
	(void)e;
	(*(int *)userdata)++;
	return 0;
}

/* The image totals of test_flush_step_fails: three nodes on for 60 s, once. */
static int
check_image(const struct energy_rec *e, void *userdata)
{
	(void)userdata;
	assert_string_equal(e->name, "compute");
	assert_int_equal(e->on_mj, 3 * 250LL * 60000);
	return 0;
}

static void
test_pass_flush(void **state)
{
	struct store_dir *d = *state;
	struct energy_acc a = { 0 };
	struct energy_rec r;
	const int64_t t0 = 1700000000000;
	int rows = 0;

	add_node(d->s, "a1", 1, "on", "compute");
	add_node(d->s, "b1", 2, "off", "compute");
	add_node(d->s, "c1", 3, "on", "");
	for (int i = 0; i <= 20; i++)
		assert_int_equal(energy_acc_pass(&a, d->s, &model, t0 + i * 30000), 0);
	/* ten minutes accounted, nothing written */
	assert_int_equal(store_energy_foreach(d->s, count_rows, &rows), 0);
	assert_int_equal(rows, 0);
	assert_int_equal(store_node_delete(d->s, "c1"), 0);
	assert_int_equal(energy_acc_flush(&a, d->s), 0);
	assert_int_equal(store_energy_get(d->s, "a1", &r), 0);
	assert_int_equal(r.on_mj, 250LL * 600000);
	assert_int_equal(r.at_ms, t0 + 600000);
	assert_int_equal(store_energy_get(d->s, "b1", &r), 0);
	assert_int_equal(r.off_mj, 8LL * 600000);
	assert_int_equal(r.saved_mj, (250LL - 8) * 600000);
	/* the removed node got no row back */
	assert_int_equal(store_energy_get(d->s, "c1", &r), -ENOENT);
	rows = 0;
	assert_int_equal(store_energy_image_foreach(d->s, count_rows, &rows), 0);
	assert_int_equal(rows, 2); /* compute, and (none) for c1 while it lived */
	/* after a flush, from the store's clock on; a second flush adds, not replaces */
	assert_int_equal(energy_acc_pass(&a, d->s, &model, t0 + 630000), 0);
	assert_int_equal(energy_acc_flush(&a, d->s), 0);
	assert_int_equal(store_energy_get(d->s, "a1", &r), 0);
	assert_int_equal(r.on_mj, 250LL * 630000);
	/* an empty flush writes nothing and succeeds */
	assert_int_equal(energy_acc_flush(&a, d->s), 0);
	energy_acc_done(&a);
}

/* A failed flush keeps what is pending; the next one writes it. */
static void
test_flush_fails(void **state)
{
	struct store_dir *d = *state;
	struct energy_acc a = { 0 };
	struct energy_rec r;
	const int64_t t0 = 1700000000000;

	add_node(d->s, "a1", 1, "on", "compute");
	assert_int_equal(energy_acc_pass(&a, d->s, &model, t0), 0);
	assert_int_equal(energy_acc_pass(&a, d->s, &model, t0 + 60000), 0);
	store_fault_fail_commits(d->s, 1);
	assert_int_equal(energy_acc_flush(&a, d->s), -EIO);
	assert_int_equal(store_energy_get(d->s, "a1", &r), -ENOENT);
	assert_int_equal(energy_acc_flush(&a, d->s), 0);
	assert_int_equal(store_energy_get(d->s, "a1", &r), 0);
	assert_int_equal(r.on_mj, 250LL * 60000);
	energy_acc_done(&a);
}

/* A pass reads every node's row (its clock and measured draws) in one query and finds
 * each node's by name, whatever order the backend's collation sorts them in: upper and
 * lower case, '-' and '_' sort differently under strcmp and a locale. */
static void
test_pass_reads_rows(void **state)
{
	struct store_dir *d = *state;
	struct energy_acc a = { 0 };
	static const char *const names[] = { "node_1", "Node-2", "node-10", "a9" };
	struct energy_rec r;
	const int64_t t0 = 1700000000000;

	for (size_t i = 0; i < ELEMENTSOF(names); i++) {
		add_node(d->s, names[i], (int)i + 1, "on", "compute");
		memset(&r, 0, sizeof(r));
		snprintf(r.name, sizeof(r.name), "%s", names[i]);
		r.at_ms = t0 - 60000 * (int64_t)(i + 1); /* the store's clock: a flush ago */
		r.on_mj = 1000 * (int64_t)i;
		r.last_w = 100 + 10 * (unsigned)i;       /* measured */
		r.baseline_w = r.last_w;
		assert_int_equal(store_energy_put(d->s, &r), 0);
	}
	assert_int_equal(energy_acc_pass(&a, d->s, &model, t0), 0);
	assert_int_equal(energy_acc_pass(&a, d->s, &model, t0 + 30000), 0);
	assert_int_equal(energy_acc_flush(&a, d->s), 0);
	for (size_t i = 0; i < ELEMENTSOF(names); i++) {
		unsigned w = 100 + 10 * (unsigned)i;

		assert_int_equal(store_energy_get(d->s, names[i], &r), 0);
		/* from its own clock, at its own measured draw, added to its own total */
		assert_int_equal(r.on_mj, 1000 * (int64_t)i +
		    (int64_t)w * (60000 * (int64_t)(i + 1) + 30000));
		assert_int_equal(r.at_ms, t0 + 30000);
		assert_int_equal(r.last_w, w);
		assert_int_equal(r.baseline_w, w);
	}
	energy_acc_done(&a);
}

/* A pass in steps of two nodes over five: not done until its last step, each node
 * accounted once at its own step's time, a node removed before its step drops out; a
 * flush in steps of two writes exactly what the whole one would. A pass and a flush never
 * interleave (-EBUSY). */
static void
test_steps(void **state)
{
	struct store_dir *d = *state;
	struct energy_acc a = { 0 };
	static const char *const names[] = { "s1", "s2", "s3", "s4", "s5" };
	struct energy_rec r;
	const int64_t t0 = 1700000000000;
	bool done, probe;
	int steps;

	for (size_t i = 0; i < ELEMENTSOF(names); i++)
		add_node(d->s, names[i], (int)i + 1, "on", "compute");
	assert_int_equal(energy_acc_pass(&a, d->s, &model, t0), 0);
	/* the next pass in steps, 10 s apart: s1-s2 at +30 s, s3 and s5 at +40 s (s4 removed
	 * after the first), and the third finds no node left */
	for (steps = 0, done = false; !done; steps++) {
		assert_int_equal(energy_acc_step(&a, d->s, &model, t0 + 30000 + steps * 10000,
		    2, &done), 0);
		assert_int_equal(done, steps == 2);
		if (steps == 0) {
			/* not met yet: it drops out at the end of the pass */
			assert_int_equal(store_node_delete(d->s, "s4"), 0);
			assert_int_equal(energy_acc_flush_step(&a, d->s, 2, &probe), -EBUSY);
		}
	}
	assert_int_equal(steps, 3);
	assert_int_equal(a.n, 4);
	/* a flush in steps of two: two of two nodes, a last one with the images */
	for (steps = 0, done = false; !done; steps++) {
		assert_int_equal(energy_acc_flush_step(&a, d->s, 2, &done), 0);
		if (steps == 0)
			assert_int_equal(energy_acc_step(&a, d->s, &model, t0, 2, &probe), -EBUSY);
	}
	assert_int_equal(steps, 3);
	assert_int_equal(store_energy_get(d->s, "s1", &r), 0);
	assert_int_equal(r.on_mj, 250LL * 30000);
	assert_int_equal(r.at_ms, t0 + 30000);
	assert_int_equal(store_energy_get(d->s, "s3", &r), 0);
	assert_int_equal(r.on_mj, 250LL * 40000);
	assert_int_equal(store_energy_get(d->s, "s5", &r), 0);
	assert_int_equal(r.on_mj, 250LL * 40000);
	assert_int_equal(r.at_ms, t0 + 40000);
	assert_int_equal(store_energy_get(d->s, "s4", &r), -ENOENT);
	/* a whole pass after it: from the flushed clocks on, nothing counted twice */
	assert_int_equal(energy_acc_pass(&a, d->s, &model, t0 + 60000), 0);
	assert_int_equal(energy_acc_flush(&a, d->s), 0);
	assert_int_equal(store_energy_get(d->s, "s1", &r), 0);
	assert_int_equal(r.on_mj, 250LL * 60000);
	assert_int_equal(store_energy_get(d->s, "s5", &r), 0);
	assert_int_equal(r.on_mj, 250LL * 60000);
	energy_acc_done(&a);
}

/* A flush step that fails keeps its nodes pending and starts the flush over; the steps
 * committed before it are not written twice. */
static void
test_flush_step_fails(void **state)
{
	struct store_dir *d = *state;
	struct energy_acc a = { 0 };
	static const char *const names[] = { "f1", "f2", "f3" };
	struct energy_rec r;
	const int64_t t0 = 1700000000000;
	bool done = false;

	for (size_t i = 0; i < ELEMENTSOF(names); i++)
		add_node(d->s, names[i], (int)i + 1, "on", "compute");
	assert_int_equal(energy_acc_pass(&a, d->s, &model, t0), 0);
	assert_int_equal(energy_acc_pass(&a, d->s, &model, t0 + 60000), 0);
	assert_int_equal(energy_acc_flush_step(&a, d->s, 2, &done), 0); /* f1, f2 */
	assert_false(done);
	store_fault_fail_commits(d->s, 1);
	assert_int_equal(energy_acc_flush_step(&a, d->s, 2, &done), -EIO); /* f3, images */
	assert_int_equal(store_energy_get(d->s, "f3", &r), -ENOENT);
	assert_int_equal(energy_acc_flush(&a, d->s), 0);
	for (size_t i = 0; i < ELEMENTSOF(names); i++) {
		assert_int_equal(store_energy_get(d->s, names[i], &r), 0);
		assert_int_equal(r.on_mj, 250LL * 60000);
		assert_int_equal(r.at_ms, t0 + 60000);
	}
	assert_int_equal(store_energy_image_foreach(d->s, check_image, NULL), 0);
	energy_acc_done(&a);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, store_dir_setup, store_dir_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_pass_flush),
		T(test_flush_fails),
		T(test_pass_reads_rows),
		T(test_steps),
		T(test_flush_step_fails),
	};

	log_set_level(LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
