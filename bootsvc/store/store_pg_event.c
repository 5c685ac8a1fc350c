/* SPDX-License-Identifier: MIT */
/* The PostgreSQL backend's history table: every phase change and controller action of
 * every node, in seq order. seq is a BIGSERIAL taken under the write lock, so rows commit
 * in seq order across every bootsvc on the database (store_pg.h): a subscriber reading
 * seq > since never skips one. */
#include <stdlib.h>
#include <string.h>

#include "store/store_pg.h"

/* History rows kept per node: as the SQLite backend. */
#define MAX_HISTORY_PER_NODE 200

static const char *const event_sql[_PG_STMT_MAX] = {
	[P_EVENT_ADD] = "INSERT INTO history (node, kind, phase, reason, at) "
			"VALUES ($1,$2,$3,$4,$5)",
	[P_EVENT_LAST] = "SELECT coalesce(max(seq), 0) FROM history",
	[P_EVENTS_SINCE] = "SELECT seq, node, kind, phase, reason, at FROM history "
			   "WHERE seq > $1 ORDER BY seq LIMIT $2",
	[P_HISTORY] = "SELECT phase, reason, at FROM history WHERE node = $1 AND kind = 'phase' "
		      "ORDER BY seq DESC LIMIT $2",
	[P_HISTORY_TRIM] = "DELETE FROM history WHERE seq IN (SELECT seq FROM history "
			   "WHERE node = $1 AND seq <= (SELECT seq FROM history WHERE node = $1 "
			   "ORDER BY seq DESC LIMIT 1 OFFSET $2) ORDER BY seq LIMIT $3)",
	[P_HISTORY_PRUNE] = "DELETE FROM history WHERE seq IN (SELECT seq FROM (SELECT seq, "
			    "at FROM history ORDER BY seq LIMIT $2) oldest WHERE at < $1)",
};

static int
run(struct pg_conn *c, enum pg_stmt id, const struct pg_params *p, PGresult **ret)
{
	return store_pg_run(c, id, event_sql[id], p, ret);
}

int
store_pg_event_append(struct store *s, const char *node, const char *kind,
    const char *what, const char *reason, int64_t at)
{
	struct pg_store *ps = pg_store_of(s);
	struct pg_params p = { .n = 0 };
	bool own;
	int r;

	store_pg_param_text(&p, node);
	store_pg_param_text(&p, kind);
	store_pg_param_text(&p, what);
	store_pg_param_text(&p, reason);
	store_pg_param_int64(&p, at);
	if ((r = store_pg_write_begin(s, &own)) < 0)
		return r;
	if ((r = run(&ps->conn, P_EVENT_ADD, &p, NULL)) == 0 && ps->history_max) {
		p.n = 0;
		store_pg_param_text(&p, node);
		store_pg_param_int64(&p, ps->history_max);
		store_pg_param_int64(&p, MAX_HISTORY_TRIM);
		r = run(&ps->conn, P_HISTORY_TRIM, &p, NULL);
	}
	return store_pg_write_end(s, own, r);
}

void
store_pg_history_keep(struct store *s, unsigned max_per_node)
{
	pg_store_of(s)->history_max = max_per_node;
}

int
store_pg_history_prune(struct store *s, int64_t before, unsigned max_rows, size_t *ret_n)
{
	struct pg_params p = { .n = 0 };
	PGresult *res;
	bool own;
	int r;

	store_pg_param_int64(&p, before);
	store_pg_param_int64(&p, max_rows);
	if ((r = store_pg_write_begin(s, &own)) < 0)
		return r;
	if ((r = run(pg_writer(s), P_HISTORY_PRUNE, &p, &res)) == 0) {
		*ret_n = (size_t)strtoull(PQcmdTuples(res), NULL, 10);
		PQclear(res);
	}
	return store_pg_write_end(s, own, r);
}

int
store_pg_event_add(struct store *s, const char *node, const char *what, const char *reason,
    int64_t at)
{
	return store_pg_event_append(s, node, "action", what, reason, at);
}

int
store_pg_event_since(struct store *s, int64_t since, size_t max, store_event_fn fn,
    void *userdata)
{
	struct pg_params p = { .n = 0 };
	struct event_rec e;
	PGresult *res;
	int r;

	store_pg_param_int64(&p, since);
	/* SIZE_MAX is "all": SQLite reads LIMIT -1 so, PostgreSQL refuses a negative one */
	store_pg_param_int64(&p, max > (size_t)INT64_MAX ? INT64_MAX : (int64_t)max);
	/* The rows are all in res before fn runs: fn may write to the store. */
	if ((r = run(pg_writer(s), P_EVENTS_SINCE, &p, &res)) < 0)
		return r;
	for (int i = 0; i < PQntuples(res) && r >= 0; i++) {
		memset(&e, 0, sizeof(e));
		e.seq = store_pg_col_int64(res, i, 0);
		store_pg_copy_col(e.node, sizeof(e.node), res, i, 1);
		store_pg_copy_col(e.kind, sizeof(e.kind), res, i, 2);
		store_pg_copy_col(e.what, sizeof(e.what), res, i, 3);
		store_pg_copy_col(e.reason, sizeof(e.reason), res, i, 4);
		e.at = store_pg_col_int64(res, i, 5);
		r = fn(&e, userdata);
	}
	PQclear(res);
	return r < 0 ? r : 0;
}

int64_t
store_pg_event_last_seq(struct store *s)
{
	PGresult *res;
	int64_t v = 0;

	if (run(pg_writer(s), P_EVENT_LAST, NULL, &res) < 0)
		return 0;
	if (PQntuples(res))
		v = store_pg_col_int64(res, 0, 0);
	PQclear(res);
	return v;
}

int
store_pg_event_history(struct store *s, const char *name, struct phase_event *ret,
    size_t max, size_t *ret_n)
{
	struct pg_params p = { .n = 0 };
	PGresult *res;
	size_t n = 0;
	int r;

	store_pg_param_text(&p, name);
	store_pg_param_int64(&p, (int64_t)(max < MAX_HISTORY_PER_NODE ? max :
	    MAX_HISTORY_PER_NODE));
	if ((r = run(pg_writer(s), P_HISTORY, &p, &res)) < 0)
		return r;
	for (int i = 0; i < PQntuples(res) && n < max; i++, n++) {
		store_pg_copy_col(ret[n].phase, sizeof(ret[n].phase), res, i, 0);
		store_pg_copy_col(ret[n].reason, sizeof(ret[n].reason), res, i, 1);
		ret[n].at = store_pg_col_int64(res, i, 2);
	}
	PQclear(res);
	*ret_n = n;
	return 0;
}
