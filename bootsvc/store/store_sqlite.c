/* SPDX-License-Identifier: MIT */
/* The SQLite backend: its connections (the loop's writer, and read-only readers for other
 * threads), its transactions, and its table of operations. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "store/store_sqlite.h"

/* How long a statement waits for a lock another connection holds (a reader's WAL
 * snapshot never does; a sqlite3 shell or a backup can) before it fails with -EIO. */
#define SQLITE_BUSY_MS 5000

static const struct store_backend sqlite_ops;

sqlite3_stmt *
store_sqlite_stmt(struct sqlite_conn *c, enum sqlite_stmt id, const char *sql)
{
	if (!c->stmts[id]) {
		if (!sql || sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
		    &c->stmts[id], NULL) != SQLITE_OK) {
			log_err("event=store_prepare stmt=%d msg=\"%s\"", (int)id,
			    sqlite3_errmsg(c->db));
			return NULL;
		}
	} else {
		sqlite3_reset(c->stmts[id]);
		sqlite3_clear_bindings(c->stmts[id]);
	}
	return c->stmts[id];
}

void
store_sqlite_copy_col(char *dst, size_t size, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	size_t n = t ? strlen((const char *)t) : 0;

	if (n >= size)
		n = size - 1;
	if (n)
		memcpy(dst, t, n);
	dst[n] = '\0';
}

void
store_sqlite_bind_text(sqlite3_stmt *st, int i, const char *v)
{
	sqlite3_bind_text(st, i, v ? v : "", -1, SQLITE_TRANSIENT);
}

void
store_sqlite_bind_key(sqlite3_stmt *st, int i, const char *v)
{
	sqlite3_bind_text(st, i, v ? v : "", -1, SQLITE_STATIC);
}

int
store_sqlite_exec_key(struct sqlite_conn *c, enum sqlite_stmt id, const char *sql,
    const char *key)
{
	sqlite3_stmt *st = store_sqlite_stmt(c, id, sql);

	if (!st)
		return -EIO;
	store_sqlite_bind_text(st, 1, key);
	return store_sqlite_step_done(st);
}

int
store_sqlite_step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int
store_sqlite_step_changed(struct sqlite_conn *c, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return -EIO;
	return sqlite3_changes(c->db) ? 0 : -ENOENT;
}

void
store_sqlite_bind_cols(sqlite3_stmt *st, int first, const void *rec,
    const struct sqlite_col *cols, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		const struct sqlite_col *col = &cols[k];
		const void *f = (const char *)rec + col->off;
		int i = first + (int)k;

		switch (col->type) {
		case SQLITE_COL_TEXT:
			store_sqlite_bind_text(st, i, col->empty_as && !*(const char *)f ?
			    col->empty_as : f);
			break;
		case SQLITE_COL_BOOL:
			sqlite3_bind_int(st, i, *(const bool *)f);
			break;
		case SQLITE_COL_INT:
			sqlite3_bind_int(st, i, *(const int *)f);
			break;
		case SQLITE_COL_UINT:
			sqlite3_bind_int(st, i, (int)*(const unsigned *)f);
			break;
		case SQLITE_COL_INT64:
			sqlite3_bind_int64(st, i, *(const int64_t *)f);
			break;
		}
	}
}

void
store_sqlite_read_cols(sqlite3_stmt *st, int first, void *rec, const struct sqlite_col *cols,
    size_t n)
{
	for (size_t k = 0; k < n; k++) {
		const struct sqlite_col *col = &cols[k];
		void *f = (char *)rec + col->off;
		int i = first + (int)k;

		switch (col->type) {
		case SQLITE_COL_TEXT:
			store_sqlite_copy_col(f, col->size, st, i);
			break;
		case SQLITE_COL_BOOL:
			*(bool *)f = sqlite3_column_int(st, i) != 0;
			break;
		case SQLITE_COL_INT:
			*(int *)f = sqlite3_column_int(st, i);
			break;
		case SQLITE_COL_UINT:
			*(unsigned *)f = (unsigned)sqlite3_column_int(st, i);
			break;
		case SQLITE_COL_INT64:
			*(int64_t *)f = sqlite3_column_int64(st, i);
			break;
		}
	}
}

/* A text field's length as packed: its fields are far below 64 KiB (struct node_rec is
 * under 3 KiB whole), and one cut at its last byte is cut as a read would cut it. */
static uint16_t
text_len(const struct sqlite_col *col, const char *f)
{
	return (uint16_t)strnlen(f, col->size - 1);
}

size_t
store_sqlite_cols_packed_size(const void *rec, const struct sqlite_col *cols, size_t n)
{
	size_t len = 0;

	for (size_t k = 0; k < n; k++) {
		const char *f = (const char *)rec + cols[k].off;

		len += cols[k].type == SQLITE_COL_TEXT ? sizeof(uint16_t) + text_len(&cols[k], f) :
		    cols[k].size;
	}
	return len;
}

unsigned char *
store_sqlite_cols_pack(unsigned char *p, const void *rec, const struct sqlite_col *cols,
    size_t n)
{
	for (size_t k = 0; k < n; k++) {
		const char *f = (const char *)rec + cols[k].off;
		uint16_t len;

		if (cols[k].type != SQLITE_COL_TEXT) {
			memcpy(p, f, cols[k].size);
			p += cols[k].size;
			continue;
		}
		len = text_len(&cols[k], f);
		memcpy(p, &len, sizeof(len));
		memcpy(p + sizeof(len), f, len);
		p += sizeof(len) + len;
	}
	return p;
}

const unsigned char *
store_sqlite_cols_unpack(const unsigned char *p, void *rec, const struct sqlite_col *cols,
    size_t n)
{
	for (size_t k = 0; k < n; k++) {
		char *f = (char *)rec + cols[k].off;
		uint16_t len;

		if (cols[k].type != SQLITE_COL_TEXT) {
			memcpy(f, p, cols[k].size);
			p += cols[k].size;
			continue;
		}
		memcpy(&len, p, sizeof(len));
		memcpy(f, p + sizeof(len), len);
		f[len] = '\0';
		p += sizeof(len) + len;
	}
	return p;
}

/* Before SQLite initialises (the first open): no memory statistics. With them on, every
 * allocation SQLite makes takes a process-wide mutex to count it, and a script request's
 * two lookups allocate often enough that the lock showed as a tenth of the node lookup's
 * time in a profile (docs/benchmarks.md, per-node scripts). Nothing here reads them. */
static pthread_once_t sqlite_config_once = PTHREAD_ONCE_INIT;

static void
sqlite_config(void)
{
	/* SQLITE_MISUSE when something initialised SQLite first: then it keeps counting */
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* Open path into c (flags: read-write and create, or read-only). */
static int
conn_open(struct sqlite_conn *c, const char *path, int flags, struct dl_err *reterr)
{
	(void)pthread_once(&sqlite_config_once, sqlite_config);
	c->rd.ops = &sqlite_ops;
	/* NOMUTEX: a connection is used by one thread at a time (the loop, or its reader's
	 * thread), so SQLite's per-connection mutex would only cost. */
	if (sqlite3_open_v2(path, &c->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
		return dl_err_set(reterr, -EIO, "store '%s': %s", path,
		    c->db ? sqlite3_errmsg(c->db) : "out of memory");
	sqlite3_busy_timeout(c->db, SQLITE_BUSY_MS);
	return 0;
}

static void
conn_done(struct sqlite_conn *c)
{
	for (size_t i = 0; i < _SQLITE_STMT_MAX; i++)
		c->stmts[i] = (sqlite3_finalize(c->stmts[i]), NULL);
	/* close_v2: a statement someone forgot still closes with it, not leaks the db */
	(void)sqlite3_close_v2(c->db);
	c->db = NULL;
}

int
store_sqlite_exec(sqlite3 *db, const char *sql, struct dl_err *reterr)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	dl_err_set(reterr, -EIO, "%s", msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	return -EIO;
}

/* store_sqlite_exec() on the store being opened: its path heads the message. */
static int
exec(sqlite3 *db, const char *sql, const char *path, struct dl_err *reterr)
{
	int r = store_sqlite_exec(db, sql, reterr);

	if (r < 0)
		dl_err_prefix(reterr, "store '%s'", path);
	return r;
}

/* The store holds every node's token: it and its -wal and -shm are 0600 (issue #11).
 * SQLite creates -wal and -shm with the main file's mode, so the main file is created
 * 0600 before SQLite opens it, and any file an older bootsvc left wider is narrowed. */
static int
secure_files(const char *path, struct dl_err *reterr)
{
	static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
	char p[MAX_STORE_PATH + 16];
	int fd;

	if (!*path || strcmp(path, ":memory:") == 0 || strncmp(path, "file:", 5) == 0)
		return 0;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return dl_err_set(reterr, -EIO, "store '%s': %s", path, strerror(errno));
	(void)close(fd);
	for (size_t i = 0; i < ELEMENTSOF(suffixes); i++) {
		struct stat st;

		(void)snprintf(p, sizeof(p), "%s%s", path, suffixes[i]);
		if (lstat(p, &st) < 0 || !S_ISREG(st.st_mode) || (st.st_mode & 0077) == 0)
			continue;
		if (chmod(p, st.st_mode & 0600) < 0)
			return dl_err_set(reterr, -EIO, "store '%s': make it 0600: %s", p,
			    strerror(errno));
		log_notice("event=store_mode path=%s msg=\"was mode %04o, now %04o\"", p,
		    (unsigned)(st.st_mode & 07777), (unsigned)(st.st_mode & 0600));
	}
	return 0;
}

int
store_sqlite_open(const char *path, struct store **ret, struct dl_err *reterr)
{
	struct sqlite_store *ss = calloc(1, sizeof(*ss));
	int r;

	if (!ss)
		return -ENOMEM;
	ss->base.ops = &sqlite_ops;
	ss->base.rd = &ss->conn.rd;
	(void)snprintf(ss->path, sizeof(ss->path), "%s", path);
	if ((r = secure_files(path, reterr)) < 0 ||
	    (r = conn_open(&ss->conn, path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
	    reterr)) < 0 ||
	    (r = store_sqlite_cache_open(&ss->conn, false)) < 0 ||
	    (r = store_sqlite_rowlog_open(&ss->conn)) < 0 ||
	    /* The version first: a store from a newer bootsvc must be left as it is. */
	    (r = store_sqlite_schema_check(ss->conn.db, path, reterr)) < 0 ||
	    /* WAL: readers (our reader threads, nodectl-side tools, backups) never block the
	     * loop's writes; synchronous=NORMAL is durable across a bootsvc crash, which is
	     * what we need. An 8 MiB page cache holds the whole store of 10,000 nodes (about
	     * 2.5 MiB), so a script request never reads a page back from the file (the
	     * default is 2 MiB). Foreign keys stay off while the schema changes (SQLite's
	     * advice for altering tables), on for everything after. */
	    (r = exec(ss->conn.db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
	    "PRAGMA foreign_keys=OFF; PRAGMA cache_size=-8192;", path, reterr)) < 0 ||
	    (r = store_sqlite_schema_upgrade(ss->conn.db, path, reterr)) < 0 ||
	    (r = exec(ss->conn.db, "PRAGMA foreign_keys=ON;", path, reterr)) < 0 ||
	    (strcmp(path, ":memory:") != 0 &&
	    (r = store_sqlite_ckpt_start(&ss->ckpt, ss->conn.db, path, reterr)) < 0)) {
		store_close(&ss->base);
		return r;
	}
	*ret = &ss->base;
	return 0;
}

static void
sqlite_close(struct store *s)
{
	struct sqlite_store *ss = sqlite_store_of(s);

	store_sqlite_ckpt_stop(ss->ckpt, ss->conn.db);
	store_sqlite_cache_close(&ss->conn);
	store_sqlite_rowlog_close(&ss->conn); /* the readers are closed (store.h) */
	conn_done(&ss->conn);
	free(ss);
}

/* Transactions: store.c keeps the nesting, these only speak SQL. Savepoints are named by
 * level so a ROLLBACK TO can never reach past its own. */
static int
tx_exec(struct store *s, const char *sql, struct dl_err *reterr)
{
	sqlite3 *db = sqlite_writer(s)->db;

	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return dl_err_set(reterr, -EIO, "%s: %s", sql, sqlite3_errmsg(db));
	return 0;
}

/* BEGIN, COMMIT and ROLLBACK as statements prepared once: every pass of the HTTP loop is
 * a batch (store_batch_begin()), and sqlite3_exec() parsed both words again each time,
 * a few per cent of a script answer's CPU (docs/benchmarks.md, per-node scripts). */
static int
conn_step(struct sqlite_conn *c, enum sqlite_stmt id, const char *sql, struct dl_err *reterr)
{
	sqlite3_stmt *st = store_sqlite_stmt(c, id, sql);
	int rc;

	if (!st)
		return dl_err_set(reterr, -EIO, "%s: %s", sql, sqlite3_errmsg(c->db));
	if ((rc = sqlite3_step(st)) != SQLITE_DONE) {
		(void)dl_err_set(reterr, -EIO, "%s: %s", sql, sqlite3_errmsg(c->db));
		sqlite3_reset(st);
		return -EIO;
	}
	sqlite3_reset(st);
	return 0;
}

static int
tx_step(struct store *s, enum sqlite_stmt id, const char *sql, struct dl_err *reterr)
{
	return conn_step(sqlite_writer(s), id, sql, reterr);
}

static int
sqlite_begin(struct store *s, bool write_now, struct dl_err *reterr)
{
	/* IMMEDIATE takes the write lock now, so a later write cannot fail with BUSY on
	 * upgrading a read lock; a batch mostly reads and takes it at its first write. */
	int r = write_now ? tx_step(s, S_TX_BEGIN_IMMEDIATE, "BEGIN IMMEDIATE", reterr) :
	    tx_step(s, S_TX_BEGIN, "BEGIN", reterr);

	if (r == 0) {
		store_sqlite_cache_tx(sqlite_writer(s), true);
		store_sqlite_rowlog_begin(sqlite_writer(s));
	}
	return r;
}

/* The node rows the transaction wrote are read back before the COMMIT, in its snapshot,
 * and put in the readers' log as one group, which leaves it if the COMMIT fails
 * (store_sqlite_rowlog.c). */
static int
sqlite_commit(struct store *s, struct dl_err *reterr)
{
	struct sqlite_conn *c = sqlite_writer(s);
	struct rowlog_group *g = store_sqlite_rowlog_prepare(c);
	int r = tx_step(s, S_TX_COMMIT, "COMMIT", reterr);

	store_sqlite_rowlog_publish(c, g, r == 0);
	if (r == 0)
		store_sqlite_cache_tx(c, false);
	return r; /* a failed one is rolled back next (store.c) */
}

static void
sqlite_rollback(struct store *s)
{
	/* fails only when SQLite already rolled back on its own: nothing left to undo */
	(void)tx_step(s, S_TX_ROLLBACK, "ROLLBACK", NULL);
	store_sqlite_cache_tx(sqlite_writer(s), false);
	store_sqlite_rowlog_begin(sqlite_writer(s)); /* nothing of it was committed */
	store_sqlite_cache_drop_all(sqlite_writer(s)); /* it kept rows the rollback undid */
}

static int
sqlite_savepoint(struct store *s, unsigned level, struct dl_err *reterr)
{
	char sql[32];

	(void)snprintf(sql, sizeof(sql), "SAVEPOINT tx%u", level);
	return tx_exec(s, sql, reterr);
}

static int
sqlite_release(struct store *s, unsigned level, struct dl_err *reterr)
{
	char sql[32];

	(void)snprintf(sql, sizeof(sql), "RELEASE tx%u", level);
	return tx_exec(s, sql, reterr);
}

static void
sqlite_rollback_to(struct store *s, unsigned level)
{
	char sql[48];

	(void)snprintf(sql, sizeof(sql), "ROLLBACK TO tx%u; RELEASE tx%u", level, level);
	(void)tx_exec(s, sql, NULL); /* as sqlite_rollback */
	store_sqlite_cache_drop_all(sqlite_writer(s));
	store_sqlite_rowlog_unsure(sqlite_writer(s));
}

/* TRUNCATE with no busy wait: a reader's snapshot makes it copy what it can (as PASSIVE)
 * and return BUSY instead of stalling the loop for SQLITE_BUSY_MS. */
static int
sqlite_checkpoint(struct store *s, int64_t *ret_frames)
{
	sqlite3 *db = sqlite_writer(s)->db;
	int log = 0, done = 0, rc;

	sqlite3_busy_timeout(db, 0);
	rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &log, &done);
	sqlite3_busy_timeout(db, SQLITE_BUSY_MS);
	if (ret_frames)
		*ret_frames = log;
	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		return -EBUSY;
	if (rc != SQLITE_OK) {
		log_err("event=store_checkpoint msg=\"%s\"", sqlite3_errmsg(db));
		return -EIO;
	}
	return 0;
}

/* A reader: a read-only connection of its own on the same file. WAL lets it read the
 * last commit while the loop writes; each statement is reset after its rows are copied,
 * so no snapshot outlives a call and holds the WAL back from being checkpointed. */
static int
sqlite_reader_open(struct store *s, struct store_reader **ret, struct dl_err *reterr)
{
	struct sqlite_store *ss = sqlite_store_of(s);
	struct sqlite_conn *c;
	int r;

	if (!sqlite3_threadsafe())
		return dl_err_set(reterr, -ENOTSUP, "store '%s': this SQLite is built without "
		    "threads, so it cannot have readers", ss->path);
	if (strcmp(ss->path, ":memory:") == 0)
		return dl_err_set(reterr, -ENOTSUP, "store '%s': not a file readers can open",
		    ss->path);
	if (!(c = calloc(1, sizeof(*c))))
		return -ENOMEM;
	/* It keeps the rows it read as the writer does (store_sqlite_cache.c): the writer's
	 * commits show in its PRAGMA data_version, looked at once per batch. */
	if ((r = conn_open(c, ss->path, SQLITE_OPEN_READONLY, reterr)) < 0 ||
	    (r = exec(c->db, "PRAGMA cache_size=-8192;", ss->path, reterr)) < 0 ||
	    (r = store_sqlite_cache_open(c, true)) < 0) {
		store_sqlite_cache_close(c);
		conn_done(c);
		free(c);
		return r;
	}
	c->rowlog = ss->conn.rowlog; /* borrowed: the store outlives its readers */
	*ret = &c->rd;
	return 0;
}

/* A deferred BEGIN: the read transaction starts at the batch's first lookup, and the
 * cache looks at data_version once in it. A failed BEGIN leaves each lookup its own. */
static void
sqlite_reader_batch(struct store_reader *r, bool begin)
{
	struct sqlite_conn *c = sqlite_conn_of(r);

	if (begin) {
		if (conn_step(c, S_TX_BEGIN, "BEGIN", NULL) == 0)
			store_sqlite_cache_tx(c, true);
		return;
	}
	if (sqlite3_get_autocommit(c->db))
		return; /* none open */
	if (conn_step(c, S_TX_COMMIT, "COMMIT", NULL) < 0)
		(void)conn_step(c, S_TX_ROLLBACK, "ROLLBACK", NULL);
	store_sqlite_cache_tx(c, false);
}

static void
sqlite_reader_close(struct store_reader *r)
{
	struct sqlite_conn *c = sqlite_conn_of(r);

	store_sqlite_cache_close(c);
	conn_done(c);
	free(c);
}

static uint64_t
sqlite_checkpoints(struct store *s)
{
	return store_sqlite_ckpt_done(sqlite_store_of(s)->ckpt);
}

static const struct store_backend sqlite_ops = {
	.name = "sqlite",
	.embedded = true,
	.close = sqlite_close,
	.begin = sqlite_begin,
	.commit = sqlite_commit,
	.rollback = sqlite_rollback,
	.savepoint = sqlite_savepoint,
	.release = sqlite_release,
	.rollback_to = sqlite_rollback_to,
	.reader_open = sqlite_reader_open,
	.reader_close = sqlite_reader_close,
	.reader_batch = sqlite_reader_batch,
	.node_get = store_sqlite_node_get,
	.image_get = store_sqlite_image_get,
	.image_current = store_sqlite_image_current,
	.image_find_prefix = store_sqlite_image_find_prefix,
	.node_insert = store_sqlite_node_insert,
	.node_delete = store_sqlite_node_delete,
	.node_update = store_sqlite_node_update,
	.node_update_ctrl = store_sqlite_node_update_ctrl,
	.node_set_phase = store_sqlite_node_set_phase,
	.node_arm = store_sqlite_node_arm,
	.node_health_state_get = store_sqlite_node_health_state_get,
	.node_health_state_set = store_sqlite_node_health_state_set,
	.node_foreach = store_sqlite_node_foreach,
	.node_history = store_sqlite_event_history,
	.ip_used = store_sqlite_node_ip_used,
	.node_count_by_phase = store_sqlite_node_count_by_phase,
	.event_add = store_sqlite_event_add,
	.events_since = store_sqlite_event_since,
	.event_last_seq = store_sqlite_event_last_seq,
	.history_keep = store_sqlite_history_keep,
	.history_prune = store_sqlite_history_prune,
	.checkpoint = sqlite_checkpoint,
	.checkpoints = sqlite_checkpoints,
	.energy_get = store_sqlite_energy_get,
	.energy_put = store_sqlite_energy_put,
	.energy_image_add = store_sqlite_energy_image_add,
	.energy_foreach = store_sqlite_energy_foreach,
	.energy_image_foreach = store_sqlite_energy_image_foreach,
	.energy_nodes = store_sqlite_energy_nodes,
	.image_insert = store_sqlite_image_insert,
	.image_delete = store_sqlite_image_delete,
	.image_foreach = store_sqlite_image_foreach,
	.image_users = store_sqlite_image_users,
	.vm_host_put = store_sqlite_vm_host_put,
	.vm_host_get = store_sqlite_vm_host_get,
	.vm_host_delete = store_sqlite_vm_host_delete,
	.vm_host_foreach = store_sqlite_vm_host_foreach,
	.vm_domain_put = store_sqlite_vm_domain_put,
	.vm_domains_drop_stale = store_sqlite_vm_domains_drop_stale,
	.vm_domain_foreach = store_sqlite_vm_domain_foreach,
	.vm_plan_insert = store_sqlite_vm_plan_insert,
	.vm_step_insert = store_sqlite_vm_step_insert,
	.vm_plan_get = store_sqlite_vm_plan_get,
	.vm_plan_put = store_sqlite_vm_plan_put,
	.vm_plan_foreach = store_sqlite_vm_plan_foreach,
	.vm_step_put = store_sqlite_vm_step_put,
	.vm_step_foreach = store_sqlite_vm_step_foreach,
	.vm_plan_prune = store_sqlite_vm_plan_prune,
	.vm_drain_put = store_sqlite_vm_drain_put,
	.vm_drain_delete = store_sqlite_vm_drain_delete,
	.vm_drain_get = store_sqlite_vm_drain_get,
	.vm_drain_foreach = store_sqlite_vm_drain_foreach,
	.disk_put = store_sqlite_disk_put,
	.disk_get = store_sqlite_disk_get,
	.disk_delete = store_sqlite_disk_delete,
	.disk_foreach = store_sqlite_disk_foreach,
	.disk_persistent_put = store_sqlite_disk_persistent_put,
	.disk_persistent_delete = store_sqlite_disk_persistent_delete,
	.disk_persistent_get = store_sqlite_disk_persistent_get,
};
