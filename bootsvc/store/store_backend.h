/* SPDX-License-Identifier: MIT */
/* What a store backend implements (store.c dispatches store.h's calls to it), and the
 * parts of a store every backend shares. Only store*.c include this; callers see
 * store.h. A backend embeds struct store and struct store_reader at the start of its own
 * structs and meets the contract written at the top of store.h. */
#pragma once

#include <stddef.h>

#include "store/store.h"

#define store_container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/* A read-only view: a reader of its own (store_reader_open) or the store's own
 * connection, whose reads also see that connection's uncommitted writes (s->rd). */
struct store_reader {
	const struct store_backend *ops;
};

struct store {
	const struct store_backend *ops;
	struct store_reader *rd; /* reads on the writing connection; owned by the backend */
	unsigned depth;          /* store_begin()s open (store.c keeps the nesting) */
	bool batch;              /* inside store_batch_begin() */
	unsigned fail_commits;   /* store_fault_fail_commits(): outermost commits to fail */
	uint64_t errors;         /* store_errors(): failed begins and commits */
	int64_t fence_token;     /* store_fence(): the generation writes are checked against */
	bool fence_refused;      /* a write was refused for it since (store_fence_refused()) */
};

enum store_node_key {
	STORE_NODE_BY_NAME,
	STORE_NODE_BY_MAC,
	STORE_NODE_BY_IP,
	_STORE_NODE_KEY_MAX,
};

enum store_node_set {
	STORE_NODES_ALL,     /* every node */
	STORE_NODES_MANAGED, /* those with a BMC and its credentials */
	_STORE_NODE_SET_MAX,
};

/* Every operation returns what its store.h counterpart documents unless said here. */
struct store_backend {
	const char *name; /* "sqlite", for messages */
	/* The store is a file of this process's (SQLite): a write fails only for the disk,
	 * never for a connection another server or a network holds (store_is_embedded). */
	bool embedded;

	/* Free s and everything it holds; an open transaction is rolled back. */
	void (*close)(struct store *s);

	/* Transactions. store.c keeps the nesting and calls begin/commit/rollback for the
	 * outermost level and savepoint/release/rollback_to (level >= 1, innermost last)
	 * inside it. begin: write_now takes the write lock at once (store_begin); without it
	 * (a batch) at the first write. A failed commit or release leaves the transaction
	 * or savepoint open: store.c then rolls it back. */
	int (*begin)(struct store *s, bool write_now, struct dl_err *reterr);
	int (*commit)(struct store *s, struct dl_err *reterr);
	void (*rollback)(struct store *s);
	int (*savepoint)(struct store *s, unsigned level, struct dl_err *reterr);
	int (*release)(struct store *s, unsigned level, struct dl_err *reterr);
	void (*rollback_to)(struct store *s, unsigned level);

	/* The read path, on s->rd or on a reader. reader_open may be NULL (no readers).
	 * image_find_prefix: versions whose id starts with prefix, of name ("" = any): the
	 * first in *ret, how many in *ret_n, counting stops at 2. */
	int (*reader_open)(struct store *s, struct store_reader **ret, struct dl_err *reterr);
	void (*reader_close)(struct store_reader *r);
	/* store_reader_batch_begin/end; NULL: a reader's lookups are each their own. */
	void (*reader_batch)(struct store_reader *r, bool begin);
	int (*node_get)(struct store_reader *r, enum store_node_key key, const char *value,
	    struct node_rec *ret);
	int (*image_get)(struct store_reader *r, const char *id, struct image_rec *ret);
	int (*image_current)(struct store_reader *r, const char *name, struct image_rec *ret);
	int (*image_find_prefix)(struct store_reader *r, const char *name, const char *prefix,
	    struct image_rec *ret, unsigned *ret_n);

	/* Nodes and their history. node_insert: -EEXIST for any uniqueness conflict with
	 * reterr untouched (store.c finds and names the row it conflicts with). */
	int (*node_insert)(struct store *s, const struct node_rec *n, struct dl_err *reterr);
	int (*node_delete)(struct store *s, const char *name);
	int (*node_update)(struct store *s, const struct node_rec *n);
	int (*node_update_ctrl)(struct store *s, const struct node_rec *n);
	int (*node_set_phase)(struct store *s, const char *name, const char *phase,
	    const char *reason, int64_t at);
	int (*node_arm)(struct store *s, const char *name, const char *token, bool armed,
	    const char *armed_by);
	int (*node_health_state_get)(struct store *s, const char *name, char **ret);
	int (*node_health_state_set)(struct store *s, const char *name, const char *json);
	int (*node_foreach)(struct store *s, enum store_node_set set, store_node_fn fn,
	    void *userdata);
	int (*node_history)(struct store *s, const char *name, struct phase_event *ret,
	    size_t max, size_t *ret_n);
	bool (*ip_used)(struct store *s, const char *ip);
	int (*node_count_by_phase)(struct store *s, store_count_fn fn, void *userdata);

	/* Events. */
	int (*event_add)(struct store *s, const char *node, const char *what,
	    const char *reason, int64_t at);
	int (*events_since)(struct store *s, int64_t since, size_t max, store_event_fn fn,
	    void *userdata);
	int64_t (*event_last_seq)(struct store *s);
	void (*history_keep)(struct store *s, unsigned max_per_node);
	int (*history_prune)(struct store *s, int64_t before, unsigned max_rows,
	    size_t *ret_n);
	int (*checkpoint)(struct store *s, int64_t *ret_frames);
	/* Checkpoints run by the backend's own thread; NULL: it has none. */
	uint64_t (*checkpoints)(struct store *s);

	/* Energy totals. */
	int (*energy_get)(struct store *s, const char *node, struct energy_rec *ret);
	int (*energy_put)(struct store *s, const struct energy_rec *e);
	int (*energy_image_add)(struct store *s, const char *image, int64_t on_mj,
	    int64_t off_mj, int64_t saved_mj);
	int (*energy_foreach)(struct store *s, store_energy_fn fn, void *userdata);
	int (*energy_image_foreach)(struct store *s, store_energy_fn fn, void *userdata);
	int (*energy_nodes)(struct store *s, const char *after, size_t limit,
	    store_energy_node_fn fn, void *userdata);

	/* VM hosts and domains. domain_put: insert or update by uuid (running_since kept
	 * while it stays running); domains_drop_stale: delete host's rows with last_seen <
	 * seen (store.c reconciles with these inside a transaction). */
	int (*vm_host_put)(struct store *s, const struct vm_host_rec *h);
	int (*vm_host_get)(struct store *s, const char *node, struct vm_host_rec *ret);
	int (*vm_host_delete)(struct store *s, const char *node);
	int (*vm_host_foreach)(struct store *s, store_vm_host_fn fn, void *userdata);
	int (*vm_domain_put)(struct store *s, const struct vm_domain_rec *d);
	int (*vm_domains_drop_stale)(struct store *s, const char *host, int64_t seen);
	int (*vm_domain_foreach)(struct store *s, const char *host, store_vm_domain_fn fn,
	    void *userdata);

	/* VM plans and drains (issue 13). plan_insert: p's columns but id, *ret_id the new
	 * one; step_insert: -EEXIST for a (plan_id, seq) taken; drain_put/drain_delete:
	 * -ENOENT no such node / no such row (store.c adds the plan's transaction and the
	 * node check). */
	int (*vm_plan_insert)(struct store *s, const struct vm_plan_rec *p, int64_t *ret_id);
	int (*vm_step_insert)(struct store *s, const struct vm_step_rec *st);
	int (*vm_plan_get)(struct store *s, int64_t id, struct vm_plan_rec *ret);
	int (*vm_plan_put)(struct store *s, const struct vm_plan_rec *p);
	int (*vm_plan_foreach)(struct store *s, bool unfinished_only, store_vm_plan_fn fn,
	    void *userdata);
	int (*vm_step_put)(struct store *s, const struct vm_step_rec *st);
	int (*vm_step_foreach)(struct store *s, int64_t plan_id, store_vm_step_fn fn,
	    void *userdata);
	int (*vm_plan_prune)(struct store *s, int64_t before_ms, unsigned max);
	int (*vm_drain_put)(struct store *s, const char *node, const char *reason);
	int (*vm_drain_delete)(struct store *s, const char *node);
	int (*vm_drain_get)(struct store *s, const char *node, char *reason, size_t size);
	int (*vm_drain_foreach)(struct store *s, store_vm_drain_fn fn, void *userdata);

	/* Node disks (issue 14). disk_put as store_disk_put; persistent_put/delete:
	 * -ENOENT no such node / no such row. */
	int (*disk_put)(struct store *s, struct disk_rec *d);
	int (*disk_get)(struct store_reader *r, const char *node, struct disk_rec *ret);
	int (*disk_delete)(struct store *s, const char *node);
	int (*disk_foreach)(struct store *s, store_disk_fn fn, void *userdata);
	int (*disk_persistent_put)(struct store *s, const char *node);
	int (*disk_persistent_delete)(struct store *s, const char *node);
	bool (*disk_persistent_get)(struct store *s, const char *node);

	/* Image versions. image_insert: -EEXIST with reterr untouched (store.c names it). */
	int (*image_insert)(struct store *s, const struct image_rec *i, struct dl_err *reterr);
	int (*image_delete)(struct store *s, const char *id);
	int (*image_foreach)(struct store *s, store_image_fn fn, void *userdata);
	int64_t (*image_users)(struct store *s, const char *id);
};

/* The backends built in, by the scheme store_open() was given. */

/* SQLite at path (a file name, not a URL): created if new, schema brought up to date.
 * @ret *ret a new store. */
int store_sqlite_open(const char *path, struct store **ret, struct dl_err *reterr);

/* PostgreSQL at url (postgresql:// or postgres://, libpq's URI form); safe is url without
 * its password, for messages. A new database gets the newest schema; an existing one is
 * checked. @ret *ret a new store. */
int store_pg_open(const char *url, const char *safe, struct store **ret,
    struct dl_err *reterr);
/* Whether libpq parses url (PQconninfoParse: nothing is connected). */
int store_pg_check(const char *url, const char *safe, struct dl_err *reterr);
