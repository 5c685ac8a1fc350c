/* SPDX-License-Identifier: MIT */
/* bootsvc/sync/sync_plan.c: what the sync worker does with each file, what a hash means,
 * which peer is next, and how a version looks from this server. The vectors are the
 * cases of docs/scale-out.md "Images across servers": a fresh file, a cut one resumed, a
 * whole one hashed, one longer than the manifest (a different file) started over. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "macro.h"
#include "sync/sync_limits.h"
#include "sync/sync_plan.h"

static void
test_file(void **state)
{
	static const struct {
		int line;
		uint64_t have, size;
		bool verified;
		enum sync_step want;
		uint64_t from;
	} v[] = {
		{ __LINE__, 0, 1000, false, SYNC_STEP_FETCH, 0 },      /* nothing kept: whole */
		{ __LINE__, 500, 1000, false, SYNC_STEP_FETCH, 500 },  /* cut: resume at 500 */
		{ __LINE__, 999, 1000, false, SYNC_STEP_FETCH, 999 },  /* one byte missing */
		{ __LINE__, 1000, 1000, false, SYNC_STEP_VERIFY, 0 },  /* all here: hash it */
		{ __LINE__, 1000, 1000, true, SYNC_STEP_DONE, 0 },     /* hashed this round */
		{ __LINE__, 1001, 1000, false, SYNC_STEP_DISCARD, 0 }, /* not this file */
		{ __LINE__, 1001, 1000, true, SYNC_STEP_DISCARD, 0 },
		{ __LINE__, 0, 0, false, SYNC_STEP_VERIFY, 0 },        /* an empty file */
		{ __LINE__, 500, 1000, true, SYNC_STEP_FETCH, 500 },   /* shrunk under us */
		{ __LINE__, UINT64_MAX, UINT64_MAX - 1, false, SYNC_STEP_DISCARD, 0 },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		uint64_t from = 12345;
		enum sync_step got = sync_plan_file(v[i].have, v[i].size, v[i].verified, &from);

		if (got != v[i].want || (got == SYNC_STEP_FETCH && from != v[i].from) ||
		    (got != SYNC_STEP_FETCH && from != 12345))
			fail_msg("line %d: step %d from %llu", v[i].line, (int)got,
			    (unsigned long long)from);
	}
}

static void
test_verdict(void **state)
{
	static const char a[] = "3f2a9c0d11e2ffffffffffffffffffffffffffffffffffffffffffffffffffff";
	static const char b[] = "3f2a9c0d11e2fffffffffffffffffffffffffffffffffffffffffffffffffffe";
	static const struct {
		int line;
		const char *want, *got;
		uint64_t want_size, got_size;
		enum sync_verdict v;
	} v[] = {
		{ __LINE__, a, a, 10, 10, SYNC_VERDICT_KEEP },
		{ __LINE__, a, b, 10, 10, SYNC_VERDICT_REFUSE },  /* a tampered byte */
		{ __LINE__, a, a, 10, 11, SYNC_VERDICT_REFUSE },  /* right hash, wrong size */
		{ __LINE__, "", "", 0, 0, SYNC_VERDICT_REFUSE },  /* no hash to check against */
		{ __LINE__, "abc", "abc", 3, 3, SYNC_VERDICT_REFUSE },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(v); i++)
		if (sync_plan_verdict(v[i].want, v[i].got, v[i].want_size, v[i].got_size) !=
		    v[i].v)
			fail_msg("line %d", v[i].line);
}

static void
test_next_peer(void **state)
{
	static const struct {
		int line;
		int last;
		unsigned n;
		uint32_t failed;
		int want;
	} v[] = {
		{ __LINE__, -1, 0, 0, -1 },     /* no peers: the round fails at once */
		{ __LINE__, -1, 3, 0, 0 },      /* the first in the configured order */
		{ __LINE__, 0, 3, 1, 1 },       /* the first failed: the second */
		{ __LINE__, 1, 3, 3, 2 },
		{ __LINE__, 2, 3, 7, -1 },      /* all tried: retry later */
		{ __LINE__, -1, 3, 1, 1 },      /* a failed one is skipped */
		{ __LINE__, -1, 3, 7, -1 },
		{ __LINE__, 31, 40, 0, -1 },    /* beyond the bit mask: never */
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		int got = sync_plan_next_peer(v[i].last, v[i].n, v[i].failed);

		if (got != v[i].want)
			fail_msg("line %d: got %d", v[i].line, got);
	}
}

static void
test_state(void **state)
{
	(void)state;
	assert_int_equal(sync_plan_state(true, false), SYNC_STATE_PRESENT);
	/* files here win: a round that just put them in place is not "syncing" */
	assert_int_equal(sync_plan_state(true, true), SYNC_STATE_PRESENT);
	assert_int_equal(sync_plan_state(false, true), SYNC_STATE_SYNCING);
	assert_int_equal(sync_plan_state(false, false), SYNC_STATE_MISSING);
	assert_string_equal(sync_state_to_string(SYNC_STATE_PRESENT), "present");
	assert_string_equal(sync_state_to_string(SYNC_STATE_SYNCING), "syncing");
	assert_string_equal(sync_state_to_string(SYNC_STATE_MISSING), "missing");
	assert_string_equal(sync_state_to_string(_SYNC_STATE_MAX), "missing");
}

static void
test_deadline(void **state)
{
	(void)state;
	assert_int_equal(sync_plan_file_deadline_ms(0), SYNC_FILE_FLOOR_MS);
	assert_int_equal(sync_plan_file_deadline_ms(SYNC_MIN_RATE_BPS), SYNC_FILE_FLOOR_MS + 1000);
	/* 2 GiB at 1 MiB/s: 2048 s */
	assert_int_equal(sync_plan_file_deadline_ms(UINT64_C(2) << 30),
	    SYNC_FILE_FLOOR_MS + 2048 * 1000);
	assert_int_equal(sync_plan_file_deadline_ms(SYNC_MAX_FILE_SIZE), SYNC_MAX_FILE_MS);
	assert_int_equal(sync_plan_file_deadline_ms(UINT64_MAX), SYNC_MAX_FILE_MS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_verdict),
		cmocka_unit_test(test_next_peer),
		cmocka_unit_test(test_state),
		cmocka_unit_test(test_deadline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
