/* SPDX-License-Identifier: MIT */
/* bootsvc/store.c against a real SQLite file in a temp dir: nodes, phases and history,
 * image versions and how references resolve. The contract is bootsvc/store.h and
 * docs/control-protocol.md (name, name@idprefix, id). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../bootsvc/store/store.h"
#include "store_dir.h"
#include "manifest.h"

static struct node_rec
node(const char *name, const char *mac, const char *ip)
{
	struct node_rec n = { 0 };

	snprintf(n.name, sizeof(n.name), "%s", name);
	snprintf(n.mac, sizeof(n.mac), "%s", mac);
	snprintf(n.ip, sizeof(n.ip), "%s", ip);
	memset(n.token, 'a', 64);
	strcpy(n.phase, "new");
	n.phase_at = n.created = 1000;
	return n;
}

/* An image version with id = 64 copies of c (so prefixes can be made to collide). */
static struct image_rec
image(const char *name, const char *id, int64_t added)
{
	struct image_rec i = { 0 };

	snprintf(i.id, sizeof(i.id), "%s", id);
	snprintf(i.name, sizeof(i.name), "%s", name);
	strcpy(i.kind, "linux");
	snprintf(i.path, sizeof(i.path), "/var/lib/diskless/images/%s", id);
	strcpy(i.kernel_version, "6.1.0-56-amd64");
	strcpy(i.kernel_banner, "6.1.0-56-amd64 (x) #1 SMP");
	strcpy(i.built, "2026-11-25T03:00:00Z");
	strcpy(i.cmdline, "console=ttyS0");
	static const char *const roles[3] = { "kernel", "initrd", "rootfs" };
	for (int k = 0; k < 3; k++) {
		char sha[SHA256_HEX_SIZE] = { 0 };
		memset(sha, '1' + k, 64);
		assert_int_equal(image_rec_file_set(&i, roles[k], sha, 100u * (unsigned)(k + 1)), 0);
	}
	i.added = added;
	return i;
}

#define ID_A1 "aaaa111111111111111111111111111111111111111111111111111111111111"
#define ID_A2 "aaaa222222222222222222222222222222222222222222222222222222222222"
#define ID_A3 "bbbb333333333333333333333333333333333333333333333333333333333333"
#define ID_B1 "aaaa444444444444444444444444444444444444444444444444444444444444"

static void
check_insert_at(const char *file, int line, struct store *s, struct node_rec n, int want,
    const char *want_msg)
{
	struct dl_err e = { 0 };
	int r = store_node_insert(s, &n, &e);

	if (r != want || (want_msg && !strstr(e.msg, want_msg)))
		print_error("%s:%d: insert %s: r=%d msg='%s', want %d '%s'\n", file, line, n.name, r,
		    e.msg, want, want_msg ? want_msg : "");
	_assert_int_equal(r, want, file, line);
	if (want_msg)
		_assert_true(strstr(e.msg, want_msg) != NULL, "message", file, line);
}
#define check_insert(...) check_insert_at(__FILE__, __LINE__, __VA_ARGS__)

static void
test_nodes(void **state)
{
	struct store_dir *f = *state;
	struct node_rec n;

	check_insert(f->s, node("n01", "52:54:00:00:00:01", "10.0.0.11"), 0, NULL);
	check_insert(f->s, node("n02", "52:54:00:00:00:02", "10.0.0.12"), 0, NULL);
	/* two dynamic nodes: "" is no address, not a duplicate one */
	check_insert(f->s, node("n03", "52:54:00:00:00:03", ""), 0, NULL);
	check_insert(f->s, node("n04", "52:54:00:00:00:04", ""), 0, NULL);
	/* conflicts name what conflicts, and with whom */
	check_insert(f->s, node("n01", "52:54:00:00:00:99", "10.0.0.99"), -EEXIST,
	    "node 'n01' already exists");
	check_insert(f->s, node("n05", "52:54:00:00:00:02", "10.0.0.99"), -EEXIST,
	    "MAC '52:54:00:00:00:02' already belongs to node 'n02'");
	check_insert(f->s, node("n05", "52:54:00:00:00:05", "10.0.0.11"), -EEXIST,
	    "IP '10.0.0.11' already belongs to node 'n01'");

	assert_int_equal(store_node_get(f->s, "n01", &n), 0);
	assert_string_equal(n.mac, "52:54:00:00:00:01");
	assert_string_equal(n.ip, "10.0.0.11");
	assert_string_equal(n.phase, "new");
	assert_int_equal(strlen(n.token), 64);
	assert_int_equal(store_node_get_by_mac(f->s, "52:54:00:00:00:02", &n), 0);
	assert_string_equal(n.name, "n02");
	assert_int_equal(store_node_get_by_ip(f->s, "10.0.0.12", &n), 0);
	assert_string_equal(n.name, "n02");
	assert_int_equal(store_node_get(f->s, "n03", &n), 0);
	assert_string_equal(n.ip, "");
	assert_int_equal(store_node_get(f->s, "n99", &n), -ENOENT);
	assert_int_equal(store_node_get_by_mac(f->s, "52:54:00:00:00:99", &n), -ENOENT);
	assert_int_equal(store_node_get_by_ip(f->s, "10.0.0.99", &n), -ENOENT);
	assert_int_equal(store_node_get_by_ip(f->s, "", &n), -ENOENT);
	assert_true(store_ip_used(f->s, "10.0.0.11"));
	assert_false(store_ip_used(f->s, "10.0.0.13"));
	assert_false(store_ip_used(f->s, ""));
	/* names with SQL in them are data */
	check_insert(f->s, node("x'); DROP TABLE nodes;--", "52:54:00:00:00:66", ""), 0, NULL);
	assert_int_equal(store_node_get(f->s, "n01", &n), 0);

	/* update rewrites the assignment columns only */
	assert_int_equal(store_node_get(f->s, "n02", &n), 0);
	strcpy(n.image, "compute");
	strcpy(n.image_pin, ID_A1);
	strcpy(n.mac, "52:54:00:00:00:77"); /* not an assignment column */
	assert_int_equal(store_node_update(f->s, &n), 0);
	assert_int_equal(store_node_get(f->s, "n02", &n), 0);
	assert_string_equal(n.image, "compute");
	assert_string_equal(n.image_pin, ID_A1);
	assert_string_equal(n.mac, "52:54:00:00:00:02");
	strcpy(n.name, "n99");
	assert_int_equal(store_node_update(f->s, &n), -ENOENT);

	assert_int_equal(store_node_delete(f->s, "n03"), 0);
	assert_int_equal(store_node_get(f->s, "n03", &n), -ENOENT);
	assert_int_equal(store_node_delete(f->s, "n03"), -ENOENT);
	/* its MAC and name are free again */
	check_insert(f->s, node("n03", "52:54:00:00:00:03", ""), 0, NULL);
}

static void
test_phase_history(void **state)
{
	struct store_dir *f = *state;
	struct phase_event ev[8];
	struct node_rec n;
	size_t nev = 99;

	check_insert(f->s, node("n01", "52:54:00:00:00:01", ""), 0, NULL);
	assert_int_equal(store_node_history(f->s, "n01", ev, ELEMENTSOF(ev), &nev), 0);
	assert_int_equal(nev, 0);
	assert_int_equal(store_node_set_phase(f->s, "n01", "pxe", "", 1001), 0);
	assert_int_equal(store_node_set_phase(f->s, "n01", "loading", NULL, 1002), 0);
	assert_int_equal(store_node_set_phase(f->s, "n01", "failed", "booted rootfs x", 1003), 0);
	assert_int_equal(store_node_set_phase(f->s, "n99", "pxe", "", 1004), -ENOENT);
	assert_int_equal(store_node_get(f->s, "n01", &n), 0);
	assert_string_equal(n.phase, "failed");
	assert_string_equal(n.reason, "booted rootfs x");
	assert_int_equal(n.phase_at, 1003);
	/* newest first */
	assert_int_equal(store_node_history(f->s, "n01", ev, ELEMENTSOF(ev), &nev), 0);
	assert_int_equal(nev, 3);
	assert_string_equal(ev[0].phase, "failed");
	assert_string_equal(ev[0].reason, "booted rootfs x");
	assert_int_equal(ev[0].at, 1003);
	assert_string_equal(ev[1].phase, "loading");
	assert_string_equal(ev[1].reason, "");
	assert_string_equal(ev[2].phase, "pxe");
	assert_int_equal(ev[2].at, 1001);
	/* max bounds what is written */
	assert_int_equal(store_node_history(f->s, "n01", ev, 2, &nev), 0);
	assert_int_equal(nev, 2);
	assert_string_equal(ev[1].phase, "loading");
	assert_int_equal(store_node_history(f->s, "n99", ev, ELEMENTSOF(ev), &nev), 0);
	assert_int_equal(nev, 0);
	/* a removed node's history goes with it; a new node of that name starts clean */
	assert_int_equal(store_node_delete(f->s, "n01"), 0);
	check_insert(f->s, node("n01", "52:54:00:00:00:01", ""), 0, NULL);
	assert_int_equal(store_node_history(f->s, "n01", ev, ELEMENTSOF(ev), &nev), 0);
	assert_int_equal(nev, 0);
}

struct collect {
	char names[8][MAX_NODE_NAME];
	size_t n;
	size_t stop_after;
};

static int
collect_one(const struct node_rec *n, void *userdata)
{
	struct collect *c = userdata;

	if (c->n >= ELEMENTSOF(c->names))
		return -E2BIG;
	strcpy(c->names[c->n++], n->name);
	return c->stop_after && c->n == c->stop_after ? -ECANCELED : 0;
}

struct counts {
	char text[256];
};

static void
count_one(const char *phase, int64_t count, void *userdata)
{
	struct counts *c = userdata;
	size_t len = strlen(c->text);

	snprintf(c->text + len, sizeof(c->text) - len, "%s=%lld ", phase, (long long)count);
}

static void
test_foreach_count(void **state)
{
	struct store_dir *f = *state;
	struct collect c = { 0 };
	struct counts cnt = { "" };

	assert_int_equal(store_node_foreach(f->s, collect_one, &c), 0);
	assert_int_equal(c.n, 0);
	check_insert(f->s, node("n10", "52:54:00:00:00:10", ""), 0, NULL);
	check_insert(f->s, node("n02", "52:54:00:00:00:02", ""), 0, NULL);
	check_insert(f->s, node("a1", "52:54:00:00:00:a1", ""), 0, NULL);
	assert_int_equal(store_node_set_phase(f->s, "n10", "up", "", 5), 0);
	assert_int_equal(store_node_foreach(f->s, collect_one, &c), 0);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.names[0], "a1");
	assert_string_equal(c.names[1], "n02");
	assert_string_equal(c.names[2], "n10");
	/* a negative return stops the walk and is passed through */
	memset(&c, 0, sizeof(c));
	c.stop_after = 2;
	assert_int_equal(store_node_foreach(f->s, collect_one, &c), -ECANCELED);
	assert_int_equal(c.n, 2);
	assert_int_equal(store_node_count_by_phase(f->s, count_one, &cnt), 0);
	assert_string_equal(cnt.text, "new=2 up=1 ");
}

struct energy_rows {
	struct energy_rec r[4];
	size_t n;
	size_t stop_after;
};

static int
energy_one(const struct energy_rec *e, void *userdata)
{
	struct energy_rows *rows = userdata;

	if (rows->n == 4)
		fail_msg("more energy rows than were put");
	rows->r[rows->n++] = *e;
	return rows->stop_after && rows->n == rows->stop_after ? -ECANCELED : 0;
}

/* The energy rows in one walk (the controller's pass reads them so), each exactly as
 * put; a put replaces the node's row. */
static void
test_energy_foreach(void **state)
{
	struct store_dir *f = *state;
	struct energy_rows rows = { .n = 0 };
	struct energy_rec e = { .name = "" }, got;

	assert_int_equal(store_energy_foreach(f->s, energy_one, &rows), 0);
	assert_int_equal(rows.n, 0);
	assert_int_equal(store_energy_get(f->s, "n10", &got), -ENOENT);
	for (int i = 0; i < 3; i++) {
		static const char *const names[] = { "n10", "n02", "a1" };

		check_insert(f->s, node(names[i], i == 0 ? "52:54:00:00:00:10" :
		    i == 1 ? "52:54:00:00:00:02" : "52:54:00:00:00:a1", ""), 0, NULL);
		snprintf(e.name, sizeof(e.name), "%s", names[i]);
		e.at_ms = 1700000000000 + i;
		e.on_mj = 10 + i;
		e.off_mj = 20 + i;
		e.saved_mj = -30 - i; /* a node drawing more than its baseline */
		e.baseline_w = 250 + (unsigned)i;
		e.last_w = 8 + (unsigned)i;
		assert_int_equal(store_energy_put(f->s, &e), 0);
	}
	e.on_mj = 99; /* replaces a1's row */
	assert_int_equal(store_energy_put(f->s, &e), 0);
	assert_int_equal(store_energy_foreach(f->s, energy_one, &rows), 0);
	assert_int_equal(rows.n, 3);
	assert_string_equal(rows.r[0].name, "a1");
	assert_string_equal(rows.r[1].name, "n02");
	assert_string_equal(rows.r[2].name, "n10");
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(store_energy_get(f->s, rows.r[i].name, &got), 0);
		assert_string_equal(got.name, rows.r[i].name);
		assert_int_equal(got.at_ms, rows.r[i].at_ms);
		assert_int_equal(got.on_mj, rows.r[i].on_mj);
		assert_int_equal(got.off_mj, rows.r[i].off_mj);
		assert_int_equal(got.saved_mj, rows.r[i].saved_mj);
		assert_int_equal(got.baseline_w, rows.r[i].baseline_w);
		assert_int_equal(got.last_w, rows.r[i].last_w);
	}
	assert_int_equal(rows.r[0].on_mj, 99);
	assert_int_equal(rows.r[0].at_ms, 1700000000002);
	assert_int_equal(rows.r[0].off_mj, 22);
	assert_int_equal(rows.r[0].saved_mj, -32);
	assert_int_equal(rows.r[0].baseline_w, 252);
	assert_int_equal(rows.r[0].last_w, 10);
	assert_int_equal(rows.r[2].on_mj, 10);
	/* a negative return stops the walk and is passed through */
	memset(&rows, 0, sizeof(rows));
	rows.stop_after = 1;
	assert_int_equal(store_energy_foreach(f->s, energy_one, &rows), -ECANCELED);
	assert_int_equal(rows.n, 1);
}

static void
check_resolve_at(const char *file, int line, struct store *s, const char *ref, int want,
    const char *want_id, const char *want_msg)
{
	struct image_rec img = { 0 };
	struct dl_err e = { 0 };
	int r = store_image_resolve(s, ref, &img, &e);

	if (r != want || (want_id && strcmp(img.id, want_id) != 0) ||
	    (want_msg && !strstr(e.msg, want_msg)))
		print_error("%s:%d: resolve '%s': r=%d id=%s msg='%s'\n", file, line, ref, r, img.id,
		    e.msg);
	_assert_int_equal(r, want, file, line);
	if (want_id)
		_assert_string_equal(img.id, want_id, file, line);
	if (want_msg)
		_assert_true(strstr(e.msg, want_msg) != NULL, "message", file, line);
}

static void
test_images(void **state)
{
	struct store_dir *f = *state;
	struct image_rec a1 = image("compute", ID_A1, 100), a2 = image("compute", ID_A2, 200),
			 a3 = image("compute", ID_A3, 150), b1 = image("tiny", ID_B1, 300), got;
	struct dl_err e = { 0 };
	static const struct {
		int line;
		const char *ref;
		int want;
		const char *id, *msg;
	} refs[] = {
		{ __LINE__, "compute", 0, ID_A2, NULL },            /* newest by added */
		{ __LINE__, "tiny", 0, ID_B1, NULL },
		{ __LINE__, ID_A1, 0, ID_A1, NULL },                /* a full id */
		{ __LINE__, ID_A3, 0, ID_A3, NULL },
		{ __LINE__, "compute@aaaa1", 0, ID_A1, NULL },
		{ __LINE__, "compute@bbbb", 0, ID_A3, NULL },
		{ __LINE__, "compute@" ID_A1, 0, ID_A1, NULL },
		{ __LINE__, "tiny@aaaa", 0, ID_B1, NULL },          /* the name narrows the prefix */
		{ __LINE__, "compute@aaaa", -EINVAL, NULL, "version 'aaaa' of image 'compute' is ambiguous" },
		{ __LINE__, "tiny@bbbb", -ENOENT, NULL, "no version 'bbbb' of image 'tiny'" },
		{ __LINE__, "compute@aaa", -EINVAL, NULL, "version 'aaa' is not 4 to 64 lowercase "
		  "hex digits of an image id (at least 4, even when fewer are unique)" },
		{ __LINE__, "compute@AAAA1", -EINVAL, NULL, "'AAAA1'" },
		{ __LINE__, "compute@aaaa%", -EINVAL, NULL, "'aaaa%'" },
		{ __LINE__, "compute@", -EINVAL, NULL, "version ''" },
		{ __LINE__, "compute@" ID_A1 "0", -EINVAL, NULL, "not 4 to 64" },
		{ __LINE__, "nosuch", -ENOENT, NULL, "no image 'nosuch'" },
		{ __LINE__, "", -ENOENT, NULL, "no image ''" },
		{ __LINE__, "cccc333333333333333333333333333333333333333333333333333333333333", -ENOENT, NULL, "no image" },
		{ __LINE__, "compute%", -ENOENT, NULL, NULL },      /* no LIKE patterns */
		{ __LINE__, "x23456789012345678901234567890123456789012345678901234567890123456@aaaa",
		    -EINVAL, NULL, "too long" },
	};

	(void)e;
	assert_int_equal(store_image_current(f->s, "compute", &got), -ENOENT);
	assert_int_equal(store_image_insert(f->s, &a1, &e), 0);
	assert_int_equal(store_image_insert(f->s, &a2, &e), 0);
	assert_int_equal(store_image_insert(f->s, &a3, &e), 0);
	assert_int_equal(store_image_insert(f->s, &b1, &e), 0);
	assert_int_equal(store_image_insert(f->s, &a1, &e), -EEXIST);
	assert_non_null(strstr(e.msg, "image version '" ID_A1 "' is already registered"));

	assert_int_equal(store_image_get(f->s, ID_A1, &got), 0);
	assert_string_equal(got.name, "compute");
	assert_string_equal(got.cmdline, "console=ttyS0");
	assert_string_equal(got.kernel_banner, "6.1.0-56-amd64 (x) #1 SMP");
	assert_int_equal(image_rec_file(&got, "rootfs")->size, 300);
	assert_int_equal(image_rec_sha256(&got, "initrd")[0], '2');
	assert_int_equal(got.added, 100);
	assert_false(got.current);
	assert_int_equal(store_image_current(f->s, "compute", &got), 0);
	assert_string_equal(got.id, ID_A2);
	assert_true(got.current);
	assert_int_equal(store_image_get(f->s, ID_B1, &got), 0);
	assert_true(got.current);
	assert_int_equal(store_image_get(f->s, "nosuch", &got), -ENOENT);

	for (size_t i = 0; i < ELEMENTSOF(refs); i++)
		check_resolve_at(__FILE__, refs[i].line, f->s, refs[i].ref, refs[i].want, refs[i].id,
		    refs[i].msg);

	/* removing the newest makes the next one current */
	assert_int_equal(store_image_delete(f->s, ID_A2), 0);
	assert_int_equal(store_image_delete(f->s, ID_A2), -ENOENT);
	assert_int_equal(store_image_current(f->s, "compute", &got), 0);
	assert_string_equal(got.id, ID_A3);
	assert_true(got.current);
}

struct img_collect {
	char ids[8][SHA256_HEX_SIZE];
	size_t n;
};

static int
img_one(const struct image_rec *i, void *userdata)
{
	struct img_collect *c = userdata;

	if (c->n >= ELEMENTSOF(c->ids))
		return -E2BIG;
	strcpy(c->ids[c->n++], i->id);
	return 0;
}

static void
test_image_foreach(void **state)
{
	struct store_dir *f = *state;
	struct image_rec a1 = image("compute", ID_A1, 100), a2 = image("compute", ID_A2, 200),
			 b1 = image("tiny", ID_B1, 50);
	struct img_collect c = { 0 };
	struct dl_err e = { 0 };

	assert_int_equal(store_image_insert(f->s, &b1, &e), 0);
	assert_int_equal(store_image_insert(f->s, &a1, &e), 0);
	assert_int_equal(store_image_insert(f->s, &a2, &e), 0);
	/* by name, newest first */
	assert_int_equal(store_image_foreach(f->s, img_one, &c), 0);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.ids[0], ID_A2);
	assert_string_equal(c.ids[1], ID_A1);
	assert_string_equal(c.ids[2], ID_B1);
}

/* store.h: "Number of nodes whose pin or served image is id (removal refuses while > 0)". */
static void
test_image_users(void **state)
{
	struct store_dir *f = *state;
	struct image_rec a1 = image("compute", ID_A1, 100);
	struct node_rec n1 = node("n1", "52:54:00:00:00:01", ""),
			n2 = node("n2", "52:54:00:00:00:02", ""),
			n3 = node("n3", "52:54:00:00:00:03", "");
	struct dl_err e = { 0 };

	assert_int_equal(store_image_insert(f->s, &a1, &e), 0);
	assert_int_equal(store_image_users(f->s, ID_A1), 0);
	strcpy(n1.image, "compute");
	strcpy(n1.image_pin, ID_A1);
	check_insert(f->s, n1, 0, NULL);
	assert_int_equal(store_image_users(f->s, ID_A1), 1);
	strcpy(n2.image, "compute");
	strcpy(n2.image_pin, ID_A1);
	check_insert(f->s, n2, 0, NULL);
	assert_int_equal(store_image_users(f->s, ID_A1), 2);
	assert_int_equal(store_image_users(f->s, ID_A2), 0);
	/* following the name without a pin, but booted (served) this version */
	strcpy(n3.image, "compute");
	strcpy(n3.served_image, ID_A1);
	check_insert(f->s, n3, 0, NULL);
	if (store_image_users(f->s, ID_A1) != 3)
		print_error("BUG: store_image_users ignores served_image (header: \"pin or served "
			    "image\"): got %lld, want 3\n", (long long)store_image_users(f->s, ID_A1));
	assert_int_equal(store_image_users(f->s, ID_A1), 3);
}

static void
test_transactions(void **state)
{
	struct store_dir *f = *state;
	struct node_rec n;
	struct dl_err e = { 0 };

	assert_int_equal(store_begin(f->s), 0);
	check_insert(f->s, node("t1", "52:54:00:00:00:01", "10.0.0.1"), 0, NULL);
	check_insert(f->s, node("t2", "52:54:00:00:00:02", "10.0.0.2"), 0, NULL);
	/* a conflict inside the transaction is reported and the transaction is still usable */
	check_insert(f->s, node("t3", "52:54:00:00:00:01", "10.0.0.3"), -EEXIST, "node 't1'");
	assert_int_equal(store_node_get(f->s, "t2", &n), 0); /* visible inside */
	store_rollback(f->s);
	assert_int_equal(store_node_get(f->s, "t1", &n), -ENOENT);
	assert_int_equal(store_node_get(f->s, "t2", &n), -ENOENT);
	assert_false(store_ip_used(f->s, "10.0.0.1"));
	store_rollback(f->s); /* none open: harmless */

	assert_int_equal(store_begin(f->s), 0);
	check_insert(f->s, node("t1", "52:54:00:00:00:01", "10.0.0.1"), 0, NULL);
	assert_int_equal(store_node_set_phase(f->s, "t1", "pxe", "", 7), 0);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_node_get(f->s, "t1", &n), 0);
	assert_int_equal(store_commit(f->s), -EIO); /* none open */

	/* it is on disk: a second connection sees it */
	{
		struct store *s2;
		size_t nev = 0;
		struct phase_event ev[2];

		assert_int_equal(store_open(f->path, &s2, &e), 0);
		assert_int_equal(store_node_get(s2, "t1", &n), 0);
		assert_string_equal(n.phase, "pxe");
		assert_int_equal(store_node_history(s2, "t1", ev, 2, &nev), 0);
		assert_int_equal(nev, 1);
		store_close(s2);
	}
}

/* A batch holds a burst of requests in one transaction: transactions inside nest as
 * savepoints (a rollback undoes only its own part), nothing is visible to another
 * connection before the batch ends, everything after. */
static void
test_batch(void **state)
{
	struct store_dir *f = *state;
	struct store *s2;
	struct node_rec n;
	struct dl_err e = { 0 };

	assert_int_equal(store_open(f->path, &s2, &e), 0);
	assert_int_equal(store_batch_begin(f->s), 0);
	assert_int_equal(store_batch_begin(f->s), 0); /* already in one: no-op */
	check_insert(f->s, node("b1", "52:54:00:00:00:11", "10.0.1.1"), 0, NULL);
	assert_int_equal(store_begin(f->s), 0);
	check_insert(f->s, node("b2", "52:54:00:00:00:12", "10.0.1.2"), 0, NULL);
	store_rollback(f->s);
	assert_int_equal(store_node_get(f->s, "b2", &n), -ENOENT);
	assert_int_equal(store_node_get(f->s, "b1", &n), 0); /* the batch's own write stays */
	assert_int_equal(store_begin(f->s), 0);
	check_insert(f->s, node("b3", "52:54:00:00:00:13", "10.0.1.3"), 0, NULL);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_node_get(s2, "b1", &n), -ENOENT); /* not before the end */
	assert_int_equal(store_batch_end(f->s), 0);
	assert_int_equal(store_batch_end(f->s), 0); /* none open: no-op */
	assert_int_equal(store_node_get(s2, "b1", &n), 0);
	assert_int_equal(store_node_get(s2, "b3", &n), 0);
	assert_int_equal(store_node_get(s2, "b2", &n), -ENOENT);
	/* outside a batch, transactions are top-level again */
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_commit(f->s), 0);
	store_close(s2);
}

static void
test_open_errors(void **state)
{
	struct store *s = NULL;
	struct dl_err e = { 0 };

	(void)state;
	assert_int_equal(store_open("/nonexistent-dir/x/state.db", &s, &e), -EIO);
	assert_null(s);
	assert_non_null(strstr(e.msg, "store '/nonexistent-dir/x/state.db'"));
	assert_null(store_close(NULL));
}

/* Transactions nest as savepoints outside a batch too (store.h): an inner rollback undoes
 * only its own writes, only the outermost commit is seen by another connection, and the
 * nesting is bounded. */
static void
test_nested_transactions(void **state)
{
	struct store_dir *f = *state;
	struct store *s2;
	struct node_rec n;
	struct dl_err e = { 0 };
	unsigned depth = 0;

	assert_int_equal(store_open(f->path, &s2, &e), 0);
	assert_int_equal(store_begin(f->s), 0);
	check_insert(f->s, node("o1", "52:54:00:00:01:01", ""), 0, NULL);
	assert_int_equal(store_begin(f->s), 0);
	check_insert(f->s, node("i1", "52:54:00:00:01:02", ""), 0, NULL);
	store_rollback(f->s);
	assert_int_equal(store_begin(f->s), 0);
	check_insert(f->s, node("i2", "52:54:00:00:01:03", ""), 0, NULL);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_node_get(s2, "o1", &n), -ENOENT);
	assert_int_equal(store_node_get(s2, "i2", &n), -ENOENT);
	/* a batch cannot start inside a transaction */
	assert_int_equal(store_batch_begin(f->s), -EBUSY);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_node_get(s2, "o1", &n), 0);
	assert_int_equal(store_node_get(s2, "i2", &n), 0);
	assert_int_equal(store_node_get(s2, "i1", &n), -ENOENT);

	/* as deep as MAX_STORE_TX_DEPTH, no deeper; each level closes on its own */
	while (store_begin(f->s) == 0)
		depth++;
	assert_int_equal(depth, MAX_STORE_TX_DEPTH);
	assert_int_equal(store_begin(f->s), -EBUSY);
	check_insert(f->s, node("deep", "52:54:00:00:01:04", ""), 0, NULL);
	while (depth--)
		assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_commit(f->s), -EIO);
	assert_int_equal(store_node_get(s2, "deep", &n), 0);
	store_close(s2);
}

/* What store_open() takes: a path, sqlite:PATH, sqlite:///abs/path; a PostgreSQL URL is
 * named as not built in, without the password it carries; anything else with a scheme is
 * refused by it. */
static void
test_open_targets(void **state)
{
	struct store_dir *f = *state;
	static const struct {
		int line;
		const char *target;
		int want;
		const char *msg;
	} refused[] = {
		/* PostgreSQL is built in: a server that is not there (port 1 refuses at
		 * once) fails the open, and the password is in no message */
		{ __LINE__, "postgresql://bootsvc:s3cret@127.0.0.1:1/diskless",
		    -EIO, "store 'postgresql://127.0.0.1:1/diskless': " },
		{ __LINE__, "postgres://bootsvc:s3cret@127.0.0.1:1/diskless", -EIO,
		    "store 'postgres://127.0.0.1:1/diskless': " },
		{ __LINE__, "mysql://root:pw@x/y", -EPROTONOSUPPORT,
		    "store 'mysql://x/y': unknown scheme 'mysql'" },
		{ __LINE__, "sqlite:", -EINVAL, "no path" },
	};
	char target[sizeof(f->path) + 16];
	struct store *s = NULL;
	struct node_rec n;
	struct dl_err e = { 0 };

	check_insert(f->s, node("t1", "52:54:00:00:02:01", ""), 0, NULL);
	snprintf(target, sizeof(target), "sqlite:%s", f->path);
	assert_int_equal(store_open(target, &s, &e), 0);
	assert_int_equal(store_node_get(s, "t1", &n), 0);
	store_close(s);
	snprintf(target, sizeof(target), "sqlite://%s", f->path);
	assert_int_equal(store_open(target, &s, &e), 0);
	assert_int_equal(store_node_get(s, "t1", &n), 0);
	store_close(s);

	for (size_t i = 0; i < ELEMENTSOF(refused); i++) {
		s = NULL;
		memset(&e, 0, sizeof(e));
		if (store_open(refused[i].target, &s, &e) != refused[i].want ||
		    !strstr(e.msg, refused[i].msg) || strstr(e.msg, "s3cret") ||
		    strstr(e.msg, ":pw@"))
			fail_msg("%s:%d: '%s': r=%d msg='%s'", __FILE__, refused[i].line,
			    refused[i].target, e.code, e.msg);
		assert_null(s);
	}
}

/* The files of a version are read once per connection and then known by its content id
 * (store_sqlite.h): every read still finds the version's row, so a removed version is
 * gone at once, and one re-added under the same id has the same files by definition.
 * More versions than the table holds are all read right. */
static void
test_image_files_by_id(void **state)
{
	struct store_dir *f = *state;
	struct image_rec a1 = image("compute", ID_A1, 100), got;
	struct dl_err e = { 0 };
	char id[SHA256_HEX_SIZE];

	assert_int_equal(store_image_insert(f->s, &a1, &e), 0);
	for (int round = 0; round < 2; round++) { /* a miss, then a hit */
		assert_int_equal(store_image_get(f->s, ID_A1, &got), 0);
		assert_int_equal(got.n_files, 3);
		assert_string_equal(got.files[0].role, "kernel");
		assert_int_equal(image_rec_file(&got, "rootfs")->size, 300);
		assert_int_equal(image_rec_sha256(&got, "initrd")[0], '2');
	}
	assert_int_equal(store_image_delete(f->s, ID_A1), 0);
	assert_int_equal(store_image_get(f->s, ID_A1, &got), -ENOENT);
	assert_int_equal(store_image_current(f->s, "compute", &got), -ENOENT);
	assert_int_equal(store_image_insert(f->s, &a1, &e), 0);
	assert_int_equal(store_image_current(f->s, "compute", &got), 0);
	assert_int_equal(image_rec_file(&got, "kernel")->size, 100);

	/* 40 versions, each with its own rootfs size, read twice round the table */
	for (int k = 0; k < 40; k++) {
		struct image_rec v;
		(void)snprintf(id, sizeof(id), "%064x", k + 1);
		v = image("many", id, 1000 + k);
		v.files[2].size = 5000u + (unsigned)k;
		assert_int_equal(store_image_insert(f->s, &v, &e), 0);
	}
	for (int pass = 0; pass < 2; pass++)
		for (int k = 0; k < 40; k++) {
			(void)snprintf(id, sizeof(id), "%064x", k + 1);
			assert_int_equal(store_image_get(f->s, id, &got), 0);
			assert_int_equal(image_rec_file(&got, "rootfs")->size, 5000u + (unsigned)k);
		}
}

/* The credential state (issue #11): arm writes the token, armed and armed_by, and
 * nothing else; an insert and every read carry them. */
static void
test_arm(void **state)
{
	static const char tok[] =
	    "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
	struct store_dir *f = *state;
	struct node_rec n;

	check_insert(f->s, node("n01", "52:54:00:00:00:01", "10.0.0.11"), 0, NULL);
	assert_int_equal(store_node_get(f->s, "n01", &n), 0);
	assert_false(n.armed);
	assert_string_equal(n.armed_by, "");
	assert_int_equal(store_node_arm(f->s, "n01", tok, true, "controller"), 0);
	assert_int_equal(store_node_get(f->s, "n01", &n), 0);
	assert_true(n.armed);
	assert_string_equal(n.armed_by, "controller");
	assert_string_equal(n.token, tok);
	assert_string_equal(n.phase, "new");
	assert_int_equal(store_node_get_by_mac(f->s, "52:54:00:00:00:01", &n), 0);
	assert_true(n.armed);
	/* handed out: the token stays, disarmed */
	assert_int_equal(store_node_arm(f->s, "n01", tok, false, "controller"), 0);
	assert_int_equal(store_node_get(f->s, "n01", &n), 0);
	assert_false(n.armed);
	assert_string_equal(n.token, tok);
	/* other writers leave it alone */
	assert_int_equal(store_node_arm(f->s, "n01", tok, true, "admin"), 0);
	assert_int_equal(store_node_get(f->s, "n01", &n), 0);
	strcpy(n.op, "self-boot");
	assert_int_equal(store_node_update_ctrl(f->s, &n), 0);
	assert_int_equal(store_node_update(f->s, &n), 0);
	assert_int_equal(store_node_set_phase(f->s, "n01", "pxe", "", 1), 0);
	assert_int_equal(store_node_get(f->s, "n01", &n), 0);
	assert_true(n.armed);
	assert_string_equal(n.armed_by, "admin");
	assert_string_equal(n.op, "self-boot");
	assert_int_equal(store_node_arm(f->s, "n99", tok, true, "admin"), -ENOENT);
	/* an insert takes them as given */
	n = node("n02", "52:54:00:00:00:02", "");
	n.armed = true;
	strcpy(n.armed_by, "admin");
	check_insert(f->s, n, 0, NULL);
	assert_int_equal(store_node_get(f->s, "n02", &n), 0);
	assert_true(n.armed);
	assert_string_equal(n.armed_by, "admin");
}

/* The store holds every token: it and its -wal and -shm are 0600, and a store an older
 * bootsvc left 0644 is narrowed at open (issue #11). */
static void
test_file_modes(void **state)
{
	struct store_dir *f = *state;
	static const char *const suffixes[] = { "", "-wal", "-shm" };
	char p[sizeof(f->path) + 8];
	struct stat st;
	struct dl_err e = { 0 };

	check_insert(f->s, node("n01", "52:54:00:00:00:01", ""), 0, NULL);
	for (size_t i = 0; i < ELEMENTSOF(suffixes); i++) {
		(void)snprintf(p, sizeof(p), "%s%s", f->path, suffixes[i]);
		assert_int_equal(stat(p, &st), 0);
		if ((st.st_mode & 07777) != 0600)
			fail_msg("%s is mode %04o, want 0600", p, (unsigned)(st.st_mode & 07777));
	}
	store_close(f->s);
	f->s = NULL;
	for (size_t i = 0; i < ELEMENTSOF(suffixes); i++) {
		(void)snprintf(p, sizeof(p), "%s%s", f->path, suffixes[i]);
		if (stat(p, &st) == 0)
			assert_int_equal(chmod(p, 0644), 0);
	}
	if (store_open(f->path, &f->s, &e) < 0)
		fail_msg("store_open: %s", e.msg);
	check_insert(f->s, node("n02", "52:54:00:00:00:02", ""), 0, NULL);
	for (size_t i = 0; i < ELEMENTSOF(suffixes); i++) {
		(void)snprintf(p, sizeof(p), "%s%s", f->path, suffixes[i]);
		if (stat(p, &st) == 0 && (st.st_mode & 07777) != 0600)
			fail_msg("%s is mode %04o after reopen, want 0600", p,
			    (unsigned)(st.st_mode & 07777));
	}
}

/* The write-ahead log is checkpointed by the store's own thread, not by the commit that
 * took it past 1,000 pages (store_sqlite_ckpt.c): commits of a few pages each, then the
 * checkpoints that thread ran are counted, and what was written is all there. */
static void
test_checkpoint_thread(void **state)
{
	struct store_dir *f = *state;
	struct store *s2;
	struct node_rec n;
	struct dl_err e = { 0 };
	char name[16], mac[MAC_STR_LEN];

	for (unsigned i = 0; i < 64; i++) {
		snprintf(name, sizeof(name), "w%02u", i);
		snprintf(mac, sizeof(mac), "52:54:00:00:10:%02x", i);
		check_insert(f->s, node(name, mac, ""), 0, NULL);
	}
	assert_int_equal(store_wal_checkpoints(f->s), 0);
	/* each commit: the node's row and a history row, a few pages of log */
	for (unsigned i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "w%02u", i % 64);
		assert_int_equal(store_node_set_phase(f->s, name, i % 2 ? "pxe" : "up", "", i), 0);
	}
	/* the thread was woken; give it up to 10 s (it is not timed, only waited for) */
	for (unsigned k = 0; k < 1000 && store_wal_checkpoints(f->s) == 0; k++)
		usleep(10000);
	assert_true(store_wal_checkpoints(f->s) > 0);
	assert_int_equal(store_open(f->path, &s2, &e), 0);
	assert_int_equal(store_node_get(s2, "w00", &n), 0);
	assert_string_equal(n.phase, "up");   /* 2944 % 2 */
	assert_int_equal(store_node_get(s2, "w63", &n), 0);
	assert_string_equal(n.phase, "pxe");  /* 2943 */
	store_close(s2);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, store_dir_setup, store_dir_teardown)

int
main(void)
{
	/* Every backend: run once on SQLite, and again on PostgreSQL as test_store@pg. */
	const struct CMUnitTest tests[] = {
		T(test_nodes),
		T(test_arm),
		T(test_phase_history),
		T(test_foreach_count),
		T(test_energy_foreach),
		T(test_images),
		T(test_image_foreach),
		T(test_image_users),
		T(test_image_files_by_id),
		T(test_transactions),
		T(test_batch),
		T(test_nested_transactions),
	};
	/* SQLite only: its files, and targets naming a file. */
	const struct CMUnitTest sqlite_tests[] = {
		T(test_file_modes),
		T(test_checkpoint_thread),
		T(test_open_targets),
		cmocka_unit_test(test_open_errors),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);

	if (!store_dir_is_pg())
		failed += cmocka_run_group_tests(sqlite_tests, NULL, NULL);
	return failed;
}
