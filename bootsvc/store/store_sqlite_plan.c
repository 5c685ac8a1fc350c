/* SPDX-License-Identifier: MIT */
/* The SQLite backend's VM plans, their steps and the drained VM hosts (issue 13): a row
 * per plan (id assigned here), a row per step keyed by (plan_id, seq) and gone with its
 * plan, a row per drained node gone with the node. */
#include <string.h>

#include "store/store_sqlite.h"

#define PLAN_COLS "strategy, origin, state, reason, created_ms, ended_ms, migrations, " \
	"hosts_freed, unplaced, mib_moved, peak_c_before, peak_c_after"
#define STEP_COLS "plan_id, seq, action, priority, vm_uuid, vm_name, src, dst, mem_mib, " \
	"state, reason, attempts, started_ms, ended_ms, data_total, data_processed, " \
	"data_remaining, downtime_ms, postcopy"
/* Unfinished: what the executor still acts on (vm_plans_state finds them). */
#define UNFINISHED "('pending', 'running')"
#define FINISHED "('done', 'failed', 'cancelled')"

static const char *const plan_sql[_SQLITE_STMT_MAX] = {
	[S_VM_PLAN_INSERT] = "INSERT INTO vm_plans (" PLAN_COLS ") VALUES "
			     "(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)",
	[S_VM_STEP_INSERT] = "INSERT INTO vm_steps (" STEP_COLS ") VALUES "
			     "(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19)",
	[S_VM_PLAN_GET] = "SELECT id, " PLAN_COLS " FROM vm_plans WHERE id = ?1",
	/* created_ms (?5, bound but unused) is when it was decided: never rewritten */
	[S_VM_PLAN_PUT] = "UPDATE vm_plans SET strategy = ?1, origin = ?2, state = ?3, "
			  "reason = ?4, ended_ms = ?6, migrations = ?7, hosts_freed = ?8, "
			  "unplaced = ?9, mib_moved = ?10, peak_c_before = ?11, "
			  "peak_c_after = ?12 WHERE id = ?13",
	[S_VM_STEP_PUT] = "UPDATE vm_steps SET action = ?3, priority = ?4, vm_uuid = ?5, "
			  "vm_name = ?6, src = ?7, dst = ?8, mem_mib = ?9, state = ?10, "
			  "reason = ?11, attempts = ?12, started_ms = ?13, ended_ms = ?14, "
			  "data_total = ?15, data_processed = ?16, data_remaining = ?17, "
			  "downtime_ms = ?18, postcopy = ?19 WHERE plan_id = ?1 AND seq = ?2",
	/* the oldest first, a bounded number per call (steps go by the cascade) */
	[S_VM_PLAN_PRUNE] = "DELETE FROM vm_plans WHERE id IN (SELECT id FROM vm_plans "
			    "WHERE state IN " FINISHED " AND ended_ms < ?1 ORDER BY id LIMIT ?2)",
	[S_VM_DRAIN_PUT] = "INSERT INTO vm_drains (node, reason) VALUES (?1, ?2) "
			   "ON CONFLICT(node) DO UPDATE SET reason = ?2",
	[S_VM_DRAIN_DELETE] = "DELETE FROM vm_drains WHERE node = ?1",
	[S_VM_DRAIN_GET] = "SELECT reason FROM vm_drains WHERE node = ?1",
};

static sqlite3_stmt *
stmt(struct sqlite_conn *c, enum sqlite_stmt id)
{
	return store_sqlite_stmt(c, id, plan_sql[id]);
}

/* The plan's columns up to mib_moved: the doubles are bound and read by hand (no column
 * type of their own in store_sqlite.h, and two fields do not need one). */
#define PLAN_COL(field) SQLITE_COL(struct vm_plan_rec, field)
static const struct sqlite_col plan_cols[] = {
	PLAN_COL(strategy), PLAN_COL(origin), PLAN_COL(state), PLAN_COL(reason),
	PLAN_COL(created_ms), PLAN_COL(ended_ms), PLAN_COL(migrations), PLAN_COL(hosts_freed),
	PLAN_COL(unplaced), PLAN_COL(mib_moved),
};
#define PLAN_DOUBLES_AT 11 /* ?11, ?12: peak_c_before, peak_c_after; ?13 the id */

#define STEP_COL(field) SQLITE_COL(struct vm_step_rec, field)
static const struct sqlite_col step_cols[] = {
	STEP_COL(plan_id), STEP_COL(seq), STEP_COL(action), STEP_COL(priority),
	STEP_COL(vm_uuid), STEP_COL(vm_name), STEP_COL(src), STEP_COL(dst), STEP_COL(mem_mib),
	STEP_COL(state), STEP_COL(reason), STEP_COL(attempts), STEP_COL(started_ms),
	STEP_COL(ended_ms), STEP_COL(data_total), STEP_COL(data_processed),
	STEP_COL(data_remaining), STEP_COL(downtime_ms), STEP_COL(postcopy),
};

static void
plan_bind(sqlite3_stmt *st, const struct vm_plan_rec *p)
{
	store_sqlite_bind_cols(st, 1, p, plan_cols, ELEMENTSOF(plan_cols));
	sqlite3_bind_double(st, PLAN_DOUBLES_AT, p->peak_c_before);
	sqlite3_bind_double(st, PLAN_DOUBLES_AT + 1, p->peak_c_after);
}

/* A row of "SELECT id, " PLAN_COLS. */
static void
plan_read(sqlite3_stmt *st, struct vm_plan_rec *p)
{
	memset(p, 0, sizeof(*p));
	p->id = sqlite3_column_int64(st, 0);
	store_sqlite_read_cols(st, 1, p, plan_cols, ELEMENTSOF(plan_cols));
	p->peak_c_before = sqlite3_column_double(st, PLAN_DOUBLES_AT);
	p->peak_c_after = sqlite3_column_double(st, PLAN_DOUBLES_AT + 1);
}

int
store_sqlite_vm_plan_insert(struct store *s, const struct vm_plan_rec *p, int64_t *ret_id)
{
	struct sqlite_conn *c = sqlite_writer(s);
	sqlite3_stmt *st = stmt(c, S_VM_PLAN_INSERT);
	int rc;

	if (!st)
		return -EIO;
	plan_bind(st, p);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return -EIO;
	*ret_id = sqlite3_last_insert_rowid(c->db);
	return 0;
}

int
store_sqlite_vm_step_insert(struct store *s, const struct vm_step_rec *step)
{
	sqlite3_stmt *st = stmt(sqlite_writer(s), S_VM_STEP_INSERT);
	int rc;

	if (!st)
		return -EIO;
	store_sqlite_bind_cols(st, 1, step, step_cols, ELEMENTSOF(step_cols));
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return 0;
	return rc == SQLITE_CONSTRAINT ? -EEXIST : -EIO; /* (plan_id, seq) taken */
}

int
store_sqlite_vm_plan_get(struct store *s, int64_t id, struct vm_plan_rec *ret)
{
	sqlite3_stmt *st = stmt(sqlite_writer(s), S_VM_PLAN_GET);
	int rc;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		plan_read(st, ret);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

int
store_sqlite_vm_plan_put(struct store *s, const struct vm_plan_rec *p)
{
	struct sqlite_conn *c = sqlite_writer(s);
	sqlite3_stmt *st = stmt(c, S_VM_PLAN_PUT);

	if (!st)
		return -EIO;
	plan_bind(st, p);
	sqlite3_bind_int64(st, 13, p->id);
	return store_sqlite_step_changed(c, st);
}

int
store_sqlite_vm_plan_foreach(struct store *s, bool unfinished_only, store_vm_plan_fn fn,
    void *userdata)
{
	sqlite3_stmt *st;
	struct vm_plan_rec p;
	int rc, r = 0;

	/* A private statement: fn may call back into the store. */
	if (sqlite3_prepare_v2(sqlite_writer(s)->db, unfinished_only ?
	    "SELECT id, " PLAN_COLS " FROM vm_plans WHERE state IN " UNFINISHED " ORDER BY id" :
	    "SELECT id, " PLAN_COLS " FROM vm_plans ORDER BY id", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		plan_read(st, &p);
		if ((r = fn(&p, userdata)) < 0)
			break;
	}
	sqlite3_finalize(st);
	if (r < 0)
		return r;
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int
store_sqlite_vm_step_put(struct store *s, const struct vm_step_rec *step)
{
	struct sqlite_conn *c = sqlite_writer(s);
	sqlite3_stmt *st = stmt(c, S_VM_STEP_PUT);

	if (!st)
		return -EIO;
	store_sqlite_bind_cols(st, 1, step, step_cols, ELEMENTSOF(step_cols));
	return store_sqlite_step_changed(c, st);
}

int
store_sqlite_vm_step_foreach(struct store *s, int64_t plan_id, store_vm_step_fn fn,
    void *userdata)
{
	sqlite3_stmt *st;
	struct vm_step_rec step;
	int rc, r = 0;

	/* A private statement: fn may call back into the store (the executor writes the
	 * step it was handed). The executor's order: priority, then plan, then seq. */
	if (sqlite3_prepare_v2(sqlite_writer(s)->db, plan_id ?
	    "SELECT " STEP_COLS " FROM vm_steps WHERE plan_id = ?1 "
	    "ORDER BY priority, plan_id, seq" :
	    "SELECT " STEP_COLS " FROM vm_steps WHERE plan_id IN (SELECT id FROM vm_plans "
	    "WHERE state IN " UNFINISHED ") ORDER BY priority, plan_id, seq", -1, &st,
	    NULL) != SQLITE_OK)
		return -EIO;
	if (plan_id)
		sqlite3_bind_int64(st, 1, plan_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&step, 0, sizeof(step));
		store_sqlite_read_cols(st, 0, &step, step_cols, ELEMENTSOF(step_cols));
		if ((r = fn(&step, userdata)) < 0)
			break;
	}
	sqlite3_finalize(st);
	if (r < 0)
		return r;
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int
store_sqlite_vm_plan_prune(struct store *s, int64_t before_ms, unsigned max)
{
	struct sqlite_conn *c = sqlite_writer(s);
	sqlite3_stmt *st = stmt(c, S_VM_PLAN_PRUNE);
	int r;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, before_ms);
	sqlite3_bind_int64(st, 2, max);
	if ((r = store_sqlite_step_done(st)) < 0)
		return r;
	return sqlite3_changes(c->db);
}

int
store_sqlite_vm_drain_put(struct store *s, const char *node, const char *reason)
{
	sqlite3_stmt *st = stmt(sqlite_writer(s), S_VM_DRAIN_PUT);
	int rc;

	if (!st)
		return -EIO;
	store_sqlite_bind_text(st, 1, node);
	store_sqlite_bind_text(st, 2, reason);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return 0;
	return rc == SQLITE_CONSTRAINT ? -ENOENT : -EIO; /* the foreign key: no such node */
}

int
store_sqlite_vm_drain_delete(struct store *s, const char *node)
{
	struct sqlite_conn *c = sqlite_writer(s);
	sqlite3_stmt *st = stmt(c, S_VM_DRAIN_DELETE);

	if (!st)
		return -EIO;
	store_sqlite_bind_text(st, 1, node);
	return store_sqlite_step_changed(c, st);
}

int
store_sqlite_vm_drain_get(struct store *s, const char *node, char *reason, size_t size)
{
	sqlite3_stmt *st = stmt(sqlite_writer(s), S_VM_DRAIN_GET);
	int rc;

	if (!st)
		return -EIO;
	store_sqlite_bind_text(st, 1, node);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		store_sqlite_copy_col(reason, size, st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

int
store_sqlite_vm_drain_foreach(struct store *s, store_vm_drain_fn fn, void *userdata)
{
	sqlite3_stmt *st;
	char node[MAX_NODE_NAME], reason[MAX_REASON];
	int rc, r = 0;

	if (sqlite3_prepare_v2(sqlite_writer(s)->db, "SELECT node, reason FROM vm_drains "
	    "ORDER BY node", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		store_sqlite_copy_col(node, sizeof(node), st, 0);
		store_sqlite_copy_col(reason, sizeof(reason), st, 1);
		if ((r = fn(node, reason, userdata)) < 0)
			break;
	}
	sqlite3_finalize(st);
	if (r < 0)
		return r;
	return rc == SQLITE_DONE ? 0 : -EIO;
}
