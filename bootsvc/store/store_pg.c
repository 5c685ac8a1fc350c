/* SPDX-License-Identifier: MIT */
/* The PostgreSQL backend (issue 15): its connections (the loop's writer, read-only readers
 * for other threads), the writer's reconnect thread, its transactions and the write lock
 * every bootsvc on the database shares, and its table of operations.
 *
 * Statements run on the caller's thread, bounded by statement_timeout: the store
 * interface is synchronous and the boot path's reads take well under a millisecond on a
 * LAN. What may block for long, a connect to a server that is gone, runs on a thread of
 * the backend's own; until it has a new connection every call fails -EIO at once. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "store/store_pg.h"

static const struct store_backend pg_ops;

#define STR_(x) #x
#define STR(x) STR_(x)
#define LOCK_SQL "SELECT pg_advisory_xact_lock(" STR(STORE_PG_LOCK_KEY) ")"

static int64_t
mono_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
store_pg_param_text(struct pg_params *p, const char *v)
{
	assert(p->n < PG_MAX_PARAMS);
	p->v[p->n++] = v ? v : "";
}

void
store_pg_param_int64(struct pg_params *p, int64_t v)
{
	assert(p->n < PG_MAX_PARAMS);
	(void)snprintf(p->buf[p->n], sizeof(p->buf[p->n]), "%" PRId64, v);
	p->v[p->n] = p->buf[p->n];
	p->n++;
}

void
store_pg_param_double(struct pg_params *p, double v)
{
	assert(p->n < PG_MAX_PARAMS);
	/* %.17g: a double survives the round trip through text exactly */
	(void)snprintf(p->buf[p->n], sizeof(p->buf[p->n]), "%.17g", v);
	p->v[p->n] = p->buf[p->n];
	p->n++;
}

void
store_pg_params_cols(struct pg_params *p, const void *rec, const struct pg_col *cols,
    size_t n)
{
	for (size_t k = 0; k < n; k++) {
		const struct pg_col *col = &cols[k];
		const void *f = (const char *)rec + col->off;

		switch (col->type) {
		case PG_COL_TEXT:
			store_pg_param_text(p, col->empty_as && !*(const char *)f ?
			    col->empty_as : f);
			break;
		case PG_COL_BOOL:
			store_pg_param_int64(p, *(const bool *)f ? 1 : 0);
			break;
		case PG_COL_INT:
			store_pg_param_int64(p, *(const int *)f);
			break;
		case PG_COL_UINT:
			store_pg_param_int64(p, *(const unsigned *)f);
			break;
		case PG_COL_INT64:
			store_pg_param_int64(p, *(const int64_t *)f);
			break;
		}
	}
}

void
store_pg_copy_col(char *dst, size_t size, const PGresult *res, int row, int col)
{
	const char *t = PQgetvalue(res, row, col);
	size_t n = t ? strlen(t) : 0;

	if (n >= size)
		n = size - 1;
	if (n)
		memcpy(dst, t, n);
	dst[n] = '\0';
}

int64_t
store_pg_col_int64(const PGresult *res, int row, int col)
{
	const char *t = PQgetvalue(res, row, col);

	/* Our own columns: BIGINT or INTEGER as text, or a boolean "t"/"f". Anything else
	 * (NULL, "") reads as 0. */
	if (!t || !*t)
		return 0;
	if (t[0] == 't')
		return 1;
	if (t[0] == 'f')
		return 0;
	return strtoll(t, NULL, 10);
}

void
store_pg_read_cols(const PGresult *res, int row, int first, void *rec,
    const struct pg_col *cols, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		const struct pg_col *col = &cols[k];
		void *f = (char *)rec + col->off;
		int i = first + (int)k;

		switch (col->type) {
		case PG_COL_TEXT:
			store_pg_copy_col(f, col->size, res, row, i);
			break;
		case PG_COL_BOOL:
			*(bool *)f = store_pg_col_int64(res, row, i) != 0;
			break;
		case PG_COL_INT:
			*(int *)f = (int)store_pg_col_int64(res, row, i);
			break;
		case PG_COL_UINT:
			*(unsigned *)f = (unsigned)store_pg_col_int64(res, row, i);
			break;
		case PG_COL_INT64:
			*(int64_t *)f = store_pg_col_int64(res, row, i);
			break;
		}
	}
}

/* libpq prints server notices (a ROLLBACK with none open) to stderr by default: they
 * say nothing an admin needs, so they go to the debug log. */
static void
notice_quiet(void *arg, const char *msg)
{
	(void)arg;
	log_debug("event=store_pg_notice msg=\"%.*s\"", (int)strcspn(msg, "\n"), msg);
}

/* libpq's last message of db, one line, with the URL's password cut out should libpq
 * ever quote the URL (it does for a malformed one). */
static const char *
pg_errmsg(PGconn *db, const char *url, char *buf, size_t size)
{
	const char *m = db ? PQerrorMessage(db) : "out of memory";
	const char *auth = strstr(url, "://"), *at, *colon;
	char pw[256] = "";
	char *hit;

	(void)snprintf(buf, size, "%s", m);
	buf[strcspn(buf, "\n")] = '\0';
	if (auth && (at = strchr(auth + 3, '@')) && (colon = memchr(auth + 3, ':',
	    (size_t)(at - auth - 3))) && at - colon - 1 > 0 &&
	    (size_t)(at - colon - 1) < sizeof(pw)) {
		memcpy(pw, colon + 1, (size_t)(at - colon - 1));
		pw[at - colon - 1] = '\0';
		while ((hit = strstr(buf, pw)))
			memset(hit, '*', strlen(pw));
	}
	return buf;
}

/* A new connection to url, set up for the writer or for a reader: keepalives and
 * tcp_user_timeout so a silent peer is found, connect_timeout so a dead server costs a
 * bounded wait, statement_timeout so a call is bounded. The URL's own settings come last,
 * so an admin's override wins. */
static int
connect_url(const char *url, const char *safe, bool reader, PGconn **ret,
    struct dl_err *reterr)
{
	static const char *const kw[] = {
		"connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval",
		"keepalives_count", "tcp_user_timeout", "application_name", "dbname", NULL,
	};
	const char *val[] = {
		STR(STORE_PG_CONNECT_TIMEOUT_S), "1", "10", "5", "3",
		STR(STORE_PG_TCP_USER_TIMEOUT_MS), reader ? "bootsvc-reader" : "bootsvc", url,
		NULL,
	};
	char msg[512];
	PGconn *db = PQconnectdbParams(kw, val, 1);
	PGresult *res;
	bool ok;

	if (!db || PQstatus(db) != CONNECTION_OK) {
		dl_err_set(reterr, -EIO, "store '%s': %s", safe, pg_errmsg(db, url, msg,
		    sizeof(msg)));
		PQfinish(db);
		return -EIO;
	}
	(void)PQsetNoticeProcessor(db, notice_quiet, NULL);
	res = PQexec(db, reader ?
	    "SET statement_timeout = " STR(STORE_PG_STATEMENT_TIMEOUT_MS) ";"
	    "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY" :
	    "SET statement_timeout = " STR(STORE_PG_STATEMENT_TIMEOUT_MS));
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	PQclear(res);
	if (!ok) {
		dl_err_set(reterr, -EIO, "store '%s': setting up the session: %s", safe,
		    pg_errmsg(db, url, msg, sizeof(msg)));
		PQfinish(db);
		return -EIO;
	}
	*ret = db;
	return 0;
}

/* The reconnect thread of the writer: connect with backoff until it has a connection or
 * the store closes, then hand it over (the loop swaps it in, conn_ready). */
static void *
reconnect_main(void *arg)
{
	struct pg_store *ps = arg;
	struct backoff b = BACKOFF_INIT(STORE_PG_RECONNECT_MIN_MS, STORE_PG_RECONNECT_MAX_MS,
	    UINT64_MAX);
	unsigned attempts = 0;

	for (;;) {
		struct dl_err e = { 0 };
		PGconn *db = NULL;

		if (attempts++) {
			uint64_t delay = backoff_next(&b, 0);
			struct timespec until;

			(void)clock_gettime(CLOCK_MONOTONIC, &until);
			until.tv_sec += (time_t)(delay / 1000);
			until.tv_nsec += (long)(delay % 1000) * 1000000;
			if (until.tv_nsec >= 1000000000) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000;
			}
			pthread_mutex_lock(&ps->mu);
			while (!ps->stop && pthread_cond_timedwait(&ps->cond, &ps->mu, &until) == 0)
				;
			pthread_mutex_unlock(&ps->mu);
		}
		pthread_mutex_lock(&ps->mu);
		if (ps->stop) {
			ps->thread_done = true;
			pthread_mutex_unlock(&ps->mu);
			return NULL;
		}
		pthread_mutex_unlock(&ps->mu);
		if (connect_url(ps->url, ps->safe, false, &db, &e) == 0) {
			pthread_mutex_lock(&ps->mu);
			ps->fresh = db;
			ps->thread_done = true;
			pthread_mutex_unlock(&ps->mu);
			log_info("event=store_pg_reconnect store=%s attempts=%u msg=\"connected, "
			    "swapped in at the next call outside a transaction\"", ps->safe,
			    attempts);
			return NULL;
		}
		log_debug("event=store_pg_reconnect store=%s attempt=%u msg=\"%s\"", ps->safe,
		    attempts, e.msg);
	}
}

/* c's connection broke (found by a failed call): log it once, and for the writer start
 * the reconnect thread. */
static void
conn_lost(struct pg_conn *c)
{
	struct pg_store *ps = c->owner;
	char msg[512];

	if (!c->lost_logged) {
		c->lost_logged = true;
		log_err("event=store_pg_lost store=%s conn=%s msg=\"%s\" err=EIO, will reconnect",
		    ps ? ps->safe : "reader", ps ? "writer" : "reader",
		    pg_errmsg(c->db, c->url, msg, sizeof(msg)));
	}
	if (!ps || ps->thread_running)
		return;
	ps->thread_done = false;
	if (pthread_create(&ps->thread, NULL, reconnect_main, ps) != 0) {
		log_err("event=store_pg_lost store=%s msg=\"cannot start the reconnect thread, "
		    "will retry\"", ps->safe);
		return;
	}
	ps->thread_running = true;
}

static bool
conn_ok(const struct pg_conn *c)
{
	return c->db && PQstatus(c->db) == CONNECTION_OK;
}

static void
conn_swap(struct pg_conn *c, PGconn *db)
{
	PQfinish(c->db);
	c->db = db;
	memset(c->prepared, 0, sizeof(c->prepared)); /* prepared again on first use */
	c->lost_logged = false;
}

/* 0 when c can run a statement now; -EIO at once while its connection is lost. The
 * writer swaps in the reconnect thread's connection outside a transaction; a reader
 * connects again itself (it is on a thread of its own), at most once per backoff. */
static int
conn_ready(struct pg_conn *c)
{
	struct pg_store *ps = c->owner;
	PGconn *fresh;

	if (conn_ok(c))
		return 0;
	if (!ps) {
		struct dl_err e = { 0 };
		PGconn *db;
		int64_t now = mono_ms();

		if (now < c->retry_at_ms)
			return -EIO;
		if (connect_url(c->url, "reader", true, &db, &e) < 0) {
			c->retry_at_ms = now + (int64_t)backoff_next(&c->retry, 0);
			return -EIO;
		}
		conn_swap(c, db);
		c->retry = (struct backoff)BACKOFF_INIT(STORE_PG_RECONNECT_MIN_MS,
		    STORE_PG_RECONNECT_MAX_MS, UINT64_MAX);
		return 0;
	}
	if (ps->in_tx)
		return -EIO; /* the transaction is lost with its connection */
	if (!ps->thread_running) {
		conn_lost(c);
		return -EIO;
	}
	pthread_mutex_lock(&ps->mu);
	fresh = ps->fresh;
	ps->fresh = NULL;
	pthread_mutex_unlock(&ps->mu);
	if (!fresh)
		return -EIO;
	(void)pthread_join(ps->thread, NULL);
	ps->thread_running = false;
	conn_swap(c, fresh);
	log_notice("event=store_pg_reconnected store=%s", ps->safe);
	return 0;
}

/* A failed result of c: the errno it means, logged unless it is the data's (a
 * conflict) or the lost connection's (logged once by conn_lost). */
static int
result_errno(struct pg_conn *c, PGresult *res, enum pg_stmt id)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	char msg[512];

	if (!conn_ok(c)) {
		conn_lost(c);
		return -EIO;
	}
	if (state && strcmp(state, "23505") == 0)
		return -EEXIST;
	if (state && strcmp(state, "23503") == 0)
		return -ENOENT;
	/* 25P02: an earlier failure aborted the transaction; that one was logged */
	if (!state || strcmp(state, "25P02") != 0)
		log_err("event=store_pg_stmt stmt=%d state=%s msg=\"%s\"", (int)id,
		    state ? state : "-", pg_errmsg(c->db, c->url, msg, sizeof(msg)));
	return -EIO;
}

/* A reader's batch: one transaction, one snapshot for its lookups (pg_reader_batch). */
#define READER_BEGIN "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"

/* A reader's batch whose statement failed (bad input, a statement timeout): PostgreSQL
 * aborts the whole transaction, and every lookup after it in the batch would fail too
 * ("current transaction is aborted"), each request then handed to the loop for nothing.
 * The batch goes on in a new transaction: its snapshot is newer, which each request's own
 * lookups, all made after this, see whole. */
static void
reader_batch_recover(struct pg_conn *c)
{
	PGresult *res;

	if (c->owner || !c->in_batch || !c->db ||
	    PQtransactionStatus(c->db) != PQTRANS_INERROR)
		return;
	res = PQexec(c->db, "ROLLBACK; " READER_BEGIN);
	c->in_batch = PQresultStatus(res) == PGRES_COMMAND_OK;
	PQclear(res);
}

int
store_pg_run(struct pg_conn *c, enum pg_stmt id, const char *sql,
    const struct pg_params *p, PGresult **ret)
{
	char name[16];
	PGresult *res;
	ExecStatusType st;
	int r;

	if ((r = conn_ready(c)) < 0)
		return r;
	(void)snprintf(name, sizeof(name), "s%d", (int)id);
	if (!c->prepared[id]) {
		res = PQprepare(c->db, name, sql, 0, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			r = result_errno(c, res, id);
			PQclear(res);
			reader_batch_recover(c);
			return r == -EIO ? r : -EIO;
		}
		PQclear(res);
		c->prepared[id] = true;
	}
	res = PQexecPrepared(c->db, name, p ? p->n : 0, p ? p->v : NULL, NULL, NULL, 0);
	st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		r = result_errno(c, res, id);
		PQclear(res);
		reader_batch_recover(c);
		return r;
	}
	if (ret)
		*ret = res;
	else
		PQclear(res);
	return 0;
}

int
store_pg_run_changed(struct pg_conn *c, enum pg_stmt id, const char *sql,
    const struct pg_params *p)
{
	PGresult *res;
	int r = store_pg_run(c, id, sql, p, &res);

	if (r < 0)
		return r;
	r = strcmp(PQcmdTuples(res), "0") == 0 || !*PQcmdTuples(res) ? -ENOENT : 0;
	PQclear(res);
	return r;
}

/* sql (no parameters, one or more statements) on the writer: 0 and, if ret, the last
 * statement's result (the caller PQclear()s it), or -EIO with the server's message in
 * reterr. */
static int
tx_query(struct pg_store *ps, const char *sql, PGresult **ret, struct dl_err *reterr)
{
	struct pg_conn *c = &ps->conn;
	PGresult *res;
	ExecStatusType st;
	char msg[512];

	if (!conn_ok(c)) {
		if (c->db)
			conn_lost(c);
		return dl_err_set(reterr, -EIO, "%s: the connection to the database is lost",
		    sql);
	}
	res = PQexec(c->db, sql);
	st = PQresultStatus(res);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		if (ret)
			*ret = res;
		else
			PQclear(res);
		return 0;
	}
	PQclear(res);
	dl_err_set(reterr, -EIO, "%s: %s", sql, pg_errmsg(c->db, ps->url, msg, sizeof(msg)));
	if (!conn_ok(c))
		conn_lost(c);
	return -EIO;
}

static int
tx_exec(struct pg_store *ps, const char *sql, struct dl_err *reterr)
{
	return tx_query(ps, sql, NULL, reterr);
}

/* The write lock, after prefix ("BEGIN; " or "") in the same round trip, and for a
 * leader's writes (store_fence()) the fencing check with it: the generation in the
 * cluster room's `cluster_leader` row (cluster_pg.c creates it and bumps it when a leader
 * takes over) must still be the store's token. FOR SHARE holds the row until this
 * transaction ends, so a takeover's bump waits for it: a write that passed the check
 * commits before the new leader starts, and reads what it wrote (docs/scale-out.md).
 * 0, -ESTALE refused (fence_refused set), -EIO. */
static int
lock_write(struct pg_store *ps, const char *prefix, struct dl_err *reterr)
{
	int64_t token = ps->base.fence_token, gen;
	PGresult *res = NULL;
	char sql[192];
	int r;

	(void)snprintf(sql, sizeof(sql), "%s" LOCK_SQL "%s", prefix, token ?
	    ", (SELECT generation FROM cluster_leader WHERE id = 1 FOR SHARE)" : "");
	if (!token)
		return tx_exec(ps, sql, reterr);
	if ((r = tx_query(ps, sql, &res, reterr)) < 0)
		return r;
	gen = PQntuples(res) == 1 && PQnfields(res) == 2 && !PQgetisnull(res, 0, 1) ?
	    strtoll(PQgetvalue(res, 0, 1), NULL, 10) : 0;
	PQclear(res);
	if (gen == token)
		return 0;
	ps->base.fence_refused = true;
	/* Logged here, once, whichever write asked: a rare event an admin must see. */
	log_warning("event=store_fenced store=%s msg=\"write refused: this instance leads as "
	    "generation %" PRId64 " but the cluster's leader is of generation %" PRId64 " now\"",
	    ps->safe, token, gen);
	return dl_err_set(reterr, -ESTALE, "write refused: a newer leader of the cluster took "
	    "over (generation %" PRId64 ", this instance's %" PRId64 ")", gen, token);
}

int
store_pg_write_begin(struct store *s, bool *ret_own)
{
	struct pg_store *ps = pg_store_of(s);
	struct dl_err e = { 0 };
	int r;

	*ret_own = false;
	if (ps->in_tx) {
		if (ps->locked)
			return 0;
		if ((r = lock_write(ps, "", &e)) < 0) {
			if (r != -ESTALE) /* lock_write() said why */
				log_err("event=store_pg_lock store=%s msg=\"%s\"", ps->safe, e.msg);
			return r;
		}
		ps->locked = true;
		return 0;
	}
	if ((r = conn_ready(&ps->conn)) < 0)
		return r;
	if ((r = lock_write(ps, "BEGIN; ", &e)) < 0) {
		if (r != -ESTALE)
			log_err("event=store_pg_lock store=%s msg=\"%s\"", ps->safe, e.msg);
		(void)tx_exec(ps, "ROLLBACK", NULL); /* BEGIN may have run */
		return r;
	}
	ps->in_tx = ps->locked = true;
	*ret_own = true;
	return 0;
}

int
store_pg_write_refused(struct dl_err *reterr, int r)
{
	return dl_err_set(reterr, r, r == -ESTALE ? "store: write refused: a newer leader of "
	    "the cluster took over (the fencing token)" : "store: no write lock");
}

/* COMMIT on an aborted transaction answers with the tag ROLLBACK, not an error. */
static int
tx_commit(struct pg_store *ps, struct dl_err *reterr)
{
	struct pg_conn *c = &ps->conn;
	PGresult *res;
	bool ok;
	char msg[512];

	if (!conn_ok(c))
		return dl_err_set(reterr, -EIO, "COMMIT: the connection to the database is lost");
	res = PQexec(c->db, "COMMIT");
	ok = PQresultStatus(res) == PGRES_COMMAND_OK && strcmp(PQcmdStatus(res), "COMMIT") == 0;
	PQclear(res);
	if (ok)
		return 0;
	if (!conn_ok(c))
		conn_lost(c);
	return dl_err_set(reterr, -EIO, "COMMIT: %s", *PQerrorMessage(c->db) ?
	    pg_errmsg(c->db, ps->url, msg, sizeof(msg)) :
	    "the transaction was aborted by a failed statement");
}

int
store_pg_write_end(struct store *s, bool own, int r)
{
	struct pg_store *ps = pg_store_of(s);
	struct dl_err e = { 0 };

	if (!own)
		return r;
	if (r == -EIO)
		(void)tx_exec(ps, "ROLLBACK", NULL);
	else if (tx_commit(ps, &e) < 0) {
		log_err("event=store_pg_commit store=%s msg=\"%s\"", ps->safe, e.msg);
		(void)tx_exec(ps, "ROLLBACK", NULL);
		r = -EIO;
	}
	ps->in_tx = ps->locked = false;
	return r;
}

int
store_pg_write_risky(struct pg_conn *c, enum pg_stmt id, const char *sql,
    const struct pg_params *p, PGresult **ret)
{
	struct pg_store *ps = c->owner;
	int r;

	if (tx_exec(ps, "SAVEPOINT pg_op", NULL) < 0)
		return -EIO;
	if ((r = store_pg_run(c, id, sql, p, ret)) < 0) {
		(void)tx_exec(ps, "ROLLBACK TO SAVEPOINT pg_op; RELEASE SAVEPOINT pg_op", NULL);
		return r;
	}
	if (tx_exec(ps, "RELEASE SAVEPOINT pg_op", NULL) < 0) {
		if (ret)
			*ret = (PQclear(*ret), NULL);
		return -EIO;
	}
	return 0;
}

/* ---- the store: open, close, transactions, readers ---- */

static int
conn_init(struct pg_conn *c, struct pg_store *owner, const char *url)
{
	c->rd.ops = &pg_ops;
	c->owner = owner;
	c->url = url;
	c->retry = (struct backoff)BACKOFF_INIT(STORE_PG_RECONNECT_MIN_MS,
	    STORE_PG_RECONNECT_MAX_MS, UINT64_MAX);
	return 0;
}

int
store_pg_check(const char *url, const char *safe, struct dl_err *reterr)
{
	PQconninfoOption *o;
	char *msg = NULL;

	if (strlen(url) >= MAX_PG_URL)
		return dl_err_set(reterr, -ENAMETOOLONG, "store '%s': URL longer than %d", safe,
		    MAX_PG_URL - 1);
	o = PQconninfoParse(url, &msg);
	if (!o) {
		/* libpq's message may quote the URL, password and all: not repeated. */
		PQfreemem(msg);
		return dl_err_set(reterr, -EINVAL, "store '%s': not a connection URI libpq "
		    "accepts", safe);
	}
	PQconninfoFree(o);
	return 0;
}

int
store_pg_open(const char *url, const char *safe, struct store **ret, struct dl_err *reterr)
{
	struct pg_store *ps;
	int r;

	if (strlen(url) >= MAX_PG_URL)
		return dl_err_set(reterr, -ENAMETOOLONG, "store '%s': URL longer than %d", safe,
		    MAX_PG_URL - 1);
	if (!(ps = calloc(1, sizeof(*ps))))
		return -ENOMEM;
	ps->base.ops = &pg_ops;
	ps->base.rd = &ps->conn.rd;
	(void)snprintf(ps->url, sizeof(ps->url), "%s", url);
	(void)snprintf(ps->safe, sizeof(ps->safe), "%s", safe);
	(void)conn_init(&ps->conn, ps, ps->url);
	pthread_mutex_init(&ps->mu, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&ps->cond, &ca);
		pthread_condattr_destroy(&ca);
	}
	if ((r = connect_url(ps->url, ps->safe, false, &ps->conn.db, reterr)) < 0 ||
	    (r = store_pg_schema_upgrade(ps->conn.db, ps->safe, reterr)) < 0) {
		store_close(&ps->base);
		return r;
	}
	log_info("event=store_open store=%s backend=postgresql version=%d", ps->safe,
	    STORE_PG_SCHEMA_VERSION);
	*ret = &ps->base;
	return 0;
}

static void
pg_close(struct store *s)
{
	struct pg_store *ps = pg_store_of(s);

	if (ps->thread_running) {
		pthread_mutex_lock(&ps->mu);
		ps->stop = true;
		pthread_cond_broadcast(&ps->cond);
		pthread_mutex_unlock(&ps->mu);
		(void)pthread_join(ps->thread, NULL);
	}
	PQfinish(ps->fresh);
	PQfinish(ps->conn.db); /* an open transaction is rolled back by the server */
	pthread_cond_destroy(&ps->cond);
	pthread_mutex_destroy(&ps->mu);
	explicit_bzero(ps->url, sizeof(ps->url)); /* it holds the password */
	free(ps);
}

static int
pg_begin(struct store *s, bool write_now, struct dl_err *reterr)
{
	struct pg_store *ps = pg_store_of(s);
	int r;

	if (conn_ready(&ps->conn) < 0)
		return dl_err_set(reterr, -EIO, "BEGIN: the connection to the database is lost");
	/* A transaction takes the write lock at once (the contract's "takes the write
	 * lock when it begins"); a batch at its first write (store_pg_write_begin). */
	r = write_now ? lock_write(ps, "BEGIN; ", reterr) : tx_exec(ps, "BEGIN", reterr);
	if (r < 0) {
		(void)tx_exec(ps, "ROLLBACK", NULL); /* BEGIN may have run */
		return r;
	}
	ps->in_tx = true;
	ps->locked = write_now;
	return 0;
}

static int
pg_commit(struct store *s, struct dl_err *reterr)
{
	struct pg_store *ps = pg_store_of(s);
	int r = tx_commit(ps, reterr);

	if (r == 0)
		ps->in_tx = ps->locked = false;
	return r; /* on failure store.c rolls back */
}

static void
pg_rollback(struct store *s)
{
	struct pg_store *ps = pg_store_of(s);

	if (conn_ok(&ps->conn))
		(void)tx_exec(ps, "ROLLBACK", NULL); /* nothing left to undo if it fails */
	ps->in_tx = ps->locked = false;
}

/* A savepoint is a transaction begun inside another: it takes the write lock now as a
 * top-level one does, and before the savepoint, since a lock taken inside a
 * subtransaction goes when that one is rolled back. */
static int
pg_savepoint(struct store *s, unsigned level, struct dl_err *reterr)
{
	struct pg_store *ps = pg_store_of(s);
	char sql[32];
	int r;

	if (!ps->locked && (r = lock_write(ps, "", reterr)) < 0)
		return r;
	ps->locked = true;
	(void)snprintf(sql, sizeof(sql), "SAVEPOINT tx%u", level);
	return tx_exec(ps, sql, reterr);
}

static int
pg_release(struct store *s, unsigned level, struct dl_err *reterr)
{
	char sql[32];

	(void)snprintf(sql, sizeof(sql), "RELEASE SAVEPOINT tx%u", level);
	return tx_exec(pg_store_of(s), sql, reterr);
}

static void
pg_rollback_to(struct store *s, unsigned level)
{
	char sql[64];

	(void)snprintf(sql, sizeof(sql), "ROLLBACK TO SAVEPOINT tx%u; RELEASE SAVEPOINT tx%u",
	    level, level);
	(void)tx_exec(pg_store_of(s), sql, NULL); /* as pg_rollback */
}

/* SQLite's WAL checkpoint has no counterpart: the server runs its own. */
static int
pg_checkpoint(struct store *s, int64_t *ret_frames)
{
	(void)s;
	if (ret_frames)
		*ret_frames = 0;
	return 0;
}

/* A reader: a read-only connection of its own (default_transaction_read_only), used from
 * its own thread. Each call runs in its own implicit transaction, so it sees committed
 * state only and never waits for the writer (MVCC). */
static int
pg_reader_open(struct store *s, struct store_reader **ret, struct dl_err *reterr)
{
	struct pg_store *ps = pg_store_of(s);
	struct pg_conn *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	(void)conn_init(c, NULL, ps->url);
	if ((r = connect_url(ps->url, ps->safe, true, &c->db, reterr)) < 0) {
		free(c);
		return r;
	}
	*ret = &c->rd;
	return 0;
}

/* A reader's batch: one REPEATABLE READ transaction, so its lookups share the snapshot
 * of the first. One that cannot begin (the connection lost) leaves each lookup its own,
 * and a lost one ends with its connection. */
static void
pg_reader_batch(struct store_reader *r, bool begin)
{
	struct pg_conn *c = pg_conn_of(r);
	PGresult *res;

	if (begin == c->in_batch || (begin && conn_ready(c) < 0) || !c->db)
		return;
	res = PQexec(c->db, begin ? READER_BEGIN : "COMMIT");
	c->in_batch = begin && PQresultStatus(res) == PGRES_COMMAND_OK;
	PQclear(res);
}

static void
pg_reader_close(struct store_reader *r)
{
	struct pg_conn *c = pg_conn_of(r);

	PQfinish(c->db);
	free(c);
}

static const struct store_backend pg_ops = {
	.name = "postgresql",
	.close = pg_close,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.savepoint = pg_savepoint,
	.release = pg_release,
	.rollback_to = pg_rollback_to,
	.reader_open = pg_reader_open,
	.reader_close = pg_reader_close,
	.reader_batch = pg_reader_batch,
	.node_get = store_pg_node_get,
	.image_get = store_pg_image_get,
	.image_current = store_pg_image_current,
	.image_find_prefix = store_pg_image_find_prefix,
	.node_insert = store_pg_node_insert,
	.node_delete = store_pg_node_delete,
	.node_update = store_pg_node_update,
	.node_update_ctrl = store_pg_node_update_ctrl,
	.node_set_phase = store_pg_node_set_phase,
	.node_arm = store_pg_node_arm,
	.node_health_state_get = store_pg_node_health_state_get,
	.node_health_state_set = store_pg_node_health_state_set,
	.node_foreach = store_pg_node_foreach,
	.node_history = store_pg_event_history,
	.ip_used = store_pg_node_ip_used,
	.node_count_by_phase = store_pg_node_count_by_phase,
	.event_add = store_pg_event_add,
	.events_since = store_pg_event_since,
	.event_last_seq = store_pg_event_last_seq,
	.history_keep = store_pg_history_keep,
	.history_prune = store_pg_history_prune,
	.checkpoint = pg_checkpoint,
	.energy_get = store_pg_energy_get,
	.energy_put = store_pg_energy_put,
	.energy_image_add = store_pg_energy_image_add,
	.energy_foreach = store_pg_energy_foreach,
	.energy_image_foreach = store_pg_energy_image_foreach,
	.energy_nodes = store_pg_energy_nodes,
	.image_insert = store_pg_image_insert,
	.image_delete = store_pg_image_delete,
	.image_foreach = store_pg_image_foreach,
	.image_users = store_pg_image_users,
	.vm_host_put = store_pg_vm_host_put,
	.vm_host_get = store_pg_vm_host_get,
	.vm_host_delete = store_pg_vm_host_delete,
	.vm_host_foreach = store_pg_vm_host_foreach,
	.vm_domain_put = store_pg_vm_domain_put,
	.vm_domains_drop_stale = store_pg_vm_domains_drop_stale,
	.vm_domain_foreach = store_pg_vm_domain_foreach,
	.vm_plan_insert = store_pg_vm_plan_insert,
	.vm_step_insert = store_pg_vm_step_insert,
	.vm_plan_get = store_pg_vm_plan_get,
	.vm_plan_put = store_pg_vm_plan_put,
	.vm_plan_foreach = store_pg_vm_plan_foreach,
	.vm_step_put = store_pg_vm_step_put,
	.vm_step_foreach = store_pg_vm_step_foreach,
	.vm_plan_prune = store_pg_vm_plan_prune,
	.vm_drain_put = store_pg_vm_drain_put,
	.vm_drain_delete = store_pg_vm_drain_delete,
	.vm_drain_get = store_pg_vm_drain_get,
	.vm_drain_foreach = store_pg_vm_drain_foreach,
	.disk_put = store_pg_disk_put,
	.disk_get = store_pg_disk_get,
	.disk_delete = store_pg_disk_delete,
	.disk_foreach = store_pg_disk_foreach,
	.disk_persistent_put = store_pg_disk_persistent_put,
	.disk_persistent_delete = store_pg_disk_persistent_delete,
	.disk_persistent_get = store_pg_disk_persistent_get,
};
