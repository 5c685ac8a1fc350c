/* SPDX-License-Identifier: MIT */
/* The PostgreSQL backend's node disks (issue 14), as store_sqlite_disk.c. */
#include <string.h>

#include "store/store_pg.h"

#define DISK_COLS "node, image_id, path, method, apparent_bytes, allocated_bytes, state, " \
	"reason, tid, chap_user, chap_secret, mutual_user, mutual_secret, made_at, make_ms, " \
	"boot, reset"

static const char *const disk_sql[_PG_STMT_MAX] = {
	[P_DISK_TID_OF] = "SELECT tid FROM node_disks WHERE node = $1",
	[P_DISK_TID_FREE] = "SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM node_disks WHERE tid = 1) "
			    "THEN 1 ELSE (SELECT min(a.tid + 1) FROM node_disks a WHERE NOT EXISTS "
			    "(SELECT 1 FROM node_disks b WHERE b.tid = a.tid + 1)) END",
	/* An upsert that never rewrites tid; another node's tid fails the UNIQUE, inside a
	 * savepoint (-EEXIST) */
	[P_DISK_PUT] = "INSERT INTO node_disks (" DISK_COLS ") VALUES "
		       "($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17) "
		       "ON CONFLICT (node) DO UPDATE SET image_id = $2, path = $3, method = $4, "
		       "apparent_bytes = $5, allocated_bytes = $6, state = $7, reason = $8, "
		       "chap_user = $10, chap_secret = $11, mutual_user = $12, "
		       "mutual_secret = $13, made_at = $14, make_ms = $15, boot = $16, reset = $17",
	[P_DISK_GET] = "SELECT " DISK_COLS " FROM node_disks WHERE node = $1",
	[P_DISK_DELETE] = "DELETE FROM node_disks WHERE node = $1",
	[P_DISK_PERSIST_PUT] = "INSERT INTO disk_persistent (node) VALUES ($1) "
			       "ON CONFLICT DO NOTHING",
	[P_DISK_PERSIST_DELETE] = "DELETE FROM disk_persistent WHERE node = $1",
	[P_DISK_PERSIST_GET] = "SELECT 1 FROM disk_persistent WHERE node = $1",
	[P_DISK_ALL] = "SELECT " DISK_COLS " FROM node_disks ORDER BY node",
};

static int
run(struct pg_conn *c, enum pg_stmt id, const struct pg_params *p, PGresult **ret)
{
	return store_pg_run(c, id, disk_sql[id], p, ret);
}

#define DISK_COL(field) PG_COL(struct disk_rec, field)
static const struct pg_col disk_cols[] = {
	DISK_COL(node), DISK_COL(image_id), DISK_COL(path), DISK_COL(method),
	DISK_COL(apparent_bytes), DISK_COL(allocated_bytes), DISK_COL(state), DISK_COL(reason),
	DISK_COL(tid), DISK_COL(chap_user), DISK_COL(chap_secret), DISK_COL(mutual_user),
	DISK_COL(mutual_secret), DISK_COL(made_at), DISK_COL(make_ms), DISK_COL(boot),
	DISK_COL(reset),
};

/* One integer from statement id bound to node (or nothing): 0 with *ret, -ENOENT no row
 * (or NULL), -EIO. */
static int
query_uint(struct pg_conn *c, enum pg_stmt id, const char *node, unsigned *ret)
{
	struct pg_params p = { .n = 0 };
	PGresult *res;
	int r;

	if (node)
		store_pg_param_text(&p, node);
	if ((r = run(c, id, &p, &res)) < 0)
		return r;
	if (PQntuples(res) && !PQgetisnull(res, 0, 0)) {
		*ret = (unsigned)store_pg_col_int64(res, 0, 0);
		r = 0;
	} else
		r = -ENOENT;
	PQclear(res);
	return r;
}

int
store_pg_disk_put(struct store *s, struct disk_rec *d)
{
	struct pg_conn *c = pg_writer(s);
	struct pg_params p = { .n = 0 };
	struct disk_rec w = *d;
	unsigned tid;
	bool own;
	int r;

	/* Under the write lock, so the tid found free is still free at the insert, whatever
	 * the other bootsvc on the database do. */
	if ((r = store_pg_write_begin(s, &own)) < 0)
		return r;
	if ((r = query_uint(c, P_DISK_TID_OF, d->node, &tid)) == 0)
		w.tid = tid;
	else if (r != -ENOENT)
		goto out;
	else if (w.tid == 0) {
		if ((r = query_uint(c, P_DISK_TID_FREE, NULL, &tid)) < 0) {
			r = r == -ENOENT ? -EIO : r;
			goto out;
		}
		w.tid = tid;
	}
	if (w.tid == 0 || w.tid > MAX_DISK_TID) {
		r = w.tid == 0 ? -EINVAL : -ENOSPC;
		goto out;
	}
	store_pg_params_cols(&p, &w, disk_cols, ELEMENTSOF(disk_cols));
	r = store_pg_write_risky(c, P_DISK_PUT, disk_sql[P_DISK_PUT], &p, NULL);
	if (r == -ENOENT)
		r = -EIO;
out:
	explicit_bzero(&p, sizeof(p)); /* secrets */
	if ((r = store_pg_write_end(s, own, r)) == 0)
		d->tid = w.tid;
	explicit_bzero(&w, sizeof(w));
	return r;
}

int
store_pg_disk_get(struct store_reader *rd, const char *node, struct disk_rec *ret)
{
	struct pg_params p = { .n = 0 };
	PGresult *res;
	int r;

	store_pg_param_text(&p, node);
	if ((r = run(pg_conn_of(rd), P_DISK_GET, &p, &res)) < 0)
		return r;
	r = PQntuples(res) ? 0 : -ENOENT;
	if (r == 0) {
		memset(ret, 0, sizeof(*ret));
		store_pg_read_cols(res, 0, 0, ret, disk_cols, ELEMENTSOF(disk_cols));
	}
	PQclear(res);
	return r;
}

/* One write of statement id keyed by node: 0, -ENOENT no row changed, -EIO. */
static int
write_changed(struct store *s, enum pg_stmt id, const char *node)
{
	struct pg_params p = { .n = 0 };
	bool own;
	int r;

	store_pg_param_text(&p, node);
	if ((r = store_pg_write_begin(s, &own)) < 0)
		return r;
	r = store_pg_run_changed(pg_writer(s), id, disk_sql[id], &p);
	return store_pg_write_end(s, own, r);
}

int
store_pg_disk_delete(struct store *s, const char *node)
{
	return write_changed(s, P_DISK_DELETE, node);
}

int
store_pg_disk_foreach(struct store *s, store_disk_fn fn, void *userdata)
{
	struct disk_rec d;
	PGresult *res;
	int r;

	if ((r = run(pg_writer(s), P_DISK_ALL, NULL, &res)) < 0)
		return r;
	for (int i = 0; i < PQntuples(res) && r >= 0; i++) {
		memset(&d, 0, sizeof(d));
		store_pg_read_cols(res, i, 0, &d, disk_cols, ELEMENTSOF(disk_cols));
		r = fn(&d, userdata);
	}
	PQclear(res);
	explicit_bzero(&d, sizeof(d)); /* secrets */
	return r < 0 ? r : 0;
}

int
store_pg_disk_persistent_put(struct store *s, const char *node)
{
	struct pg_params p = { .n = 0 };
	bool own;
	int r;

	store_pg_param_text(&p, node);
	if ((r = store_pg_write_begin(s, &own)) < 0)
		return r;
	/* the foreign key: no such node is -ENOENT, in a savepoint */
	r = store_pg_write_risky(pg_writer(s), P_DISK_PERSIST_PUT, disk_sql[P_DISK_PERSIST_PUT],
	    &p, NULL);
	return store_pg_write_end(s, own, r == -EEXIST ? -EIO : r);
}

int
store_pg_disk_persistent_delete(struct store *s, const char *node)
{
	return write_changed(s, P_DISK_PERSIST_DELETE, node);
}

bool
store_pg_disk_persistent_get(struct store *s, const char *node)
{
	unsigned one;

	return query_uint(pg_writer(s), P_DISK_PERSIST_GET, node, &one) == 0;
}
