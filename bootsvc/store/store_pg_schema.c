/* SPDX-License-Identifier: MIT */
/* The PostgreSQL store's schema: its version (the one row of schema_version), and the
 * newest schema a new database gets, in one transaction under the write lock, so two
 * bootsvc starting at once on a new database never both create it.
 *
 * Versions (docs/store.md): a PostgreSQL store starts at 8, SQLite's version when this
 * backend came (issue 15). Every later version is a migration in both backends: the
 * SQLite one in store_sqlite_schema.c, its PostgreSQL form here, and
 * tests/unit/test_store_migrate.c checks a new store of each has the same columns.
 *
 *   9  nodes.drain, nodes.drain_reason: an admin's node drain.
 *  10  nodes_managed: the nodes with a BMC and its credentials, for the controller's walk.
 *
 * The tables, columns and indexes are SQLite's newest (store_sqlite_schema.c) in
 * PostgreSQL's types: BIGINT for every integer the code holds in an int64_t (and the
 * other counters, for one rule), INTEGER 0/1 for a bool (as SQLite stores them, so both
 * backends bind and compare them alike), DOUBLE PRECISION for REAL, BIGSERIAL for the
 * AUTOINCREMENT keys. Two things only PostgreSQL has, for the cluster (issue 15): the
 * servers table (the bootsvc instances sharing the database) and a NOTIFY on every new
 * history row, which wakes the subscribers of every instance. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store/store_pg.h"

#define STR_(x) #x
#define STR(x) STR_(x)

static const char schema_newest[] =
	"CREATE TABLE nodes ("
	" name TEXT PRIMARY KEY, mac TEXT NOT NULL UNIQUE, ip TEXT UNIQUE,"
	" uuid TEXT NOT NULL DEFAULT '', serial TEXT NOT NULL DEFAULT '',"
	" bmc TEXT NOT NULL DEFAULT '', bmc_creds TEXT NOT NULL DEFAULT '',"
	" image TEXT NOT NULL DEFAULT '', image_pin TEXT NOT NULL DEFAULT '',"
	" token TEXT NOT NULL, phase TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '',"
	" phase_at BIGINT NOT NULL, served_image TEXT NOT NULL DEFAULT '',"
	" created BIGINT NOT NULL, want_power TEXT NOT NULL DEFAULT '',"
	" hold INTEGER NOT NULL DEFAULT 0, hold_reason TEXT NOT NULL DEFAULT '',"
	" booted_image TEXT NOT NULL DEFAULT '', power TEXT NOT NULL DEFAULT '',"
	" op TEXT NOT NULL DEFAULT '', op_at_ms BIGINT NOT NULL DEFAULT 0,"
	" attempts BIGINT NOT NULL DEFAULT 0, retry_at_ms BIGINT NOT NULL DEFAULT 0,"
	" bmc_state TEXT NOT NULL DEFAULT '', last_error TEXT NOT NULL DEFAULT '',"
	" alloc_job TEXT NOT NULL DEFAULT '', alloc_class TEXT NOT NULL DEFAULT '',"
	" health TEXT NOT NULL DEFAULT 'ok', health_reasons TEXT NOT NULL DEFAULT '',"
	" health_state TEXT NOT NULL DEFAULT '', sel_last BIGINT NOT NULL DEFAULT 0,"
	" idle_since_ms BIGINT NOT NULL DEFAULT 0, armed INTEGER NOT NULL DEFAULT 0,"
	" armed_by TEXT NOT NULL DEFAULT '', drain INTEGER NOT NULL DEFAULT 0,"
	" drain_reason TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX nodes_uuid ON nodes(uuid) WHERE uuid != '';"
	"CREATE INDEX nodes_managed ON nodes(name) WHERE bmc != '' AND bmc_creds != '';"
	"CREATE TABLE history ("
	" seq BIGSERIAL PRIMARY KEY, node TEXT NOT NULL,"
	" kind TEXT NOT NULL DEFAULT 'phase', phase TEXT NOT NULL,"
	" reason TEXT NOT NULL, at BIGINT NOT NULL);"
	"CREATE INDEX history_node ON history(node, seq);"
	/* Every instance's subscribers wake on a new row (the cluster's listener). Writers
	 * hold the write lock to their commit, so rows commit in seq order and a reader of
	 * seq > since never misses one committed late with a lower seq. */
	"CREATE FUNCTION history_notify() RETURNS trigger LANGUAGE plpgsql AS $$"
	" BEGIN PERFORM pg_notify('diskless_history', NEW.seq::text); RETURN NULL; END $$;"
	"CREATE TRIGGER history_notify AFTER INSERT ON history"
	" FOR EACH ROW EXECUTE FUNCTION history_notify();"
	"CREATE TABLE images ("
	" id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, path TEXT NOT NULL,"
	" kernel_version TEXT NOT NULL, kernel_banner TEXT NOT NULL, built TEXT NOT NULL,"
	" cmdline TEXT NOT NULL, added BIGINT NOT NULL, initrd_tree TEXT NOT NULL DEFAULT '',"
	" hypervisor_version TEXT NOT NULL DEFAULT '',"
	" hypervisor_build_id TEXT NOT NULL DEFAULT '',"
	" hypervisor_efi_build_id TEXT NOT NULL DEFAULT '',"
	" hypervisor_cmdline TEXT NOT NULL DEFAULT '', up_probe TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX images_current ON images(name, added, id);"
	"CREATE TABLE image_files ("
	" image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
	" role TEXT NOT NULL, pos BIGINT NOT NULL, sha256 TEXT NOT NULL,"
	" size BIGINT NOT NULL, PRIMARY KEY (image_id, role), UNIQUE (image_id, pos));"
	"CREATE TABLE energy ("
	" node TEXT PRIMARY KEY, at_ms BIGINT NOT NULL, on_mj BIGINT NOT NULL,"
	" off_mj BIGINT NOT NULL, saved_mj BIGINT NOT NULL,"
	" baseline_w BIGINT NOT NULL DEFAULT 0, last_w BIGINT NOT NULL DEFAULT 0);"
	"CREATE TABLE energy_image ("
	" image TEXT PRIMARY KEY, on_mj BIGINT NOT NULL, off_mj BIGINT NOT NULL,"
	" saved_mj BIGINT NOT NULL);"
	"CREATE TABLE vm_hosts ("
	" node TEXT PRIMARY KEY REFERENCES nodes(name) ON DELETE CASCADE,"
	" hypervisor TEXT NOT NULL, hypervisor_version TEXT NOT NULL,"
	" libvirt_version TEXT NOT NULL, uri TEXT NOT NULL, cpus BIGINT NOT NULL,"
	" memory_mib BIGINT NOT NULL, numa_nodes BIGINT NOT NULL,"
	" guest_cpus BIGINT NOT NULL, guest_memory_mib BIGINT NOT NULL,"
	" state TEXT NOT NULL, state_since BIGINT NOT NULL,"
	" state_reason TEXT NOT NULL DEFAULT '', last_seen BIGINT NOT NULL DEFAULT 0);"
	"CREATE TABLE vm_domains ("
	" uuid TEXT PRIMARY KEY, name TEXT NOT NULL,"
	" host TEXT NOT NULL REFERENCES vm_hosts(node) ON DELETE CASCADE,"
	" state TEXT NOT NULL, vcpus BIGINT NOT NULL, memory_kib BIGINT NOT NULL,"
	" running_since BIGINT NOT NULL DEFAULT 0, last_seen BIGINT NOT NULL,"
	" grp TEXT NOT NULL DEFAULT '', pinned INTEGER NOT NULL DEFAULT 0,"
	" jclass TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX vm_domains_host ON vm_domains(host, name);"
	"CREATE TABLE vm_plans ("
	" id BIGSERIAL PRIMARY KEY, strategy TEXT NOT NULL,"
	" origin TEXT NOT NULL, state TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '',"
	" created_ms BIGINT NOT NULL, ended_ms BIGINT NOT NULL DEFAULT 0,"
	" migrations BIGINT NOT NULL DEFAULT 0, hosts_freed BIGINT NOT NULL DEFAULT 0,"
	" unplaced BIGINT NOT NULL DEFAULT 0, mib_moved BIGINT NOT NULL DEFAULT 0,"
	" peak_c_before DOUBLE PRECISION NOT NULL DEFAULT 0,"
	" peak_c_after DOUBLE PRECISION NOT NULL DEFAULT 0);"
	"CREATE INDEX vm_plans_state ON vm_plans(state, id);"
	"CREATE TABLE vm_steps ("
	" plan_id BIGINT NOT NULL REFERENCES vm_plans(id) ON DELETE CASCADE,"
	" seq BIGINT NOT NULL, action TEXT NOT NULL, priority BIGINT NOT NULL,"
	" vm_uuid TEXT NOT NULL DEFAULT '', vm_name TEXT NOT NULL DEFAULT '',"
	" src TEXT NOT NULL, dst TEXT NOT NULL DEFAULT '', mem_mib BIGINT NOT NULL DEFAULT 0,"
	" state TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '',"
	" attempts BIGINT NOT NULL DEFAULT 0, started_ms BIGINT NOT NULL DEFAULT 0,"
	" ended_ms BIGINT NOT NULL DEFAULT 0, data_total BIGINT NOT NULL DEFAULT 0,"
	" data_processed BIGINT NOT NULL DEFAULT 0,"
	" data_remaining BIGINT NOT NULL DEFAULT 0,"
	" downtime_ms BIGINT NOT NULL DEFAULT 0, postcopy INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (plan_id, seq));"
	"CREATE TABLE vm_drains ("
	" node TEXT PRIMARY KEY REFERENCES nodes(name) ON DELETE CASCADE,"
	" reason TEXT NOT NULL DEFAULT '');"
	"CREATE TABLE node_disks ("
	" node TEXT PRIMARY KEY, image_id TEXT NOT NULL, path TEXT NOT NULL,"
	" method TEXT NOT NULL, apparent_bytes BIGINT NOT NULL DEFAULT 0,"
	" allocated_bytes BIGINT NOT NULL DEFAULT 0, state TEXT NOT NULL,"
	" reason TEXT NOT NULL DEFAULT '', tid BIGINT NOT NULL UNIQUE,"
	" chap_user TEXT NOT NULL DEFAULT '', chap_secret TEXT NOT NULL DEFAULT '',"
	" mutual_user TEXT NOT NULL DEFAULT '', mutual_secret TEXT NOT NULL DEFAULT '',"
	" made_at BIGINT NOT NULL DEFAULT 0, make_ms BIGINT NOT NULL DEFAULT 0,"
	" boot TEXT NOT NULL DEFAULT '', reset INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE disk_persistent ("
	" node TEXT PRIMARY KEY REFERENCES nodes(name) ON DELETE CASCADE);"
	/* The bootsvc instances sharing this database (issue 15; the cluster helper keeps
	 * the rows): name, the URL peers reach it at, the segments it serves DHCP on, its
	 * role, and its process and clock for `nodectl server list`. */
	"CREATE TABLE servers ("
	" name TEXT PRIMARY KEY, url TEXT NOT NULL, segments TEXT NOT NULL DEFAULT '',"
	" role TEXT NOT NULL DEFAULT '', pid BIGINT, started_ms BIGINT, seen_ms BIGINT);"
	"CREATE TABLE schema_version (version INTEGER NOT NULL);"
	"INSERT INTO schema_version (version) VALUES (" STR(STORE_PG_SCHEMA_VERSION) ");";

/* The first version a PostgreSQL store has: made new at the SQLite store's version 8. */
#define PG_SCHEMA_FIRST 8

/* From PG_SCHEMA_FIRST + i to the next: each SQLite migration after 8, in PostgreSQL's
 * types. Once released, a migration never changes. */
static const char *const pg_migrations[] = {
	/* 8 -> 9: an admin's node drain; no node was drained before. */
	"ALTER TABLE nodes ADD COLUMN drain INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE nodes ADD COLUMN drain_reason TEXT NOT NULL DEFAULT '';",
	/* 9 -> 10: the managed nodes' index. */
	"CREATE INDEX nodes_managed ON nodes(name) WHERE bmc != '' AND bmc_creds != '';",
};

_Static_assert(PG_SCHEMA_FIRST + ELEMENTSOF(pg_migrations) == STORE_PG_SCHEMA_VERSION,
    "one migration per version after the first");

/* sql on db: 0 with the last result's first value in ret (when ret), or -EIO. */
static int
exec(PGconn *db, const char *sql, char *ret, size_t size, struct dl_err *reterr)
{
	PGresult *res = PQexec(db, sql);
	ExecStatusType st = PQresultStatus(res);
	int r = 0;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		const char *m = PQresultErrorMessage(res);

		r = dl_err_set(reterr, -EIO, "%.*s", (int)strcspn(m, "\n"), m);
	} else if (ret) {
		ret[0] = '\0';
		if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
			(void)snprintf(ret, size, "%s", PQgetvalue(res, 0, 0));
	}
	PQclear(res);
	return r;
}

int
store_pg_schema_upgrade(PGconn *db, const char *safe, struct dl_err *reterr)
{
	char v[32];
	long version;
	int r;

	/* The lock first: a second bootsvc on a new database waits here for the first's
	 * commit, then finds the schema made. */
	if ((r = exec(db, "BEGIN; SELECT pg_advisory_xact_lock(" STR(STORE_PG_LOCK_KEY) "); "
	    "SELECT to_regclass('schema_version') IS NOT NULL", v, sizeof(v), reterr)) < 0)
		goto fail;
	if (strcmp(v, "t") != 0) {
		if ((r = exec(db, schema_newest, NULL, 0, reterr)) < 0) {
			dl_err_prefix(reterr, "creating schema version %d",
			    STORE_PG_SCHEMA_VERSION);
			goto fail;
		}
		if ((r = exec(db, "COMMIT", NULL, 0, reterr)) < 0)
			goto fail;
		log_notice("event=store_create store=%s backend=postgresql version=%d", safe,
		    STORE_PG_SCHEMA_VERSION);
		return 0;
	}
	if ((r = exec(db, "SELECT max(version) FROM schema_version", v, sizeof(v), reterr)) < 0)
		goto fail;
	version = strtol(v, NULL, 10);
	if (version > STORE_PG_SCHEMA_VERSION) {
		(void)exec(db, "ROLLBACK", NULL, 0, NULL); /* read only: nothing to keep */
		return dl_err_set(reterr, -ENOTSUP, "store '%s' has schema version %ld, this "
		    "bootsvc knows up to %d: upgrade bootsvc", safe, version,
		    STORE_PG_SCHEMA_VERSION);
	}
	if (version < PG_SCHEMA_FIRST) {
		(void)exec(db, "ROLLBACK", NULL, 0, NULL);
		return dl_err_set(reterr, -EIO, "store '%s' has schema version '%s': not a "
		    "version a PostgreSQL store has (they start at %d)", safe, v, PG_SCHEMA_FIRST);
	}
	if (version == STORE_PG_SCHEMA_VERSION) {
		(void)exec(db, "ROLLBACK", NULL, 0, NULL); /* read only: nothing to keep */
		return 0;
	}
	/* Every step in this one transaction, under the lock: a failure leaves the store
	 * at the version it had, and another bootsvc waits, then finds it done. */
	for (long from = version; from < STORE_PG_SCHEMA_VERSION; from++) {
		const char *sql = pg_migrations[from - PG_SCHEMA_FIRST];

		if ((r = exec(db, sql, NULL, 0, reterr)) < 0) {
			dl_err_prefix(reterr, "migrating schema version %ld to %ld", from, from + 1);
			goto fail;
		}
	}
	if ((r = exec(db, "UPDATE schema_version SET version = " STR(STORE_PG_SCHEMA_VERSION) "; "
	    "COMMIT", NULL, 0, reterr)) < 0)
		goto fail;
	log_notice("event=store_migrate store=%s backend=postgresql from=%ld to=%d", safe,
	    version, STORE_PG_SCHEMA_VERSION);
	return 0;
fail:
	(void)exec(db, "ROLLBACK", NULL, 0, NULL); /* the creation leaves no trace */
	(void)dl_err_prefix(reterr, "store '%s'", safe);
	return r;
}
