/* SPDX-License-Identifier: MIT */
/* bootsvc/green.c: the green policy, table-driven. Each row is a small cluster at a time
 * T (ms), a policy, and the decisions the controller must carry out, written as
 * "name:off" or "name:on=image" in node order (issue #7: idle power-off after idle_poweroff,
 * warm spares per image most recently used first, scheduler hints that hold and power on
 * ahead of demand, floors per group). Times are ms from an arbitrary epoch T. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../bootsvc/controller/green.h"

#define T 1000000000LL
#define S 1000LL
#define M (60 * S)
#define MAX_ROW_NODES 6

/* Shorthands: an idle node on image i idle since t, an off node on image i, ... */
#define IDLE(nm, img, since) { .name = nm, .image = img, .state = GS_IDLE, .on = true, \
	.idle_since_ms = since }
#define IDLEG(nm, img, since, g) { .name = nm, .image = img, .state = GS_IDLE, .on = true, \
	.idle_since_ms = since, .floors = g }
#define OFF(nm, img) { .name = nm, .image = img, .state = GS_OFF }
#define OFFG(nm, img, g) { .name = nm, .image = img, .state = GS_OFF, .floors = g }
#define BUSY(nm, img) { .name = nm, .image = img, .state = GS_BUSY, .on = true }
#define BUSYG(nm, img, g) { .name = nm, .image = img, .state = GS_BUSY, .on = true, .floors = g }
#define BOOTING(nm, img) { .name = nm, .image = img, .state = GS_BOOTING, .on = true }

static const struct green_spare spare_tiny1[] = { { "tiny", 1 } };
static const struct green_spare spare_tiny2_compute1[] = { { "tiny", 2 }, { "compute", 1 } };
static const struct green_hint hint_tiny2[] = { { "tiny", 2, T + 5 * M } };
static const struct green_hint hint_tiny3[] = { { "tiny", 3, T + 5 * M } };
static const struct green_hint hint_expired[] = { { "tiny", 3, T } };
static const struct green_hint hint_two[] = { { "tiny", 1, T + M }, { "tiny", 2, T + M } };
static const struct green_floor floor_rack1_2[] = { { "rack1", 2 } };

/* A row's policy: idle 10m, and its spares, hints and floors with their counts. */
#define POLICY(s, ns, h, nh, f, nf) { .idle_ms = 10 * M, .spares = s, .n_spares = ns, \
	.hints = h, .n_hints = nh, .floors = f, .n_floors = nf }

static const struct {
	int line;
	struct green_node nodes[MAX_ROW_NODES];
	size_t n;
	struct green_policy policy; /* POLICY() */
	const char *want;    /* decisions, space-separated, in node order */
	const char *reason;  /* substring of the first decision's reason, or NULL */
	int64_t wake;        /* expected wake, -1 = don't check */
} rows[] = {
	/* nothing idle long enough: wait for the first timer */
	{ __LINE__, { IDLE("n1", "tiny", T - 5 * M), IDLE("n2", "tiny", T - 9 * M) }, 2,
	    POLICY(NULL, 0, NULL, 0, NULL, 0), "", NULL, T + M },
	/* idle past 10m: off, with the reason */
	{ __LINE__, { IDLE("n1", "tiny", T - 10 * M), IDLE("n2", "tiny", T - 9 * M) }, 2,
	    POLICY(NULL, 0, NULL, 0, NULL, 0), "n1:off", "idle 10m, no warm spare needed for tiny",
	    T + M },
	/* busy, booting and off nodes are never powered off */
	{ __LINE__, { BUSY("n1", "tiny"), BOOTING("n2", "tiny"), OFF("n3", "tiny") }, 3,
	    POLICY(NULL, 0, NULL, 0, NULL, 0), "", NULL, 0 },
	/* warm tiny=1: the most recently used idle node stays; the rest go */
	{ __LINE__, { IDLE("n1", "tiny", T - 30 * M), IDLE("n2", "tiny", T - 11 * M),
	    IDLE("n3", "tiny", T - 20 * M) }, 3, POLICY(spare_tiny1, 1, NULL, 0, NULL, 0),
	    "n1:off n3:off", "idle 30m", 0 },
	/* warm is per image: compute has no spare, tiny keeps its two */
	{ __LINE__, { IDLE("n1", "tiny", T - 30 * M), IDLE("n2", "tiny", T - 11 * M),
	    IDLE("n3", "compute", T - 20 * M), IDLE("n4", "tiny", T - 40 * M) }, 4,
	    POLICY(spare_tiny2_compute1, 2, NULL, 0, NULL, 0), "n4:off", NULL, 0 },
	/* a busy node on tiny is not a spare: the idle one stays */
	{ __LINE__, { BUSY("n1", "tiny"), IDLE("n2", "tiny", T - 11 * M) }, 2, POLICY(spare_tiny1, 1,
	    NULL, 0, NULL, 0), "", NULL, 0 },
	/* ties in idle_since break by name: n1 stays */
	{ __LINE__, { IDLE("n1", "tiny", T - 11 * M), IDLE("n2", "tiny", T - 11 * M) }, 2,
	    POLICY(spare_tiny1, 1, NULL, 0, NULL, 0), "n2:off", NULL, 0 },
	/* a hint holds idle nodes on its image and powers off nodes on to make up count */
	{ __LINE__, { IDLE("n1", "tiny", T - 30 * M), OFF("n2", "other"), OFF("n3", "tiny") },
	    3, POLICY(NULL, 0, hint_tiny2, 1, NULL, 0), "n3:on=tiny", "expect 2 on tiny for 5m more: 1",
	    T + 5 * M },
	/* ... preferring off nodes already on its image, then any */
	{ __LINE__, { OFF("n1", "other"), OFF("n2", "tiny"), OFF("n3", "") }, 3, POLICY(NULL, 0,
	    hint_tiny2, 1, NULL, 0), "n1:on=tiny n2:on=tiny", NULL, -1 },
	/* booting nodes for nobody count toward the hint: no second power-on */
	{ __LINE__, { IDLE("n1", "tiny", T - 30 * M), BOOTING("n2", "tiny"), OFF("n3", "tiny") },
	    3, POLICY(NULL, 0, hint_tiny2, 1, NULL, 0), "", NULL, -1 },
	/* a hint larger than the cluster powers on what there is */
	{ __LINE__, { OFF("n1", "tiny"), BUSY("n2", "tiny") }, 2, POLICY(NULL, 0, hint_tiny3, 1, NULL,
	    0), "n1:on=tiny", NULL, -1 },
	/* an expired hint does nothing: idle nodes go as usual */
	{ __LINE__, { IDLE("n1", "tiny", T - 30 * M), OFF("n2", "tiny") }, 2, POLICY(NULL, 0,
	    hint_expired, 1, NULL, 0), "n1:off", NULL, -1 },
	/* two hints on one image: the larger acts, once */
	{ __LINE__, { OFF("n1", "tiny"), OFF("n2", "tiny"), OFF("n3", "tiny") }, 3, POLICY(NULL, 0,
	    hint_two, 2, NULL, 0), "n1:on=tiny n2:on=tiny", NULL, -1 },
	/* a floor keeps the most recently used idle members of its group */
	{ __LINE__, { IDLEG("n1", "tiny", T - 30 * M, 1), IDLEG("n2", "tiny", T - 20 * M, 1),
	    IDLEG("n3", "tiny", T - 40 * M, 1), IDLE("n4", "tiny", T - 15 * M) }, 4, POLICY(NULL, 0,
	    NULL, 0, floor_rack1_2, 1), "n3:off n4:off", NULL, -1 },
	/* busy members count toward the floor */
	{ __LINE__, { BUSYG("n1", "tiny", 1), IDLEG("n2", "tiny", T - 20 * M, 1),
	    IDLEG("n3", "tiny", T - 40 * M, 1) }, 3, POLICY(NULL, 0, NULL, 0, floor_rack1_2, 1),
	    "n3:off", NULL, -1 },
	/* a group below its floor powers members on into their own image */
	{ __LINE__, { OFFG("n1", "", 1), OFFG("n2", "compute", 1), OFFG("n3", "tiny", 1),
	    OFF("n4", "tiny") }, 4, POLICY(NULL, 0, NULL, 0, floor_rack1_2, 1),
	    "n2:on=compute n3:on=tiny", "floor rack1: 0 of 2 on", -1 },
	/* a spare and a floor together: each keeps its own */
	{ __LINE__, { IDLEG("n1", "tiny", T - 30 * M, 1), IDLEG("n2", "compute", T - 20 * M, 1),
	    IDLE("n3", "tiny", T - 12 * M) }, 3, POLICY(spare_tiny1, 1, NULL, 0, floor_rack1_2, 1), "",
	    NULL, -1 },
};

static void
render(const struct green_node *nodes, const struct green_decision *d, size_t n, char *buf,
    size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		len += (size_t)snprintf(buf + len, size - len, "%s%s:%s%s%s", i ? " " : "",
		    nodes[d[i].node].name, d[i].act == GA_POWER_OFF ? "off" : "on",
		    d[i].act == GA_POWER_ON ? "=" : "", d[i].act == GA_POWER_ON ? d[i].image : "");
		assert_true(len < size);
	}
}

static void
test_table(void **state)
{
	(void)state;
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		const struct green_policy *p = &rows[r].policy;
		struct green_decision d[MAX_ROW_NODES];
		size_t n = 99;
		int64_t wake = -2;
		char got[256];

		assert_int_equal(green_decide(rows[r].nodes, rows[r].n, p, T, d, &n, &wake), 0);
		render(rows[r].nodes, d, n, got, sizeof(got));
		if (strcmp(got, rows[r].want) != 0)
			fail_msg("%s:%d: decisions '%s', want '%s'", __FILE__, rows[r].line, got,
			    rows[r].want);
		if (rows[r].reason && (n == 0 || !strstr(d[0].reason, rows[r].reason)))
			fail_msg("%s:%d: reason '%s', want '%s'", __FILE__, rows[r].line,
			    n ? d[0].reason : "", rows[r].reason);
		if (rows[r].wake != -1 && wake != rows[r].wake)
			fail_msg("%s:%d: wake %lld, want %lld", __FILE__, rows[r].line,
			    (long long)(wake - T), (long long)(rows[r].wake - T));
	}
}

/* idle_poweroff 0 turns power-off off; nothing to wake for. */
static void
test_idle_off_disabled(void **state)
{
	struct green_node nodes[] = { IDLE("n1", "tiny", T - 100 * M) };
	struct green_policy p = { .idle_ms = 0 };
	struct green_decision d[1];
	size_t n;
	int64_t wake;

	(void)state;
	assert_int_equal(green_decide(nodes, 1, &p, T, d, &n, &wake), 0);
	assert_int_equal(n, 0);
	assert_int_equal(wake, 0);
}

static void
test_format_duration(void **state)
{
	static const struct { int64_t ms; const char *want; } v[] = {
		{ 0, "0s" }, { 20 * S, "20s" }, { 10 * M, "10m" }, { 95 * S, "1m35s" },
		{ 3600 * S, "1h" }, { 3900 * S, "1h5m" },
	};
	char buf[32];

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		green_format_duration(buf, sizeof(buf), v[i].ms);
		assert_string_equal(buf, v[i].want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_idle_off_disabled),
		cmocka_unit_test(test_format_duration),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
