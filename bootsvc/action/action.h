/* SPDX-License-Identifier: MIT */
/* One path for every action on a node (issue #10): an intent -> an action of a type ->
 * a job on that type's worker pool -> its result back on the loop, keyed by the node.
 *
 * What every action gets, whatever its type:
 *   - a busy entry for its node and resource class (action/busy.h) from submit to the
 *     end, so no two changes of one class run on a node at once;
 *   - a place under its pool's concurrency cap: the controller and the imperative verbs
 *     share it. A request that may wait (ACTION_WAIT) queues for a slot, first come
 *     first served, ahead of anything submitted later; without it a full pool is -EAGAIN;
 *   - a deadline per attempt, counted from when a worker takes it;
 *   - retries with a doubling backoff for the failures its type calls transient;
 *   - one outcome (ok, failed, timed out, cancelled) handed to the type's done() on the
 *     loop, with one log line and, for what a person reads in a node's history, one
 *     history row (store_event_add) named "<what>-<outcome>".
 *
 * One worker pool per kind of blocking work (enum action_pool), each with its own
 * threads and cap, so a call that hangs in one library (a libvirt migration) can never
 * hold a thread or a slot that another kind (IPMI) needs.
 *
 * Power is the first user (controller/ctrl_power.c, ctrl_health.c); the iSCSI target
 * and libvirt actions of the next issues are each a struct action_type, a resource
 * class and, for a new kind of blocking call, a pool.
 *
 * Loop thread only, except the type's run(), which runs on a worker. */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct bootsvc;
struct config;
struct action;

/* The worker pools, one per kind of blocking work. A new kind is a constant here and a
 * row in action_pools_conf(). */
enum action_pool {
	ACTION_POOL_BMC, /* IPMI sessions: power control and status, sensor and SEL reads */
	ACTION_POOL_OVERLAY, /* building a node's overlay: site files and templates from disk */
	ACTION_POOL_LIBVIRT, /* libvirt calls to VM hosts (vm/): connect, list, close */
	_ACTION_POOL_MAX,
};

/* What an action holds of its node (busy.h): at most one change per class at a time.
 * Power and sensor reads are separate classes, as they were before the action path: a
 * health read runs beside a power action on the same BMC. */
enum action_res {
	ACTION_RES_BMC_POWER,
	ACTION_RES_BMC_SENSORS,
	ACTION_RES_OVERLAY,     /* shared: a node may fetch its overlay twice at once */
	ACTION_RES_LIBVIRT,     /* a VM host's connection: one connect or refresh at a time */
	ACTION_RES_LIBVIRT_CLOSE, /* shared: closing a host's old connection, beside a new one */
	ACTION_RES_LIBVIRT_MIGRATE, /* shared, keyed by the source host: its live migrations
				     * (vm/vm_exec.c caps them), beside its connect and refresh */
	_ACTION_RES_MAX,
};

enum action_outcome {
	ACTION_OK,
	ACTION_FAILED,    /* run() failed and no retry is left */
	ACTION_TIMED_OUT, /* no result within the deadline; the worker may still be in the call */
	ACTION_CANCELLED, /* shut down before it finished */
	_ACTION_OUTCOME_MAX,
};

/* What done() learns. All pointers are borrowed for the call. */
struct action_result {
	const char *node;
	enum action_outcome outcome;
	int r;            /* 0, or run()'s -errno; -ETIMEDOUT when timed out, -ECANCELED */
	unsigned attempts; /* run() calls started */
	const char *msg;  /* what failed ("" on success): run()'s message, or the deadline's */
};

/* On a worker: do the blocking work. Must not touch loop state; may check *cancelled
 * between steps (set when the deadline passed or at shutdown) and give up early.
 * Returns 0 or -errno with reterr filled. The payload is the submitter's, reused for
 * every attempt: reset what an earlier attempt wrote. */
typedef int (*action_run_fn)(void *payload, const atomic_bool *cancelled,
    struct dl_err *reterr);
/* On the loop, exactly once per action, with its final outcome. payload is borrowed:
 * the action layer frees it (free()) once the worker has let go of it. When timed out,
 * the worker may still be writing the payload's results: read only what the submitter
 * wrote. */
typedef void (*action_done_fn)(void *payload, const struct action_result *res);
/* Release a payload (wipe secrets); called once, after done() and after the worker
 * returned. NULL: free(). */
typedef void (*action_free_fn)(void *payload);
/* Whether a failure of run() is worth another attempt. NULL: none is. */
typedef bool (*action_retry_fn)(int r);
/* The action's name in events and logs, e.g. "power-cycle" (at most 15 bytes kept).
 * NULL: the type's name. */
typedef const char *(*action_what_fn)(const void *payload);

struct action_type {
	const char *name;          /* "power": logs, and events when what is NULL */
	unsigned pool;             /* an enum action_pool: an index into action_new()'s pools */
	enum action_res res;
	bool shared;               /* a read: runs beside any other action of its class (but
				    * still keeps a change from starting), never -EBUSY */
	bool routine;              /* a poll: success is not history and is logged at
				    * debug; failures are logged, and it is done()'s
				    * business to record what changed */
	uint64_t deadline_ms;      /* per attempt, from when a worker takes it; > 0 */
	unsigned max_retries;      /* attempts after the first */
	uint64_t backoff_ms;       /* before the first retry; doubled for each next */
	uint64_t backoff_max_ms;   /* 0: no limit */
	action_run_fn run;
	action_retry_fn retry;
	action_done_fn done;
	action_free_fn free;
	action_what_fn what;
};

struct action_pool_conf {
	const char *name;  /* "bmc": thread names and logs */
	unsigned threads;  /* workers: each blocking call holds one */
	unsigned cap;      /* actions in flight at once: running, queued for a thread,
			    * waiting for a retry, or timed out with the worker still in
			    * the call */
};

/* Imperative requests (the power verb) waiting for a slot, across pools: a request
 * names at most a site's nodes, and the old single pool queued 4096 jobs. Beyond it
 * action_submit() says -EAGAIN, as that pool did. */
#define MAX_ACTION_WAITING 4096

/* Overlay builds in flight at once (each holds its archive, up to 8 MiB). More wait for
 * a slot in order (ACTION_WAIT, within MAX_ACTION_WAITING; each is a node's suspended
 * request, so the connection limits bound them too): a build takes milliseconds, and a
 * 503 cost the node's init a failed attempt and its 5 s backoff (initramfs/pid1.c). A
 * reimage of 252 simulated nodes went from 0.3 s to 5.4 s when its scripts came faster
 * and its overlays in a burst past this cap (2026-12-07). Only when the waiting queue is
 * full is the answer 503. */
#define MAX_OVERLAY_BUILDS 64

/* libvirt calls in flight at once: one per host at most (vm/ never starts a second), so
 * this bounds the hosts read at the same moment, not the hosts; a host over it waits
 * for the next tick. Threads: four, as CONVENTIONS §15 starts them; a dead host holds
 * one until its call's deadline or libvirt's keepalive ends it. A live migration holds
 * one for its whole run: the pool has vm_migrations_max more, so migrations never starve
 * the connects and listings (issue 13). */
#define MAX_LIBVIRT_CALLS 256
#define LIBVIRT_THREADS 4

/* action_submit() flags */
#define ACTION_WAIT (1u << 0) /* queue for a slot rather than -EAGAIN when the cap is reached */

/* The daemon's pools sized from the config: bmc has ipmi_concurrency slots and
 * ipmi_workers threads (0: one per slot, at most 256). */
void action_pools_conf(const struct config *cfg, struct action_pool_conf ret[_ACTION_POOL_MAX]);

/* Start n pools (pools[i] is pool i; types name theirs by index) and an empty busy map.
 * bs is borrowed and must outlive the result: its loop carries the results, its store
 * (may be NULL: no history rows) the events. -ENOMEM, or the thread or eventfd error,
 * with reterr saying which pool. */
int action_new(struct bootsvc *bs, const struct action_pool_conf *pools, size_t n,
    struct action **ret, struct dl_err *reterr);
/* Stop: every action not finished is cancelled (done() with ACTION_CANCELLED), the
 * threads are joined, and a is freed. Blocks until every worker has returned: a call
 * past its deadline is waited for (XXX(#10): a libvirt call that never returns would
 * hold the shutdown; its pool may then need to detach its threads). NULL is fine. */
struct action *action_free(struct action *a);

/* Start an action of type t on node with payload (owned by the action from a successful
 * return until t->free; the caller keeps it on error). Errors: -EBUSY (a change of
 * t->res is in flight for node, or, for a change, a read), -EAGAIN (the pool's cap is
 * reached and flags lack ACTION_WAIT, or MAX_ACTION_WAITING requests wait already),
 * -EINVAL (node name empty or too long), -ENOMEM, -ESHUTDOWN (stopping). reterr (may be
 * NULL) says which. */
int action_submit(struct action *a, const char *node, const struct action_type *t,
    void *payload, unsigned flags, struct dl_err *reterr);

/* Fence pool (issue 15, docs/scale-out.md "The leader and fencing"): this instance stopped
 * leading, so nothing it started may act further. Requests waiting for a slot and
 * retries waiting their backoff are cancelled (done() with ACTION_CANCELLED, "fenced");
 * jobs queued for a thread are cancelled before a thread takes them; a call already in
 * progress cannot be taken back: its outcome is logged and recorded in the history as
 * it happened, but done() gets ACTION_CANCELLED, so its type acts on nothing. Returns
 * how many were dropped or fenced. */
unsigned action_fence(struct action *a, unsigned pool);

/* Whether node has an action of class res in flight or waiting (any holder). */
bool action_busy(const struct action *a, const char *node, enum action_res res);
/* Whether pool has a free slot that nothing waits for: where the controller, which
 * decides again every tick, checks before it writes an intent. */
bool action_has_room(const struct action *a, unsigned pool);

/* Counts, for metrics and tests: actions holding a slot of pool, requests waiting for
 * one, and nodes in the busy map. */
unsigned action_inflight(const struct action *a, unsigned pool);
unsigned action_waiting(const struct action *a, unsigned pool);
size_t action_busy_count(const struct action *a);

const char *action_outcome_to_string(enum action_outcome o);
