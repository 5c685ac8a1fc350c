/* SPDX-License-Identifier: MIT */
/* The store's read path for threads other than the loop (store.h, struct store_reader):
 * what a reader sees (committed state only, never blocked by the writer's transaction),
 * and a reader on a second thread while the loop's connection keeps writing: it never
 * fails, never loses a row it has seen, and never sees an image version without all of
 * its files. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../bootsvc/store/store.h"
#include "store_dir.h"

static struct node_rec
node(unsigned i)
{
	struct node_rec n = { 0 };

	snprintf(n.name, sizeof(n.name), "w%04u", i);
	snprintf(n.mac, sizeof(n.mac), "52:54:00:00:%02x:%02x", (i >> 8) & 0xff, i & 0xff);
	snprintf(n.ip, sizeof(n.ip), "10.1.%u.%u", (i >> 8) & 0xff, i & 0xff);
	memset(n.token, 'a', 64);
	strcpy(n.phase, "new");
	n.phase_at = n.created = 1000 + i;
	return n;
}

/* Version i of image "img": three files whose sha256 all start with the version's digit,
 * so a reader can tell a whole version from a torn one. */
static struct image_rec
image(unsigned i)
{
	static const char *const roles[3] = { "kernel", "initrd", "rootfs" };
	struct image_rec img = { 0 };

	snprintf(img.id, sizeof(img.id), "%08x%056x", i, 0);
	strcpy(img.name, "img");
	strcpy(img.kind, "linux");
	img.added = 100 + i;
	for (int k = 0; k < 3; k++) {
		char sha[SHA256_HEX_SIZE];
		snprintf(sha, sizeof(sha), "%08x%056x", i, k);
		assert_int_equal(image_rec_file_set(&img, roles[k], sha, 1000u * i + (unsigned)k),
		    0);
	}
	return img;
}

static void
insert_node(struct store *s, unsigned i)
{
	struct node_rec n = node(i);
	struct dl_err e = { 0 };

	if (store_node_insert(s, &n, &e) < 0)
		fail_msg("insert %s: %s", n.name, e.msg);
}

static void
insert_image(struct store *s, unsigned i)
{
	struct image_rec img = image(i);
	struct dl_err e = { 0 };

	if (store_image_insert(s, &img, &e) < 0)
		fail_msg("insert image %u: %s", i, e.msg);
}

/* Node 1 and image versions 1..images in f's store, and a reader on it. */
static struct store_reader *
reader_on(struct store_dir *f, unsigned images)
{
	struct store_reader *r = NULL;
	struct dl_err e = { 0 };

	insert_node(f->s, 1);
	for (unsigned i = 1; i <= images; i++)
		insert_image(f->s, i);
	assert_int_equal(store_reader_open(f->s, &r, &e), 0);
	assert_non_null(r);
	return r;
}

/* A reader sees what is committed, by every key, and nothing the writer has not committed
 * yet; the writer's open transaction does not make it wait. */
static void
test_reader_sees_committed(void **state)
{
	struct store_dir *f = *state;
	struct store_reader *r = reader_on(f, 2);
	struct image_rec img;
	struct node_rec n;
	struct dl_err e = { 0 };

	assert_int_equal(store_reader_node_get(r, "w0001", &n), 0);
	assert_string_equal(n.ip, "10.1.0.1");
	assert_int_equal(store_reader_node_get_by_mac(r, "52:54:00:00:00:01", &n), 0);
	assert_string_equal(n.name, "w0001");
	assert_int_equal(store_reader_node_get_by_ip(r, "10.1.0.1", &n), 0);
	assert_string_equal(n.name, "w0001");
	assert_int_equal(store_reader_node_get(r, "nosuch", &n), -ENOENT);
	assert_int_equal(store_reader_image_current(r, "img", &img), 0);
	assert_string_equal(img.id, image(2).id);
	assert_true(img.current);
	assert_int_equal(img.n_files, 3);
	assert_int_equal(image_rec_file(&img, "rootfs")->size, 2002);
	assert_int_equal(store_reader_image_get(r, image(1).id, &img), 0);
	assert_false(img.current);
	assert_int_equal(store_reader_image_resolve(r, "img@00000001", &img, &e), 0);
	assert_string_equal(img.id, image(1).id);
	assert_int_equal(store_reader_image_resolve(r, "img@0000", &img, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "ambiguous"));
	assert_int_equal(store_reader_image_resolve(r, "nosuch", &img, &e), -ENOENT);

	/* the writer's transaction: invisible to the reader until it commits, and the reader
	 * answers at once instead of waiting on its lock */
	assert_int_equal(store_begin(f->s), 0);
	insert_node(f->s, 2);
	assert_int_equal(store_node_set_phase(f->s, "w0001", "pxe", "", 5), 0);
	assert_int_equal(store_reader_node_get(r, "w0002", &n), -ENOENT);
	assert_int_equal(store_reader_node_get(r, "w0001", &n), 0);
	assert_string_equal(n.phase, "new");
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_reader_node_get(r, "w0002", &n), 0);
	assert_int_equal(store_reader_node_get(r, "w0001", &n), 0);
	assert_string_equal(n.phase, "pxe");

	/* a batch: nothing before its end */
	assert_int_equal(store_batch_begin(f->s), 0);
	insert_node(f->s, 3);
	insert_image(f->s, 3);
	assert_int_equal(store_reader_node_get(r, "w0003", &n), -ENOENT);
	assert_int_equal(store_reader_image_current(r, "img", &img), 0);
	assert_string_equal(img.id, image(2).id);
	assert_int_equal(store_batch_end(f->s), 0);
	assert_int_equal(store_reader_node_get(r, "w0003", &n), 0);
	assert_int_equal(store_reader_image_current(r, "img", &img), 0);
	assert_string_equal(img.id, image(3).id);

	/* a rolled-back write never shows */
	assert_int_equal(store_begin(f->s), 0);
	insert_node(f->s, 4);
	store_rollback(f->s);
	assert_int_equal(store_reader_node_get(r, "w0004", &n), -ENOENT);

	assert_null(store_reader_close(r));
	assert_null(store_reader_close(NULL));
}

/* A reader's batch (a reader thread's MHD_run pass): one snapshot for its lookups, the
 * rows it kept trusted inside it; the writer's commit meanwhile shows from the next batch
 * (or lookup) on, never half. */
static void
test_reader_batch(void **state)
{
	struct store_dir *f = *state;
	struct store_reader *r = reader_on(f, 1);
	struct image_rec img;
	struct node_rec n;

	store_reader_batch_end(r); /* none open: nothing happens */
	for (int round = 0; round < 3; round++) {
		char phase[16];

		(void)snprintf(phase, sizeof(phase), "p%d", round);
		store_reader_batch_begin(r);
		assert_int_equal(store_reader_node_get_by_mac(r, "52:54:00:00:00:01", &n), 0);
		assert_string_equal(n.phase, round ? "p" : "new");
		assert_int_equal(store_reader_image_current(r, "img", &img), 0);
		/* the writer commits a new phase and a new version mid-batch */
		assert_int_equal(store_node_set_phase(f->s, "w0001", phase, "", 5), 0);
		insert_image(f->s, (unsigned)round + 2);
		assert_int_equal(store_reader_node_get_by_mac(r, "52:54:00:00:00:01", &n), 0);
		assert_string_equal(n.phase, round ? "p" : "new");
		assert_int_equal(store_reader_node_get(r, "w0001", &n), 0);
		assert_string_equal(n.phase, round ? "p" : "new");
		assert_int_equal(store_reader_image_current(r, "img", &img), 0);
		assert_string_equal(img.id, image((unsigned)round + 1).id);
		store_reader_batch_end(r);
		/* the next batch sees all of it */
		store_reader_batch_begin(r);
		assert_int_equal(store_reader_node_get_by_mac(r, "52:54:00:00:00:01", &n), 0);
		assert_string_equal(n.phase, phase);
		assert_int_equal(store_reader_image_current(r, "img", &img), 0);
		assert_string_equal(img.id, image((unsigned)round + 2).id);
		store_reader_batch_end(r);
		assert_int_equal(store_node_set_phase(f->s, "w0001", "p", "", 5), 0);
	}
	assert_null(store_reader_close(r));
}

/* A lookup that fails inside a reader's batch (here a name that is not UTF-8, which
 * PostgreSQL refuses and which aborts its transaction) costs that lookup only: the batch's
 * next lookups answer, and so does the next batch. */
static void
test_reader_batch_after_error(void **state)
{
	struct store_dir *f = *state;
	struct store_reader *r = reader_on(f, 1);
	struct image_rec img;
	struct node_rec n;

	store_reader_batch_begin(r);
	assert_int_equal(store_reader_node_get(r, "w0001", &n), 0);
	assert_true(store_reader_node_get(r, "w\xff\xfe", &n) < 0);
	assert_int_equal(store_reader_node_get(r, "w0001", &n), 0);
	assert_string_equal(n.name, "w0001");
	assert_int_equal(store_reader_node_get_by_mac(r, "52:54:00:00:00:01", &n), 0);
	assert_int_equal(store_reader_image_current(r, "img", &img), 0);
	assert_int_equal(store_reader_node_get(r, "nobody", &n), -ENOENT);
	store_reader_batch_end(r);
	store_reader_batch_begin(r);
	assert_int_equal(store_reader_node_get(r, "w0001", &n), 0);
	store_reader_batch_end(r);
	assert_null(store_reader_close(r));
}

/* Rounds of writes on the loop's connection while the reader thread reads. */
#define WRITE_ROUNDS 300
/* Reads the reader thread makes at most: far more than it needs to see the last round
 * (it stops then), a bound so a broken store fails the test instead of hanging it. */
#define MAX_READS 2000000

struct reader_run {
	struct store_reader *r;
	atomic_bool writer_done;
	/* results, read after join */
	unsigned reads, reads_during, last_seen, torn, errors, lost;
	char err[256];
};

static void *
reader_main(void *userdata)
{
	struct reader_run *run = userdata;
	unsigned seen = 0; /* nodes w0000..w<seen-1> have been seen */
	struct image_rec img;
	struct node_rec n;
	struct dl_err e = { 0 };

	for (run->reads = 0; run->reads < MAX_READS; run->reads++) {
		bool done = atomic_load(&run->writer_done);
		int r;

		if (!done)
			run->reads_during++;
		/* the next node, then one already seen: rows never go away */
		r = store_reader_node_get(run->r, node(seen).name, &n);
		if (r == 0) {
			if (strcmp(n.mac, node(seen).mac) != 0)
				run->errors++;
			seen++;
		} else if (r != -ENOENT) {
			run->errors++;
			snprintf(run->err, sizeof(run->err), "node_get: %d", r);
		}
		if (seen && store_reader_node_get_by_mac(run->r, node(run->reads % seen).mac,
		    &n) != 0)
			run->lost++;
		/* the current version: whole, never a row without all its files */
		r = store_reader_image_current(run->r, "img", &img);
		if (r == 0) {
			if (img.n_files != 3 || strncmp(img.files[2].sha256, img.id, 8) != 0)
				run->torn++;
		} else if (r != -ENOENT) {
			run->errors++;
			snprintf(run->err, sizeof(run->err), "image_current: %d", r);
		} else if (seen > 1) {
			run->lost++; /* version 0 went in before node 1 */
		}
		if (r == 0 && store_reader_image_resolve(run->r, img.id, &img, &e) != 0)
			run->lost++;
		if (done && seen == WRITE_ROUNDS)
			break;
	}
	run->last_seen = seen;
	return NULL;
}

/* The reader on its own thread, the loop's connection writing: nodes one per round (some
 * rounds in a batch, some in a transaction with a savepoint rolled back), an image version
 * every few rounds, phases of nodes already added. */
static void
test_reader_thread(void **state)
{
	struct store_dir *f = *state;
	struct reader_run run = { 0 };
	struct dl_err e = { 0 };
	pthread_t t;

	atomic_init(&run.writer_done, false);
	assert_int_equal(store_reader_open(f->s, &run.r, &e), 0);
	assert_int_equal(pthread_create(&t, NULL, reader_main, &run), 0);

	for (unsigned i = 0; i < WRITE_ROUNDS; i++) {
		switch (i % 3) {
		case 0:
			insert_image(f->s, i / 3);
			insert_node(f->s, i);
			break;
		case 1:
			assert_int_equal(store_batch_begin(f->s), 0);
			insert_node(f->s, i);
			assert_int_equal(store_node_set_phase(f->s, node(i - 1).name, "pxe", "",
			    2000 + i), 0);
			assert_int_equal(store_batch_end(f->s), 0);
			break;
		default:
			assert_int_equal(store_begin(f->s), 0);
			insert_node(f->s, i);
			assert_int_equal(store_begin(f->s), 0);
			insert_node(f->s, WRITE_ROUNDS + i); /* rolled back: never seen */
			store_rollback(f->s);
			assert_int_equal(store_commit(f->s), 0);
			break;
		}
	}
	atomic_store(&run.writer_done, true);
	assert_int_equal(pthread_join(t, NULL), 0);
	store_reader_close(run.r);

	/* Not asserted: a busy machine may run the reader only after the writer. */
	print_message("reader: %u reads, %u of them while the writer wrote\n", run.reads,
	    run.reads_during);
	if (run.errors || run.torn || run.lost || run.last_seen != WRITE_ROUNDS)
		fail_msg("reads=%u seen=%u/%u errors=%u (%s) torn=%u lost=%u", run.reads,
		    run.last_seen, WRITE_ROUNDS, run.errors, run.err, run.torn, run.lost);
}

/* A store that is not a file has no readers to give. */
static void
test_reader_memory_store(void **state)
{
	struct store *s = NULL;
	struct store_reader *r = NULL;
	struct dl_err e = { 0 };

	(void)state;
	assert_int_equal(store_open(":memory:", &s, &e), 0);
	assert_int_equal(store_reader_open(s, &r, &e), -ENOTSUP);
	assert_null(r);
	assert_non_null(strstr(e.msg, "':memory:'"));
	store_close(s);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, store_dir_setup, store_dir_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_reader_sees_committed),
		T(test_reader_batch),
		T(test_reader_batch_after_error),
		T(test_reader_thread),
		cmocka_unit_test(test_reader_memory_store),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
