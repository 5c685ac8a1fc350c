/* SPDX-License-Identifier: MIT */
/* The node store: nodes, image versions, boot-phase history, events and energy totals.
 *
 * Callers speak in these operations only; a backend keeps the rows. store.c picks the
 * backend from what store_open() is given and dispatches to it (store_backend.h);
 * SQLite (store_sqlite*.c, WAL) is the embedded default, PostgreSQL (store_pg*.c) the
 * store several bootsvc share (issue 15).
 * All SQL lives in the backends. A struct store belongs to the loop thread
 * (CONVENTIONS §6); other threads read through a struct store_reader of their own.
 *
 * The contract every backend meets (tests/unit/test_store*.c check it against both):
 *
 * - Errors: -ENOENT for a row that is not there, -EEXIST for a uniqueness conflict,
 *   -EIO for anything the backend itself failed at. A failed operation leaves an
 *   enclosing transaction usable: node.add reports a taken MAC and carries on.
 * - Reads see the latest committed state plus the caller's own uncommitted writes.
 * - store_begin() opens a transaction; inside a batch or another transaction it opens a
 *   savepoint instead, so transactions nest to MAX_STORE_TX_DEPTH. Each store_begin()
 *   that returned 0 is closed by exactly one store_commit() or store_rollback(), which
 *   close the innermost one. Committing a savepoint folds its writes into the enclosing
 *   transaction; only the outermost commit makes them durable and visible to readers.
 *   Rolling back undoes the innermost only. A commit that fails rolls back what it
 *   would have committed (the transaction is closed either way). With none open,
 *   store_commit() is -EIO and store_rollback() does nothing. A top-level transaction
 *   takes the write lock when it begins, so its writes never fail for want of it.
 * - A batch (store_batch_begin/end) is one outermost transaction around a burst of
 *   short requests (the HTTP requests one MHD_run() serves), so their reads share one
 *   snapshot and lock and their writes one commit instead of one each
 *   (docs/benchmarks.md, per-node scripts). It takes the write lock only at its first
 *   write; nothing it writes is visible to readers before store_batch_end(). Batches do
 *   not nest (a second begin is a no-op) and one cannot start inside a transaction.
 *   Only for work that does not wait on anything: locks are held until the end.
 * - Every foreach callback may call back into the store, writes included; rows it
 *   changes may or may not be visited again.
 * - Readers see committed state only, each call its own snapshot, and never wait for the
 *   writer's transactions (nor it for them). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "manifest.h"
#include "parse.h"
#include "sha256.h"

#define MAX_NODE_NAME 64
#define MAX_REASON 256
#define MAX_STORE_PATH 512
#define MAX_CMDLINE 1024
#define MAX_BANNER 256
#define MAX_SERIAL 65
#define MAX_BMC 64
/* An image's up_probe: "tcp:65535" and room to spare (manifest_probe_port bounds it). */
#define MAX_UP_PROBE 32
/* A node disk's CHAP name or secret as stored: bootsvc makes them (base64url of 16-24
 * random bytes, at most 32 characters); tgt.h's MAX_CHAP_NAME/MAX_CHAP_SECRET are the
 * same 64, checked where both are seen (iscsi/disks.c). */
#define MAX_DISK_CHAP 64

struct store;

struct node_rec {
	char name[MAX_NODE_NAME];
	char mac[MAC_STR_LEN];
	char ip[16];         /* fixed address ("" when dynamic) */
	char uuid[UUID_STR_LEN];
	char serial[MAX_SERIAL];
	char bmc[MAX_BMC];
	char bmc_creds[MAX_STORE_PATH];
	char image[MAX_NODE_NAME];         /* requested image name, "" = none */
	char image_pin[SHA256_HEX_SIZE];   /* pinned version id, "" = newest of image */
	char token[SHA256_HEX_SIZE];       /* per-node secret, 64 hex */
	char phase[16];
	char reason[MAX_REASON];
	int64_t phase_at;                  /* unix seconds */
	char served_image[SHA256_HEX_SIZE]; /* version in the last script served */
	int64_t created;
	/* Desired state, written by admins and schedulers (control verbs) before anything
	 * acts on it; the controller drives the observed state below toward it. */
	char want_power[8];                 /* "" unmanaged, "on", "off" */
	bool hold;                          /* admin hold: the controller leaves it alone */
	char hold_reason[MAX_REASON];
	/* Admin drain, as Slurm's: no new allocation picks it, nothing else changes (it stays
	 * up, keeps its allocation, boots normally, the controller manages it). */
	bool drain;
	char drain_reason[MAX_REASON];
	/* Observed state and the controller's own bookkeeping (ctrl_fsm.h). */
	char booted_image[SHA256_HEX_SIZE]; /* version its receipt proved it booted */
	char power[8];                      /* "", "on", "off" as the BMC last said */
	char op[16];                        /* "", "booting", "power-off", "failed" */
	int64_t op_at_ms;                   /* unix ms the op started */
	int attempts;                       /* boot attempts of the current op */
	int64_t retry_at_ms;                /* no BMC action before this (backoff) */
	char bmc_state[16];                 /* "", "ok", "unreachable" */
	char last_error[MAX_REASON];
	/* Allocation and health (issue #5). */
	char alloc_job[MAX_NODE_NAME];      /* the allocation holding it, "" = idle */
	char alloc_class[32];
	char health[8];                     /* "ok", "risky", "doomed" */
	char health_reasons[MAX_REASON];
	int64_t sel_last;                   /* last SEL record id read */
	/* Green policy (issue #7): when it became up and unallocated, 0 = not idle. */
	int64_t idle_since_ms;
	/* Credential (issue #11, boot/trust.h): armed while the current token may be
	 * handed out once; armed_by says what armed it ("controller", "self", "admin"). */
	bool armed;
	char armed_by[16];
};

/* A node's energy totals (issue #7), or an image's (name = the image, at_ms unused). */
struct energy_rec {
	char name[MAX_NODE_NAME];
	int64_t at_ms;        /* accounted up to here (unix ms) */
	int64_t on_mj, off_mj, saved_mj;
	unsigned baseline_w;  /* last measured draw while on, 0 = none */
	unsigned last_w;      /* last measured draw, 0 = the model is used */
};

struct event_rec {
	int64_t seq;
	char node[MAX_NODE_NAME];
	char kind[16];   /* "phase" or "action" */
	char what[24];   /* the phase, or the action (power-on, power-cycle, ...) */
	char reason[MAX_REASON];
	int64_t at;      /* unix seconds */
};

/* The files of an image version, one per role ("kernel", "rootfs", ...): which roles a
 * kind has is the kind table's business (boot/kind.h), not the store's. */
#define MAX_IMAGE_FILES 8
#define MAX_ROLE_NAME 16
struct image_file {
	char role[MAX_ROLE_NAME];
	char sha256[SHA256_HEX_SIZE];
	uint64_t size;
};

struct image_rec {
	char id[SHA256_HEX_SIZE];
	char name[MAX_NODE_NAME];
	char kind[16];
	char path[MAX_STORE_PATH];          /* the version directory */
	char kernel_version[64];
	char kernel_banner[MAX_BANNER];
	char built[24];
	char cmdline[MAX_CMDLINE];
	struct image_file files[MAX_IMAGE_FILES]; /* its roles, in the order added */
	unsigned n_files;
	char initrd_tree[SHA256_HEX_SIZE];  /* manifest initrd_tree; "" for older manifests */
	/* A hypervisor image's (kind xen): its version ("4.17.7"), the build ids (hex) of its
	 * BIOS binary (GNU build id) and of xen.efi (CodeView GUID), and its command line,
	 * from the manifest; "" for other kinds. */
	char hypervisor_version[MAX_HYPERVISOR_VERSION + 1]; /* manifest.h's bounds */
	char hypervisor_build_id[MAX_HYPERVISOR_BUILD_ID + 1];
	char hypervisor_efi_build_id[MAX_HYPERVISOR_BUILD_ID + 1];
	char hypervisor_cmdline[MAX_CMDLINE];
	/* How bootsvc sees that the OS is up (kind iscsi: "tcp:<port>", manifest.h); "" for
	 * a kind whose init reports itself. */
	char up_probe[MAX_UP_PROBE];
	int64_t added;
	bool current;                        /* newest version of its name */
};

/* The file of role in i; NULL when the image has none. */
const struct image_file *image_rec_file(const struct image_rec *i, const char *role);
/* Its sha256, "" when the image has no such role (for rendering and comparing). */
const char *image_rec_sha256(const struct image_rec *i, const char *role);
/* Set role's file, adding it if new. -E2BIG past MAX_IMAGE_FILES, -EINVAL for a role
 * name that is empty or too long. */
int image_rec_file_set(struct image_rec *i, const char *role, const char *sha256,
    uint64_t size);

struct phase_event {
	char phase[16];
	char reason[MAX_REASON];
	int64_t at;
};

/* Transactions nested deeper than this are a caller's bug, not a workload: node.add, a
 * batch and a savepoint of its own are three. */
#define MAX_STORE_TX_DEPTH 8

/* Open the store at target, creating it if new and bringing its schema up to the newest
 * this build knows (each step logged as event=store_migrate). target is a file path or
 * "sqlite:PATH": SQLite; or a "postgresql://" / "postgres://" URL (libpq's): PostgreSQL
 * (docs/store.md); another scheme is -EPROTONOSUPPORT. A store whose schema is newer
 * than this build knows is refused untouched with -ENOTSUP and a message naming both
 * versions; -EIO for a file or server that cannot be opened or reached, is not a store
 * or cannot be migrated (the failed step is rolled back). reterr says
 * which and names target (without any password in it).
 * @ret *ret a new store, owned by the caller: store_close() it. */
int store_open(const char *target, struct store **ret, struct dl_err *reterr);
/* Whether target would be accepted by store_open(), without opening or connecting to
 * anything (bootsvc --check-config): a path, sqlite:PATH, or a postgresql:// URL libpq
 * parses. The message never quotes a password. */
int store_target_check(const char *target, struct dl_err *reterr);
/* Close s (NULL is fine); an open transaction is rolled back. Readers must be closed
 * first. Returns NULL. */
struct store *store_close(struct store *s);

/* Transactions and batches: see the contract at the top. store_begin: 0, -EIO, or
 * -EBUSY nested deeper than MAX_STORE_TX_DEPTH. store_batch_begin: 0 (also when already
 * in a batch), -EBUSY inside a transaction, -EIO; errors are logged. store_batch_end: 0
 * (also when none is open) or -EIO, logged, the batch rolled back. */
int store_batch_begin(struct store *s);
int store_batch_end(struct store *s);
int store_begin(struct store *s);
int store_commit(struct store *s);
void store_rollback(struct store *s);
/* Fault injection for tests: the next n outermost commits (a transaction's or a batch's)
 * fail with -EIO before reaching the backend, leaving the transaction open as a full disk
 * or a lost lock does, so the contract's rollback runs. Logged at each injected failure;
 * nothing in bootsvc calls it. */
void store_fault_fail_commits(struct store *s, unsigned n);
/* Transactions and batches that failed to begin or commit since the store was opened
 * (a full disk, a lost lock, a PostgreSQL store reconnecting): /metrics'
 * diskless_store_errors_total. A store that answers nothing is in every caller's log
 * already; this counts them for alerting. */
uint64_t store_errors(const struct store *s);
/* The fencing token (issue 15, docs/scale-out.md "The fencing token"): from now on this
 * store's writes are those of the cluster's leader of generation token. Every write
 * transaction then checks, inside itself and after the write lock, that the cluster's
 * leader is still of that generation, and a write is refused -ESTALE (logged) when a
 * newer leader took over: a leader that stalled past its lease between its deadline
 * check and its write cannot write after its successor started. 0: no check (a
 * follower, or no cluster). Only the PostgreSQL backend has a cluster; SQLite keeps the
 * token and never checks it. Resets store_fence_refused(). */
void store_fence(struct store *s, int64_t token);
/* Whether a write was refused for a stale token since the last store_fence(): the
 * cluster room then fences at once. */
bool store_fence_refused(const struct store *s);

/* -EEXIST (name, MAC, IP taken: reterr says which) or -EIO. */
int store_node_insert(struct store *s, const struct node_rec *n, struct dl_err *reterr);
/* 0 found, -ENOENT not found. */
int store_node_get(struct store *s, const char *name, struct node_rec *ret);
int store_node_get_by_mac(struct store *s, const char *mac, struct node_rec *ret);
int store_node_get_by_ip(struct store *s, const char *ip, struct node_rec *ret);
/* Remove a node with its history and energy rows. 0, -ENOENT, -EIO. */
int store_node_delete(struct store *s, const char *name);
/* Rewrite the assignment columns (image, image_pin, served_image, ip, ...) of an existing
 * node; ip: a discovered node keeps its lease when assigned (verbs_node.c). */
int store_node_update(struct store *s, const struct node_rec *n);
/* The health rules' memory of a node (recent SEL events, JSON): kept apart from node_rec
 * because it can be tens of KiB. get: a new malloc'd string ("" when none). */
int store_node_health_state_get(struct store *s, const char *name, char **ret);
int store_node_health_state_set(struct store *s, const char *name, const char *json);

/* Rewrite the node's credential state (boot/trust.h): its token, whether it is armed
 * (the token may be handed out once) and by whom. 0, -ENOENT, -EIO. */
int store_node_arm(struct store *s, const char *name, const char *token, bool armed,
    const char *armed_by);
/* Rewrite the desired-state and controller columns of an existing node. */
int store_node_update_ctrl(struct store *s, const struct node_rec *n);
/* Append an event (kind "action") to the history without changing the phase. */
int store_event_add(struct store *s, const char *node, const char *what, const char *reason,
    int64_t at);
/* Events with seq > since, in order, at most max; fn per event. */
typedef int (*store_event_fn)(const struct event_rec *e, void *userdata);
int store_events_since(struct store *s, int64_t since, size_t max, store_event_fn fn,
    void *userdata);
/* The newest event's seq (0 when none). */
int64_t store_event_last_seq(struct store *s);
/* Set phase + reason and append to the history. */
int store_node_set_phase(struct store *s, const char *name, const char *phase,
    const char *reason, int64_t at);
/* Call fn for each node in name order; stops early if fn returns < 0. */
typedef int (*store_node_fn)(const struct node_rec *n, void *userdata);
int store_node_foreach(struct store *s, store_node_fn fn, void *userdata);
/* The same for the nodes the controller can act on: those with a BMC and its credentials.
 * SQLite skips the others without building their records. */
int store_node_foreach_managed(struct store *s, store_node_fn fn, void *userdata);
int store_node_history(struct store *s, const char *name, struct phase_event *ret, size_t max,
    size_t *ret_n);
/* Retention of the history (docs/store.md): each append also deletes that node's rows
 * beyond its newest max_per_node (at most MAX_HISTORY_TRIM per append, so a node's
 * backlog from before is trimmed over its next appends instead of in one go); 0 keeps
 * all. Default 0 until set. */
void store_history_keep(struct store *s, unsigned max_per_node);
/* Rows an append trims at most: a bounded cost on the path that appends. */
#define MAX_HISTORY_TRIM 64
/* Delete history rows with at < before among the max_rows oldest (by seq), so a call
 * costs max_rows rows at most; *ret_n says how many went: call again (later, from the
 * loop) while it equals max_rows. 0 or -EIO. */
int store_history_prune(struct store *s, int64_t before, unsigned max_rows, size_t *ret_n);
/* Copy the write-ahead log into the database and truncate it, without waiting for
 * readers: 0, -EBUSY when a reader or writer held part of it back (what could be copied
 * was; try again later), -EIO. Outside a transaction or batch (-EBUSY inside one).
 * *ret_frames (may be NULL): frames left in the log (0 once it is truncated). */
int store_checkpoint(struct store *s, int64_t *ret_frames);
/* Checkpoints the store ran on a thread of its own as its log grew (SQLite: a commit
 * past 1,000 log pages wakes it, so the loop's commits never copy and sync the log;
 * PostgreSQL: 0, the server checkpoints). /metrics' diskless_store_checkpoints_total. */
uint64_t store_wal_checkpoints(struct store *s);
/* Is ip used by any node? */
bool store_ip_used(struct store *s, const char *ip);
/* Counts of nodes per phase: fn(phase, count). */
typedef void (*store_count_fn)(const char *phase, int64_t count, void *userdata);
int store_node_count_by_phase(struct store *s, store_count_fn fn, void *userdata);

/* Energy totals: per node (a row per node, replaced) and per image (added to). get:
 * -ENOENT when the node has none yet. foreach: fn per row in name order. */
int store_energy_get(struct store *s, const char *node, struct energy_rec *ret);
int store_energy_put(struct store *s, const struct energy_rec *e);
int store_energy_image_add(struct store *s, const char *image, int64_t on_mj, int64_t off_mj,
    int64_t saved_mj);
typedef int (*store_energy_fn)(const struct energy_rec *e, void *userdata);
int store_energy_foreach(struct store *s, store_energy_fn fn, void *userdata);
int store_energy_image_foreach(struct store *s, store_energy_fn fn, void *userdata);

/* A node as the energy pass reads it (controller/energy_acc.h): what its state is decided
 * from, and its energy row (row.name "" when it has none yet). */
struct energy_node {
	char name[MAX_NODE_NAME];
	char image[MAX_NODE_NAME];
	char phase[16];
	char power[8];
	char op[16];
	struct energy_rec row;
};
typedef int (*store_energy_node_fn)(const struct energy_node *n, void *userdata);
/* At most limit nodes after `after` ("" from the first) in the backend's name order, each
 * with its energy row, in one query: the number fn saw (fewer than limit: the last page),
 * or fn's error, -EIO. fn may not call into the store. */
int store_energy_nodes(struct store *s, const char *after, size_t limit,
    store_energy_node_fn fn, void *userdata);

/* Register a version with all its files (any roles; all or nothing). -EEXIST for an id
 * already registered, -EIO; reterr says which. */
int store_image_insert(struct store *s, const struct image_rec *i, struct dl_err *reterr);
/* 0, -ENOENT, -EIO; ret->files in the order they were inserted. */
int store_image_get(struct store *s, const char *id, struct image_rec *ret);
/* Newest version (by added, then id) of a name. */
int store_image_current(struct store *s, const char *name, struct image_rec *ret);
/* Resolve "name", "name@idprefix" or a full id. -ENOENT, or -EINVAL for an ambiguous prefix. */
int store_image_resolve(struct store *s, const char *ref, struct image_rec *ret,
    struct dl_err *reterr);
/* Remove a version and its file rows (not the files). 0, -ENOENT, -EIO. */
int store_image_delete(struct store *s, const char *id);
typedef int (*store_image_fn)(const struct image_rec *i, void *userdata);
int store_image_foreach(struct store *s, store_image_fn fn, void *userdata);
/* Number of nodes pinned to id or last served it (removal refuses while > 0). */
int64_t store_image_users(struct store *s, const char *id);

/* VM hosts and their domains (issue 12, docs/vm.md). A node of a VM-host kind that came
 * up with good facts is a host (one row, keyed by its node, gone with it); its domains
 * are what libvirt last listed there: libvirt is the truth of where a VM runs, so the
 * store only follows it (store_vm_domains_reconcile), never the reverse. */
#define MAX_VM_NAME 64       /* a domain name kept; longer ones are refused by the vm room */
#define MAX_VM_VERSION 32    /* "9.0.0", "4.17.1-pre" */
#define MAX_VM_URI 128
struct vm_host_rec {
	char node[MAX_NODE_NAME];
	char hypervisor[16];               /* "QEMU", "Xen" (facts) */
	char hypervisor_version[MAX_VM_VERSION];
	char libvirt_version[MAX_VM_VERSION];
	char uri[MAX_VM_URI];              /* what bootsvc connects to (built by bootsvc) */
	unsigned cpus;                     /* the host's */
	int64_t memory_mib;
	unsigned numa_nodes;
	unsigned guest_cpus;               /* left to guests */
	int64_t guest_memory_mib;
	char state[16];                    /* "connecting", "connected", "lost" */
	int64_t state_since;               /* unix s */
	char state_reason[MAX_REASON];     /* why lost */
	int64_t last_seen;                 /* unix s of the last good refresh, 0 = none */
};

struct vm_domain_rec {
	char uuid[UUID_STR_LEN];           /* libvirt's domain UUID: the key */
	char name[MAX_VM_NAME];
	char host[MAX_NODE_NAME];          /* the host libvirt last listed it on */
	char state[16];                    /* "running", "paused", "shutoff", ... */
	unsigned vcpus;
	int64_t memory_kib;                /* current memory, as libvirt reports it */
	int64_t running_since;             /* unix s first seen running, 0 = not running */
	int64_t last_seen;                 /* unix ms of the listing that last had it */
	/* Placement, from the domain's libvirt metadata (vm/vm_meta.h). */
	char group[MAX_VM_NAME];           /* anti-affinity group, "" = none */
	bool pinned;                       /* never moved by a plan */
	char job_class[32];                /* its work's job class, "" = none */
};

/* Insert or replace the host row of h->node (a node that exists: -ENOENT otherwise). */
int store_vm_host_put(struct store *s, const struct vm_host_rec *h);
/* 0, -ENOENT, -EIO. */
int store_vm_host_get(struct store *s, const char *node, struct vm_host_rec *ret);
/* Remove a host and its domains. 0, -ENOENT, -EIO. */
int store_vm_host_delete(struct store *s, const char *node);
typedef int (*store_vm_host_fn)(const struct vm_host_rec *h, void *userdata);
/* fn per host in node order; stops early when fn returns < 0 (and returns that). */
int store_vm_host_foreach(struct store *s, store_vm_host_fn fn, void *userdata);
/* Make host's domains exactly doms[0..n) (what libvirt listed there at now_ms, unix ms):
 * each is inserted or updated (moved here if it was listed on another host), one
 * running before keeps its running_since, and the host's rows not listed are deleted;
 * a row newer than now_ms (a migration's move, store_vm_domain_moved) is left alone.
 * One transaction (a savepoint inside another). 0, -ENOENT (no such host), -EIO. */
int store_vm_domains_reconcile(struct store *s, const char *host,
    const struct vm_domain_rec *doms, size_t n, int64_t now_ms);
typedef int (*store_vm_domain_fn)(const struct vm_domain_rec *d, void *userdata);
/* fn per domain of host ("" or NULL: every host) in (host, name) order. */
int store_vm_domain_foreach(struct store *s, const char *host, store_vm_domain_fn fn,
    void *userdata);
/* A migration libvirt reported done (its destination answered for the domain): the
 * domain's row moves from host from to host to at now_ms, its uptime starting there, so
 * what reads the store next (a plan made as soon as `vm migrate --wait` returns) sees it
 * where it runs, before the hosts' own listings come back; those still decide. 0,
 * -ENOENT (no such domain on from, or no host to: a listing moved it already, or it is
 * gone), -EIO. */
int store_vm_domain_moved(struct store *s, const char *uuid, const char *from,
    const char *to, int64_t now_ms);

/* VM plans (issue 13, docs/vm.md): what the planner decided, written before anything acts, so
 * a restarted bootsvc resumes from the store and libvirt's truth. A plan's steps are its
 * own rows (gone with it); a plan that ended is kept for the history's retention
 * (store_vm_plan_prune). */
#define MAX_VM_PLAN_STEPS 4096  /* a plan moving more is a storm no operator wants at once */
struct vm_plan_rec {
	int64_t id;                 /* store_vm_plan_add assigns it, > 0 */
	char strategy[16];          /* "evacuate", "thermal", "consolidate", "migrate", "drain" */
	char origin[32];            /* who asked: "admin", "scheduler", "health", "green", "thermal" */
	char state[16];             /* "pending", "running", "done", "failed", "cancelled" */
	char reason[MAX_REASON];    /* why the plan; when it ended badly, why */
	int64_t created_ms, ended_ms;
	/* efficacy the planner claimed */
	unsigned migrations, hosts_freed, unplaced;
	int64_t mib_moved;
	double peak_c_before, peak_c_after;
};
struct vm_step_rec {
	int64_t plan_id;
	unsigned seq;               /* 0.. in plan order */
	char action[16];            /* "migrate", "power-off" */
	unsigned priority;          /* 0 evacuate, 1 thermal, 2 consolidate/manual: lower runs first */
	char vm_uuid[UUID_STR_LEN]; /* migrate */
	char vm_name[MAX_VM_NAME];
	char src[MAX_NODE_NAME];
	char dst[MAX_NODE_NAME];    /* migrate; "" for power-off */
	int64_t mem_mib;
	char state[16];             /* "pending", "running", "done", "failed", "cancelled" */
	char reason[MAX_REASON];    /* the planner's why ("doomed: CPU Temp upper critical"), then why it failed */
	unsigned attempts;
	int64_t started_ms, ended_ms;
	/* progress, last sample */
	int64_t data_total, data_processed, data_remaining; /* bytes */
	int64_t downtime_ms;
	bool postcopy;
};
/* Insert p and steps[0..n) in one transaction (a savepoint inside another): p->id is set
 * to the new plan's id (> 0), each stored step gets it as plan_id (steps' own plan_id is
 * ignored), seq as given. 0, -EINVAL past MAX_VM_PLAN_STEPS, -EEXIST two steps with one
 * seq, -EIO. */
int store_vm_plan_add(struct store *s, struct vm_plan_rec *p, const struct vm_step_rec *steps,
    size_t n);
/* 0, -ENOENT, -EIO. */
int store_vm_plan_get(struct store *s, int64_t id, struct vm_plan_rec *ret);
/* Rewrite plan p->id's columns (state, reason, ended_ms, efficacy; not created_ms).
 * 0, -ENOENT, -EIO. */
int store_vm_plan_put(struct store *s, const struct vm_plan_rec *p);
typedef int (*store_vm_plan_fn)(const struct vm_plan_rec *p, void *userdata);
/* fn per plan (unfinished_only: "pending" or "running" ones) in id order; stops early
 * when fn returns < 0 (and returns that). */
int store_vm_plan_foreach(struct store *s, bool unfinished_only, store_vm_plan_fn fn,
    void *userdata);
/* Rewrite step (st->plan_id, st->seq)'s columns. 0, -ENOENT, -EIO. */
int store_vm_step_put(struct store *s, const struct vm_step_rec *st);
typedef int (*store_vm_step_fn)(const struct vm_step_rec *st, void *userdata);
/* fn per step of plan_id (0: every step of the unfinished plans) in (priority, plan_id,
 * seq) order; stops early when fn returns < 0 (and returns that). */
int store_vm_step_foreach(struct store *s, int64_t plan_id, store_vm_step_fn fn,
    void *userdata);
/* Delete finished plans (done, failed, cancelled) that ended before before_ms (unix ms),
 * with their steps, at most MAX_VM_PLAN_PRUNE per call. Returns how many went, -EIO. */
#define MAX_VM_PLAN_PRUNE 64    /* plans of up to MAX_VM_PLAN_STEPS steps: a bounded delete */
int store_vm_plan_prune(struct store *s, int64_t before_ms);
/* Admin drain of a VM host: kept across its reboots until undone; gone with the node.
 * set: 0, -ENOENT no such node, -EIO. get: true when drained, with its reason (may be
 * NULL) cut to size. */
int store_vm_drain_set(struct store *s, const char *node, bool drain, const char *reason);
bool store_vm_drain_get(struct store *s, const char *node, char *reason, size_t size);
typedef int (*store_vm_drain_fn)(const char *node, const char *reason, void *userdata);
/* fn per drained node in name order; stops early when fn returns < 0. */
int store_vm_drain_foreach(struct store *s, store_vm_drain_fn fn, void *userdata);

/* Node disks (issue 14, docs/iscsi.md "Disks"): the iSCSI disk of a node whose image is
 * of kind iscsi, a clone of the image's golden disk.img. The row is the truth the iscsi
 * room rebuilds tgtd's targets from; it is keyed by node name but not bound to the
 * nodes row, because the clone file outlives a deleted node until the iscsi room has
 * dropped its target and removed it (then it deletes the row). A clone is "making"
 * while a worker writes it under a temp name, "ready" once it is at path, fsynced, and
 * "failed" (reason says why) otherwise. tid is the node's tgtd target id: given once
 * (the lowest free, 1..MAX_DISK_TID) and kept across new clones of the same node.
 * The secrets never leave the store but into the node's armed boot and tgtd. */
#define MAX_DISK_TID 65535 /* tgt.h's MAX_TGT_TARGETS: tgtd's tid is a u32, we keep 16 bits */
#define MAX_DISK_BOOT 64   /* the boot a clone was made for, an opaque stamp */
struct disk_rec {
	char node[MAX_NODE_NAME];
	char image_id[SHA256_HEX_SIZE];   /* the golden image version */
	char path[MAX_STORE_PATH];        /* the clone (<disk_dir>/<node>.img) */
	char method[16];                  /* "reflink", "qcow2", "copy" */
	int64_t apparent_bytes;           /* the clone's size as the node sees it */
	int64_t allocated_bytes;          /* blocks it takes in disk_dir (st_blocks * 512) */
	char state[16];                   /* "making", "ready", "failed" */
	char reason[MAX_REASON];          /* why failed */
	unsigned tid;                     /* 0 on put: the lowest free is given */
	char chap_user[MAX_DISK_CHAP];
	char chap_secret[MAX_DISK_CHAP];
	char mutual_user[MAX_DISK_CHAP];
	char mutual_secret[MAX_DISK_CHAP];
	int64_t made_at;                  /* unix s the clone became ready (or failed) */
	int64_t make_ms;                  /* how long making it took */
	char boot[MAX_DISK_BOOT];         /* the armed boot it was made for */
	bool reset;                       /* an admin asked for a fresh clone (reset-disk) */
};
/* Insert or rewrite d->node's row. A new row gets the lowest free tid when d->tid is 0
 * (-ENOSPC when all MAX_DISK_TID are taken); a row rewritten keeps its tid whatever
 * d->tid says; d->tid is set to the row's. -EEXIST a non-zero tid another node has, -EIO. */
int store_disk_put(struct store *s, struct disk_rec *d);
/* 0, -ENOENT, -EIO. */
int store_disk_get(struct store *s, const char *node, struct disk_rec *ret);
/* 0, -ENOENT, -EIO. */
int store_disk_delete(struct store *s, const char *node);
typedef int (*store_disk_fn)(const struct disk_rec *d, void *userdata);
/* fn per row in node order; stops early when fn returns < 0 (and returns that). */
int store_disk_foreach(struct store *s, store_disk_fn fn, void *userdata);
/* A node's persistent-disk property (kept across reimages and boots, gone with the
 * node). set: 0, -ENOENT no such node, -EIO. get: false for none or any error. */
int store_disk_persistent_set(struct store *s, const char *node, bool persistent);
bool store_disk_persistent_get(struct store *s, const char *node);

/* The read path of threads other than the loop (the HTTP handlers, later): a reader is a
 * read-only handle of its own (for SQLite, its own connection beside the writer's, which
 * WAL lets read while the loop writes). One reader per thread; a reader is used by one
 * thread at a time. It sees committed state only (the contract at the top). */
struct store_reader;

/* Whether s is embedded (SQLite): its writes fail only for the disk, never because a
 * connection is down (PostgreSQL's reconnecting), so a write may follow the answer it
 * records (boot/boot_records.h). */
bool store_is_embedded(const struct store *s);

/* Open a reader on s (called on the loop thread; the reader may then move to another).
 * -ENOTSUP for a store that cannot have readers (an in-memory one), -EIO.
 * @ret *ret a new reader, owned by the caller: store_reader_close() it before s. */
int store_reader_open(struct store *s, struct store_reader **ret, struct dl_err *reterr);
/* Close r (NULL is fine). Returns NULL. */
struct store_reader *store_reader_close(struct store_reader *r);
/* A reader's batch: its lookups between begin and end share one snapshot and one look at
 * whether the writer committed since (SQLite: one read transaction, and the rows the
 * reader kept are trusted for it), instead of one each. For a burst that does not wait
 * (a reader thread's MHD_run pass): the snapshot is held until the end. */
void store_reader_batch_begin(struct store_reader *r);
void store_reader_batch_end(struct store_reader *r);
/* As store_node_get, store_node_get_by_mac, store_node_get_by_ip: 0, -ENOENT, -EIO. */
int store_reader_node_get(struct store_reader *r, const char *name, struct node_rec *ret);
int store_reader_node_get_by_mac(struct store_reader *r, const char *mac, struct node_rec *ret);
int store_reader_node_get_by_ip(struct store_reader *r, const char *ip, struct node_rec *ret);
/* As store_image_get, store_image_current and store_image_resolve. */
int store_reader_image_get(struct store_reader *r, const char *id, struct image_rec *ret);
int store_reader_image_current(struct store_reader *r, const char *name, struct image_rec *ret);
int store_reader_image_resolve(struct store_reader *r, const char *ref, struct image_rec *ret,
    struct dl_err *reterr);
/* As store_disk_get (the script path reads a node's disk on its own thread). */
int store_reader_disk_get(struct store_reader *r, const char *node, struct disk_rec *ret);
