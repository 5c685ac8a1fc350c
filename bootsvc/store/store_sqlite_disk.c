/* SPDX-License-Identifier: MIT */
/* The SQLite backend's node disks (issue 14): a row per node with an iSCSI disk (its
 * clone, target id and secrets), and the nodes whose disk is persistent. */
#include <string.h>

#include "store/store_sqlite.h"

#define DISK_COLS "node, image_id, path, method, apparent_bytes, allocated_bytes, state, " \
	"reason, tid, chap_user, chap_secret, mutual_user, mutual_secret, made_at, make_ms, " \
	"boot, reset"

static const char *const disk_sql[_SQLITE_STMT_MAX] = {
	[S_DISK_TID_OF] = "SELECT tid FROM node_disks WHERE node = ?1",
	/* The lowest free tid: 1 if free, else the first one above a taken one that is not
	 * taken itself (walks the UNIQUE index of tid). */
	[S_DISK_TID_FREE] = "SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM node_disks WHERE tid = 1) "
			    "THEN 1 ELSE (SELECT min(a.tid + 1) FROM node_disks a WHERE NOT EXISTS "
			    "(SELECT 1 FROM node_disks b WHERE b.tid = a.tid + 1)) END",
	/* An upsert that never rewrites tid: a node's target id is stable. */
	[S_DISK_PUT] = "INSERT INTO node_disks (" DISK_COLS ") VALUES "
		       "(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17) "
		       "ON CONFLICT(node) DO UPDATE SET image_id = ?2, path = ?3, method = ?4, "
		       "apparent_bytes = ?5, allocated_bytes = ?6, state = ?7, reason = ?8, "
		       "chap_user = ?10, chap_secret = ?11, mutual_user = ?12, "
		       "mutual_secret = ?13, made_at = ?14, make_ms = ?15, boot = ?16, reset = ?17",
	[S_DISK_GET] = "SELECT " DISK_COLS " FROM node_disks WHERE node = ?1",
	[S_DISK_DELETE] = "DELETE FROM node_disks WHERE node = ?1",
	[S_DISK_PERSIST_PUT] = "INSERT OR IGNORE INTO disk_persistent (node) VALUES (?1)",
	[S_DISK_PERSIST_DELETE] = "DELETE FROM disk_persistent WHERE node = ?1",
	[S_DISK_PERSIST_GET] = "SELECT 1 FROM disk_persistent WHERE node = ?1",
};

static sqlite3_stmt *
stmt(struct sqlite_conn *c, enum sqlite_stmt id)
{
	return store_sqlite_stmt(c, id, disk_sql[id]);
}

#define DISK_COL(field) SQLITE_COL(struct disk_rec, field)
static const struct sqlite_col disk_cols[] = {
	DISK_COL(node), DISK_COL(image_id), DISK_COL(path), DISK_COL(method),
	DISK_COL(apparent_bytes), DISK_COL(allocated_bytes), DISK_COL(state), DISK_COL(reason),
	DISK_COL(tid), DISK_COL(chap_user), DISK_COL(chap_secret), DISK_COL(mutual_user),
	DISK_COL(mutual_secret), DISK_COL(made_at), DISK_COL(make_ms), DISK_COL(boot),
	DISK_COL(reset),
};

/* One integer from statement id bound to node (or nothing): 0 with *ret, -ENOENT no row
 * (or NULL), -EIO. */
static int
query_uint(struct sqlite_conn *c, enum sqlite_stmt id, const char *node, unsigned *ret)
{
	sqlite3_stmt *st = stmt(c, id);
	int rc, r;

	if (!st)
		return -EIO;
	if (node)
		store_sqlite_bind_text(st, 1, node);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*ret = (unsigned)sqlite3_column_int64(st, 0);
		r = 0;
	} else
		r = rc == SQLITE_ROW || rc == SQLITE_DONE ? -ENOENT : -EIO;
	sqlite3_reset(st);
	return r;
}

int
store_sqlite_disk_put(struct store *s, struct disk_rec *d)
{
	struct sqlite_conn *c = sqlite_writer(s);
	struct disk_rec w = *d;
	sqlite3_stmt *st;
	unsigned tid;
	int rc, r;

	/* The row's tid if it has one; else the caller's, else the lowest free. The
	 * caller's transaction (the loop's only writer) keeps the two statements atomic. */
	if ((r = query_uint(c, S_DISK_TID_OF, d->node, &tid)) == 0)
		w.tid = tid;
	else if (r != -ENOENT)
		return r;
	else if (w.tid == 0) {
		if ((r = query_uint(c, S_DISK_TID_FREE, NULL, &tid)) < 0)
			return r == -ENOENT ? -EIO : r;
		w.tid = tid;
	}
	if (w.tid == 0 || w.tid > MAX_DISK_TID)
		return w.tid == 0 ? -EINVAL : -ENOSPC;
	if (!(st = stmt(c, S_DISK_PUT)))
		return -EIO;
	store_sqlite_bind_cols(st, 1, &w, disk_cols, ELEMENTSOF(disk_cols));
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_CONSTRAINT)
		return -EEXIST; /* the tid the caller gave is another node's */
	if (rc != SQLITE_DONE)
		return -EIO;
	d->tid = w.tid;
	return 0;
}

int
store_sqlite_disk_get(struct store_reader *r, const char *node, struct disk_rec *ret)
{
	struct sqlite_conn *c = sqlite_conn_of(r);
	sqlite3_stmt *st = stmt(c, S_DISK_GET);
	int rc;

	if (!st)
		return -EIO;
	store_sqlite_bind_text(st, 1, node);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(ret, 0, sizeof(*ret));
		store_sqlite_read_cols(st, 0, ret, disk_cols, ELEMENTSOF(disk_cols));
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

int
store_sqlite_disk_delete(struct store *s, const char *node)
{
	struct sqlite_conn *c = sqlite_writer(s);
	sqlite3_stmt *st = stmt(c, S_DISK_DELETE);

	if (!st)
		return -EIO;
	store_sqlite_bind_text(st, 1, node);
	return store_sqlite_step_changed(c, st);
}

int
store_sqlite_disk_foreach(struct store *s, store_disk_fn fn, void *userdata)
{
	sqlite3_stmt *st;
	struct disk_rec d;
	int rc, r = 0;

	/* A private statement: fn may call back into the store. */
	if (sqlite3_prepare_v2(sqlite_writer(s)->db, "SELECT " DISK_COLS " FROM node_disks "
	    "ORDER BY node", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&d, 0, sizeof(d));
		store_sqlite_read_cols(st, 0, &d, disk_cols, ELEMENTSOF(disk_cols));
		if ((r = fn(&d, userdata)) < 0)
			break;
	}
	sqlite3_finalize(st);
	explicit_bzero(&d, sizeof(d)); /* secrets */
	if (r < 0)
		return r;
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int
store_sqlite_disk_persistent_put(struct store *s, const char *node)
{
	sqlite3_stmt *st = stmt(sqlite_writer(s), S_DISK_PERSIST_PUT);
	int rc;

	if (!st)
		return -EIO;
	store_sqlite_bind_text(st, 1, node);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return 0;
	return rc == SQLITE_CONSTRAINT ? -ENOENT : -EIO; /* the foreign key: no such node */
}

int
store_sqlite_disk_persistent_delete(struct store *s, const char *node)
{
	struct sqlite_conn *c = sqlite_writer(s);
	sqlite3_stmt *st = stmt(c, S_DISK_PERSIST_DELETE);

	if (!st)
		return -EIO;
	store_sqlite_bind_text(st, 1, node);
	return store_sqlite_step_changed(c, st);
}

bool
store_sqlite_disk_persistent_get(struct store *s, const char *node)
{
	unsigned one;

	return query_uint(sqlite_writer(s), S_DISK_PERSIST_GET, node, &one) == 0;
}
