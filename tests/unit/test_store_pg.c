/* SPDX-License-Identifier: MIT */
/* What only the PostgreSQL store has (bootsvc/store/store_pg*.c, issue 15), against a real
 * server: two stores on one database at once (two bootsvc), whose writes the advisory
 * lock serialises and whose history seqs commit in order; a connection killed under a
 * store, and the server stopped and started again, cost calls -EIO fast and are
 * reconnected; the password is in no message; a newer schema is refused untouched; two
 * stores opening a new database at once create it once; a failed statement inside a
 * transaction leaves it usable; a superseded leader's writes are refused by the fencing
 * token.
 *
 * PostgreSQL only: tests/run.sh runs it as unit/test_store_pg@pg with DL_TEST_PG (and
 * DL_TEST_PG_DIR, DL_TEST_PG_BIN to stop and start that server). Without them it fails
 * saying so, never skips. Times are measured and printed, never asserted. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../bootsvc/store/store.h"
#include "../../bootsvc/store/store_pg.h"
#include "store_dir.h"

/* Polls for a reconnect: 300 x 100 ms, far past the backoff's 5 s ceiling. */
#define MAX_POLLS 300
#define POLL_US 100000

static int64_t
now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct node_rec
node(const char *name, const char *mac)
{
	struct node_rec n = { 0 };

	snprintf(n.name, sizeof(n.name), "%s", name);
	snprintf(n.mac, sizeof(n.mac), "%s", mac);
	memset(n.token, 'a', 64);
	strcpy(n.phase, "new");
	n.phase_at = n.created = 1000;
	return n;
}

static void
insert(struct store *s, const char *name, const char *mac)
{
	struct node_rec n = node(name, mac);
	struct dl_err e = { 0 };

	if (store_node_insert(s, &n, &e) != 0)
		fail_msg("insert %s: %s", name, e.msg);
}

/* sql on the fixture's database as the test's superuser. true with the first value in
 * ret ("" if none); false, it failed, with its error message in ret. */
static bool
admin_try(const char *url, const char *sql, char *ret, size_t size)
{
	PGconn *db = PQconnectdb(url);
	PGresult *res;
	bool ok;

	if (PQstatus(db) != CONNECTION_OK)
		fail_msg("admin connect: %s", PQerrorMessage(db));
	res = PQexec(db, sql);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;
	snprintf(ret, size, "%s", !ok ? PQresultErrorMessage(res) :
	    PQntuples(res) > 0 ? PQgetvalue(res, 0, 0) : "");
	PQclear(res);
	PQfinish(db);
	return ok;
}

/* The same, failing the test if sql fails; the first value into ret (NULL: not wanted). */
static void
admin_on(const char *url, const char *sql, char *ret, size_t size)
{
	char buf[1024];

	if (!admin_try(url, sql, buf, sizeof(buf)))
		fail_msg("%s: %s", sql, buf);
	if (ret)
		snprintf(ret, size, "%s", buf);
}

/* B's write on a thread of its own: it waits for A's write lock. */
struct writer {
	struct store *s;
	int r;
	int64_t seq;
	volatile bool done;
};

static void *
writer_main(void *arg)
{
	struct writer *w = arg;

	w->r = store_event_add(w->s, "nb", "power-on", "from B", 2);
	w->seq = store_event_last_seq(w->s);
	w->done = true;
	return NULL;
}

struct seqs {
	int64_t seq[8];
	char reason[8][MAX_REASON];
	size_t n;
};

static int
seq_one(const struct event_rec *e, void *userdata)
{
	struct seqs *q = userdata;

	if (q->n < 8) {
		q->seq[q->n] = e->seq;
		snprintf(q->reason[q->n], sizeof(q->reason[q->n]), "%s", e->reason);
		q->n++;
	}
	return 0;
}

/* Two stores on one database (two bootsvc): a transaction on A holds B's write until A
 * commits, and the history seqs follow the commit order, so a subscriber reading
 * seq > since never misses a row. */
static void
test_two_stores_write_lock(void **state)
{
	struct store_dir *d = *state;
	struct store *b = NULL;
	struct dl_err e = { 0 };
	struct writer w = { 0 };
	struct seqs q = { .n = 0 };
	pthread_t t;
	int64_t t0;

	if (store_open(d->path, &b, &e) < 0)
		fail_msg("open B: %s", e.msg);
	insert(d->s, "na", "52:54:00:00:0a:01");
	insert(b, "nb", "52:54:00:00:0a:02");

	assert_int_equal(store_begin(d->s), 0);
	assert_int_equal(store_event_add(d->s, "na", "power-on", "from A", 1), 0);
	w.s = b;
	assert_int_equal(pthread_create(&t, NULL, writer_main, &w), 0);
	usleep(300000);
	/* B cannot have written while A holds the lock (a B that does not wait would be
	 * done by now; one that is slow to start passes too, never fails wrongly) */
	assert_false(w.done);
	t0 = now_ms();
	assert_int_equal(store_commit(d->s), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	print_message("B's write went through %lld ms after A's commit\n",
	    (long long)(now_ms() - t0));
	assert_int_equal(w.r, 0);

	/* seq order is commit order: A's row first, then B's */
	assert_int_equal(store_events_since(d->s, 0, SIZE_MAX, seq_one, &q), 0);
	assert_int_equal(q.n, 2);
	assert_string_equal(q.reason[0], "from A");
	assert_string_equal(q.reason[1], "from B");
	assert_true(q.seq[0] < q.seq[1]);
	assert_int_equal(w.seq, q.seq[1]);
	/* and each store sees the other's rows */
	{
		struct node_rec n;

		assert_int_equal(store_node_get(d->s, "nb", &n), 0);
		assert_int_equal(store_node_get(b, "na", &n), 0);
	}
	store_close(b);
}

/* A failed statement inside a transaction leaves it usable (the contract; PostgreSQL
 * aborts a transaction on any error, so the backend avoids or contains them). */
static void
test_failure_keeps_transaction(void **state)
{
	struct store_dir *d = *state;
	struct node_rec n = node("n2", "52:54:00:00:0b:01"), got;
	struct vm_host_rec h = { 0 };
	struct dl_err e = { 0 };

	insert(d->s, "n1", "52:54:00:00:0b:01");
	assert_int_equal(store_begin(d->s), 0);
	assert_int_equal(store_node_insert(d->s, &n, &e), -EEXIST); /* the MAC is n1's */
	assert_non_null(strstr(e.msg, "already belongs to node 'n1'"));
	snprintf(h.node, sizeof(h.node), "nosuch");
	strcpy(h.state, "up");
	assert_int_equal(store_vm_host_put(d->s, &h), -ENOENT); /* a foreign key */
	assert_int_equal(store_vm_drain_set(d->s, "nosuch", true, "x"), -ENOENT);
	insert(d->s, "n3", "52:54:00:00:0b:03");
	assert_int_equal(store_commit(d->s), 0);
	assert_int_equal(store_node_get(d->s, "n3", &got), 0);
	assert_int_equal(store_node_get(d->s, "n2", &got), -ENOENT);
}

/* The fencing token (store_fence(), docs/scale-out.md): a leader's writes pass while the
 * cluster's generation is its own; once a newer leader took over (the row bumped, as
 * cluster_pg.c does) every write is refused -ESTALE, a single one and a transaction
 * alike, nothing of it lands, and store_fence_refused() says so; a follower's writes
 * (token 0) and the new generation's pass. A takeover cannot commit its bump while a
 * write that passed the check is still open. */
static void
test_fencing_token(void **state)
{
	struct store_dir *d = *state;
	struct node_rec n = node("f2", "52:54:00:00:0f:02"), got;
	struct dl_err e = { 0 };
	char msg[256];

	admin_on(d->path, "CREATE TABLE IF NOT EXISTS cluster_leader (id INTEGER PRIMARY KEY "
	    "CHECK (id = 1), generation BIGINT NOT NULL, name TEXT NOT NULL, since_ms BIGINT "
	    "NOT NULL); INSERT INTO cluster_leader VALUES (1, 5, 'a', 0)", NULL, 0);
	store_fence(d->s, 5);
	insert(d->s, "f1", "52:54:00:00:0f:01");
	assert_false(store_fence_refused(d->s));
	/* A transaction that passed the check holds the row: a takeover's bump waits for its
	 * commit (here it gives up at its lock_timeout), so the write lands first. */
	assert_int_equal(store_begin(d->s), 0);
	insert(d->s, "f0", "52:54:00:00:0f:00");
	assert_false(admin_try(d->path, "SET lock_timeout = '300ms'; UPDATE cluster_leader SET "
	    "generation = 6", msg, sizeof(msg)));
	assert_non_null(strstr(msg, "lock timeout"));
	assert_int_equal(store_commit(d->s), 0);

	/* another instance takes over: generation 6 */
	admin_on(d->path, "UPDATE cluster_leader SET generation = 6, name = 'b'", NULL, 0);
	assert_int_equal(store_node_insert(d->s, &n, &e), -ESTALE);
	assert_non_null(strstr(e.msg, "a newer leader"));
	assert_true(store_fence_refused(d->s));
	assert_int_equal(store_node_get(d->s, "f2", &got), -ENOENT);
	assert_int_equal(store_event_add(d->s, "f1", "power-on", "stale", 3), -ESTALE);
	/* a transaction takes the lock, and the check, when it begins */
	assert_int_not_equal(store_begin(d->s), 0);
	assert_int_equal(store_node_get(d->s, "f1", &got), 0); /* reads are never fenced */

	/* a follower's writes are not checked; the new generation's pass */
	store_fence(d->s, 0);
	assert_false(store_fence_refused(d->s));
	assert_int_equal(store_node_insert(d->s, &n, &e), 0);
	store_fence(d->s, 6);
	insert(d->s, "f3", "52:54:00:00:0f:03");
	assert_int_equal(store_begin(d->s), 0);
	insert(d->s, "f4", "52:54:00:00:0f:04");
	assert_int_equal(store_commit(d->s), 0);
	assert_int_equal(store_node_get(d->s, "f4", &got), 0);
	assert_false(store_fence_refused(d->s));
}

/* The backend's connection is killed under it (a server restart, a DBA): the next call
 * fails -EIO at once, the reconnect thread connects again, a later call succeeds. A
 * transaction that loses its connection fails; its rollback leaves the store usable. */
static void
test_killed_connection(void **state)
{
	struct store_dir *d = *state;
	struct node_rec n;
	char killed[16];
	int64_t t0;
	int r = -EIO, polls;

	insert(d->s, "n1", "52:54:00:00:0c:01");
	admin_on(d->path, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
	    "WHERE datname = current_database() AND application_name = 'bootsvc'", killed,
	    sizeof(killed));
	assert_string_equal(killed, "1");
	t0 = now_ms();
	assert_int_equal(store_node_get(d->s, "n1", &n), -EIO);
	print_message("first call after the kill: -EIO in %lld ms\n", (long long)(now_ms() - t0));
	t0 = now_ms();
	for (polls = 0; polls < MAX_POLLS && (r = store_node_get(d->s, "n1", &n)) == -EIO;
	    polls++)
		usleep(POLL_US);
	print_message("reconnected after %lld ms (%d polls)\n", (long long)(now_ms() - t0),
	    polls);
	assert_int_equal(r, 0);
	/* prepared statements were prepared again on the new connection, writes work */
	insert(d->s, "n2", "52:54:00:00:0c:02");

	/* killed inside a transaction: it fails, the rollback runs, the store recovers */
	assert_int_equal(store_begin(d->s), 0);
	insert(d->s, "n3", "52:54:00:00:0c:03");
	admin_on(d->path, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
	    "WHERE datname = current_database() AND application_name = 'bootsvc'", killed,
	    sizeof(killed));
	assert_int_equal(store_node_get(d->s, "n3", &n), -EIO);
	assert_int_equal(store_commit(d->s), -EIO);
	for (polls = 0; polls < MAX_POLLS && (r = store_node_get(d->s, "n1", &n)) == -EIO;
	    polls++)
		usleep(POLL_US);
	assert_int_equal(r, 0);
	assert_int_equal(store_node_get(d->s, "n3", &n), -ENOENT); /* never committed */
}

/* pg_ctl as the postgres user on the test's server: start or stop. */
static void
pg_ctl(const char *verb)
{
	const char *dir = getenv("DL_TEST_PG_DIR"), *bin = getenv("DL_TEST_PG_BIN");
	char cmd[1024];

	if (!dir || !bin)
		fail_msg("DL_TEST_PG_DIR and DL_TEST_PG_BIN name the server to stop and start");
	if (strcmp(verb, "stop") == 0)
		snprintf(cmd, sizeof(cmd), "runuser -u postgres -- '%s/pg_ctl' -D '%s/data' -m "
		    "fast -w -t 30 stop >/dev/null", bin, dir);
	else
		snprintf(cmd, sizeof(cmd), "runuser -u postgres -- '%s/pg_ctl' -D '%s/data' -l "
		    "'%s/server.log' -w -t 30 start >/dev/null", bin, dir, dir);
	assert_int_equal(system(cmd), 0);
}

/* The server stopped: calls fail fast (measured, printed), on the writer and a reader;
 * started again: both reconnect and calls succeed. */
static void
test_server_restart(void **state)
{
	struct store_dir *d = *state;
	struct store_reader *rd = NULL;
	struct dl_err e = { 0 };
	struct node_rec n;
	int64_t t0, worst = 0;
	int r = -EIO, polls;

	insert(d->s, "n1", "52:54:00:00:0d:01");
	if (store_reader_open(d->s, &rd, &e) < 0)
		fail_msg("reader: %s", e.msg);
	assert_int_equal(store_reader_node_get(rd, "n1", &n), 0);
	pg_ctl("stop");
	for (int i = 0; i < 20; i++) {
		t0 = now_ms();
		assert_int_equal(store_node_get(d->s, "n1", &n), -EIO);
		assert_int_equal(store_event_add(d->s, "n1", "power-on", "", 1), -EIO);
		assert_int_equal(store_reader_node_get(rd, "n1", &n), -EIO);
		if (now_ms() - t0 > worst)
			worst = now_ms() - t0;
		usleep(50000);
	}
	print_message("server down: 20 rounds of 3 calls, the slowest round %lld ms\n",
	    (long long)worst);
	pg_ctl("start");
	t0 = now_ms();
	for (polls = 0; polls < MAX_POLLS && (r = store_node_get(d->s, "n1", &n)) == -EIO;
	    polls++)
		usleep(POLL_US);
	assert_int_equal(r, 0);
	for (polls = 0; polls < MAX_POLLS && (r = store_reader_node_get(rd, "n1", &n)) == -EIO;
	    polls++)
		usleep(POLL_US);
	assert_int_equal(r, 0);
	print_message("server up again: writer and reader reconnected in %lld ms\n",
	    (long long)(now_ms() - t0));
	assert_int_equal(store_event_add(d->s, "n1", "power-on", "", 2), 0);
	store_reader_close(rd);
}

/* The password is in no message: a database that is not there, and a URL libpq refuses
 * (it quotes the bad part). */
static void
test_password_hidden(void **state)
{
	const char *base = getenv("DL_TEST_PG"), *query = strchr(base, '?');
	static const char *const tails[] = { "", "&bogus=1" };
	struct store *s = NULL;
	char url[1024];

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(tails); i++) {
		struct dl_err e = { 0 };

		snprintf(url, sizeof(url), "postgresql://postgres:Secr3tPw@/no_such_db%s%s",
		    query ? query : "", tails[i]);
		assert_int_equal(store_open(url, &s, &e), -EIO);
		assert_null(s);
		print_message("refused: %s\n", e.msg);
		assert_null(strstr(e.msg, "Secr3tPw"));
		assert_non_null(strstr(e.msg, "store 'postgresql:///no_such_db"));
	}
}

/* A database whose schema is newer than this build knows is refused untouched. */
#define STR_(x) #x
#define STR(x) STR_(x)
#define KNOWN STR(STORE_PG_SCHEMA_VERSION)
#define NEWER "99" /* a version no build has made yet */
static void
test_newer_refused(void **state)
{
	struct store_dir *d = *state;
	struct store *s = NULL;
	struct dl_err e = { 0 };
	char before[64], after[64];

	insert(d->s, "n1", "52:54:00:00:0e:01");
	d->s = store_close(d->s);
	admin_on(d->path, "UPDATE schema_version SET version = " NEWER, NULL, 0);
	admin_on(d->path, "SELECT count(*) || ' ' || (SELECT count(*) FROM nodes) FROM "
	    "information_schema.tables WHERE table_schema = 'public'", before, sizeof(before));
	assert_int_equal(store_open(d->path, &s, &e), -ENOTSUP);
	assert_null(s);
	assert_non_null(strstr(e.msg, "has schema version " NEWER ", this bootsvc knows up to " KNOWN));
	admin_on(d->path, "SELECT count(*) || ' ' || (SELECT count(*) FROM nodes) FROM "
	    "information_schema.tables WHERE table_schema = 'public'", after, sizeof(after));
	assert_string_equal(before, after);
	admin_on(d->path, "SELECT version FROM schema_version", after, sizeof(after));
	assert_string_equal(after, NEWER);
}

struct opener {
	const char *url;
	struct store *s;
	int r;
	struct dl_err e;
};

static void *
opener_main(void *arg)
{
	struct opener *o = arg;

	o->r = store_open(o->url, &o->s, &o->e);
	return NULL;
}

/* Two bootsvc starting at once on a new database: one creates the schema, the other
 * waits for it (the advisory lock) and finds it made. */
static void
test_concurrent_create(void **state)
{
	struct store_dir d = { 0 };
	struct opener o[2] = { { 0 } };
	pthread_t t[2];
	char n[16];

	(void)state;
	assert_int_equal(store_dir_make(&d), 0);
	for (int i = 0; i < 2; i++) {
		o[i].url = d.path;
		assert_int_equal(pthread_create(&t[i], NULL, opener_main, &o[i]), 0);
	}
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		if (o[i].r != 0)
			fail_msg("open %d: %s", i, o[i].e.msg);
	}
	insert(o[0].s, "n1", "52:54:00:00:0f:01");
	insert(o[1].s, "n2", "52:54:00:00:0f:02");
	admin_on(d.path, "SELECT count(*) FROM schema_version", n, sizeof(n));
	assert_string_equal(n, "1");
	store_close(o[0].s);
	store_close(o[1].s);
	store_dir_remove(&d);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, store_dir_setup, store_dir_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_two_stores_write_lock),
		T(test_failure_keeps_transaction),
		T(test_fencing_token),
		T(test_killed_connection),
		T(test_newer_refused),
		cmocka_unit_test(test_password_hidden),
		cmocka_unit_test(test_concurrent_create),
		T(test_server_restart),
	};

	if (!store_dir_is_pg()) {
		fprintf(stderr, "test_store_pg: needs a PostgreSQL server: DL_TEST_PG (tests/run.sh "
		    "runs it as unit/test_store_pg@pg)\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
