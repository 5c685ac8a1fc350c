/* SPDX-License-Identifier: MIT */
/* The SQLite store's schema: created where missing on every open (CREATE ... IF NOT
 * EXISTS), columns added since added to older stores. */
#include <stdio.h>

#include "store/store_sqlite.h"

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

static int
exec(sqlite3 *db, const char *sql, const char *path, struct dl_err *reterr)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	dl_err_set(reterr, -EIO, "store '%s': %s", path, msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	return -EIO;
}

int
store_sqlite_schema_apply(sqlite3 *db, const char *path, struct dl_err *reterr)
{
	int r;

	if ((r = exec(db, schema, path, reterr)) < 0)
		return r;
	/* Stores made before initrd_tree: CREATE TABLE IF NOT EXISTS kept their old images
	 * table, so add the column ('' = compare the initrd's sha256, as before). */
	if (sqlite3_exec(db, "SELECT initrd_tree FROM images LIMIT 0", NULL, NULL, NULL) !=
	    SQLITE_OK && (r = exec(db, "ALTER TABLE images ADD COLUMN initrd_tree TEXT "
	    "NOT NULL DEFAULT ''", path, reterr)) < 0)
		return dl_err_prefix(reterr, "add initrd_tree");
	/* Stores made before the green policy (issue #7): the idle clock starts at 0. */
	if (sqlite3_exec(db, "SELECT idle_since_ms FROM nodes LIMIT 0", NULL, NULL, NULL) !=
	    SQLITE_OK && (r = exec(db, "ALTER TABLE nodes ADD COLUMN idle_since_ms INTEGER "
	    "NOT NULL DEFAULT 0", path, reterr)) < 0)
		return dl_err_prefix(reterr, "add idle_since_ms");
	return 0;
}
