/* SPDX-License-Identifier: MIT */
/* The PostgreSQL backend's energy totals (issue #7): a row per node, replaced at each
 * pass, and a row per image, added to. */
#include <string.h>

#include "store/store_pg.h"

static const char *const energy_sql[_PG_STMT_MAX] = {
	[P_ENERGY_GET] = "SELECT node, at_ms, on_mj, off_mj, saved_mj, baseline_w, last_w "
			 "FROM energy WHERE node = $1",
	[P_ENERGY_PUT] = "INSERT INTO energy (node, at_ms, on_mj, off_mj, saved_mj, baseline_w, "
			 "last_w) VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT (node) DO UPDATE SET "
			 "at_ms = EXCLUDED.at_ms, on_mj = EXCLUDED.on_mj, off_mj = EXCLUDED.off_mj, "
			 "saved_mj = EXCLUDED.saved_mj, baseline_w = EXCLUDED.baseline_w, "
			 "last_w = EXCLUDED.last_w",
	[P_ENERGY_IMAGE_ADD] = "INSERT INTO energy_image (image, on_mj, off_mj, saved_mj) "
			       "VALUES ($1,$2,$3,$4) ON CONFLICT (image) DO UPDATE SET "
			       "on_mj = energy_image.on_mj + EXCLUDED.on_mj, "
			       "off_mj = energy_image.off_mj + EXCLUDED.off_mj, "
			       "saved_mj = energy_image.saved_mj + EXCLUDED.saved_mj",
	[P_ENERGY_ALL] = "SELECT node, at_ms, on_mj, off_mj, saved_mj, baseline_w, last_w "
			 "FROM energy ORDER BY node",
	[P_ENERGY_IMAGE_ALL] = "SELECT image, 0, on_mj, off_mj, saved_mj, 0, 0 "
			       "FROM energy_image ORDER BY image",
	/* the energy pass's page (store.h store_energy_nodes): as SQLite's */
	[P_ENERGY_NODES] = "SELECT n.name, n.image, n.phase, n.power, n.op, "
			   "COALESCE(e.node, ''), COALESCE(e.at_ms, 0), COALESCE(e.on_mj, 0), "
			   "COALESCE(e.off_mj, 0), COALESCE(e.saved_mj, 0), "
			   "COALESCE(e.baseline_w, 0), COALESCE(e.last_w, 0) FROM nodes n "
			   "LEFT JOIN energy e ON e.node = n.name WHERE n.name > $1 "
			   "ORDER BY n.name LIMIT $2",
};

#define ENERGY_COL(field) PG_COL(struct energy_rec, field)

static const struct pg_col energy_cols[] = {
	ENERGY_COL(name), ENERGY_COL(at_ms), ENERGY_COL(on_mj), ENERGY_COL(off_mj),
	ENERGY_COL(saved_mj), ENERGY_COL(baseline_w), ENERGY_COL(last_w),
};

static int
run(struct pg_conn *c, enum pg_stmt id, const struct pg_params *p, PGresult **ret)
{
	return store_pg_run(c, id, energy_sql[id], p, ret);
}

/* One write of statement id with p. */
static int
write1(struct store *s, enum pg_stmt id, const struct pg_params *p)
{
	bool own;
	int r;

	if ((r = store_pg_write_begin(s, &own)) < 0)
		return r;
	r = run(pg_writer(s), id, p, NULL);
	return store_pg_write_end(s, own, r);
}

int
store_pg_energy_get(struct store *s, const char *node, struct energy_rec *ret)
{
	struct pg_params p = { .n = 0 };
	PGresult *res;
	int r;

	store_pg_param_text(&p, node);
	if ((r = run(pg_writer(s), P_ENERGY_GET, &p, &res)) < 0)
		return r;
	r = PQntuples(res) ? 0 : -ENOENT;
	if (r == 0) {
		memset(ret, 0, sizeof(*ret));
		store_pg_read_cols(res, 0, 0, ret, energy_cols, ELEMENTSOF(energy_cols));
	}
	PQclear(res);
	return r;
}

int
store_pg_energy_put(struct store *s, const struct energy_rec *e)
{
	struct pg_params p = { .n = 0 };

	store_pg_params_cols(&p, e, energy_cols, ELEMENTSOF(energy_cols));
	return write1(s, P_ENERGY_PUT, &p);
}

int
store_pg_energy_image_add(struct store *s, const char *image, int64_t on_mj,
    int64_t off_mj, int64_t saved_mj)
{
	struct pg_params p = { .n = 0 };

	store_pg_param_text(&p, image);
	store_pg_param_int64(&p, on_mj);
	store_pg_param_int64(&p, off_mj);
	store_pg_param_int64(&p, saved_mj);
	return write1(s, P_ENERGY_IMAGE_ADD, &p);
}

static int
energy_foreach(struct store *s, enum pg_stmt id, store_energy_fn fn, void *userdata)
{
	struct energy_rec e;
	PGresult *res;
	int r;

	if ((r = run(pg_writer(s), id, NULL, &res)) < 0)
		return r;
	for (int i = 0; i < PQntuples(res) && r >= 0; i++) {
		memset(&e, 0, sizeof(e));
		store_pg_read_cols(res, i, 0, &e, energy_cols, ELEMENTSOF(energy_cols));
		r = fn(&e, userdata);
	}
	PQclear(res);
	return r < 0 ? r : 0;
}

int
store_pg_energy_foreach(struct store *s, store_energy_fn fn, void *userdata)
{
	return energy_foreach(s, P_ENERGY_ALL, fn, userdata);
}

int
store_pg_energy_image_foreach(struct store *s, store_energy_fn fn, void *userdata)
{
	return energy_foreach(s, P_ENERGY_IMAGE_ALL, fn, userdata);
}

#define NODE_COL(field) PG_COL(struct energy_node, field)

/* The columns of P_ENERGY_NODES, in their order. */
static const struct pg_col energy_node_cols[] = {
	NODE_COL(name), NODE_COL(image), NODE_COL(phase), NODE_COL(power), NODE_COL(op),
	NODE_COL(row.name), NODE_COL(row.at_ms), NODE_COL(row.on_mj), NODE_COL(row.off_mj),
	NODE_COL(row.saved_mj), NODE_COL(row.baseline_w), NODE_COL(row.last_w),
};

int
store_pg_energy_nodes(struct store *s, const char *after, size_t limit,
    store_energy_node_fn fn, void *userdata)
{
	struct pg_params p = { .n = 0 };
	struct energy_node n;
	PGresult *res;
	int r, i;

	store_pg_param_text(&p, after);
	store_pg_param_int64(&p, (int64_t)limit);
	if ((r = run(pg_writer(s), P_ENERGY_NODES, &p, &res)) < 0)
		return r;
	for (i = 0; i < PQntuples(res) && r >= 0; i++) {
		memset(&n, 0, sizeof(n));
		store_pg_read_cols(res, i, 0, &n, energy_node_cols, ELEMENTSOF(energy_node_cols));
		r = fn(&n, userdata);
	}
	PQclear(res);
	return r < 0 ? r : i;
}
