/* SPDX-License-Identifier: MIT */
/* The PostgreSQL backend's image versions: a row of images per version and a row of
 * image_files per file (as store_sqlite_image.c). A version's files are cached per
 * connection by content id: they never change, and a query is a round trip. */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store/store_pg.h"

/* current: is it the newest version of its name (the same order as P_IMAGE_CURRENT). */
#define IMAGE_COLS "id, name, kind, path, kernel_version, kernel_banner, built, cmdline, " \
	"added, initrd_tree, hypervisor_version, hypervisor_build_id, hypervisor_efi_build_id, " \
	"hypervisor_cmdline, up_probe, " \
	"(SELECT i2.id FROM images i2 WHERE i2.name = images.name " \
	"ORDER BY i2.added DESC, i2.id DESC LIMIT 1) = id"

static const char *const image_sql[_PG_STMT_MAX] = {
	/* DO NOTHING: a taken id inserts no row instead of aborting the transaction */
	[P_IMAGE_INSERT] = "INSERT INTO images (id, name, kind, path, kernel_version, "
			   "kernel_banner, built, cmdline, added, initrd_tree, hypervisor_version, "
			   "hypervisor_build_id, hypervisor_efi_build_id, hypervisor_cmdline, up_probe) "
			   "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15) "
			   "ON CONFLICT DO NOTHING",
	[P_IMAGE_FILE_INSERT] = "INSERT INTO image_files (image_id, role, pos, sha256, size) "
				"VALUES ($1,$2,$3,$4,$5)",
	[P_IMAGE_GET] = "SELECT " IMAGE_COLS " FROM images WHERE id = $1",
	[P_IMAGE_CURRENT] = "SELECT " IMAGE_COLS " FROM images WHERE name = $1 "
			    "ORDER BY added DESC, id DESC LIMIT 1",
	[P_IMAGE_PREFIX] = "SELECT " IMAGE_COLS " FROM images WHERE "
			   "substr(id, 1, length($1::text)) = $1 AND ($2::text = '' OR name = $2) "
			   "LIMIT 2",
	[P_IMAGE_FILES] = "SELECT role, sha256, size FROM image_files WHERE image_id = $1 "
			  "ORDER BY pos",
	[P_IMAGE_DELETE] = "DELETE FROM images WHERE id = $1",
	[P_IMAGE_USERS] = "SELECT count(*) FROM nodes WHERE image_pin = $1 OR served_image = $1",
	[P_IMAGE_ALL] = "SELECT " IMAGE_COLS " FROM images ORDER BY name, added DESC, id",
};

static int
run(struct pg_conn *c, enum pg_stmt id, const struct pg_params *p, PGresult **ret)
{
	return store_pg_run(c, id, image_sql[id], p, ret);
}

#define IMAGE_COL(field) PG_COL(struct image_rec, field)

static const struct pg_col image_cols[] = {
	IMAGE_COL(id), IMAGE_COL(name), IMAGE_COL(kind), IMAGE_COL(path),
	IMAGE_COL(kernel_version), IMAGE_COL(kernel_banner), IMAGE_COL(built),
	IMAGE_COL(cmdline), IMAGE_COL(added), IMAGE_COL(initrd_tree),
	IMAGE_COL(hypervisor_version), IMAGE_COL(hypervisor_build_id),
	IMAGE_COL(hypervisor_efi_build_id), IMAGE_COL(hypervisor_cmdline), IMAGE_COL(up_probe),
};

int
store_pg_image_insert(struct store *s, const struct image_rec *i, struct dl_err *reterr)
{
	struct pg_conn *c = pg_writer(s);
	struct pg_params p = { .n = 0 };
	bool own;
	int r;

	store_pg_params_cols(&p, i, image_cols, ELEMENTSOF(image_cols));
	if ((r = store_pg_write_begin(s, &own)) < 0)
		return store_pg_write_refused(reterr, r);
	/* The version and its files go in together: outside a transaction in one of the
	 * write's own; inside the caller's, a failed file takes the version out again. */
	r = store_pg_run_changed(c, P_IMAGE_INSERT, image_sql[P_IMAGE_INSERT], &p);
	if (r == -ENOENT)
		r = -EEXIST;
	for (unsigned k = 0; r == 0 && k < i->n_files && k < MAX_IMAGE_FILES; k++) {
		p.n = 0;
		store_pg_param_text(&p, i->id);
		store_pg_param_text(&p, i->files[k].role);
		store_pg_param_int64(&p, k);
		store_pg_param_text(&p, i->files[k].sha256);
		store_pg_param_int64(&p, (int64_t)i->files[k].size);
		if ((r = store_pg_write_risky(c, P_IMAGE_FILE_INSERT,
		    image_sql[P_IMAGE_FILE_INSERT], &p, NULL)) < 0) {
			dl_err_set(reterr, -EIO, "store: image '%s' file '%s' not stored", i->id,
			    i->files[k].role);
			r = -EIO;
		}
	}
	if (r == -EIO && !own) {
		/* the version's row went in without its files: take it out again */
		p.n = 0;
		store_pg_param_text(&p, i->id);
		(void)run(c, P_IMAGE_DELETE, &p, NULL);
	}
	r = store_pg_write_end(s, own, r);
	if (r == -EIO && reterr && !reterr->msg[0])
		dl_err_set(reterr, -EIO, "store: inserting image '%s' failed", i->id);
	return r;
}

static void
image_from_row(const PGresult *res, int row, struct image_rec *i)
{
	memset(i, 0, sizeof(*i));
	store_pg_read_cols(res, row, 0, i, image_cols, ELEMENTSOF(image_cols));
	i->current = store_pg_col_int64(res, row, ELEMENTSOF(image_cols)) != 0;
}

static const struct pg_files_cached *
files_cached(const struct pg_conn *c, const char *id)
{
	for (unsigned k = 0; k < PG_FILES_CACHE; k++)
		if (strcmp(c->files_cache[k].id, id) == 0)
			return &c->files_cache[k];
	return NULL;
}

static void
files_cache_put(struct pg_conn *c, const struct image_rec *i)
{
	struct pg_files_cached *e = &c->files_cache[c->files_cache_next];

	c->files_cache_next = (c->files_cache_next + 1) % PG_FILES_CACHE;
	memcpy(e->id, i->id, sizeof(e->id));
	memcpy(e->files, i->files, sizeof(e->files));
	e->n_files = i->n_files;
}

static int
files_load(struct pg_conn *c, struct image_rec *i)
{
	const struct pg_files_cached *hit = i->id[0] ? files_cached(c, i->id) : NULL;
	struct pg_params p = { .n = 0 };
	PGresult *res;
	int r;

	if (hit) {
		memcpy(i->files, hit->files, sizeof(i->files));
		i->n_files = hit->n_files;
		return 0;
	}
	store_pg_param_text(&p, i->id);
	if ((r = run(c, P_IMAGE_FILES, &p, &res)) < 0)
		return r;
	for (int k = 0; k < PQntuples(res) && r == 0; k++)
		r = image_rec_file_set(i, PQgetvalue(res, k, 0), PQgetvalue(res, k, 1),
		    (uint64_t)store_pg_col_int64(res, k, 2));
	PQclear(res);
	if (r < 0) {
		log_err("event=store_image image_id=%s msg=\"its files do not fit a record\" "
		    "err=%s", i->id, dl_errno_name(r));
		return -EIO;
	}
	files_cache_put(c, i);
	return 0;
}

static int
image_get(struct pg_conn *c, enum pg_stmt id, const char *key, struct image_rec *ret)
{
	struct pg_params p = { .n = 0 };
	PGresult *res;
	int r;

	store_pg_param_text(&p, key);
	if ((r = run(c, id, &p, &res)) < 0)
		return r;
	r = PQntuples(res) ? 0 : -ENOENT;
	if (r == 0)
		image_from_row(res, 0, ret);
	PQclear(res);
	return r < 0 ? r : files_load(c, ret);
}

int
store_pg_image_get(struct store_reader *r, const char *id, struct image_rec *ret)
{
	return image_get(pg_conn_of(r), P_IMAGE_GET, id, ret);
}

int
store_pg_image_current(struct store_reader *r, const char *name, struct image_rec *ret)
{
	return image_get(pg_conn_of(r), P_IMAGE_CURRENT, name, ret);
}

int
store_pg_image_find_prefix(struct store_reader *rd, const char *name, const char *prefix,
    struct image_rec *ret, unsigned *ret_n)
{
	struct pg_conn *c = pg_conn_of(rd);
	struct pg_params p = { .n = 0 };
	PGresult *res;
	unsigned rows;
	int r;

	store_pg_param_text(&p, prefix);
	store_pg_param_text(&p, name);
	if ((r = run(c, P_IMAGE_PREFIX, &p, &res)) < 0)
		return r;
	rows = (unsigned)PQntuples(res);
	if (rows)
		image_from_row(res, 0, ret);
	PQclear(res);
	*ret_n = rows;
	return rows ? files_load(c, ret) : 0;
}

int
store_pg_image_delete(struct store *s, const char *id)
{
	struct pg_params p = { .n = 0 };
	bool own;
	int r;

	store_pg_param_text(&p, id);
	if ((r = store_pg_write_begin(s, &own)) < 0)
		return r;
	/* its image_files rows go by ON DELETE CASCADE */
	r = store_pg_run_changed(pg_writer(s), P_IMAGE_DELETE, image_sql[P_IMAGE_DELETE], &p);
	return store_pg_write_end(s, own, r);
}

int
store_pg_image_foreach(struct store *s, store_image_fn fn, void *userdata)
{
	struct pg_conn *c = pg_writer(s);
	struct image_rec i;
	PGresult *res;
	int r;

	if ((r = run(c, P_IMAGE_ALL, NULL, &res)) < 0)
		return r;
	for (int k = 0; k < PQntuples(res) && r >= 0; k++) {
		image_from_row(res, k, &i);
		if ((r = files_load(c, &i)) == 0)
			r = fn(&i, userdata);
	}
	PQclear(res);
	return r < 0 ? r : 0;
}

int64_t
store_pg_image_users(struct store *s, const char *id)
{
	struct pg_params p = { .n = 0 };
	PGresult *res;
	int64_t n = -EIO;

	store_pg_param_text(&p, id);
	if (run(pg_writer(s), P_IMAGE_USERS, &p, &res) < 0)
		return -EIO;
	if (PQntuples(res))
		n = store_pg_col_int64(res, 0, 0);
	PQclear(res);
	return n;
}
