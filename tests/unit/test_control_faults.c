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
#include "control_call.h"

struct fixture {
	struct control_fixture cf;
	char image_id[SHA256_HEX_SIZE];
};

/* One request that must succeed. */
static void
expect_ok_at(const char *file, int line, struct bootsvc *bs, const char *req)
{
	json_t *resp;

	(void)check_ok_at(file, line, bs, req, &resp);
	json_decref(resp);
}
#define expect_ok(bs, req) expect_ok_at(__FILE__, __LINE__, (bs), (req))
#define expect_err(bs, req, code, msg) check_err(bs, req, code, msg)

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char path[256], req[512];

	if (!f || control_fixture_open(&f->cf, LOG_CRIT) < 0)
		return -1;
	control_make_image(f->cf.sd.dir, "compute", f->image_id, path, sizeof(path));
	snprintf(req, sizeof(req), "{\"id\":1,\"verb\":\"image.add\",\"args\":{\"path\":\"%s\"}}",
	    path);
	expect_ok(&f->cf.bs, req);
	expect_ok(&f->cf.bs, "{\"id\":1,\"verb\":\"node.add\",\"args\":{\"names\":\"n[1-3]\","
	    "\"macs\":\"52:54:00:00:00:[01-03]\",\"bmcs\":\"10.0.2.[1-3]\","
	    "\"bmc_creds\":\"/etc/diskless/bmc.creds\"}}");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	control_fixture_close(&f->cf);
	free(f);
	return 0;
}

static size_t
count_nodes(struct bootsvc *bs)
{
	json_t *o = control_call(bs, "{\"id\":1,\"verb\":\"node.list\"}");
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
	int64_t seq = store_event_last_seq(f->cf.bs.store);
	uint64_t errors = store_errors(f->cf.bs.store);

	store_fault_fail_commits(f->cf.bs.store, 1);
	expect_err(&f->cf.bs, req, "EIO", "node.add: the store could not commit");
	/* counted for /metrics' diskless_store_errors_total (issue 16) */
	assert_int_equal(store_errors(f->cf.bs.store), errors + 1);
	assert_int_equal(count_nodes(&f->cf.bs), 3);
	assert_int_equal(store_event_last_seq(f->cf.bs.store), seq);
	assert_no_tx_left(&f->cf.bs);
	/* the addresses the rolled-back nodes had are given out again, and it all works */
	expect_ok(&f->cf.bs, req);
	assert_int_equal(count_nodes(&f->cf.bs), 5);
}

static void
test_node_remove(void **state)
{
	struct fixture *f = *state;
	static const char req[] = "{\"id\":1,\"verb\":\"node.remove\",\"args\":{\"names\":\"n[1-2]\"}}";

	store_fault_fail_commits(f->cf.bs.store, 1);
	expect_err(&f->cf.bs, req, "EIO", "node.remove: the store could not commit");
	assert_int_equal(count_nodes(&f->cf.bs), 3);
	assert_no_tx_left(&f->cf.bs);
	expect_ok(&f->cf.bs, req);
	assert_int_equal(count_nodes(&f->cf.bs), 1);
}

static void
test_node_set(void **state)
{
	struct fixture *f = *state;
	static const char req[] = "{\"id\":1,\"verb\":\"node.set\",\"args\":{\"names\":\"n[1-3]\","
	    "\"image\":\"compute\"}}";
	struct node_rec n;

	store_fault_fail_commits(f->cf.bs.store, 1);
	expect_err(&f->cf.bs, req, "EIO", "node.set: the store could not commit");
	get_node(&f->cf.bs, "n2", &n);
	assert_string_equal(n.image, "");
	assert_no_tx_left(&f->cf.bs);
	expect_ok(&f->cf.bs, req);
	get_node(&f->cf.bs, "n2", &n);
	assert_string_equal(n.image, "compute");
}

static void
test_provision(void **state)
{
	struct fixture *f = *state;
	static const char req[] = "{\"id\":1,\"verb\":\"provision\",\"args\":{\"names\":\"n[1-3]\","
	    "\"image\":\"compute\"}}";
	int64_t seq = store_event_last_seq(f->cf.bs.store);
	struct node_rec n;

	store_fault_fail_commits(f->cf.bs.store, 1);
	expect_err(&f->cf.bs, req, "EIO", "provision: the store could not commit");
	get_node(&f->cf.bs, "n3", &n);
	assert_string_equal(n.image, "");
	assert_string_equal(n.want_power, "");
	assert_int_equal(store_event_last_seq(f->cf.bs.store), seq);
	assert_no_tx_left(&f->cf.bs);
	expect_ok(&f->cf.bs, req);
	get_node(&f->cf.bs, "n3", &n);
	assert_string_equal(n.image_pin, f->image_id);
	assert_string_equal(n.want_power, "on");
	assert_int_equal(store_event_last_seq(f->cf.bs.store), seq + 3);
}

static void
test_allocate(void **state)
{
	struct fixture *f = *state;
	static const char req[] = "{\"id\":1,\"verb\":\"allocate\",\"args\":{\"job\":\"j1\","
	    "\"count\":2,\"image\":\"compute\"}}";
	struct node_rec n1, n2;

	store_fault_fail_commits(f->cf.bs.store, 1);
	expect_err(&f->cf.bs, req, "EIO", "allocate: the store could not commit");
	get_node(&f->cf.bs, "n1", &n1);
	get_node(&f->cf.bs, "n2", &n2);
	assert_string_equal(n1.alloc_job, "");
	assert_string_equal(n2.alloc_job, "");
	assert_no_tx_left(&f->cf.bs);
	expect_ok(&f->cf.bs, req);
	get_node(&f->cf.bs, "n1", &n1);
	get_node(&f->cf.bs, "n2", &n2);
	assert_string_equal(n1.alloc_job, "j1");
	assert_string_equal(n2.alloc_job, "j1");
}

/* A batch whose commit fails (the HTTP requests of one MHD pass) loses it all, cleanly. */
static void
test_batch(void **state)
{
	struct fixture *f = *state;
	struct node_rec n;

	assert_int_equal(store_batch_begin(f->cf.bs.store), 0);
	assert_int_equal(store_node_set_phase(f->cf.bs.store, "n1", "pxe", "", 1), 0);
	store_fault_fail_commits(f->cf.bs.store, 1);
	assert_int_equal(store_batch_end(f->cf.bs.store), -EIO);
	get_node(&f->cf.bs, "n1", &n);
	assert_string_equal(n.phase, "new");
	assert_no_tx_left(&f->cf.bs);
	assert_int_equal(store_batch_begin(f->cf.bs.store), 0);
	assert_int_equal(store_node_set_phase(f->cf.bs.store, "n1", "pxe", "", 1), 0);
	assert_int_equal(store_batch_end(f->cf.bs.store), 0);
	get_node(&f->cf.bs, "n1", &n);
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
