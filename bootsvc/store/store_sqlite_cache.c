/* SPDX-License-Identifier: MIT */
/* The SQLite writer's cache of the rows it has read (store_sqlite.h says when a row is
 * dropped). A script request looks its node up by MAC and its image version by name or
 * id: two queries that were a quarter of the loop's time when 64 clients asked for
 * scripts (docs/benchmarks.md, per-node scripts). Kept here, a hit is a copy.
 *
 * It is right because the writer is the only connection that writes while bootsvc runs,
 * and it sees every write: its own in SQLite's update hook, which names each row the
 * connection inserts, updates or deletes, whichever function's statement wrote it, and
 * anyone else's in PRAGMA data_version, which is checked before each use. Its reads
 * include its own uncommitted writes, as the connection's do; a rollback
 * empties it. PostgreSQL has no such cache: other servers write the same rows.
 *
 * A SQLite reader (another thread's read-only connection) keeps one too. It writes
 * nothing, so only data_version tells it of a commit; then it catches up with the rows
 * the writer committed (store_sqlite_rowlog.c), or empties what it keeps when it cannot
 * tell exactly what changed. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store/rowcache.h"
#include "store/store_sqlite.h"

/* Nodes kept: the seed's 3,780 and the bench's 10,000 fit, at a few hundred bytes each
 * packed; past it an older row goes (rowcache.h). */
#define SQLITE_NODE_CACHE 16384
/* Image versions kept, each by the lookup that found it: a site boots a handful. */
#define SQLITE_IMAGE_CACHE 8

struct sqlite_image_cached {
	enum sqlite_stmt by;          /* S_IMAGE_GET or S_IMAGE_CURRENT; 0 = empty slot */
	char key[SHA256_HEX_SIZE];    /* the id or the name */
	struct image_rec rec;
};

struct sqlite_cache {
	struct rowcache *nodes;       /* packed node rows, by MAC and by name */
	struct sqlite_image_cached images[SQLITE_IMAGE_CACHE];
	unsigned images_next;         /* the slot the next image put fills */
	int64_t data_version;         /* PRAGMA data_version when last looked, -1 = never */
	bool in_tx;                   /* between a BEGIN and its COMMIT or ROLLBACK */
	bool tx_looked;               /* data_version was looked at in this transaction */
	bool reader;                  /* a reader's: the writer's commits are its usual */
	int64_t gen;                  /* reader: row_gen.gen its rows are of, -1 = none */
	uint64_t caught_up, emptied;  /* reader: commits seen, by what it did with its rows */
};

static void
images_drop(struct sqlite_cache *k)
{
	memset(k->images, 0, sizeof(k->images));
	k->images_next = 0;
}

/* A node's rowid as the cache's third key. */
static void
rowid_key(char buf[static 24], int64_t rowid)
{
	(void)snprintf(buf, 24, "%" PRId64, rowid);
}

/* SQLite's update hook: a row of the writer's was inserted, updated or deleted, by any
 * statement of any write function, so no write can forget to drop what it changed. A
 * node's row goes by its rowid; any change to a version drops every version kept (another
 * version of its name may have become current). SQLite calls it inside the sqlite3_step()
 * that wrote, before any later read. It does not see rows deleted by an INSERT OR
 * REPLACE's conflict, nor a DELETE without WHERE (the truncate optimisation): nothing
 * writes nodes or images so (store_sqlite_{node,image}.c), and one that did would have
 * to drop by hand. Rowids hold because nothing VACUUMs a running store. */
static void
on_row_written(void *arg, int op, const char *db, const char *table, sqlite3_int64 rowid)
{
	struct sqlite_conn *c = arg;
	char key[24];

	(void)op;
	if (!c->cache || strcmp(db, "main") != 0)
		return;
	store_sqlite_rowlog_note(c, table, rowid);
	if (strcmp(table, "nodes") == 0) {
		rowid_key(key, rowid);
		rowcache_forget(c->cache->nodes, ROWCACHE_KEY_C, key);
	} else if (strcmp(table, "images") == 0)
		images_drop(c->cache);
}

int
store_sqlite_cache_open(struct sqlite_conn *c, bool reader)
{
	struct sqlite_cache *k = calloc(1, sizeof(*k));

	if (!k || !(k->nodes = rowcache_new(SQLITE_NODE_CACHE))) {
		free(k);
		return -ENOMEM;
	}
	k->data_version = -1;
	k->gen = -1;
	k->reader = reader;
	c->cache = k;
	/* A reader writes nothing, so only data_version tells it of the writer's rows. */
	if (!reader)
		(void)sqlite3_update_hook(c->db, on_row_written, c);
	return 0;
}

void
store_sqlite_cache_close(struct sqlite_conn *c)
{
	if (!c->cache)
		return;
	if (c->db && !c->cache->reader)
		(void)sqlite3_update_hook(c->db, NULL, NULL);
	rowcache_free(c->cache->nodes);
	free(c->cache);
	c->cache = NULL;
}

void
store_sqlite_cache_drop_all(struct sqlite_conn *c)
{
	if (!c->cache)
		return;
	rowcache_clear(c->cache->nodes);
	images_drop(c->cache);
}

/* A group of the writer's (store_sqlite_rowlog.c), applied to a reader's rows. */
static void
apply_row(void *arg, int64_t rowid, const char *mac, const char *name,
    const unsigned char *bytes, size_t len)
{
	struct sqlite_conn *c = arg;
	char key[24];
	const char *keys[_ROWCACHE_KEY_MAX] = { mac, name, key };

	rowid_key(key, rowid);
	/* a put that fails may leave the row it was to replace: it must not stay */
	if (!len || rowcache_put(c->cache->nodes, keys, bytes, len) < 0)
		rowcache_forget(c->cache->nodes, ROWCACHE_KEY_C, key);
}

static void
apply_images(void *arg)
{
	images_drop(((struct sqlite_conn *)arg)->cache);
}

static void
apply_empty(void *arg)
{
	rowcache_clear(((struct sqlite_conn *)arg)->cache->nodes);
}

static const struct rowlog_apply apply_fns = { apply_row, apply_images, apply_empty };

/* A reader saw a commit: bring its rows to the gen its transaction reads, from the
 * writer's groups, or empty them when those do not say exactly what changed. A commit
 * that changed no node nor image (a history row) leaves them as they are. */
static void
reader_catch_up(struct sqlite_conn *c)
{
	struct sqlite_cache *k = c->cache;
	int64_t gen, tx;

	if (store_sqlite_rowlog_gen(c, &gen, &tx) < 0) {
		store_sqlite_cache_drop_all(c);
		k->gen = -1;
		k->emptied++;
		return;
	}
	if (gen == k->gen)
		return;
	if (k->gen >= 0 &&
	    store_sqlite_rowlog_catch_up(c->rowlog, k->gen, gen, tx, &apply_fns, c) == 0)
		k->caught_up++;
	else {
		store_sqlite_cache_drop_all(c);
		k->emptied++;
	}
	k->gen = gen;
}

void
store_sqlite_cache_counts(struct sqlite_conn *c, uint64_t *ret_caught_up,
    uint64_t *ret_emptied)
{
	*ret_caught_up = c->cache ? c->cache->caught_up : 0;
	*ret_emptied = c->cache ? c->cache->emptied : 0;
}

/* PRAGMA data_version: changes when another connection commits, not with this one's own
 * writes (sqlite.org/pragma.html#pragma_data_version). A step of a prepared statement. */
bool
store_sqlite_cache_usable(struct sqlite_conn *c)
{
	sqlite3_stmt *st;
	int64_t v;
	int rc;

	if (!c->cache)
		return false;
	/* A transaction that ended without our COMMIT or ROLLBACK was rolled back by SQLite
	 * itself (a full disk, an I/O error): rows read since its first write are not the
	 * store's any more. */
	if (c->cache->in_tx && sqlite3_get_autocommit(c->db)) {
		log_warning("event=store_cache msg=\"SQLite rolled a transaction back: dropping "
		    "the rows kept\"");
		store_sqlite_cache_drop_all(c);
		c->cache->in_tx = false;
	}
	/* Inside a transaction the connection reads one snapshot (WAL), so one look at its
	 * start covers every lookup of a batch: another connection's commit after it is not
	 * seen by this one until the next. */
	if (c->cache->in_tx && c->cache->tx_looked)
		return true;
	if (!(st = store_sqlite_stmt(c, S_DATA_VERSION, "PRAGMA data_version")))
		return false;
	rc = sqlite3_step(st);
	v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_reset(st);
	if (v < 0) {
		store_sqlite_cache_drop_all(c);
		return false;
	}
	if (v != c->cache->data_version) {
		if (c->cache->reader)
			reader_catch_up(c);
		else {
			if (c->cache->data_version >= 0)
				log_info("event=store_cache msg=\"another connection wrote the "
				    "store: dropping the rows kept\"");
			store_sqlite_cache_drop_all(c);
		}
		c->cache->data_version = v;
	}
	c->cache->tx_looked = c->cache->in_tx;
	return true;
}

void
store_sqlite_cache_tx(struct sqlite_conn *c, bool open)
{
	if (c->cache) {
		c->cache->in_tx = open;
		c->cache->tx_looked = false;
	}
}

int
store_sqlite_cache_node_get(struct sqlite_conn *c, enum store_node_key key,
    const char *value, struct node_rec *ret)
{
	const void *row;
	size_t len;

	if (key != STORE_NODE_BY_MAC && key != STORE_NODE_BY_NAME)
		return -ENOENT;
	row = rowcache_find(c->cache->nodes,
	    key == STORE_NODE_BY_MAC ? ROWCACHE_KEY_A : ROWCACHE_KEY_B, value, &len);
	if (!row)
		return -ENOENT;
	store_sqlite_node_unpack(row, ret);
	return 0;
}

void
store_sqlite_cache_node_put(struct sqlite_conn *c, const struct node_rec *n, int64_t rowid)
{
	size_t len = store_sqlite_node_packed_size(n);
	unsigned char *p = malloc(len);
	char key[24];
	const char *keys[_ROWCACHE_KEY_MAX] = { n->mac, n->name, key };

	/* Not kept is only slower: the next lookup queries again. */
	if (!p)
		return;
	rowid_key(key, rowid);
	store_sqlite_node_pack(p, n);
	(void)rowcache_put(c->cache->nodes, keys, p, len);
	free(p);
}

int
store_sqlite_cache_image_get(struct sqlite_conn *c, enum sqlite_stmt by, const char *key,
    struct image_rec *ret)
{
	for (unsigned i = 0; i < SQLITE_IMAGE_CACHE; i++) {
		const struct sqlite_image_cached *e = &c->cache->images[i];

		if (e->by == by && strcmp(e->key, key) == 0) {
			memcpy(ret, &e->rec, sizeof(*ret));
			return 0;
		}
	}
	return -ENOENT;
}

void
store_sqlite_cache_image_put(struct sqlite_conn *c, enum sqlite_stmt by, const char *key,
    const struct image_rec *i)
{
	struct sqlite_cache *k = c->cache;
	struct sqlite_image_cached *e = &k->images[k->images_next];

	if (strlen(key) >= sizeof(e->key))
		return;
	k->images_next = (k->images_next + 1) % SQLITE_IMAGE_CACHE;
	e->by = by;
	strcpy(e->key, key);
	memcpy(&e->rec, i, sizeof(e->rec));
}
