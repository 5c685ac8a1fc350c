/* SPDX-License-Identifier: MIT */
/* The SQLite backend's history table: every phase change and controller action of every
 * node, in seq order (the events verb streams it; `nodectl node show` reads a node's). */
#include <string.h>

#include "store/store_sqlite.h"

/* History rows kept per node: enough for an admin to read a node's last few boots. */
#define MAX_HISTORY_PER_NODE 200

static const char events_since_sql[] =
	"SELECT seq, node, kind, phase, reason, at FROM history WHERE seq > ?1 "
	"ORDER BY seq LIMIT ?2";

static const char *const event_sql[_SQLITE_STMT_MAX] = {
	[S_EVENT_ADD] = "INSERT INTO history (node, kind, phase, reason, at) "
			"VALUES (?1,?2,?3,?4,?5)",
	[S_EVENT_LAST] = "SELECT coalesce(max(seq), 0) FROM history",
	[S_HISTORY] = "SELECT phase, reason, at FROM history WHERE node = ?1 AND kind = 'phase' "
		      "ORDER BY seq DESC LIMIT ?2",
	/* The node's rows older than its newest ?2, the oldest ?3 of them: walks the
	 * (node, seq) index, never the table. */
	[S_HISTORY_TRIM] = "DELETE FROM history WHERE seq IN (SELECT seq FROM history "
			   "WHERE node = ?1 AND seq <= (SELECT seq FROM history WHERE node = ?1 "
			   "ORDER BY seq DESC LIMIT 1 OFFSET ?2) ORDER BY seq LIMIT ?3)",
	/* Among the oldest ?2 rows by seq, those older than ?1: looks at ?2 rows at most
	 * (at grows with seq but for clock steps, so an old row behind a newer one waits
	 * until that one ages out too). */
	[S_HISTORY_PRUNE] = "DELETE FROM history WHERE seq IN (SELECT seq FROM (SELECT seq, "
			    "at FROM history ORDER BY seq LIMIT ?2) WHERE at < ?1)",
};

static sqlite3_stmt *
stmt(struct sqlite_conn *c, enum sqlite_stmt id)
{
	return store_sqlite_stmt(c, id, event_sql[id]);
}

int
store_sqlite_event_append(struct sqlite_conn *c, const char *node, const char *kind,
    const char *what, const char *reason, int64_t at)
{
	sqlite3_stmt *st = stmt(c, S_EVENT_ADD);
	int r;

	if (!st)
		return -EIO;
	store_sqlite_bind_text(st, 1, node);
	store_sqlite_bind_text(st, 2, kind);
	store_sqlite_bind_text(st, 3, what);
	store_sqlite_bind_text(st, 4, reason);
	sqlite3_bind_int64(st, 5, at);
	if ((r = store_sqlite_step_done(st)) < 0 || !c->history_max)
		return r;
	if (!(st = stmt(c, S_HISTORY_TRIM)))
		return -EIO;
	store_sqlite_bind_text(st, 1, node);
	sqlite3_bind_int64(st, 2, (int64_t)c->history_max);
	sqlite3_bind_int64(st, 3, MAX_HISTORY_TRIM);
	return store_sqlite_step_done(st);
}

void
store_sqlite_history_keep(struct store *s, unsigned max_per_node)
{
	sqlite_writer(s)->history_max = max_per_node;
}

int
store_sqlite_history_prune(struct store *s, int64_t before, unsigned max_rows,
    size_t *ret_n)
{
	struct sqlite_conn *c = sqlite_writer(s);
	sqlite3_stmt *st = stmt(c, S_HISTORY_PRUNE);
	int r;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, before);
	sqlite3_bind_int64(st, 2, (int64_t)max_rows);
	if ((r = store_sqlite_step_done(st)) < 0)
		return r;
	*ret_n = (size_t)sqlite3_changes(c->db);
	return 0;
}

int
store_sqlite_event_add(struct store *s, const char *node, const char *what,
    const char *reason, int64_t at)
{
	return store_sqlite_event_append(sqlite_writer(s), node, "action", what, reason, at);
}

int
store_sqlite_event_since(struct store *s, int64_t since, size_t max, store_event_fn fn,
    void *userdata)
{
	sqlite3_stmt *st;
	struct event_rec e;
	int rc, r = 0;

	/* Private statement: fn may write to the store. */
	if (sqlite3_prepare_v2(sqlite_writer(s)->db, events_since_sql, -1, &st, NULL) !=
	    SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, since);
	sqlite3_bind_int64(st, 2, (int64_t)max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&e, 0, sizeof(e));
		e.seq = sqlite3_column_int64(st, 0);
		store_sqlite_copy_col(e.node, sizeof(e.node), st, 1);
		store_sqlite_copy_col(e.kind, sizeof(e.kind), st, 2);
		store_sqlite_copy_col(e.what, sizeof(e.what), st, 3);
		store_sqlite_copy_col(e.reason, sizeof(e.reason), st, 4);
		e.at = sqlite3_column_int64(st, 5);
		r = fn(&e, userdata);
		if (r < 0)
			break;
	}
	sqlite3_finalize(st);
	if (r < 0)
		return r;
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -EIO;
}

int64_t
store_sqlite_event_last_seq(struct store *s)
{
	sqlite3_stmt *st = stmt(sqlite_writer(s), S_EVENT_LAST);
	int64_t v = 0;

	if (!st)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return v;
}

int
store_sqlite_event_history(struct store *s, const char *name, struct phase_event *ret,
    size_t max, size_t *ret_n)
{
	sqlite3_stmt *st = stmt(sqlite_writer(s), S_HISTORY);
	size_t n = 0;

	if (!st)
		return -EIO;
	store_sqlite_bind_text(st, 1, name);
	sqlite3_bind_int64(st, 2, (int64_t)(max < MAX_HISTORY_PER_NODE ? max :
	    MAX_HISTORY_PER_NODE));
	while (n < max && sqlite3_step(st) == SQLITE_ROW) {
		store_sqlite_copy_col(ret[n].phase, sizeof(ret[n].phase), st, 0);
		store_sqlite_copy_col(ret[n].reason, sizeof(ret[n].reason), st, 1);
		ret[n].at = sqlite3_column_int64(st, 2);
		n++;
	}
	sqlite3_reset(st);
	*ret_n = n;
	return 0;
}
