/* SPDX-License-Identifier: MIT */
/* The SQLite backend's nodes: the nodes table, and the rows a node's removal takes. */
#include <string.h>

#include "store/store_sqlite.h"

#define NODE_COLS "name, mac, ip, uuid, serial, bmc, bmc_creds, image, image_pin, token, " \
	"phase, reason, phase_at, served_image, created, want_power, hold, hold_reason, " \
	"booted_image, power, op, op_at_ms, attempts, retry_at_ms, bmc_state, last_error, " \
	"alloc_job, alloc_class, health, health_reasons, sel_last, idle_since_ms"

static const char *const node_sql[_SQLITE_STMT_MAX] = {
	[S_NODE_INSERT] = "INSERT INTO nodes (" NODE_COLS ") VALUES "
			  "(?1,?2,NULLIF(?3,''),?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,"
			  "?16,?17,?18,?19,?20,?21,?22,?23,?24,?25,?26,?27,?28,?29,?30,?31,?32)",
	[S_NODE_GET] = "SELECT " NODE_COLS " FROM nodes WHERE name = ?1",
	[S_NODE_GET_MAC] = "SELECT " NODE_COLS " FROM nodes WHERE mac = ?1",
	[S_NODE_GET_IP] = "SELECT " NODE_COLS " FROM nodes WHERE ip = ?1",
	[S_NODE_DELETE] = "DELETE FROM nodes WHERE name = ?1",
	[S_NODE_HISTORY_DELETE] = "DELETE FROM history WHERE node = ?1",
	[S_NODE_ENERGY_DELETE] = "DELETE FROM energy WHERE node = ?1",
	[S_NODE_UPDATE] = "UPDATE nodes SET uuid=?2, serial=?3, bmc=?4, bmc_creds=?5, image=?6, "
			  "image_pin=?7, served_image=?8 WHERE name = ?1",
	[S_NODE_PHASE] = "UPDATE nodes SET phase=?2, reason=?3, phase_at=?4 WHERE name = ?1",
	[S_NODE_CTRL] = "UPDATE nodes SET want_power=?2, hold=?3, hold_reason=?4, booted_image=?5, "
			"power=?6, op=?7, op_at_ms=?8, attempts=?9, retry_at_ms=?10, bmc_state=?11, "
			"last_error=?12, alloc_job=?13, alloc_class=?14, health=?15, "
			"health_reasons=?16, sel_last=?17, idle_since_ms=?18 WHERE name = ?1",
	[S_IP_USED] = "SELECT 1 FROM nodes WHERE ip = ?1",
	[S_COUNT_PHASE] = "SELECT phase, count(*) FROM nodes GROUP BY phase ORDER BY phase",
	[S_HEALTH_STATE_GET] = "SELECT health_state FROM nodes WHERE name = ?1",
	[S_HEALTH_STATE_SET] = "UPDATE nodes SET health_state = ?2 WHERE name = ?1",
};

/* Private statements of the walks: their callbacks may call back into the store. */
static const char *const foreach_sql[_STORE_NODE_SET_MAX] = {
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

/* The desired-state and controller columns, in NODE_COLS order from want_power on:
 * bound from parameter `first` by both the insert and the controller's update. */
static void
bind_ctrl(sqlite3_stmt *st, int first, const struct node_rec *n)
{
	int i = first;

	store_sqlite_bind_text(st, i++, n->want_power);
	sqlite3_bind_int(st, i++, n->hold);
	store_sqlite_bind_text(st, i++, n->hold_reason);
	store_sqlite_bind_text(st, i++, n->booted_image);
	store_sqlite_bind_text(st, i++, n->power);
	store_sqlite_bind_text(st, i++, n->op);
	sqlite3_bind_int64(st, i++, n->op_at_ms);
	sqlite3_bind_int(st, i++, n->attempts);
	sqlite3_bind_int64(st, i++, n->retry_at_ms);
	store_sqlite_bind_text(st, i++, n->bmc_state);
	store_sqlite_bind_text(st, i++, n->last_error);
	store_sqlite_bind_text(st, i++, n->alloc_job);
	store_sqlite_bind_text(st, i++, n->alloc_class);
	store_sqlite_bind_text(st, i++, n->health[0] ? n->health : "ok");
	store_sqlite_bind_text(st, i++, n->health_reasons);
	sqlite3_bind_int64(st, i++, n->sel_last);
	sqlite3_bind_int64(st, i, n->idle_since_ms);
}

int
store_sqlite_node_insert(struct store *s, const struct node_rec *n, struct dl_err *reterr)
{
	struct sqlite_conn *c = sqlite_writer(s);
	sqlite3_stmt *st = stmt(c, S_NODE_INSERT);
	int rc;

	if (!st)
		return -EIO;
	store_sqlite_bind_text(st, 1, n->name);
	store_sqlite_bind_text(st, 2, n->mac);
	store_sqlite_bind_text(st, 3, n->ip);
	store_sqlite_bind_text(st, 4, n->uuid);
	store_sqlite_bind_text(st, 5, n->serial);
	store_sqlite_bind_text(st, 6, n->bmc);
	store_sqlite_bind_text(st, 7, n->bmc_creds);
	store_sqlite_bind_text(st, 8, n->image);
	store_sqlite_bind_text(st, 9, n->image_pin);
	store_sqlite_bind_text(st, 10, n->token);
	store_sqlite_bind_text(st, 11, n->phase);
	store_sqlite_bind_text(st, 12, n->reason);
	sqlite3_bind_int64(st, 13, n->phase_at);
	store_sqlite_bind_text(st, 14, n->served_image);
	sqlite3_bind_int64(st, 15, n->created);
	bind_ctrl(st, 16, n);
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
	store_sqlite_copy_col(n->name, sizeof(n->name), st, 0);
	store_sqlite_copy_col(n->mac, sizeof(n->mac), st, 1);
	store_sqlite_copy_col(n->ip, sizeof(n->ip), st, 2);
	store_sqlite_copy_col(n->uuid, sizeof(n->uuid), st, 3);
	store_sqlite_copy_col(n->serial, sizeof(n->serial), st, 4);
	store_sqlite_copy_col(n->bmc, sizeof(n->bmc), st, 5);
	store_sqlite_copy_col(n->bmc_creds, sizeof(n->bmc_creds), st, 6);
	store_sqlite_copy_col(n->image, sizeof(n->image), st, 7);
	store_sqlite_copy_col(n->image_pin, sizeof(n->image_pin), st, 8);
	store_sqlite_copy_col(n->token, sizeof(n->token), st, 9);
	store_sqlite_copy_col(n->phase, sizeof(n->phase), st, 10);
	store_sqlite_copy_col(n->reason, sizeof(n->reason), st, 11);
	n->phase_at = sqlite3_column_int64(st, 12);
	store_sqlite_copy_col(n->served_image, sizeof(n->served_image), st, 13);
	n->created = sqlite3_column_int64(st, 14);
	store_sqlite_copy_col(n->want_power, sizeof(n->want_power), st, 15);
	n->hold = sqlite3_column_int(st, 16) != 0;
	store_sqlite_copy_col(n->hold_reason, sizeof(n->hold_reason), st, 17);
	store_sqlite_copy_col(n->booted_image, sizeof(n->booted_image), st, 18);
	store_sqlite_copy_col(n->power, sizeof(n->power), st, 19);
	store_sqlite_copy_col(n->op, sizeof(n->op), st, 20);
	n->op_at_ms = sqlite3_column_int64(st, 21);
	n->attempts = sqlite3_column_int(st, 22);
	n->retry_at_ms = sqlite3_column_int64(st, 23);
	store_sqlite_copy_col(n->bmc_state, sizeof(n->bmc_state), st, 24);
	store_sqlite_copy_col(n->last_error, sizeof(n->last_error), st, 25);
	store_sqlite_copy_col(n->alloc_job, sizeof(n->alloc_job), st, 26);
	store_sqlite_copy_col(n->alloc_class, sizeof(n->alloc_class), st, 27);
	store_sqlite_copy_col(n->health, sizeof(n->health), st, 28);
	store_sqlite_copy_col(n->health_reasons, sizeof(n->health_reasons), st, 29);
	n->sel_last = sqlite3_column_int64(st, 30);
	n->idle_since_ms = sqlite3_column_int64(st, 31);
}

int
store_sqlite_node_get(struct store_reader *r, enum store_node_key key, const char *value,
    struct node_rec *ret)
{
	sqlite3_stmt *st = stmt(sqlite_conn_of(r), get_stmt[key]);
	int rc;

	if (!st)
		return -EIO;
	store_sqlite_bind_text(st, 1, value);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		node_from_row(st, ret);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

int
store_sqlite_node_delete(struct store *s, const char *name)
{
	struct sqlite_conn *c = sqlite_writer(s);
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
store_sqlite_node_update(struct store *s, const struct node_rec *n)
{
	struct sqlite_conn *c = sqlite_writer(s);
	sqlite3_stmt *st = stmt(c, S_NODE_UPDATE);
	int rc;

	if (!st)
		return -EIO;
	store_sqlite_bind_text(st, 1, n->name);
	store_sqlite_bind_text(st, 2, n->uuid);
	store_sqlite_bind_text(st, 3, n->serial);
	store_sqlite_bind_text(st, 4, n->bmc);
	store_sqlite_bind_text(st, 5, n->bmc_creds);
	store_sqlite_bind_text(st, 6, n->image);
	store_sqlite_bind_text(st, 7, n->image_pin);
	store_sqlite_bind_text(st, 8, n->served_image);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return -EIO;
	return sqlite3_changes(c->db) ? 0 : -ENOENT;
}

int
store_sqlite_node_update_ctrl(struct store *s, const struct node_rec *n)
{
	struct sqlite_conn *c = sqlite_writer(s);
	sqlite3_stmt *st = stmt(c, S_NODE_CTRL);
	int rc;

	if (!st)
		return -EIO;
	store_sqlite_bind_text(st, 1, n->name);
	bind_ctrl(st, 2, n);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return -EIO;
	return sqlite3_changes(c->db) ? 0 : -ENOENT;
}

int
store_sqlite_node_set_phase(struct store *s, const char *name, const char *phase,
    const char *reason, int64_t at)
{
	struct sqlite_conn *c = sqlite_writer(s);
	sqlite3_stmt *st = stmt(c, S_NODE_PHASE);
	int rc;

	if (!st)
		return -EIO;
	store_sqlite_bind_text(st, 1, name);
	store_sqlite_bind_text(st, 2, phase);
	store_sqlite_bind_text(st, 3, reason);
	sqlite3_bind_int64(st, 4, at);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return -EIO;
	if (sqlite3_changes(c->db) == 0)
		return -ENOENT;
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
	int rc;

	if (!st)
		return -EIO;
	store_sqlite_bind_text(st, 1, name);
	store_sqlite_bind_text(st, 2, json);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int
store_sqlite_node_foreach(struct store *s, enum store_node_set set, store_node_fn fn,
    void *userdata)
{
	sqlite3_stmt *st;
	struct node_rec n;
	int rc, r = 0;

	if (sqlite3_prepare_v2(sqlite_writer(s)->db, foreach_sql[set], -1, &st, NULL) !=
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
