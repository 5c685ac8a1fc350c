/* SPDX-License-Identifier: MIT */
/* The action path: admission (busy map, cap, waiting queue), one deadline-and-retry
 * timer for everything in flight, outcomes as events. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bootsvc.h"
#include "log.h"
#include "action/action.h"
#include "action/busy.h"
#include "action/work.h"
#include "name_table.h"

/* The deadline and retry timer walks every action in flight (at most the caps, 4096 per
 * pool), so it runs at most ten times a second: a deadline is reported up to this late. */
#define MIN_SWEEP_GAP_MS 100
/* The bmc pool's threads when ipmi_workers is 0: one per slot up to this many (each
 * costs a stack; a BMC session blocks its thread for up to bmc_timeout, so a stopped BMC
 * must not wait for a thread another stopped one holds: docs/benchmarks.md). */
#define MAX_DEFAULT_WORKERS 256

enum act_state {
	ACT_WAITING,  /* accepted, node reserved, waiting for a slot */
	ACT_RUNNING,  /* in the pool: queued for a thread or in run() */
	ACT_BACKOFF,  /* failed, waiting for its retry; keeps its slot */
	ACT_ORPHANED, /* reported timed out; the worker has not returned yet */
};

struct act_list {
	struct act *head, *tail;
	unsigned n;
};

struct act {
	struct work_item item; /* first: the pool hands the item back */
	struct action *a;
	const struct action_type *type;
	void *payload;
	char node[MAX_BUSY_KEY];
	enum act_state state;
	bool fenced;           /* action_fence(): its outcome is recorded, not acted on */
	unsigned attempts;
	uint64_t retry_at_ms;
	/* Where the last attempt's time went, for the outcome's log line: loop_now_ms() at
	 * submit (or retry) and when run() returned (written by the worker). */
	uint64_t queued_at_ms;
	_Atomic uint64_t ran_until_ms;
	/* Written by the worker in run(); read on the loop once the item is back. */
	int r;
	struct dl_err err;
	struct act *prev, *next; /* in its pool's list for its state */
};

struct pool {
	char name[16];
	struct work *work;
	unsigned cap;
	unsigned inflight;      /* holding a slot: running, backoff, orphaned */
	struct act_list waiting; /* FIFO */
	struct act_list running; /* running and orphaned */
	struct act_list backoff;
};

struct action {
	struct bootsvc *bs;
	struct pool *pools;
	size_t n_pools;
	struct busy *busy;
	unsigned n_waiting;      /* over all pools, against MAX_ACTION_WAITING */
	int64_t timer;
	uint64_t timer_due;
	bool stopping;
};

static const char *const outcome_table[_ACTION_OUTCOME_MAX] = {
	[ACTION_OK] = "ok",
	[ACTION_FAILED] = "failed",
	[ACTION_TIMED_OUT] = "timeout",
	[ACTION_CANCELLED] = "cancelled",
};

DEFINE_NAME_TABLE_TO_STRING(action_outcome, enum action_outcome, outcome_table)

void
action_pools_conf(const struct config *cfg, struct action_pool_conf ret[_ACTION_POOL_MAX])
{
	unsigned bmc_threads = cfg->ipmi_workers ? cfg->ipmi_workers :
	    cfg->ipmi_concurrency < MAX_DEFAULT_WORKERS ? cfg->ipmi_concurrency :
	    MAX_DEFAULT_WORKERS;

	ret[ACTION_POOL_BMC] = (struct action_pool_conf){ .name = "bmc",
		.threads = bmc_threads, .cap = cfg->ipmi_concurrency };
	/* Overlays are disk reads and a few MiB of memory each: two threads keep a slow
	 * disk from holding more, and the cap bounds the memory of those waiting. */
	ret[ACTION_POOL_OVERLAY] = (struct action_pool_conf){ .name = "overlay",
		.threads = 2, .cap = MAX_OVERLAY_BUILDS };
	ret[ACTION_POOL_LIBVIRT] = (struct action_pool_conf){ .name = "libvirt",
		.threads = LIBVIRT_THREADS + cfg->vm_migrations_max, .cap = MAX_LIBVIRT_CALLS };
}

static void
list_add(struct act_list *l, struct act *x)
{
	x->next = NULL;
	x->prev = l->tail;
	if (l->tail)
		l->tail->next = x;
	else
		l->head = x;
	l->tail = x;
	l->n++;
}

static void
list_del(struct act_list *l, struct act *x)
{
	if (x->prev)
		x->prev->next = x->next;
	else
		l->head = x->next;
	if (x->next)
		x->next->prev = x->prev;
	else
		l->tail = x->prev;
	x->prev = x->next = NULL;
	l->n--;
}

static struct pool *
pool_of(struct action *a, const struct act *x)
{
	return &a->pools[x->type->pool];
}

static const char *
act_what(const struct act *x, char *buf, size_t size)
{
	const char *w = x->type->what ? x->type->what(x->payload) : x->type->name;

	(void)snprintf(buf, size, "%.15s", w ? w : x->type->name);
	return buf;
}

static void sweep(struct loop *l, void *userdata);

/* Keep the sweep timer at or before due. */
static void
arm(struct action *a, uint64_t due)
{
	if (a->timer > 0) {
		if (a->timer_due <= due)
			return;
		loop_cancel_timer(a->bs->loop, a->timer);
		a->timer = 0;
	}
	a->timer = loop_add_timer(a->bs->loop, due, sweep, a);
	if (a->timer > 0)
		a->timer_due = due;
	else
		a->timer = 0; /* ENOMEM: the next start or result arms it again */
}

/* Where the last attempt's time went: waiting for a slot and a thread (wait_ms), in run()
 * (run_ms), and from run()'s return to the loop handling it (loop_ms). A fan-out slower
 * than its slowest call shows here which of the three it waited for. */
static const char *
act_times(const struct act *x, char *buf, size_t size)
{
	uint64_t started = atomic_load(&x->item.started_ms);
	uint64_t ran = atomic_load(&x->ran_until_ms), now = loop_now_ms();

	if (!started || !ran || started < x->queued_at_ms || ran < started || now < ran)
		(void)snprintf(buf, size, "wait_ms=- run_ms=- loop_ms=-");
	else
		(void)snprintf(buf, size, "wait_ms=%llu run_ms=%llu loop_ms=%llu",
		    (unsigned long long)(started - x->queued_at_ms),
		    (unsigned long long)(ran - started), (unsigned long long)(now - ran));
	return buf;
}

/* The outcome, once per action: a log line, a history row where a person wants one,
 * then the type's done(). */
static void
report(struct act *x, enum action_outcome o, int r, const char *msg)
{
	struct bootsvc *bs = x->a->bs;
	struct action_result res = { .node = x->node, .outcome = o, .r = r,
		.attempts = x->attempts, .msg = msg ? msg : "" };
	char what[16], kind[24], safe[MAX_LOG_VALUE + 1], reason[MAX_REASON], times[80];
	bool history = false;

	act_what(x, what, sizeof(what));
	(void)snprintf(kind, sizeof(kind), "%s-%s", what, action_outcome_to_string(o));
	switch (o) {
	case ACTION_OK:
		log_kv(x->type->routine ? LOG_DEBUG : LOG_NOTICE,
		    "event=action node=%s action=%s result=ok attempts=%u %s", x->node, what,
		    x->attempts, act_times(x, times, sizeof(times)));
		history = !x->type->routine;
		if (x->attempts > 1)
			(void)snprintf(reason, sizeof(reason), "ok after %u attempts", x->attempts);
		else
			strcpy(reason, "ok");
		break;
	case ACTION_FAILED:
		/* A poll fails every interval while its BMC is down: done() records the
		 * change (bmc-unreachable); each failure is only routine information. */
		log_kv(x->type->routine ? LOG_INFO : LOG_WARNING,
		    "event=action node=%s action=%s result=failed attempts=%u %s err=%s "
		    "err_at=%s:%d msg=\"%s\"", x->node, what, x->attempts,
		    act_times(x, times, sizeof(times)), dl_errno_name(r),
		    x->err.file ? x->err.file : "-", x->err.line,
		    log_safe(safe, sizeof(safe), res.msg));
		history = !x->type->routine;
		(void)snprintf(reason, sizeof(reason), "%s", res.msg);
		break;
	case ACTION_TIMED_OUT:
		/* Rare and worth a row even for a poll: a worker is stuck in a library call. */
		log_warning("event=action node=%s action=%s result=timeout attempts=%u "
		    "err=ETIMEDOUT msg=\"%s\"", x->node, what, x->attempts,
		    log_safe(safe, sizeof(safe), res.msg));
		history = true;
		(void)snprintf(reason, sizeof(reason), "%s", res.msg);
		break;
	case ACTION_CANCELLED:
	default:
		log_info("event=action node=%s action=%s result=cancelled attempts=%u", x->node,
		    what, x->attempts);
		break;
	}
	if (history && bs->store) {
		(void)store_event_add(bs->store, x->node, kind, reason, (int64_t)time(NULL));
		notify(&bs->notify, NOTIFY_HISTORY);
	}
	if (x->fenced) {
		/* Recorded above as it happened; its type must not act on it. */
		res.outcome = ACTION_CANCELLED;
		res.r = -ECANCELED;
		res.msg = "fenced: this instance is no longer the leader";
	}
	x->type->done(x->payload, &res);
}

static void
act_destroy(struct act *x)
{
	if (x->type->free)
		x->type->free(x->payload);
	else
		free(x->payload);
	free(x);
}

/* Give back the node and, for an action that had one, the slot. */
static void
act_release(struct act *x, bool had_slot)
{
	struct action *a = x->a;

	busy_put(a->busy, x->node, x->type->res, x->type->shared);
	if (had_slot)
		pool_of(a, x)->inflight--;
}

static void act_item_run(struct work_item *j);
static void act_item_done(struct work_item *j);

/* Hand x to its pool's threads for one attempt; its slot is already counted. */
static int
act_start(struct act *x)
{
	struct action *a = x->a;
	int r;

	x->attempts++;
	x->r = 0;
	if (x->attempts > 1)
		x->queued_at_ms = loop_now_ms(); /* a retry: waited in its backoff until now */
	atomic_store(&x->ran_until_ms, 0);
	dl_err_clear(&x->err);
	x->item.run = act_item_run;
	x->item.done = act_item_done;
	r = work_submit(pool_of(a, x)->work, &x->item);
	if (r < 0)
		return r;
	x->state = ACT_RUNNING;
	list_add(&pool_of(a, x)->running, x);
	arm(a, loop_now_ms() + x->type->deadline_ms);
	return 0;
}

/* The end of an action that still holds its node: free its slot, let the next waiting
 * request have it, then report. */
static void
act_finish(struct act *x, enum action_outcome o, int r, const char *msg);

static void
pump(struct action *a, struct pool *p)
{
	while (!a->stopping && p->waiting.head && p->inflight < p->cap) {
		struct act *x = p->waiting.head;
		int r;

		list_del(&p->waiting, x);
		a->n_waiting--;
		p->inflight++;
		r = act_start(x);
		if (r < 0) {
			struct dl_err e = { 0 };
			dl_err_set(&e, r, "%s worker queue refused the job", p->name);
			act_finish(x, ACTION_FAILED, r, e.msg);
		}
	}
}

static void
act_finish(struct act *x, enum action_outcome o, int r, const char *msg)
{
	struct action *a = x->a;
	struct pool *p = pool_of(a, x);

	act_release(x, true);
	pump(a, p);
	report(x, o, r, msg);
	act_destroy(x);
}

static void
act_item_run(struct work_item *j)
{
	struct act *x = (struct act *)j;

	x->r = x->type->run(x->payload, &j->cancelled, &x->err);
	atomic_store(&x->ran_until_ms, loop_now_ms());
	if (x->r > 0)
		x->r = 0; /* >= 0 is success (CONVENTIONS §4) */
	if (x->r < 0 && !x->err.msg[0])
		dl_err_set(&x->err, x->r, "%s failed: %s", x->type->name, strerror(-x->r));
}

static uint64_t
backoff_of(const struct action_type *t, unsigned attempts)
{
	uint64_t b = t->backoff_ms;

	/* attempts >= 1: the first retry waits backoff_ms, each later one twice the last. */
	for (unsigned i = 1; i < attempts && (t->backoff_max_ms == 0 || b < t->backoff_max_ms);
	    i++)
		b *= 2;
	if (t->backoff_max_ms && b > t->backoff_max_ms)
		b = t->backoff_max_ms;
	return b;
}

/* A worker is done with x (or the pool cancelled it unstarted at shutdown). */
static void
act_item_done(struct work_item *j)
{
	struct act *x = (struct act *)j;
	struct action *a = x->a;
	struct pool *p = pool_of(a, x);
	char safe[MAX_LOG_VALUE + 1], what[16];

	list_del(&p->running, x);
	if (x->state == ACT_ORPHANED) {
		/* Reported when its deadline passed; only now is the node free again. */
		log_info("event=action node=%s action=%s msg=\"the worker returned after the "
		    "deadline\" err=%s", x->node, act_what(x, what, sizeof(what)),
		    dl_errno_name(x->r));
		act_release(x, true);
		pump(a, p);
		act_destroy(x);
		return;
	}
	if (atomic_load(&j->cancelled)) {
		act_finish(x, ACTION_CANCELLED, -ECANCELED, "cancelled at shutdown");
		return;
	}
	if (x->r == 0) {
		act_finish(x, ACTION_OK, 0, "");
		return;
	}
	if (!a->stopping && !x->fenced && x->attempts <= x->type->max_retries &&
	    x->type->retry &&
	    x->type->retry(x->r)) {
		uint64_t wait = backoff_of(x->type, x->attempts);
		log_warning("event=action node=%s action=%s attempt=%u err=%s msg=\"%s\", "
		    "will retry in %llu ms", x->node, act_what(x, what, sizeof(what)),
		    x->attempts, dl_errno_name(x->r), log_safe(safe, sizeof(safe), x->err.msg),
		    (unsigned long long)wait);
		x->state = ACT_BACKOFF;
		x->retry_at_ms = loop_now_ms() + wait;
		list_add(&p->backoff, x);
		arm(a, x->retry_at_ms);
		return;
	}
	act_finish(x, ACTION_FAILED, x->r, x->err.msg);
}

/* Deadlines and retries of every pool: one timer for all, re-armed at the next due. */
static void
sweep(struct loop *l, void *userdata)
{
	struct action *a = userdata;
	uint64_t now = loop_now_ms(), next = UINT64_MAX;

	(void)l;
	a->timer = 0;
	for (size_t i = 0; i < a->n_pools; i++) {
		struct pool *p = &a->pools[i];
		struct act *x, *nx;

		for (x = p->running.head; x; x = nx) {
			uint64_t started = atomic_load(&x->item.started_ms), due;
			nx = x->next;
			if (x->state != ACT_RUNNING)
				continue;
			/* Not taken by a thread yet: it cannot time out before now + deadline. */
			due = (started ? started : now) + x->type->deadline_ms;
			if (now < due) {
				if (due < next)
					next = due;
				continue;
			}
			char msg[MAX_REASON];
			(void)snprintf(msg, sizeof(msg), "no result within the %llu ms deadline",
			    (unsigned long long)x->type->deadline_ms);
			/* The worker may be stuck in a library call: tell it to give up where it
			 * can, report now, and keep the node (and the slot: the thread is still
			 * taken) until the item comes back, so no second action runs on it. */
			atomic_store(&x->item.cancelled, true);
			x->state = ACT_ORPHANED;
			report(x, ACTION_TIMED_OUT, -ETIMEDOUT, msg);
		}
		for (x = p->backoff.head; x; x = nx) {
			nx = x->next;
			if (now < x->retry_at_ms) {
				if (x->retry_at_ms < next)
					next = x->retry_at_ms;
				continue;
			}
			list_del(&p->backoff, x);
			int r = act_start(x);
			if (r < 0) {
				struct dl_err e = { 0 };
				dl_err_set(&e, r, "%s worker queue refused the retry", p->name);
				act_finish(x, ACTION_FAILED, r, e.msg);
				/* act_finish() may have started waiting ones: scan again later. */
				if (now + MIN_SWEEP_GAP_MS < next)
					next = now + MIN_SWEEP_GAP_MS;
				continue;
			}
			uint64_t due = now + x->type->deadline_ms;
			if (due < next)
				next = due;
		}
	}
	if (next == UINT64_MAX)
		return;
	if (next < now + MIN_SWEEP_GAP_MS)
		next = now + MIN_SWEEP_GAP_MS;
	arm(a, next);
}

int
action_new(struct bootsvc *bs, const struct action_pool_conf *pools, size_t n,
    struct action **ret, struct dl_err *reterr)
{
	struct action *a = calloc(1, sizeof(*a));
	int r;

	if (!a)
		return -ENOMEM;
	a->bs = bs;
	a->pools = calloc(n, sizeof(*a->pools));
	if (!a->pools || busy_new(&a->busy) < 0) {
		action_free(a);
		return dl_err_set(reterr, -ENOMEM, "action pools: out of memory");
	}
	a->n_pools = n;
	for (size_t i = 0; i < n; i++) {
		struct pool *p = &a->pools[i];
		(void)snprintf(p->name, sizeof(p->name), "%s", pools[i].name);
		p->cap = pools[i].cap;
		/* The pool never queues more than the cap: waiting happens here, in order. */
		r = work_new(bs->loop, p->name, pools[i].threads, pools[i].cap, &p->work);
		if (r < 0) {
			action_free(a);
			return dl_err_set(reterr, r, "worker pool '%s': %s", pools[i].name,
			    strerror(-r));
		}
	}
	*ret = a;
	return 0;
}

struct action *
action_free(struct action *a)
{
	if (!a)
		return NULL;
	a->stopping = true;
	if (a->timer > 0)
		loop_cancel_timer(a->bs->loop, a->timer);
	a->timer = 0;
	for (size_t i = 0; a->pools && i < a->n_pools; i++) {
		struct pool *p = &a->pools[i];
		/* Queued items come back cancelled, running ones when their call returns. */
		p->work = work_free(p->work);
		while (p->backoff.head) {
			struct act *x = p->backoff.head;
			list_del(&p->backoff, x);
			act_finish(x, ACTION_CANCELLED, -ECANCELED, "cancelled at shutdown");
		}
		while (p->waiting.head) {
			struct act *x = p->waiting.head;
			list_del(&p->waiting, x);
			a->n_waiting--;
			act_release(x, false);
			report(x, ACTION_CANCELLED, -ECANCELED, "cancelled at shutdown");
			act_destroy(x);
		}
		assert(!p->running.head);
	}
	free(a->pools);
	a->busy = busy_free(a->busy);
	free(a);
	return NULL;
}

int
action_submit(struct action *a, const char *node, const struct action_type *t,
    void *payload, unsigned flags, struct dl_err *reterr)
{
	struct pool *p;
	struct act *x;
	bool wait;
	int r;

	assert(t && t->run && t->done && t->deadline_ms > 0 && t->pool < a->n_pools &&
	    t->res < _ACTION_RES_MAX);
	if (a->stopping)
		return dl_err_set(reterr, -ESHUTDOWN, "shutting down");
	p = &a->pools[t->pool];
	r = busy_take(a->busy, node, t->res, t->shared);
	if (r == -EBUSY)
		return dl_err_set(reterr, r, "node '%s' has an action in flight", node);
	if (r == -EINVAL)
		return dl_err_set(reterr, r, "node name '%.64s' is empty or too long", node);
	if (r < 0)
		return dl_err_set(reterr, r, "out of memory");
	/* Behind requests already waiting even when a slot is free: first come, first served. */
	wait = p->inflight >= p->cap || p->waiting.head;
	if (wait && (!(flags & ACTION_WAIT) || a->n_waiting >= MAX_ACTION_WAITING)) {
		busy_put(a->busy, node, t->res, t->shared);
		return dl_err_set(reterr, -EAGAIN, "%s: %u actions in flight, the limit, try again",
		    p->name, p->inflight);
	}
	x = calloc(1, sizeof(*x));
	if (!x) {
		busy_put(a->busy, node, t->res, t->shared);
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	}
	x->a = a;
	x->type = t;
	x->payload = payload;
	memcpy(x->node, node, strlen(node) + 1);
	x->queued_at_ms = loop_now_ms();
	if (wait) {
		x->state = ACT_WAITING;
		list_add(&p->waiting, x);
		a->n_waiting++;
		return 0;
	}
	p->inflight++;
	r = act_start(x);
	if (r < 0) {
		p->inflight--;
		busy_put(a->busy, node, t->res, t->shared);
		free(x);
		return dl_err_set(reterr, r, "%s worker queue is full, try again", p->name);
	}
	return 0;
}

unsigned
action_fence(struct action *a, unsigned pool)
{
	struct pool *p;
	struct act *x, *nx;
	unsigned n = 0;

	if (!a || pool >= a->n_pools)
		return 0;
	p = &a->pools[pool];
	while (p->waiting.head) {
		x = p->waiting.head;
		list_del(&p->waiting, x);
		a->n_waiting--;
		act_release(x, false);
		report(x, ACTION_CANCELLED, -ECANCELED, "fenced");
		act_destroy(x);
		n++;
	}
	while (p->backoff.head) {
		x = p->backoff.head;
		list_del(&p->backoff, x);
		act_finish(x, ACTION_CANCELLED, -ECANCELED, "fenced");
		n++;
	}
	for (x = p->running.head; x; x = nx) {
		nx = x->next;
		if (x->state != ACT_RUNNING)
			continue;
		x->fenced = true;
		/* Not taken by a thread yet: the worker skips a cancelled item. */
		if (!atomic_load(&x->item.started_ms))
			atomic_store(&x->item.cancelled, true);
		n++;
	}
	return n;
}

bool
action_busy(const struct action *a, const char *node, enum action_res res)
{
	return busy_held(a->busy, node, res);
}

bool
action_has_room(const struct action *a, unsigned pool)
{
	const struct pool *p = &a->pools[pool];

	return p->inflight < p->cap && !p->waiting.head;
}

unsigned
action_inflight(const struct action *a, unsigned pool)
{
	return a->pools[pool].inflight;
}

unsigned
action_waiting(const struct action *a, unsigned pool)
{
	return a->pools[pool].waiting.n;
}

size_t
action_busy_count(const struct action *a)
{
	return busy_count(a->busy);
}
