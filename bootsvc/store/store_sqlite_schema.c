/* SPDX-License-Identifier: MIT */
/* The SQLite store's schema: its version (PRAGMA user_version), the newest schema a new
 * store gets, and the migrations that bring an older store up to it, one version at a
 * time, each in a transaction of its own.
 *
 * Versions:
 *   1  every release before this file: user_version was written as 1 and never read.
 *      Stores made by older builds may lack what those releases added on open.
 *   2  version 1 completed: the tables, index and columns the release added to older
 *      stores on every open (energy, images_current, initrd_tree, idle_since_ms).
 *   3  an image version's files are rows of image_files (any roles), no longer the
 *      kernel/initrd/rootfs columns of images.
 *   4  nodes.armed, nodes.armed_by: the one-time credential (boot/trust.h).
 *   5  images.hypervisor_version, hypervisor_build_id, hypervisor_efi_build_id,
 *      hypervisor_cmdline: what a Xen image's manifest says of its hypervisor (the
 *      receipt and xen.ipxe read them).
 *   6  vm_hosts and vm_domains: VM hosts and the domains libvirt lists on them (issue 12).
 *   7  vm_plans, vm_steps and vm_drains: the VM layer's plans, their steps, and the VM
 *      hosts an admin drains (issue 13).
 *   8  images.up_probe (the manifest's), node_disks and disk_persistent: each iscsi
 *      node's clone of its image's disk and its target's id and secrets, and the nodes
 *      whose disk survives a boot (issue 14).
 *   9  nodes.drain, nodes.drain_reason: an admin's drain (no new allocation picks the
 *      node; nothing else changes), every node undrained.
 *  10  nodes_managed: the nodes with a BMC and its credentials, in name order, so the
 *      controller's walk of them each second reads those rows only (it scanned every
 *      node: 1.3-1.9 ms a second on the loop with 10,000 nodes and none managed).
 *  11  row_gen and its triggers: a count of every change to a node or an image row, by
 *      any connection, and the tag of the writer's last group, which tell a reader which
 *      of the writer's commits its read transaction holds (store_sqlite_rowlog.c).
 *
 * A migration, once released, never changes: a store made by that release ran the SQL
 * that was there. A change to the schema is a new migration plus the same change to
 * schema_newest; tests/unit/test_store_migrate.c checks both give the same tables. */
#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "store/store_sqlite.h"

/* The last release's schema, as it ran it on every open (version 1). */
static const char schema_v1[] =
	"CREATE TABLE IF NOT EXISTS nodes ("
	" name TEXT PRIMARY KEY, mac TEXT NOT NULL UNIQUE, ip TEXT UNIQUE,"
	" uuid TEXT NOT NULL DEFAULT '', serial TEXT NOT NULL DEFAULT '',"
	" bmc TEXT NOT NULL DEFAULT '', bmc_creds TEXT NOT NULL DEFAULT '',"
	" image TEXT NOT NULL DEFAULT '', image_pin TEXT NOT NULL DEFAULT '',"
	" token TEXT NOT NULL, phase TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '',"
	" phase_at INTEGER NOT NULL, served_image TEXT NOT NULL DEFAULT '',"
	" created INTEGER NOT NULL, want_power TEXT NOT NULL DEFAULT '',"
	" hold INTEGER NOT NULL DEFAULT 0, hold_reason TEXT NOT NULL DEFAULT '',"
	" booted_image TEXT NOT NULL DEFAULT '', power TEXT NOT NULL DEFAULT '',"
	" op TEXT NOT NULL DEFAULT '', op_at_ms INTEGER NOT NULL DEFAULT 0,"
	" attempts INTEGER NOT NULL DEFAULT 0, retry_at_ms INTEGER NOT NULL DEFAULT 0,"
	" bmc_state TEXT NOT NULL DEFAULT '', last_error TEXT NOT NULL DEFAULT '',"
	" alloc_job TEXT NOT NULL DEFAULT '', alloc_class TEXT NOT NULL DEFAULT '',"
	" health TEXT NOT NULL DEFAULT 'ok', health_reasons TEXT NOT NULL DEFAULT '',"
	" health_state TEXT NOT NULL DEFAULT '', sel_last INTEGER NOT NULL DEFAULT 0,"
	" idle_since_ms INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX IF NOT EXISTS nodes_uuid ON nodes(uuid) WHERE uuid != '';"
	"CREATE TABLE IF NOT EXISTS history ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT, node TEXT NOT NULL,"
	" kind TEXT NOT NULL DEFAULT 'phase', phase TEXT NOT NULL,"
	" reason TEXT NOT NULL, at INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS history_node ON history(node, seq);"
	"CREATE TABLE IF NOT EXISTS images ("
	" id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, path TEXT NOT NULL,"
	" kernel_version TEXT NOT NULL, kernel_banner TEXT NOT NULL, built TEXT NOT NULL,"
	" cmdline TEXT NOT NULL, kernel_sha256 TEXT NOT NULL, kernel_size INTEGER NOT NULL,"
	" initrd_sha256 TEXT NOT NULL, initrd_size INTEGER NOT NULL,"
	" rootfs_sha256 TEXT NOT NULL, rootfs_size INTEGER NOT NULL, added INTEGER NOT NULL,"
	" initrd_tree TEXT NOT NULL DEFAULT '');"
	"DROP INDEX IF EXISTS images_name;"
	"CREATE INDEX IF NOT EXISTS images_current ON images(name, added, id);"
	"CREATE TABLE IF NOT EXISTS energy ("
	" node TEXT PRIMARY KEY, at_ms INTEGER NOT NULL, on_mj INTEGER NOT NULL,"
	" off_mj INTEGER NOT NULL, saved_mj INTEGER NOT NULL,"
	" baseline_w INTEGER NOT NULL DEFAULT 0, last_w INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE IF NOT EXISTS energy_image ("
	" image TEXT PRIMARY KEY, on_mj INTEGER NOT NULL, off_mj INTEGER NOT NULL,"
	" saved_mj INTEGER NOT NULL);";

/* VM hosts (issue 12): a node that came up as one, with its facts and the state of
 * bootsvc's libvirt connection to it; and the domains libvirt lists there (libvirt is the
 * truth: the vm room reconciles these rows with its listings). (host, name) is the
 * order vm.list reads and the index the provision check's per-host lookup uses. */
#define SCHEMA_VM \
	"CREATE TABLE vm_hosts (" \
	" node TEXT PRIMARY KEY REFERENCES nodes(name) ON DELETE CASCADE," \
	" hypervisor TEXT NOT NULL, hypervisor_version TEXT NOT NULL," \
	" libvirt_version TEXT NOT NULL, uri TEXT NOT NULL, cpus INTEGER NOT NULL," \
	" memory_mib INTEGER NOT NULL, numa_nodes INTEGER NOT NULL," \
	" guest_cpus INTEGER NOT NULL, guest_memory_mib INTEGER NOT NULL," \
	" state TEXT NOT NULL, state_since INTEGER NOT NULL," \
	" state_reason TEXT NOT NULL DEFAULT '', last_seen INTEGER NOT NULL DEFAULT 0);" \
	"CREATE TABLE vm_domains (" \
	" uuid TEXT PRIMARY KEY, name TEXT NOT NULL," \
	" host TEXT NOT NULL REFERENCES vm_hosts(node) ON DELETE CASCADE," \
	" state TEXT NOT NULL, vcpus INTEGER NOT NULL, memory_kib INTEGER NOT NULL," \
	" running_since INTEGER NOT NULL DEFAULT 0, last_seen INTEGER NOT NULL);" \
	"CREATE INDEX vm_domains_host ON vm_domains(host, name);"

/* VM plans (issue 13): what the planner decided and each step's intent and progress,
 * written before anything acts, so a restarted bootsvc resumes from them. Steps go with
 * their plan; a plan is history, so src/dst are names, not keys (a node removed later
 * leaves its plans readable). vm_steps' primary key (plan_id, seq) is the order one
 * plan's steps are read in; vm_plans_state finds the unfinished plans without a scan.
 * A drain is kept per node across the host's reboots (vm_hosts rows are not: a host
 * that boots again starts afresh), and goes with the node. A domain's placement (its
 * anti-affinity group, grp, and pinned) is read from its libvirt metadata with it. */
#define SCHEMA_VM_PLAN \
	"CREATE TABLE vm_plans (" \
	" id INTEGER PRIMARY KEY AUTOINCREMENT, strategy TEXT NOT NULL," \
	" origin TEXT NOT NULL, state TEXT NOT NULL, reason TEXT NOT NULL DEFAULT ''," \
	" created_ms INTEGER NOT NULL, ended_ms INTEGER NOT NULL DEFAULT 0," \
	" migrations INTEGER NOT NULL DEFAULT 0, hosts_freed INTEGER NOT NULL DEFAULT 0," \
	" unplaced INTEGER NOT NULL DEFAULT 0, mib_moved INTEGER NOT NULL DEFAULT 0," \
	" peak_c_before REAL NOT NULL DEFAULT 0, peak_c_after REAL NOT NULL DEFAULT 0);" \
	"CREATE INDEX vm_plans_state ON vm_plans(state, id);" \
	"CREATE TABLE vm_steps (" \
	" plan_id INTEGER NOT NULL REFERENCES vm_plans(id) ON DELETE CASCADE," \
	" seq INTEGER NOT NULL, action TEXT NOT NULL, priority INTEGER NOT NULL," \
	" vm_uuid TEXT NOT NULL DEFAULT '', vm_name TEXT NOT NULL DEFAULT ''," \
	" src TEXT NOT NULL, dst TEXT NOT NULL DEFAULT '', mem_mib INTEGER NOT NULL DEFAULT 0," \
	" state TEXT NOT NULL, reason TEXT NOT NULL DEFAULT ''," \
	" attempts INTEGER NOT NULL DEFAULT 0, started_ms INTEGER NOT NULL DEFAULT 0," \
	" ended_ms INTEGER NOT NULL DEFAULT 0, data_total INTEGER NOT NULL DEFAULT 0," \
	" data_processed INTEGER NOT NULL DEFAULT 0," \
	" data_remaining INTEGER NOT NULL DEFAULT 0," \
	" downtime_ms INTEGER NOT NULL DEFAULT 0, postcopy INTEGER NOT NULL DEFAULT 0," \
	" PRIMARY KEY (plan_id, seq));" \
	"CREATE TABLE vm_drains (" \
	" node TEXT PRIMARY KEY REFERENCES nodes(name) ON DELETE CASCADE," \
	" reason TEXT NOT NULL DEFAULT '');" \
	"ALTER TABLE vm_domains ADD COLUMN grp TEXT NOT NULL DEFAULT '';" \
	"ALTER TABLE vm_domains ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;" \
	"ALTER TABLE vm_domains ADD COLUMN jclass TEXT NOT NULL DEFAULT '';"

/* Node disks (issue 14): a row per node with an iSCSI disk, not bound to the nodes row
 * (the clone file outlives a deleted node until the iscsi room removed it and the row);
 * tid UNIQUE is tgtd's target id, the index that finds the lowest free one. The
 * persistent property is the node's (set before any disk exists), gone with the node. */
#define SCHEMA_DISK \
	"ALTER TABLE images ADD COLUMN up_probe TEXT NOT NULL DEFAULT '';" \
	"CREATE TABLE node_disks (" \
	" node TEXT PRIMARY KEY, image_id TEXT NOT NULL, path TEXT NOT NULL," \
	" method TEXT NOT NULL, apparent_bytes INTEGER NOT NULL DEFAULT 0," \
	" allocated_bytes INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL," \
	" reason TEXT NOT NULL DEFAULT '', tid INTEGER NOT NULL UNIQUE," \
	" chap_user TEXT NOT NULL DEFAULT '', chap_secret TEXT NOT NULL DEFAULT ''," \
	" mutual_user TEXT NOT NULL DEFAULT '', mutual_secret TEXT NOT NULL DEFAULT ''," \
	" made_at INTEGER NOT NULL DEFAULT 0, make_ms INTEGER NOT NULL DEFAULT 0," \
	" boot TEXT NOT NULL DEFAULT '', reset INTEGER NOT NULL DEFAULT 0);" \
	"CREATE TABLE disk_persistent (" \
	" node TEXT PRIMARY KEY REFERENCES nodes(name) ON DELETE CASCADE);"

/* The controller's walk (store_sqlite_node.c, STORE_NODES_MANAGED): its WHERE is the
 * index's, so SQLite reads the index in name order and no other row. */
#define SCHEMA_NODES_MANAGED \
	"CREATE INDEX nodes_managed ON nodes(name) WHERE bmc != '' AND bmc_creds != '';"

/* row_gen.gen counts the changes of node and image rows, in the transaction that makes
 * them, whoever makes them (triggers run for a sqlite3 shell too): the readers' way to
 * know which commits their snapshot holds (store_sqlite_rowlog.c). One row, never another. */
#define ROW_GEN_TRIGGER(table, op) \
	"CREATE TRIGGER " #table "_gen_" #op " AFTER " #op " ON " #table \
	" BEGIN UPDATE row_gen SET gen = gen + 1; END;"
#define SCHEMA_ROW_GEN \
	"CREATE TABLE row_gen (one INTEGER PRIMARY KEY CHECK (one = 1)," \
	" gen INTEGER NOT NULL, tx INTEGER NOT NULL);" \
	"INSERT INTO row_gen VALUES (1, 0, 0);" \
	ROW_GEN_TRIGGER(nodes, INSERT) ROW_GEN_TRIGGER(nodes, UPDATE) \
	ROW_GEN_TRIGGER(nodes, DELETE) ROW_GEN_TRIGGER(images, INSERT) \
	ROW_GEN_TRIGGER(images, UPDATE) ROW_GEN_TRIGGER(images, DELETE)

/* What a new store gets: version STORE_SQLITE_SCHEMA_VERSION. */
static const char schema_newest[] =
	"CREATE TABLE nodes ("
	" name TEXT PRIMARY KEY, mac TEXT NOT NULL UNIQUE, ip TEXT UNIQUE,"
	" uuid TEXT NOT NULL DEFAULT '', serial TEXT NOT NULL DEFAULT '',"
	" bmc TEXT NOT NULL DEFAULT '', bmc_creds TEXT NOT NULL DEFAULT '',"
	" image TEXT NOT NULL DEFAULT '', image_pin TEXT NOT NULL DEFAULT '',"
	" token TEXT NOT NULL, phase TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '',"
	" phase_at INTEGER NOT NULL, served_image TEXT NOT NULL DEFAULT '',"
	" created INTEGER NOT NULL, want_power TEXT NOT NULL DEFAULT '',"
	" hold INTEGER NOT NULL DEFAULT 0, hold_reason TEXT NOT NULL DEFAULT '',"
	" booted_image TEXT NOT NULL DEFAULT '', power TEXT NOT NULL DEFAULT '',"
	" op TEXT NOT NULL DEFAULT '', op_at_ms INTEGER NOT NULL DEFAULT 0,"
	" attempts INTEGER NOT NULL DEFAULT 0, retry_at_ms INTEGER NOT NULL DEFAULT 0,"
	" bmc_state TEXT NOT NULL DEFAULT '', last_error TEXT NOT NULL DEFAULT '',"
	" alloc_job TEXT NOT NULL DEFAULT '', alloc_class TEXT NOT NULL DEFAULT '',"
	" health TEXT NOT NULL DEFAULT 'ok', health_reasons TEXT NOT NULL DEFAULT '',"
	" health_state TEXT NOT NULL DEFAULT '', sel_last INTEGER NOT NULL DEFAULT 0,"
	" idle_since_ms INTEGER NOT NULL DEFAULT 0, armed INTEGER NOT NULL DEFAULT 0,"
	" armed_by TEXT NOT NULL DEFAULT '', drain INTEGER NOT NULL DEFAULT 0,"
	" drain_reason TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX nodes_uuid ON nodes(uuid) WHERE uuid != '';"
	SCHEMA_NODES_MANAGED
	/* Phase changes and controller actions, in seq order: the events verb streams them
	 * and a subscriber resumes with `since`. */
	"CREATE TABLE history ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT, node TEXT NOT NULL,"
	" kind TEXT NOT NULL DEFAULT 'phase', phase TEXT NOT NULL,"
	" reason TEXT NOT NULL, at INTEGER NOT NULL);"
	"CREATE INDEX history_node ON history(node, seq);"
	"CREATE TABLE images ("
	" id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, path TEXT NOT NULL,"
	" kernel_version TEXT NOT NULL, kernel_banner TEXT NOT NULL, built TEXT NOT NULL,"
	" cmdline TEXT NOT NULL, added INTEGER NOT NULL, initrd_tree TEXT NOT NULL DEFAULT '',"
	" hypervisor_version TEXT NOT NULL DEFAULT '',"
	" hypervisor_build_id TEXT NOT NULL DEFAULT '',"
	" hypervisor_efi_build_id TEXT NOT NULL DEFAULT '',"
	" hypervisor_cmdline TEXT NOT NULL DEFAULT '');"
	/* (name, added, id) is the order "the current version of a name" reads in, so that
	 * query (run on every script request) walks the index instead of sorting in a temp
	 * b-tree, whose pager was opened and freed per request (docs/benchmarks.md). */
	"CREATE INDEX images_current ON images(name, added, id);"
	/* A version's files, any roles (the kind table says which a kind has). pos keeps
	 * them in the order they were added, and UNIQUE (image_id, pos) is the index that
	 * reads them in that order without sorting. */
	"CREATE TABLE image_files ("
	" image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
	" role TEXT NOT NULL, pos INTEGER NOT NULL, sha256 TEXT NOT NULL,"
	" size INTEGER NOT NULL, PRIMARY KEY (image_id, role), UNIQUE (image_id, pos));"
	/* Energy (issue #7): kept apart from nodes, so a restart keeps totals and the
	 * controller's node writes never race the accounting's. */
	"CREATE TABLE energy ("
	" node TEXT PRIMARY KEY, at_ms INTEGER NOT NULL, on_mj INTEGER NOT NULL,"
	" off_mj INTEGER NOT NULL, saved_mj INTEGER NOT NULL,"
	" baseline_w INTEGER NOT NULL DEFAULT 0, last_w INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE energy_image ("
	" image TEXT PRIMARY KEY, on_mj INTEGER NOT NULL, off_mj INTEGER NOT NULL,"
	" saved_mj INTEGER NOT NULL);"
	SCHEMA_VM
	SCHEMA_VM_PLAN
	SCHEMA_DISK
	SCHEMA_ROW_GEN;

/* The helpers below (and store_sqlite_exec) leave "store '<path>': " to the two entry
 * points, which add it. */

/* One integer from a query without parameters; *ret untouched when it has no row. */
static int
query_int(sqlite3 *db, const char *sql, int *ret, struct dl_err *reterr)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return dl_err_set(reterr, -EIO, "%s", sqlite3_errmsg(db));
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*ret = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return dl_err_set(reterr, -EIO, "%s", sqlite3_errmsg(db));
	return 0;
}

static int
read_version(sqlite3 *db, int *ret, struct dl_err *reterr)
{
	*ret = 0;
	return query_int(db, "PRAGMA user_version", ret, reterr);
}

static int
refuse_newer(const char *path, int version, struct dl_err *reterr)
{
	return dl_err_set(reterr, -ENOTSUP, "store '%s' has schema version %d, this bootsvc "
	    "knows up to %d: upgrade bootsvc", path, version, STORE_SQLITE_SCHEMA_VERSION);
}

int
store_sqlite_schema_check(sqlite3 *db, const char *path, struct dl_err *reterr)
{
	int version, r;

	if ((r = read_version(db, &version, reterr)) < 0)
		return dl_err_prefix(reterr, "store '%s'", path);
	if (version < 0 || version > STORE_SQLITE_SCHEMA_VERSION)
		return refuse_newer(path, version, reterr);
	return 0;
}

static int
column_add_missing(sqlite3 *db, const char *table, const char *column, const char *decl,
    struct dl_err *reterr)
{
	char sql[256];
	int found = 0, r;

	(void)snprintf(sql, sizeof(sql), "SELECT count(*) FROM pragma_table_info('%s') "
	    "WHERE name = '%s'", table, column);
	if ((r = query_int(db, sql, &found, reterr)) < 0 || found)
		return r;
	(void)snprintf(sql, sizeof(sql), "ALTER TABLE %s ADD COLUMN %s %s", table, column, decl);
	return store_sqlite_exec(db, sql, reterr);
}

/* 1 -> 2: what the last release did to a store on every open, so that version 2 is one
 * schema where version 1 was several. CREATE ... IF NOT EXISTS also finishes a store
 * whose creation stopped part way (version 0 with tables: the release wrote the version
 * last, outside any transaction). */
static int
migrate_release_fixups(sqlite3 *db, struct dl_err *reterr)
{
	int r;

	if ((r = store_sqlite_exec(db, schema_v1, reterr)) < 0)
		return r;
	/* Stores made before initrd_tree: '' = compare the initrd's sha256, as before. */
	if ((r = column_add_missing(db, "images", "initrd_tree", "TEXT NOT NULL DEFAULT ''",
	    reterr)) < 0)
		return r;
	/* Stores made before the green policy (issue #7): the idle clock starts at 0. */
	return column_add_missing(db, "nodes", "idle_since_ms", "INTEGER NOT NULL DEFAULT 0",
	    reterr);
}

/* 2 -> 3: image files as rows. Each non-empty column pair becomes the row of its role, at
 * the position the columns had; then the columns go (foreign keys are off, so the
 * rewrite of images cannot cascade into the rows just made; DROP COLUMN needs SQLite
 * 3.35, Debian 12 has 3.40). */
static int
migrate_image_files(sqlite3 *db, struct dl_err *reterr)
{
	return store_sqlite_exec(db,
	    "CREATE TABLE image_files ("
	    " image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
	    " role TEXT NOT NULL, pos INTEGER NOT NULL, sha256 TEXT NOT NULL,"
	    " size INTEGER NOT NULL, PRIMARY KEY (image_id, role), UNIQUE (image_id, pos));"
	    "INSERT INTO image_files (image_id, role, pos, sha256, size)"
	    " SELECT id, 'kernel', 0, kernel_sha256, kernel_size FROM images"
	    "  WHERE kernel_sha256 != ''"
	    " UNION ALL SELECT id, 'initrd', 1, initrd_sha256, initrd_size FROM images"
	    "  WHERE initrd_sha256 != ''"
	    " UNION ALL SELECT id, 'rootfs', 2, rootfs_sha256, rootfs_size FROM images"
	    "  WHERE rootfs_sha256 != '';"
	    "ALTER TABLE images DROP COLUMN kernel_sha256;"
	    "ALTER TABLE images DROP COLUMN kernel_size;"
	    "ALTER TABLE images DROP COLUMN initrd_sha256;"
	    "ALTER TABLE images DROP COLUMN initrd_size;"
	    "ALTER TABLE images DROP COLUMN rootfs_sha256;"
	    "ALTER TABLE images DROP COLUMN rootfs_size;",
	    reterr);
}

/* 3 -> 4: a node is armed while its current token may be handed out once. */
static int
migrate_armed(sqlite3 *db, struct dl_err *reterr)
{
	return store_sqlite_exec(db,
	    "ALTER TABLE nodes ADD COLUMN armed INTEGER NOT NULL DEFAULT 0;"
	    "ALTER TABLE nodes ADD COLUMN armed_by TEXT NOT NULL DEFAULT '';",
	    reterr);
}

/* 4 -> 5: a hypervisor image's own identity and command line (kind xen). */
static int
migrate_image_hypervisor(sqlite3 *db, struct dl_err *reterr)
{
	return store_sqlite_exec(db,
	    "ALTER TABLE images ADD COLUMN hypervisor_version TEXT NOT NULL DEFAULT '';"
	    "ALTER TABLE images ADD COLUMN hypervisor_build_id TEXT NOT NULL DEFAULT '';"
	    "ALTER TABLE images ADD COLUMN hypervisor_efi_build_id TEXT NOT NULL DEFAULT '';"
	    "ALTER TABLE images ADD COLUMN hypervisor_cmdline TEXT NOT NULL DEFAULT '';",
	    reterr);
}

/* 5 -> 6: VM hosts and their domains, empty. */
static int
migrate_vm(sqlite3 *db, struct dl_err *reterr)
{
	return store_sqlite_exec(db, SCHEMA_VM, reterr);
}

/* 6 -> 7: VM plans, steps and drains, empty. */
static int
migrate_vm_plan(sqlite3 *db, struct dl_err *reterr)
{
	return store_sqlite_exec(db, SCHEMA_VM_PLAN, reterr);
}

/* 7 -> 8: images' up_probe ('' for every image before), node disks, none yet. */
static int
migrate_disk(sqlite3 *db, struct dl_err *reterr)
{
	return store_sqlite_exec(db, SCHEMA_DISK, reterr);
}

/* 8 -> 9: an admin's node drain; no node was drained before. */
static int
migrate_node_drain(sqlite3 *db, struct dl_err *reterr)
{
	return store_sqlite_exec(db,
	    "ALTER TABLE nodes ADD COLUMN drain INTEGER NOT NULL DEFAULT 0;"
	    "ALTER TABLE nodes ADD COLUMN drain_reason TEXT NOT NULL DEFAULT '';",
	    reterr);
}

/* 9 -> 10: the managed nodes' index. */
static int
migrate_node_managed(sqlite3 *db, struct dl_err *reterr)
{
	return store_sqlite_exec(db, SCHEMA_NODES_MANAGED, reterr);
}

/* 10 -> 11: the count of node and image changes. */
static int
migrate_row_gen(sqlite3 *db, struct dl_err *reterr)
{
	return store_sqlite_exec(db, SCHEMA_ROW_GEN, reterr);
}

struct migration {
	int from;         /* it makes from + 1 */
	const char *what; /* for the log */
	int (*run)(sqlite3 *db, struct dl_err *reterr);
};

static const struct migration migrations[] = {
	{ 1, "complete the release's version 1", migrate_release_fixups },
	{ 2, "image files as rows", migrate_image_files },
	{ 3, "armed credentials", migrate_armed },
	{ 4, "image hypervisor", migrate_image_hypervisor },
	{ 5, "VM hosts and domains", migrate_vm },
	{ 6, "VM plans and drains", migrate_vm_plan },
	{ 7, "image up_probe and node disks", migrate_disk },
	{ 8, "node drain", migrate_node_drain },
	{ 9, "managed nodes' index", migrate_node_managed },
	{ 10, "row changes counted", migrate_row_gen },
};

_Static_assert(ELEMENTSOF(migrations) + 1 == STORE_SQLITE_SCHEMA_VERSION,
    "one migration per version after 1");

static int64_t
mono_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One step in the open transaction: create the newest schema, or run the migration from
 * version; then the new version, once foreign keys check. *ret_to: the version it made. */
static int
step(sqlite3 *db, int version, int *ret_to, struct dl_err *reterr)
{
	char sql[48];
	int to, tables = 0, bad = 0, r;

	if (version == 0 && (r = query_int(db, "SELECT count(*) FROM sqlite_master WHERE "
	    "type = 'table' AND name = 'nodes'", &tables, reterr)) < 0)
		return r;
	if (version == 0 && !tables) {
		if ((r = store_sqlite_exec(db, schema_newest, reterr)) < 0)
			return dl_err_prefix(reterr, "creating schema version %d",
			    STORE_SQLITE_SCHEMA_VERSION);
		to = STORE_SQLITE_SCHEMA_VERSION;
	} else {
		const struct migration *m = &migrations[(version ? version : 1) - 1];

		assert(m->from == (version ? version : 1));
		to = m->from + 1;
		if ((r = m->run(db, reterr)) < 0)
			return dl_err_prefix(reterr, "migrating schema version %d to %d (%s)",
			    m->from, to, m->what);
	}
	if ((r = query_int(db, "SELECT count(*) FROM pragma_foreign_key_check", &bad,
	    reterr)) < 0)
		return r;
	if (bad)
		return dl_err_set(reterr, -EIO, "schema version %d has %d rows whose foreign "
		    "key points nowhere", to, bad);
	(void)snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", to);
	if ((r = store_sqlite_exec(db, sql, reterr)) < 0)
		return r;
	*ret_to = to;
	return 0;
}

int
store_sqlite_schema_upgrade(sqlite3 *db, const char *path, struct dl_err *reterr)
{
	int version, to = 0, r;

	/* Each step reads the version again under the write lock: another bootsvc on the
	 * same file may have moved it since store_sqlite_schema_check(). */
	for (;;) {
		int64_t t0 = mono_ms();

		if ((r = store_sqlite_exec(db, "BEGIN IMMEDIATE", reterr)) < 0)
			return dl_err_prefix(reterr, "store '%s'", path);
		if ((r = read_version(db, &version, reterr)) < 0)
			goto fail;
		if (version < 0 || version > STORE_SQLITE_SCHEMA_VERSION) {
			(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL); /* read nothing */
			return refuse_newer(path, version, reterr);
		}
		if (version == STORE_SQLITE_SCHEMA_VERSION)
			break;
		if ((r = step(db, version, &to, reterr)) < 0 ||
		    (r = store_sqlite_exec(db, "COMMIT", reterr)) < 0)
			goto fail;
		if (version == 0 && to == STORE_SQLITE_SCHEMA_VERSION)
			log_notice("event=store_create store=%s version=%d", path, to);
		else
			log_notice("event=store_migrate store=%s from=%d to=%d ms=%lld", path,
			    version, to, (long long)(mono_ms() - t0));
	}
	if ((r = store_sqlite_exec(db, "COMMIT", reterr)) < 0)
		goto fail;
	return 0;
fail:
	(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL); /* the step leaves no trace */
	return dl_err_prefix(reterr, "store '%s'", path);
}
