/* SPDX-License-Identifier: MIT */
/* The SQLite backend's nodes: the nodes table, and the rows a node's removal takes. */
#include <string.h>

#include "store/store_sqlite.h"

#define NODE_COLS "name, mac, ip, uuid, serial, bmc, bmc_creds, image, image_pin, token, " \
	"phase, reason, phase_at, served_image, created, want_power, hold, hold_reason, " \
	"booted_image, power, op, op_at_ms, attempts, retry_at_ms, bmc_state, last_error, " \
	"alloc_job, alloc_class, health, health_reasons, sel_last, idle_since_ms, drain, drain_reason, " \
	"armed, armed_by"

static const char *const node_sql[_SQLITE_STMT_MAX] = {
	[S_NODE_INSERT] = "INSERT INTO nodes (" NODE_COLS ") VALUES "
			  "(?1,?2,NULLIF(?3,''),?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,"
			  "?16,?17,?18,?19,?20,?21,?22,?23,?24,?25,?26,?27,?28,?29,?30,?31,?32,?33,?34,?35,?36)",
	[S_NODE_GET] = "SELECT " NODE_COLS ", rowid FROM nodes WHERE name = ?1",
	[S_NODE_GET_MAC] = "SELECT " NODE_COLS ", rowid FROM nodes WHERE mac = ?1",
	[S_NODE_GET_IP] = "SELECT " NODE_COLS ", rowid FROM nodes WHERE ip = ?1",
	[S_NODE_GET_ROWID] = "SELECT " NODE_COLS " FROM nodes WHERE rowid = ?1",
	[S_NODE_DELETE] = "DELETE FROM nodes WHERE name = ?1",
	[S_NODE_HISTORY_DELETE] = "DELETE FROM history WHERE node = ?1",
	[S_NODE_ENERGY_DELETE] = "DELETE FROM energy WHERE node = ?1",
	[S_NODE_UPDATE] = "UPDATE nodes SET uuid=?2, serial=?3, bmc=?4, bmc_creds=?5, image=?6, "
			  "image_pin=?7, served_image=?8, ip=NULLIF(?9,'') WHERE name = ?1",
	[S_NODE_PHASE] = "UPDATE nodes SET phase=?2, reason=?3, phase_at=?4 WHERE name = ?1",
	[S_NODE_CTRL] = "UPDATE nodes SET want_power=?2, hold=?3, hold_reason=?4, booted_image=?5, "
			"power=?6, op=?7, op_at_ms=?8, attempts=?9, retry_at_ms=?10, bmc_state=?11, "
			"last_error=?12, alloc_job=?13, alloc_class=?14, health=?15, "
			"health_reasons=?16, sel_last=?17, idle_since_ms=?18, drain=?19, "
			"drain_reason=?20 WHERE name = ?1",
	[S_NODE_ARM] = "UPDATE nodes SET token=?2, armed=?3, armed_by=?4 WHERE name = ?1",
	[S_IP_USED] = "SELECT 1 FROM nodes WHERE ip = ?1",
	[S_COUNT_PHASE] = "SELECT phase, count(*) FROM nodes GROUP BY phase ORDER BY phase",
	[S_HEALTH_STATE_GET] = "SELECT health_state FROM nodes WHERE name = ?1",
	[S_HEALTH_STATE_SET] = "UPDATE nodes SET health_state = ?2 WHERE name = ?1",
};

/* Private statements of the walks: their callbacks may call back into the store. The
 * managed walk's WHERE is the nodes_managed index's (store_sqlite_schema.c). */
const char *const store_sqlite_node_walk_sql[_STORE_NODE_SET_MAX] = {
	[STORE_NODES_ALL] = "SELECT " NODE_COLS " FROM nodes ORDER BY name",
	[STORE_NODES_MANAGED] = "SELECT " NODE_COLS " FROM nodes WHERE bmc != '' AND "
				"bmc_creds != '' ORDER BY name",
};

static const enum sqlite_stmt get_stmt[_STORE_NODE_KEY_MAX] = {
	[STORE_NODE_BY_NAME] = S_NODE_GET,
	[STORE_NODE_BY_MAC] = S_NODE_GET_MAC,
	[STORE_NODE_BY_IP] = S_NODE_GET_IP,
};

static sqlite3_stmt *
stmt(struct sqlite_conn *c, enum sqlite_stmt id)
{
	return store_sqlite_stmt(c, id, node_sql[id]);
}

#define NODE_COL(field) SQLITE_COL(struct node_rec, field)

/* NODE_COLS up to want_power: what a node is, and where its boot stands. */
static const struct sqlite_col node_id_cols[] = {
	NODE_COL(name), NODE_COL(mac), NODE_COL(ip), NODE_COL(uuid), NODE_COL(serial),
	NODE_COL(bmc), NODE_COL(bmc_creds), NODE_COL(image), NODE_COL(image_pin),
	NODE_COL(token), NODE_COL(phase), NODE_COL(reason), NODE_COL(phase_at),
	NODE_COL(served_image), NODE_COL(created),
};

/* NODE_COLS from want_power on: the desired-state and controller columns, bound by both
 * the insert and the controller's update. A node not yet judged is stored as "ok". */
static const struct sqlite_col node_ctrl_cols[] = {
	NODE_COL(want_power), NODE_COL(hold), NODE_COL(hold_reason), NODE_COL(booted_image),
	NODE_COL(power), NODE_COL(op), NODE_COL(op_at_ms), NODE_COL(attempts),
	NODE_COL(retry_at_ms), NODE_COL(bmc_state), NODE_COL(last_error),
	NODE_COL(alloc_job), NODE_COL(alloc_class),
	SQLITE_COL_OR(struct node_rec, health, "ok"), NODE_COL(health_reasons),
	NODE_COL(sel_last), NODE_COL(idle_since_ms), NODE_COL(drain), NODE_COL(drain_reason),
};

/* NODE_COLS from armed on: the node's credential state (boot/trust.h), written only by
 * store_node_arm() after the insert. */
static const struct sqlite_col node_arm_cols[] = {
	NODE_COL(armed), NODE_COL(armed_by),
};

_Static_assert(ELEMENTSOF(node_id_cols) + ELEMENTSOF(node_ctrl_cols) +
    ELEMENTSOF(node_arm_cols) == 36,
    "NODE_COLS names 36 columns, S_NODE_INSERT binds ?1..?36");

/* NODE_COLS in order, as the three tables above: the insert binds them, a read reads
 * them, the writer's cache packs them (store_sqlite_cache.c). */
static const struct {
	const struct sqlite_col *cols;
	size_t n;
} node_all_cols[] = {
	{ node_id_cols, ELEMENTSOF(node_id_cols) },
	{ node_ctrl_cols, ELEMENTSOF(node_ctrl_cols) },
	{ node_arm_cols, ELEMENTSOF(node_arm_cols) },
};

/* S_NODE_UPDATE's parameters: the name, then what an admin may change. */
static const struct sqlite_col node_update_cols[] = {
	NODE_COL(name), NODE_COL(uuid), NODE_COL(serial), NODE_COL(bmc), NODE_COL(bmc_creds),
	NODE_COL(image), NODE_COL(image_pin), NODE_COL(served_image),
	NODE_COL(ip), /* a discovered node's lease made its fixed address (issue 16) */
};

int
store_sqlite_node_insert(struct store *s, const struct node_rec *n, struct dl_err *reterr)
{
	struct sqlite_conn *c = sqlite_writer(s);
	sqlite3_stmt *st = stmt(c, S_NODE_INSERT);
	int rc;

	if (!st)
		return -EIO;
	for (size_t k = 0, first = 1; k < ELEMENTSOF(node_all_cols); k++) {
		store_sqlite_bind_cols(st, (int)first, n, node_all_cols[k].cols, node_all_cols[k].n);
		first += node_all_cols[k].n;
	}
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc == SQLITE_CONSTRAINT)
		return -EEXIST;
	return dl_err_set(reterr, -EIO, "store: %s", sqlite3_errmsg(c->db));
}

static void
node_from_row(sqlite3_stmt *st, struct node_rec *n)
{
	memset(n, 0, sizeof(*n));
	for (size_t k = 0, first = 0; k < ELEMENTSOF(node_all_cols); k++) {
		store_sqlite_read_cols(st, (int)first, n, node_all_cols[k].cols, node_all_cols[k].n);
		first += node_all_cols[k].n;
	}
}

/* The node's every column, packed for the writer's cache (store_sqlite_cache.c): the
 * same tables the reads use, so what comes back out is what a read would give. */
size_t
store_sqlite_node_packed_size(const struct node_rec *n)
{
	size_t len = 0;

	for (size_t k = 0; k < ELEMENTSOF(node_all_cols); k++)
		len += store_sqlite_cols_packed_size(n, node_all_cols[k].cols, node_all_cols[k].n);
	return len;
}

void
store_sqlite_node_pack(unsigned char *p, const struct node_rec *n)
{
	for (size_t k = 0; k < ELEMENTSOF(node_all_cols); k++)
		p = store_sqlite_cols_pack(p, n, node_all_cols[k].cols, node_all_cols[k].n);
}

void
store_sqlite_node_unpack(const unsigned char *p, struct node_rec *n)
{
	memset(n, 0, sizeof(*n));
	for (size_t k = 0; k < ELEMENTSOF(node_all_cols); k++)
		p = store_sqlite_cols_unpack(p, n, node_all_cols[k].cols, node_all_cols[k].n);
}

int
store_sqlite_node_get(struct store_reader *r, enum store_node_key key, const char *value,
    struct node_rec *ret)
{
	struct sqlite_conn *c = sqlite_conn_of(r);
	bool cached = key != STORE_NODE_BY_IP && store_sqlite_cache_usable(c);
	sqlite3_stmt *st;
	int64_t rowid = 0;
	int rc;

	if (cached && store_sqlite_cache_node_get(c, key, value, ret) == 0)
		return 0;
	if (!(st = stmt(c, get_stmt[key])))
		return -EIO;
	store_sqlite_bind_key(st, 1, value);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		node_from_row(st, ret);
		rowid = sqlite3_column_int64(st, sqlite3_column_count(st) - 1); /* the last */
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW && cached)
		store_sqlite_cache_node_put(c, ret, rowid);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

int
store_sqlite_node_get_rowid(struct sqlite_conn *c, int64_t rowid, struct node_rec *ret)
{
	sqlite3_stmt *st = stmt(c, S_NODE_GET_ROWID);
	int rc;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, rowid);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		node_from_row(st, ret);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

static int
node_delete(struct sqlite_conn *c, const char *name)
{
	int r = store_sqlite_exec_key(c, S_NODE_DELETE, node_sql[S_NODE_DELETE], name);

	if (r < 0)
		return r;
	if (sqlite3_changes(c->db) == 0)
		return -ENOENT;
	if ((r = store_sqlite_exec_key(c, S_NODE_ENERGY_DELETE, node_sql[S_NODE_ENERGY_DELETE],
	    name)) < 0)
		return r;
	return store_sqlite_exec_key(c, S_NODE_HISTORY_DELETE, node_sql[S_NODE_HISTORY_DELETE],
	    name);
}

int
store_sqlite_node_delete(struct store *s, const char *name)
{
	struct sqlite_conn *c = sqlite_writer(s);

	return node_delete(c, name);
}

int
store_sqlite_node_update(struct store *s, const struct node_rec *n)
{
	struct sqlite_conn *c = sqlite_writer(s);
	sqlite3_stmt *st = stmt(c, S_NODE_UPDATE);

	if (!st)
		return -EIO;
	store_sqlite_bind_cols(st, 1, n, node_update_cols, ELEMENTSOF(node_update_cols));
	return store_sqlite_step_changed(c, st);
}

int
store_sqlite_node_update_ctrl(struct store *s, const struct node_rec *n)
{
	struct sqlite_conn *c = sqlite_writer(s);
	sqlite3_stmt *st = stmt(c, S_NODE_CTRL);

	if (!st)
		return -EIO;
	store_sqlite_bind_text(st, 1, n->name);
	store_sqlite_bind_cols(st, 2, n, node_ctrl_cols, ELEMENTSOF(node_ctrl_cols));
	return store_sqlite_step_changed(c, st);
}

int
store_sqlite_node_arm(struct store *s, const char *name, const char *token, bool armed,
    const char *armed_by)
{
	struct sqlite_conn *c = sqlite_writer(s);
	sqlite3_stmt *st = stmt(c, S_NODE_ARM);

	if (!st)
		return -EIO;
	store_sqlite_bind_text(st, 1, name);
	store_sqlite_bind_text(st, 2, token);
	sqlite3_bind_int(st, 3, armed ? 1 : 0);
	store_sqlite_bind_text(st, 4, armed_by);
	return store_sqlite_step_changed(c, st);
}

int
store_sqlite_node_set_phase(struct store *s, const char *name, const char *phase,
    const char *reason, int64_t at)
{
	struct sqlite_conn *c = sqlite_writer(s);
	sqlite3_stmt *st = stmt(c, S_NODE_PHASE);
	int r;

	if (!st)
		return -EIO;
	store_sqlite_bind_text(st, 1, name);
	store_sqlite_bind_text(st, 2, phase);
	store_sqlite_bind_text(st, 3, reason);
	sqlite3_bind_int64(st, 4, at);
	r = store_sqlite_step_changed(c, st);
	if (r < 0)
		return r;
	return store_sqlite_event_append(c, name, "phase", phase, reason, at);
}

int
store_sqlite_node_health_state_get(struct store *s, const char *name, char **ret)
{
	sqlite3_stmt *st = stmt(sqlite_writer(s), S_HEALTH_STATE_GET);
	int rc, r = -ENOENT;

	if (!st)
		return -EIO;
	store_sqlite_bind_text(st, 1, name);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		*ret = strdup(t ? (const char *)t : "");
		r = *ret ? 0 : -ENOMEM;
	} else if (rc != SQLITE_DONE)
		r = -EIO;
	sqlite3_reset(st);
	return r;
}

int
store_sqlite_node_health_state_set(struct store *s, const char *name, const char *json)
{
	sqlite3_stmt *st = stmt(sqlite_writer(s), S_HEALTH_STATE_SET);

	if (!st)
		return -EIO;
	store_sqlite_bind_text(st, 1, name);
	store_sqlite_bind_text(st, 2, json);
	return store_sqlite_step_done(st);
}

int
store_sqlite_node_foreach(struct store *s, enum store_node_set set, store_node_fn fn,
    void *userdata)
{
	sqlite3_stmt *st;
	struct node_rec n;
	int rc, r = 0;

	if (sqlite3_prepare_v2(sqlite_writer(s)->db, store_sqlite_node_walk_sql[set], -1, &st, NULL) !=
	    SQLITE_OK)
		return -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		node_from_row(st, &n);
		r = fn(&n, userdata);
		if (r < 0)
			break;
	}
	sqlite3_finalize(st);
	if (r < 0)
		return r;
	return rc == SQLITE_DONE ? 0 : -EIO;
}

bool
store_sqlite_node_ip_used(struct store *s, const char *ip)
{
	sqlite3_stmt *st = stmt(sqlite_writer(s), S_IP_USED);
	int rc;

	if (!st)
		return true; /* claim it is taken: never hand out an address twice */
	store_sqlite_bind_text(st, 1, ip);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc != SQLITE_DONE;
}

int
store_sqlite_node_count_by_phase(struct store *s, store_count_fn fn, void *userdata)
{
	sqlite3_stmt *st = stmt(sqlite_writer(s), S_COUNT_PHASE);

	if (!st)
		return -EIO;
	while (sqlite3_step(st) == SQLITE_ROW)
		fn((const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1),
		    userdata);
	sqlite3_reset(st);
	return 0;
}
