/* SPDX-License-Identifier: MIT */
/* An admin's node drain (drain/undrain in bootsvc/control/verbs_ctrl.c), through
 * control_handle_line against a real store (SQLite, and PostgreSQL as test_drain@pg):
 * drain writes drain and its reason and an event row per node, node.show/node.list carry
 * them and drained; allocate skips a drained node as it skips a held one, but a drained
 * node keeps its allocation and may still be provisioned, where a held one is refused;
 * undrain gives it back to allocate; bad arguments are refused naming them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "control_call.h"
#include "history.h"

static void
add_node(struct bootsvc *bs, const char *name, const char *mac)
{
	struct node_rec n = { 0 };
	struct dl_err e = { 0 };

	snprintf(n.name, sizeof(n.name), "%s", name);
	snprintf(n.mac, sizeof(n.mac), "%s", mac);
	strcpy(n.bmc, "127.0.0.1:9623");
	strcpy(n.bmc_creds, "/etc/diskless/bmc/x");
	memset(n.token, 'a', 64);
	strcpy(n.phase, "up");
	strcpy(n.health, "ok");
	strcpy(n.power, "on");
	strcpy(n.want_power, "on");
	n.phase_at = n.created = 1000;
	assert_int_equal(store_node_insert(bs->store, &n, &e), 0);
}

static void
populate(struct bootsvc *bs)
{
	struct image_rec i = { 0 };
	struct dl_err e = { 0 };
	char sha[SHA256_HEX_SIZE] = { 0 };

	add_node(bs, "n1", "52:54:00:00:00:01");
	add_node(bs, "n2", "52:54:00:00:00:02");
	add_node(bs, "n3", "52:54:00:00:00:03");
	memset(i.id, 'c', 64);
	strcpy(i.name, "tiny");
	strcpy(i.kind, "linux");
	strcpy(i.path, "/tmp/x");
	memset(sha, '1', 64);
	assert_int_equal(image_rec_file_set(&i, "kernel", sha, 1), 0);
	assert_int_equal(image_rec_file_set(&i, "initrd", sha, 1), 0);
	assert_int_equal(image_rec_file_set(&i, "rootfs", sha, 1), 0);
	i.added = 1;
	assert_int_equal(store_image_insert(bs->store, &i, &e), 0);
}

/* One request that must succeed, its answer dropped. */
#define ok(bs, req) do { \
		json_t *resp_; \
		(void)check_ok((bs), (req), &resp_); \
		json_decref(resp_); \
	} while (0)

/* The nodes allocate chose, as "n1,n3". */
static void
allocated(const json_t *res, char *buf, size_t size)
{
	const json_t *v;
	size_t i, len = 0;

	buf[0] = '\0';
	json_array_foreach(json_object_get(res, "nodes"), i, v)
		len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? "," : "",
		    json_string_value(v));
}

static const json_t *
listed(const json_t *res, const char *name)
{
	const json_t *v;
	size_t i;

	json_array_foreach(json_object_get(res, "nodes"), i, v)
		if (strcmp(json_string_value(json_object_get(v, "name")), name) == 0)
			return v;
	fail_msg("node.list has no %s", name);
	return NULL;
}

static void
test_drain_show_events(void **state)
{
	struct control_fixture *f = *state;
	struct node_rec n;
	struct history_actions l;
	json_t *resp, *res;

	populate(&f->bs);
	res = check_ok(&f->bs, "{\"id\":1,\"verb\":\"drain\",\"args\":{\"names\":\"n[1-2]\","
	    "\"reason\":\"fan noise\"}}", &resp);
	assert_int_equal(json_array_size(json_object_get(res, "nodes")), 2);
	json_decref(resp);

	/* stored: drain and its reason, nothing else of the node changed */
	assert_int_equal(store_node_get(f->bs.store, "n1", &n), 0);
	assert_true(n.drain);
	assert_string_equal(n.drain_reason, "fan noise");
	assert_false(n.hold);
	assert_string_equal(n.want_power, "on");
	assert_string_equal(n.phase, "up");
	assert_int_equal(store_node_get(f->bs.store, "n3", &n), 0);
	assert_false(n.drain);
	l = history_actions(f->bs.store, "n2", NULL);
	assert_string_equal(l.what, "drain");
	assert_string_equal(l.reason, "fan noise");

	res = check_ok(&f->bs, "{\"id\":2,\"verb\":\"node.show\",\"args\":{\"name\":\"n1\"}}",
	    &resp);
	res = json_object_get(res, "node");
	assert_true(json_is_true(json_object_get(res, "drain")));
	assert_true(json_is_true(json_object_get(res, "drained")));
	assert_string_equal(json_string_value(json_object_get(res, "drain_reason")), "fan noise");
	json_decref(resp);
	res = check_ok(&f->bs, "{\"id\":3,\"verb\":\"node.list\",\"args\":{}}", &resp);
	assert_true(json_is_true(json_object_get(listed(res, "n2"), "drain")));
	assert_true(json_is_true(json_object_get(listed(res, "n2"), "drained")));
	assert_true(json_is_false(json_object_get(listed(res, "n3"), "drain")));
	assert_true(json_is_false(json_object_get(listed(res, "n3"), "drained")));
	json_decref(resp);

	/* no reason: the default one */
	ok(&f->bs, "{\"id\":4,\"verb\":\"drain\",\"args\":{\"names\":\"n3\"}}");
	assert_int_equal(store_node_get(f->bs.store, "n3", &n), 0);
	assert_true(n.drain);
	assert_string_equal(n.drain_reason, "drained by an admin");

	/* undrain: back, the reason gone, an event */
	ok(&f->bs, "{\"id\":5,\"verb\":\"undrain\",\"args\":"
	    "{\"names\":\"n[1,3]\"}}");
	assert_int_equal(store_node_get(f->bs.store, "n1", &n), 0);
	assert_false(n.drain);
	assert_string_equal(n.drain_reason, "");
	l = history_actions(f->bs.store, "n1", NULL);
	assert_string_equal(l.what, "undrain");
	assert_int_equal(l.n, 2);
	assert_int_equal(store_node_get(f->bs.store, "n2", &n), 0);
	assert_true(n.drain);
}

/* allocate skips drained and held nodes alike; undrain gives the node back. */
static void
test_allocate_skips_drained(void **state)
{
	struct control_fixture *f = *state;
	char got[64];
	json_t *resp, *res;

	populate(&f->bs);
	ok(&f->bs, "{\"id\":1,\"verb\":\"drain\",\"args\":{\"names\":\"n1\"}}");
	ok(&f->bs, "{\"id\":2,\"verb\":\"hold\",\"args\":{\"names\":\"n2\"}}");
	check_err(&f->bs, "{\"id\":3,\"verb\":\"allocate\",\"args\":{\"count\":2,"
	    "\"image\":\"tiny\",\"job\":\"j1\"}}", "ENOSPC", "needs 2 nodes, 1 qualify");
	res = check_ok(&f->bs, "{\"id\":4,\"verb\":\"allocate\",\"args\":{\"count\":1,"
	    "\"image\":\"tiny\",\"job\":\"j1\"}}", &resp);
	allocated(res, got, sizeof(got));
	assert_string_equal(got, "n3");
	json_decref(resp);

	ok(&f->bs, "{\"id\":5,\"verb\":\"undrain\",\"args\":"
	    "{\"names\":\"n1\"}}");
	res = check_ok(&f->bs, "{\"id\":6,\"verb\":\"allocate\",\"args\":{\"count\":1,"
	    "\"image\":\"tiny\",\"job\":\"j2\"}}", &resp);
	allocated(res, got, sizeof(got));
	assert_string_equal(got, "n1");
	json_decref(resp);
}

/* A drain changes nothing else: an allocated node keeps its job until released, and a
 * drained node is still provisioned, where a held one is refused. */
static void
test_drained_not_held(void **state)
{
	struct control_fixture *f = *state;
	struct node_rec n;

	populate(&f->bs);
	ok(&f->bs, "{\"id\":1,\"verb\":\"allocate\",\"args\":{\"count\":1,"
	    "\"image\":\"tiny\",\"job\":\"j1\"}}");
	assert_int_equal(store_node_get(f->bs.store, "n1", &n), 0);
	assert_string_equal(n.alloc_job, "j1");
	ok(&f->bs, "{\"id\":2,\"verb\":\"drain\",\"args\":{\"names\":"
	    "\"n[1-2]\",\"reason\":\"bad DIMM\"}}");
	assert_int_equal(store_node_get(f->bs.store, "n1", &n), 0);
	assert_string_equal(n.alloc_job, "j1");
	assert_string_equal(n.want_power, "on");
	assert_false(n.hold);

	ok(&f->bs, "{\"id\":3,\"verb\":\"provision\",\"args\":{\"names\":"
	    "\"n2\",\"image\":\"tiny\"}}");
	assert_int_equal(store_node_get(f->bs.store, "n2", &n), 0);
	assert_string_equal(n.image, "tiny");
	assert_true(n.drain);
	ok(&f->bs, "{\"id\":4,\"verb\":\"hold\",\"args\":{\"names\":\"n3\"}}");
	check_err(&f->bs, "{\"id\":5,\"verb\":\"provision\",\"args\":{\"names\":\"n3\","
	    "\"image\":\"tiny\"}}", "EBUSY", "node 'n3' is held");

	/* release ends the allocation; the drain stays */
	ok(&f->bs, "{\"id\":6,\"verb\":\"release\",\"args\":{\"job\":\"j1\"}}");
	assert_int_equal(store_node_get(f->bs.store, "n1", &n), 0);
	assert_string_equal(n.alloc_job, "");
	assert_true(n.drain);
	assert_string_equal(n.drain_reason, "bad DIMM");
}

static void
test_drain_refusals(void **state)
{
	struct control_fixture *f = *state;
	struct node_rec n;
	char req[600], big[MAX_REASON + 1];

	populate(&f->bs);
	check_err(&f->bs, "{\"id\":1,\"verb\":\"drain\",\"args\":{\"names\":\"n[1-4]\"}}",
	    "ENOENT", "no node 'n4'");
	check_err(&f->bs, "{\"id\":2,\"verb\":\"drain\",\"args\":{}}", "ENOENT",
	    "missing argument 'names'");
	check_err(&f->bs, "{\"id\":3,\"verb\":\"drain\",\"args\":{\"names\":\"n1\","
	    "\"job\":\"j1\"}}", "EINVAL", "job");
	check_err(&f->bs, "{\"id\":4,\"verb\":\"undrain\",\"args\":{\"names\":\"n1\","
	    "\"reason\":\"x\"}}", "EINVAL", "reason");
	memset(big, 'x', MAX_REASON);
	big[MAX_REASON] = '\0';
	snprintf(req, sizeof(req), "{\"id\":5,\"verb\":\"drain\",\"args\":{\"names\":\"n1\","
	    "\"reason\":\"%s\"}}", big);
	check_err(&f->bs, req, "EINVAL", "reason");
	/* nothing of a refused request was written */
	assert_int_equal(store_node_get(f->bs.store, "n1", &n), 0);
	assert_false(n.drain);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, control_setup, control_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_drain_show_events),
		T(test_allocate_skips_drained),
		T(test_drained_not_held),
		T(test_drain_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
