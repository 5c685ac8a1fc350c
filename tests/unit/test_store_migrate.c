/* SPDX-License-Identifier: MIT */
/* The SQLite store's schema versions (bootsvc/store/store_sqlite_schema.c): a store written
 * by the last release (tests/data/store/v1.db, made by that release's own bootsvc: see the
 * README beside it) is upgraded to the newest version with every row readable and equal;
 * opening it again changes nothing; a newer store is refused untouched, naming both
 * versions; a migration that fails is rolled back; a new store gets the same tables the
 * migrations make; the per-node script path reads without sorting. Run from the
 * repository root (tests/run.sh does). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "store/store_pg.h"
#include "store/store_sqlite.h"
#include "store_dir.h"

#define FIXTURE "tests/data/store/v1.db"

/* What make-v1.sh put in the fixture (its output and README). */
#define ID_T1 "566ea5c2b81ed89f5a73f127531b4e49dd0a75f37279fa34c58dedcd369e8c04"
#define ID_T2 "7a3783741fab1fcfed6eaf6fa00610033289283336be76a310ec2101b7bf9f10"
#define ID_C1 "2e572dbcf0bea170191a257dd0e6cac3979d1c9193a2a3c21acc6ec44ebd976c"
#define FIXTURE_NODES 7
#define FIXTURE_IMAGES 3
#define FIXTURE_EVENTS 10
#define FIXTURE_ENERGY 7
#define FIXTURE_ENERGY_IMAGES 2

/* Whole file, malloc'd; *ret_len its size. NULL if it cannot be read. */
static char *
slurp(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "rbe");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) && fread(buf, 1, (size_t)n, f) == (size_t)n) {
		buf[n] = '\0';
		*ret_len = (size_t)n;
	} else {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static int
setup(void **state)
{
	struct store_dir *f = calloc(1, sizeof(*f));
	char *buf;
	size_t len = 0;
	FILE *out;

	if (!f)
		return -1;
	if (store_dir_make(f) < 0)
		return -1;
	if (!(buf = slurp(FIXTURE, &len))) {
		print_error("cannot read %s: run from the repository root\n", FIXTURE);
		return -1;
	}
	out = fopen(f->path, "wbe");
	if (!out || fwrite(buf, 1, len, out) != len || fclose(out) != 0) {
		free(buf);
		return -1;
	}
	free(buf);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct store_dir *f = *state;

	store_dir_remove(f);
	free(f);
	return 0;
}

/* The fixture (or what became of it) through a plain connection, beside the store. */
static sqlite3 *
raw_open(const char *path)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	return db;
}

static int64_t
raw_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void
raw_exec(sqlite3 *db, const char *sql)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
}

/* Every row of sql as text, one line per row, '|' between columns. malloc'd. */
static char *
raw_dump(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	char *out = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&out, &size);

	assert_non_null(f);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	while (sqlite3_step(st) == SQLITE_ROW) {
		for (int i = 0; i < sqlite3_column_count(st); i++) {
			const unsigned char *t = sqlite3_column_text(st, i);
			fprintf(f, "%s%s", i ? "|" : "", t ? (const char *)t : "NULL");
		}
		fputc('\n', f);
	}
	sqlite3_finalize(st);
	fclose(f);
	return out;
}

/* The old image columns, per role, as the release wrote them. */
struct old_image {
	char id[SHA256_HEX_SIZE];
	char sha[3][SHA256_HEX_SIZE];
	int64_t size[3];
};
static const char *const old_roles[3] = { "kernel", "initrd", "rootfs" };

static size_t
old_images(sqlite3 *db, struct old_image *ret, size_t max)
{
	sqlite3_stmt *st;
	size_t n = 0;

	assert_int_equal(sqlite3_prepare_v2(db, "SELECT id, kernel_sha256, kernel_size, "
	    "initrd_sha256, initrd_size, rootfs_sha256, rootfs_size FROM images ORDER BY id", -1,
	    &st, NULL), SQLITE_OK);
	while (n < max && sqlite3_step(st) == SQLITE_ROW) {
		snprintf(ret[n].id, sizeof(ret[n].id), "%s", sqlite3_column_text(st, 0));
		for (int k = 0; k < 3; k++) {
			snprintf(ret[n].sha[k], sizeof(ret[n].sha[k]), "%s",
			    sqlite3_column_text(st, 1 + 2 * k));
			ret[n].size[k] = sqlite3_column_int64(st, 2 + 2 * k);
		}
		n++;
	}
	sqlite3_finalize(st);
	return n;
}

/* Tables the migrations leave as they were: their rows must read back the same. */
/* The nodes columns of version 1: later versions add columns (4: armed, armed_by) and
 * keep these. */
static const char unchanged_sql[] =
	"SELECT name, mac, ip, uuid, serial, bmc, bmc_creds, image, image_pin, token, phase, "
	"reason, phase_at, served_image, created, want_power, hold, hold_reason, booted_image, "
	"power, op, op_at_ms, attempts, retry_at_ms, bmc_state, last_error, alloc_job, "
	"alloc_class, health, health_reasons, health_state, sel_last, idle_since_ms "
	"FROM nodes ORDER BY name;"
	"SELECT * FROM history ORDER BY seq;"
	"SELECT * FROM energy ORDER BY node;"
	"SELECT * FROM energy_image ORDER BY image;"
	"SELECT id, name, kind, path, kernel_version, kernel_banner, built, cmdline, added, "
	"initrd_tree FROM images ORDER BY id";

static char *
raw_dump_unchanged(sqlite3 *db)
{
	char *out = NULL, *part;
	size_t size = 0;
	FILE *f = open_memstream(&out, &size);
	const char *sql = unchanged_sql;

	assert_non_null(f);
	while (*sql) {
		char one[512];
		size_t len = strcspn(sql, ";");
		snprintf(one, sizeof(one), "%.*s", (int)len, sql);
		part = raw_dump(db, one);
		fprintf(f, "-- %s\n%s", one, part);
		free(part);
		sql += len + (sql[len] == ';');
	}
	fclose(f);
	return out;
}

struct events {
	struct event_rec e[32];
	size_t n;
};

static int
event_one(const struct event_rec *e, void *userdata)
{
	struct events *ev = userdata;

	if (ev->n >= ELEMENTSOF(ev->e))
		return -E2BIG;
	ev->e[ev->n++] = *e;
	return 0;
}

static int
count_one(const void *rec, void *userdata)
{
	(void)rec;
	(*(size_t *)userdata)++;
	return 0;
}

static int
count_node(const struct node_rec *n, void *userdata)
{
	return count_one(n, userdata);
}

static int
count_energy(const struct energy_rec *e, void *userdata)
{
	return count_one(e, userdata);
}

static int
count_image(const struct image_rec *i, void *userdata)
{
	return count_one(i, userdata);
}

/* v1.db opened by this build: every migration runs, every row is still there and reads
 * back with the same values; image files by role equal the old columns. */
static void
test_fixture_upgrade(void **state)
{
	struct store_dir *f = *state;
	struct old_image old[8];
	struct events ev = { 0 };
	struct phase_event hist[8];
	struct image_rec img;
	struct node_rec n;
	struct dl_err e = { 0 };
	struct store *s;
	sqlite3 *db = raw_open(f->path);
	char *before, *after;
	size_t n_old, count = 0, nh = 0;

	assert_int_equal(raw_int(db, "PRAGMA user_version"), 1);
	n_old = old_images(db, old, ELEMENTSOF(old));
	assert_int_equal(n_old, FIXTURE_IMAGES);
	before = raw_dump_unchanged(db);
	sqlite3_close(db);

	if (store_open(f->path, &s, &e) < 0)
		fail_msg("store_open: %s", e.msg);

	/* images: the same versions, each old column pair now the file of its role, in the
	 * order of the columns */
	for (size_t i = 0; i < n_old; i++) {
		assert_int_equal(store_image_get(s, old[i].id, &img), 0);
		assert_int_equal(img.n_files, 3);
		for (int k = 0; k < 3; k++) {
			const struct image_file *file = image_rec_file(&img, old_roles[k]);
			assert_non_null(file);
			assert_ptr_equal(file, &img.files[k]);
			assert_string_equal(file->sha256, old[i].sha[k]);
			assert_int_equal(file->size, old[i].size[k]);
		}
		assert_string_equal(img.kind, "linux");
	}
	assert_int_equal(store_image_current(s, "tiny", &img), 0);
	assert_string_equal(img.id, ID_T2);
	assert_true(img.current);
	assert_string_equal(img.kernel_version, "6.1.0-56-amd64");
	assert_int_equal(img.files[0].size, 14);
	assert_int_equal(store_image_resolve(s, "tiny@566ea5c2", &img, &e), 0);
	assert_string_equal(img.id, ID_T1);
	assert_false(img.current);
	assert_int_equal(store_image_resolve(s, "compute", &img, &e), 0);
	assert_string_equal(img.id, ID_C1);
	assert_int_equal(store_image_foreach(s, count_image, &count), 0);
	assert_int_equal(count, FIXTURE_IMAGES);
	assert_int_equal(store_image_users(s, ID_T2), 2);

	/* nodes, their history, events, energy */
	count = 0;
	assert_int_equal(store_node_foreach(s, count_node, &count), 0);
	assert_int_equal(count, FIXTURE_NODES);
	assert_int_equal(store_node_get_by_mac(s, "52:54:00:77:00:05", &n), 0);
	assert_string_equal(n.name, "n05");
	assert_string_equal(n.ip, "10.77.0.55");
	assert_string_equal(n.serial, "SN-0005");
	assert_string_equal(n.image_pin, ID_C1);
	assert_string_equal(n.served_image, ID_C1);
	assert_string_equal(n.phase, "imaging");
	assert_int_equal(strlen(n.token), 64);
	assert_int_equal(store_node_get(s, "d-525400770099", &n), 0);
	assert_string_equal(n.phase, "discovered");
	assert_int_equal(store_node_get_by_ip(s, "10.77.0.11", &n), 0);
	assert_string_equal(n.name, "n02");
	assert_string_equal(n.reason, "rootfs: sha256 mismatch");
	assert_int_equal(store_node_history(s, "n02", hist, ELEMENTSOF(hist), &nh), 0);
	assert_int_equal(nh, 3);
	assert_string_equal(hist[0].phase, "failed");
	assert_string_equal(hist[2].phase, "pxe");
	assert_int_equal(store_events_since(s, 0, 100, event_one, &ev), 0);
	assert_int_equal(ev.n, FIXTURE_EVENTS);
	assert_string_equal(ev.e[0].kind, "action");
	assert_string_equal(ev.e[0].what, "hold");
	assert_string_equal(ev.e[0].reason, "fixture: held by hand");
	assert_int_equal(store_event_last_seq(s), FIXTURE_EVENTS);
	count = 0;
	assert_int_equal(store_energy_foreach(s, count_energy, &count), 0);
	assert_int_equal(count, FIXTURE_ENERGY);
	count = 0;
	assert_int_equal(store_energy_image_foreach(s, count_energy, &count), 0);
	assert_int_equal(count, FIXTURE_ENERGY_IMAGES);
	store_close(s);

	/* the rows of every table but images' old columns are byte for byte what they were */
	db = raw_open(f->path);
	assert_int_equal(raw_int(db, "PRAGMA user_version"), STORE_SQLITE_SCHEMA_VERSION);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM image_files"), 3 * FIXTURE_IMAGES);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM pragma_table_info('images') "
	    "WHERE name LIKE '%sha256' OR name LIKE '%size'"), 0);
	after = raw_dump_unchanged(db);
	assert_string_equal(after, before);
	/* version 9: every node kept, none drained */
	assert_int_equal(raw_int(db, "SELECT count(*) FROM nodes WHERE drain = 0 AND "
	    "drain_reason = ''"), FIXTURE_NODES);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM pragma_integrity_check "
	    "WHERE integrity_check != 'ok'"), 0);
	sqlite3_close(db);
	free(before);
	free(after);
}

/* After the upgrade the store takes any set of roles, keeps their order, and a removed
 * version takes its file rows with it. */
static void
test_upgraded_any_roles(void **state)
{
	struct store_dir *f = *state;
	static const char *const roles[] = { "xen", "kernel", "initrd", "rootfs", "dom0.cfg" };
	struct image_rec img = { 0 }, got;
	struct dl_err e = { 0 };
	struct store *s;
	sqlite3 *db;

	assert_int_equal(store_open(f->path, &s, &e), 0);
	memset(img.id, 'c', 64);
	strcpy(img.name, "hyper");
	strcpy(img.kind, "xen");
	img.added = 2000000000;
	for (size_t k = 0; k < ELEMENTSOF(roles); k++) {
		char sha[SHA256_HEX_SIZE] = { 0 };
		memset(sha, (int)('a' + k), 64);
		assert_int_equal(image_rec_file_set(&img, roles[k], sha, 10 + k), 0);
	}
	assert_int_equal(store_image_insert(s, &img, &e), 0);
	assert_int_equal(store_image_current(s, "hyper", &got), 0);
	assert_int_equal(got.n_files, ELEMENTSOF(roles));
	for (size_t k = 0; k < ELEMENTSOF(roles); k++) {
		assert_string_equal(got.files[k].role, roles[k]);
		assert_int_equal(got.files[k].size, 10 + k);
		assert_int_equal(got.files[k].sha256[0], 'a' + (int)k);
	}
	/* a duplicate id is refused whole: no second set of files */
	assert_int_equal(store_image_insert(s, &img, &e), -EEXIST);
	assert_int_equal(store_image_delete(s, got.id), 0);
	store_close(s);

	db = raw_open(f->path);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM image_files"), 3 * FIXTURE_IMAGES);
	sqlite3_close(db);
}

/* The whole of path, which must be readable; *ret_len its size. */
static char *
slurp_ok(const char *path, size_t *ret_len)
{
	char *buf = slurp(path, ret_len);

	assert_non_null(buf);
	return buf;
}

/* path holds the len bytes of before, still; frees before. */
static void
assert_unchanged(const char *path, char *before, size_t len)
{
	size_t len_after = 0;
	char *after = slurp_ok(path, &len_after);

	assert_int_equal(len_after, len);
	assert_memory_equal(after, before, len);
	free(before);
	free(after);
}

/* Opening an upgraded store again migrates nothing and writes nothing. */
static void
test_reopen_noop(void **state)
{
	struct store_dir *f = *state;
	struct dl_err e = { 0 };
	struct store *s;
	char *before;
	size_t len_before = 0;

	assert_int_equal(store_open(f->path, &s, &e), 0);
	store_close(s);
	before = slurp_ok(f->path, &len_before);
	assert_int_equal(store_open(f->path, &s, &e), 0);
	store_close(s);
	assert_unchanged(f->path, before, len_before);
}

/* A store from a newer bootsvc: refused, both versions named, the file left alone. */
static void
test_newer_refused(void **state)
{
	struct store_dir *f = *state;
	static const int versions[] = { STORE_SQLITE_SCHEMA_VERSION + 1, 57 };
	struct store *s = NULL;
	char *before, want[sizeof(((struct store_dir *)0)->path) + 128];
	size_t len_before = 0;
	sqlite3 *db;

	for (size_t i = 0; i < ELEMENTSOF(versions); i++) {
		struct dl_err e = { 0 };
		char sql[64];

		db = raw_open(f->path);
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", versions[i]);
		raw_exec(db, sql);
		sqlite3_close(db);
		before = slurp_ok(f->path, &len_before);

		assert_int_equal(store_open(f->path, &s, &e), -ENOTSUP);
		assert_null(s);
		snprintf(want, sizeof(want), "store '%s' has schema version %d, this bootsvc knows "
		    "up to %d: upgrade bootsvc", f->path, versions[i], STORE_SQLITE_SCHEMA_VERSION);
		assert_string_equal(e.msg, want);
		assert_unchanged(f->path, before, len_before);
	}
}

/* A migration that fails part way is rolled back whole: the store stays at the version
 * before it, readable by that version, and opens once the cause is gone. A view on an old
 * column makes DROP COLUMN fail after image_files was made and filled. */
static void
test_failed_migration_rolls_back(void **state)
{
	struct store_dir *f = *state;
	struct dl_err e = { 0 };
	struct store *s = NULL;
	sqlite3 *db = raw_open(f->path);

	raw_exec(db, "CREATE VIEW legacy AS SELECT id, rootfs_sha256 FROM images");
	sqlite3_close(db);
	assert_int_equal(store_open(f->path, &s, &e), -EIO);
	assert_null(s);
	if (!strstr(e.msg, "migrating schema version 2 to 3 (image files as rows)") ||
	    !strstr(e.msg, f->path))
		fail_msg("message: %s", e.msg);

	db = raw_open(f->path);
	assert_int_equal(raw_int(db, "PRAGMA user_version"), 2);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_master WHERE "
	    "name = 'image_files'"), 0);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM images WHERE rootfs_sha256 != ''"),
	    FIXTURE_IMAGES);
	raw_exec(db, "DROP VIEW legacy");
	sqlite3_close(db);

	assert_int_equal(store_open(f->path, &s, &e), 0);
	store_close(s);
	db = raw_open(f->path);
	assert_int_equal(raw_int(db, "PRAGMA user_version"), STORE_SQLITE_SCHEMA_VERSION);
	sqlite3_close(db);
}

/* A version-1 store from before the green policy and the energy totals (the release added
 * those on open): migration 1 -> 2 adds them, with their defaults. */
static void
test_older_v1_completed(void **state)
{
	struct store_dir *f = *state;
	struct dl_err e = { 0 };
	struct energy_rec en;
	struct node_rec n;
	struct store *s;
	sqlite3 *db = raw_open(f->path);

	raw_exec(db, "ALTER TABLE nodes DROP COLUMN idle_since_ms; DROP TABLE energy;"
	    "DROP TABLE energy_image; DROP INDEX images_current;"
	    "CREATE INDEX images_name ON images(name)");
	sqlite3_close(db);
	assert_int_equal(store_open(f->path, &s, &e), 0);
	assert_int_equal(store_node_get(s, "n01", &n), 0);
	assert_int_equal(n.idle_since_ms, 0);
	assert_int_equal(store_energy_get(s, "n01", &en), -ENOENT);
	store_close(s);
	db = raw_open(f->path);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_master WHERE name IN "
	    "('energy', 'energy_image', 'images_current')"), 3);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_master WHERE "
	    "name = 'images_name'"), 0);
	sqlite3_close(db);
}

/* The shape of a store's schema: every table's columns and every index's columns and
 * definition, whatever order and spelling the statements that made them had. */
static char *
schema_shape(const char *path)
{
	sqlite3 *db = raw_open(path);
	char *s = raw_dump(db,
	    "SELECT m.type, m.name, m.tbl_name, CASE WHEN m.type = 'index' AND m.sql IS NOT NULL "
	    " THEN m.sql ELSE '' END,"
	    " (SELECT group_concat(c.cid || ' ' || c.name || ' ' || c.type || ' ' || c.\"notnull\""
	    "  || ' ' || coalesce(c.dflt_value, '-') || ' ' || c.pk, ', ')"
	    "  FROM pragma_table_info(m.name) c WHERE m.type = 'table'),"
	    " (SELECT group_concat(i.seqno || ' ' || i.name, ', ')"
	    "  FROM pragma_index_info(m.name) i WHERE m.type = 'index'),"
	    " (SELECT group_concat(k.\"table\" || '.' || k.\"to\" || ' ' || k.on_delete, ', ')"
	    "  FROM pragma_foreign_key_list(m.name) k WHERE m.type = 'table')"
	    " FROM sqlite_master m ORDER BY m.type, m.name");

	sqlite3_close(db);
	return s;
}

/* A new store and an upgraded one have the same schema: the migrations and schema_newest
 * describe one thing. */
static void
test_new_equals_upgraded(void **state)
{
	struct store_dir *f = *state;
	struct dl_err e = { 0 };
	struct store *s;
	char fresh[sizeof(f->dir) + 16], *a, *b;
	sqlite3 *db;

	snprintf(fresh, sizeof(fresh), "%s/new.db", f->dir);
	assert_int_equal(store_open(fresh, &s, &e), 0);
	store_close(s);
	assert_int_equal(store_open(f->path, &s, &e), 0);
	store_close(s);
	db = raw_open(fresh);
	assert_int_equal(raw_int(db, "PRAGMA user_version"), STORE_SQLITE_SCHEMA_VERSION);
	sqlite3_close(db);
	a = schema_shape(fresh);
	b = schema_shape(f->path);
	assert_non_null(strstr(a, "image_files"));
	assert_string_equal(a, b);
	free(a);
	free(b);
}

/* The statements of store_image_get and store_image_current, on the per-node script path
 * (~30k req/s): each reads an index in the order it returns, so no temp b-tree is built
 * (docs/benchmarks.md) and no table is scanned, on a new store and an upgraded one. */
static void
test_image_read_plans(void **state)
{
	struct store_dir *f = *state;
	static const enum sqlite_stmt hot[] = { S_IMAGE_GET, S_IMAGE_CURRENT, S_IMAGE_FILES };
	struct dl_err e = { 0 };
	struct store *s;
	char fresh[128];
	const char *paths[2] = { f->path, fresh };

	snprintf(fresh, sizeof(fresh), "%s/new.db", f->dir);
	for (size_t p = 0; p < ELEMENTSOF(paths); p++) {
		sqlite3 *db;

		assert_int_equal(store_open(paths[p], &s, &e), 0);
		store_close(s);
		db = raw_open(paths[p]);
		for (size_t i = 0; i < ELEMENTSOF(hot); i++) {
			char sql[1024], *plan;

			snprintf(sql, sizeof(sql), "EXPLAIN QUERY PLAN %s",
			    store_sqlite_image_sql[hot[i]]);
			plan = raw_dump(db, sql);
			if (strstr(plan, "TEMP B-TREE") || strstr(plan, "|SCAN ") ||
			    !strstr(plan, "|SEARCH "))
				fail_msg("%s: plan of %s:\n%s", paths[p],
				    store_sqlite_image_sql[hot[i]], plan);
			free(plan);
		}
		sqlite3_close(db);
	}
}

/* The controller's walk of the managed nodes, once a second on the loop: it reads the
 * nodes_managed index in name order, so a store of 10,000 nodes with none managed costs it
 * nothing (it scanned every row, 1.3-1.9 ms a second), on a new store and an upgraded one. */
static void
test_managed_walk_plan(void **state)
{
	struct store_dir *f = *state;
	struct dl_err e = { 0 };
	struct store *s;
	char fresh[128], sql[1024], *plan;
	const char *paths[2] = { f->path, fresh };

	snprintf(fresh, sizeof(fresh), "%s/new.db", f->dir);
	snprintf(sql, sizeof(sql), "EXPLAIN QUERY PLAN %s",
	    store_sqlite_node_walk_sql[STORE_NODES_MANAGED]);
	for (size_t p = 0; p < ELEMENTSOF(paths); p++) {
		sqlite3 *db;

		assert_int_equal(store_open(paths[p], &s, &e), 0);
		store_close(s);
		db = raw_open(paths[p]);
		plan = raw_dump(db, sql);
		if (!strstr(plan, "USING INDEX nodes_managed") || strstr(plan, "TEMP B-TREE"))
			fail_msg("%s: plan of the managed walk:\n%s", paths[p], plan);
		free(plan);
		sqlite3_close(db);
	}
}

/* Version 5 on an upgraded store: a node of the fixture becomes a VM host, its domains
 * are reconciled, and removing the node takes both (the foreign keys hold after the
 * migration as in a new store). */
static void
test_upgraded_vm_hosts(void **state)
{
	struct store_dir *f = *state;
	struct dl_err e = { 0 };
	struct vm_host_rec h = { 0 }, got;
	struct vm_domain_rec d = { 0 };
	struct store *s;
	sqlite3 *db;

	assert_int_equal(store_open(f->path, &s, &e), 0);
	strcpy(h.node, "n02");
	strcpy(h.hypervisor, "Xen");
	strcpy(h.state, "connected");
	h.cpus = 4;
	assert_int_equal(store_vm_host_put(s, &h), 0);
	strcpy(d.uuid, "11111111-2222-4333-8444-555555555555");
	strcpy(d.name, "g1");
	strcpy(d.state, "running");
	d.running_since = 7;
	assert_int_equal(store_vm_domains_reconcile(s, "n02", &d, 1, 1000), 0);
	assert_int_equal(store_vm_host_get(s, "n02", &got), 0);
	assert_string_equal(got.hypervisor, "Xen");
	assert_int_equal(store_node_delete(s, "n02"), 0);
	assert_int_equal(store_vm_host_get(s, "n02", &got), -ENOENT);
	store_close(s);
	db = raw_open(f->path);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM vm_domains"), 0);
	sqlite3_close(db);
}

/* Version 7 on an upgraded store: a plan and its steps are written and read back, a
 * fixture node is drained, and removing the node takes its drain (the foreign keys hold
 * after the migration as in a new store). */
static void
test_upgraded_vm_plans(void **state)
{
	struct store_dir *f = *state;
	struct dl_err e = { 0 };
	struct vm_plan_rec p = { 0 }, got;
	struct vm_step_rec st = { 0 };
	struct store *s;
	char reason[MAX_REASON];

	assert_int_equal(store_open(f->path, &s, &e), 0);
	strcpy(p.strategy, "migrate");
	strcpy(p.origin, "admin");
	strcpy(p.state, "pending");
	strcpy(st.action, "migrate");
	strcpy(st.src, "n02");
	strcpy(st.dst, "n03");
	strcpy(st.state, "pending");
	assert_int_equal(store_vm_plan_add(s, &p, &st, 1), 0);
	assert_int_equal(store_vm_plan_get(s, p.id, &got), 0);
	assert_string_equal(got.strategy, "migrate");
	assert_int_equal(store_vm_drain_set(s, "n02", true, "fan"), 0);
	assert_true(store_vm_drain_get(s, "n02", reason, sizeof(reason)));
	assert_int_equal(store_node_delete(s, "n02"), 0);
	assert_false(store_vm_drain_get(s, "n02", reason, sizeof(reason)));
	store_close(s);
}

/* "table: col, col, ..." per table, tables and columns sorted, one per line, but for the
 * tables only SQLite has (row_gen: what its readers catch up by, store_sqlite_rowlog.c). */
static char *
columns_sqlite(const char *path)
{
	sqlite3 *db = raw_open(path);
	char *s = raw_dump(db,
	    "SELECT m.name, (SELECT group_concat(name, ', ') FROM (SELECT c.name FROM "
	    "pragma_table_info(m.name) c ORDER BY c.name)) FROM sqlite_master m "
	    "WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name != 'row_gen' "
	    "ORDER BY m.name");

	sqlite3_close(db);
	return s;
}

/* The same of a PostgreSQL store, but for the tables only PostgreSQL has (servers, for
 * the cluster; schema_version, SQLite's user_version). */
static char *
columns_pg(const char *url)
{
	PGconn *db = PQconnectdb(url);
	PGresult *res;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_int_equal(PQstatus(db), CONNECTION_OK);
	res = PQexec(db, "SELECT table_name, string_agg(column_name::text, ', ' ORDER BY "
	    "column_name::text COLLATE \"C\") FROM information_schema.columns WHERE "
	    "table_schema = 'public' AND table_name NOT IN ('servers', 'schema_version') "
	    "GROUP BY table_name ORDER BY table_name COLLATE \"C\"");
	assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
	for (int i = 0; i < PQntuples(res); i++)
		fprintf(f, "%s|%s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
	fclose(f);
	PQclear(res);
	PQfinish(db);
	return out;
}

/* PostgreSQL only: a new PostgreSQL store has the tables and columns of a new SQLite
 * store (each later migration comes in both forms, store_pg_schema.c), plus servers and
 * schema_version, and the version PostgreSQL stores start at. */
static void
test_pg_columns_equal_sqlite(void **state)
{
	struct store_dir *d = *state;
	struct dl_err e = { 0 };
	struct store *s;
	char fresh[sizeof(d->dir) + 16], *a, *b;
	PGconn *db;
	PGresult *res;

	snprintf(fresh, sizeof(fresh), "%s/new.db", d->dir);
	assert_int_equal(store_open(fresh, &s, &e), 0);
	store_close(s);
	a = columns_sqlite(fresh);
	b = columns_pg(d->path);
	assert_non_null(strstr(a, "image_files|"));
	assert_string_equal(a, b);
	free(a);
	free(b);
	db = PQconnectdb(d->path);
	res = PQexec(db, "SELECT (SELECT version FROM schema_version), (SELECT string_agg("
	    "column_name::text, ',' ORDER BY ordinal_position) FROM information_schema.columns "
	    "WHERE table_name = 'servers')");
	assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
	assert_int_equal(atoi(PQgetvalue(res, 0, 0)), STORE_PG_SCHEMA_VERSION);
	assert_string_equal(PQgetvalue(res, 0, 1), "name,url,segments,role,pid,started_ms,seen_ms");
	PQclear(res);
	PQfinish(db);
}

static void
pg_exec(const char *url, const char *sql)
{
	PGconn *db = PQconnectdb(url);
	PGresult *res;

	assert_int_equal(PQstatus(db), CONNECTION_OK);
	res = PQexec(db, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQresultErrorMessage(res));
	PQclear(res);
	PQfinish(db);
}

/* PostgreSQL only: a version 8 store (the newest schema less version 9's columns and
 * version 10's index, as version 8 made it) with a node is migrated on open: the node is
 * kept, undrained, and drains and reads back through the store; the index is there. */
static void
test_pg_migrate_8_to_9(void **state)
{
	struct store_dir *d = *state;
	struct dl_err e = { 0 };
	struct node_rec n = { 0 };
	struct store *s;

	strcpy(n.name, "n01");
	strcpy(n.mac, "52:54:00:00:00:01");
	strcpy(n.ip, "10.0.0.11");
	memset(n.token, 'a', 64);
	strcpy(n.phase, "up");
	n.phase_at = n.created = 1000;
	n.drain = true; /* not stored at version 8: the migration's default wins */
	assert_int_equal(store_node_insert(d->s, &n, &e), 0);
	store_close(d->s);
	d->s = NULL;
	pg_exec(d->path, "ALTER TABLE nodes DROP COLUMN drain, DROP COLUMN drain_reason;"
	    "DROP INDEX nodes_managed; UPDATE schema_version SET version = 8");

	if (store_open(d->path, &s, &e) < 0)
		fail_msg("store_open: %s", e.msg);
	d->s = s;
	memset(&n, 0, sizeof(n));
	assert_int_equal(store_node_get(s, "n01", &n), 0);
	assert_string_equal(n.ip, "10.0.0.11");
	assert_false(n.drain);
	assert_string_equal(n.drain_reason, "");
	n.drain = true;
	strcpy(n.drain_reason, "fan");
	assert_int_equal(store_node_update_ctrl(s, &n), 0);
	memset(&n, 0, sizeof(n));
	assert_int_equal(store_node_get(s, "n01", &n), 0);
	assert_true(n.drain);
	assert_string_equal(n.drain_reason, "fan");
	{
		PGconn *db = PQconnectdb(d->path);
		PGresult *res = PQexec(db, "SELECT version, (SELECT count(*) FROM pg_indexes "
		    "WHERE indexname = 'nodes_managed') FROM schema_version");

		assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
		assert_int_equal(PQntuples(res), 1);
		assert_int_equal(atoi(PQgetvalue(res, 0, 0)), STORE_PG_SCHEMA_VERSION);
		assert_int_equal(atoi(PQgetvalue(res, 0, 1)), 1);
		PQclear(res);
		PQfinish(db);
	}
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
	/* SQLite only: they start from SQLite files (the v1 fixture) and read its schema. */
	const struct CMUnitTest sqlite_tests[] = {
		T(test_fixture_upgrade),
		T(test_upgraded_any_roles),
		T(test_reopen_noop),
		T(test_newer_refused),
		T(test_failed_migration_rolls_back),
		T(test_older_v1_completed),
		T(test_new_equals_upgraded),
		T(test_image_read_plans),
		T(test_managed_walk_plan),
		T(test_upgraded_vm_hosts),
		T(test_upgraded_vm_plans),
	};
	/* PostgreSQL only (test_store_migrate@pg): its schema against SQLite's. */
	const struct CMUnitTest pg_tests[] = {
		cmocka_unit_test_setup_teardown(test_pg_columns_equal_sqlite, store_dir_setup,
		    store_dir_teardown),
		cmocka_unit_test_setup_teardown(test_pg_migrate_8_to_9, store_dir_setup,
		    store_dir_teardown),
	};

	if (store_dir_is_pg())
		return cmocka_run_group_tests(pg_tests, NULL, NULL);
	return cmocka_run_group_tests(sqlite_tests, NULL, NULL);
}
