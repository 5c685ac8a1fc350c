/* SPDX-License-Identifier: MIT */
/* control_handle_line end to end (docs/control-protocol.md): a struct bootsvc whose store
 * is a SQLite file in a temp dir, no dnsmasq and no loop. Requests are written from the
 * protocol document; responses are parsed and checked field by field. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "proto.h"
#include "version.h"
#include "control_call.h"


/* The names node.list returns, comma-joined. */
static void
list_names_at(const char *file, int line, struct bootsvc *bs, const char *want)
{
	json_t *resp, *res = check_ok_at(file, line, bs, "{\"id\":1,\"verb\":\"node.list\"}", &resp);
	json_t *nodes = json_object_get(res, "nodes"), *n;
	char got[1024] = "";
	size_t i;

	json_array_foreach(nodes, i, n) {
		if (i)
			strcat(got, ",");
		strncat(got, json_string_value(json_object_get(n, "name")), 64);
	}
	if (strcmp(got, want) != 0)
		print_error("%s:%d: nodes '%s', want '%s'\n", file, line, got, want);
	_assert_string_equal(got, want, file, line);
	json_decref(resp);
}
#define list_names(bs, want) list_names_at(__FILE__, __LINE__, (bs), (want))

static const char *
str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "(missing)";
}

static void
test_ping(void **state)
{
	struct control_fixture *f = *state;
	json_t *resp, *res;

	res = check_ok(&f->bs, "{\"id\":1,\"verb\":\"ping\"}", &resp);
	assert_string_equal(str(res, "version"), DISKLESS_VERSION);
	assert_int_equal(json_integer_value(json_object_get(resp, "id")), 1);
	json_decref(resp);
	res = check_ok(&f->bs, "{\"id\":\"s-1\",\"verb\":\"ping\",\"args\":{}}", &resp);
	assert_string_equal(str(resp, "id"), "s-1");
	json_decref(resp);
	check_err_id(&f->bs, "{\"id\":2,\"verb\":\"ping\",\"args\":{\"x\":1}}", "EINVAL",
	    "unknown argument 'x'", "2");
}

/* Protocol-level errors: the id is echoed when it could be read, else null. */
static const struct {
	int line;
	const char *req, *code, *msg, *id;
} proto_vectors[] = {
	{ __LINE__, "{\"id\":5,\"verb\":\"node.frob\"}", "EINVAL", "unknown verb 'node.frob'", "5" },
	{ __LINE__, "{\"id\":5,\"verb\":\"\"}", "EINVAL", "bad verb length", "5" },
	{ __LINE__, "{\"id\":5,\"verb\":\"ping\"", "EINVAL", "malformed JSON", "null" },
	{ __LINE__, "not json", "EINVAL", "malformed JSON", "null" },
	{ __LINE__, "[]", "EINVAL", "not a JSON object", "null" },
	{ __LINE__, "{\"id\":5,\"verb\":\"ping\",\"extra\":1}", "EINVAL", "unknown request key 'extra'", "5" },
	{ __LINE__, "{\"id\":5,\"verb\":\"node.list\",\"args\":{\"colour\":\"red\"}}", "EINVAL",
	    "unknown argument 'colour'", "5" },
	{ __LINE__, "{\"id\":5,\"verb\":\"node.add\",\"args\":{\"names\":\"n1\",\"macs\":\"52:54:00:00:00:01\",\"ipz\":\"x\"}}",
	    "EINVAL", "unknown argument 'ipz'", "5" },
	{ __LINE__, "{\"id\":5,\"verb\":\"image.list\",\"args\":{\"all\":true}}", "EINVAL", "unknown argument 'all'", "5" },
	{ __LINE__, "{\"id\":5,\"verb\":\"node.show\",\"args\":{\"name\":7}}", "EINVAL", "argument 'name' must be a string", "5" },
	{ __LINE__, "{\"id\":5,\"verb\":\"node.show\"}", "ENOENT", "missing argument 'name'", "5" },
	{ __LINE__, "{\"id\":5,\"verb\":\"node.show\",\"args\":{\"name\":\"nx\"}}", "ENOENT", "no node 'nx'", "5" },
	{ __LINE__, "{\"id\":5,\"verb\":\"node.remove\",\"args\":{\"names\":\"nx\"}}", "ENOENT", "no node 'nx'", "5" },
	{ __LINE__, "{\"id\":5,\"verb\":\"image.show\",\"args\":{\"image\":\"nosuch\"}}", "ENOENT", "no image 'nosuch'", "5" },
	{ __LINE__, "{\"id\":5,\"verb\":\"image.remove\",\"args\":{\"image\":\"nosuch\"}}", "ENOENT", "no image 'nosuch'", "5" },
};

static void
test_protocol_errors(void **state)
{
	struct control_fixture *f = *state;

	for (size_t i = 0; i < ELEMENTSOF(proto_vectors); i++)
		check_err_at(__FILE__, proto_vectors[i].line, &f->bs, proto_vectors[i].req,
		    proto_vectors[i].code, proto_vectors[i].msg, proto_vectors[i].id);
	/* an oversized line is refused before it is parsed */
	{
		size_t n = MAX_CONTROL_LINE + 10;
		char *big = malloc(n + 1);
		char *out;

		assert_non_null(big);
		memset(big, ' ', n);
		big[n] = '\0';
		out = control_handle_line(&f->bs, big, n);
		assert_non_null(out);
		assert_non_null(strstr(out, "\"E2BIG\""));
		assert_non_null(strstr(out, "\"id\":null"));
		free(out);
		free(big);
	}
}

static void
test_node_add(void **state)
{
	struct control_fixture *f = *state;
	json_t *resp, *res, *n;
	size_t i;

	res = check_ok(&f->bs, "{\"id\":1,\"verb\":\"node.add\",\"args\":{\"names\":\"n[01-04]\","
	    "\"macs\":\"52:54:00:00:00:[01-04]\"}}", &resp);
	assert_int_equal(json_array_size(json_object_get(res, "added")), 4);
	assert_string_equal(json_string_value(json_array_get(json_object_get(res, "added"), 3)),
	    "n04");
	json_decref(resp);
	/* explicit addresses, MACs in another case and separator are normalised */
	res = check_ok(&f->bs, "{\"id\":2,\"verb\":\"node.add\",\"args\":{\"names\":\"c[1-2]\","
	    "\"macs\":\"52-54-00-00-01-0A,52-54-00-00-01-0B\",\"ips\":\"10.0.1.[1-2]\","
	    "\"uuids\":\"5d6e7f80-1a2b-4c3d-8e9f-0a1b2c3d4e5e,5D6E7F80-1A2B-4C3D-8E9F-0A1B2C3D4E5F\",\"serials\":\"SN[1-2]\","
	    "\"bmcs\":\"10.0.2.[1-2]\",\"bmc_creds\":\"/etc/diskless/bmc.creds\"}}", &resp);
	json_decref(resp);

	res = check_ok(&f->bs, "{\"id\":3,\"verb\":\"node.list\"}", &resp);
	assert_int_equal(json_array_size(json_object_get(res, "nodes")), 6);
	json_array_foreach(json_object_get(res, "nodes"), i, n) {
		static const char *const want[][3] = {
			{ "c1", "52:54:00:00:01:0a", "10.0.1.1" },
			{ "c2", "52:54:00:00:01:0b", "10.0.1.2" },
			{ "n01", "52:54:00:00:00:01", "10.0.0.10" }, /* lowest free of node_ip_range */
			{ "n02", "52:54:00:00:00:02", "10.0.0.11" },
			{ "n03", "52:54:00:00:00:03", "10.0.0.12" },
			{ "n04", "52:54:00:00:00:04", "10.0.0.13" },
		};

		assert_string_equal(str(n, "name"), want[i][0]);
		assert_string_equal(str(n, "mac"), want[i][1]);
		assert_string_equal(str(n, "ip"), want[i][2]);
		assert_string_equal(str(n, "phase"), "new");
		assert_true(json_is_integer(json_object_get(n, "phase_at")));
		assert_null(json_object_get(n, "token")); /* the secret never leaves */
	}
	json_decref(resp);
	res = check_ok(&f->bs, "{\"id\":4,\"verb\":\"node.show\",\"args\":{\"name\":\"c2\"}}", &resp);
	n = json_object_get(res, "node");
	assert_string_equal(str(n, "uuid"), "5d6e7f80-1a2b-4c3d-8e9f-0a1b2c3d4e5f");
	assert_string_equal(str(n, "serial"), "SN2");
	assert_string_equal(str(n, "bmc"), "10.0.2.2");
	assert_string_equal(str(n, "bmc_creds"), "/etc/diskless/bmc.creds");
	assert_int_equal(json_array_size(json_object_get(n, "history")), 0);
	assert_null(json_object_get(n, "token"));
	json_decref(resp);
}

/* node.add failures: each names what is wrong and adds nothing at all. */
static const struct {
	int line;
	const char *args, *code, *msg;
} add_err_vectors[] = {
	{ __LINE__, "{\"names\":\"x[1-3]\",\"macs\":\"52:54:00:00:02:[01-02]\"}", "EINVAL", "macs: 2 values for 3 nodes" },
	{ __LINE__, "{\"names\":\"x[1-2]\",\"macs\":\"52:54:00:00:02:[01-02]\",\"ips\":\"10.0.3.1\"}", "EINVAL", "ips: 1 values for 2 nodes" },
	{ __LINE__, "{\"names\":\"x[1-2]\",\"macs\":\"52:54:00:00:02:[01-02]\",\"uuids\":\"a,b,c\"}", "EINVAL", "uuids: 3 values for 2 nodes" },
	{ __LINE__, "{\"names\":\"x[1-2]\",\"macs\":\"52:54:00:00:02:01,zz:54:00:00:02:02\"}", "EINVAL",
	    "node 'x2': MAC 'zz:54:00:00:02:02' is not six hex octets" },
	{ __LINE__, "{\"names\":\"x[1-2]\",\"macs\":\"52:54:00:00:02:[01-02]\",\"ips\":\"10.0.3.1,10.0.3.256\"}", "EINVAL",
	    "node 'x2': IPv4 address '10.0.3.256'" },
	{ __LINE__, "{\"names\":\"x[1-2]\",\"macs\":\"52:54:00:00:02:[01-02]\",\"uuids\":\"5d6e7f80-1a2b-4c3d-8e9f-0a1b2c3d4e5f,nope\"}", "EINVAL",
	    "node 'x2': " },
	{ __LINE__, "{\"names\":\"x[1-2]\",\"macs\":\"52:54:00:00:02:[01-02]\",\"serials\":\"ok,a&b\"}", "EINVAL",
	    "node 'x2': serial 'a&b' is not valid" },
	{ __LINE__, "{\"names\":\"x1,X2\",\"macs\":\"52:54:00:00:02:[01-02]\"}", "EINVAL", "node name 'X2' is not a hostname" },
	{ __LINE__, "{\"names\":\"x[1-\",\"macs\":\"52:54:00:00:02:01\"}", "EINVAL", "names: " },
	{ __LINE__, "{\"names\":\"x1\"}", "ENOENT", "missing argument 'macs'" },
	{ __LINE__, "{\"macs\":\"52:54:00:00:02:01\"}", "ENOENT", "missing argument 'names'" },
	{ __LINE__, "{\"names\":\"x1\",\"macs\":\"52:54:00:00:02:01\",\"bmc_creds\":\"creds\"}", "EINVAL",
	    "bmc_creds 'creds' is not an absolute path" },
	{ __LINE__, "{\"names\":\"x1\",\"macs\":\"52:54:00:00:02:01\",\"image\":\"nosuch\"}", "ENOENT", "no image 'nosuch'" },
	/* conflicts with the nodes already there (n01..n02 below) */
	{ __LINE__, "{\"names\":\"x1,n02,x3\",\"macs\":\"52:54:00:00:02:[01-03]\"}", "EEXIST", "node 'n02' already exists" },
	{ __LINE__, "{\"names\":\"x[1-2]\",\"macs\":\"52:54:00:00:02:01,52:54:00:00:00:01\"}", "EEXIST",
	    "MAC '52:54:00:00:00:01' already belongs to node 'n01'" },
	{ __LINE__, "{\"names\":\"x[1-2]\",\"macs\":\"52:54:00:00:02:[01-02]\",\"ips\":\"10.0.3.1,10.0.0.10\"}", "EEXIST",
	    "IP '10.0.0.10' already belongs to node 'n01'" },
	/* a duplicate inside one request */
	{ __LINE__, "{\"names\":\"x1,x1\",\"macs\":\"52:54:00:00:02:[01-02]\"}", "EEXIST", "node 'x1' already exists" },
	{ __LINE__, "{\"names\":\"x[1-2]\",\"macs\":\"52:54:00:00:02:01,52:54:00:00:02:01\"}", "EEXIST",
	    "MAC '52:54:00:00:02:01' already belongs to node 'x1'" },
	/* node_ip_range is 10 addresses, two taken: 9 more do not fit */
	{ __LINE__, "{\"names\":\"x[1-9]\",\"macs\":\"52:54:00:00:02:[01-09]\"}", "ENOSPC",
	    "node_ip_range 10.0.0.10-10.0.0.19 has no free address" },
};

static void
test_node_add_errors(void **state)
{
	struct control_fixture *f = *state;
	json_t *resp;

	check_ok(&f->bs, "{\"id\":1,\"verb\":\"node.add\",\"args\":{\"names\":\"n[01-02]\","
	    "\"macs\":\"52:54:00:00:00:[01-02]\"}}", &resp);
	json_decref(resp);
	for (size_t i = 0; i < ELEMENTSOF(add_err_vectors); i++) {
		char req[1024];

		snprintf(req, sizeof(req), "{\"id\":9,\"verb\":\"node.add\",\"args\":%s}",
		    add_err_vectors[i].args);
		check_err_at(__FILE__, add_err_vectors[i].line, &f->bs, req, add_err_vectors[i].code,
		    add_err_vectors[i].msg, "9");
		/* all or nothing: the store holds exactly what it held before */
		list_names_at(__FILE__, add_err_vectors[i].line, &f->bs, "n01,n02");
	}
	/* addresses of rolled-back nodes were not consumed */
	check_ok(&f->bs, "{\"id\":1,\"verb\":\"node.add\",\"args\":{\"names\":\"n03\","
	    "\"macs\":\"52:54:00:00:00:03\"}}", &resp);
	json_decref(resp);
	check_ok(&f->bs, "{\"id\":1,\"verb\":\"node.show\",\"args\":{\"name\":\"n03\"}}", &resp);
	assert_string_equal(str(json_object_get(json_object_get(resp, "result"), "node"), "ip"),
	    "10.0.0.12");
	json_decref(resp);
}

static void
test_node_list_show_remove(void **state)
{
	struct control_fixture *f = *state;
	json_t *resp, *res, *h;

	check_ok(&f->bs, "{\"id\":1,\"verb\":\"node.add\",\"args\":{\"names\":\"n[1-5]\","
	    "\"macs\":\"52:54:00:00:00:[01-05]\"}}", &resp);
	json_decref(resp);
	res = check_ok(&f->bs, "{\"id\":1,\"verb\":\"node.list\",\"args\":{\"names\":\"n[2-3],n9\"}}",
	    &resp);
	assert_int_equal(json_array_size(json_object_get(res, "nodes")), 2);
	json_decref(resp);
	/* a filter in any order lists in name order; an empty match is an empty array */
	res = check_ok(&f->bs, "{\"id\":1,\"verb\":\"node.list\",\"args\":{\"names\":\"n5,n1,n3\"}}",
	    &resp);
	assert_int_equal(json_array_size(json_object_get(res, "nodes")), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(res, "nodes"), 0), "name")), "n1");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(res, "nodes"), 2), "name")), "n5");
	json_decref(resp);
	res = check_ok(&f->bs, "{\"id\":1,\"verb\":\"node.list\",\"args\":{\"names\":\"x1\"}}",
	    &resp);
	assert_true(json_is_array(json_object_get(res, "nodes")));
	assert_int_equal(json_array_size(json_object_get(res, "nodes")), 0);
	json_decref(resp);
	check_err(&f->bs, "{\"id\":1,\"verb\":\"node.list\",\"args\":{\"names\":\"n[\"}}", "EINVAL",
	    "names: ");

	/* history, newest first */
	assert_int_equal(store_node_set_phase(f->bs.store, "n1", "pxe", "", 100), 0);
	assert_int_equal(store_node_set_phase(f->bs.store, "n1", "failed", "no rootfs", 101), 0);
	res = check_ok(&f->bs, "{\"id\":1,\"verb\":\"node.show\",\"args\":{\"name\":\"n1\"}}", &resp);
	assert_string_equal(str(json_object_get(res, "node"), "phase"), "failed");
	assert_string_equal(str(json_object_get(res, "node"), "reason"), "no rootfs");
	h = json_object_get(json_object_get(res, "node"), "history");
	assert_int_equal(json_array_size(h), 2);
	assert_string_equal(str(json_array_get(h, 0), "phase"), "failed");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(h, 1), "at")), 100);
	json_decref(resp);

	/* remove is all or nothing too */
	check_err(&f->bs, "{\"id\":1,\"verb\":\"node.remove\",\"args\":{\"names\":\"n[4-6]\"}}", "ENOENT",
	    "no node 'n6'");
	list_names(&f->bs, "n1,n2,n3,n4,n5");
	res = check_ok(&f->bs, "{\"id\":1,\"verb\":\"node.remove\",\"args\":{\"names\":\"n[4-5]\"}}",
	    &resp);
	assert_int_equal(json_array_size(json_object_get(res, "removed")), 2);
	json_decref(resp);
	list_names(&f->bs, "n1,n2,n3");
	/* the name, MAC and address can be used again */
	check_ok(&f->bs, "{\"id\":1,\"verb\":\"node.add\",\"args\":{\"names\":\"n5\","
	    "\"macs\":\"52:54:00:00:00:05\"}}", &resp);
	json_decref(resp);
	list_names(&f->bs, "n1,n2,n3,n5");
}

/* node.arm (issue #11): each named node gets a fresh token it may hand out once; all or
 * none; node.show says it is armed and by whom. */
static void
test_node_arm(void **state)
{
	struct control_fixture *f = *state;
	struct node_rec before, after, other;
	json_t *resp, *res, *node;

	check_ok(&f->bs, "{\"id\":1,\"verb\":\"node.add\",\"args\":{\"names\":\"n[1-3]\","
	    "\"macs\":\"52:54:00:00:00:[01-03]\"}}", &resp);
	json_decref(resp);
	assert_int_equal(store_node_get(f->bs.store, "n1", &before), 0);
	assert_false(before.armed);
	check_err(&f->bs, "{\"id\":1,\"verb\":\"node.arm\",\"args\":{\"names\":\"n[2-4]\"}}",
	    "ENOENT", "no node 'n4'");
	assert_int_equal(store_node_get(f->bs.store, "n2", &other), 0);
	assert_false(other.armed);
	check_err(&f->bs, "{\"id\":1,\"verb\":\"node.arm\",\"args\":{\"names\":\"n1\","
	    "\"x\":1}}", "EINVAL", "x");
	res = check_ok(&f->bs, "{\"id\":1,\"verb\":\"node.arm\",\"args\":{\"names\":\"n[1-2]\"}}",
	    &resp);
	assert_int_equal(json_array_size(json_object_get(res, "armed")), 2);
	json_decref(resp);
	assert_int_equal(store_node_get(f->bs.store, "n1", &after), 0);
	assert_true(after.armed);
	assert_string_equal(after.armed_by, "admin");
	assert_int_equal(strlen(after.token), 64);
	assert_string_not_equal(after.token, before.token); /* rotated */
	assert_int_equal(store_node_get(f->bs.store, "n3", &other), 0);
	assert_false(other.armed);
	res = check_ok(&f->bs, "{\"id\":1,\"verb\":\"node.show\",\"args\":{\"name\":\"n1\"}}",
	    &resp);
	node = json_object_get(res, "node");
	assert_true(json_is_true(json_object_get(node, "armed")));
	assert_string_equal(str(node, "armed_by"), "admin");
	/* the token itself is never shown */
	{
		char *dump = json_dumps(resp, JSON_COMPACT);
		assert_null(strstr(dump, after.token));
		free(dump);
	}
	json_decref(resp);
}

static void
test_images(void **state)
{
	struct control_fixture *f = *state;
	char id[SHA256_HEX_SIZE], path[256], req[1024], p[512];
	json_t *resp, *res;

	control_make_image(f->sd.dir, "compute", id, path, sizeof(path));
	/* errors first */
	check_err(&f->bs, "{\"id\":1,\"verb\":\"image.add\",\"args\":{\"path\":\"/nonexistent/dir\"}}",
	    "ENOENT", "path '/nonexistent/dir': No such file or directory");
	check_err(&f->bs, "{\"id\":1,\"verb\":\"image.add\",\"args\":{\"path\":\"rel/dir\"}}", "EINVAL",
	    "path 'rel/dir' is not absolute");
	check_err(&f->bs, "{\"id\":1,\"verb\":\"image.add\"}", "ENOENT", "missing argument 'path'");
	snprintf(req, sizeof(req), "{\"id\":1,\"verb\":\"image.add\",\"args\":{\"path\":\"%s\"}}",
	    f->sd.dir);
	check_err(&f->bs, req, "ENOENT", "manifest.json': No such file");
	/* a version directory under another name is not ours */
	snprintf(p, sizeof(p), "%s/renamed", f->sd.dir);
	assert_int_equal(rename(path, p), 0);
	snprintf(req, sizeof(req), "{\"id\":1,\"verb\":\"image.add\",\"args\":{\"path\":\"%s\"}}", p);
	check_err(&f->bs, req, "EINVAL", "is not an image version: its manifest's id is");
	assert_int_equal(rename(p, path), 0);
	/* a file of the wrong size */
	snprintf(p, sizeof(p), "%s/initrd", path);
	assert_int_equal(truncate(p, 5), 0);
	snprintf(req, sizeof(req), "{\"id\":1,\"verb\":\"image.add\",\"args\":{\"path\":\"%s\"}}",
	    path);
	check_err(&f->bs, req, "EINVAL", "initrd' is missing or not 2 bytes");
	assert_int_equal(truncate(p, 2), 0);

	res = check_ok(&f->bs, req, &resp);
	assert_string_equal(str(json_object_get(res, "image"), "id"), id);
	assert_string_equal(str(json_object_get(res, "image"), "name"), "compute");
	assert_true(json_is_true(json_object_get(json_object_get(res, "image"), "current")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(res, "image"), "size")), 6);
	json_decref(resp);
	check_err(&f->bs, req, "EEXIST", "is already registered");
	res = check_ok(&f->bs, "{\"id\":1,\"verb\":\"image.list\"}", &resp);
	assert_int_equal(json_array_size(json_object_get(res, "images")), 1);
	json_decref(resp);
	snprintf(req, sizeof(req), "{\"id\":1,\"verb\":\"image.show\",\"args\":{\"image\":\"compute@%.8s\"}}",
	    id);
	res = check_ok(&f->bs, req, &resp);
	assert_string_equal(str(json_object_get(res, "image"), "id"), id);
	json_decref(resp);

	/* node.set: name follows the newest, name@prefix pins */
	check_ok(&f->bs, "{\"id\":1,\"verb\":\"node.add\",\"args\":{\"names\":\"n[1-2]\","
	    "\"macs\":\"52:54:00:00:00:[01-02]\",\"image\":\"compute\"}}", &resp);
	json_decref(resp);
	res = check_ok(&f->bs, "{\"id\":1,\"verb\":\"node.show\",\"args\":{\"name\":\"n1\"}}", &resp);
	assert_string_equal(str(json_object_get(res, "node"), "image_id"), id);
	json_decref(resp);
	check_err(&f->bs, "{\"id\":1,\"verb\":\"node.set\",\"args\":{\"names\":\"n[1-3]\",\"image\":\"compute\"}}",
	    "ENOENT", "no node 'n3'");
	check_err(&f->bs, "{\"id\":1,\"verb\":\"node.set\",\"args\":{\"names\":\"n1\",\"image\":\"other\"}}",
	    "ENOENT", "no image 'other'");
	check_err(&f->bs, "{\"id\":1,\"verb\":\"node.set\",\"args\":{\"names\":\"n1\",\"image\":\"compute@zz\"}}",
	    "EINVAL", "version 'zz'");
	snprintf(req, sizeof(req), "{\"id\":1,\"verb\":\"node.set\",\"args\":{\"names\":\"n1\","
	    "\"image\":\"compute@%.6s\"}}", id);
	res = check_ok(&f->bs, req, &resp);
	assert_string_equal(json_string_value(json_array_get(json_object_get(res, "updated"), 0)), "n1");
	json_decref(resp);
	/* a pinned version cannot be removed */
	snprintf(req, sizeof(req), "{\"id\":1,\"verb\":\"image.remove\",\"args\":{\"image\":\"%s\"}}", id);
	check_err(&f->bs, req, "EBUSY", "is pinned by 1 node(s)");
	check_ok(&f->bs, "{\"id\":1,\"verb\":\"node.set\",\"args\":{\"names\":\"n1\",\"image\":\"compute\"}}",
	    &resp);
	json_decref(resp);
	res = check_ok(&f->bs, req, &resp);
	assert_string_equal(str(res, "removed"), id);
	json_decref(resp);
	res = check_ok(&f->bs, "{\"id\":1,\"verb\":\"image.list\"}", &resp);
	assert_int_equal(json_array_size(json_object_get(res, "images")), 0);
	json_decref(resp);
	/* the nodes now have no image to boot */
	res = check_ok(&f->bs, "{\"id\":1,\"verb\":\"node.show\",\"args\":{\"name\":\"n2\"}}", &resp);
	assert_string_equal(str(json_object_get(res, "node"), "image_id"), "");
	json_decref(resp);
}

/* image.add reads the kind table (lib/kind.h): a kind it does not know is refused with
 * its name, and a version is checked for the files its kind's row lists (issue #10). */
static void
test_image_kind(void **state)
{
	struct control_fixture *f = *state;
	char id[SHA256_HEX_SIZE], path[256], req[1024], p[512], m[2048], *k;
	FILE *fp;

	/* a version of kind 'fooxx' (otherwise a valid linux one) */
	control_make_image(f->sd.dir, "compute", id, path, sizeof(path));
	snprintf(p, sizeof(p), "%s/manifest.json", path);
	fp = fopen(p, "r");
	assert_non_null(fp);
	m[fread(m, 1, sizeof(m) - 1, fp)] = '\0';
	fclose(fp);
	k = strstr(m, "\"kind\":\"linux\"");
	assert_non_null(k);
	memcpy(k + strlen("\"kind\":\""), "fooxx", 5);
	fp = fopen(p, "w");
	assert_non_null(fp);
	fputs(m, fp);
	fclose(fp);
	snprintf(req, sizeof(req), "{\"id\":1,\"verb\":\"image.add\",\"args\":{\"path\":\"%s\"}}",
	    path);
	check_err(&f->bs, req, "EINVAL", "unknown image kind 'fooxx'");

	/* linux: every file its row lists is checked (here the rootfs is gone) */
	control_make_image(f->sd.dir, "other", id, path, sizeof(path));
	snprintf(p, sizeof(p), "%s/rootfs.squashfs", path);
	assert_int_equal(unlink(p), 0);
	snprintf(req, sizeof(req), "{\"id\":1,\"verb\":\"image.add\",\"args\":{\"path\":\"%s\"}}",
	    path);
	check_err(&f->bs, req, "EINVAL", "rootfs.squashfs' is missing or not 3 bytes");
}

/* A xen version: its two hypervisor files are checked like the others, and what its
 * manifest says of the hypervisor reaches the store (the receipt and xen.ipxe read it)
 * and image.list. */
static void
test_image_xen(void **state)
{
	static const char *const files[] = { "vmlinuz", "initrd", "rootfs.squashfs", "xen",
		"xen.efi" };
	struct control_fixture *f = *state;
	char m[2048], id[SHA256_HEX_SIZE], dir[512], p[600], req[1024];
	struct manifest man = { 0 };
	struct image_rec img;
	struct dl_err e = { 0 };
	json_t *resp, *res, *hv;
	FILE *fp;

	snprintf(m, sizeof(m),
	    "{\"format\":1,\"name\":\"xen\",\"kind\":\"xen\",\"built\":\"2026-12-04T03:00:00Z\","
	    "\"recipe_sha256\":\"%064d\",\"kernel_version\":\"6.1.0-56-amd64\","
	    "\"kernel_banner\":\"6.1.0-56-amd64 (x) #1 SMP\",\"cmdline\":\"console=hvc0\","
	    "\"hypervisor_version\":\"4.17.7\",\"hypervisor_build_id\":\"0a1b2c3d\","
	    "\"hypervisor_efi_build_id\":\"0e0f\","
	    "\"hypervisor_cmdline\":\"dom0_mem=1024M,max:1024M dom0_max_vcpus=1\","
	    "\"files\":{\"kernel\":{\"path\":\"vmlinuz\",\"sha256\":\"%064d\",\"size\":1},"
	    "\"initrd\":{\"path\":\"initrd\",\"sha256\":\"%064d\",\"size\":2},"
	    "\"rootfs\":{\"path\":\"rootfs.squashfs\",\"sha256\":\"%064d\",\"size\":3},"
	    "\"hypervisor\":{\"path\":\"xen\",\"sha256\":\"%064d\",\"size\":4},"
	    "\"hypervisor_efi\":{\"path\":\"xen.efi\",\"sha256\":\"%064d\",\"size\":5}}}",
	    1, 2, 3, 4, 5, 6);
	if (manifest_parse(m, strlen(m), &man, &e) < 0)
		fail_msg("manifest: %s", e.msg);
	assert_int_equal(manifest_id(&man, id, &e), 0);
	manifest_done(&man);
	snprintf(dir, sizeof(dir), "%s/%s", f->sd.dir, id);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(p, sizeof(p), "%s/manifest.json", dir);
	fp = fopen(p, "w");
	assert_non_null(fp);
	fputs(m, fp);
	fclose(fp);
	snprintf(req, sizeof(req), "{\"id\":1,\"verb\":\"image.add\",\"args\":{\"path\":\"%s\"}}",
	    dir);
	/* every file of the kind, the hypervisor's too */
	for (int k = 0; k < 5; k++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[k]);
		fp = fopen(p, "w");
		assert_non_null(fp);
		fwrite("xyzzy", 1, (size_t)k + 1, fp);
		fclose(fp);
	}
	snprintf(p, sizeof(p), "%s/xen.efi", dir);
	assert_int_equal(truncate(p, 4), 0);
	check_err(&f->bs, req, "EINVAL", "xen.efi' is missing or not 5 bytes");
	assert_int_equal(truncate(p, 5), 0);
	res = check_ok(&f->bs, req, &resp);
	hv = json_object_get(json_object_get(res, "image"), "hypervisor");
	assert_string_equal(str(hv, "version"), "4.17.7");
	assert_string_equal(str(hv, "build_id"), "0a1b2c3d");
	assert_string_equal(str(hv, "efi_build_id"), "0e0f");
	assert_string_equal(str(hv, "cmdline"), "dom0_mem=1024M,max:1024M dom0_max_vcpus=1");
	json_decref(resp);
	assert_int_equal(store_image_get(f->bs.store, id, &img), 0);
	assert_string_equal(img.kind, "xen");
	assert_string_equal(img.hypervisor_version, "4.17.7");
	assert_string_equal(img.hypervisor_build_id, "0a1b2c3d");
	assert_string_equal(img.hypervisor_efi_build_id, "0e0f");
	assert_string_equal(img.hypervisor_cmdline, "dom0_mem=1024M,max:1024M dom0_max_vcpus=1");
	assert_int_equal(image_rec_file(&img, "hypervisor_efi")->size, 5);
}

/* CONVENTIONS §8: a string from outside is sanitised before it is logged. A request whose
 * argument name carries a newline must not forge a second log line. */
static void
test_log_injection(void **state)
{
	struct control_fixture *f = *state;
	static const char req[] = "{\"id\":1,\"verb\":\"ping\",\"args\":"
				  "{\"x\\nlevel=err event=forged\":1}}";
	char logpath[128], buf[4096] = "";
	int saved, fd;
	ssize_t n;
	char *out;
	size_t lines = 0;

	snprintf(logpath, sizeof(logpath), "%s/log", f->sd.dir);
	fd = open(logpath, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	saved = dup(STDERR_FILENO);
	log_set_level(LOG_INFO);
	dup2(fd, STDERR_FILENO);
	out = control_handle_line(&f->bs, req, strlen(req));
	dup2(saved, STDERR_FILENO);
	close(saved);
	log_set_level(LOG_ERR);
	free(out);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	assert_true(n > 0);
	for (ssize_t i = 0; i < n; i++)
		lines += buf[i] == '\n';
	if (lines != 1)
		print_error("BUG: control_handle_line logs the client's text raw (%zu lines):\n%s",
		    lines, buf);
	assert_int_equal(lines, 1);
	assert_null(strstr(buf, "\nlevel=err event=forged"));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, control_setup, control_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_ping),
		T(test_protocol_errors),
		T(test_node_add),
		T(test_node_add_errors),
		T(test_node_list_show_remove),
		T(test_node_arm),
		T(test_images),
		T(test_image_kind),
		T(test_image_xen),
		T(test_log_injection),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
