/* SPDX-License-Identifier: MIT */
#include <sqlite3.h>
#include <string.h>

#include "log.h"
#include "store/store.h"

/* Each statement is prepared once and reused: the boot path runs a lookup per request. */
enum stmt_id {
	S_NODE_INSERT, S_NODE_GET, S_NODE_GET_MAC, S_NODE_GET_IP, S_NODE_DELETE,
	S_NODE_UPDATE, S_NODE_PHASE, S_HISTORY_ADD, S_NODE_ALL, S_NODE_MANAGED, S_HISTORY, S_IP_USED,
	S_COUNT_PHASE, S_IMAGE_INSERT, S_IMAGE_GET, S_IMAGE_CURRENT, S_IMAGE_PREFIX,
	S_IMAGE_DELETE, S_IMAGE_ALL, S_IMAGE_USERS, S_HISTORY_DELETE, S_NODE_CTRL,
	S_EVENT_ADD, S_EVENTS_SINCE, S_EVENT_LAST, S_ENERGY_GET, S_ENERGY_PUT,
	S_ENERGY_IMAGE_ADD, S_ENERGY_DELETE, _S_MAX
};

#define NODE_COLS "name, mac, ip, uuid, serial, bmc, bmc_creds, image, image_pin, token, " \
	"phase, reason, phase_at, served_image, created, want_power, hold, hold_reason, " \
	"booted_image, power, op, op_at_ms, attempts, retry_at_ms, bmc_state, last_error, " \
	"alloc_job, alloc_class, health, health_reasons, sel_last, idle_since_ms"
#define IMAGE_COLS "id, name, kind, path, kernel_version, kernel_banner, built, cmdline, " \
	"kernel_sha256, kernel_size, initrd_sha256, initrd_size, rootfs_sha256, rootfs_size, " \
	"added, initrd_tree, (SELECT i2.id FROM images i2 WHERE i2.name = images.name " \
	"ORDER BY i2.added DESC, i2.id DESC LIMIT 1) = id"

static const char *const stmt_sql[_S_MAX] = {
	[S_NODE_INSERT] = "INSERT INTO nodes (" NODE_COLS ") VALUES "
			  "(?1,?2,NULLIF(?3,''),?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,"
			  "?16,?17,?18,?19,?20,?21,?22,?23,?24,?25,?26,?27,?28,?29,?30,?31,?32)",
	[S_NODE_GET] = "SELECT " NODE_COLS " FROM nodes WHERE name = ?1",
	[S_NODE_GET_MAC] = "SELECT " NODE_COLS " FROM nodes WHERE mac = ?1",
	[S_NODE_GET_IP] = "SELECT " NODE_COLS " FROM nodes WHERE ip = ?1",
	[S_NODE_DELETE] = "DELETE FROM nodes WHERE name = ?1",
	[S_NODE_UPDATE] = "UPDATE nodes SET uuid=?2, serial=?3, bmc=?4, bmc_creds=?5, image=?6, "
			  "image_pin=?7, served_image=?8 WHERE name = ?1",
	[S_NODE_PHASE] = "UPDATE nodes SET phase=?2, reason=?3, phase_at=?4 WHERE name = ?1",
	[S_HISTORY_ADD] = "INSERT INTO history (node, kind, phase, reason, at) "
			  "VALUES (?1,'phase',?2,?3,?4)",
	[S_EVENT_ADD] = "INSERT INTO history (node, kind, phase, reason, at) "
			"VALUES (?1,'action',?2,?3,?4)",
	[S_EVENTS_SINCE] = "SELECT seq, node, kind, phase, reason, at FROM history WHERE seq > ?1 "
			   "ORDER BY seq LIMIT ?2",
	[S_EVENT_LAST] = "SELECT coalesce(max(seq), 0) FROM history",
	[S_NODE_CTRL] = "UPDATE nodes SET want_power=?2, hold=?3, hold_reason=?4, booted_image=?5, "
			"power=?6, op=?7, op_at_ms=?8, attempts=?9, retry_at_ms=?10, bmc_state=?11, "
			"last_error=?12, alloc_job=?13, alloc_class=?14, health=?15, "
			"health_reasons=?16, sel_last=?17, idle_since_ms=?18 WHERE name = ?1",
	[S_NODE_ALL] = "SELECT " NODE_COLS " FROM nodes ORDER BY name",
	[S_NODE_MANAGED] = "SELECT " NODE_COLS " FROM nodes WHERE bmc != '' AND bmc_creds != '' "
			   "ORDER BY name",
	[S_HISTORY] = "SELECT phase, reason, at FROM history WHERE node = ?1 AND kind = 'phase' "
		      "ORDER BY seq DESC LIMIT ?2",
	[S_IP_USED] = "SELECT 1 FROM nodes WHERE ip = ?1",
	[S_COUNT_PHASE] = "SELECT phase, count(*) FROM nodes GROUP BY phase ORDER BY phase",
	[S_IMAGE_INSERT] = "INSERT INTO images (id, name, kind, path, kernel_version, "
			   "kernel_banner, built, cmdline, kernel_sha256, kernel_size, "
			   "initrd_sha256, initrd_size, rootfs_sha256, rootfs_size, added, initrd_tree) "
			   "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16)",
	[S_IMAGE_GET] = "SELECT " IMAGE_COLS " FROM images WHERE id = ?1",
	[S_IMAGE_CURRENT] = "SELECT " IMAGE_COLS " FROM images WHERE name = ?1 "
			    "ORDER BY added DESC, id DESC LIMIT 1",
	[S_IMAGE_PREFIX] = "SELECT " IMAGE_COLS " FROM images WHERE substr(id, 1, length(?1)) = ?1 "
			   "AND (?2 = '' OR name = ?2) LIMIT 2",
	[S_IMAGE_DELETE] = "DELETE FROM images WHERE id = ?1",
	[S_IMAGE_ALL] = "SELECT " IMAGE_COLS " FROM images ORDER BY name, added DESC, id",
	[S_IMAGE_USERS] = "SELECT count(*) FROM nodes WHERE image_pin = ?1 OR served_image = ?1",
	[S_HISTORY_DELETE] = "DELETE FROM history WHERE node = ?1",
	[S_ENERGY_GET] = "SELECT node, at_ms, on_mj, off_mj, saved_mj, baseline_w, last_w "
			 "FROM energy WHERE node = ?1",
	[S_ENERGY_PUT] = "INSERT OR REPLACE INTO energy (node, at_ms, on_mj, off_mj, saved_mj, "
			 "baseline_w, last_w) VALUES (?1,?2,?3,?4,?5,?6,?7)",
	[S_ENERGY_IMAGE_ADD] = "INSERT INTO energy_image (image, on_mj, off_mj, saved_mj) "
			       "VALUES (?1,?2,?3,?4) ON CONFLICT(image) DO UPDATE SET "
			       "on_mj = on_mj + ?2, off_mj = off_mj + ?3, saved_mj = saved_mj + ?4",
	[S_ENERGY_DELETE] = "DELETE FROM energy WHERE node = ?1",
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS nodes ("
	" name TEXT PRIMARY KEY, mac TEXT NOT NULL UNIQUE, ip TEXT UNIQUE,"
	" uuid TEXT NOT NULL DEFAULT '', serial TEXT NOT NULL DEFAULT '',"
	" bmc TEXT NOT NULL DEFAULT '', bmc_creds TEXT NOT NULL DEFAULT '',"
	" image TEXT NOT NULL DEFAULT '', image_pin TEXT NOT NULL DEFAULT '',"
	" token TEXT NOT NULL, phase TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '',"
	" phase_at INTEGER NOT NULL, served_image TEXT NOT NULL DEFAULT '',"
	" created INTEGER NOT NULL, want_power TEXT NOT NULL DEFAULT '',"
	" hold INTEGER NOT NULL DEFAULT 0, hold_reason TEXT NOT NULL DEFAULT '',"
	" booted_image TEXT NOT NULL DEFAULT '', power TEXT NOT NULL DEFAULT '',"
	" op TEXT NOT NULL DEFAULT '', op_at_ms INTEGER NOT NULL DEFAULT 0,"
	" attempts INTEGER NOT NULL DEFAULT 0, retry_at_ms INTEGER NOT NULL DEFAULT 0,"
	" bmc_state TEXT NOT NULL DEFAULT '', last_error TEXT NOT NULL DEFAULT '',"
	" alloc_job TEXT NOT NULL DEFAULT '', alloc_class TEXT NOT NULL DEFAULT '',"
	" health TEXT NOT NULL DEFAULT 'ok', health_reasons TEXT NOT NULL DEFAULT '',"
	" health_state TEXT NOT NULL DEFAULT '', sel_last INTEGER NOT NULL DEFAULT 0,"
	" idle_since_ms INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX IF NOT EXISTS nodes_uuid ON nodes(uuid) WHERE uuid != '';"
	"CREATE TABLE IF NOT EXISTS history ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT, node TEXT NOT NULL,"
	" kind TEXT NOT NULL DEFAULT 'phase', phase TEXT NOT NULL,"
	" reason TEXT NOT NULL, at INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS history_node ON history(node, seq);"
	"CREATE TABLE IF NOT EXISTS images ("
	" id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, path TEXT NOT NULL,"
	" kernel_version TEXT NOT NULL, kernel_banner TEXT NOT NULL, built TEXT NOT NULL,"
	" cmdline TEXT NOT NULL, kernel_sha256 TEXT NOT NULL, kernel_size INTEGER NOT NULL,"
	" initrd_sha256 TEXT NOT NULL, initrd_size INTEGER NOT NULL,"
	" rootfs_sha256 TEXT NOT NULL, rootfs_size INTEGER NOT NULL, added INTEGER NOT NULL,"
	" initrd_tree TEXT NOT NULL DEFAULT '');"
	/* (name, added, id) is the order "the current version of a name" reads in, so that
	 * query (run on every script request) walks the index instead of sorting in a temp
	 * b-tree, whose pager was opened and freed per request (docs/benchmarks.md). */
	"DROP INDEX IF EXISTS images_name;"
	"CREATE INDEX IF NOT EXISTS images_current ON images(name, added, id);"
	/* Energy (issue #7): kept apart from nodes, so a restart keeps totals and the
	 * controller's node writes never race the accounting's. */
	"CREATE TABLE IF NOT EXISTS energy ("
	" node TEXT PRIMARY KEY, at_ms INTEGER NOT NULL, on_mj INTEGER NOT NULL,"
	" off_mj INTEGER NOT NULL, saved_mj INTEGER NOT NULL,"
	" baseline_w INTEGER NOT NULL DEFAULT 0, last_w INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE IF NOT EXISTS energy_image ("
	" image TEXT PRIMARY KEY, on_mj INTEGER NOT NULL, off_mj INTEGER NOT NULL,"
	" saved_mj INTEGER NOT NULL);"
	"PRAGMA user_version = 1;";

/* History rows kept per node: enough for an admin to read a node's last few boots. */
#define MAX_HISTORY_PER_NODE 200

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmts[_S_MAX];
	bool batch; /* inside store_batch_begin(): transactions nest as savepoints */
};

static sqlite3_stmt *
stmt(struct store *s, enum stmt_id id)
{
	if (!s->stmts[id]) {
		if (sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
		    &s->stmts[id], NULL) != SQLITE_OK) {
			log_err("event=store_prepare msg=\"%s\"", sqlite3_errmsg(s->db));
			return NULL;
		}
	} else {
		sqlite3_reset(s->stmts[id]);
		sqlite3_clear_bindings(s->stmts[id]);
	}
	return s->stmts[id];
}

static void
reset(sqlite3_stmt *st)
{
	sqlite3_reset(st);
}

static void
copy_col(char *dst, size_t size, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	size_t n = t ? strlen((const char *)t) : 0;

	if (n >= size)
		n = size - 1;
	if (n)
		memcpy(dst, t, n);
	dst[n] = '\0';
}

int
store_open(const char *path, struct store **ret, struct dl_err *reterr)
{
	struct store *s = calloc(1, sizeof(*s));
	char *msg = NULL;

	if (!s)
		return -ENOMEM;
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		dl_err_set(reterr, -EIO, "store '%s': %s", path,
		    s->db ? sqlite3_errmsg(s->db) : "out of memory");
		store_close(s);
		return -EIO;
	}
	sqlite3_busy_timeout(s->db, 5000);
	/* WAL: readers (nodectl-side tools, backups) never block the loop's writes;
	 * synchronous=NORMAL is durable across a bootsvc crash, which is what we need.
	 * An 8 MiB page cache holds the whole store of 10,000 nodes (about 2.5 MiB), so a
	 * script request never reads a page back from the file (the default is 2 MiB). */
	if (sqlite3_exec(s->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
	    "PRAGMA foreign_keys=ON; PRAGMA cache_size=-8192;", NULL, NULL, &msg) != SQLITE_OK ||
	    sqlite3_exec(s->db, schema, NULL, NULL, &msg) != SQLITE_OK) {
		dl_err_set(reterr, -EIO, "store '%s': %s", path, msg ? msg : "schema failed");
		sqlite3_free(msg);
		store_close(s);
		return -EIO;
	}
	/* Stores made before initrd_tree: CREATE TABLE IF NOT EXISTS kept their old images
	 * table, so add the column ('' = compare the initrd's sha256, as before). */
	if (sqlite3_exec(s->db, "SELECT initrd_tree FROM images LIMIT 0", NULL, NULL, NULL) !=
	    SQLITE_OK && sqlite3_exec(s->db, "ALTER TABLE images ADD COLUMN initrd_tree TEXT "
	    "NOT NULL DEFAULT ''", NULL, NULL, &msg) != SQLITE_OK) {
		dl_err_set(reterr, -EIO, "store '%s': add initrd_tree: %s", path,
		    msg ? msg : "failed");
		sqlite3_free(msg);
		store_close(s);
		return -EIO;
	}
	/* Stores made before the green policy (issue #7): the idle clock starts at 0. */
	if (sqlite3_exec(s->db, "SELECT idle_since_ms FROM nodes LIMIT 0", NULL, NULL, NULL) !=
	    SQLITE_OK && sqlite3_exec(s->db, "ALTER TABLE nodes ADD COLUMN idle_since_ms INTEGER "
	    "NOT NULL DEFAULT 0", NULL, NULL, &msg) != SQLITE_OK) {
		dl_err_set(reterr, -EIO, "store '%s': add idle_since_ms: %s", path,
		    msg ? msg : "failed");
		sqlite3_free(msg);
		store_close(s);
		return -EIO;
	}
	*ret = s;
	return 0;
}

struct store *
store_close(struct store *s)
{
	if (!s)
		return NULL;
	for (size_t i = 0; i < _S_MAX; i++)
		sqlite3_finalize(s->stmts[i]);
	sqlite3_close(s->db);
	free(s);
	return NULL;
}

int
store_begin(struct store *s)
{
	return sqlite3_exec(s->db, s->batch ? "SAVEPOINT tx" : "BEGIN IMMEDIATE", NULL, NULL,
	    NULL) == SQLITE_OK ? 0 : -EIO;
}

int
store_commit(struct store *s)
{
	return sqlite3_exec(s->db, s->batch ? "RELEASE tx" : "COMMIT", NULL, NULL, NULL) ==
	    SQLITE_OK ? 0 : -EIO;
}

void
store_rollback(struct store *s)
{
	/* nothing to undo if none */
	(void)sqlite3_exec(s->db, s->batch ? "ROLLBACK TO tx; RELEASE tx" : "ROLLBACK", NULL,
	    NULL, NULL);
}

int
store_batch_begin(struct store *s)
{
	if (s->batch)
		return 0;
	if (sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		log_err("event=store_batch msg=\"begin: %s\"", sqlite3_errmsg(s->db));
		return -EIO;
	}
	s->batch = true;
	return 0;
}

int
store_batch_end(struct store *s)
{
	if (!s->batch)
		return 0;
	s->batch = false;
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		log_err("event=store_batch msg=\"commit: %s\"", sqlite3_errmsg(s->db));
		(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return -EIO;
	}
	return 0;
}

static void
bind_text(sqlite3_stmt *st, int i, const char *v)
{
	sqlite3_bind_text(st, i, v ? v : "", -1, SQLITE_TRANSIENT);
}

/* The desired-state and controller columns, in NODE_COLS order from want_power on:
 * bound from parameter `first` by both the insert and the controller's update. */
static void
bind_ctrl(sqlite3_stmt *st, int first, const struct node_rec *n)
{
	int i = first;

	bind_text(st, i++, n->want_power);
	sqlite3_bind_int(st, i++, n->hold);
	bind_text(st, i++, n->hold_reason);
	bind_text(st, i++, n->booted_image);
	bind_text(st, i++, n->power);
	bind_text(st, i++, n->op);
	sqlite3_bind_int64(st, i++, n->op_at_ms);
	sqlite3_bind_int(st, i++, n->attempts);
	sqlite3_bind_int64(st, i++, n->retry_at_ms);
	bind_text(st, i++, n->bmc_state);
	bind_text(st, i++, n->last_error);
	bind_text(st, i++, n->alloc_job);
	bind_text(st, i++, n->alloc_class);
	bind_text(st, i++, n->health[0] ? n->health : "ok");
	bind_text(st, i++, n->health_reasons);
	sqlite3_bind_int64(st, i++, n->sel_last);
	sqlite3_bind_int64(st, i, n->idle_since_ms);
}

int
store_node_insert(struct store *s, const struct node_rec *n, struct dl_err *reterr)
{
	sqlite3_stmt *st = stmt(s, S_NODE_INSERT);
	int rc;

	if (!st)
		return -EIO;
	bind_text(st, 1, n->name);
	bind_text(st, 2, n->mac);
	bind_text(st, 3, n->ip);
	bind_text(st, 4, n->uuid);
	bind_text(st, 5, n->serial);
	bind_text(st, 6, n->bmc);
	bind_text(st, 7, n->bmc_creds);
	bind_text(st, 8, n->image);
	bind_text(st, 9, n->image_pin);
	bind_text(st, 10, n->token);
	bind_text(st, 11, n->phase);
	bind_text(st, 12, n->reason);
	sqlite3_bind_int64(st, 13, n->phase_at);
	bind_text(st, 14, n->served_image);
	sqlite3_bind_int64(st, 15, n->created);
	bind_ctrl(st, 16, n);
	rc = sqlite3_step(st);
	reset(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc == SQLITE_CONSTRAINT) {
		struct node_rec other;
		if (store_node_get(s, n->name, &other) == 0)
			return dl_err_set(reterr, -EEXIST, "node '%s' already exists", n->name);
		if (store_node_get_by_mac(s, n->mac, &other) == 0)
			return dl_err_set(reterr, -EEXIST, "MAC '%s' already belongs to node '%s'",
			    n->mac, other.name);
		if (n->ip[0] && store_node_get_by_ip(s, n->ip, &other) == 0)
			return dl_err_set(reterr, -EEXIST, "IP '%s' already belongs to node '%s'",
			    n->ip, other.name);
		return dl_err_set(reterr, -EEXIST, "node '%s' conflicts with an existing node",
		    n->name);
	}
	return dl_err_set(reterr, -EIO, "store: %s", sqlite3_errmsg(s->db));
}

static void
node_from_row(sqlite3_stmt *st, struct node_rec *n)
{
	memset(n, 0, sizeof(*n));
	copy_col(n->name, sizeof(n->name), st, 0);
	copy_col(n->mac, sizeof(n->mac), st, 1);
	copy_col(n->ip, sizeof(n->ip), st, 2);
	copy_col(n->uuid, sizeof(n->uuid), st, 3);
	copy_col(n->serial, sizeof(n->serial), st, 4);
	copy_col(n->bmc, sizeof(n->bmc), st, 5);
	copy_col(n->bmc_creds, sizeof(n->bmc_creds), st, 6);
	copy_col(n->image, sizeof(n->image), st, 7);
	copy_col(n->image_pin, sizeof(n->image_pin), st, 8);
	copy_col(n->token, sizeof(n->token), st, 9);
	copy_col(n->phase, sizeof(n->phase), st, 10);
	copy_col(n->reason, sizeof(n->reason), st, 11);
	n->phase_at = sqlite3_column_int64(st, 12);
	copy_col(n->served_image, sizeof(n->served_image), st, 13);
	n->created = sqlite3_column_int64(st, 14);
	copy_col(n->want_power, sizeof(n->want_power), st, 15);
	n->hold = sqlite3_column_int(st, 16) != 0;
	copy_col(n->hold_reason, sizeof(n->hold_reason), st, 17);
	copy_col(n->booted_image, sizeof(n->booted_image), st, 18);
	copy_col(n->power, sizeof(n->power), st, 19);
	copy_col(n->op, sizeof(n->op), st, 20);
	n->op_at_ms = sqlite3_column_int64(st, 21);
	n->attempts = sqlite3_column_int(st, 22);
	n->retry_at_ms = sqlite3_column_int64(st, 23);
	copy_col(n->bmc_state, sizeof(n->bmc_state), st, 24);
	copy_col(n->last_error, sizeof(n->last_error), st, 25);
	copy_col(n->alloc_job, sizeof(n->alloc_job), st, 26);
	copy_col(n->alloc_class, sizeof(n->alloc_class), st, 27);
	copy_col(n->health, sizeof(n->health), st, 28);
	copy_col(n->health_reasons, sizeof(n->health_reasons), st, 29);
	n->sel_last = sqlite3_column_int64(st, 30);
	n->idle_since_ms = sqlite3_column_int64(st, 31);
}

static int
node_get(struct store *s, enum stmt_id id, const char *key, struct node_rec *ret)
{
	sqlite3_stmt *st = stmt(s, id);
	int rc;

	if (!st)
		return -EIO;
	bind_text(st, 1, key);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		node_from_row(st, ret);
	reset(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

int
store_node_get(struct store *s, const char *name, struct node_rec *ret)
{
	return node_get(s, S_NODE_GET, name, ret);
}

int
store_node_get_by_mac(struct store *s, const char *mac, struct node_rec *ret)
{
	return node_get(s, S_NODE_GET_MAC, mac, ret);
}

int
store_node_get_by_ip(struct store *s, const char *ip, struct node_rec *ret)
{
	return node_get(s, S_NODE_GET_IP, ip, ret);
}

static int
exec_name(struct store *s, enum stmt_id id, const char *name)
{
	sqlite3_stmt *st = stmt(s, id);
	int rc;

	if (!st)
		return -EIO;
	bind_text(st, 1, name);
	rc = sqlite3_step(st);
	reset(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int
store_node_delete(struct store *s, const char *name)
{
	int r = exec_name(s, S_NODE_DELETE, name);

	if (r < 0)
		return r;
	if (sqlite3_changes(s->db) == 0)
		return -ENOENT;
	if ((r = exec_name(s, S_ENERGY_DELETE, name)) < 0)
		return r;
	return exec_name(s, S_HISTORY_DELETE, name);
}

int
store_node_update(struct store *s, const struct node_rec *n)
{
	sqlite3_stmt *st = stmt(s, S_NODE_UPDATE);
	int rc;

	if (!st)
		return -EIO;
	bind_text(st, 1, n->name);
	bind_text(st, 2, n->uuid);
	bind_text(st, 3, n->serial);
	bind_text(st, 4, n->bmc);
	bind_text(st, 5, n->bmc_creds);
	bind_text(st, 6, n->image);
	bind_text(st, 7, n->image_pin);
	bind_text(st, 8, n->served_image);
	rc = sqlite3_step(st);
	reset(st);
	if (rc != SQLITE_DONE)
		return -EIO;
	return sqlite3_changes(s->db) ? 0 : -ENOENT;
}

int
store_node_update_ctrl(struct store *s, const struct node_rec *n)
{
	sqlite3_stmt *st = stmt(s, S_NODE_CTRL);
	int rc;

	if (!st)
		return -EIO;
	bind_text(st, 1, n->name);
	bind_ctrl(st, 2, n);
	rc = sqlite3_step(st);
	reset(st);
	if (rc != SQLITE_DONE)
		return -EIO;
	return sqlite3_changes(s->db) ? 0 : -ENOENT;
}

int
store_node_health_state_get(struct store *s, const char *name, char **ret)
{
	sqlite3_stmt *st;
	int rc, r = -ENOENT;

	if (sqlite3_prepare_v2(s->db, "SELECT health_state FROM nodes WHERE name = ?1", -1, &st,
	    NULL) != SQLITE_OK)
		return -EIO;
	bind_text(st, 1, name);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		*ret = strdup(t ? (const char *)t : "");
		r = *ret ? 0 : -ENOMEM;
	} else if (rc != SQLITE_DONE)
		r = -EIO;
	sqlite3_finalize(st);
	return r;
}

int
store_node_health_state_set(struct store *s, const char *name, const char *json)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, "UPDATE nodes SET health_state = ?2 WHERE name = ?1", -1,
	    &st, NULL) != SQLITE_OK)
		return -EIO;
	bind_text(st, 1, name);
	bind_text(st, 2, json);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int
store_event_add(struct store *s, const char *node, const char *what, const char *reason,
    int64_t at)
{
	sqlite3_stmt *st = stmt(s, S_EVENT_ADD);
	int rc;

	if (!st)
		return -EIO;
	bind_text(st, 1, node);
	bind_text(st, 2, what);
	bind_text(st, 3, reason);
	sqlite3_bind_int64(st, 4, at);
	rc = sqlite3_step(st);
	reset(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int
store_events_since(struct store *s, int64_t since, size_t max, store_event_fn fn,
    void *userdata)
{
	sqlite3_stmt *st;
	struct event_rec e;
	int rc, r = 0;

	/* Private statement: fn may write to the store. */
	if (sqlite3_prepare_v2(s->db, stmt_sql[S_EVENTS_SINCE], -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, since);
	sqlite3_bind_int64(st, 2, (int64_t)max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&e, 0, sizeof(e));
		e.seq = sqlite3_column_int64(st, 0);
		copy_col(e.node, sizeof(e.node), st, 1);
		copy_col(e.kind, sizeof(e.kind), st, 2);
		copy_col(e.what, sizeof(e.what), st, 3);
		copy_col(e.reason, sizeof(e.reason), st, 4);
		e.at = sqlite3_column_int64(st, 5);
		r = fn(&e, userdata);
		if (r < 0)
			break;
	}
	sqlite3_finalize(st);
	if (r < 0)
		return r;
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -EIO;
}

int64_t
store_event_last_seq(struct store *s)
{
	sqlite3_stmt *st = stmt(s, S_EVENT_LAST);
	int64_t v = 0;

	if (!st)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	reset(st);
	return v;
}

int
store_node_set_phase(struct store *s, const char *name, const char *phase, const char *reason,
    int64_t at)
{
	sqlite3_stmt *st = stmt(s, S_NODE_PHASE);
	int rc;

	if (!st)
		return -EIO;
	bind_text(st, 1, name);
	bind_text(st, 2, phase);
	bind_text(st, 3, reason);
	sqlite3_bind_int64(st, 4, at);
	rc = sqlite3_step(st);
	reset(st);
	if (rc != SQLITE_DONE)
		return -EIO;
	if (sqlite3_changes(s->db) == 0)
		return -ENOENT;
	st = stmt(s, S_HISTORY_ADD);
	if (!st)
		return -EIO;
	bind_text(st, 1, name);
	bind_text(st, 2, phase);
	bind_text(st, 3, reason);
	sqlite3_bind_int64(st, 4, at);
	rc = sqlite3_step(st);
	reset(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

static int
node_foreach(struct store *s, enum stmt_id id, store_node_fn fn, void *userdata)
{
	sqlite3_stmt *st;
	struct node_rec n;
	int rc, r = 0;

	/* A private statement: fn may call back into the store. */
	if (sqlite3_prepare_v2(s->db, stmt_sql[id], -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		node_from_row(st, &n);
		r = fn(&n, userdata);
		if (r < 0)
			break;
	}
	sqlite3_finalize(st);
	if (r < 0)
		return r;
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int
store_node_foreach(struct store *s, store_node_fn fn, void *userdata)
{
	return node_foreach(s, S_NODE_ALL, fn, userdata);
}

int
store_node_foreach_managed(struct store *s, store_node_fn fn, void *userdata)
{
	return node_foreach(s, S_NODE_MANAGED, fn, userdata);
}

int
store_node_history(struct store *s, const char *name, struct phase_event *ret, size_t max,
    size_t *ret_n)
{
	sqlite3_stmt *st = stmt(s, S_HISTORY);
	size_t n = 0;
	int rc;

	if (!st)
		return -EIO;
	bind_text(st, 1, name);
	sqlite3_bind_int64(st, 2, (int64_t)(max < MAX_HISTORY_PER_NODE ? max :
	    MAX_HISTORY_PER_NODE));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < max) {
		copy_col(ret[n].phase, sizeof(ret[n].phase), st, 0);
		copy_col(ret[n].reason, sizeof(ret[n].reason), st, 1);
		ret[n].at = sqlite3_column_int64(st, 2);
		n++;
	}
	reset(st);
	*ret_n = n;
	return 0;
}

bool
store_ip_used(struct store *s, const char *ip)
{
	sqlite3_stmt *st = stmt(s, S_IP_USED);
	int rc;

	if (!st)
		return true; /* claim it is taken: never hand out an address twice */
	bind_text(st, 1, ip);
	rc = sqlite3_step(st);
	reset(st);
	return rc != SQLITE_DONE;
}

int
store_node_count_by_phase(struct store *s, store_count_fn fn, void *userdata)
{
	sqlite3_stmt *st = stmt(s, S_COUNT_PHASE);

	if (!st)
		return -EIO;
	while (sqlite3_step(st) == SQLITE_ROW)
		fn((const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1),
		    userdata);
	reset(st);
	return 0;
}

/* The roles the images table has columns for, in column order. */
static const char *const column_roles[3] = { "kernel", "initrd", "rootfs" };

const struct image_file *
image_rec_file(const struct image_rec *i, const char *role)
{
	for (unsigned k = 0; k < i->n_files; k++)
		if (strcmp(i->files[k].role, role) == 0)
			return &i->files[k];
	return NULL;
}

const char *
image_rec_sha256(const struct image_rec *i, const char *role)
{
	const struct image_file *f = image_rec_file(i, role);
	return f ? f->sha256 : "";
}

int
image_rec_file_set(struct image_rec *i, const char *role, const char *sha256, uint64_t size)
{
	struct image_file *f = (struct image_file *)image_rec_file(i, role);

	if (!role[0] || strlen(role) >= MAX_ROLE_NAME)
		return -EINVAL;
	if (!f) {
		if (i->n_files >= MAX_IMAGE_FILES)
			return -E2BIG;
		f = &i->files[i->n_files++];
		strcpy(f->role, role);
	}
	(void)snprintf(f->sha256, sizeof(f->sha256), "%s", sha256);
	f->size = size;
	return 0;
}

int
store_image_insert(struct store *s, const struct image_rec *i, struct dl_err *reterr)
{
	sqlite3_stmt *st = stmt(s, S_IMAGE_INSERT);
	int rc;

	if (!st)
		return -EIO;
	bind_text(st, 1, i->id);
	bind_text(st, 2, i->name);
	bind_text(st, 3, i->kind);
	bind_text(st, 4, i->path);
	bind_text(st, 5, i->kernel_version);
	bind_text(st, 6, i->kernel_banner);
	bind_text(st, 7, i->built);
	bind_text(st, 8, i->cmdline);
	for (int k = 0; k < 3; k++) {
		const struct image_file *f = image_rec_file(i, column_roles[k]);
		bind_text(st, 9 + 2 * k, f ? f->sha256 : "");
		sqlite3_bind_int64(st, 10 + 2 * k, f ? (int64_t)f->size : 0);
	}
	sqlite3_bind_int64(st, 15, i->added);
	bind_text(st, 16, i->initrd_tree);
	rc = sqlite3_step(st);
	reset(st);
	if (rc == SQLITE_CONSTRAINT)
		return dl_err_set(reterr, -EEXIST, "image version '%s' is already registered",
		    i->id);
	if (rc != SQLITE_DONE)
		return dl_err_set(reterr, -EIO, "store: %s", sqlite3_errmsg(s->db));
	return 0;
}

static void
image_from_row(sqlite3_stmt *st, struct image_rec *i)
{
	memset(i, 0, sizeof(*i));
	copy_col(i->id, sizeof(i->id), st, 0);
	copy_col(i->name, sizeof(i->name), st, 1);
	copy_col(i->kind, sizeof(i->kind), st, 2);
	copy_col(i->path, sizeof(i->path), st, 3);
	copy_col(i->kernel_version, sizeof(i->kernel_version), st, 4);
	copy_col(i->kernel_banner, sizeof(i->kernel_banner), st, 5);
	copy_col(i->built, sizeof(i->built), st, 6);
	copy_col(i->cmdline, sizeof(i->cmdline), st, 7);
	for (int k = 0; k < 3; k++) {
		const char *sha = (const char *)sqlite3_column_text(st, 8 + 2 * k);
		if (sha && sha[0])
			(void)image_rec_file_set(i, column_roles[k], sha,
			    (uint64_t)sqlite3_column_int64(st, 9 + 2 * k));
	}
	i->added = sqlite3_column_int64(st, 14);
	copy_col(i->initrd_tree, sizeof(i->initrd_tree), st, 15);
	i->current = sqlite3_column_int(st, 16) != 0;
}

static int
image_get(struct store *s, enum stmt_id id, const char *key, struct image_rec *ret)
{
	sqlite3_stmt *st = stmt(s, id);
	int rc;

	if (!st)
		return -EIO;
	bind_text(st, 1, key);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		image_from_row(st, ret);
	reset(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

int
store_image_get(struct store *s, const char *id, struct image_rec *ret)
{
	return image_get(s, S_IMAGE_GET, id, ret);
}

int
store_image_current(struct store *s, const char *name, struct image_rec *ret)
{
	return image_get(s, S_IMAGE_CURRENT, name, ret);
}

int
store_image_resolve(struct store *s, const char *ref, struct image_rec *ret,
    struct dl_err *reterr)
{
	char name[MAX_NODE_NAME] = "";
	const char *at = strchr(ref, '@'), *prefix = NULL;
	sqlite3_stmt *st;
	int rc, rows = 0;

	if (!at) {
		if (sha256_hex_is_valid(ref) && store_image_get(s, ref, ret) == 0)
			return 0;
		if (store_image_current(s, ref, ret) == 0)
			return 0;
		return dl_err_set(reterr, -ENOENT, "no image '%s'", ref);
	}
	if (at == ref)
		return dl_err_set(reterr, -EINVAL, "'%s' has no image name before '@'", ref);
	if ((size_t)(at - ref) >= sizeof(name))
		return dl_err_set(reterr, -EINVAL, "image name in '%s' is too long", ref);
	memcpy(name, ref, (size_t)(at - ref));
	name[at - ref] = '\0';
	prefix = at + 1;
	if (strlen(prefix) < 4 || strlen(prefix) > 64 || strspn(prefix, "0123456789abcdef") !=
	    strlen(prefix))
		return dl_err_set(reterr, -EINVAL,
		    "version '%s' is not 4 to 64 lowercase hex digits of an image id", prefix);
	st = stmt(s, S_IMAGE_PREFIX);
	if (!st)
		return -EIO;
	bind_text(st, 1, prefix);
	bind_text(st, 2, name);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (rows++ == 0)
			image_from_row(st, ret);
	}
	reset(st);
	if (rows == 0)
		return dl_err_set(reterr, -ENOENT, "no version '%s' of image '%s'", prefix, name);
	if (rows > 1)
		return dl_err_set(reterr, -EINVAL, "version '%s' of image '%s' is ambiguous",
		    prefix, name);
	return 0;
}

int
store_image_delete(struct store *s, const char *id)
{
	int r = exec_name(s, S_IMAGE_DELETE, id);

	if (r < 0)
		return r;
	return sqlite3_changes(s->db) ? 0 : -ENOENT;
}

int
store_image_foreach(struct store *s, store_image_fn fn, void *userdata)
{
	sqlite3_stmt *st;
	struct image_rec i;
	int rc, r = 0;

	if (sqlite3_prepare_v2(s->db, stmt_sql[S_IMAGE_ALL], -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		image_from_row(st, &i);
		r = fn(&i, userdata);
		if (r < 0)
			break;
	}
	sqlite3_finalize(st);
	if (r < 0)
		return r;
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int64_t
store_image_users(struct store *s, const char *id)
{
	sqlite3_stmt *st = stmt(s, S_IMAGE_USERS);
	int64_t n = -EIO;

	if (!st)
		return -EIO;
	bind_text(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	reset(st);
	return n;
}

static void
energy_from_row(sqlite3_stmt *st, struct energy_rec *e)
{
	memset(e, 0, sizeof(*e));
	copy_col(e->name, sizeof(e->name), st, 0);
	e->at_ms = sqlite3_column_int64(st, 1);
	e->on_mj = sqlite3_column_int64(st, 2);
	e->off_mj = sqlite3_column_int64(st, 3);
	e->saved_mj = sqlite3_column_int64(st, 4);
	e->baseline_w = (unsigned)sqlite3_column_int(st, 5);
	e->last_w = (unsigned)sqlite3_column_int(st, 6);
}

int
store_energy_get(struct store *s, const char *node, struct energy_rec *ret)
{
	sqlite3_stmt *st = stmt(s, S_ENERGY_GET);
	int rc;

	if (!st)
		return -EIO;
	bind_text(st, 1, node);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		energy_from_row(st, ret);
	reset(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

int
store_energy_put(struct store *s, const struct energy_rec *e)
{
	sqlite3_stmt *st = stmt(s, S_ENERGY_PUT);
	int rc;

	if (!st)
		return -EIO;
	bind_text(st, 1, e->name);
	sqlite3_bind_int64(st, 2, e->at_ms);
	sqlite3_bind_int64(st, 3, e->on_mj);
	sqlite3_bind_int64(st, 4, e->off_mj);
	sqlite3_bind_int64(st, 5, e->saved_mj);
	sqlite3_bind_int(st, 6, (int)e->baseline_w);
	sqlite3_bind_int(st, 7, (int)e->last_w);
	rc = sqlite3_step(st);
	reset(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int
store_energy_image_add(struct store *s, const char *image, int64_t on_mj, int64_t off_mj,
    int64_t saved_mj)
{
	sqlite3_stmt *st = stmt(s, S_ENERGY_IMAGE_ADD);
	int rc;

	if (!st)
		return -EIO;
	bind_text(st, 1, image);
	sqlite3_bind_int64(st, 2, on_mj);
	sqlite3_bind_int64(st, 3, off_mj);
	sqlite3_bind_int64(st, 4, saved_mj);
	rc = sqlite3_step(st);
	reset(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

static int
energy_foreach(struct store *s, const char *sql, store_energy_fn fn, void *userdata)
{
	sqlite3_stmt *st;
	struct energy_rec e;
	int rc, r = 0;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		energy_from_row(st, &e);
		if ((r = fn(&e, userdata)) < 0)
			break;
	}
	sqlite3_finalize(st);
	if (r < 0)
		return r;
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int
store_energy_foreach(struct store *s, store_energy_fn fn, void *userdata)
{
	return energy_foreach(s, "SELECT node, at_ms, on_mj, off_mj, saved_mj, baseline_w, "
	    "last_w FROM energy ORDER BY node", fn, userdata);
}

int
store_energy_image_foreach(struct store *s, store_energy_fn fn, void *userdata)
{
	return energy_foreach(s, "SELECT image, 0, on_mj, off_mj, saved_mj, 0, 0 "
	    "FROM energy_image ORDER BY image", fn, userdata);
}
