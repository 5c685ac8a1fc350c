/* SPDX-License-Identifier: MIT */
/* Reads follow every write, whatever the store keeps in memory (SQLite's writer keeps the
 * rows it read, store_sqlite_cache.c): each node write, a rollback of a transaction, of a
 * savepoint and of a failed commit, a write by another connection (a second store on the
 * same file or database), image versions added and removed, and more nodes than it keeps.
 * A row that comes from memory is the row a query gives, byte for byte.
 *
 * Every backend: run on SQLite, and again on PostgreSQL as test_store_cache@pg, which
 * keeps nothing (other servers write the same rows) and must give the same answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../bootsvc/store/store.h"
#include "store_dir.h"

#define MAC1 "52:54:00:00:00:01"

/* The node of MAC1 by its MAC and by its name, which must agree. */
static struct node_rec
get1(struct store *s)
{
	struct node_rec a, b;

	assert_int_equal(store_node_get_by_mac(s, MAC1, &a), 0);
	assert_int_equal(store_node_get(s, a.name, &b), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	return a;
}

static void
test_node_writes(void **state)
{
	struct store_dir *f = *state;
	struct node_rec n;

	store_dir_add_node(f->s, "c1", MAC1, "new");
	n = get1(f->s);
	assert_string_equal(n.phase, "new");

	assert_int_equal(store_node_set_phase(f->s, "c1", "pxe", "", 2000), 0);
	n = get1(f->s);
	assert_string_equal(n.phase, "pxe");
	assert_int_equal(n.phase_at, 2000);

	strcpy(n.op, "booting");
	n.attempts = 3;
	assert_int_equal(store_node_update_ctrl(f->s, &n), 0);
	n = get1(f->s);
	assert_string_equal(n.op, "booting");
	assert_int_equal(n.attempts, 3);

	strcpy(n.image, "compute");
	strcpy(n.served_image, "abcd");
	assert_int_equal(store_node_update(f->s, &n), 0);
	n = get1(f->s);
	assert_string_equal(n.image, "compute");
	assert_string_equal(n.served_image, "abcd");

	assert_int_equal(store_node_arm(f->s, "c1", n.token, true, "admin"), 0);
	n = get1(f->s);
	assert_true(n.armed);
	assert_string_equal(n.armed_by, "admin");

	/* gone, then the MAC given to a new node: the old row must not answer for it */
	assert_int_equal(store_node_delete(f->s, "c1"), 0);
	assert_int_equal(store_node_get_by_mac(f->s, MAC1, &n), -ENOENT);
	assert_int_equal(store_node_get(f->s, "c1", &n), -ENOENT);
	store_dir_add_node(f->s, "c2", MAC1, "new");
	n = get1(f->s);
	assert_string_equal(n.name, "c2");
	assert_string_equal(n.phase, "new");
	assert_false(n.armed);
}

/* What a transaction or savepoint read of its own writes is undone with them. */
static void
test_rollbacks(void **state)
{
	struct store_dir *f = *state;
	struct node_rec n;

	store_dir_add_node(f->s, "c1", MAC1, "new");
	(void)get1(f->s);

	/* a savepoint inside a batch */
	assert_int_equal(store_batch_begin(f->s), 0);
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_node_set_phase(f->s, "c1", "pxe", "", 2000), 0);
	assert_string_equal(get1(f->s).phase, "pxe");
	store_rollback(f->s);
	assert_string_equal(get1(f->s).phase, "new");
	/* the batch's own write, read, then the batch committed */
	assert_int_equal(store_node_set_phase(f->s, "c1", "kernel", "", 2001), 0);
	assert_string_equal(get1(f->s).phase, "kernel");
	assert_int_equal(store_batch_end(f->s), 0);
	assert_string_equal(get1(f->s).phase, "kernel");

	/* a transaction rolled back */
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_node_set_phase(f->s, "c1", "up", "", 2002), 0);
	assert_string_equal(get1(f->s).phase, "up");
	store_rollback(f->s);
	assert_string_equal(get1(f->s).phase, "kernel");

	/* a commit that fails is rolled back (a full disk, a lost lock) */
	store_fault_fail_commits(f->s, 1);
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_node_set_phase(f->s, "c1", "failed", "x", 2003), 0);
	assert_string_equal(get1(f->s).phase, "failed");
	assert_int_equal(store_commit(f->s), -EIO);
	assert_string_equal(get1(f->s).phase, "kernel");

	/* and a batch whose commit fails */
	store_fault_fail_commits(f->s, 1);
	assert_int_equal(store_batch_begin(f->s), 0);
	assert_int_equal(store_node_set_phase(f->s, "c1", "failed", "y", 2004), 0);
	assert_string_equal(get1(f->s).phase, "failed");
	assert_int_equal(store_batch_end(f->s), -EIO);
	n = get1(f->s);
	assert_string_equal(n.phase, "kernel");
	assert_int_equal(n.phase_at, 2001);
}

/* Another connection's commits are seen: outside a transaction at once, inside a batch
 * from its start. */
static void
test_other_connection(void **state)
{
	struct store_dir *f = *state;
	struct store *s2;
	struct node_rec n;
	struct dl_err e = { 0 };

	store_dir_add_node(f->s, "c1", MAC1, "new");
	(void)get1(f->s);
	assert_int_equal(store_open(f->path, &s2, &e), 0);

	assert_int_equal(store_node_set_phase(s2, "c1", "pxe", "", 2000), 0);
	assert_string_equal(get1(f->s).phase, "pxe");

	assert_int_equal(store_node_get(s2, "c1", &n), 0);
	strcpy(n.hold_reason, "by hand");
	n.hold = true;
	assert_int_equal(store_node_update_ctrl(s2, &n), 0);
	assert_int_equal(store_batch_begin(f->s), 0);
	n = get1(f->s);
	assert_true(n.hold);
	assert_string_equal(n.hold_reason, "by hand");
	assert_int_equal(store_batch_end(f->s), 0);

	assert_int_equal(store_node_delete(s2, "c1"), 0);
	assert_int_equal(store_node_get_by_mac(f->s, MAC1, &n), -ENOENT);
	store_close(s2);
}

/* A row from memory is the row a query gives: every field at its longest. */
static void
test_hit_is_the_row(void **state)
{
	struct store_dir *f = *state;
	struct node_rec n = { 0 }, first, again;
	struct dl_err e = { 0 };

#define FILL(field, c) memset(n.field, c, sizeof(n.field) - 1)
	snprintf(n.name, sizeof(n.name), "c1");
	snprintf(n.mac, sizeof(n.mac), "%s", MAC1);
	snprintf(n.ip, sizeof(n.ip), "10.200.200.200");
	snprintf(n.uuid, sizeof(n.uuid), "00112233-4455-6677-8899-aabbccddeeff");
	FILL(serial, 's'); FILL(bmc, 'b'); FILL(bmc_creds, 'c'); FILL(image, 'i');
	FILL(image_pin, 'p'); FILL(token, 't'); FILL(reason, 'r'); FILL(served_image, 'v');
	FILL(hold_reason, 'h'); FILL(drain_reason, 'd'); FILL(booted_image, 'o');
	FILL(last_error, 'e'); FILL(alloc_job, 'j'); FILL(alloc_class, 'k');
	FILL(health_reasons, 'w'); FILL(armed_by, 'a');
	strcpy(n.phase, "up");
	strcpy(n.want_power, "on");
	strcpy(n.power, "on");
	strcpy(n.op, "booting");
	strcpy(n.bmc_state, "ok");
	strcpy(n.health, "risky");
	n.phase_at = INT64_MAX;
	n.created = INT64_MIN;
	n.op_at_ms = 1234567890123;
	n.attempts = -7;
	n.retry_at_ms = 42;
	n.sel_last = 99;
	n.idle_since_ms = 77;
	n.hold = n.drain = n.armed = true;
#undef FILL
	if (store_node_insert(f->s, &n, &e) != 0)
		fail_msg("insert: %s", e.msg);
	assert_int_equal(store_node_get_by_mac(f->s, MAC1, &first), 0);
	assert_int_equal(store_node_get_by_mac(f->s, MAC1, &again), 0);
	assert_memory_equal(&first, &again, sizeof(first));
	assert_int_equal(store_node_get(f->s, "c1", &again), 0);
	assert_memory_equal(&first, &again, sizeof(first));
	assert_memory_equal(&first, &n, sizeof(n)); /* and what went in */
}

static struct image_rec
image(const char *name, char id_char, int64_t added)
{
	struct image_rec i = { 0 };
	char sha[SHA256_HEX_SIZE] = { 0 };

	memset(i.id, id_char, 64);
	snprintf(i.name, sizeof(i.name), "%s", name);
	strcpy(i.kind, "linux");
	snprintf(i.path, sizeof(i.path), "/images/%c", id_char);
	memset(sha, id_char, 64);
	assert_int_equal(image_rec_file_set(&i, "kernel", sha, 100), 0);
	i.added = added;
	return i;
}

static void
test_images(void **state)
{
	struct store_dir *f = *state;
	struct image_rec a = image("compute", 'a', 100), b = image("compute", 'b', 200), got;
	struct dl_err e = { 0 };
	struct store *s2;

	assert_int_equal(store_image_insert(f->s, &a, &e), 0);
	assert_int_equal(store_image_current(f->s, "compute", &got), 0);
	assert_string_equal(got.id, a.id);
	assert_int_equal(store_image_get(f->s, a.id, &got), 0);
	assert_true(got.current);

	assert_int_equal(store_image_insert(f->s, &b, &e), 0);
	assert_int_equal(store_image_current(f->s, "compute", &got), 0);
	assert_string_equal(got.id, b.id);
	assert_int_equal(store_image_get(f->s, a.id, &got), 0);
	assert_false(got.current); /* a newer version made it not current */

	assert_int_equal(store_image_delete(f->s, b.id), 0);
	assert_int_equal(store_image_current(f->s, "compute", &got), 0);
	assert_string_equal(got.id, a.id);
	assert_int_equal(store_image_get(f->s, b.id, &got), -ENOENT);

	/* an insert rolled back */
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_image_insert(f->s, &b, &e), 0);
	assert_int_equal(store_image_current(f->s, "compute", &got), 0);
	assert_string_equal(got.id, b.id);
	store_rollback(f->s);
	assert_int_equal(store_image_current(f->s, "compute", &got), 0);
	assert_string_equal(got.id, a.id);

	/* another connection's */
	assert_int_equal(store_open(f->path, &s2, &e), 0);
	assert_int_equal(store_image_insert(s2, &b, &e), 0);
	assert_int_equal(store_image_current(f->s, "compute", &got), 0);
	assert_string_equal(got.id, b.id);
	store_close(s2);
}

/* More nodes than SQLite keeps (16,384): each lookup still finds its own row, also after
 * a write to every tenth. */
#define MANY 17000
static void
test_many_nodes(void **state)
{
	struct store_dir *f = *state;
	char name[16], mac[MAC_STR_LEN];
	struct node_rec n;

	assert_int_equal(store_begin(f->s), 0);
	for (unsigned i = 0; i < MANY; i++) {
		snprintf(name, sizeof(name), "m%05u", i);
		snprintf(mac, sizeof(mac), "52:54:01:00:%02x:%02x", i >> 8, i & 255);
		store_dir_add_node(f->s, name, mac, "new");
	}
	assert_int_equal(store_commit(f->s), 0);
	for (unsigned round = 0; round < 2; round++) {
		for (unsigned i = 0; i < MANY; i++) {
			snprintf(name, sizeof(name), "m%05u", i);
			snprintf(mac, sizeof(mac), "52:54:01:00:%02x:%02x", i >> 8, i & 255);
			assert_int_equal(store_node_get_by_mac(f->s, mac, &n), 0);
			assert_string_equal(n.name, name);
			assert_string_equal(n.phase, round && i % 10 == 0 ? "pxe" : "new");
			if (!round && i % 10 == 0)
				assert_int_equal(store_node_set_phase(f->s, name, "pxe", "", 1), 0);
		}
	}
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, store_dir_setup, store_dir_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_node_writes),
		T(test_rollbacks),
		T(test_other_connection),
		T(test_hit_is_the_row),
		T(test_images),
		T(test_many_nodes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
