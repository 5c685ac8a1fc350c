/* SPDX-License-Identifier: MIT */
/* The SQLite backend's image versions: a row of images per version, its files in the
 * columns of the roles images has (kernel, initrd, rootfs). store_image_get/current run
 * on every per-node script request: their statements are prepared once. */
#include <string.h>

#include "store/store_sqlite.h"

/* current: is it the newest version of its name (the same order as S_IMAGE_CURRENT). */
#define IMAGE_COLS "id, name, kind, path, kernel_version, kernel_banner, built, cmdline, " \
	"kernel_sha256, kernel_size, initrd_sha256, initrd_size, rootfs_sha256, rootfs_size, " \
	"added, initrd_tree, (SELECT i2.id FROM images i2 WHERE i2.name = images.name " \
	"ORDER BY i2.added DESC, i2.id DESC LIMIT 1) = id"

static const char *const store_sqlite_image_sql[_SQLITE_STMT_MAX] = {
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

/* The roles the images table has columns for, in column order. */
static const char *const column_roles[3] = { "kernel", "initrd", "rootfs" };

int
store_sqlite_image_insert(struct store *s, const struct image_rec *i, struct dl_err *reterr)
{
	struct sqlite_conn *c = sqlite_writer(s);
	sqlite3_stmt *st = stmt(c, S_IMAGE_INSERT);
	int rc;

	if (!st)
		return dl_err_set(reterr, -EIO, "store: %s", sqlite3_errmsg(c->db));
	store_sqlite_bind_text(st, 1, i->id);
	store_sqlite_bind_text(st, 2, i->name);
	store_sqlite_bind_text(st, 3, i->kind);
	store_sqlite_bind_text(st, 4, i->path);
	store_sqlite_bind_text(st, 5, i->kernel_version);
	store_sqlite_bind_text(st, 6, i->kernel_banner);
	store_sqlite_bind_text(st, 7, i->built);
	store_sqlite_bind_text(st, 8, i->cmdline);
	for (int k = 0; k < 3; k++) {
		const struct image_file *f = image_rec_file(i, column_roles[k]);
		store_sqlite_bind_text(st, 9 + 2 * k, f ? f->sha256 : "");
		sqlite3_bind_int64(st, 10 + 2 * k, f ? (int64_t)f->size : 0);
	}
	sqlite3_bind_int64(st, 15, i->added);
	store_sqlite_bind_text(st, 16, i->initrd_tree);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_CONSTRAINT)
		return -EEXIST;
	if (rc != SQLITE_DONE)
		return dl_err_set(reterr, -EIO, "store: %s", sqlite3_errmsg(c->db));
	return 0;
}

static void
image_from_row(sqlite3_stmt *st, struct image_rec *i)
{
	memset(i, 0, sizeof(*i));
	store_sqlite_copy_col(i->id, sizeof(i->id), st, 0);
	store_sqlite_copy_col(i->name, sizeof(i->name), st, 1);
	store_sqlite_copy_col(i->kind, sizeof(i->kind), st, 2);
	store_sqlite_copy_col(i->path, sizeof(i->path), st, 3);
	store_sqlite_copy_col(i->kernel_version, sizeof(i->kernel_version), st, 4);
	store_sqlite_copy_col(i->kernel_banner, sizeof(i->kernel_banner), st, 5);
	store_sqlite_copy_col(i->built, sizeof(i->built), st, 6);
	store_sqlite_copy_col(i->cmdline, sizeof(i->cmdline), st, 7);
	for (int k = 0; k < 3; k++) {
		const char *sha = (const char *)sqlite3_column_text(st, 8 + 2 * k);
		if (sha && sha[0])
			(void)image_rec_file_set(i, column_roles[k], sha,
			    (uint64_t)sqlite3_column_int64(st, 9 + 2 * k));
	}
	i->added = sqlite3_column_int64(st, 14);
	store_sqlite_copy_col(i->initrd_tree, sizeof(i->initrd_tree), st, 15);
	i->current = sqlite3_column_int(st, 16) != 0;
}

/* The version statement id finds by key. */
static int
image_get(struct sqlite_conn *c, enum sqlite_stmt id, const char *key, struct image_rec *ret)
{
	sqlite3_stmt *st = stmt(c, id);
	int rc;

	if (!st)
		return -EIO;
	store_sqlite_bind_text(st, 1, key);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		image_from_row(st, ret);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
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
	return 0;
}

int
store_sqlite_image_delete(struct store *s, const char *id)
{
	struct sqlite_conn *c = sqlite_writer(s);
	int r = store_sqlite_exec_key(c, S_IMAGE_DELETE, store_sqlite_image_sql[S_IMAGE_DELETE],
	    id);

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
		if ((r = fn(&i, userdata)) < 0)
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
