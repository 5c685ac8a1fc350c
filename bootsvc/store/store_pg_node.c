/* SPDX-License-Identifier: MIT */
/* The PostgreSQL backend's nodes: the nodes table, and the rows a node's removal takes
 * (as store_sqlite_node.c; the same columns in the same order). */
#include <string.h>

#include "store/store_pg.h"

#define NODE_COLS "name, mac, ip, uuid, serial, bmc, bmc_creds, image, image_pin, token, " \
	"phase, reason, phase_at, served_image, created, want_power, hold, hold_reason, " \
	"booted_image, power, op, op_at_ms, attempts, retry_at_ms, bmc_state, last_error, " \
	"alloc_job, alloc_class, health, health_reasons, sel_last, idle_since_ms, drain, drain_reason, " \
	"armed, armed_by"

static const char *const node_sql[_PG_STMT_MAX] = {
	/* DO NOTHING with no target: any uniqueness conflict (name, MAC, IP) inserts no row
	 * instead of failing, which would abort the caller's transaction. */
	[P_NODE_INSERT] = "INSERT INTO nodes (" NODE_COLS ") VALUES "
			  "($1,$2,NULLIF($3,''),$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,"
			  "$16,$17,$18,$19,$20,$21,$22,$23,$24,$25,$26,$27,$28,$29,$30,$31,$32,$33,$34,$35,$36) "
			  "ON CONFLICT DO NOTHING",
	[P_NODE_GET] = "SELECT " NODE_COLS " FROM nodes WHERE name = $1",
	[P_NODE_GET_MAC] = "SELECT " NODE_COLS " FROM nodes WHERE mac = $1",
	[P_NODE_GET_IP] = "SELECT " NODE_COLS " FROM nodes WHERE ip = $1",
	[P_NODE_DELETE] = "DELETE FROM nodes WHERE name = $1",
	[P_NODE_HISTORY_DELETE] = "DELETE FROM history WHERE node = $1",
	[P_NODE_ENERGY_DELETE] = "DELETE FROM energy WHERE node = $1",
	[P_NODE_UPDATE] = "UPDATE nodes SET uuid=$2, serial=$3, bmc=$4, bmc_creds=$5, image=$6, "
			  "image_pin=$7, served_image=$8, ip=NULLIF($9,'') WHERE name = $1",
	[P_NODE_PHASE] = "UPDATE nodes SET phase=$2, reason=$3, phase_at=$4 WHERE name = $1",
	[P_NODE_CTRL] = "UPDATE nodes SET want_power=$2, hold=$3, hold_reason=$4, booted_image=$5, "
			"power=$6, op=$7, op_at_ms=$8, attempts=$9, retry_at_ms=$10, bmc_state=$11, "
			"last_error=$12, alloc_job=$13, alloc_class=$14, health=$15, "
			"health_reasons=$16, sel_last=$17, idle_since_ms=$18, drain=$19, "
			"drain_reason=$20 WHERE name = $1",
	[P_NODE_ARM] = "UPDATE nodes SET token=$2, armed=$3, armed_by=$4 WHERE name = $1",
	[P_IP_USED] = "SELECT 1 FROM nodes WHERE ip = $1",
	[P_COUNT_PHASE] = "SELECT phase, count(*) FROM nodes GROUP BY phase ORDER BY phase",
	[P_HEALTH_STATE_GET] = "SELECT health_state FROM nodes WHERE name = $1",
	[P_HEALTH_STATE_SET] = "UPDATE nodes SET health_state = $2 WHERE name = $1",
	[P_NODE_ALL] = "SELECT " NODE_COLS " FROM nodes ORDER BY name",
	[P_NODE_MANAGED] = "SELECT " NODE_COLS " FROM nodes WHERE bmc != '' AND "
			   "bmc_creds != '' ORDER BY name",
};

static const enum pg_stmt get_stmt[_STORE_NODE_KEY_MAX] = {
	[STORE_NODE_BY_NAME] = P_NODE_GET,
	[STORE_NODE_BY_MAC] = P_NODE_GET_MAC,
	[STORE_NODE_BY_IP] = P_NODE_GET_IP,
};

static const enum pg_stmt foreach_stmt[_STORE_NODE_SET_MAX] = {
	[STORE_NODES_ALL] = P_NODE_ALL,
	[STORE_NODES_MANAGED] = P_NODE_MANAGED,
};

static int
run(struct pg_conn *c, enum pg_stmt id, const struct pg_params *p, PGresult **ret)
{
	return store_pg_run(c, id, node_sql[id], p, ret);
}

#define NODE_COL(field) PG_COL(struct node_rec, field)

static const struct pg_col node_id_cols[] = {
	NODE_COL(name), NODE_COL(mac), NODE_COL(ip), NODE_COL(uuid), NODE_COL(serial),
	NODE_COL(bmc), NODE_COL(bmc_creds), NODE_COL(image), NODE_COL(image_pin),
	NODE_COL(token), NODE_COL(phase), NODE_COL(reason), NODE_COL(phase_at),
	NODE_COL(served_image), NODE_COL(created),
};

/* A node not yet judged is stored as "ok" (as the SQLite backend). */
static const struct pg_col node_ctrl_cols[] = {
	NODE_COL(want_power), NODE_COL(hold), NODE_COL(hold_reason), NODE_COL(booted_image),
	NODE_COL(power), NODE_COL(op), NODE_COL(op_at_ms), NODE_COL(attempts),
	NODE_COL(retry_at_ms), NODE_COL(bmc_state), NODE_COL(last_error),
	NODE_COL(alloc_job), NODE_COL(alloc_class),
	PG_COL_OR(struct node_rec, health, "ok"), NODE_COL(health_reasons),
	NODE_COL(sel_last), NODE_COL(idle_since_ms), NODE_COL(drain), NODE_COL(drain_reason),
};

static const struct pg_col node_arm_cols[] = {
	NODE_COL(armed), NODE_COL(armed_by),
};

_Static_assert(ELEMENTSOF(node_id_cols) + ELEMENTSOF(node_ctrl_cols) +
    ELEMENTSOF(node_arm_cols) == 36,
    "NODE_COLS names 36 columns, P_NODE_INSERT binds $1..$36");

static const struct pg_col node_update_cols[] = {
	NODE_COL(name), NODE_COL(uuid), NODE_COL(serial), NODE_COL(bmc), NODE_COL(bmc_creds),
	NODE_COL(image), NODE_COL(image_pin), NODE_COL(served_image),
	NODE_COL(ip), /* a discovered node's lease made its fixed address (issue 16) */
};

int
store_pg_node_insert(struct store *s, const struct node_rec *n, struct dl_err *reterr)
{
	struct pg_params p = { .n = 0 };
	bool own;
	int r;

	store_pg_params_cols(&p, n, node_id_cols, ELEMENTSOF(node_id_cols));
	store_pg_params_cols(&p, n, node_ctrl_cols, ELEMENTSOF(node_ctrl_cols));
	store_pg_params_cols(&p, n, node_arm_cols, ELEMENTSOF(node_arm_cols));
	if ((r = store_pg_write_begin(s, &own)) < 0)
		return store_pg_write_refused(reterr, r);
	r = store_pg_run_changed(pg_writer(s), P_NODE_INSERT, node_sql[P_NODE_INSERT], &p);
	if (r == -ENOENT)
		r = -EEXIST; /* no row inserted: a conflict (store.c names it) */
	r = store_pg_write_end(s, own, r);
	if (r == -EIO)
		return dl_err_set(reterr, -EIO, "store: inserting node '%s' failed", n->name);
	return r;
}

static void
node_from_row(const PGresult *res, int row, struct node_rec *n)
{
	memset(n, 0, sizeof(*n));
	store_pg_read_cols(res, row, 0, n, node_id_cols, ELEMENTSOF(node_id_cols));
	store_pg_read_cols(res, row, ELEMENTSOF(node_id_cols), n, node_ctrl_cols,
	    ELEMENTSOF(node_ctrl_cols));
	store_pg_read_cols(res, row, ELEMENTSOF(node_id_cols) + ELEMENTSOF(node_ctrl_cols), n,
	    node_arm_cols, ELEMENTSOF(node_arm_cols));
}

int
store_pg_node_get(struct store_reader *rd, enum store_node_key key, const char *value,
    struct node_rec *ret)
{
	struct pg_params p = { .n = 0 };
	PGresult *res;
	int r;

	store_pg_param_text(&p, value);
	if ((r = run(pg_conn_of(rd), get_stmt[key], &p, &res)) < 0)
		return r;
	r = PQntuples(res) ? 0 : -ENOENT;
	if (r == 0)
		node_from_row(res, 0, ret);
	PQclear(res);
	return r;
}

int
store_pg_node_delete(struct store *s, const char *name)
{
	struct pg_conn *c = pg_writer(s);
	struct pg_params p = { .n = 0 };
	bool own;
	int r;

	store_pg_param_text(&p, name);
	if ((r = store_pg_write_begin(s, &own)) < 0)
		return r;
	if ((r = store_pg_run_changed(c, P_NODE_DELETE, node_sql[P_NODE_DELETE], &p)) == 0 &&
	    (r = run(c, P_NODE_ENERGY_DELETE, &p, NULL)) == 0)
		r = run(c, P_NODE_HISTORY_DELETE, &p, NULL);
	return store_pg_write_end(s, own, r);
}

/* One UPDATE of the writer by statement id: 0, -ENOENT no such row, -EIO. */
static int
update(struct store *s, enum pg_stmt id, const struct pg_params *p)
{
	bool own;
	int r;

	if ((r = store_pg_write_begin(s, &own)) < 0)
		return r;
	r = store_pg_run_changed(pg_writer(s), id, node_sql[id], p);
	return store_pg_write_end(s, own, r);
}

int
store_pg_node_update(struct store *s, const struct node_rec *n)
{
	struct pg_params p = { .n = 0 };

	store_pg_params_cols(&p, n, node_update_cols, ELEMENTSOF(node_update_cols));
	return update(s, P_NODE_UPDATE, &p);
}

int
store_pg_node_update_ctrl(struct store *s, const struct node_rec *n)
{
	struct pg_params p = { .n = 0 };

	store_pg_param_text(&p, n->name);
	store_pg_params_cols(&p, n, node_ctrl_cols, ELEMENTSOF(node_ctrl_cols));
	return update(s, P_NODE_CTRL, &p);
}

int
store_pg_node_arm(struct store *s, const char *name, const char *token, bool armed,
    const char *armed_by)
{
	struct pg_params p = { .n = 0 };

	store_pg_param_text(&p, name);
	store_pg_param_text(&p, token);
	store_pg_param_int64(&p, armed ? 1 : 0);
	store_pg_param_text(&p, armed_by);
	return update(s, P_NODE_ARM, &p);
}

int
store_pg_node_set_phase(struct store *s, const char *name, const char *phase,
    const char *reason, int64_t at)
{
	struct pg_params p = { .n = 0 };
	bool own;
	int r;

	store_pg_param_text(&p, name);
	store_pg_param_text(&p, phase);
	store_pg_param_text(&p, reason);
	store_pg_param_int64(&p, at);
	if ((r = store_pg_write_begin(s, &own)) < 0)
		return r;
	if ((r = store_pg_run_changed(pg_writer(s), P_NODE_PHASE, node_sql[P_NODE_PHASE],
	    &p)) == 0)
		r = store_pg_event_append(s, name, "phase", phase, reason, at);
	return store_pg_write_end(s, own, r);
}

int
store_pg_node_health_state_get(struct store *s, const char *name, char **ret)
{
	struct pg_params p = { .n = 0 };
	PGresult *res;
	int r;

	store_pg_param_text(&p, name);
	if ((r = run(pg_writer(s), P_HEALTH_STATE_GET, &p, &res)) < 0)
		return r;
	if (PQntuples(res) == 0)
		r = -ENOENT;
	else
		r = (*ret = strdup(PQgetvalue(res, 0, 0))) ? 0 : -ENOMEM;
	PQclear(res);
	return r;
}

int
store_pg_node_health_state_set(struct store *s, const char *name, const char *json)
{
	struct pg_params p = { .n = 0 };
	bool own;
	int r;

	store_pg_param_text(&p, name);
	store_pg_param_text(&p, json);
	if ((r = store_pg_write_begin(s, &own)) < 0)
		return r;
	r = run(pg_writer(s), P_HEALTH_STATE_SET, &p, NULL);
	return store_pg_write_end(s, own, r);
}

int
store_pg_node_foreach(struct store *s, enum store_node_set set, store_node_fn fn,
    void *userdata)
{
	PGresult *res;
	struct node_rec n;
	int r;

	/* The rows are all in res before fn runs: fn may call back into the store. */
	if ((r = run(pg_writer(s), foreach_stmt[set], NULL, &res)) < 0)
		return r;
	for (int i = 0; i < PQntuples(res) && r >= 0; i++) {
		node_from_row(res, i, &n);
		r = fn(&n, userdata);
	}
	PQclear(res);
	return r < 0 ? r : 0;
}

bool
store_pg_node_ip_used(struct store *s, const char *ip)
{
	struct pg_params p = { .n = 0 };
	PGresult *res;
	bool used;

	store_pg_param_text(&p, ip);
	if (run(pg_writer(s), P_IP_USED, &p, &res) < 0)
		return true; /* claim it is taken: never hand out an address twice */
	used = PQntuples(res) > 0;
	PQclear(res);
	return used;
}

int
store_pg_node_count_by_phase(struct store *s, store_count_fn fn, void *userdata)
{
	PGresult *res;
	int r;

	if ((r = run(pg_writer(s), P_COUNT_PHASE, NULL, &res)) < 0)
		return r;
	for (int i = 0; i < PQntuples(res); i++)
		fn(PQgetvalue(res, i, 0), store_pg_col_int64(res, i, 1), userdata);
	PQclear(res);
	return 0;
}
