/* SPDX-License-Identifier: MIT */
/* The migration watch (bootsvc/vm/migrate_watch.c): each rule by a sequence of samples and
 * the verdict expected after each. Sequences are hand-made from the shape of libvirt's
 * job statistics: data_remaining falls within a pre-copy iteration and rises at the next
 * when the guest dirtied pages meanwhile; total is 0 until the copy starts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "macro.h"
#include "vm/migrate_watch.h"

#define MIB (1024 * 1024)
#define MAX_SAMPLES 32

struct step {
	int64_t at_ms;
	int64_t remaining_mib;       /* -1: total 0 (not copying yet) */
	bool postcopy_seen;
	enum migrate_verdict want;
};

struct vector {
	const char *name;
	bool postcopy_allowed;
	int64_t deadline_ms;
	struct step s[MAX_SAMPLES];
	const char *why_has;         /* a substring of the last non-continue why */
};

/* A stall: 100 MiB left at best, then MIGRATE_STALL_SAMPLES samples that do no better. */
#define STALL_STEPS(t0, v) \
	{ t0, 100, false, MIGRATE_CONTINUE }, { t0 + 500, 120, false, MIGRATE_CONTINUE }, \
	{ t0 + 1000, 110, false, MIGRATE_CONTINUE }, { t0 + 1500, 100, false, MIGRATE_CONTINUE }, \
	{ t0 + 2000, 130, false, MIGRATE_CONTINUE }, { t0 + 2500, 105, false, MIGRATE_CONTINUE }, \
	{ t0 + 3000, 101, false, MIGRATE_CONTINUE }, { t0 + 3500, 140, false, MIGRATE_CONTINUE }, \
	{ t0 + 4000, 100, false, MIGRATE_CONTINUE }, { t0 + 4500, 120, false, MIGRATE_CONTINUE }, \
	{ t0 + 5000, 110, false, v }

static const struct vector vectors[] = {
	{ "converging: every sample a new low", true, 60000, {
		{ 500, -1, false, MIGRATE_CONTINUE }, { 1000, 200, false, MIGRATE_CONTINUE },
		{ 1500, 150, false, MIGRATE_CONTINUE }, { 2000, 90, false, MIGRATE_CONTINUE },
		{ 2500, 10, false, MIGRATE_CONTINUE }, { 0, 0, false, 0 } }, NULL },
	{ "stalled, post-copy allowed: switch once, then nothing", true, 60000, {
		STALL_STEPS(500, MIGRATE_POSTCOPY),
		{ 6000, 500, false, MIGRATE_CONTINUE },
		/* past the deadline in post-copy: never abort (the guest runs on dst) */
		{ 70000, 50, true, MIGRATE_CONTINUE }, { 0, 0, false, 0 } },
		"switching to post-copy" },
	{ "stalled, post-copy not allowed: keep going, then the deadline", false, 20000, {
		STALL_STEPS(500, MIGRATE_CONTINUE),
		{ 10000, 100, false, MIGRATE_CONTINUE },
		{ 20001, 99, false, MIGRATE_ABORT },
		{ 20500, 98, false, MIGRATE_CONTINUE }, { 0, 0, false, 0 } },
		"deadline: not done after 20 s (99 of" },
	{ "a new low resets the stall count", true, 60000, {
		{ 500, 100, false, MIGRATE_CONTINUE }, { 1000, 120, false, MIGRATE_CONTINUE },
		{ 1500, 120, false, MIGRATE_CONTINUE }, { 2000, 120, false, MIGRATE_CONTINUE },
		{ 2500, 120, false, MIGRATE_CONTINUE }, { 3000, 120, false, MIGRATE_CONTINUE },
		{ 3500, 120, false, MIGRATE_CONTINUE }, { 4000, 120, false, MIGRATE_CONTINUE },
		{ 4500, 120, false, MIGRATE_CONTINUE }, { 5000, 99, false, MIGRATE_CONTINUE },
		{ 5500, 120, false, MIGRATE_CONTINUE }, { 6000, 120, false, MIGRATE_CONTINUE },
		{ 0, 0, false, 0 } }, NULL },
	{ "set-up longer than the deadline: abort before any data", true, 60000, {
		{ 500, -1, false, MIGRATE_CONTINUE }, { 59999, -1, false, MIGRATE_CONTINUE },
		{ 60001, -1, false, MIGRATE_ABORT }, { 0, 0, false, 0 } },
		"deadline" },
	{ "libvirt reports post-copy (switched by someone else): nothing more", true, 1000, {
		{ 500, 100, true, MIGRATE_CONTINUE }, { 5000, 100, false, MIGRATE_CONTINUE },
		{ 0, 0, false, 0 } }, NULL },
	{ "samples without data never stall", true, 600000, {
		{ 500, -1, false, MIGRATE_CONTINUE }, { 1000, -1, false, MIGRATE_CONTINUE },
		{ 1500, -1, false, MIGRATE_CONTINUE }, { 2000, -1, false, MIGRATE_CONTINUE },
		{ 2500, -1, false, MIGRATE_CONTINUE }, { 3000, -1, false, MIGRATE_CONTINUE },
		{ 3500, -1, false, MIGRATE_CONTINUE }, { 4000, -1, false, MIGRATE_CONTINUE },
		{ 4500, -1, false, MIGRATE_CONTINUE }, { 5000, -1, false, MIGRATE_CONTINUE },
		{ 5500, -1, false, MIGRATE_CONTINUE }, { 6000, -1, false, MIGRATE_CONTINUE },
		{ 0, 0, false, 0 } }, NULL },
};

static void
test_vectors(void **state)
{
	(void)state;
	for (size_t v = 0; v < ELEMENTSOF(vectors); v++) {
		const struct vector *vec = &vectors[v];
		struct migrate_policy p = { .postcopy_allowed = vec->postcopy_allowed,
			.deadline_ms = vec->deadline_ms };
		struct migrate_watch w;
		char last_why[MIGRATE_WHY_MAX] = "";

		migrate_watch_init(&w, 0);
		for (size_t i = 0; i < MAX_SAMPLES && vec->s[i].at_ms; i++) {
			const struct step *st = &vec->s[i];
			struct migrate_sample s = { .at_ms = st->at_ms,
				.data_total = st->remaining_mib < 0 ? 0 : 1024LL * MIB,
				.data_remaining = st->remaining_mib < 0 ? 0 :
				    st->remaining_mib * MIB,
				.postcopy = st->postcopy_seen };
			struct migrate_decision d = migrate_watch_decide(&w, &s, &p);

			if (d.verdict != st->want)
				fail_msg("%s: sample %zu (at %lld ms): %s, want %s (%s)", vec->name,
				    i, (long long)st->at_ms, migrate_verdict_to_string(d.verdict),
				    migrate_verdict_to_string(st->want), d.why);
			if (d.verdict != MIGRATE_CONTINUE)
				strcpy(last_why, d.why);
		}
		if (vec->why_has && !strstr(last_why, vec->why_has))
			fail_msg("%s: why '%s' lacks '%s'", vec->name, last_why, vec->why_has);
	}
}

/* A stall kept going says why, with stalled set, once per MIGRATE_STALL_SAMPLES. */
static void
test_stall_without_postcopy_says_why(void **state)
{
	struct migrate_policy p = { .postcopy_allowed = false, .deadline_ms = 600000 };
	struct migrate_watch w;
	unsigned said = 0;

	(void)state;
	migrate_watch_init(&w, 0);
	for (int i = 1; i <= 1 + 3 * MIGRATE_STALL_SAMPLES; i++) {
		struct migrate_sample s = { .at_ms = i * 500, .data_total = 100 * MIB,
			.data_remaining = 50 * MIB };
		struct migrate_decision d = migrate_watch_decide(&w, &s, &p);

		assert_int_equal(d.verdict, MIGRATE_CONTINUE);
		if (d.stalled) {
			said++;
			assert_non_null(strstr(d.why, "post-copy not allowed"));
		}
	}
	assert_int_equal(said, 3);
}

static void
test_deadline(void **state)
{
	(void)state;
	/* 2 GiB at 120 s/GiB: 240 s */
	assert_int_equal(migrate_watch_deadline_ms(2048, 120), 240000);
	/* a part GiB in proportion */
	assert_int_equal(migrate_watch_deadline_ms(1536, 120), 180000);
	/* small guests get the minimum */
	assert_int_equal(migrate_watch_deadline_ms(96, 120), MIGRATE_MIN_DEADLINE_MS);
	assert_int_equal(migrate_watch_deadline_ms(0, 120), MIGRATE_MIN_DEADLINE_MS);
	assert_int_equal(migrate_watch_deadline_ms(-5, 120), MIGRATE_MIN_DEADLINE_MS);
	/* the largest the facts allow does not overflow */
	assert_true(migrate_watch_deadline_ms(64LL * 1024 * 1024, 86400) > 0);
	assert_string_equal(migrate_verdict_to_string(MIGRATE_ABORT), "abort");
	assert_string_equal(migrate_verdict_to_string(_MIGRATE_VERDICT_MAX), "invalid");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_stall_without_postcopy_says_why),
		cmocka_unit_test(test_deadline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
