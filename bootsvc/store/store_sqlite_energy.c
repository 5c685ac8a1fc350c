/* SPDX-License-Identifier: MIT */
/* The SQLite backend's energy totals (issue #7): a row per node, replaced at each pass,
 * and a row per image, added to. */
#include <string.h>

#include "store/store_sqlite.h"

static const char *const energy_sql[_SQLITE_STMT_MAX] = {
	[S_ENERGY_GET] = "SELECT node, at_ms, on_mj, off_mj, saved_mj, baseline_w, last_w "
			 "FROM energy WHERE node = ?1",
	[S_ENERGY_PUT] = "INSERT OR REPLACE INTO energy (node, at_ms, on_mj, off_mj, saved_mj, "
			 "baseline_w, last_w) VALUES (?1,?2,?3,?4,?5,?6,?7)",
	[S_ENERGY_IMAGE_ADD] = "INSERT INTO energy_image (image, on_mj, off_mj, saved_mj) "
			       "VALUES (?1,?2,?3,?4) ON CONFLICT(image) DO UPDATE SET "
			       "on_mj = on_mj + ?2, off_mj = off_mj + ?3, saved_mj = saved_mj + ?4",
	/* the energy pass's page of nodes, each with its row: the primary keys of both
	 * tables in name order, one statement a page (store.h store_energy_nodes) */
	[S_ENERGY_NODES] = "SELECT n.name, n.image, n.phase, n.power, n.op, "
			   "COALESCE(e.node, ''), COALESCE(e.at_ms, 0), COALESCE(e.on_mj, 0), "
			   "COALESCE(e.off_mj, 0), COALESCE(e.saved_mj, 0), "
			   "COALESCE(e.baseline_w, 0), COALESCE(e.last_w, 0) FROM nodes n "
			   "LEFT JOIN energy e ON e.node = n.name WHERE n.name > ?1 "
			   "ORDER BY n.name LIMIT ?2",
};

static sqlite3_stmt *
stmt(struct sqlite_conn *c, enum sqlite_stmt id)
{
	return store_sqlite_stmt(c, id, energy_sql[id]);
}

#define ENERGY_COL(field) SQLITE_COL(struct energy_rec, field)

/* The columns of S_ENERGY_GET, S_ENERGY_PUT and the walks, in their order. */
static const struct sqlite_col energy_cols[] = {
	ENERGY_COL(name), ENERGY_COL(at_ms), ENERGY_COL(on_mj), ENERGY_COL(off_mj),
	ENERGY_COL(saved_mj), ENERGY_COL(baseline_w), ENERGY_COL(last_w),
};

static void
energy_from_row(sqlite3_stmt *st, struct energy_rec *e)
{
	memset(e, 0, sizeof(*e));
	store_sqlite_read_cols(st, 0, e, energy_cols, ELEMENTSOF(energy_cols));
}

int
store_sqlite_energy_get(struct store *s, const char *node, struct energy_rec *ret)
{
	sqlite3_stmt *st = stmt(sqlite_writer(s), S_ENERGY_GET);
	int rc;

	if (!st)
		return -EIO;
	store_sqlite_bind_text(st, 1, node);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		energy_from_row(st, ret);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

int
store_sqlite_energy_put(struct store *s, const struct energy_rec *e)
{
	sqlite3_stmt *st = stmt(sqlite_writer(s), S_ENERGY_PUT);

	if (!st)
		return -EIO;
	store_sqlite_bind_cols(st, 1, e, energy_cols, ELEMENTSOF(energy_cols));
	return store_sqlite_step_done(st);
}

int
store_sqlite_energy_image_add(struct store *s, const char *image, int64_t on_mj,
    int64_t off_mj, int64_t saved_mj)
{
	sqlite3_stmt *st = stmt(sqlite_writer(s), S_ENERGY_IMAGE_ADD);

	if (!st)
		return -EIO;
	store_sqlite_bind_text(st, 1, image);
	sqlite3_bind_int64(st, 2, on_mj);
	sqlite3_bind_int64(st, 3, off_mj);
	sqlite3_bind_int64(st, 4, saved_mj);
	return store_sqlite_step_done(st);
}

/* A private statement: fn may call back into the store. */
static int
energy_foreach(struct store *s, const char *sql, store_energy_fn fn, void *userdata)
{
	sqlite3_stmt *st;
	struct energy_rec e;
	int rc, r = 0;

	if (sqlite3_prepare_v2(sqlite_writer(s)->db, sql, -1, &st, NULL) != SQLITE_OK)
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
store_sqlite_energy_foreach(struct store *s, store_energy_fn fn, void *userdata)
{
	return energy_foreach(s, "SELECT node, at_ms, on_mj, off_mj, saved_mj, baseline_w, "
	    "last_w FROM energy ORDER BY node", fn, userdata);
}

#define NODE_COL(field) SQLITE_COL(struct energy_node, field)

/* The columns of S_ENERGY_NODES, in their order. */
static const struct sqlite_col energy_node_cols[] = {
	NODE_COL(name), NODE_COL(image), NODE_COL(phase), NODE_COL(power), NODE_COL(op),
	NODE_COL(row.name), NODE_COL(row.at_ms), NODE_COL(row.on_mj), NODE_COL(row.off_mj),
	NODE_COL(row.saved_mj), NODE_COL(row.baseline_w), NODE_COL(row.last_w),
};

int
store_sqlite_energy_nodes(struct store *s, const char *after, size_t limit,
    store_energy_node_fn fn, void *userdata)
{
	sqlite3_stmt *st = stmt(sqlite_writer(s), S_ENERGY_NODES);
	struct energy_node n;
	int rc, r = 0, seen = 0;

	if (!st)
		return -EIO;
	store_sqlite_bind_text(st, 1, after);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&n, 0, sizeof(n));
		store_sqlite_read_cols(st, 0, &n, energy_node_cols, ELEMENTSOF(energy_node_cols));
		seen++;
		if ((r = fn(&n, userdata)) < 0)
			break;
	}
	sqlite3_reset(st);
	if (r < 0)
		return r;
	return rc == SQLITE_DONE ? seen : -EIO;
}

int
store_sqlite_energy_image_foreach(struct store *s, store_energy_fn fn, void *userdata)
{
	return energy_foreach(s, "SELECT image, 0, on_mj, off_mj, saved_mj, 0, 0 "
	    "FROM energy_image ORDER BY image", fn, userdata);
}
