/* SPDX-License-Identifier: MIT */
/* bootsvc/boot/boot_records.c: the reader threads' boot records for the loop. What a
 * reader relies on: a node is pending from its push until the commit after the loop took
 * it, however many records it has and however the set's slots collide; a full queue
 * refuses (the reader hands the request over); the loop is woken once per empty-to-queued
 * and again when it left records behind; records come out oldest first; each commit of
 * records is counted, so a reader knows its read transaction is older than one; the
 * records fall due once the pushes pause, the oldest has waited long enough, or half the
 * queue is used, and the loop is woken at that half too. */
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>

#include <cmocka.h>

#include "../../bootsvc/boot/boot_records.h"
#include "../../bootsvc/loop.h"

static struct boot_record
rec_of(const char *node, const char *served, const char *phase)
{
	struct boot_record r = { .phase = phase, .at = 1234 };

	(void)snprintf(r.node, sizeof(r.node), "%s", node);
	(void)snprintf(r.served, sizeof(r.served), "%s", served);
	return r;
}

static bool
readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1;
}

static void
drain_fd(int fd)
{
	eventfd_t n;

	(void)eventfd_read(fd, &n);
}

static void
test_pending_until_committed(void **state)
{
	struct boot_records *q;
	struct boot_record out[8], r = rec_of("n1", "abc", "pxe");

	(void)state;
	assert_int_equal(boot_records_new(4, &q), 0);
	assert_true(boot_records_idle(q));
	assert_false(boot_records_pending(q, "n1"));
	assert_false(readable(boot_records_fd(q)));
	assert_true(boot_records_push(q, &r));
	assert_true(readable(boot_records_fd(q)));
	assert_true(boot_records_pending(q, "n1"));
	assert_false(boot_records_pending(q, "n2"));
	assert_true(boot_records_queued(q));
	/* twice before the loop takes it: pending until both are committed */
	assert_true(boot_records_push(q, &r));
	assert_int_equal(boot_records_take(q, out, 8), 2);
	assert_false(boot_records_queued(q));
	assert_string_equal(out[0].node, "n1");
	assert_string_equal(out[0].served, "abc");
	assert_string_equal(out[0].phase, "pxe");
	assert_int_equal(out[0].at, 1234);
	/* taken, written, not committed: still pending */
	assert_true(boot_records_pending(q, "n1"));
	assert_false(boot_records_idle(q));
	assert_int_equal(boot_records_epoch(q), 0);
	boot_records_committed(q);
	assert_false(boot_records_pending(q, "n1"));
	assert_true(boot_records_idle(q));
	/* a commit of records is counted (a reader's read transaction from before it is
	 * stale); one that took none is not */
	assert_int_equal(boot_records_epoch(q), 1);
	boot_records_committed(q);
	assert_int_equal(boot_records_epoch(q), 1);
	assert_int_equal(boot_records_take(q, out, 8), 0);
	q = boot_records_free(q);
	assert_null(q);
}

static void
test_full_and_order(void **state)
{
	struct boot_records *q;
	struct boot_record out[8], r;
	char name[16];

	(void)state;
	assert_int_equal(boot_records_new(3, &q), 0);
	for (int i = 0; i < 3; i++) {
		(void)snprintf(name, sizeof(name), "n%d", i);
		r = rec_of(name, "", i == 1 ? NULL : "pxe");
		assert_true(boot_records_push(q, &r));
	}
	r = rec_of("n9", "", "pxe");
	assert_false(boot_records_push(q, &r)); /* full: the reader hands it over */
	assert_false(boot_records_pending(q, "n9"));
	/* woken once, at the first push */
	assert_true(readable(boot_records_fd(q)));
	drain_fd(boot_records_fd(q));
	assert_false(readable(boot_records_fd(q)));
	assert_int_equal(boot_records_take(q, out, 2), 2);
	assert_string_equal(out[0].node, "n0");
	assert_string_equal(out[1].node, "n1");
	assert_null(out[1].phase);
	/* room again while two are taken; taking stops at cap taken uncommitted */
	r = rec_of("n3", "", "pxe");
	assert_true(boot_records_push(q, &r));
	r = rec_of("n4", "", "pxe");
	assert_true(boot_records_push(q, &r));
	assert_int_equal(boot_records_take(q, out, 8), 1);
	assert_string_equal(out[0].node, "n2");
	assert_int_equal(boot_records_take(q, out, 8), 0);
	/* the commit wakes the loop for the two left */
	drain_fd(boot_records_fd(q));
	boot_records_committed(q);
	assert_true(readable(boot_records_fd(q)));
	assert_false(boot_records_pending(q, "n0"));
	assert_true(boot_records_pending(q, "n3"));
	assert_int_equal(boot_records_take(q, out, 8), 2);
	assert_string_equal(out[0].node, "n3");
	assert_string_equal(out[1].node, "n4");
	boot_records_committed(q);
	assert_true(boot_records_idle(q));
	boot_records_free(q);
}

/* Many names through a small set: every pushed one pending, every committed one gone,
 * whatever collided with what (the shift-back deletion keeps runs whole). */
static void
test_set_churn(void **state)
{
	enum { CAP = 16, NAMES = 200 };
	struct boot_records *q;
	struct boot_record out[CAP], r;
	char name[16];
	int next = 0, done = 0;

	(void)state;
	assert_int_equal(boot_records_new(CAP, &q), 0);
	while (done < NAMES) {
		int pushed = 0;

		while (next < NAMES && pushed < 4) {
			(void)snprintf(name, sizeof(name), "node%03d", next++);
			r = rec_of(name, "", "pxe");
			assert_true(boot_records_push(q, &r));
			pushed++;
		}
		for (int i = done; i < next; i++) {
			(void)snprintf(name, sizeof(name), "node%03d", i);
			assert_true(boot_records_pending(q, name));
		}
		size_t n = boot_records_take(q, out, next % 2 ? 3 : 8);
		boot_records_committed(q);
		for (size_t i = 0; i < n; i++)
			assert_false(boot_records_pending(q, out[i].node));
		done += (int)n;
		for (int i = 0; i < done; i++) {
			(void)snprintf(name, sizeof(name), "node%03d", i);
			assert_false(boot_records_pending(q, name));
		}
	}
	assert_true(boot_records_idle(q));
	boot_records_free(q);
}

/* Readers push from threads while the loop takes and commits: nothing lost, and each
 * node pending from its push until a commit after its take. */
struct pusher {
	struct boot_records *q;
	int base, n;
	int refused;
};

/* The rule, by case: -1 nothing queued, 0 due now, else ms to wait. */
static void
test_wait_rule(void **state)
{
	enum { Q = BOOT_RECORDS_QUIET_MS, W = BOOT_RECORDS_WAIT_MS };
	static const struct {
		size_t n, cap;
		uint64_t oldest, newest, now;
		int64_t want;
		const char *why;
	} cases[] = {
		{ 0, 64, 0, 0, 1000, -1, "nothing queued" },
		{ 1, 64, 1000, 1000, 1000, Q, "just pushed: the quiet time ahead" },
		{ 1, 64, 1000, 1000, 1000 + Q - 1, 1, "a ms before the pause counts" },
		{ 1, 64, 1000, 1000, 1000 + Q, 0, "pushes paused: due" },
		{ 5, 64, 1000, 1000 + W - 2, 1000 + W - 2, 2, "a burst: the oldest's limit first" },
		{ 5, 64, 1000, 1000 + W - 1, 1000 + W, 0, "the oldest waited its limit" },
		{ 5, 64, 1000, 1003, 1004, Q - 1, "still in the burst" },
		{ 31, 64, 1000, 1003, 1004, Q - 1, "below half" },
		{ 32, 64, 1000, 1003, 1004, 0, "half full" },
		{ 64, 64, 1000, 1003, 1004, 0, "full" },
		{ 1, 1, 1000, 1000, 1000, 0, "a queue of one is half full with one" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t got = boot_records_wait_ms(cases[i].n, cases[i].cap, cases[i].oldest,
		    cases[i].newest, cases[i].now);

		if (got != cases[i].want)
			fail_msg("%s: %lld, want %lld", cases[i].why, (long long)got,
			    (long long)cases[i].want);
	}
}

/* The queue's own times: a push starts the wait, a push later restarts it, the loop is
 * woken at the first push and again at half full, where the records are due at once. */
static void
test_due_and_half_wake(void **state)
{
	struct boot_records *q;
	struct boot_record out[8], r = rec_of("n1", "", "pxe");
	uint64_t now;
	int64_t w;

	(void)state;
	assert_int_equal(boot_records_new(8, &q), 0);
	assert_int_equal(boot_records_due(q, loop_now_ms()), -1);
	now = loop_now_ms();
	assert_true(boot_records_push(q, &r));
	w = boot_records_due(q, now);
	assert_true(w > 0 && w <= BOOT_RECORDS_QUIET_MS + 1);
	assert_int_equal(boot_records_due(q, loop_now_ms() + BOOT_RECORDS_QUIET_MS), 0);
	assert_true(readable(boot_records_fd(q)));
	drain_fd(boot_records_fd(q));
	for (int i = 2; i <= 3; i++) {
		r = rec_of(i == 2 ? "n2" : "n3", "", "pxe");
		assert_true(boot_records_push(q, &r));
		assert_false(readable(boot_records_fd(q)));
	}
	assert_true(boot_records_due(q, loop_now_ms()) > 0);
	r = rec_of("n4", "", "pxe");
	assert_true(boot_records_push(q, &r)); /* 4 of 8 */
	assert_true(readable(boot_records_fd(q)));
	assert_int_equal(boot_records_due(q, loop_now_ms()), 0);
	/* the take keeps the push times: what is left is dated by its own oldest */
	drain_fd(boot_records_fd(q));
	assert_int_equal(boot_records_take(q, out, 8), 4);
	assert_true(out[0].queued_ms <= out[3].queued_ms && out[0].queued_ms >= now);
	assert_int_equal(boot_records_due(q, loop_now_ms()), -1);
	boot_records_committed(q);
	boot_records_free(q);
}

static void *
push_many(void *arg)
{
	struct pusher *p = arg;
	char name[16];

	for (int i = 0; i < p->n; i++) {
		struct boot_record r;

		(void)snprintf(name, sizeof(name), "t%d-%d", p->base, i);
		r = rec_of(name, "", "pxe");
		while (!boot_records_push(p->q, &r))
			p->refused++;
	}
	return NULL;
}

static void
test_threads(void **state)
{
	enum { N = 5000 };
	struct boot_records *q;
	struct pusher p[2];
	pthread_t t[2];
	struct boot_record out[64];
	size_t got = 0;

	(void)state;
	assert_int_equal(boot_records_new(128, &q), 0);
	for (int i = 0; i < 2; i++) {
		p[i] = (struct pusher){ .q = q, .base = i, .n = N };
		assert_int_equal(pthread_create(&t[i], NULL, push_many, &p[i]), 0);
	}
	while (got < 2 * N) {
		size_t n = boot_records_take(q, out, 64);

		got += n;
		boot_records_committed(q);
	}
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	assert_int_equal(got, 2 * N);
	assert_true(boot_records_idle(q));
	boot_records_free(q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pending_until_committed),
		cmocka_unit_test(test_full_and_order),
		cmocka_unit_test(test_set_churn),
		cmocka_unit_test(test_wait_rule),
		cmocka_unit_test(test_due_and_half_wake),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
