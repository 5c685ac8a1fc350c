/* SPDX-License-Identifier: MIT */
/* The store's retention (store.h, docs/store.md): history kept by count per node (trimmed
 * at each append, a bounded number of rows each), by age (pruned in bounded batches), and
 * the WAL truncated by a checkpoint. A real SQLite store in a temp dir. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "log.h"
#include "store_dir.h"

static void
add_node(struct store *s, const char *name, int i)
{
	struct node_rec n = { 0 };
	struct dl_err e = { 0 };

	snprintf(n.name, sizeof(n.name), "%s", name);
	snprintf(n.mac, sizeof(n.mac), "52:54:00:00:00:%02x", i);
	snprintf(n.token, sizeof(n.token), "%064d", i);
	strcpy(n.phase, "new");
	assert_int_equal(store_node_insert(s, &n, &e), 0);
}

static int
count_cb(const struct event_rec *e, void *userdata)
{
	size_t *n = userdata;

	(void)e;
	(*n)++;
	return 0;
}

static size_t
count_events(struct store *s)
{
	size_t n = 0;

	assert_int_equal(store_events_since(s, 0, 1000000, count_cb, &n), 0);
	return n;
}

static size_t
history_of(struct store *s, const char *node)
{
	struct phase_event h[300];
	size_t n = 0;

	assert_int_equal(store_node_history(s, node, h, 300, &n), 0);
	return n;
}

static void
test_keep_per_node(void **state)
{
	struct store_dir *d = *state;

	add_node(d->s, "n1", 1);
	add_node(d->s, "n2", 2);
	/* a backlog from before a limit was set */
	for (int i = 0; i < 150; i++)
		assert_int_equal(store_node_set_phase(d->s, "n1", "pxe", "", i), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(store_event_add(d->s, "n2", "power-on", "", i), 0);
	assert_int_equal(history_of(d->s, "n1"), 150);
	store_history_keep(d->s, 10);
	/* one append trims MAX_HISTORY_TRIM of the backlog, not all of it at once */
	assert_int_equal(store_node_set_phase(d->s, "n1", "up", "", 1000), 0);
	assert_int_equal(count_events(d->s), 151 - MAX_HISTORY_TRIM + 3);
	assert_int_equal(store_node_set_phase(d->s, "n1", "up", "", 1001), 0);
	assert_int_equal(store_node_set_phase(d->s, "n1", "up", "", 1002), 0);
	assert_int_equal(history_of(d->s, "n1"), 10);
	/* then each append keeps it at 10; the newest stay; n2 untouched */
	for (int i = 0; i < 50; i++)
		assert_int_equal(store_event_add(d->s, "n1", "power-cycle", "", 2000 + i), 0);
	assert_int_equal(count_events(d->s), 10 + 3);
	assert_int_equal(history_of(d->s, "n2"), 0); /* actions are not phases */
	/* seq keeps growing: a subscriber's since stays valid */
	assert_true(store_event_last_seq(d->s) >= 150 + 3 + 53);
}

static void
test_prune_age(void **state)
{
	struct store_dir *d = *state;
	size_t n;

	add_node(d->s, "n1", 1);
	for (int i = 0; i < 2500; i++)
		assert_int_equal(store_event_add(d->s, "n1", "power-on", "", i), 0);
	/* rows with at < 2000 go, at most 1000 a call */
	assert_int_equal(store_history_prune(d->s, 2000, 1000, &n), 0);
	assert_int_equal(n, 1000);
	assert_int_equal(store_history_prune(d->s, 2000, 1000, &n), 0);
	assert_int_equal(n, 1000);
	assert_int_equal(store_history_prune(d->s, 2000, 1000, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(count_events(d->s), 500);
	assert_int_equal(store_history_prune(d->s, 0, 1000, &n), 0);
	assert_int_equal(n, 0);
}

static off_t
wal_size(const struct store_dir *d)
{
	char p[sizeof(d->path) + 8];
	struct stat st;

	snprintf(p, sizeof(p), "%s-wal", d->path);
	return stat(p, &st) == 0 ? st.st_size : -1;
}

static void
test_checkpoint(void **state)
{
	struct store_dir *d = *state;
	struct store_reader *r;
	struct node_rec n;
	struct dl_err e = { 0 };
	int64_t frames = 0;

	add_node(d->s, "n1", 1);
	for (int i = 0; i < 500; i++)
		assert_int_equal(store_event_add(d->s, "n1", "power-on", "a reason of some length",
		    i), 0);
	assert_true(wal_size(d) > 0);
	assert_int_equal(store_checkpoint(d->s, &frames), 0);
	assert_int_equal(frames, 0);
	assert_int_equal(wal_size(d), 0);
	/* inside a transaction: refused, nothing done */
	assert_int_equal(store_begin(d->s), 0);
	assert_int_equal(store_checkpoint(d->s, NULL), -EBUSY);
	store_rollback(d->s);
	/* a reader between its calls holds no snapshot: the log is truncated again */
	assert_int_equal(store_reader_open(d->s, &r, &e), 0);
	assert_int_equal(store_event_add(d->s, "n1", "power-off", "", 600), 0);
	assert_int_equal(store_reader_node_get(r, "n1", &n), 0);
	assert_true(wal_size(d) > 0);
	assert_int_equal(store_checkpoint(d->s, NULL), 0);
	assert_int_equal(wal_size(d), 0);
	store_reader_close(r);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, store_dir_setup, store_dir_teardown)

int
main(void)
{
	/* Every backend: run once on SQLite, and again on PostgreSQL as @pg. */
	const struct CMUnitTest tests[] = {
		T(test_keep_per_node),
		T(test_prune_age),
	};
	/* SQLite only: its WAL file and checkpoint (PostgreSQL's server checkpoints itself). */
	const struct CMUnitTest sqlite_tests[] = {
		T(test_checkpoint),
	};
	int failed;

	log_set_level(LOG_ERR);
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	if (!store_dir_is_pg())
		failed += cmocka_run_group_tests(sqlite_tests, NULL, NULL);
	return failed;
}
