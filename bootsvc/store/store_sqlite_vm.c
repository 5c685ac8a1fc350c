/* SPDX-License-Identifier: MIT */
/* The SQLite backend's VM hosts and domains (issue 12): a row per host, keyed by its node
 * (gone with it), and a row per domain, keyed by libvirt's uuid (gone with its host). */
#include <string.h>

#include "store/store_sqlite.h"

#define HOST_COLS "node, hypervisor, hypervisor_version, libvirt_version, uri, cpus, " \
	"memory_mib, numa_nodes, guest_cpus, guest_memory_mib, state, state_since, " \
	"state_reason, last_seen"
#define DOMAIN_COLS "uuid, name, host, state, vcpus, memory_kib, running_since, last_seen, " \
	"grp, pinned, jclass"

static const char *const vm_sql[_SQLITE_STMT_MAX] = {
	/* An upsert, not INSERT OR REPLACE: a replace deletes the row first, and the
	 * foreign key's cascade would take the host's domains with it. */
	[S_VM_HOST_PUT] = "INSERT INTO vm_hosts (" HOST_COLS ") VALUES "
			  "(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14) "
			  "ON CONFLICT(node) DO UPDATE SET hypervisor = ?2, "
			  "hypervisor_version = ?3, libvirt_version = ?4, uri = ?5, cpus = ?6, "
			  "memory_mib = ?7, numa_nodes = ?8, guest_cpus = ?9, "
			  "guest_memory_mib = ?10, state = ?11, state_since = ?12, "
			  "state_reason = ?13, last_seen = ?14",
	[S_VM_HOST_GET] = "SELECT " HOST_COLS " FROM vm_hosts WHERE node = ?1",
	[S_VM_HOST_DELETE] = "DELETE FROM vm_hosts WHERE node = ?1",
	/* A domain listed again keeps the time it was first seen running while it stays
	 * running: that is its uptime. One listed on another host moves there, unless its
	 * row is newer than the listing (asked for before a migration moved it). */
	[S_VM_DOMAIN_PUT] = "INSERT INTO vm_domains (" DOMAIN_COLS ") VALUES "
			    "(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11) ON CONFLICT(uuid) DO UPDATE SET "
			    "name = ?2, host = ?3, vcpus = ?5, memory_kib = ?6, last_seen = ?8, "
			    "grp = ?9, pinned = ?10, jclass = ?11, "
			    "running_since = CASE WHEN ?4 != 'running' THEN 0 "
			    "WHEN state = 'running' AND running_since > 0 AND host = ?3 "
			    "THEN running_since ELSE ?7 END, state = ?4 "
			    "WHERE last_seen <= ?8",
	[S_VM_DOMAIN_STALE] = "DELETE FROM vm_domains WHERE host = ?1 AND last_seen < ?2",
};

static sqlite3_stmt *
stmt(struct sqlite_conn *c, enum sqlite_stmt id)
{
	return store_sqlite_stmt(c, id, vm_sql[id]);
}

#define HOST_COL(field) SQLITE_COL(struct vm_host_rec, field)
static const struct sqlite_col host_cols[] = {
	HOST_COL(node), HOST_COL(hypervisor), HOST_COL(hypervisor_version),
	HOST_COL(libvirt_version), HOST_COL(uri), HOST_COL(cpus), HOST_COL(memory_mib),
	HOST_COL(numa_nodes), HOST_COL(guest_cpus), HOST_COL(guest_memory_mib),
	HOST_COL(state), HOST_COL(state_since), HOST_COL(state_reason), HOST_COL(last_seen),
};

#define DOMAIN_COL(field) SQLITE_COL(struct vm_domain_rec, field)
static const struct sqlite_col domain_cols[] = {
	DOMAIN_COL(uuid), DOMAIN_COL(name), DOMAIN_COL(host), DOMAIN_COL(state),
	DOMAIN_COL(vcpus), DOMAIN_COL(memory_kib), DOMAIN_COL(running_since),
	DOMAIN_COL(last_seen), DOMAIN_COL(group), DOMAIN_COL(pinned), DOMAIN_COL(job_class),
};

/* Write one row with the upsert id, its parameters rec's cols in order. A constraint
 * refusing it is its foreign key: no such node (host) or host (domain), -ENOENT. */
static int
put_row(struct store *s, enum sqlite_stmt id, const void *rec, const struct sqlite_col *cols,
    size_t n)
{
	sqlite3_stmt *st = stmt(sqlite_writer(s), id);
	int rc;

	if (!st)
		return -EIO;
	store_sqlite_bind_cols(st, 1, rec, cols, n);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return 0;
	return rc == SQLITE_CONSTRAINT ? -ENOENT : -EIO;
}

int
store_sqlite_vm_host_put(struct store *s, const struct vm_host_rec *h)
{
	return put_row(s, S_VM_HOST_PUT, h, host_cols, ELEMENTSOF(host_cols));
}

int
store_sqlite_vm_host_get(struct store *s, const char *node, struct vm_host_rec *ret)
{
	sqlite3_stmt *st = stmt(sqlite_writer(s), S_VM_HOST_GET);
	int rc;

	if (!st)
		return -EIO;
	store_sqlite_bind_text(st, 1, node);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(ret, 0, sizeof(*ret));
		store_sqlite_read_cols(st, 0, ret, host_cols, ELEMENTSOF(host_cols));
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

int
store_sqlite_vm_host_delete(struct store *s, const char *node)
{
	struct sqlite_conn *c = sqlite_writer(s);
	sqlite3_stmt *st = stmt(c, S_VM_HOST_DELETE);

	if (!st)
		return -EIO;
	store_sqlite_bind_text(st, 1, node);
	return store_sqlite_step_changed(c, st); /* domains go by ON DELETE CASCADE */
}

int
store_sqlite_vm_host_foreach(struct store *s, store_vm_host_fn fn, void *userdata)
{
	sqlite3_stmt *st;
	struct vm_host_rec h;
	int rc, r = 0;

	/* A private statement: fn may call back into the store. */
	if (sqlite3_prepare_v2(sqlite_writer(s)->db, "SELECT " HOST_COLS " FROM vm_hosts "
	    "ORDER BY node", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&h, 0, sizeof(h));
		store_sqlite_read_cols(st, 0, &h, host_cols, ELEMENTSOF(host_cols));
		if ((r = fn(&h, userdata)) < 0)
			break;
	}
	sqlite3_finalize(st);
	if (r < 0)
		return r;
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int
store_sqlite_vm_domain_put(struct store *s, const struct vm_domain_rec *d)
{
	return put_row(s, S_VM_DOMAIN_PUT, d, domain_cols, ELEMENTSOF(domain_cols));
}

int
store_sqlite_vm_domains_drop_stale(struct store *s, const char *host, int64_t seen)
{
	sqlite3_stmt *st = stmt(sqlite_writer(s), S_VM_DOMAIN_STALE);

	if (!st)
		return -EIO;
	store_sqlite_bind_text(st, 1, host);
	sqlite3_bind_int64(st, 2, seen);
	return store_sqlite_step_done(st);
}

int
store_sqlite_vm_domain_foreach(struct store *s, const char *host, store_vm_domain_fn fn,
    void *userdata)
{
	sqlite3_stmt *st;
	struct vm_domain_rec d;
	int rc, r = 0;

	/* Both walk the (host, name) index in its order: no sort. */
	if (sqlite3_prepare_v2(sqlite_writer(s)->db, host[0] ?
	    "SELECT " DOMAIN_COLS " FROM vm_domains WHERE host = ?1 ORDER BY host, name" :
	    "SELECT " DOMAIN_COLS " FROM vm_domains ORDER BY host, name", -1, &st,
	    NULL) != SQLITE_OK)
		return -EIO;
	if (host[0])
		store_sqlite_bind_text(st, 1, host);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&d, 0, sizeof(d));
		store_sqlite_read_cols(st, 0, &d, domain_cols, ELEMENTSOF(domain_cols));
		if ((r = fn(&d, userdata)) < 0)
			break;
	}
	sqlite3_finalize(st);
	if (r < 0)
		return r;
	return rc == SQLITE_DONE ? 0 : -EIO;
}
