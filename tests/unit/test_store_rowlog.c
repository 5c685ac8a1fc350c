/* SPDX-License-Identifier: MIT */
/* A SQLite reader keeps the node rows it read across the writer's commits, brought up to
 * date from the rows the writer committed (store_sqlite_rowlog.c), and empties them
 * whenever it cannot tell exactly what changed: another connection's write, a write
 * outside a transaction, a savepoint rolled back, more commits or rows than the log
 * holds. In every case it answers what the store holds; the counts say which way it
 * took. And on its own thread, against a writer that rewrites every node each commit, a
 * reader's batch never mixes two commits' rows. SQLite only: PostgreSQL has no readers'
 * cache. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../bootsvc/store/store.h"
#include "../../bootsvc/store/store_sqlite.h"

#define NODES 40

struct fixture {
	char dir[64];
	char path[96];
	struct store *s;
	struct store_reader *r;
};

static struct node_rec
node(unsigned i)
{
	struct node_rec n = { 0 };

	snprintf(n.name, sizeof(n.name), "r%04u", i);
	snprintf(n.mac, sizeof(n.mac), "52:54:00:02:%02x:%02x", (i >> 8) & 0xff, i & 0xff);
	memset(n.token, 'a', 64);
	strcpy(n.phase, "new");
	n.phase_at = n.created = 1000 + i;
	return n;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct dl_err e = { 0 };

	assert_non_null(f);
	strcpy(f->dir, "/tmp/test_store_rowlog.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/state.db", f->dir);
	if (store_open(f->path, &f->s, &e) < 0)
		fail_msg("open: %s", e.msg);
	assert_int_equal(store_batch_begin(f->s), 0);
	for (unsigned i = 0; i < NODES; i++) {
		struct node_rec n = node(i);

		assert_int_equal(store_node_insert(f->s, &n, &e), 0);
	}
	assert_int_equal(store_batch_end(f->s), 0);
	if (store_reader_open(f->s, &f->r, &e) < 0)
		fail_msg("reader: %s", e.msg);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	store_reader_close(f->r);
	store_close(f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

struct counts {
	uint64_t caught_up, emptied;
};

static struct counts
counts(struct fixture *f)
{
	struct counts c;

	store_sqlite_cache_counts(sqlite_conn_of(f->r), &c.caught_up, &c.emptied);
	return c;
}

/* Every node's phase as the reader gives it, in one batch, each one expected. */
static void
expect_phases(struct fixture *f, const char *phase)
{
	struct node_rec n;

	store_reader_batch_begin(f->r);
	for (unsigned i = 0; i < NODES; i++) {
		assert_int_equal(store_reader_node_get_by_mac(f->r, node(i).mac, &n), 0);
		assert_string_equal(n.name, node(i).name);
		assert_string_equal(n.phase, phase);
	}
	store_reader_batch_end(f->r);
}

/* Every node's phase in one batch of the writer. */
static void
set_phases(struct fixture *f, const char *phase, int64_t at)
{
	assert_int_equal(store_batch_begin(f->s), 0);
	for (unsigned i = 0; i < NODES; i++)
		assert_int_equal(store_node_set_phase(f->s, node(i).name, phase, "", at), 0);
	assert_int_equal(store_batch_end(f->s), 0);
}

/* The writer's commits are caught up with: the rows read after are the new ones, and
 * the reader did not empty what it kept. A commit that changed no node (an event) leaves
 * them as they are. */
static void
test_caught_up(void **state)
{
	struct fixture *f = *state;
	struct counts before, after;
	struct node_rec n;

	expect_phases(f, "new");
	before = counts(f);
	set_phases(f, "pxe", 2000);
	expect_phases(f, "pxe");
	after = counts(f);
	assert_int_equal(after.caught_up, before.caught_up + 1);
	assert_int_equal(after.emptied, before.emptied);

	/* several commits between two looks: one catch-up over all of them */
	set_phases(f, "loading", 2001);
	set_phases(f, "up", 2002);
	assert_int_equal(store_event_add(f->s, node(1).name, "note", "x", 2003), 0);
	expect_phases(f, "up");
	assert_int_equal(counts(f).caught_up, after.caught_up + 1);
	assert_int_equal(counts(f).emptied, before.emptied);

	/* a node deleted, its MAC given to another: the old row must not answer */
	assert_int_equal(store_batch_begin(f->s), 0);
	assert_int_equal(store_node_delete(f->s, node(3).name), 0);
	{
		struct node_rec m = node(3);
		struct dl_err e = { 0 };

		strcpy(m.name, "other");
		strcpy(m.phase, "up");
		assert_int_equal(store_node_insert(f->s, &m, &e), 0);
	}
	assert_int_equal(store_batch_end(f->s), 0);
	store_reader_batch_begin(f->r);
	assert_int_equal(store_reader_node_get(f->r, node(3).name, &n), -ENOENT);
	assert_int_equal(store_reader_node_get_by_mac(f->r, node(3).mac, &n), 0);
	assert_string_equal(n.name, "other");
	store_reader_batch_end(f->r);
	assert_int_equal(counts(f).emptied, before.emptied);
}

/* What cannot be told exactly empties the reader's rows, and it still answers right. */
static void
test_emptied_on_doubt(void **state)
{
	struct fixture *f = *state;
	struct store *other;
	struct counts c;
	struct dl_err e = { 0 };

	expect_phases(f, "new");
	c = counts(f);

	/* another connection's write */
	assert_int_equal(store_open(f->path, &other, &e), 0);
	assert_int_equal(store_batch_begin(other), 0);
	for (unsigned i = 0; i < NODES; i++)
		assert_int_equal(store_node_set_phase(other, node(i).name, "a", "", 1), 0);
	assert_int_equal(store_batch_end(other), 0);
	store_close(other);
	expect_phases(f, "a");
	assert_int_equal(counts(f).emptied, c.emptied + 1);

	/* a write outside a transaction of the writer's */
	for (unsigned i = 0; i < NODES; i++)
		assert_int_equal(store_node_set_phase(f->s, node(i).name, "b", "", 2), 0);
	expect_phases(f, "b");
	assert_int_equal(counts(f).emptied, c.emptied + 2);

	/* a savepoint rolled back inside a committed transaction */
	assert_int_equal(store_batch_begin(f->s), 0);
	for (unsigned i = 0; i < NODES; i++)
		assert_int_equal(store_node_set_phase(f->s, node(i).name, "c", "", 3), 0);
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_node_set_phase(f->s, node(0).name, "never", "", 4), 0);
	store_rollback(f->s);
	assert_int_equal(store_batch_end(f->s), 0);
	expect_phases(f, "c");
	assert_int_equal(counts(f).emptied, c.emptied + 3);

	/* back to catching up after it */
	c = counts(f);
	set_phases(f, "d", 5);
	expect_phases(f, "d");
	assert_int_equal(counts(f).caught_up, c.caught_up + 1);
	assert_int_equal(counts(f).emptied, c.emptied);

	/* a failed commit publishes nothing, and the reader never sees its rows */
	store_fault_fail_commits(f->s, 1);
	assert_int_equal(store_batch_begin(f->s), 0);
	for (unsigned i = 0; i < NODES; i++)
		assert_int_equal(store_node_set_phase(f->s, node(i).name, "lost", "", 6), 0);
	assert_int_equal(store_batch_end(f->s), -EIO);
	expect_phases(f, "d");
}

/* A group whose COMMIT failed is in the log for a moment (it goes in before the COMMIT,
 * and comes out after it failed). Another connection that commits the same gens in that
 * moment must not have the group taken for its commit: the tag its snapshot holds is not
 * the group's. */
static void
test_failed_commit_tag(void **state)
{
	struct fixture *f = *state;
	struct rowlog_group *g;
	struct store *other;
	struct node_rec n;
	struct counts c;
	struct dl_err e = { 0 };

	expect_phases(f, "new");
	c = counts(f);
	assert_int_equal(store_batch_begin(f->s), 0);
	assert_int_equal(store_node_set_phase(f->s, node(0).name, "dead", "", 1), 0);
	g = store_sqlite_rowlog_prepare(sqlite_writer(f->s));
	assert_non_null(g);
	store_fault_fail_commits(f->s, 1);
	assert_int_equal(store_batch_end(f->s), -EIO); /* rolled back, g still logged */

	assert_int_equal(store_open(f->path, &other, &e), 0);
	assert_int_equal(store_node_set_phase(other, node(0).name, "foreign", "", 2), 0);
	store_close(other);
	store_reader_batch_begin(f->r);
	assert_int_equal(store_reader_node_get_by_mac(f->r, node(0).mac, &n), 0);
	assert_string_equal(n.phase, "foreign");
	store_reader_batch_end(f->r);
	assert_int_equal(counts(f).emptied, c.emptied + 1);
	store_sqlite_rowlog_publish(sqlite_writer(f->s), g, false);

	/* and the writer's next commits are caught up with again */
	set_phases(f, "after", 3);
	expect_phases(f, "after");
	assert_int_equal(counts(f).caught_up, c.caught_up + 1);
}

/* More commits than the log keeps between two looks: emptied, and right. */
static void
test_log_overflow(void **state)
{
	struct fixture *f = *state;
	struct counts c;

	expect_phases(f, "new");
	c = counts(f);
	for (int i = 0; i < 300; i++) {
		char phase[16];

		snprintf(phase, sizeof(phase), "p%d", i);
		assert_int_equal(store_batch_begin(f->s), 0);
		assert_int_equal(store_node_set_phase(f->s, node(0).name, phase, "", i), 0);
		assert_int_equal(store_batch_end(f->s), 0);
	}
	set_phases(f, "last", 1);
	expect_phases(f, "last");
	assert_int_equal(counts(f).emptied, c.emptied + 1);
}

/* An image version added is seen at once (the reader drops the versions it keeps). */
static void
test_images(void **state)
{
	struct fixture *f = *state;
	struct image_rec img = { 0 }, got;
	struct dl_err e = { 0 };

	for (unsigned v = 1; v <= 3; v++) {
		snprintf(img.id, sizeof(img.id), "%08x%056x", v, 0);
		strcpy(img.name, "img");
		strcpy(img.kind, "linux");
		img.added = 100 + v;
		assert_int_equal(image_rec_file_set(&img, "kernel", img.id, v), 0);
		assert_int_equal(store_image_insert(f->s, &img, &e), 0);
		store_reader_batch_begin(f->r);
		assert_int_equal(store_reader_image_current(f->r, "img", &got), 0);
		assert_string_equal(got.id, img.id);
		store_reader_batch_end(f->r);
	}
	set_phases(f, "x", 1); /* a catch-up after the images' commits */
	expect_phases(f, "x");
}

/* The writer rewrites every node's phase to "g<i>" in commit i while the reader thread
 * reads all of them a batch at a time: each batch sees one commit whole, never an older
 * one after a newer, and the last batches the last commit. */
#define ROUNDS 200

struct run {
	struct fixture *f;
	atomic_bool done;
	unsigned batches, mixed, back, errors;
	int last;      /* the commit the last batch saw */
};

static void *
reader_main(void *arg)
{
	struct run *run = arg;
	int last = -1;

	for (run->batches = 0; run->batches < 100000; run->batches++) {
		bool done = atomic_load(&run->done);
		int first = -2;

		store_reader_batch_begin(run->f->r);
		for (unsigned i = 0; i < NODES; i++) {
			struct node_rec n;
			int g = -1;

			if (store_reader_node_get_by_mac(run->f->r, node(i).mac, &n) != 0) {
				run->errors++;
				continue;
			}
			if (strcmp(n.phase, "new") != 0 && sscanf(n.phase, "g%d", &g) != 1)
				run->errors++;
			if (first == -2)
				first = g;
			else if (g != first)
				run->mixed++;
		}
		store_reader_batch_end(run->f->r);
		if (first < last)
			run->back++;
		last = first;
		if (done && last == ROUNDS - 1)
			break;
	}
	run->last = last;
	return NULL;
}

static void
test_thread(void **state)
{
	struct fixture *f = *state;
	struct run run = { .f = f };
	struct counts c;
	pthread_t t;

	atomic_init(&run.done, false);
	assert_int_equal(pthread_create(&t, NULL, reader_main, &run), 0);
	for (int i = 0; i < ROUNDS; i++) {
		char phase[16];

		snprintf(phase, sizeof(phase), "g%d", i);
		set_phases(f, phase, i);
	}
	atomic_store(&run.done, true);
	assert_int_equal(pthread_join(t, NULL), 0);
	c = counts(f);
	print_message("reader: %u batches, %" PRIu64 " caught up, %" PRIu64 " emptied\n",
	    run.batches, c.caught_up, c.emptied);
	if (run.mixed || run.back || run.errors || run.last != ROUNDS - 1)
		fail_msg("batches=%u mixed=%u back=%u errors=%u last seen g%d", run.batches,
		    run.mixed, run.back, run.errors, run.last);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_caught_up),
		T(test_emptied_on_doubt),
		T(test_failed_commit_tag),
		T(test_log_overflow),
		T(test_images),
		T(test_thread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
