/* SPDX-License-Identifier: MIT */
/* bootsvc/action/action.c, the node-action path of issue #10, with a real loop, real
 * worker pools and a SQLite store in a temp dir; the actions are test types whose run()
 * succeeds, fails or blocks on a gate the test opens. Checked: the busy map past 4096
 * nodes (a second action for a busy node refused), the cap and the queue of requests
 * that wait for it, reads beside changes, one pool's blocked calls not delaying another
 * pool, a deadline reported as timed out while the node stays busy until the worker
 * returns, retries with a doubling backoff then one failure event, and shutdown. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../bootsvc/action/action.h"
#include "../../bootsvc/bootsvc.h"
#include "log.h"
#include "loop_wait.h"
#include "store_dir.h"

/* More than ipmi_concurrency's maximum, 4096. */
#define N_MANY 5000
/* Outcomes kept in detail, in the order they came. */
#define MAX_KEPT 32
/* Attempt start times kept per payload. */
#define MAX_CALLS 8

struct kept {
	char node[64];
	enum action_outcome o;
	int r;
	unsigned attempts;
	char msg[256];
	unsigned calls;
	uint64_t call_ms[MAX_CALLS];
};

/* What the test types saw; reset by setup(). Workers touch only the gate and the
 * atomics. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool gate_open;
	atomic_uint running, max_running;
	unsigned n_done, by_outcome[_ACTION_OUTCOME_MAX];
	struct kept kept[MAX_KEPT];
	unsigned n_freed;
	bool freed_saw_cancel;
} T = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

struct tpay {
	int fail_times; /* attempts that fail before one succeeds; -1: all */
	int fail_r;
	bool block;     /* wait for the gate */
	/* written by the worker */
	unsigned calls;
	uint64_t call_ms[MAX_CALLS];
	bool saw_cancel;
};

struct fixture {
	struct store_dir sd; /* bs.store */
	struct bootsvc bs;
	struct action *a;
};

static int
trun(void *payload, const atomic_bool *cancelled, struct dl_err *reterr)
{
	struct tpay *p = payload;
	unsigned cur = atomic_fetch_add(&T.running, 1) + 1, max = atomic_load(&T.max_running);

	while (cur > max && !atomic_compare_exchange_weak(&T.max_running, &max, cur))
		;
	if (p->calls < MAX_CALLS)
		p->call_ms[p->calls] = loop_now_ms();
	p->calls++;
	if (p->block) {
		pthread_mutex_lock(&T.lock);
		while (!T.gate_open)
			pthread_cond_wait(&T.cond, &T.lock);
		pthread_mutex_unlock(&T.lock);
		p->saw_cancel = atomic_load(cancelled);
	}
	atomic_fetch_sub(&T.running, 1);
	if (p->fail_times < 0 || (int)p->calls <= p->fail_times)
		return dl_err_set(reterr, p->fail_r, "bmc said no (attempt %u)", p->calls);
	return 0;
}

static void
tdone(void *payload, const struct action_result *res)
{
	struct tpay *p = payload;

	if (T.n_done < MAX_KEPT) {
		struct kept *k = &T.kept[T.n_done];
		(void)snprintf(k->node, sizeof(k->node), "%s", res->node);
		k->o = res->outcome;
		k->r = res->r;
		k->attempts = res->attempts;
		(void)snprintf(k->msg, sizeof(k->msg), "%s", res->msg);
		/* Timed out: the worker may still write these; the test reads them only
		 * for outcomes after the worker returned. */
		if (res->outcome != ACTION_TIMED_OUT) {
			k->calls = p->calls;
			memcpy(k->call_ms, p->call_ms, sizeof(k->call_ms));
		}
	}
	T.n_done++;
	T.by_outcome[res->outcome]++;
}

static void
tfree(void *payload)
{
	struct tpay *p = payload;

	T.n_freed++;
	T.freed_saw_cancel = p->saw_cancel;
	free(p);
}

static bool
retry_eio(int r)
{
	return r == -EIO;
}

#define TYPE(...) { .name = "tst", .res = ACTION_RES_BMC_POWER, .run = trun, .done = tdone, \
	.free = tfree, __VA_ARGS__ }

static const struct action_type t_change = TYPE(.pool = 0, .deadline_ms = 60000);
static const struct action_type t_read = TYPE(.pool = 0, .deadline_ms = 60000, .shared = true);
static const struct action_type t_poll = TYPE(.pool = 0, .deadline_ms = 60000, .routine = true);
static const struct action_type t_other_pool = TYPE(.pool = 1, .deadline_ms = 60000);
static const struct action_type t_deadline = TYPE(.pool = 0, .deadline_ms = 50);
static const struct action_type t_retry = TYPE(.pool = 0, .deadline_ms = 60000, .max_retries = 2,
    .backoff_ms = 30, .retry = retry_eio);

static struct tpay *
pay(int fail_times, int fail_r, bool block)
{
	struct tpay *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	p->fail_times = fail_times;
	p->fail_r = fail_r;
	p->block = block;
	return p;
}

static void
gate(bool open)
{
	pthread_mutex_lock(&T.lock);
	T.gate_open = open;
	pthread_cond_broadcast(&T.cond);
	pthread_mutex_unlock(&T.lock);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	gate(false);
	atomic_store(&T.running, 0);
	atomic_store(&T.max_running, 0);
	T.n_done = T.n_freed = 0;
	memset(T.by_outcome, 0, sizeof(T.by_outcome));
	memset(T.kept, 0, sizeof(T.kept));
	T.freed_saw_cancel = false;
	config_init(&f->bs.cfg);
	if (store_dir_open(&f->sd) < 0 || loop_new(&f->bs.loop) < 0)
		return -1;
	f->bs.store = f->sd.s;
	log_set_level(-1); /* the outcomes are checked here, not read */
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	gate(true);
	f->a = action_free(f->a);
	f->bs.loop = loop_free(f->bs.loop);
	store_dir_remove(&f->sd);
	free(f);
	return 0;
}

static void
start(struct fixture *f, unsigned threads0, unsigned cap0, unsigned threads1, unsigned cap1)
{
	const struct action_pool_conf pools[] = {
		{ .name = "p0", .threads = threads0, .cap = cap0 },
		{ .name = "p1", .threads = threads1, .cap = cap1 },
	};
	struct dl_err e = { 0 };

	assert_int_equal(action_new(&f->bs, pools, ELEMENTSOF(pools), &f->a, &e), 0);
}

/* Run the loop until pred(f) holds or ms pass; returns pred(f). */
static bool
run_until(struct fixture *f, bool (*pred)(void *f), unsigned ms)
{
	return loop_wait(f->bs.loop, pred, NULL, f, ms);
}

static unsigned want_done;

static bool
done_enough(void *f)
{
	(void)f;
	return T.n_done >= want_done;
}

static bool
idle(struct fixture *f)
{
	return action_busy_count(f->a) == 0 && action_inflight(f->a, 0) == 0 &&
	    action_inflight(f->a, 1) == 0;
}

/* History rows, as "node what reason" lines. */
struct rows {
	char text[8][MAX_NODE_NAME + 24 + MAX_REASON + 8];
	size_t n;
};

static int
row_add(const struct event_rec *e, void *userdata)
{
	struct rows *r = userdata;

	if (r->n < ELEMENTSOF(r->text))
		(void)snprintf(r->text[r->n], sizeof(r->text[0]), "%s %s %s", e->node, e->what,
		    e->reason);
	r->n++;
	return 0;
}

static struct rows
rows_of(struct fixture *f)
{
	struct rows r = { 0 };

	assert_int_equal(store_events_since(f->bs.store, 0, 100000, row_add, &r), 0);
	return r;
}

static struct kept *
kept_of(const char *node)
{
	for (unsigned i = 0; i < T.n_done && i < MAX_KEPT; i++)
		if (streq(T.kept[i].node, node))
			return &T.kept[i];
	fail_msg("no outcome for '%s'", node);
	return NULL;
}

static void
test_ok_event(void **state)
{
	struct fixture *f = *state;
	struct rows r;

	start(f, 2, 4, 1, 1);
	assert_int_equal(action_submit(f->a, "n1", &t_change, pay(0, 0, false), 0, NULL), 0);
	assert_true(action_busy(f->a, "n1", ACTION_RES_BMC_POWER));
	assert_false(action_busy(f->a, "n1", ACTION_RES_BMC_SENSORS));
	want_done = 1;
	assert_true(run_until(f, done_enough, 5000));
	assert_int_equal(T.kept[0].o, ACTION_OK);
	assert_int_equal(T.kept[0].r, 0);
	assert_int_equal(T.kept[0].attempts, 1);
	assert_string_equal(T.kept[0].node, "n1");
	assert_true(idle(f));
	assert_int_equal(T.n_freed, 1);
	r = rows_of(f);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.text[0], "n1 tst-ok ok");

	/* A routine poll that succeeds is no history. */
	assert_int_equal(action_submit(f->a, "n2", &t_poll, pay(0, 0, false), 0, NULL), 0);
	want_done = 2;
	assert_true(run_until(f, done_enough, 5000));
	assert_int_equal(T.kept[1].o, ACTION_OK);
	assert_int_equal(rows_of(f).n, 1);
}

/* Past 4096 nodes in flight at once: each is in the busy map once and a second action
 * on any of them is refused. The fixed array this replaces recorded 1024 and let a
 * second BMC job start on the 1025th node. */
static void
test_busy_past_4096(void **state)
{
	struct fixture *f = *state;
	char name[16];

	start(f, 2, N_MANY, 1, 1);
	/* Nothing comes back before the loop runs, so all N_MANY are in flight together. */
	for (unsigned i = 0; i < N_MANY; i++) {
		(void)snprintf(name, sizeof(name), "n%05u", i);
		assert_int_equal(action_submit(f->a, name, &t_poll, pay(0, 0, false), 0, NULL), 0);
	}
	assert_int_equal(action_busy_count(f->a), N_MANY);
	assert_int_equal(action_inflight(f->a, 0), N_MANY);
	for (unsigned i = 0; i < N_MANY; i++) {
		struct tpay *p = pay(0, 0, false);
		struct dl_err e = { 0 };
		(void)snprintf(name, sizeof(name), "n%05u", i);
		assert_true(action_busy(f->a, name, ACTION_RES_BMC_POWER));
		assert_int_equal(action_submit(f->a, name, &t_poll, p, ACTION_WAIT, &e), -EBUSY);
		assert_non_null(strstr(e.msg, name));
		free(p); /* refused: still the caller's */
	}
	assert_int_equal(action_busy_count(f->a), N_MANY);
	want_done = N_MANY;
	assert_true(run_until(f, done_enough, 60000));
	assert_int_equal(T.by_outcome[ACTION_OK], N_MANY);
	assert_true(idle(f));
	assert_int_equal(T.n_freed, N_MANY);
	/* Removed: the nodes take actions again. */
	assert_int_equal(action_submit(f->a, "n04999", &t_poll, pay(0, 0, false), 0, NULL), 0);
	assert_int_equal(action_busy_count(f->a), 1);
}

/* The cap: without ACTION_WAIT a full pool is -EAGAIN; with it the request waits, holds
 * its node, and starts when a slot frees, ahead of later submissions. */
static void
test_cap_and_wait(void **state)
{
	struct fixture *f = *state;
	struct tpay *p = pay(0, 0, true);

	start(f, 4, 2, 1, 1);
	assert_int_equal(action_submit(f->a, "a", &t_change, pay(0, 0, true), 0, NULL), 0);
	assert_int_equal(action_submit(f->a, "b", &t_change, pay(0, 0, true), 0, NULL), 0);
	assert_false(action_has_room(f->a, 0));
	assert_int_equal(action_submit(f->a, "c", &t_change, p, 0, NULL), -EAGAIN);
	assert_false(action_busy(f->a, "c", ACTION_RES_BMC_POWER));
	assert_int_equal(action_submit(f->a, "c", &t_change, p, ACTION_WAIT, NULL), 0);
	assert_true(action_busy(f->a, "c", ACTION_RES_BMC_POWER));
	assert_int_equal(action_inflight(f->a, 0), 2);
	assert_int_equal(action_waiting(f->a, 0), 1);
	/* A waiting request keeps the node: a change submitted now is refused. */
	p = pay(0, 0, false);
	assert_int_equal(action_submit(f->a, "c", &t_change, p, ACTION_WAIT, NULL), -EBUSY);
	assert_int_equal(action_submit(f->a, "a", &t_change, p, ACTION_WAIT, NULL), -EBUSY);
	/* Someone waits: no room even for a node that is free, and a later request queues
	 * behind the first. */
	assert_int_equal(action_submit(f->a, "d", &t_change, p, 0, NULL), -EAGAIN);
	assert_int_equal(action_submit(f->a, "d", &t_change, p, ACTION_WAIT, NULL), 0);
	assert_int_equal(action_waiting(f->a, 0), 2);
	/* The other pool is not affected. */
	assert_true(action_has_room(f->a, 1));
	gate(true);
	want_done = 4;
	assert_true(run_until(f, done_enough, 5000));
	assert_int_equal(T.by_outcome[ACTION_OK], 4);
	/* Never more than the cap ran at once, and the waiting ones started in order. */
	assert_true(atomic_load(&T.max_running) <= 2);
	assert_true(kept_of("c")->call_ms[0] <= kept_of("d")->call_ms[0]);
	assert_true(kept_of("a")->call_ms[0] <= kept_of("c")->call_ms[0]);
	assert_true(idle(f));
}

/* Reads (shared) run beside a change and each other; a change waits for no read to be
 * in flight. */
static void
test_shared_reads(void **state)
{
	struct fixture *f = *state;
	struct tpay *p = pay(0, 0, false);

	start(f, 4, 4, 1, 1);
	assert_int_equal(action_submit(f->a, "n1", &t_change, pay(0, 0, true), 0, NULL), 0);
	assert_int_equal(action_submit(f->a, "n1", &t_read, pay(0, 0, true), 0, NULL), 0);
	assert_int_equal(action_submit(f->a, "n2", &t_read, pay(0, 0, true), 0, NULL), 0);
	assert_int_equal(action_submit(f->a, "n2", &t_read, pay(0, 0, true), 0, NULL), 0);
	assert_int_equal(action_submit(f->a, "n2", &t_change, p, 0, NULL), -EBUSY);
	assert_int_equal(action_busy_count(f->a), 2);
	free(p);
	gate(true);
	want_done = 4;
	assert_true(run_until(f, done_enough, 5000));
	assert_true(idle(f));
	assert_int_equal(action_submit(f->a, "n2", &t_change, pay(0, 0, false), 0, NULL), 0);
}

static bool
pool1_done(void *f)
{
	(void)f;
	return T.n_done >= 3;
}

/* One pool per kind of blocking work: calls hung in pool 0 (every thread and slot taken)
 * do not delay pool 1. */
static void
test_pools_isolated(void **state)
{
	struct fixture *f = *state;
	uint64_t t0;

	start(f, 2, 2, 1, 4);
	assert_int_equal(action_submit(f->a, "hung1", &t_change, pay(0, 0, true), 0, NULL), 0);
	assert_int_equal(action_submit(f->a, "hung2", &t_change, pay(0, 0, true), 0, NULL), 0);
	assert_int_equal(action_submit(f->a, "hung3", &t_change, pay(0, 0, true), ACTION_WAIT,
	    NULL), 0);
	t0 = loop_now_ms();
	for (int i = 0; i < 3; i++) {
		char name[16];
		(void)snprintf(name, sizeof(name), "q%d", i);
		assert_int_equal(action_submit(f->a, name, &t_other_pool, pay(0, 0, false), 0,
		    NULL), 0);
	}
	assert_true(run_until(f, pool1_done, 5000));
	assert_true(loop_now_ms() - t0 < 2000);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(T.kept[i].o, ACTION_OK);
		assert_int_equal(T.kept[i].node[0], 'q');
	}
	assert_int_equal(action_inflight(f->a, 0), 2);
	assert_int_equal(action_waiting(f->a, 0), 1);
	gate(true);
	want_done = 6;
	assert_true(run_until(f, done_enough, 5000));
	assert_true(idle(f));
}

static bool
node_free(void *arg)
{
	struct fixture *f = arg;

	return action_busy_count(f->a) == 0;
}

/* Past its deadline an action is reported timed out at once; its node stays busy (and its
 * slot taken) until the worker comes back, so no second action runs on the node meanwhile;
 * the payload is freed only then, and done() is not called twice. */
static void
test_deadline(void **state)
{
	struct fixture *f = *state;
	struct tpay *p = pay(0, 0, false);
	struct rows r;

	start(f, 1, 2, 1, 1);
	assert_int_equal(action_submit(f->a, "n1", &t_deadline, pay(0, 0, true), 0, NULL), 0);
	want_done = 1;
	assert_true(run_until(f, done_enough, 5000));
	assert_int_equal(T.kept[0].o, ACTION_TIMED_OUT);
	assert_int_equal(T.kept[0].r, -ETIMEDOUT);
	assert_non_null(strstr(T.kept[0].msg, "50 ms deadline"));
	assert_true(action_busy(f->a, "n1", ACTION_RES_BMC_POWER));
	assert_int_equal(action_inflight(f->a, 0), 1);
	assert_int_equal(T.n_freed, 0);
	assert_int_equal(action_submit(f->a, "n1", &t_change, p, ACTION_WAIT, NULL), -EBUSY);
	r = rows_of(f);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.text[0], "n1 tst-timeout no result within the 50 ms deadline");
	/* The call returns: the node is free, the payload freed, no second outcome. */
	gate(true);
	assert_true(run_until(f, node_free, 5000));
	assert_int_equal(T.n_freed, 1);
	assert_true(T.freed_saw_cancel); /* the worker was told to give up */
	assert_int_equal(T.n_done, 1);
	assert_true(idle(f));
	assert_int_equal(action_submit(f->a, "n1", &t_change, p, 0, NULL), 0);
}

/* A transient failure is retried after backoff_ms, then twice that; when no retry is
 * left the action fails once, with one event naming the last error. */
static void
test_retry_backoff(void **state)
{
	struct fixture *f = *state;
	struct rows r;
	struct kept *k;

	start(f, 1, 2, 1, 1);
	assert_int_equal(action_submit(f->a, "n1", &t_retry, pay(-1, -EIO, false), 0, NULL), 0);
	want_done = 1;
	assert_true(run_until(f, done_enough, 5000));
	k = &T.kept[0];
	assert_int_equal(k->o, ACTION_FAILED);
	assert_int_equal(k->r, -EIO);
	assert_int_equal(k->attempts, 3);
	assert_int_equal(k->calls, 3);
	assert_string_equal(k->msg, "bmc said no (attempt 3)");
	assert_true(k->call_ms[1] - k->call_ms[0] >= 30);
	assert_true(k->call_ms[2] - k->call_ms[1] >= 60);
	assert_true(idle(f));
	r = rows_of(f);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.text[0], "n1 tst-failed bmc said no (attempt 3)");

	/* Not transient: one attempt. */
	assert_int_equal(action_submit(f->a, "n2", &t_retry, pay(-1, -EACCES, false), 0, NULL), 0);
	want_done = 2;
	assert_true(run_until(f, done_enough, 5000));
	assert_int_equal(T.kept[1].o, ACTION_FAILED);
	assert_int_equal(T.kept[1].attempts, 1);

	/* Healed on the second attempt: ok, and the event says after how many. */
	assert_int_equal(action_submit(f->a, "n3", &t_retry, pay(1, -EIO, false), 0, NULL), 0);
	want_done = 3;
	assert_true(run_until(f, done_enough, 5000));
	assert_int_equal(T.kept[2].o, ACTION_OK);
	assert_int_equal(T.kept[2].attempts, 2);
	r = rows_of(f);
	assert_int_equal(r.n, 3);
	assert_string_equal(r.text[1], "n2 tst-failed bmc said no (attempt 1)");
	assert_string_equal(r.text[2], "n3 tst-ok ok after 2 attempts");
	assert_true(idle(f));
}

/* Shutdown: the running call finishes, what waits is cancelled, every payload freed. */
static void
test_shutdown(void **state)
{
	struct fixture *f = *state;
	uint64_t until;

	start(f, 1, 1, 1, 1);
	assert_int_equal(action_submit(f->a, "n1", &t_change, pay(0, 0, true), 0, NULL), 0);
	assert_int_equal(action_submit(f->a, "n2", &t_change, pay(0, 0, false), ACTION_WAIT,
	    NULL), 0);
	assert_int_equal(action_submit(f->a, "n3", &t_retry, pay(-1, -EIO, false), ACTION_WAIT,
	    NULL), 0);
	/* n1 is in its call (a queued one would be cancelled unstarted) */
	until = loop_now_ms() + 5000;
	while (atomic_load(&T.running) == 0 && loop_now_ms() < until)
		;
	assert_int_equal(atomic_load(&T.running), 1);
	gate(true);
	f->a = action_free(f->a);
	assert_int_equal(T.n_done, 3);
	assert_int_equal(T.by_outcome[ACTION_OK], 1);
	assert_int_equal(T.by_outcome[ACTION_CANCELLED], 2);
	assert_int_equal(T.n_freed, 3);
}

#define T_(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

static bool
one_running(void *f)
{
	(void)f;
	return atomic_load(&T.running) == 1;
}

/* action_fence() (issue 15): an instance that stops leading drains a pool. A request
 * waiting for a slot and a job queued for a thread are cancelled and never run; a call
 * already running finishes and is recorded in the history as it happened, but its
 * type's done() hears "cancelled", so nothing acts on it; another pool is untouched. */
static void
test_fence(void **state)
{
	struct fixture *f = *state;
	struct tpay *queued = pay(0, 0, false);
	struct rows r;

	start(f, 1, 2, 1, 1);
	assert_int_equal(action_submit(f->a, "n1", &t_change, pay(0, 0, true), 0, NULL), 0);
	assert_true(run_until(f, one_running, 5000));
	assert_int_equal(action_submit(f->a, "n2", &t_change, queued, 0, NULL), 0);
	assert_int_equal(action_submit(f->a, "n3", &t_change, pay(0, 0, false), ACTION_WAIT,
	    NULL), 0);
	assert_int_equal(action_waiting(f->a, 0), 1);
	assert_int_equal(action_submit(f->a, "n4", &t_other_pool, pay(0, 0, false), 0, NULL), 0);
	assert_int_equal(action_fence(f->a, 0), 3);
	/* the waiting one at once */
	assert_int_equal(T.n_done, 1);
	assert_string_equal(T.kept[0].node, "n3");
	assert_int_equal(T.kept[0].o, ACTION_CANCELLED);
	gate(true);
	want_done = 4;
	assert_true(run_until(f, done_enough, 5000));
	assert_int_equal(kept_of("n1")->o, ACTION_CANCELLED);
	assert_non_null(strstr(kept_of("n1")->msg, "fenced"));
	assert_int_equal(kept_of("n1")->calls, 1);
	assert_int_equal(kept_of("n2")->o, ACTION_CANCELLED);
	assert_int_equal(kept_of("n2")->calls, 0); /* never ran */
	assert_int_equal(kept_of("n4")->o, ACTION_OK);
	assert_true(idle(f));
	r = rows_of(f);
	/* n1's call happened and is history; n4's too; nothing of n2 and n3 */
	assert_int_equal(r.n, 2);
	assert_true((streq(r.text[0], "n1 tst-ok ok") && streq(r.text[1], "n4 tst-ok ok")) ||
	    (streq(r.text[1], "n1 tst-ok ok") && streq(r.text[0], "n4 tst-ok ok")));
	/* a fenced pool takes new work again (the next leadership) */
	assert_int_equal(action_submit(f->a, "n5", &t_change, pay(0, 0, false), 0, NULL), 0);
	want_done = 5;
	assert_true(run_until(f, done_enough, 5000));
	assert_int_equal(kept_of("n5")->o, ACTION_OK);
	assert_int_equal(action_fence(f->a, 7), 0); /* no such pool */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T_(test_ok_event),
		T_(test_fence),
		T_(test_busy_past_4096),
		T_(test_cap_and_wait),
		T_(test_shared_reads),
		T_(test_pools_isolated),
		T_(test_deadline),
		T_(test_retry_backoff),
		T_(test_shutdown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
