/* SPDX-License-Identifier: MIT */
/* The SQLite backend's own parts, shared by its files: store_sqlite.c (connections,
 * transactions, readers, the operation table), store_sqlite_schema.c (the schema and its
 * migrations), and one file per kind of row: _node.c, _event.c, _image.c, _energy.c. */
#pragma once

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store_backend.h"

/* Each statement is prepared once per connection and reused: the boot path runs a
 * lookup per request. Each file keeps the SQL of its own statements. */
enum sqlite_stmt {
	/* store_sqlite_node.c */
	S_NODE_INSERT, S_NODE_GET, S_NODE_GET_MAC, S_NODE_GET_IP, S_NODE_DELETE,
	S_NODE_GET_ROWID, S_NODE_UPDATE, S_NODE_PHASE, S_NODE_CTRL, S_NODE_ARM, S_NODE_HISTORY_DELETE, S_NODE_ENERGY_DELETE,
	S_IP_USED, S_COUNT_PHASE, S_HEALTH_STATE_GET, S_HEALTH_STATE_SET,
	/* store_sqlite_event.c */
	S_EVENT_ADD, S_EVENT_LAST, S_HISTORY, S_HISTORY_TRIM, S_HISTORY_PRUNE,
	/* store_sqlite_image.c */
	S_IMAGE_INSERT, S_IMAGE_FILE_INSERT, S_IMAGE_GET, S_IMAGE_CURRENT, S_IMAGE_PREFIX,
	S_IMAGE_FILES, S_IMAGE_DELETE, S_IMAGE_USERS,
	/* store_sqlite_energy.c */
	S_ENERGY_GET, S_ENERGY_PUT, S_ENERGY_IMAGE_ADD, S_ENERGY_NODES,
	/* store_sqlite_vm.c */
	S_VM_HOST_PUT, S_VM_HOST_GET, S_VM_HOST_DELETE, S_VM_DOMAIN_PUT, S_VM_DOMAIN_STALE,
	/* store_sqlite_plan.c */
	S_VM_PLAN_INSERT, S_VM_STEP_INSERT, S_VM_PLAN_GET, S_VM_PLAN_PUT, S_VM_STEP_PUT,
	S_VM_PLAN_PRUNE, S_VM_DRAIN_PUT, S_VM_DRAIN_DELETE, S_VM_DRAIN_GET,
	/* store_sqlite_disk.c */
	S_DISK_TID_OF, S_DISK_TID_FREE, S_DISK_PUT, S_DISK_GET, S_DISK_DELETE,
	S_DISK_PERSIST_PUT, S_DISK_PERSIST_DELETE, S_DISK_PERSIST_GET,
	/* store_sqlite_cache.c, store_sqlite_rowlog.c */
	S_DATA_VERSION, S_ROW_GEN, S_ROW_TX,
	/* store_sqlite.c: transactions */
	S_TX_BEGIN, S_TX_BEGIN_IMMEDIATE, S_TX_COMMIT, S_TX_ROLLBACK,
	_SQLITE_STMT_MAX,
};

/* One connection: the writer's, or a reader's (read-only, its own thread). */
/* The files of image versions a connection has read, by content id. A version's id is
 * the hash of a manifest that lists its files, so the files of an id never change, on
 * any server and across a delete and re-add: an entry cannot go stale. The script path
 * then reads the version's row alone, not its files' rows too (docs/benchmarks.md).
 * Versions are a handful per site; past the table's size the oldest entry goes. */
#define SQLITE_FILES_CACHE 32
struct sqlite_files_cached {
	char id[SHA256_HEX_SIZE]; /* "" = empty slot */
	struct image_file files[MAX_IMAGE_FILES];
	unsigned n_files;
};

struct sqlite_cache;
struct sqlite_rowlog;
struct rowlog_tx;

struct sqlite_conn {
	struct store_reader rd; /* this connection as a read view */
	sqlite3 *db;
	sqlite3_stmt *stmts[_SQLITE_STMT_MAX];
	struct sqlite_files_cached files_cache[SQLITE_FILES_CACHE];
	unsigned files_cache_next; /* the slot the next miss fills */
	unsigned history_max;      /* writer: store_history_keep(), 0 = keep all */
	struct sqlite_cache *cache; /* the rows it has read */
	struct sqlite_rowlog *rowlog; /* the writer's committed rows (the store's, shared) */
	struct rowlog_tx *rowlog_tx;  /* writer: what its open transaction wrote */
};

struct sqlite_ckpt;

struct sqlite_store {
	struct store base;
	struct sqlite_conn conn;     /* the one writing connection (the loop's) */
	char path[MAX_STORE_PATH];   /* readers open it again */
	struct sqlite_ckpt *ckpt;    /* the checkpoint thread (none for ":memory:") */
};

static inline struct sqlite_store *
sqlite_store_of(struct store *s)
{
	return store_container_of(s, struct sqlite_store, base);
}

static inline struct sqlite_conn *
sqlite_conn_of(struct store_reader *r)
{
	return store_container_of(r, struct sqlite_conn, rd);
}

/* The writer's connection of s. */
static inline struct sqlite_conn *
sqlite_writer(struct store *s)
{
	return &sqlite_store_of(s)->conn;
}

/* store_sqlite.c */

/* Statement id of c, prepared from sql on first use, else reset with its bindings
 * cleared. NULL (logged) if it cannot be prepared. Borrowed: reset it after use. */
sqlite3_stmt *store_sqlite_stmt(struct sqlite_conn *c, enum sqlite_stmt id, const char *sql);
/* Column col of the current row into dst, cut to size. */
void store_sqlite_copy_col(char *dst, size_t size, sqlite3_stmt *st, int col);
/* Bind v (NULL as ""). */
void store_sqlite_bind_text(sqlite3_stmt *st, int i, const char *v);
/* Bind v without copying it, for a lookup key that the caller keeps unchanged until the
 * statement is reset (store_sqlite_stmt() clears the binding at its next use): the copy
 * was a malloc and a free per script request's node lookup. */
void store_sqlite_bind_key(sqlite3_stmt *st, int i, const char *v);
/* Run statement id with ?1 = key; 0 when it finished, -EIO. */
int store_sqlite_exec_key(struct sqlite_conn *c, enum sqlite_stmt id, const char *sql,
    const char *key);
/* Step a statement of no rows bound by the caller, and reset it: 0 when it finished,
 * -EIO. */
int store_sqlite_step_done(sqlite3_stmt *st);
/* Step an UPDATE or DELETE of c bound by the caller, and reset it: 0 when it changed a
 * row, -ENOENT when none matched, -EIO. */
int store_sqlite_step_changed(struct sqlite_conn *c, sqlite3_stmt *st);

/* How a row struct's field is held: the field's C type picks it (SQLITE_COL). */
enum sqlite_col_type {
	SQLITE_COL_TEXT,  /* char[]: NULL is bound as "", a read is cut to the array */
	SQLITE_COL_BOOL,
	SQLITE_COL_INT,
	SQLITE_COL_UINT,
	SQLITE_COL_INT64,
};

/* One field of a row struct and the SQL column it is bound to or read from. A row kind's
 * table lists its fields in the order its SQL names the columns, so one table serves
 * the insert, the update and the reads of that kind. */
struct sqlite_col {
	enum sqlite_col_type type;
	size_t off;           /* offsetof the field */
	size_t size;          /* sizeof the field */
	const char *empty_as; /* TEXT: bound instead of "", NULL = "" */
};

/* The field of struct type; a field of a type without a column type does not compile. */
#define SQLITE_COL(type, field) SQLITE_COL_OR(type, field, NULL)
#define SQLITE_COL_OR(type, field, empty)						\
	{ _Generic(((type *)0)->field, char *: SQLITE_COL_TEXT, bool: SQLITE_COL_BOOL,	\
	      int: SQLITE_COL_INT, unsigned: SQLITE_COL_UINT, int64_t: SQLITE_COL_INT64),	\
	  offsetof(type, field), sizeof(((type *)0)->field), empty }

/* Bind the n fields of rec that cols names to parameters first, first + 1, ... */
void store_sqlite_bind_cols(sqlite3_stmt *st, int first, const void *rec,
    const struct sqlite_col *cols, size_t n);
/* Read columns first, first + 1, ... of the current row into the n fields of rec that
 * cols names. */
void store_sqlite_read_cols(sqlite3_stmt *st, int first, void *rec,
    const struct sqlite_col *cols, size_t n);

/* Bytes the n fields of rec that cols names take packed: text as its length (two bytes,
 * host order) and its bytes without the NUL, the other types as held. For a row kept in
 * memory (store_sqlite_cache.c), a node's strings being a tenth of their arrays; the
 * length is there so a read of the row copies each string without scanning it first. */
size_t store_sqlite_cols_packed_size(const void *rec, const struct sqlite_col *cols,
    size_t n);
/* Pack them at p (store_sqlite_cols_packed_size() bytes); returns p past them. */
unsigned char *store_sqlite_cols_pack(unsigned char *p, const void *rec,
    const struct sqlite_col *cols, size_t n);
/* Read what store_sqlite_cols_pack() wrote at p back into those fields of rec; returns
 * p past them. */
const unsigned char *store_sqlite_cols_unpack(const unsigned char *p, void *rec,
    const struct sqlite_col *cols, size_t n);

/* store_sqlite_cache.c: the rows the writer has read, kept while they are what the store
 * holds, so the script path's lookups run no query (docs/store.md "The writer's cache").
 * A row is dropped when the writer writes it (SQLite's update hook names every row it
 * writes); everything when a transaction or savepoint
 * rolls back, when SQLite rolled one back on its own (a full disk), and when another
 * connection committed (a sqlite3 shell, a restore), seen by PRAGMA data_version at the
 * next lookup. A reader (store_reader_open) keeps one too: it never writes, so the
 * data_version check tells it of every commit, and it catches up with the writer's rows
 * (store_sqlite_rowlog.c) or, when that cannot say what changed, drops them all. */

/* Give c its cache; reader: c is a reader, for which another connection's commit is the
 * usual (the writer's), not worth a log line. -ENOMEM. */
int store_sqlite_cache_open(struct sqlite_conn *c, bool reader);
/* Free c's cache (none is fine). */
void store_sqlite_cache_close(struct sqlite_conn *c);
/* Whether c has a cache to use now: false without one, or when the check of
 * data_version fails; empties it first when another connection wrote since the last
 * look. */
bool store_sqlite_cache_usable(struct sqlite_conn *c);
/* A transaction of c began (open) or committed (!open). */
void store_sqlite_cache_tx(struct sqlite_conn *c, bool open);
/* A reader's commits seen since it opened: those it caught up with from the writer's
 * groups, and those for which it emptied its rows (tests, store_sqlite_rowlog.c). */
void store_sqlite_cache_counts(struct sqlite_conn *c, uint64_t *ret_caught_up,
    uint64_t *ret_emptied);
/* Drop everything c keeps (a rollback). */
void store_sqlite_cache_drop_all(struct sqlite_conn *c);
/* The node whose key (by name or MAC) is value, when kept: 0, or -ENOENT. */
int store_sqlite_cache_node_get(struct sqlite_conn *c, enum store_node_key key,
    const char *value, struct node_rec *ret);
/* Keep n (just read through c), whose rowid is rowid. */
void store_sqlite_cache_node_put(struct sqlite_conn *c, const struct node_rec *n,
    int64_t rowid);
/* The version S_IMAGE_GET (by id) or S_IMAGE_CURRENT (by name) finds by key, when kept:
 * 0 or -ENOENT. */
int store_sqlite_cache_image_get(struct sqlite_conn *c, enum sqlite_stmt by, const char *key,
    struct image_rec *ret);
/* Keep what by found by key. */
void store_sqlite_cache_image_put(struct sqlite_conn *c, enum sqlite_stmt by, const char *key,
    const struct image_rec *i);

/* store_sqlite_rowlog.c: the node rows the writer committed, handed to the readers so
 * they keep what they read across its commits instead of emptying it (the file's comment
 * says how a reader knows which commits it sees). */

/* The writer c's log and the state of its transactions: 0, -ENOMEM. Close frees both
 * (none is fine); no reader may use the log after (the store closes its readers first,
 * store.h). A reader's connection borrows the writer's log. */
int store_sqlite_rowlog_open(struct sqlite_conn *c);
void store_sqlite_rowlog_close(struct sqlite_conn *c);
/* row_gen's gen and tx as c's transaction sees them: 0, or -EIO. */
int store_sqlite_rowlog_gen(struct sqlite_conn *c, int64_t *ret, int64_t *ret_tx);
/* The writer's side. begin starts a transaction's state (also after a rollback); note is
 * its update hook's: a row of table written; unsure: a savepoint rolled back (the
 * transaction's group cannot be chained to). */
void store_sqlite_rowlog_begin(struct sqlite_conn *c);
void store_sqlite_rowlog_note(struct sqlite_conn *c, const char *table, int64_t rowid);
void store_sqlite_rowlog_unsure(struct sqlite_conn *c);
/* Just before c's COMMIT: the group of what the transaction wrote, its node rows read
 * back now and its tag written, put in the log; NULL when it changed nothing a reader
 * keeps, or when it could not be made (readers then empty their rows). After the COMMIT,
 * publish says whether it committed: a group that did not comes out of the log. NULL is
 * fine. */
struct rowlog_group *store_sqlite_rowlog_prepare(struct sqlite_conn *c);
void store_sqlite_rowlog_publish(struct sqlite_conn *c, struct rowlog_group *g,
    bool committed);
/* The reader's side: what applying a group does to its rows. row: the node whose rowid
 * is rowid is now bytes[0..len) (store_sqlite_node_pack), or gone when len is 0. */
struct rowlog_apply {
	void (*row)(void *arg, int64_t rowid, const char *mac, const char *name,
	    const unsigned char *bytes, size_t len);
	void (*images)(void *arg);      /* an image version changed */
	void (*empty)(void *arg);       /* more changed than was listed */
};
/* Apply, in commit order, the groups that take a reader's rows from gen from to gen to,
 * whose snapshot's row_gen.tx is to_tx: 0, or -ESTALE when the log does not hold that
 * chain whole (the reader must empty its rows), nothing applied then. */
int store_sqlite_rowlog_catch_up(struct sqlite_rowlog *log, int64_t from, int64_t to,
    int64_t to_tx, const struct rowlog_apply *fn, void *arg);

/* store_sqlite_ckpt.c: the write-ahead log checkpointed on a thread of its own with its
 * own connection on path, woken by writer's commits past 1,000 log pages, instead of by
 * the committing (loop) thread. start: -ENOMEM, -EIO, or pthread's error. stop: the hook
 * removed from writer (may be NULL when already closed), the thread joined; NULL is
 * fine. done: checkpoints run (/metrics). */
int store_sqlite_ckpt_start(struct sqlite_ckpt **ret, sqlite3 *writer, const char *path,
    struct dl_err *reterr);
void store_sqlite_ckpt_stop(struct sqlite_ckpt *k, sqlite3 *writer);
uint64_t store_sqlite_ckpt_done(struct sqlite_ckpt *k);

/* store_sqlite_node.c: a node packed for the cache, and back. */
size_t store_sqlite_node_packed_size(const struct node_rec *n);
void store_sqlite_node_pack(unsigned char *p, const struct node_rec *n);
void store_sqlite_node_unpack(const unsigned char *p, struct node_rec *n);
/* The node whose rowid is rowid, read by c now: 0, -ENOENT, -EIO. */
int store_sqlite_node_get_rowid(struct sqlite_conn *c, int64_t rowid, struct node_rec *ret);

/* store_sqlite_schema.c */

/* The newest schema version this build knows (PRAGMA user_version). */
#define STORE_SQLITE_SCHEMA_VERSION 11

/* Refuse a db whose schema is newer than this build knows (-ENOTSUP, the message names
 * both versions) without writing anything. -EIO for a file that is not a store. path is
 * for messages. */
int store_sqlite_schema_check(sqlite3 *db, const char *path, struct dl_err *reterr);
/* Bring db to the newest version: a new store (version 0) gets the newest schema at
 * once; an older one each migration in order, each in a transaction of its own that also
 * sets user_version, logged as event=store_migrate. A failed step is rolled back: the
 * store stays at the version before it (-EIO). Run with foreign keys off. */
/* Run sql (one or more statements) on db; -EIO with SQLite's message in reterr. */
int store_sqlite_exec(sqlite3 *db, const char *sql, struct dl_err *reterr);
int store_sqlite_schema_upgrade(sqlite3 *db, const char *path, struct dl_err *reterr);

/* store_sqlite_node.c */
int store_sqlite_node_get(struct store_reader *r, enum store_node_key key, const char *value,
    struct node_rec *ret);
int store_sqlite_node_insert(struct store *s, const struct node_rec *n, struct dl_err *reterr);
int store_sqlite_node_delete(struct store *s, const char *name);
int store_sqlite_node_update(struct store *s, const struct node_rec *n);
int store_sqlite_node_update_ctrl(struct store *s, const struct node_rec *n);
int store_sqlite_node_set_phase(struct store *s, const char *name, const char *phase,
    const char *reason, int64_t at);
int store_sqlite_node_arm(struct store *s, const char *name, const char *token, bool armed,
    const char *armed_by);
int store_sqlite_node_health_state_get(struct store *s, const char *name, char **ret);
int store_sqlite_node_health_state_set(struct store *s, const char *name, const char *json);
int store_sqlite_node_foreach(struct store *s, enum store_node_set set, store_node_fn fn,
    void *userdata);
bool store_sqlite_node_ip_used(struct store *s, const char *ip);
int store_sqlite_node_count_by_phase(struct store *s, store_count_fn fn, void *userdata);

/* store_sqlite_event.c: the history table, phases and actions. append: one row of kind
 * ("phase" or "action") on connection c. */
int store_sqlite_event_append(struct sqlite_conn *c, const char *node, const char *kind,
    const char *what, const char *reason, int64_t at);
int store_sqlite_event_add(struct store *s, const char *node, const char *what,
    const char *reason, int64_t at);
int store_sqlite_event_since(struct store *s, int64_t since, size_t max, store_event_fn fn,
    void *userdata);
int64_t store_sqlite_event_last_seq(struct store *s);
void store_sqlite_history_keep(struct store *s, unsigned max_per_node);
int store_sqlite_history_prune(struct store *s, int64_t before, unsigned max_rows,
    size_t *ret_n);
int store_sqlite_checkpoint(struct store *s, int64_t *ret_frames);
int store_sqlite_event_history(struct store *s, const char *name, struct phase_event *ret,
    size_t max, size_t *ret_n);

/* store_sqlite_node.c: the walks' SQL, for the unit test of their query plans. */
extern const char *const store_sqlite_node_walk_sql[_STORE_NODE_SET_MAX];

/* store_sqlite_image.c. The SQL of its statements is exported for the unit test that
 * checks their query plans (the per-node script path must never sort). */
extern const char *const store_sqlite_image_sql[_SQLITE_STMT_MAX];
int store_sqlite_image_get(struct store_reader *r, const char *id, struct image_rec *ret);
int store_sqlite_image_current(struct store_reader *r, const char *name, struct image_rec *ret);
int store_sqlite_image_find_prefix(struct store_reader *r, const char *name,
    const char *prefix, struct image_rec *ret, unsigned *ret_n);
int store_sqlite_image_insert(struct store *s, const struct image_rec *i,
    struct dl_err *reterr);
int store_sqlite_image_delete(struct store *s, const char *id);
int store_sqlite_image_foreach(struct store *s, store_image_fn fn, void *userdata);
int64_t store_sqlite_image_users(struct store *s, const char *id);

/* store_sqlite_energy.c */
int store_sqlite_energy_get(struct store *s, const char *node, struct energy_rec *ret);
int store_sqlite_energy_put(struct store *s, const struct energy_rec *e);
int store_sqlite_energy_image_add(struct store *s, const char *image, int64_t on_mj,
    int64_t off_mj, int64_t saved_mj);
int store_sqlite_energy_foreach(struct store *s, store_energy_fn fn, void *userdata);
int store_sqlite_energy_image_foreach(struct store *s, store_energy_fn fn, void *userdata);
int store_sqlite_energy_nodes(struct store *s, const char *after, size_t limit,
    store_energy_node_fn fn, void *userdata);

/* store_sqlite_vm.c */
int store_sqlite_vm_host_put(struct store *s, const struct vm_host_rec *h);
int store_sqlite_vm_host_get(struct store *s, const char *node, struct vm_host_rec *ret);
int store_sqlite_vm_host_delete(struct store *s, const char *node);
int store_sqlite_vm_host_foreach(struct store *s, store_vm_host_fn fn, void *userdata);
int store_sqlite_vm_domain_put(struct store *s, const struct vm_domain_rec *d);
int store_sqlite_vm_domains_drop_stale(struct store *s, const char *host, int64_t seen);
int store_sqlite_vm_domain_foreach(struct store *s, const char *host, store_vm_domain_fn fn,
    void *userdata);

/* store_sqlite_plan.c */
int store_sqlite_vm_plan_insert(struct store *s, const struct vm_plan_rec *p, int64_t *ret_id);
int store_sqlite_vm_step_insert(struct store *s, const struct vm_step_rec *st);
int store_sqlite_vm_plan_get(struct store *s, int64_t id, struct vm_plan_rec *ret);
int store_sqlite_vm_plan_put(struct store *s, const struct vm_plan_rec *p);
int store_sqlite_vm_plan_foreach(struct store *s, bool unfinished_only, store_vm_plan_fn fn,
    void *userdata);
int store_sqlite_vm_step_put(struct store *s, const struct vm_step_rec *st);
int store_sqlite_vm_step_foreach(struct store *s, int64_t plan_id, store_vm_step_fn fn,
    void *userdata);
int store_sqlite_vm_plan_prune(struct store *s, int64_t before_ms, unsigned max);
int store_sqlite_vm_drain_put(struct store *s, const char *node, const char *reason);
int store_sqlite_vm_drain_delete(struct store *s, const char *node);
int store_sqlite_vm_drain_get(struct store *s, const char *node, char *reason, size_t size);
int store_sqlite_vm_drain_foreach(struct store *s, store_vm_drain_fn fn, void *userdata);

/* store_sqlite_disk.c */
int store_sqlite_disk_put(struct store *s, struct disk_rec *d);
int store_sqlite_disk_get(struct store_reader *r, const char *node, struct disk_rec *ret);
int store_sqlite_disk_delete(struct store *s, const char *node);
int store_sqlite_disk_foreach(struct store *s, store_disk_fn fn, void *userdata);
int store_sqlite_disk_persistent_put(struct store *s, const char *node);
int store_sqlite_disk_persistent_delete(struct store *s, const char *node);
bool store_sqlite_disk_persistent_get(struct store *s, const char *node);
