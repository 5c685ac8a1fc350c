/* SPDX-License-Identifier: MIT */
/* initramfs/report.c's retry decision (issue 15): which failures of a phase report are
 * bootsvc being down (tried again, with a doubling backoff cut to the budget) and which
 * are an answer (given up at once). Vectors: the errors initramfs/httpc.c returns for a
 * refused, reset or timed-out connection, and the statuses bootsvc's API answers with
 * (204, 4xx with a code, 503 when its queue is full). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../initramfs/report.h"

#define MIN REPORT_BACKOFF_MIN_MS
#define MAX REPORT_BACKOFF_MAX_MS
#define B REPORT_BUDGET_MS

static const struct {
	int line;
	int rc, status;
	unsigned tries;
	uint64_t spent, budget;
	enum report_next want;
	unsigned delay; /* for REPORT_NEXT_RETRY */
} vec[] = {
	/* delivered */
	{ __LINE__, 0, 204, 1, 0, B, REPORT_NEXT_DONE, 0 },
	{ __LINE__, 0, 200, 7, 59000, B, REPORT_NEXT_DONE, 0 },
	/* bootsvc down or restarting: refused, reset, timed out, unreachable */
	{ __LINE__, -ECONNREFUSED, 0, 1, 0, B, REPORT_NEXT_RETRY, MIN },
	{ __LINE__, -ECONNRESET, 0, 2, 600, B, REPORT_NEXT_RETRY, 2 * MIN },
	{ __LINE__, -ETIMEDOUT, 0, 3, 5000, B, REPORT_NEXT_RETRY, 4 * MIN },
	{ __LINE__, -EHOSTUNREACH, 0, 1, 0, B, REPORT_NEXT_RETRY, MIN },
	{ __LINE__, -ENETUNREACH, 0, 1, 0, B, REPORT_NEXT_RETRY, MIN },
	{ __LINE__, -EPIPE, 0, 1, 0, B, REPORT_NEXT_RETRY, MIN },
	/* an answer that says "not now", or a head cut before it was HTTP */
	{ __LINE__, -EPROTO, 503, 1, 0, B, REPORT_NEXT_RETRY, MIN },
	{ __LINE__, -EPROTO, 500, 1, 0, B, REPORT_NEXT_RETRY, MIN },
	{ __LINE__, -EPROTO, 429, 1, 0, B, REPORT_NEXT_RETRY, MIN },
	{ __LINE__, -EPROTO, 408, 1, 0, B, REPORT_NEXT_RETRY, MIN },
	{ __LINE__, -EPROTO, 0, 1, 0, B, REPORT_NEXT_RETRY, MIN },
	/* the backoff doubles up to its cap and stays there, also for absurd try counts */
	{ __LINE__, -ECONNREFUSED, 0, 5, 8000, B, REPORT_NEXT_RETRY, MAX },
	{ __LINE__, -ECONNREFUSED, 0, 6, 16000, B, REPORT_NEXT_RETRY, MAX },
	{ __LINE__, -ECONNREFUSED, 0, 4000000000u, 16000, B, REPORT_NEXT_RETRY, MAX },
	/* the last wait is cut to what is left of the budget; a spent budget ends it */
	{ __LINE__, -ECONNREFUSED, 0, 9, B - 1000, B, REPORT_NEXT_RETRY, 1000 },
	{ __LINE__, -ECONNREFUSED, 0, 9, B - 1, B, REPORT_NEXT_RETRY, 1 },
	{ __LINE__, -ECONNREFUSED, 0, 9, B, B, REPORT_NEXT_GIVE_UP, 0 },
	{ __LINE__, -ECONNREFUSED, 0, 12, B + 4000, B, REPORT_NEXT_GIVE_UP, 0 },
	/* the imaging report's quick tries before the rootfs fetch */
	{ __LINE__, -ECONNREFUSED, 0, 1, 0, REPORT_QUICK_MS, REPORT_NEXT_RETRY, MIN },
	{ __LINE__, -ECONNREFUSED, 0, 3, 1600, REPORT_QUICK_MS, REPORT_NEXT_RETRY, 1400 },
	{ __LINE__, -ECONNREFUSED, 0, 4, 3000, REPORT_QUICK_MS, REPORT_NEXT_GIVE_UP, 0 },
	{ __LINE__, -ETIMEDOUT, 0, 1, 5000, REPORT_QUICK_MS, REPORT_NEXT_GIVE_UP, 0 },
	/* the server's considered answer: repeating it will not change it */
	{ __LINE__, -EPROTO, 400, 1, 0, B, REPORT_NEXT_GIVE_UP, 0 },
	{ __LINE__, -EPROTO, 401, 1, 0, B, REPORT_NEXT_GIVE_UP, 0 },
	{ __LINE__, -EPROTO, 403, 1, 0, B, REPORT_NEXT_GIVE_UP, 0 },
	{ __LINE__, -EPROTO, 404, 1, 0, B, REPORT_NEXT_GIVE_UP, 0 },
	{ __LINE__, -EPROTO, 409, 1, 0, B, REPORT_NEXT_GIVE_UP, 0 },
	/* a 3xx is no answer of bootsvc's API either: not followed, not repeated */
	{ __LINE__, -EPROTO, 302, 1, 0, B, REPORT_NEXT_GIVE_UP, 0 },
	/* local errors do not heal by waiting */
	{ __LINE__, -ENOSPC, 0, 1, 0, B, REPORT_NEXT_GIVE_UP, 0 },
	{ __LINE__, -ENOMEM, 0, 1, 0, B, REPORT_NEXT_GIVE_UP, 0 },
	{ __LINE__, -ENAMETOOLONG, 0, 1, 0, B, REPORT_NEXT_GIVE_UP, 0 },
	{ __LINE__, -EMFILE, 0, 1, 0, B, REPORT_NEXT_GIVE_UP, 0 },
};

static void
test_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		unsigned delay = 12345;
		enum report_next got = report_retry_next(vec[i].rc, vec[i].status, vec[i].tries,
		    vec[i].spent, vec[i].budget, &delay);

		if (got != vec[i].want)
			fail_msg("line %d: got %d, want %d", vec[i].line, got, vec[i].want);
		if (got == REPORT_NEXT_RETRY && delay != vec[i].delay)
			fail_msg("line %d: delay %u, want %u", vec[i].line, delay, vec[i].delay);
		if (got != REPORT_NEXT_RETRY && delay != 12345)
			fail_msg("line %d: delay written without a retry", vec[i].line);
	}
}

/* Walking the decision as report_phase_retry() does against a server that never answers:
 * the waits stay within the budget, and it ends. */
static void
test_refused_until_the_budget_ends(void **state)
{
	uint64_t spent = 0;
	unsigned tries, delay = 0;

	(void)state;
	for (tries = 1; tries < 1000; tries++) {
		enum report_next n = report_retry_next(-ECONNREFUSED, 0, tries, spent, B, &delay);

		if (n == REPORT_NEXT_GIVE_UP)
			break;
		assert_int_equal(n, REPORT_NEXT_RETRY);
		assert_true(delay > 0 && delay <= MAX);
		spent += delay;
		assert_true(spent <= B);
	}
	assert_int_equal(spent, B);
	/* tries that fail at once: 0.5 + 1 + 2 + 4 = 7.5 s, six waits of 8 s, 4.5 s cut to the
	 * budget; the 12th try is the last */
	assert_int_equal(tries, 12);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_refused_until_the_budget_ends),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
