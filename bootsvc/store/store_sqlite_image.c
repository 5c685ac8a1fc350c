/* SPDX-License-Identifier: MIT */
/* The SQLite backend's image versions: a row of images per version and a row of
 * image_files per file, whatever its role. store_image_get/current run on every per-node
 * script request, so both of their statements are prepared once and read an index in
 * the order they return (tests/unit/test_store_migrate.c checks the plans). */
#include <string.h>

#include "log.h"
#include "store/store_sqlite.h"

/* current: is it the newest version of its name (the same order as S_IMAGE_CURRENT). */
#define IMAGE_COLS "id, name, kind, path, kernel_version, kernel_banner, built, cmdline, " \
	"added, initrd_tree, hypervisor_version, hypervisor_build_id, hypervisor_efi_build_id, " \
	"hypervisor_cmdline, up_probe, " \
	"(SELECT i2.id FROM images i2 WHERE i2.name = images.name " \
	"ORDER BY i2.added DESC, i2.id DESC LIMIT 1) = id"

const char *const store_sqlite_image_sql[_SQLITE_STMT_MAX] = {
	[S_IMAGE_INSERT] = "INSERT INTO images (id, name, kind, path, kernel_version, "
			   "kernel_banner, built, cmdline, added, initrd_tree, hypervisor_version, "
			   "hypervisor_build_id, hypervisor_efi_build_id, hypervisor_cmdline, up_probe) "
			   "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15)",
	[S_IMAGE_FILE_INSERT] = "INSERT INTO image_files (image_id, role, pos, sha256, size) "
				"VALUES (?1,?2,?3,?4,?5)",
	[S_IMAGE_GET] = "SELECT " IMAGE_COLS " FROM images WHERE id = ?1",
	[S_IMAGE_CURRENT] = "SELECT " IMAGE_COLS " FROM images WHERE name = ?1 "
			    "ORDER BY added DESC, id DESC LIMIT 1",
	[S_IMAGE_PREFIX] = "SELECT " IMAGE_COLS " FROM images WHERE substr(id, 1, length(?1)) = ?1 "
			   "AND (?2 = '' OR name = ?2) LIMIT 2",
	[S_IMAGE_FILES] = "SELECT role, sha256, size FROM image_files WHERE image_id = ?1 "
			  "ORDER BY pos",
	[S_IMAGE_DELETE] = "DELETE FROM images WHERE id = ?1",
	[S_IMAGE_USERS] = "SELECT count(*) FROM nodes WHERE image_pin = ?1 OR served_image = ?1",
};

/* Private statement of the walk: its callback may call back into the store. */
static const char image_all_sql[] =
	"SELECT " IMAGE_COLS " FROM images ORDER BY name, added DESC, id";

static sqlite3_stmt *
stmt(struct sqlite_conn *c, enum sqlite_stmt id)
{
	return store_sqlite_stmt(c, id, store_sqlite_image_sql[id]);
}

/* Run the prepared insert of one file (bound by the caller) and reset it. */
static int
file_insert(struct sqlite_conn *c, const char *id, unsigned pos, const struct image_file *f,
    struct dl_err *reterr)
{
	sqlite3_stmt *st = stmt(c, S_IMAGE_FILE_INSERT);
	int rc;

	if (!st)
		return dl_err_set(reterr, -EIO, "store: %s", sqlite3_errmsg(c->db));
	store_sqlite_bind_text(st, 1, id);
	store_sqlite_bind_text(st, 2, f->role);
	sqlite3_bind_int(st, 3, (int)pos);
	store_sqlite_bind_text(st, 4, f->sha256);
	sqlite3_bind_int64(st, 5, (int64_t)f->size);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return dl_err_set(reterr, -EIO, "store: image '%s' file '%s': %s", id, f->role,
		    sqlite3_errmsg(c->db));
	return 0;
}

#define IMAGE_COL(field) SQLITE_COL(struct image_rec, field)

/* The columns of IMAGE_COLS before current, in S_IMAGE_INSERT's order too. */
static const struct sqlite_col image_cols[] = {
	IMAGE_COL(id), IMAGE_COL(name), IMAGE_COL(kind), IMAGE_COL(path),
	IMAGE_COL(kernel_version), IMAGE_COL(kernel_banner), IMAGE_COL(built),
	IMAGE_COL(cmdline), IMAGE_COL(added), IMAGE_COL(initrd_tree),
	IMAGE_COL(hypervisor_version), IMAGE_COL(hypervisor_build_id),
	IMAGE_COL(hypervisor_efi_build_id), IMAGE_COL(hypervisor_cmdline), IMAGE_COL(up_probe),
};

static int
image_row_insert(struct sqlite_conn *c, const struct image_rec *i, struct dl_err *reterr)
{
	sqlite3_stmt *st = stmt(c, S_IMAGE_INSERT);
	int rc;

	if (!st)
		return dl_err_set(reterr, -EIO, "store: %s", sqlite3_errmsg(c->db));
	store_sqlite_bind_cols(st, 1, i, image_cols, ELEMENTSOF(image_cols));
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_CONSTRAINT)
		return -EEXIST;
	if (rc != SQLITE_DONE)
		return dl_err_set(reterr, -EIO, "store: %s", sqlite3_errmsg(c->db));
	return 0;
}

int
store_sqlite_image_insert(struct store *s, const struct image_rec *i, struct dl_err *reterr)
{
	struct sqlite_conn *c = sqlite_writer(s);
	int r;

	/* A savepoint of its own, so the version and its files go in together whether or not
	 * the caller has a transaction open (outside one, it is the transaction). */
	if (sqlite3_exec(c->db, "SAVEPOINT image_insert", NULL, NULL, NULL) != SQLITE_OK)
		return dl_err_set(reterr, -EIO, "store: %s", sqlite3_errmsg(c->db));
	r = image_row_insert(c, i, reterr);
	for (unsigned k = 0; r == 0 && k < i->n_files && k < MAX_IMAGE_FILES; k++)
		r = file_insert(c, i->id, k, &i->files[k], reterr);
	if (r < 0)
		(void)sqlite3_exec(c->db, "ROLLBACK TO image_insert", NULL, NULL, NULL);
	if (sqlite3_exec(c->db, "RELEASE image_insert", NULL, NULL, NULL) != SQLITE_OK && r == 0)
		r = dl_err_set(reterr, -EIO, "store: %s", sqlite3_errmsg(c->db));
	return r;
}

static void
image_from_row(sqlite3_stmt *st, struct image_rec *i)
{
	memset(i, 0, sizeof(*i));
	store_sqlite_read_cols(st, 0, i, image_cols, ELEMENTSOF(image_cols));
	i->current = sqlite3_column_int(st, ELEMENTSOF(image_cols)) != 0;
}

static const struct sqlite_files_cached *
files_cached(const struct sqlite_conn *c, const char *id)
{
	for (unsigned k = 0; k < SQLITE_FILES_CACHE; k++)
		if (strcmp(c->files_cache[k].id, id) == 0)
			return &c->files_cache[k];
	return NULL;
}

static void
files_cache_put(struct sqlite_conn *c, const struct image_rec *i)
{
	struct sqlite_files_cached *e = &c->files_cache[c->files_cache_next];

	c->files_cache_next = (c->files_cache_next + 1) % SQLITE_FILES_CACHE;
	memcpy(e->id, i->id, sizeof(e->id));
	memcpy(e->files, i->files, sizeof(e->files));
	e->n_files = i->n_files;
}

/* i's files, in the order they were inserted. */
static int
files_load(struct sqlite_conn *c, struct image_rec *i)
{
	const struct sqlite_files_cached *hit = i->id[0] ? files_cached(c, i->id) : NULL;
	sqlite3_stmt *st;
	int rc = SQLITE_DONE, r = 0;

	if (hit) {
		memcpy(i->files, hit->files, sizeof(i->files));
		i->n_files = hit->n_files;
		return 0;
	}
	if (!(st = stmt(c, S_IMAGE_FILES)))
		return -EIO;
	store_sqlite_bind_text(st, 1, i->id);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *role = (const char *)sqlite3_column_text(st, 0);
		const char *sha = (const char *)sqlite3_column_text(st, 1);

		r = image_rec_file_set(i, role ? role : "", sha ? sha : "",
		    (uint64_t)sqlite3_column_int64(st, 2));
	}
	sqlite3_reset(st);
	if (r < 0) {
		/* Only a store written by hand has more roles than a record holds. */
		log_err("event=store_image image_id=%s msg=\"its files do not fit a record\" "
		    "err=%s", i->id, dl_errno_name(r));
		return -EIO;
	}
	if (rc != SQLITE_DONE)
		return -EIO;
	files_cache_put(c, i);
	return 0;
}

/* The version statement id finds by key, with its files. */
static int
image_get(struct sqlite_conn *c, enum sqlite_stmt id, const char *key, struct image_rec *ret)
{
	bool cached = store_sqlite_cache_usable(c);
	sqlite3_stmt *st;
	int rc, r;

	if (cached && store_sqlite_cache_image_get(c, id, key, ret) == 0)
		return 0;
	if (!(st = stmt(c, id)))
		return -EIO;
	store_sqlite_bind_key(st, 1, key);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		image_from_row(st, ret);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? -ENOENT : -EIO;
	if ((r = files_load(c, ret)) == 0 && cached)
		store_sqlite_cache_image_put(c, id, key, ret);
	return r;
}

int
store_sqlite_image_get(struct store_reader *r, const char *id, struct image_rec *ret)
{
	return image_get(sqlite_conn_of(r), S_IMAGE_GET, id, ret);
}

int
store_sqlite_image_current(struct store_reader *r, const char *name, struct image_rec *ret)
{
	return image_get(sqlite_conn_of(r), S_IMAGE_CURRENT, name, ret);
}

int
store_sqlite_image_find_prefix(struct store_reader *r, const char *name, const char *prefix,
    struct image_rec *ret, unsigned *ret_n)
{
	struct sqlite_conn *c = sqlite_conn_of(r);
	sqlite3_stmt *st = stmt(c, S_IMAGE_PREFIX);
	unsigned rows = 0;
	int rc;

	if (!st)
		return -EIO;
	store_sqlite_bind_text(st, 1, prefix);
	store_sqlite_bind_text(st, 2, name);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (rows++ == 0)
			image_from_row(st, ret);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return -EIO;
	*ret_n = rows;
	return rows ? files_load(c, ret) : 0;
}

int
store_sqlite_image_delete(struct store *s, const char *id)
{
	struct sqlite_conn *c = sqlite_writer(s);
	int r = store_sqlite_exec_key(c, S_IMAGE_DELETE, store_sqlite_image_sql[S_IMAGE_DELETE],
	    id);

	/* its image_files rows go by ON DELETE CASCADE */
	if (r < 0)
		return r;
	return sqlite3_changes(c->db) ? 0 : -ENOENT;
}

int
store_sqlite_image_foreach(struct store *s, store_image_fn fn, void *userdata)
{
	struct sqlite_conn *c = sqlite_writer(s);
	sqlite3_stmt *st;
	struct image_rec i;
	int rc, r = 0;

	if (sqlite3_prepare_v2(c->db, image_all_sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		image_from_row(st, &i);
		if ((r = files_load(c, &i)) < 0 || (r = fn(&i, userdata)) < 0)
			break;
	}
	sqlite3_finalize(st);
	if (r < 0)
		return r;
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int64_t
store_sqlite_image_users(struct store *s, const char *id)
{
	sqlite3_stmt *st = stmt(sqlite_writer(s), S_IMAGE_USERS);
	int64_t n = -EIO;

	if (!st)
		return -EIO;
	store_sqlite_bind_text(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return n;
}
