/* SPDX-License-Identifier: MIT */
/* The cluster's two libpq sessions, each on its own thread (cluster.h): the leader
 * session and the LISTEN session. Every call that can block is bounded: connecting by
 * connect_timeout, every statement by a deadline the thread keeps itself (poll on the
 * socket; the server's statement_timeout is only the second line: a dead network never
 * answers it), so a thread always comes back to feed cluster_fsm.c its ticks and to see
 * a stop. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "cluster/cluster_internal.h"
#include "log.h"
#include "loop.h"

/* Reconnecting after a lost session: from 100 ms, doubled, up to 5 s, so a restarted
 * PostgreSQL is found within seconds and a long outage costs a try every 5 s. */
#define RECONNECT_MIN_MS 100
#define RECONNECT_MAX_MS 5000

void
cluster_wake(struct cluster *c)
{
	uint64_t one = 1;

	/* A full counter already wakes the loop: nothing to add. */
	(void)!write(c->wake_fd, &one, sizeof(one));
}

/* Sleep up to ms, or less when stopping. */
static void
nap(struct cluster *c, int64_t ms)
{
	struct pollfd p = { .fd = c->stop_fd, .events = POLLIN };

	if (ms > 0 && !atomic_load(&c->stopping))
		(void)poll(&p, 1, (int)ms);
}

/* The server's notices ("relation already exists, skipping") are not ours to print:
 * libpq's default writes them to stderr, around our key=value lines. */
static void
notice_drop(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* A database that stays down would log a line per try (every 5 s at most): the first
 * failure of a run of them is a warning, the rest debug, and the end of the run a notice. */
static PGconn *
session_open(struct cluster *c, const char *who, bool *failing)
{
	char connect_s[24], user_timeout[24], keep_count[24];
	/* The client's side of the bounds: connecting within max(2 s, lease/4) (libpq's
	 * minimum is 2 s), unacknowledged data given up after a quarter lease, keepalives
	 * each second. The dbname URL comes first: the keywords after it win. */
	const char *const keys[] = { "dbname", "connect_timeout", "keepalives",
		"keepalives_idle", "keepalives_interval", "keepalives_count", "tcp_user_timeout",
		"application_name", NULL };
	const char *vals[9];
	char app[96];
	PGconn *pg;
	int64_t q = c->lease_ms / 4;

	(void)snprintf(connect_s, sizeof(connect_s), "%" PRId64, q / 1000 < 2 ? 2 : q / 1000);
	(void)snprintf(user_timeout, sizeof(user_timeout), "%" PRId64, q);
	(void)snprintf(keep_count, sizeof(keep_count), "%" PRId64, q / 1000 < 1 ? 1 : q / 1000);
	(void)snprintf(app, sizeof(app), "bootsvc %s %s", c->name, who);
	vals[0] = c->conninfo;
	vals[1] = connect_s;
	vals[2] = "1";
	vals[3] = "1";
	vals[4] = "1";
	vals[5] = keep_count;
	vals[6] = user_timeout;
	vals[7] = app;
	vals[8] = NULL;
	pg = PQconnectdbParams(keys, vals, 1);
	if (!pg)
		return NULL;
	if (PQstatus(pg) != CONNECTION_OK) {
		char safe[MAX_LOG_VALUE + 1];
		/* libpq's message names host and reason, never the password. */
		log_kv(*failing ? LOG_DEBUG : LOG_WARNING, "event=cluster_connect session=%s "
		    "msg=\"%s\", will retry", who, log_safe(safe, sizeof(safe),
		    PQerrorMessage(pg)));
		*failing = true;
		PQfinish(pg);
		return NULL;
	}
	if (*failing)
		log_notice("event=cluster_connect session=%s msg=\"connected again\"", who);
	*failing = false;
	(void)PQsetNoticeProcessor(pg, notice_drop, NULL);
	return pg;
}

/* Run sql with params on pg, waiting at most until deadline (loop_now_ms() clock).
 * *ret (may be NULL) gets the last result when it is PGRES_TUPLES_OK or COMMAND_OK.
 * -ETIMEDOUT past the deadline (the session is then unusable: a late answer would be
 * read as the next one's), -EIO for an error (logged by the caller), -ECANCELED when
 * stopping. */
static int
run(struct cluster *c, PGconn *pg, uint64_t deadline, const char *sql, int n,
    const char *const *params, PGresult **ret)
{
	PGresult *last = NULL, *res;
	int r = 0;

	/* Without parameters, the simple protocol: it alone runs several statements. */
	if (!(n ? PQsendQueryParams(pg, sql, n, NULL, params, NULL, NULL, 0) :
	    PQsendQuery(pg, sql)))
		return -EIO;
	for (;;) {
		while (!PQisBusy(pg)) {
			res = PQgetResult(pg);
			if (!res)
				goto done;
			if (PQresultStatus(res) != PGRES_TUPLES_OK &&
			    PQresultStatus(res) != PGRES_COMMAND_OK)
				r = -EIO;
			PQclear(last);
			last = res;
		}
		uint64_t now = loop_now_ms();
		if (now >= deadline) {
			PQclear(last);
			return -ETIMEDOUT;
		}
		struct pollfd p[2] = { { .fd = PQsocket(pg), .events = POLLIN },
			{ .fd = c->stop_fd, .events = POLLIN } };
		if (poll(p, 2, (int)(deadline - now)) < 0 && errno != EINTR) {
			PQclear(last);
			return -errno;
		}
		if (atomic_load(&c->stopping)) {
			PQclear(last);
			return -ECANCELED;
		}
		if (p[0].revents && !PQconsumeInput(pg)) {
			PQclear(last);
			return -EIO;
		}
	}
done:
	if (r < 0 || !ret)
		PQclear(last);
	else
		*ret = last;
	return r;
}

/* A bigint column as PostgreSQL prints it; 0 for anything else (a NULL prints ""). */
static int64_t
col_i64(const PGresult *res, int row, int col)
{
	const char *v = PQgetvalue(res, row, col);
	char *end;
	long long x;

	errno = 0;
	x = strtoll(v, &end, 10);
	return errno || end == v || *end ? 0 : (int64_t)x;
}

static void
log_pg(const char *event, PGconn *pg, int r)
{
	char safe[MAX_LOG_VALUE + 1];

	log_warning("event=%s err=%s msg=\"%s\", will retry", event, dl_errno_name(r),
	    r == -ETIMEDOUT ? "no answer within the deadline" :
	    log_safe(safe, sizeof(safe), PQerrorMessage(pg)));
}

/* The room's own tables, made once by whichever instance comes first (the DDL lock
 * serialises two that start together: CREATE ... IF NOT EXISTS alone races on the
 * catalog). `servers` is the store's too (the PostgreSQL schema creates it the same
 * way); `cluster_leader` holds the fencing token. */
static const char schema_sql[] =
	"BEGIN;"
	"SELECT pg_advisory_xact_lock(" "431313142860" /* CLUSTER_LOCK_DDL */ ");"
	"CREATE TABLE IF NOT EXISTS servers (name TEXT PRIMARY KEY, url TEXT NOT NULL,"
	" segments TEXT NOT NULL DEFAULT '', role TEXT NOT NULL DEFAULT '', pid BIGINT,"
	" started_ms BIGINT, seen_ms BIGINT);"
	"CREATE TABLE IF NOT EXISTS cluster_leader (id INTEGER PRIMARY KEY CHECK (id = 1),"
	" generation BIGINT NOT NULL, name TEXT NOT NULL, since_ms BIGINT NOT NULL);"
	"COMMIT;";

_Static_assert(CLUSTER_LOCK_DDL == 431313142860LL, "schema_sql spells the DDL lock key");
_Static_assert(CLUSTER_LOCK_LEADER == 110416298852676LL, "the SQL spells the leader key");

#define NOW_MS_SQL "(extract(epoch from clock_timestamp()) * 1000)::bigint"

/* The session's server-side bounds: a statement ends itself within a check's bound, and
 * the server gives up on a dead client's socket (a machine gone without closing it)
 * after 1 s idle + 1 s per probe for a quarter lease (tcp_user_timeout likewise for data
 * it sent), so it frees a dead leader's lock seconds later instead of after the kernel's
 * two hours. A crashed process needs none of this: its kernel closes the socket. */
static int
session_setup(struct cluster *c, PGconn *pg, uint64_t deadline)
{
	char sql[256];
	int64_t q = c->lease_ms / 4;

	(void)snprintf(sql, sizeof(sql), "SET statement_timeout = %" PRId64 ";"
	    "SET tcp_keepalives_idle = 1; SET tcp_keepalives_interval = 1;"
	    "SET tcp_keepalives_count = %" PRId64 "; SET tcp_user_timeout = %" PRId64,
	    cluster_bound_ms(c->lease_ms), q / 1000 < 1 ? 1 : q / 1000, q);
	return run(c, pg, deadline, sql, 0, NULL, NULL);
}

static void
publish(struct cluster *c, const struct cluster_out *o)
{
	pthread_mutex_lock(&c->mu);
	c->out = *o;
	if (!o->acting)
		c->generation = 0;
	pthread_mutex_unlock(&c->mu);
	cluster_wake(c);
}

static const char *
role_of(enum cluster_state s)
{
	return cluster_state_to_string(s);
}

/* The heartbeat: this instance's row, then everyone's. */
static int
registry(struct cluster *c, PGconn *pg, enum cluster_state s, uint64_t deadline)
{
	static const char upsert[] =
		"INSERT INTO servers (name, url, segments, role, pid, started_ms, seen_ms)"
		" VALUES ($1, $2, $3, $4, $5, $6, " NOW_MS_SQL ")"
		" ON CONFLICT (name) DO UPDATE SET url = $2, segments = $3, role = $4, pid = $5,"
		" started_ms = $6, seen_ms = " NOW_MS_SQL;
	static const char list[] =
		"SELECT name, url, segments, role, coalesce(pid, 0),"
		" " NOW_MS_SQL " - coalesce(seen_ms, 0) FROM servers ORDER BY name LIMIT 257";
	char pid[24], started[24];
	const char *params[6] = { c->name, c->url, c->segments, role_of(s), pid, started };
	PGresult *res = NULL;
	size_t n;
	int r;

	(void)snprintf(pid, sizeof(pid), "%" PRId64, c->pid);
	(void)snprintf(started, sizeof(started), "%" PRId64, c->started_ms);
	if ((r = run(c, pg, deadline, upsert, 6, params, NULL)) < 0 ||
	    (r = run(c, pg, deadline, list, 0, NULL, &res)) < 0)
		return r;
	n = (size_t)PQntuples(res);
	if (n > MAX_CLUSTER_SERVERS) {
		log_warning("event=cluster_servers msg=\"more than %d servers, listing the "
		    "first\"", MAX_CLUSTER_SERVERS);
		n = MAX_CLUSTER_SERVERS;
	}
	pthread_mutex_lock(&c->mu);
	for (size_t i = 0; i < n; i++) {
		struct cluster_server *s1 = &c->servers[i];
		int row = (int)i;

		*s1 = (struct cluster_server){ 0 };
		(void)snprintf(s1->name, sizeof(s1->name), "%s", PQgetvalue(res, row, 0));
		(void)snprintf(s1->url, sizeof(s1->url), "%s", PQgetvalue(res, row, 1));
		(void)snprintf(s1->segments, sizeof(s1->segments), "%s", PQgetvalue(res, row, 2));
		(void)snprintf(s1->role, sizeof(s1->role), "%s", PQgetvalue(res, row, 3));
		s1->pid = col_i64(res, row, 4);
		s1->age_ms = col_i64(res, row, 5);
		s1->self = strcmp(s1->name, c->name) == 0;
	}
	c->n_servers = n;
	c->servers_read_ms = loop_now_ms();
	pthread_mutex_unlock(&c->mu);
	PQclear(res);
	return 0;
}

/* A new leader's generation: one more than the last leader's. It is the fencing token:
 * logged with every takeover, shown by `server list`, and checked inside every write the
 * leader makes (store_fence()), so once this commits the last leader's writes are
 * refused, however long it stalled (docs/scale-out.md "The fencing token"). */
static int
take_generation(struct cluster *c, PGconn *pg, uint64_t deadline)
{
	static const char sql[] =
		"INSERT INTO cluster_leader (id, generation, name, since_ms) VALUES (1, 1, $1, "
		NOW_MS_SQL ") ON CONFLICT (id) DO UPDATE SET generation ="
		" cluster_leader.generation + 1, name = $1, since_ms = " NOW_MS_SQL
		" RETURNING generation";
	const char *params[1] = { c->name };
	PGresult *res = NULL;
	int r = run(c, pg, deadline, sql, 1, params, &res);

	if (r < 0)
		return r;
	pthread_mutex_lock(&c->mu);
	c->generation = PQntuples(res) == 1 ? col_i64(res, 0, 0) : 0;
	pthread_mutex_unlock(&c->mu);
	PQclear(res);
	return 0;
}

/* A step's outcome made known: a takeover first takes its generation (leading without
 * one would be leading unannounced: given up instead), then the loop is told. */
static void
settle(struct cluster *c, PGconn *pg, struct cluster_fsm *f, struct cluster_out *o)
{
	if (o->took_over && take_generation(c, pg, loop_now_ms() +
	    (uint64_t)cluster_bound_ms(c->lease_ms)) < 0) {
		log_pg("cluster_generation", pg, -EIO);
		*o = cluster_fsm_step(f, c->lease_ms, CE_CHECK_FAILED, 0, (int64_t)loop_now_ms());
	} else if (o->took_over)
		log_notice("event=cluster_takeover name=%s msg=\"held the lock for half a "
		    "lease: leading\"", c->name);
	publish(c, o);
}

void *
cluster_pg_leader_main(void *arg)
{
	struct cluster *c = arg;
	struct cluster_fsm f;
	struct cluster_out o = { 0 };
	PGconn *pg = NULL;
	int64_t backoff = RECONNECT_MIN_MS;
	bool failing = false;
	const int64_t period = cluster_check_ms(c->lease_ms), bound = cluster_bound_ms(c->lease_ms);

	cluster_fsm_init(&f);
	while (!atomic_load(&c->stopping)) {
		uint64_t at = loop_now_ms();
		int r;

		if (!pg) {
			pg = session_open(c, "leader", &failing);
			if (pg && ((r = session_setup(c, pg, loop_now_ms() + (uint64_t)bound)) < 0 ||
			    (r = run(c, pg, loop_now_ms() + (uint64_t)bound, schema_sql, 0, NULL,
			    NULL)) < 0)) {
				log_pg("cluster_session", pg, r);
				PQfinish(pg);
				pg = NULL;
			}
			if (!pg) {
				o = cluster_fsm_step(&f, c->lease_ms, CE_TICK, 0, (int64_t)loop_now_ms());
				publish(c, &o);
				nap(c, backoff);
				backoff = backoff * 2 > RECONNECT_MAX_MS ? RECONNECT_MAX_MS : backoff * 2;
				continue;
			}
			backoff = RECONNECT_MIN_MS;
			o = cluster_fsm_step(&f, c->lease_ms, CE_SESSION_NEW, 0, (int64_t)loop_now_ms());
			publish(c, &o);
			log_info("event=cluster_session session=leader msg=\"connected\"");
			at = loop_now_ms();
		}
		if (f.state == CS_FOLLOWER) {
			PGresult *res = NULL;

			/* Already not leading (what it published says so): a refusal the loop
			 * saw meanwhile needs no drop, and a takeover takes a new generation. */
			atomic_store(&c->stale, false);

			r = run(c, pg, at + (uint64_t)bound,
			    "SELECT pg_try_advisory_lock(110416298852676)", 0, NULL, &res);
			if (r == 0) {
				bool taken = PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';
				o = cluster_fsm_step(&f, c->lease_ms, taken ? CE_LOCK_TAKEN :
				    CE_LOCK_BUSY, (int64_t)at, (int64_t)loop_now_ms());
				PQclear(res);
				if (taken)
					log_notice("event=cluster_lock name=%s msg=\"took the leader "
					    "lock, acting after half a lease\" lease_ms=%" PRId64, c->name,
					    c->lease_ms);
			}
		} else if (atomic_load(&c->stale)) {
			/* The store refused a write of ours: a newer generation leads. Cleared
			 * once the fenced state is published (below), so the loop never reads
			 * the old word as leading meanwhile. */
			log_warning("event=cluster_check name=%s msg=\"a write was refused for a "
			    "newer leader's generation: fencing\"", c->name);
			r = -ESTALE;
		} else {
			/* Holding it: any answer on this session proves the lock still ours. */
			r = run(c, pg, at + (uint64_t)bound, "SELECT 1", 0, NULL, NULL);
			if (r == 0)
				o = cluster_fsm_step(&f, c->lease_ms, CE_CHECK_OK, (int64_t)at,
				    (int64_t)loop_now_ms());
		}
		if (r < 0 && r != -ECANCELED) {
			if (r != -ESTALE)
				log_pg("cluster_check", pg, r);
			o = cluster_fsm_step(&f, c->lease_ms, PQstatus(pg) == CONNECTION_OK ?
			    CE_CHECK_FAILED : CE_SESSION_LOST, 0, (int64_t)loop_now_ms());
		}
		if (r == -ECANCELED)
			break;
		settle(c, pg, &f, &o);
		if (r == -ESTALE)
			atomic_store(&c->stale, false);
		if (!o.drop_session && (r = registry(c, pg, f.state,
		    loop_now_ms() + (uint64_t)bound)) < 0 && r != -ECANCELED) {
			log_pg("cluster_registry", pg, r);
			if (f.state != CS_FOLLOWER) {
				o = cluster_fsm_step(&f, c->lease_ms, CE_CHECK_FAILED, 0,
				    (int64_t)loop_now_ms());
				publish(c, &o);
			} else if (r == -ETIMEDOUT || PQstatus(pg) != CONNECTION_OK)
				o.drop_session = true;
		}
		if (o.drop_session) {
			/* Closing is what frees the lock at once when the server still hears
			 * us; when it does not, its keepalives free it within a quarter lease. */
			PQfinish(pg);
			pg = NULL;
			log_notice("event=cluster_session session=leader msg=\"dropped, will "
			    "reconnect\" state=%s", cluster_state_to_string(f.state));
			continue;
		}
		/* Tick the lease between checks too: fencing must not wait for the next. */
		int64_t next = (int64_t)at + period;
		while (!atomic_load(&c->stopping) && (int64_t)loop_now_ms() < next) {
			int64_t now = (int64_t)loop_now_ms(), wait = next - now;
			if (f.state == CS_LEADER || f.state == CS_WAITING) {
				int64_t edge = f.confirmed_ms + cluster_confirm_ms(c->lease_ms) - now;
				if (edge > 0 && edge < wait)
					wait = edge;
			}
			nap(c, wait > 0 ? wait : 1);
			o = cluster_fsm_step(&f, c->lease_ms, CE_TICK, 0, (int64_t)loop_now_ms());
			if (o.fenced || o.took_over || o.drop_session) {
				settle(c, pg, &f, &o);
				break;
			}
		}
	}
	if (pg) {
		/* Going away on purpose: the lock is freed now, and the next leader waits only
		 * its lease. Our row says so at once. */
		(void)run(c, pg, loop_now_ms() + (uint64_t)bound,
		    "UPDATE servers SET role = 'stopped' WHERE name = $1", 1,
		    (const char *const[]){ c->name }, NULL);
		PQfinish(pg);
	}
	return NULL;
}

void *
cluster_pg_listen_main(void *arg)
{
	struct cluster *c = arg;
	PGconn *pg = NULL;
	int64_t backoff = RECONNECT_MIN_MS;
	bool failing = false;
	const int64_t bound = cluster_bound_ms(c->lease_ms);

	while (!atomic_load(&c->stopping)) {
		int r;

		if (!pg) {
			pg = session_open(c, "listen", &failing);
			if (pg && ((r = session_setup(c, pg, loop_now_ms() + (uint64_t)bound)) < 0 ||
			    (r = run(c, pg, loop_now_ms() + (uint64_t)bound, "LISTEN " CLUSTER_CHANNEL,
			    0, NULL, NULL)) < 0)) {
				log_pg("cluster_listen", pg, r);
				PQfinish(pg);
				pg = NULL;
			}
			if (!pg) {
				nap(c, backoff);
				backoff = backoff * 2 > RECONNECT_MAX_MS ? RECONNECT_MAX_MS : backoff * 2;
				continue;
			}
			backoff = RECONNECT_MIN_MS;
			log_info("event=cluster_session session=listen msg=\"listening\" channel="
			    CLUSTER_CHANNEL);
			/* Whatever was written while we were away: subscribers read from their
			 * last seq, so nothing is lost, only caught up. */
			atomic_store(&c->history, true);
			cluster_wake(c);
		}
		struct pollfd p[2] = { { .fd = PQsocket(pg), .events = POLLIN },
			{ .fd = c->stop_fd, .events = POLLIN } };
		/* Wake each lease even when quiet, to see a session the kernel has not yet
		 * declared dead: a query answers or fails within the bound. */
		r = poll(p, 2, (int)c->lease_ms);
		if (atomic_load(&c->stopping))
			break;
		bool lost = false;
		if (r == 0)
			lost = run(c, pg, loop_now_ms() + (uint64_t)bound, "SELECT 1", 0, NULL,
			    NULL) < 0;
		else if (r > 0 && p[0].revents)
			lost = !PQconsumeInput(pg);
		bool any = false;
		for (PGnotify *n; (n = PQnotifies(pg)); PQfreemem(n)) {
			any = true;
			atomic_fetch_add(&c->notifications, 1);
		}
		if (any) {
			atomic_store(&c->history, true);
			cluster_wake(c);
		}
		if (lost || PQstatus(pg) != CONNECTION_OK) {
			log_pg("cluster_listen", pg, -EIO);
			PQfinish(pg);
			pg = NULL;
		}
	}
	PQfinish(pg);
	return NULL;
}
