/* SPDX-License-Identifier: MIT */
/* The control verbs of iscsi nodes' disks (issue 14) on a real store: an iscsi image is
 * refused to a node while iscsi = off or to a node without a fixed address (naming the
 * fix); node.set persistent_disk; node.reset-disk refused while the node is up unless
 * forced, all or none; node.show's disk without a secret. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "control_call.h"

#define WIN_ID "5555555555555555555555555555555555555555555555555555555555555555"

static void
add_iscsi_image(struct control_fixture *f)
{
	struct image_rec img = { 0 };
	struct dl_err e = { 0 };

	strcpy(img.id, WIN_ID);
	strcpy(img.name, "win");
	strcpy(img.kind, "iscsi");
	strcpy(img.path, "/nonexistent/win");
	strcpy(img.up_probe, "tcp:3389");
	assert_int_equal(image_rec_file_set(&img, "disk",
	    "6666666666666666666666666666666666666666666666666666666666666666", 1 << 20), 0);
	img.added = 1;
	assert_int_equal(store_image_insert(f->bs.store, &img, &e), 0);
}

static void
test_image_refusals(void **state)
{
	struct control_fixture *f = *state;
	struct node_rec n;
	json_t *resp;

	add_iscsi_image(f);
	f->bs.cfg.dhcp_mode = DHCP_MODE_PROXY; /* no address made up for a node */
	check_err(&f->bs, "{\"id\":1,\"verb\":\"node.add\",\"args\":{\"names\":\"n1\","
	    "\"macs\":\"52:54:00:00:00:01\",\"ips\":\"10.0.0.51\",\"image\":\"win\"}}",
	    "ENOTSUP", "iscsi = off");
	assert_int_equal(store_node_get(f->bs.store, "n1", &n), -ENOENT);
	f->bs.cfg.iscsi = true;
	check_err(&f->bs, "{\"id\":1,\"verb\":\"node.add\",\"args\":{\"names\":\"n2\","
	    "\"macs\":\"52:54:00:00:00:02\",\"image\":\"win\"}}",
	    "EINVAL", "node 'n2' has no fixed address");
	check_ok(&f->bs, "{\"id\":1,\"verb\":\"node.add\",\"args\":{\"names\":\"n[1-2]\","
	    "\"macs\":\"52:54:00:00:00:[01-02]\",\"ips\":\"10.0.0.[51-52]\",\"image\":\"win\"}}",
	    &resp);
	json_decref(resp);
	check_ok(&f->bs, "{\"id\":1,\"verb\":\"node.add\",\"args\":{\"names\":\"n3\","
	    "\"macs\":\"52:54:00:00:00:03\"}}", &resp);
	json_decref(resp);
	check_err(&f->bs, "{\"id\":1,\"verb\":\"node.set\",\"args\":{\"names\":\"n[1-3]\","
	    "\"image\":\"win\"}}", "EINVAL", "--ip");
	f->bs.cfg.iscsi = false;
	check_err(&f->bs, "{\"id\":1,\"verb\":\"node.set\",\"args\":{\"names\":\"n1\","
	    "\"image\":\"win\"}}", "ENOTSUP", "iscsi = on");
	check_err(&f->bs, "{\"id\":1,\"verb\":\"node.reset-disk\",\"args\":{\"names\":\"n1\"}}",
	    "ENOTSUP", "iscsi = off");
}

static void
test_persistent_and_reset(void **state)
{
	struct control_fixture *f = *state;
	struct disk_rec d = { 0 };
	json_t *resp, *res, *node, *disk;
	char *dump;

	add_iscsi_image(f);
	f->bs.cfg.iscsi = true;
	check_ok(&f->bs, "{\"id\":1,\"verb\":\"node.add\",\"args\":{\"names\":\"n[1-2]\","
	    "\"macs\":\"52:54:00:00:00:[01-02]\",\"ips\":\"10.0.0.[51-52]\",\"image\":\"win\"}}",
	    &resp);
	json_decref(resp);
	check_err(&f->bs, "{\"id\":1,\"verb\":\"node.set\",\"args\":{\"names\":\"n1\"}}",
	    "EINVAL", "nothing to change");
	check_err(&f->bs, "{\"id\":1,\"verb\":\"node.set\",\"args\":{\"names\":\"n1\","
	    "\"persistent_disk\":\"yes\"}}", "EINVAL", "persistent_disk");
	res = check_ok(&f->bs, "{\"id\":1,\"verb\":\"node.set\",\"args\":{\"names\":\"n1\","
	    "\"persistent_disk\":true}}", &resp);
	assert_null(json_object_get(res, "image_id"));
	json_decref(resp);
	assert_true(store_disk_persistent_get(f->bs.store, "n1"));
	assert_false(store_disk_persistent_get(f->bs.store, "n2"));
	res = check_ok(&f->bs, "{\"id\":1,\"verb\":\"node.show\",\"args\":{\"name\":\"n1\"}}",
	    &resp);
	node = json_object_get(res, "node");
	assert_true(json_is_true(json_object_get(node, "persistent_disk")));
	assert_true(json_is_null(json_object_get(node, "disk")));
	json_decref(resp);

	/* no disk: nothing to reset, said so */
	res = check_ok(&f->bs, "{\"id\":1,\"verb\":\"node.reset-disk\",\"args\":{\"names\":"
	    "\"n[1-2]\"}}", &resp);
	assert_int_equal(json_array_size(json_object_get(res, "no_disk")), 2);
	json_decref(resp);

	/* n1 up with a ready disk: refused, all or none, unless forced */
	strcpy(d.node, "n1");
	strcpy(d.image_id, WIN_ID);
	strcpy(d.path, "/var/lib/diskless/disks/n1.img");
	strcpy(d.method, "reflink");
	strcpy(d.state, "ready");
	strcpy(d.chap_user, "n1");
	strcpy(d.chap_secret, "SeCrEtSeCrEtSeCr");
	strcpy(d.mutual_secret, "MuTuAlMuTuAlMuTu");
	d.apparent_bytes = 1 << 20;
	d.allocated_bytes = 4096;
	assert_int_equal(store_disk_put(f->bs.store, &d), 0);
	d.tid = 0;
	strcpy(d.node, "n2");
	assert_int_equal(store_disk_put(f->bs.store, &d), 0);
	assert_int_equal(store_node_set_phase(f->bs.store, "n1", "up", "", 100), 0);
	check_err(&f->bs, "{\"id\":1,\"verb\":\"node.reset-disk\",\"args\":{\"names\":"
	    "\"n[1-2]\"}}", "EBUSY", "node 'n1' is up");
	assert_int_equal(store_disk_get(f->bs.store, "n2", &d), 0);
	assert_false(d.reset);
	check_err(&f->bs, "{\"id\":1,\"verb\":\"node.reset-disk\",\"args\":{\"names\":"
	    "\"n[2-3]\"}}", "ENOENT", "no node 'n3'");
	res = check_ok(&f->bs, "{\"id\":1,\"verb\":\"node.reset-disk\",\"args\":{\"names\":"
	    "\"n[1-2]\",\"force\":true}}", &resp);
	assert_int_equal(json_array_size(json_object_get(res, "reset")), 2);
	json_decref(resp);
	assert_int_equal(store_disk_get(f->bs.store, "n1", &d), 0);
	assert_true(d.reset);
	assert_string_equal(d.chap_secret, "SeCrEtSeCrEtSeCr"); /* the rest as it was */

	/* node.show: the disk, and never a secret */
	res = check_ok(&f->bs, "{\"id\":1,\"verb\":\"node.show\",\"args\":{\"name\":\"n1\"}}",
	    &resp);
	node = json_object_get(res, "node");
	disk = json_object_get(node, "disk");
	assert_true(json_is_object(disk));
	assert_string_equal(json_string_value(json_object_get(disk, "state")), "ready");
	assert_string_equal(json_string_value(json_object_get(disk, "method")), "reflink");
	assert_string_equal(json_string_value(json_object_get(disk, "image_id")), WIN_ID);
	assert_string_equal(json_string_value(json_object_get(disk, "target")),
	    "iqn.2026-12.local.diskless:n1");
	assert_int_equal(json_integer_value(json_object_get(disk, "allocated_bytes")), 4096);
	assert_true(json_is_true(json_object_get(disk, "persistent")));
	dump = json_dumps(resp, JSON_COMPACT);
	assert_null(strstr(dump, "SeCrEt"));
	assert_null(strstr(dump, "MuTuAl"));
	free(dump);
	json_decref(resp);
}

/* image.add of an iscsi image: refused with iscsi = off, naming the key; taken with it
 * on, its up_probe kept and shown. */
static void
test_image_add(void **state)
{
	struct control_fixture *f = *state;
	char m[1024], id[SHA256_HEX_SIZE], dir[400], p[500], req[700];
	struct manifest man = { 0 };
	struct dl_err e = { 0 };
	json_t *resp, *res;
	FILE *fp;

	snprintf(m, sizeof(m),
	    "{\"format\":1,\"name\":\"win\",\"kind\":\"iscsi\",\"built\":\"2026-12-05T00:00:00Z\","
	    "\"recipe_sha256\":\"%064d\",\"kernel_version\":\"\",\"kernel_banner\":\"\","
	    "\"cmdline\":\"\",\"up_probe\":\"tcp:3389\","
	    "\"files\":{\"disk\":{\"path\":\"disk.img\",\"sha256\":\"%064d\",\"size\":4}}}",
	    1, 2);
	assert_int_equal(manifest_parse(m, strlen(m), &man, &e), 0);
	assert_int_equal(manifest_id(&man, id, &e), 0);
	manifest_done(&man);
	snprintf(dir, sizeof(dir), "%s/%s", f->sd.dir, id);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(p, sizeof(p), "%s/manifest.json", dir);
	fp = fopen(p, "we");
	assert_non_null(fp);
	fputs(m, fp);
	fclose(fp);
	snprintf(p, sizeof(p), "%s/disk.img", dir);
	fp = fopen(p, "we");
	assert_non_null(fp);
	fputs("MBR!", fp);
	fclose(fp);

	snprintf(req, sizeof(req), "{\"id\":1,\"verb\":\"image.add\",\"args\":{\"path\":\"%s\"}}",
	    dir);
	check_err(&f->bs, req, "ENOTSUP", "iscsi = off: set iscsi = on");
	f->bs.cfg.iscsi = true;
	res = check_ok(&f->bs, req, &resp);
	assert_string_equal(json_string_value(json_object_get(json_object_get(res, "image"),
	    "up_probe")), "tcp:3389");
	assert_string_equal(json_string_value(json_object_get(json_object_get(res, "image"),
	    "kind")), "iscsi");
	json_decref(resp);
	snprintf(p, sizeof(p), "%s/disk.img", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/manifest.json", dir);
	unlink(p);
	rmdir(dir);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, control_setup, control_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_image_refusals),
		T(test_persistent_and_reset),
		T(test_image_add),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
