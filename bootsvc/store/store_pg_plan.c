/* SPDX-License-Identifier: MIT */
/* The PostgreSQL backend's VM plans, their steps and the drained VM hosts (issue 13), as
 * store_sqlite_plan.c. */
#include <stdlib.h>
#include <string.h>

#include "store/store_pg.h"

#define PLAN_COLS "strategy, origin, state, reason, created_ms, ended_ms, migrations, " \
	"hosts_freed, unplaced, mib_moved, peak_c_before, peak_c_after"
#define STEP_COLS "plan_id, seq, action, priority, vm_uuid, vm_name, src, dst, mem_mib, " \
	"state, reason, attempts, started_ms, ended_ms, data_total, data_processed, " \
	"data_remaining, downtime_ms, postcopy"
#define UNFINISHED "('pending', 'running')"
#define FINISHED "('done', 'failed', 'cancelled')"

static const char *const plan_sql[_PG_STMT_MAX] = {
	[P_VM_PLAN_INSERT] = "INSERT INTO vm_plans (" PLAN_COLS ") VALUES "
			     "($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) RETURNING id",
	/* DO NOTHING: a (plan_id, seq) taken inserts no row (-EEXIST); a plan that is not
	 * there fails the foreign key, inside a savepoint */
	[P_VM_STEP_INSERT] = "INSERT INTO vm_steps (" STEP_COLS ") VALUES "
			     "($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19) "
			     "ON CONFLICT DO NOTHING",
	[P_VM_PLAN_GET] = "SELECT id, " PLAN_COLS " FROM vm_plans WHERE id = $1",
	/* created_ms ($5, bound but unused) is when it was decided: never rewritten */
	[P_VM_PLAN_PUT] = "UPDATE vm_plans SET strategy = $1, origin = $2, state = $3, "
			  "reason = $4, ended_ms = $6, migrations = $7, hosts_freed = $8, "
			  "unplaced = $9, mib_moved = $10, peak_c_before = $11, "
			  "peak_c_after = $12 WHERE id = $13 AND $5::bigint IS NOT NULL",
	[P_VM_STEP_PUT] = "UPDATE vm_steps SET action = $3, priority = $4, vm_uuid = $5, "
			  "vm_name = $6, src = $7, dst = $8, mem_mib = $9, state = $10, "
			  "reason = $11, attempts = $12, started_ms = $13, ended_ms = $14, "
			  "data_total = $15, data_processed = $16, data_remaining = $17, "
			  "downtime_ms = $18, postcopy = $19 WHERE plan_id = $1 AND seq = $2",
	[P_VM_PLAN_PRUNE] = "DELETE FROM vm_plans WHERE id IN (SELECT id FROM vm_plans "
			    "WHERE state IN " FINISHED " AND ended_ms < $1 ORDER BY id LIMIT $2)",
	[P_VM_DRAIN_PUT] = "INSERT INTO vm_drains (node, reason) VALUES ($1, $2) "
			   "ON CONFLICT (node) DO UPDATE SET reason = $2",
	[P_VM_DRAIN_DELETE] = "DELETE FROM vm_drains WHERE node = $1",
	[P_VM_DRAIN_GET] = "SELECT reason FROM vm_drains WHERE node = $1",
	[P_VM_PLAN_ALL] = "SELECT id, " PLAN_COLS " FROM vm_plans ORDER BY id",
	[P_VM_PLAN_UNFINISHED] = "SELECT id, " PLAN_COLS " FROM vm_plans WHERE state IN "
				 UNFINISHED " ORDER BY id",
	[P_VM_STEP_PLAN] = "SELECT " STEP_COLS " FROM vm_steps WHERE plan_id = $1 "
			   "ORDER BY priority, plan_id, seq",
	[P_VM_STEP_UNFINISHED] = "SELECT " STEP_COLS " FROM vm_steps WHERE plan_id IN (SELECT "
				 "id FROM vm_plans WHERE state IN " UNFINISHED ") "
				 "ORDER BY priority, plan_id, seq",
	[P_VM_DRAIN_ALL] = "SELECT node, reason FROM vm_drains ORDER BY node",
};

static int
run(struct pg_conn *c, enum pg_stmt id, const struct pg_params *p, PGresult **ret)
{
	return store_pg_run(c, id, plan_sql[id], p, ret);
}

/* One write of statement id: rows changed, or none (-ENOENT) when changed is set. */
static int
write1(struct store *s, enum pg_stmt id, const struct pg_params *p, bool changed)
{
	bool own;
	int r;

	if ((r = store_pg_write_begin(s, &own)) < 0)
		return r;
	r = changed ? store_pg_run_changed(pg_writer(s), id, plan_sql[id], p) :
	    run(pg_writer(s), id, p, NULL);
	return store_pg_write_end(s, own, r);
}

#define PLAN_COL(field) PG_COL(struct vm_plan_rec, field)
static const struct pg_col plan_cols[] = {
	PLAN_COL(strategy), PLAN_COL(origin), PLAN_COL(state), PLAN_COL(reason),
	PLAN_COL(created_ms), PLAN_COL(ended_ms), PLAN_COL(migrations), PLAN_COL(hosts_freed),
	PLAN_COL(unplaced), PLAN_COL(mib_moved),
};
#define PLAN_DOUBLES_AT 10 /* 0-based: peak_c_before, peak_c_after after the columns */

#define STEP_COL(field) PG_COL(struct vm_step_rec, field)
static const struct pg_col step_cols[] = {
	STEP_COL(plan_id), STEP_COL(seq), STEP_COL(action), STEP_COL(priority),
	STEP_COL(vm_uuid), STEP_COL(vm_name), STEP_COL(src), STEP_COL(dst), STEP_COL(mem_mib),
	STEP_COL(state), STEP_COL(reason), STEP_COL(attempts), STEP_COL(started_ms),
	STEP_COL(ended_ms), STEP_COL(data_total), STEP_COL(data_processed),
	STEP_COL(data_remaining), STEP_COL(downtime_ms), STEP_COL(postcopy),
};

static void
plan_params(struct pg_params *p, const struct vm_plan_rec *plan)
{
	store_pg_params_cols(p, plan, plan_cols, ELEMENTSOF(plan_cols));
	store_pg_param_double(p, plan->peak_c_before);
	store_pg_param_double(p, plan->peak_c_after);
}

/* Row i of "SELECT id, " PLAN_COLS. */
static void
plan_read(const PGresult *res, int i, struct vm_plan_rec *p)
{
	memset(p, 0, sizeof(*p));
	p->id = store_pg_col_int64(res, i, 0);
	store_pg_read_cols(res, i, 1, p, plan_cols, ELEMENTSOF(plan_cols));
	p->peak_c_before = strtod(PQgetvalue(res, i, 1 + PLAN_DOUBLES_AT), NULL);
	p->peak_c_after = strtod(PQgetvalue(res, i, 2 + PLAN_DOUBLES_AT), NULL);
}

int
store_pg_vm_plan_insert(struct store *s, const struct vm_plan_rec *plan, int64_t *ret_id)
{
	struct pg_params p = { .n = 0 };
	PGresult *res;
	bool own;
	int r;

	plan_params(&p, plan);
	if ((r = store_pg_write_begin(s, &own)) < 0)
		return r;
	if ((r = run(pg_writer(s), P_VM_PLAN_INSERT, &p, &res)) == 0) {
		if (PQntuples(res))
			*ret_id = store_pg_col_int64(res, 0, 0);
		else
			r = -EIO;
		PQclear(res);
	}
	return store_pg_write_end(s, own, r);
}

int
store_pg_vm_step_insert(struct store *s, const struct vm_step_rec *step)
{
	struct pg_params p = { .n = 0 };
	PGresult *res;
	bool own;
	int r;

	store_pg_params_cols(&p, step, step_cols, ELEMENTSOF(step_cols));
	if ((r = store_pg_write_begin(s, &own)) < 0)
		return r;
	if ((r = store_pg_write_risky(pg_writer(s), P_VM_STEP_INSERT,
	    plan_sql[P_VM_STEP_INSERT], &p, &res)) == 0) {
		r = strcmp(PQcmdTuples(res), "0") == 0 ? -EEXIST : 0;
		PQclear(res);
	} else if (r == -ENOENT)
		r = -EEXIST; /* no such plan: a constraint, as the SQLite backend says */
	return store_pg_write_end(s, own, r);
}

int
store_pg_vm_plan_get(struct store *s, int64_t id, struct vm_plan_rec *ret)
{
	struct pg_params p = { .n = 0 };
	PGresult *res;
	int r;

	store_pg_param_int64(&p, id);
	if ((r = run(pg_writer(s), P_VM_PLAN_GET, &p, &res)) < 0)
		return r;
	r = PQntuples(res) ? 0 : -ENOENT;
	if (r == 0)
		plan_read(res, 0, ret);
	PQclear(res);
	return r;
}

int
store_pg_vm_plan_put(struct store *s, const struct vm_plan_rec *plan)
{
	struct pg_params p = { .n = 0 };

	plan_params(&p, plan);
	store_pg_param_int64(&p, plan->id);
	return write1(s, P_VM_PLAN_PUT, &p, true);
}

int
store_pg_vm_plan_foreach(struct store *s, bool unfinished_only, store_vm_plan_fn fn,
    void *userdata)
{
	struct vm_plan_rec plan;
	PGresult *res;
	int r;

	if ((r = run(pg_writer(s), unfinished_only ? P_VM_PLAN_UNFINISHED : P_VM_PLAN_ALL,
	    NULL, &res)) < 0)
		return r;
	for (int i = 0; i < PQntuples(res) && r >= 0; i++) {
		plan_read(res, i, &plan);
		r = fn(&plan, userdata);
	}
	PQclear(res);
	return r < 0 ? r : 0;
}

int
store_pg_vm_step_put(struct store *s, const struct vm_step_rec *step)
{
	struct pg_params p = { .n = 0 };

	store_pg_params_cols(&p, step, step_cols, ELEMENTSOF(step_cols));
	return write1(s, P_VM_STEP_PUT, &p, true);
}

int
store_pg_vm_step_foreach(struct store *s, int64_t plan_id, store_vm_step_fn fn,
    void *userdata)
{
	struct pg_params p = { .n = 0 };
	struct vm_step_rec step;
	PGresult *res;
	int r;

	if (plan_id)
		store_pg_param_int64(&p, plan_id);
	if ((r = run(pg_writer(s), plan_id ? P_VM_STEP_PLAN : P_VM_STEP_UNFINISHED, &p,
	    &res)) < 0)
		return r;
	for (int i = 0; i < PQntuples(res) && r >= 0; i++) {
		memset(&step, 0, sizeof(step));
		store_pg_read_cols(res, i, 0, &step, step_cols, ELEMENTSOF(step_cols));
		r = fn(&step, userdata);
	}
	PQclear(res);
	return r < 0 ? r : 0;
}

int
store_pg_vm_plan_prune(struct store *s, int64_t before_ms, unsigned max)
{
	struct pg_params p = { .n = 0 };
	PGresult *res;
	bool own;
	int r;

	store_pg_param_int64(&p, before_ms);
	store_pg_param_int64(&p, max);
	if ((r = store_pg_write_begin(s, &own)) < 0)
		return r;
	if ((r = run(pg_writer(s), P_VM_PLAN_PRUNE, &p, &res)) == 0) {
		r = (int)strtol(PQcmdTuples(res), NULL, 10);
		PQclear(res);
	}
	return store_pg_write_end(s, own, r);
}

int
store_pg_vm_drain_put(struct store *s, const char *node, const char *reason)
{
	struct pg_params p = { .n = 0 };
	bool own;
	int r;

	store_pg_param_text(&p, node);
	store_pg_param_text(&p, reason);
	if ((r = store_pg_write_begin(s, &own)) < 0)
		return r;
	/* the foreign key: no such node is -ENOENT, in a savepoint */
	r = store_pg_write_risky(pg_writer(s), P_VM_DRAIN_PUT, plan_sql[P_VM_DRAIN_PUT], &p,
	    NULL);
	return store_pg_write_end(s, own, r == -EEXIST ? -EIO : r);
}

int
store_pg_vm_drain_delete(struct store *s, const char *node)
{
	struct pg_params p = { .n = 0 };

	store_pg_param_text(&p, node);
	return write1(s, P_VM_DRAIN_DELETE, &p, true);
}

int
store_pg_vm_drain_get(struct store *s, const char *node, char *reason, size_t size)
{
	struct pg_params p = { .n = 0 };
	PGresult *res;
	int r;

	store_pg_param_text(&p, node);
	if ((r = run(pg_writer(s), P_VM_DRAIN_GET, &p, &res)) < 0)
		return r;
	r = PQntuples(res) ? 0 : -ENOENT;
	if (r == 0)
		store_pg_copy_col(reason, size, res, 0, 0);
	PQclear(res);
	return r;
}

int
store_pg_vm_drain_foreach(struct store *s, store_vm_drain_fn fn, void *userdata)
{
	char node[MAX_NODE_NAME], reason[MAX_REASON];
	PGresult *res;
	int r;

	if ((r = run(pg_writer(s), P_VM_DRAIN_ALL, NULL, &res)) < 0)
		return r;
	for (int i = 0; i < PQntuples(res) && r >= 0; i++) {
		store_pg_copy_col(node, sizeof(node), res, i, 0);
		store_pg_copy_col(reason, sizeof(reason), res, i, 1);
		r = fn(node, reason, userdata);
	}
	PQclear(res);
	return r < 0 ? r : 0;
}
