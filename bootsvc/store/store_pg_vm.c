/* SPDX-License-Identifier: MIT */
/* The PostgreSQL backend's VM hosts and domains (issue 12), as store_sqlite_vm.c. */
#include <string.h>

#include "store/store_pg.h"

#define HOST_COLS "node, hypervisor, hypervisor_version, libvirt_version, uri, cpus, " \
	"memory_mib, numa_nodes, guest_cpus, guest_memory_mib, state, state_since, " \
	"state_reason, last_seen"
#define DOMAIN_COLS "uuid, name, host, state, vcpus, memory_kib, running_since, last_seen, " \
	"grp, pinned, jclass"

static const char *const vm_sql[_PG_STMT_MAX] = {
	[P_VM_HOST_PUT] = "INSERT INTO vm_hosts (" HOST_COLS ") VALUES "
			  "($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14) "
			  "ON CONFLICT (node) DO UPDATE SET hypervisor = $2, "
			  "hypervisor_version = $3, libvirt_version = $4, uri = $5, cpus = $6, "
			  "memory_mib = $7, numa_nodes = $8, guest_cpus = $9, "
			  "guest_memory_mib = $10, state = $11, state_since = $12, "
			  "state_reason = $13, last_seen = $14",
	[P_VM_HOST_GET] = "SELECT " HOST_COLS " FROM vm_hosts WHERE node = $1",
	[P_VM_HOST_DELETE] = "DELETE FROM vm_hosts WHERE node = $1",
	[P_VM_HOST_ALL] = "SELECT " HOST_COLS " FROM vm_hosts ORDER BY node",
	/* A domain listed again keeps the time it was first seen running while it stays
	 * running on the same host (its uptime). A listing older than the row (asked for
	 * before a migration moved it) leaves it alone. */
	[P_VM_DOMAIN_PUT] = "INSERT INTO vm_domains (" DOMAIN_COLS ") VALUES "
			    "($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) ON CONFLICT (uuid) DO UPDATE SET "
			    "name = $2, host = $3, vcpus = $5, memory_kib = $6, last_seen = $8, "
			    "grp = $9, pinned = $10, jclass = $11, "
			    "running_since = CASE WHEN $4 != 'running' THEN 0 "
			    "WHEN vm_domains.state = 'running' AND vm_domains.running_since > 0 "
			    "AND vm_domains.host = $3 THEN vm_domains.running_since ELSE $7 END, "
			    "state = $4 WHERE vm_domains.last_seen <= $8",
	[P_VM_DOMAIN_STALE] = "DELETE FROM vm_domains WHERE host = $1 AND last_seen < $2",
	[P_VM_DOMAIN_HOST] = "SELECT " DOMAIN_COLS " FROM vm_domains WHERE host = $1 "
			     "ORDER BY host, name",
	[P_VM_DOMAIN_ALL] = "SELECT " DOMAIN_COLS " FROM vm_domains ORDER BY host, name",
};

static int
run(struct pg_conn *c, enum pg_stmt id, const struct pg_params *p, PGresult **ret)
{
	return store_pg_run(c, id, vm_sql[id], p, ret);
}

#define HOST_COL(field) PG_COL(struct vm_host_rec, field)
static const struct pg_col host_cols[] = {
	HOST_COL(node), HOST_COL(hypervisor), HOST_COL(hypervisor_version),
	HOST_COL(libvirt_version), HOST_COL(uri), HOST_COL(cpus), HOST_COL(memory_mib),
	HOST_COL(numa_nodes), HOST_COL(guest_cpus), HOST_COL(guest_memory_mib),
	HOST_COL(state), HOST_COL(state_since), HOST_COL(state_reason), HOST_COL(last_seen),
};

#define DOMAIN_COL(field) PG_COL(struct vm_domain_rec, field)
static const struct pg_col domain_cols[] = {
	DOMAIN_COL(uuid), DOMAIN_COL(name), DOMAIN_COL(host), DOMAIN_COL(state),
	DOMAIN_COL(vcpus), DOMAIN_COL(memory_kib), DOMAIN_COL(running_since),
	DOMAIN_COL(last_seen), DOMAIN_COL(group), DOMAIN_COL(pinned), DOMAIN_COL(job_class),
};

/* An upsert whose foreign key may point nowhere (no such node or host: -ENOENT), in a
 * savepoint so that failure leaves the caller's transaction usable. */
static int
put_row(struct store *s, enum pg_stmt id, const void *rec, const struct pg_col *cols,
    size_t n)
{
	struct pg_params p = { .n = 0 };
	bool own;
	int r;

	store_pg_params_cols(&p, rec, cols, n);
	if ((r = store_pg_write_begin(s, &own)) < 0)
		return r;
	r = store_pg_write_risky(pg_writer(s), id, vm_sql[id], &p, NULL);
	if (r == -EEXIST)
		r = -EIO; /* an upsert has no other uniqueness to meet */
	return store_pg_write_end(s, own, r);
}

int
store_pg_vm_host_put(struct store *s, const struct vm_host_rec *h)
{
	return put_row(s, P_VM_HOST_PUT, h, host_cols, ELEMENTSOF(host_cols));
}

int
store_pg_vm_host_get(struct store *s, const char *node, struct vm_host_rec *ret)
{
	struct pg_params p = { .n = 0 };
	PGresult *res;
	int r;

	store_pg_param_text(&p, node);
	if ((r = run(pg_writer(s), P_VM_HOST_GET, &p, &res)) < 0)
		return r;
	r = PQntuples(res) ? 0 : -ENOENT;
	if (r == 0) {
		memset(ret, 0, sizeof(*ret));
		store_pg_read_cols(res, 0, 0, ret, host_cols, ELEMENTSOF(host_cols));
	}
	PQclear(res);
	return r;
}

int
store_pg_vm_host_delete(struct store *s, const char *node)
{
	struct pg_params p = { .n = 0 };
	bool own;
	int r;

	store_pg_param_text(&p, node);
	if ((r = store_pg_write_begin(s, &own)) < 0)
		return r;
	/* domains go by ON DELETE CASCADE */
	r = store_pg_run_changed(pg_writer(s), P_VM_HOST_DELETE, vm_sql[P_VM_HOST_DELETE], &p);
	return store_pg_write_end(s, own, r);
}

int
store_pg_vm_host_foreach(struct store *s, store_vm_host_fn fn, void *userdata)
{
	struct vm_host_rec h;
	PGresult *res;
	int r;

	if ((r = run(pg_writer(s), P_VM_HOST_ALL, NULL, &res)) < 0)
		return r;
	for (int i = 0; i < PQntuples(res) && r >= 0; i++) {
		memset(&h, 0, sizeof(h));
		store_pg_read_cols(res, i, 0, &h, host_cols, ELEMENTSOF(host_cols));
		r = fn(&h, userdata);
	}
	PQclear(res);
	return r < 0 ? r : 0;
}

int
store_pg_vm_domain_put(struct store *s, const struct vm_domain_rec *d)
{
	return put_row(s, P_VM_DOMAIN_PUT, d, domain_cols, ELEMENTSOF(domain_cols));
}

int
store_pg_vm_domains_drop_stale(struct store *s, const char *host, int64_t seen)
{
	struct pg_params p = { .n = 0 };
	bool own;
	int r;

	store_pg_param_text(&p, host);
	store_pg_param_int64(&p, seen);
	if ((r = store_pg_write_begin(s, &own)) < 0)
		return r;
	r = run(pg_writer(s), P_VM_DOMAIN_STALE, &p, NULL);
	return store_pg_write_end(s, own, r);
}

int
store_pg_vm_domain_foreach(struct store *s, const char *host, store_vm_domain_fn fn,
    void *userdata)
{
	struct pg_params p = { .n = 0 };
	struct vm_domain_rec d;
	PGresult *res;
	int r;

	if (host && host[0])
		store_pg_param_text(&p, host);
	if ((r = run(pg_writer(s), host && host[0] ? P_VM_DOMAIN_HOST : P_VM_DOMAIN_ALL, &p,
	    &res)) < 0)
		return r;
	for (int i = 0; i < PQntuples(res) && r >= 0; i++) {
		memset(&d, 0, sizeof(d));
		store_pg_read_cols(res, i, 0, &d, domain_cols, ELEMENTSOF(domain_cols));
		r = fn(&d, userdata);
	}
	PQclear(res);
	return r < 0 ? r : 0;
}
