/* SPDX-License-Identifier: MIT */
/* The store's node disks (issue 14) against a real SQLite file: a row per node with its
 * clone and secrets, a tid given once (the lowest free) and kept across new clones, the
 * persistent property gone with its node, and images' up_probe. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../bootsvc/store/store.h"
#include "store_dir.h"

static struct disk_rec
disk(const char *node, const char *state)
{
	struct disk_rec d = { 0 };

	snprintf(d.node, sizeof(d.node), "%s", node);
	memset(d.image_id, 'b', 64);
	snprintf(d.path, sizeof(d.path), "/var/lib/diskless/disks/%s.img", node);
	strcpy(d.method, "reflink");
	d.apparent_bytes = 1 << 30;
	d.allocated_bytes = 4096;
	snprintf(d.state, sizeof(d.state), "%s", state);
	strcpy(d.chap_user, "n1");
	strcpy(d.chap_secret, "c2VjcmV0c2VjcmV0c2VjcmV0");
	strcpy(d.boot, "controller@1000");
	d.made_at = 1000;
	d.make_ms = 12;
	return d;
}

static void
test_disk_rows(void **state)
{
	struct store_dir *f = *state;
	struct disk_rec a = disk("n1", "making"), got;

	assert_int_equal(store_disk_get(f->s, "n1", &got), -ENOENT);
	assert_int_equal(store_disk_put(f->s, &a), 0);
	assert_int_equal(a.tid, 1);
	assert_int_equal(store_disk_get(f->s, "n1", &got), 0);
	assert_string_equal(got.state, "making");
	assert_string_equal(got.chap_secret, a.chap_secret);
	assert_string_equal(got.boot, "controller@1000");
	assert_int_equal(got.apparent_bytes, 1 << 30);
	assert_int_equal(got.tid, 1);
	assert_false(got.reset);

	/* a rewrite keeps the tid whatever the caller says */
	a.tid = 77;
	strcpy(a.state, "ready");
	a.reset = true;
	assert_int_equal(store_disk_put(f->s, &a), 0);
	assert_int_equal(a.tid, 1);
	assert_int_equal(store_disk_get(f->s, "n1", &got), 0);
	assert_string_equal(got.state, "ready");
	assert_int_equal(got.tid, 1);
	assert_true(got.reset);

	/* readers see it too */
	struct store_reader *r = NULL;
	struct dl_err e = { 0 };
	assert_int_equal(store_reader_open(f->s, &r, &e), 0);
	assert_int_equal(store_reader_disk_get(r, "n1", &got), 0);
	assert_string_equal(got.path, a.path);
	assert_int_equal(store_reader_disk_get(r, "n9", &got), -ENOENT);
	r = store_reader_close(r);

	assert_int_equal(store_disk_delete(f->s, "n1"), 0);
	assert_int_equal(store_disk_delete(f->s, "n1"), -ENOENT);
	assert_int_equal(store_disk_get(f->s, "n1", &got), -ENOENT);
}

static void
test_disk_tid_lowest_free(void **state)
{
	struct store_dir *f = *state;
	struct disk_rec a = disk("a", "ready"), b = disk("b", "ready"), c = disk("c", "ready"),
	    d = disk("d", "ready"), x = disk("x", "ready");

	assert_int_equal(store_disk_put(f->s, &a), 0);
	assert_int_equal(store_disk_put(f->s, &b), 0);
	assert_int_equal(store_disk_put(f->s, &c), 0);
	assert_int_equal(a.tid, 1);
	assert_int_equal(b.tid, 2);
	assert_int_equal(c.tid, 3);
	/* a freed tid is the next one given, also 1 */
	assert_int_equal(store_disk_delete(f->s, "b"), 0);
	assert_int_equal(store_disk_put(f->s, &d), 0);
	assert_int_equal(d.tid, 2);
	assert_int_equal(store_disk_delete(f->s, "a"), 0);
	a.tid = 0;
	assert_int_equal(store_disk_put(f->s, &a), 0);
	assert_int_equal(a.tid, 1);
	/* a tid given that another node has is refused; one out of range too */
	x.tid = 3;
	assert_int_equal(store_disk_put(f->s, &x), -EEXIST);
	x.tid = MAX_DISK_TID + 1;
	assert_int_equal(store_disk_put(f->s, &x), -ENOSPC);
	x.tid = MAX_DISK_TID;
	assert_int_equal(store_disk_put(f->s, &x), 0);
	assert_int_equal(x.tid, MAX_DISK_TID);
}

static int
collect(const struct disk_rec *d, void *userdata)
{
	char *names = userdata;

	strcat(names, d->node);
	strcat(names, ",");
	return 0;
}

static int
stop(const struct disk_rec *d, void *userdata)
{
	(void)d;
	(*(int *)userdata)++;
	return -ECANCELED;
}

static void
test_disk_foreach(void **state)
{
	struct store_dir *f = *state;
	struct disk_rec c = disk("c", "ready"), a = disk("a", "failed"), b = disk("b", "making");
	char names[64] = "";
	int n = 0;

	assert_int_equal(store_disk_put(f->s, &c), 0);
	assert_int_equal(store_disk_put(f->s, &a), 0);
	assert_int_equal(store_disk_put(f->s, &b), 0);
	assert_int_equal(store_disk_foreach(f->s, collect, names), 0);
	assert_string_equal(names, "a,b,c,");
	assert_int_equal(store_disk_foreach(f->s, stop, &n), -ECANCELED);
	assert_int_equal(n, 1);
}

static void
test_disk_persistent(void **state)
{
	struct store_dir *f = *state;
	struct disk_rec a = disk("n1", "ready"), got;

	assert_int_equal(store_disk_persistent_set(f->s, "n1", true), -ENOENT);
	assert_int_equal(store_disk_persistent_set(f->s, "n1", false), -ENOENT);
	store_dir_add_node(f->s, "n1", "52:54:00:00:00:01", "up");
	assert_false(store_disk_persistent_get(f->s, "n1"));
	assert_int_equal(store_disk_persistent_set(f->s, "n1", true), 0);
	assert_int_equal(store_disk_persistent_set(f->s, "n1", true), 0); /* idempotent */
	assert_true(store_disk_persistent_get(f->s, "n1"));
	assert_int_equal(store_disk_persistent_set(f->s, "n1", false), 0);
	assert_false(store_disk_persistent_get(f->s, "n1"));
	assert_int_equal(store_disk_persistent_set(f->s, "n1", false), 0);
	assert_int_equal(store_disk_persistent_set(f->s, "n1", true), 0);

	/* the property goes with the node; the disk row stays for the iscsi room to remove
	 * its clone first */
	assert_int_equal(store_disk_put(f->s, &a), 0);
	assert_int_equal(store_node_delete(f->s, "n1"), 0);
	assert_false(store_disk_persistent_get(f->s, "n1"));
	assert_int_equal(store_disk_get(f->s, "n1", &got), 0);
}

static void
test_image_up_probe(void **state)
{
	struct store_dir *f = *state;
	struct image_rec i = { 0 }, got;
	struct dl_err e = { 0 };

	memset(i.id, 'c', 64);
	strcpy(i.name, "disk-debian");
	strcpy(i.kind, "iscsi");
	strcpy(i.path, "/srv/images/disk-debian/x");
	strcpy(i.up_probe, "tcp:22");
	assert_int_equal(image_rec_file_set(&i, "disk", "d", 1 << 20), 0);
	assert_int_equal(store_image_insert(f->s, &i, &e), 0);
	assert_int_equal(store_image_get(f->s, i.id, &got), 0);
	assert_string_equal(got.up_probe, "tcp:22");
	assert_string_equal(got.kind, "iscsi");
	assert_int_equal(store_image_current(f->s, "disk-debian", &got), 0);
	assert_string_equal(got.up_probe, "tcp:22");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, store_dir_setup, store_dir_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_disk_rows),
		T(test_disk_tid_lowest_free),
		T(test_disk_foreach),
		T(test_disk_persistent),
		T(test_image_up_probe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
