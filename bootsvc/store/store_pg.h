/* SPDX-License-Identifier: MIT */
/* The PostgreSQL backend's own parts, shared by its files: store_pg.c (connections, the
 * reconnect thread, transactions and the write lock, readers, the operation table),
 * store_pg_schema.c (the schema), and one file per kind of row as the SQLite backend
 * has: _node.c, _event.c, _image.c, _energy.c, _vm.c, _plan.c, _disk.c.
 *
 * Several bootsvc share one database (issue 15). Their writes are serialised by one
 * transaction-level advisory lock, so PostgreSQL gives the store SQLite's one-writer
 * semantics (docs/store.md, "PostgreSQL"). */
#pragma once

#include <libpq-fe.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backoff.h"
#include "store/store_backend.h"

/* The advisory lock every writer of a diskless database takes inside its transaction:
 * "diskless" in ASCII, so another application's locks on the same database are unlikely
 * to meet it. Other keys of ours (the controller's leader lock) must differ. */
#define STORE_PG_LOCK_KEY 7235441181564695411 /* 0x6469736b6c657373: decimal, as SQL reads it */

/* A connect that gets no answer gives up after this (libpq's connect_timeout, seconds):
 * a dead server costs the background reconnect thread, never the loop, but the first
 * open of a store runs on main's thread before the loop starts. */
#define STORE_PG_CONNECT_TIMEOUT_S 3
/* A statement runs on the caller's thread (the store interface is synchronous); this
 * bounds the one that meets a stalled server or a lock held by another bootsvc's long
 * transaction. The boot path's statements take well under a millisecond on a LAN. */
#define STORE_PG_STATEMENT_TIMEOUT_MS 5000
/* TCP: a peer gone silent (cable, power) is noticed within this, not the kernel's
 * 15-minute retransmission timeout (libpq's tcp_user_timeout, ms). */
#define STORE_PG_TCP_USER_TIMEOUT_MS 5000
/* The reconnect thread's backoff between attempts: a restarting server is found again
 * within a second or two, a dead one costs one attempt per few seconds. */
#define STORE_PG_RECONNECT_MIN_MS 200
#define STORE_PG_RECONNECT_MAX_MS 5000

/* Parameters of one statement: node insert binds 34. */
#define PG_MAX_PARAMS 40
/* The URL as given (with its password: libpq needs it), bounded as a path is. */
#define MAX_PG_URL 1024

/* Each statement is prepared once per connection (named s<id>) and reused; a new
 * connection prepares again on first use. Each file keeps the SQL of its own. */
enum pg_stmt {
	/* store_pg_node.c */
	P_NODE_INSERT, P_NODE_GET, P_NODE_GET_MAC, P_NODE_GET_IP, P_NODE_DELETE,
	P_NODE_UPDATE, P_NODE_PHASE, P_NODE_CTRL, P_NODE_ARM, P_NODE_HISTORY_DELETE,
	P_NODE_ENERGY_DELETE, P_IP_USED, P_COUNT_PHASE, P_HEALTH_STATE_GET, P_HEALTH_STATE_SET,
	P_NODE_ALL, P_NODE_MANAGED,
	/* store_pg_event.c */
	P_EVENT_ADD, P_EVENT_LAST, P_EVENTS_SINCE, P_HISTORY, P_HISTORY_TRIM, P_HISTORY_PRUNE,
	/* store_pg_image.c */
	P_IMAGE_INSERT, P_IMAGE_FILE_INSERT, P_IMAGE_GET, P_IMAGE_CURRENT, P_IMAGE_PREFIX,
	P_IMAGE_FILES, P_IMAGE_DELETE, P_IMAGE_USERS, P_IMAGE_ALL,
	/* store_pg_energy.c */
	P_ENERGY_GET, P_ENERGY_PUT, P_ENERGY_IMAGE_ADD, P_ENERGY_ALL, P_ENERGY_IMAGE_ALL, P_ENERGY_NODES,
	/* store_pg_vm.c */
	P_VM_HOST_PUT, P_VM_HOST_GET, P_VM_HOST_DELETE, P_VM_HOST_ALL, P_VM_DOMAIN_PUT,
	P_VM_DOMAIN_STALE, P_VM_DOMAIN_HOST, P_VM_DOMAIN_ALL,
	/* store_pg_plan.c */
	P_VM_PLAN_INSERT, P_VM_STEP_INSERT, P_VM_PLAN_GET, P_VM_PLAN_PUT, P_VM_STEP_PUT,
	P_VM_PLAN_PRUNE, P_VM_DRAIN_PUT, P_VM_DRAIN_DELETE, P_VM_DRAIN_GET, P_VM_PLAN_ALL,
	P_VM_PLAN_UNFINISHED, P_VM_STEP_PLAN, P_VM_STEP_UNFINISHED, P_VM_DRAIN_ALL,
	/* store_pg_disk.c */
	P_DISK_TID_OF, P_DISK_TID_FREE, P_DISK_PUT, P_DISK_GET, P_DISK_DELETE,
	P_DISK_PERSIST_PUT, P_DISK_PERSIST_DELETE, P_DISK_PERSIST_GET, P_DISK_ALL,
	_PG_STMT_MAX,
};

/* The files of image versions a connection has read, by content id: as the SQLite
 * backend's cache (store_sqlite.h), for the same reason (a content id's files never
 * change, on any server), and more so here where a query is a network round trip. */
#define PG_FILES_CACHE 32
struct pg_files_cached {
	char id[SHA256_HEX_SIZE]; /* "" = empty slot */
	struct image_file files[MAX_IMAGE_FILES];
	unsigned n_files;
};

struct pg_store;

/* One connection: the writer's, or a reader's (read-only, its own thread). */
struct pg_conn {
	struct store_reader rd;  /* this connection as a read view */
	PGconn *db;              /* NULL while none */
	struct pg_store *owner;  /* the writer's store; NULL for a reader */
	bool prepared[_PG_STMT_MAX];
	bool lost_logged;        /* the loss of this connection was logged */
	struct pg_files_cached files_cache[PG_FILES_CACHE];
	unsigned files_cache_next;
	/* a reader reconnects on its own thread, at most once per backoff delay */
	struct backoff retry;
	int64_t retry_at_ms;
	const char *url;         /* borrowed from the store (a reader outlives no store) */
	bool in_batch;           /* a reader's batch is open (store_reader_batch_begin) */
};

struct pg_store {
	struct store base;
	struct pg_conn conn;          /* the writer's connection (the loop's) */
	char url[MAX_PG_URL];         /* as given: readers and reconnects use it */
	char safe[MAX_PG_URL];        /* without the password, for messages */
	bool in_tx;                   /* begin() ran, no commit/rollback yet */
	bool locked;                  /* the write lock is held by this transaction */
	unsigned history_max;         /* store_history_keep(), 0 = keep all */
	/* The reconnect thread: it alone connects while the writer's connection is lost,
	 * and hands the new one over in fresh; the loop swaps it in outside a
	 * transaction. */
	pthread_mutex_t mu;
	pthread_cond_t cond;
	pthread_t thread;
	bool thread_running;          /* started and not yet joined */
	bool thread_done;             /* it returned (fresh set, or stop) */
	bool stop;                    /* close asks it to end */
	PGconn *fresh;                /* a connection ready to swap in */
};

static inline struct pg_store *
pg_store_of(struct store *s)
{
	return store_container_of(s, struct pg_store, base);
}

static inline struct pg_conn *
pg_conn_of(struct store_reader *r)
{
	return store_container_of(r, struct pg_conn, rd);
}

static inline struct pg_conn *
pg_writer(struct store *s)
{
	return &pg_store_of(s)->conn;
}

/* Parameters as text (libpq's text format): values point into buf or at the caller's
 * strings, which must outlive the call. */
struct pg_params {
	const char *v[PG_MAX_PARAMS];
	char buf[PG_MAX_PARAMS][24];
	int n;
};

/* store_pg.c */

void store_pg_param_text(struct pg_params *p, const char *v);
void store_pg_param_int64(struct pg_params *p, int64_t v);
void store_pg_param_double(struct pg_params *p, double v);

/* How a row struct's field is held (as store_sqlite.h's sqlite_col). */
enum pg_col_type {
	PG_COL_TEXT, PG_COL_BOOL, PG_COL_INT, PG_COL_UINT, PG_COL_INT64,
};
struct pg_col {
	enum pg_col_type type;
	size_t off;
	size_t size;
	const char *empty_as; /* TEXT: sent instead of "", NULL = "" */
};
#define PG_COL(type, field) PG_COL_OR(type, field, NULL)
#define PG_COL_OR(type, field, empty)							\
	{ _Generic(((type *)0)->field, char *: PG_COL_TEXT, bool: PG_COL_BOOL,		\
	      int: PG_COL_INT, unsigned: PG_COL_UINT, int64_t: PG_COL_INT64),		\
	  offsetof(type, field), sizeof(((type *)0)->field), empty }

/* Append the n fields of rec that cols names as parameters. */
void store_pg_params_cols(struct pg_params *p, const void *rec, const struct pg_col *cols,
    size_t n);
/* Read columns first, first + 1, ... of row of res into the n fields cols names. */
void store_pg_read_cols(const PGresult *res, int row, int first, void *rec,
    const struct pg_col *cols, size_t n);
/* Column col of row into dst, cut to size. */
void store_pg_copy_col(char *dst, size_t size, const PGresult *res, int row, int col);
int64_t store_pg_col_int64(const PGresult *res, int row, int col);

/* Run statement id of c (prepared from sql on first use) with p (NULL: none). 0 with
 * *ret (owned: PQclear it; NULL ret: cleared here) when it ran; -EEXIST for a
 * uniqueness conflict, -ENOENT for a foreign key pointing nowhere (the statement
 * failed: inside a transaction, only inside a savepoint, see store_pg_write_risky); -EIO
 * for anything else, and at once when the connection is lost. */
int store_pg_run(struct pg_conn *c, enum pg_stmt id, const char *sql,
    const struct pg_params *p, PGresult **ret);
/* store_pg_run, then the rows it changed: 0 with one or more, -ENOENT none. */
int store_pg_run_changed(struct pg_conn *c, enum pg_stmt id, const char *sql,
    const struct pg_params *p);

/* A write operation's bracket on s. begin: inside a transaction, take the write lock if
 * this transaction does not hold it yet (a batch's first write); outside one, open a
 * transaction of the operation's own with the lock (*ret_own set). end: commit or, when
 * r is -EIO, roll back the operation's own transaction; returns r, or -EIO when that
 * commit failed. begin fails -ESTALE when the fencing token was superseded
 * (store_fence()), -EIO otherwise. */
int store_pg_write_begin(struct store *s, bool *ret_own);
int store_pg_write_end(struct store *s, bool own, int r);
/* A failed store_pg_write_begin() (r) in reterr, for the operations that explain. */
int store_pg_write_refused(struct dl_err *reterr, int r);
/* store_pg_run of a write that may fail for its data (a foreign key, a uniqueness the
 * statement cannot turn into DO NOTHING): inside a savepoint of the backend's own, so a
 * failure leaves the enclosing transaction usable (PostgreSQL aborts a transaction on
 * any failed statement). Call between store_pg_write_begin/end. */
int store_pg_write_risky(struct pg_conn *c, enum pg_stmt id, const char *sql,
    const struct pg_params *p, PGresult **ret);

/* store_pg_schema.c */

/* The newest schema version this build knows; a PostgreSQL store starts at 8 (the
 * SQLite store's version when the backend came, issue 15). */
#define STORE_PG_SCHEMA_VERSION 10

/* On the open connection db: under the write lock, create the newest schema in a new
 * database, or check an existing one's version: newer than known is -ENOTSUP (the
 * message names both versions) with nothing written. safe names the store. */
int store_pg_schema_upgrade(PGconn *db, const char *safe, struct dl_err *reterr);

/* The walks and operations, one file per kind of row. */

/* store_pg_node.c */
int store_pg_node_get(struct store_reader *r, enum store_node_key key, const char *value,
    struct node_rec *ret);
int store_pg_node_insert(struct store *s, const struct node_rec *n, struct dl_err *reterr);
int store_pg_node_delete(struct store *s, const char *name);
int store_pg_node_update(struct store *s, const struct node_rec *n);
int store_pg_node_update_ctrl(struct store *s, const struct node_rec *n);
int store_pg_node_set_phase(struct store *s, const char *name, const char *phase,
    const char *reason, int64_t at);
int store_pg_node_arm(struct store *s, const char *name, const char *token, bool armed,
    const char *armed_by);
int store_pg_node_health_state_get(struct store *s, const char *name, char **ret);
int store_pg_node_health_state_set(struct store *s, const char *name, const char *json);
int store_pg_node_foreach(struct store *s, enum store_node_set set, store_node_fn fn,
    void *userdata);
bool store_pg_node_ip_used(struct store *s, const char *ip);
int store_pg_node_count_by_phase(struct store *s, store_count_fn fn, void *userdata);

/* store_pg_event.c. append: one history row of kind on the writer, inside a write. */
int store_pg_event_append(struct store *s, const char *node, const char *kind,
    const char *what, const char *reason, int64_t at);
int store_pg_event_add(struct store *s, const char *node, const char *what,
    const char *reason, int64_t at);
int store_pg_event_since(struct store *s, int64_t since, size_t max, store_event_fn fn,
    void *userdata);
int64_t store_pg_event_last_seq(struct store *s);
void store_pg_history_keep(struct store *s, unsigned max_per_node);
int store_pg_history_prune(struct store *s, int64_t before, unsigned max_rows,
    size_t *ret_n);
int store_pg_event_history(struct store *s, const char *name, struct phase_event *ret,
    size_t max, size_t *ret_n);

/* store_pg_image.c */
int store_pg_image_get(struct store_reader *r, const char *id, struct image_rec *ret);
int store_pg_image_current(struct store_reader *r, const char *name, struct image_rec *ret);
int store_pg_image_find_prefix(struct store_reader *r, const char *name, const char *prefix,
    struct image_rec *ret, unsigned *ret_n);
int store_pg_image_insert(struct store *s, const struct image_rec *i, struct dl_err *reterr);
int store_pg_image_delete(struct store *s, const char *id);
int store_pg_image_foreach(struct store *s, store_image_fn fn, void *userdata);
int64_t store_pg_image_users(struct store *s, const char *id);

/* store_pg_energy.c */
int store_pg_energy_get(struct store *s, const char *node, struct energy_rec *ret);
int store_pg_energy_put(struct store *s, const struct energy_rec *e);
int store_pg_energy_image_add(struct store *s, const char *image, int64_t on_mj,
    int64_t off_mj, int64_t saved_mj);
int store_pg_energy_foreach(struct store *s, store_energy_fn fn, void *userdata);
int store_pg_energy_image_foreach(struct store *s, store_energy_fn fn, void *userdata);
int store_pg_energy_nodes(struct store *s, const char *after, size_t limit,
    store_energy_node_fn fn, void *userdata);

/* store_pg_vm.c */
int store_pg_vm_host_put(struct store *s, const struct vm_host_rec *h);
int store_pg_vm_host_get(struct store *s, const char *node, struct vm_host_rec *ret);
int store_pg_vm_host_delete(struct store *s, const char *node);
int store_pg_vm_host_foreach(struct store *s, store_vm_host_fn fn, void *userdata);
int store_pg_vm_domain_put(struct store *s, const struct vm_domain_rec *d);
int store_pg_vm_domains_drop_stale(struct store *s, const char *host, int64_t seen);
int store_pg_vm_domain_foreach(struct store *s, const char *host, store_vm_domain_fn fn,
    void *userdata);

/* store_pg_plan.c */
int store_pg_vm_plan_insert(struct store *s, const struct vm_plan_rec *p, int64_t *ret_id);
int store_pg_vm_step_insert(struct store *s, const struct vm_step_rec *st);
int store_pg_vm_plan_get(struct store *s, int64_t id, struct vm_plan_rec *ret);
int store_pg_vm_plan_put(struct store *s, const struct vm_plan_rec *p);
int store_pg_vm_plan_foreach(struct store *s, bool unfinished_only, store_vm_plan_fn fn,
    void *userdata);
int store_pg_vm_step_put(struct store *s, const struct vm_step_rec *st);
int store_pg_vm_step_foreach(struct store *s, int64_t plan_id, store_vm_step_fn fn,
    void *userdata);
int store_pg_vm_plan_prune(struct store *s, int64_t before_ms, unsigned max);
int store_pg_vm_drain_put(struct store *s, const char *node, const char *reason);
int store_pg_vm_drain_delete(struct store *s, const char *node);
int store_pg_vm_drain_get(struct store *s, const char *node, char *reason, size_t size);
int store_pg_vm_drain_foreach(struct store *s, store_vm_drain_fn fn, void *userdata);

/* store_pg_disk.c */
int store_pg_disk_put(struct store *s, struct disk_rec *d);
int store_pg_disk_get(struct store_reader *r, const char *node, struct disk_rec *ret);
int store_pg_disk_delete(struct store *s, const char *node);
int store_pg_disk_foreach(struct store *s, store_disk_fn fn, void *userdata);
int store_pg_disk_persistent_put(struct store *s, const char *node);
int store_pg_disk_persistent_delete(struct store *s, const char *node);
bool store_pg_disk_persistent_get(struct store *s, const char *node);
