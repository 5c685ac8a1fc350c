/* SPDX-License-Identifier: MIT */
/* bootsvc/energy.c against a hand-computed timeline (issue #7). One node, model watts
 * on 250, off 8, booting 300:
 *   0-600 s booting   300 W x 600 s = 180000 J    saved (250-300) x 600 = -30000 J
 *   600-4200 s on     250 W x 3600 s = 900000 J   saved 0
 *   4200-11400 s off  8 W x 7200 s = 57600 J      saved (250-8) x 7200 = 1742400 J
 *                     (so -30000 + 1742400 = 1712400 J saved by then)
 *   then on again with a BMC reading of 200 W for 1800 s = 360000 J, and off with the
 *   BMC's 5 W and baseline 200 W for 3600 s: 18000 J, saved 195 x 3600 = 702000 J.
 * Steps are at most 10 min (MAX_ENERGY_GAP_MS), repeated, as the controller's ticks are.
 * Totals: on 180000+900000+360000 = 1440000 J = 0.4 kWh; off 57600+18000 = 75600 J =
 * 0.021 kWh; saved 1712400+702000 = 2414400 J = 0.670666.. kWh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../bootsvc/controller/energy.h"

#define S 1000LL
#define J 1000LL /* millijoules per joule */

static const struct energy_model model = { .watts = { [ES_ON] = 250, [ES_OFF] = 8,
	[ES_BOOTING] = 300 } };

static const struct {
	enum energy_state s;
	unsigned measured, baseline;
	int reps;
	int64_t dt_ms;
	int64_t on_j, off_j, saved_j; /* running totals after the step */
} timeline[] = {
	{ ES_BOOTING, 0, 0, 1, 600 * S, 180000, 0, -30000 },
	{ ES_ON, 0, 0, 6, 600 * S, 1080000, 0, -30000 },
	{ ES_OFF, 0, 0, 6, 600 * S, 1080000, 28800, 841200 },
	{ ES_OFF, 0, 0, 60, 60 * S, 1080000, 57600, 1712400 },
	/* unknown state and non-positive intervals are not accounted */
	{ ES_UNKNOWN, 0, 0, 1, 600 * S, 1080000, 57600, 1712400 },
	{ ES_ON, 0, 0, 1, 0, 1080000, 57600, 1712400 },
	{ ES_ON, 0, 0, 1, -5 * S, 1080000, 57600, 1712400 },
	{ ES_ON, 200, 200, 3, 600 * S, 1440000, 57600, 1712400 },
	{ ES_OFF, 5, 200, 3, 600 * S, 1440000, 66600, 2063400 },
	{ ES_OFF, 5, 200, 1800, 1 * S, 1440000, 75600, 2414400 },
};

static void
test_timeline(void **state)
{
	struct energy_totals t = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(timeline) / sizeof(timeline[0]); i++) {
		for (int k = 0; k < timeline[i].reps; k++)
			(void)energy_add(&t, &model, timeline[i].s, timeline[i].measured,
			    timeline[i].baseline, timeline[i].dt_ms);
		if (t.on_mj != timeline[i].on_j * J || t.off_mj != timeline[i].off_j * J ||
		    t.saved_mj != timeline[i].saved_j * J)
			fail_msg("%s: step %zu: on %lld off %lld saved %lld mJ", __FILE__, i,
			    (long long)t.on_mj, (long long)t.off_mj, (long long)t.saved_mj);
	}
	assert_float_equal(energy_kwh(t.on_mj), 0.4, 1e-12);
	assert_float_equal(energy_kwh(t.off_mj), 0.021, 1e-12);
	assert_float_equal(energy_kwh(t.saved_mj), 2414400.0 / 3.6e6, 1e-12);
}

/* A gap longer than MAX_ENERGY_GAP_MS (bootsvc was down) counts only up to the cap. */
static void
test_gap_capped(void **state)
{
	struct energy_totals t = { 0 };

	(void)state;
	assert_int_equal(energy_add(&t, &model, ES_OFF, 0, 0, 24 * 3600 * S), MAX_ENERGY_GAP_MS);
	assert_int_equal(t.off_mj, 8LL * MAX_ENERGY_GAP_MS);
	assert_int_equal(t.saved_mj, 242LL * MAX_ENERGY_GAP_MS);
}

static void
test_sum(void **state)
{
	struct energy_totals a = { 1, 2, 3 }, b = { 10, 20, -30 };

	(void)state;
	energy_sum(&a, &b);
	assert_int_equal(a.on_mj, 11);
	assert_int_equal(a.off_mj, 22);
	assert_int_equal(a.saved_mj, -27);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timeline),
		cmocka_unit_test(test_gap_capped),
		cmocka_unit_test(test_sum),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
