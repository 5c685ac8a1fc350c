/* SPDX-License-Identifier: MIT */
/* The verbs that write in one transaction, with their COMMIT failing
 * (store_fault_fail_commits: the transaction is left open, as a full disk or a lost lock
 * leaves it): each answers an error that says what failed, nothing it wrote stays, and the
 * next verb (the same one again) works: no transaction is left open for a later BEGIN to
 * fail on. A real SQLite store in a temp dir, control_handle_line end to end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "../../bootsvc/control/control.h"
#include "log.h"
#include "manifest.h"
#include "store_dir.h"

struct fixture {
	struct store_dir sd;
	struct bootsvc bs;
	char image_id[SHA256_HEX_SIZE];
};

/* An image version directory "compute" under dir (as test_control.c makes it). */
static void
make_image(const char *dir, char id[static SHA256_HEX_SIZE], char *path, size_t path_size)
{
	static const char *const files[] = { "vmlinuz", "initrd", "rootfs.squashfs" };
	char m[2048], p[512];
	struct manifest man = { 0 };
	struct dl_err e = { 0 };
	FILE *fp;

	snprintf(m, sizeof(m),
	    "{\"format\":1,\"name\":\"compute\",\"kind\":\"linux\",\"built\":\"2026-11-25T03:00:00Z\","
	    "\"recipe_sha256\":\"%064d\",\"kernel_version\":\"6.1.0-56-amd64\","
	    "\"kernel_banner\":\"6.1.0-56-amd64 (x) #1 SMP\",\"cmdline\":\"console=ttyS0\","
	    "\"files\":{\"kernel\":{\"path\":\"vmlinuz\",\"sha256\":\"%064d\",\"size\":1},"
	    "\"initrd\":{\"path\":\"initrd\",\"sha256\":\"%064d\",\"size\":2},"
	    "\"rootfs\":{\"path\":\"rootfs.squashfs\",\"sha256\":\"%064d\",\"size\":3}}}",
	    1, 2, 3, 4);
	assert_int_equal(manifest_parse(m, strlen(m), &man, &e), 0);
	assert_int_equal(manifest_id(&man, id, &e), 0);
	manifest_done(&man);
	snprintf(path, path_size, "%s/%s", dir, id);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(p, sizeof(p), "%s/manifest.json", path);
	assert_non_null(fp = fopen(p, "w"));
	fputs(m, fp);
	fclose(fp);
	for (int k = 0; k < 3; k++) {
		snprintf(p, sizeof(p), "%s/%s", path, files[k]);
		assert_non_null(fp = fopen(p, "w"));
		fwrite("xyz", 1, (size_t)k + 1, fp);
		fclose(fp);
	}
}

static json_t *
call(struct bootsvc *bs, const char *req)
{
	char *out = control_handle_line(bs, req, strlen(req));
	json_t *o;

	assert_non_null(out);
	o = json_loads(out, 0, NULL);
	if (!o)
		print_error("not JSON: %s\n", out);
	free(out);
	assert_non_null(o);
	return o;
}

static void
expect_ok(struct bootsvc *bs, const char *req)
{
	json_t *o = call(bs, req);

	if (!json_is_true(json_object_get(o, "ok"))) {
		char *s = json_dumps(o, JSON_COMPACT);
		print_error("%s\n -> %s\n", req, s);
		free(s);
	}
	assert_true(json_is_true(json_object_get(o, "ok")));
	json_decref(o);
}

/* An error with code and a message containing msg. */
static void
expect_err(struct bootsvc *bs, const char *req, const char *code, const char *msg)
{
	json_t *o = call(bs, req), *err = json_object_get(o, "error");
	const char *c = json_string_value(json_object_get(err, "code"));
	const char *m = json_string_value(json_object_get(err, "message"));

	if (json_is_true(json_object_get(o, "ok")) || !c || strcmp(c, code) != 0 || !m ||
	    !strstr(m, msg)) {
		char *s = json_dumps(o, JSON_COMPACT);
		print_error("%s\n -> %s\n want %s '%s'\n", req, s, code, msg);
		free(s);
	}
	assert_true(json_is_false(json_object_get(o, "ok")));
	assert_non_null(c);
	assert_string_equal(c, code);
	assert_non_null(m);
	assert_non_null(strstr(m, msg));
	json_decref(o);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct dl_err e = { 0 };
	char path[256], req[512];

	if (!f)
		return -1;
	config_init(&f->bs.cfg);
	if (config_set(&f->bs.cfg, "node_ip_range", "10.0.0.10,10.0.0.19", &e) < 0 ||
	    store_dir_open(&f->sd) < 0)
		return -1;
	f->bs.store = f->sd.s;
	log_set_level(LOG_CRIT);
	make_image(f->sd.dir, f->image_id, path, sizeof(path));
	snprintf(req, sizeof(req), "{\"id\":1,\"verb\":\"image.add\",\"args\":{\"path\":\"%s\"}}",
	    path);
	expect_ok(&f->bs, req);
	expect_ok(&f->bs, "{\"id\":1,\"verb\":\"node.add\",\"args\":{\"names\":\"n[1-3]\","
	    "\"macs\":\"52:54:00:00:00:[01-03]\",\"bmcs\":\"10.0.2.[1-3]\","
	    "\"bmc_creds\":\"/etc/diskless/bmc.creds\"}}");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	store_dir_remove(&f->sd);
	free(f);
	return 0;
}

static size_t
count_nodes(struct bootsvc *bs)
{
	json_t *o = call(bs, "{\"id\":1,\"verb\":\"node.list\"}");
	size_t n = json_array_size(json_object_get(json_object_get(o, "result"), "nodes"));

	json_decref(o);
	return n;
}

static void
get_node(struct bootsvc *bs, const char *name, struct node_rec *ret)
{
	assert_int_equal(store_node_get(bs->store, name, ret), 0);
}

/* After a failed commit the store has no transaction open: a new one begins. */
static void
assert_no_tx_left(struct bootsvc *bs)
{
	assert_int_equal(store_begin(bs->store), 0);
	assert_int_equal(store_commit(bs->store), 0);
}

static void
test_node_add(void **state)
{
	struct fixture *f = *state;
	static const char req[] = "{\"id\":1,\"verb\":\"node.add\",\"args\":{\"names\":\"m[1-2]\","
	    "\"macs\":\"52:54:00:00:01:[01-02]\"}}";
	int64_t seq = store_event_last_seq(f->bs.store);

	store_fault_fail_commits(f->bs.store, 1);
	expect_err(&f->bs, req, "EIO", "node.add: the store could not commit");
	assert_int_equal(count_nodes(&f->bs), 3);
	assert_int_equal(store_event_last_seq(f->bs.store), seq);
	assert_no_tx_left(&f->bs);
	/* the addresses the rolled-back nodes had are given out again, and it all works */
	expect_ok(&f->bs, req);
	assert_int_equal(count_nodes(&f->bs), 5);
}

static void
test_node_remove(void **state)
{
	struct fixture *f = *state;
	static const char req[] = "{\"id\":1,\"verb\":\"node.remove\",\"args\":{\"names\":\"n[1-2]\"}}";

	store_fault_fail_commits(f->bs.store, 1);
	expect_err(&f->bs, req, "EIO", "node.remove: the store could not commit");
	assert_int_equal(count_nodes(&f->bs), 3);
	assert_no_tx_left(&f->bs);
	expect_ok(&f->bs, req);
	assert_int_equal(count_nodes(&f->bs), 1);
}

static void
test_node_set(void **state)
{
	struct fixture *f = *state;
	static const char req[] = "{\"id\":1,\"verb\":\"node.set\",\"args\":{\"names\":\"n[1-3]\","
	    "\"image\":\"compute\"}}";
	struct node_rec n;

	store_fault_fail_commits(f->bs.store, 1);
	expect_err(&f->bs, req, "EIO", "node.set: the store could not commit");
	get_node(&f->bs, "n2", &n);
	assert_string_equal(n.image, "");
	assert_no_tx_left(&f->bs);
	expect_ok(&f->bs, req);
	get_node(&f->bs, "n2", &n);
	assert_string_equal(n.image, "compute");
}

static void
test_provision(void **state)
{
	struct fixture *f = *state;
	static const char req[] = "{\"id\":1,\"verb\":\"provision\",\"args\":{\"names\":\"n[1-3]\","
	    "\"image\":\"compute\"}}";
	int64_t seq = store_event_last_seq(f->bs.store);
	struct node_rec n;

	store_fault_fail_commits(f->bs.store, 1);
	expect_err(&f->bs, req, "EIO", "provision: the store could not commit");
	get_node(&f->bs, "n3", &n);
	assert_string_equal(n.image, "");
	assert_string_equal(n.want_power, "");
	assert_int_equal(store_event_last_seq(f->bs.store), seq);
	assert_no_tx_left(&f->bs);
	expect_ok(&f->bs, req);
	get_node(&f->bs, "n3", &n);
	assert_string_equal(n.image_pin, f->image_id);
	assert_string_equal(n.want_power, "on");
	assert_int_equal(store_event_last_seq(f->bs.store), seq + 3);
}

static void
test_allocate(void **state)
{
	struct fixture *f = *state;
	static const char req[] = "{\"id\":1,\"verb\":\"allocate\",\"args\":{\"job\":\"j1\","
	    "\"count\":2,\"image\":\"compute\"}}";
	struct node_rec n1, n2;

	store_fault_fail_commits(f->bs.store, 1);
	expect_err(&f->bs, req, "EIO", "allocate: the store could not commit");
	get_node(&f->bs, "n1", &n1);
	get_node(&f->bs, "n2", &n2);
	assert_string_equal(n1.alloc_job, "");
	assert_string_equal(n2.alloc_job, "");
	assert_no_tx_left(&f->bs);
	expect_ok(&f->bs, req);
	get_node(&f->bs, "n1", &n1);
	get_node(&f->bs, "n2", &n2);
	assert_string_equal(n1.alloc_job, "j1");
	assert_string_equal(n2.alloc_job, "j1");
}

/* A batch whose commit fails (the HTTP requests of one MHD pass) loses it all, cleanly. */
static void
test_batch(void **state)
{
	struct fixture *f = *state;
	struct node_rec n;

	assert_int_equal(store_batch_begin(f->bs.store), 0);
	assert_int_equal(store_node_set_phase(f->bs.store, "n1", "pxe", "", 1), 0);
	store_fault_fail_commits(f->bs.store, 1);
	assert_int_equal(store_batch_end(f->bs.store), -EIO);
	get_node(&f->bs, "n1", &n);
	assert_string_equal(n.phase, "new");
	assert_no_tx_left(&f->bs);
	assert_int_equal(store_batch_begin(f->bs.store), 0);
	assert_int_equal(store_node_set_phase(f->bs.store, "n1", "pxe", "", 1), 0);
	assert_int_equal(store_batch_end(f->bs.store), 0);
	get_node(&f->bs, "n1", &n);
	assert_string_equal(n.phase, "pxe");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_node_add),
		T(test_node_remove),
		T(test_node_set),
		T(test_provision),
		T(test_allocate),
		T(test_batch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
