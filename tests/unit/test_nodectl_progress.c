/* SPDX-License-Identifier: MIT */
/* nodectl/progress.c: provision --wait's accounting as a pure function. Each scenario is
 * a sequence of steps (an event line as bootsvc sends it, or a node object as node.list
 * returns it, shaped as bootsvc/control/control.c and bootsvc/verbs_node.c make them) with the
 * change it must report and the counts after it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../nodectl/progress.h"
#include "macro.h"
#include "nodectl_checks.h"

#define ID "3f2a9c0d11e2ffffffffffffffffffffffffffffffffffffffffffffffffffff"
#define OLD "0000000000000000000000000000000000000000000000000000000000000001"

/* Counts in the order waiting powering pxe loading imaging up failed bmc. */
struct step {
	int line;
	const char *event; /* an event line, or NULL */
	const char *node;  /* else a node.list node object */
	enum progress_change want;
	size_t counts[_PROGRESS_MAX];
	bool finished;
};

#define EV(node, kind, what, reason) \
	"{\"event\":{\"seq\":1,\"node\":\"" node "\",\"kind\":\"" kind "\",\"" \
	kind "\":\"" what "\",\"reason\":\"" reason "\",\"at\":1714564803}}"
#define PHASE(node, what) \
	"{\"event\":{\"seq\":1,\"node\":\"" node "\",\"kind\":\"phase\",\"phase\":\"" what \
	"\",\"reason\":\"\",\"at\":1714564803}}"
#define ACTION(node, what) \
	"{\"event\":{\"seq\":1,\"node\":\"" node "\",\"kind\":\"action\",\"action\":\"" what \
	"\",\"reason\":\"\",\"at\":1714564803}}"
#define NODE(node, phase, op, booted) \
	"{\"name\":\"" node "\",\"phase\":\"" phase "\",\"reason\":\"\",\"op\":\"" op "\"," \
	"\"booted_image\":\"" booted "\",\"last_error\":\"\",\"hold\":false}"

/* Three nodes: n01 boots to up on the image, n02 fails for good after a retried
 * failure, n03 was up on another image and is reimaged. */
static const struct step steps[] = {
	/* node.list before any event: n03 is up, but on the old image. */
	{ __LINE__, NULL, NODE("n03", "up", "", OLD), PROGRESS_MOVED, { 3 }, false },
	/* Events about other nodes and actions other than done change nothing. */
	{ __LINE__, PHASE("x1", "pxe"), NULL, PROGRESS_NONE, { 3 }, false },
	{ __LINE__, ACTION("n01", "provision"), NULL, PROGRESS_NONE, { 3 }, false },
	{ __LINE__, PHASE("n01", "powering-on"), NULL, PROGRESS_MOVED, { 2, 1 }, false },
	{ __LINE__, PHASE("n02", "powering-on"), NULL, PROGRESS_MOVED, { 1, 2 }, false },
	{ __LINE__, PHASE("n03", "bmc-unreachable"), NULL, PROGRESS_MOVED, { 0, 2, 0, 0, 0, 0, 0, 1 },
	  false },
	{ __LINE__, PHASE("n01", "pxe"), NULL, PROGRESS_MOVED, { 0, 1, 1, 0, 0, 0, 0, 1 }, false },
	{ __LINE__, PHASE("n01", "loading"), NULL, PROGRESS_MOVED, { 0, 1, 0, 1, 0, 0, 0, 1 },
	  false },
	{ __LINE__, PHASE("n01", "imaging"), NULL, PROGRESS_MOVED, { 0, 1, 0, 0, 1, 0, 0, 1 },
	  false },
	/* up does not say which image: waiting until node.list confirms. */
	{ __LINE__, PHASE("n01", "up"), NULL, PROGRESS_CHECK, { 1, 1, 0, 0, 0, 0, 0, 1 }, false },
	{ __LINE__, NULL, NODE("n01", "up", "booting", ID), PROGRESS_NEW_UP,
	  { 0, 1, 0, 0, 0, 1, 0, 1 }, false },
	/* Replayed or late events do not move a node that is done. */
	{ __LINE__, PHASE("n01", "pxe"), NULL, PROGRESS_NONE, { 0, 1, 0, 0, 0, 1, 0, 1 }, false },
	/* A node's own failed report is retried by the controller (op still booting). */
	{ __LINE__, EV("n02", "phase", "failed", "disk on fire"), NULL, PROGRESS_CHECK,
	  { 1, 0, 0, 0, 0, 1, 0, 1 }, false },
	{ __LINE__, NULL, NODE("n02", "failed", "booting", ""), PROGRESS_NONE,
	  { 1, 0, 0, 0, 0, 1, 0, 1 }, false },
	{ __LINE__, PHASE("n02", "powering-on"), NULL, PROGRESS_MOVED, { 0, 1, 0, 0, 0, 1, 0, 1 },
	  false },
	/* The controller gives up: op failed, the reason from last_error. */
	{ __LINE__, EV("n02", "phase", "failed", "timed out in phase powering-on after 3 attempts"),
	  NULL, PROGRESS_CHECK, { 1, 0, 0, 0, 0, 1, 0, 1 }, false },
	{ __LINE__, NULL,
	  "{\"name\":\"n02\",\"phase\":\"failed\",\"reason\":\"x\",\"op\":\"failed\","
	  "\"last_error\":\"timed out in phase powering-on after 3 attempts\"}",
	  PROGRESS_NEW_FAILED, { 0, 0, 0, 0, 0, 1, 1, 1 }, false },
	/* n03: the BMC answers again, it is reimaged; the controller's done confirms. */
	{ __LINE__, PHASE("n03", "pxe"), NULL, PROGRESS_MOVED, { 0, 0, 1, 0, 0, 1, 1, 0 }, false },
	{ __LINE__, ACTION("n03", "done"), NULL, PROGRESS_CHECK, { 0, 0, 1, 0, 0, 1, 1, 0 }, false },
	/* up, but still the old image (a stale report): not done. */
	{ __LINE__, NULL, NODE("n03", "up", "booting", OLD), PROGRESS_MOVED,
	  { 1, 0, 0, 0, 0, 1, 1, 0 }, false },
	{ __LINE__, NULL, NODE("n03", "up", "", ID), PROGRESS_NEW_UP, { 0, 0, 0, 0, 0, 2, 1, 0 },
	  true },
	/* A node object of someone else's node is ignored. */
	{ __LINE__, NULL, NODE("x1", "up", "", ID), PROGRESS_NONE, { 0, 0, 0, 0, 0, 2, 1, 0 },
	  true },
};

static void
test_scenario(void **state)
{
	const char *const names[] = { "n03", "n01", "n02", "n01" }; /* unsorted, a duplicate */
	struct progress p;
	struct progress_node *pn;
	char line[256];

	(void)state;
	assert_int_equal(progress_init(&p, names, ELEMENTSOF(names), ID), 0);
	assert_int_equal(p.n, 3);
	assert_int_equal(p.count[PROGRESS_WAITING], 3);
	for (size_t i = 0; i < ELEMENTSOF(steps); i++) {
		const struct step *s = &steps[i];
		enum progress_change got;

		if (s->event) {
			struct client_event e = { 0 };
			struct dl_err err = { 0 };

			_assert_int_equal(client_parse_event(s->event, strlen(s->event), &e, &err),
			    0, __FILE__, s->line);
			got = progress_event(&p, &e, &pn);
			client_event_done(&e);
		} else {
			json_t *o = json_loads(s->node, JSON_REJECT_DUPLICATES, NULL);

			_assert_true(o != NULL, "node is JSON", __FILE__, s->line);
			got = progress_node(&p, o, &pn);
			json_decref(o);
		}
		if (got != s->want)
			print_error("%s:%d: change %d, want %d\n", __FILE__, s->line, got, s->want);
		_assert_int_equal(got, s->want, __FILE__, s->line);
		check_progress(__FILE__, s->line, &p, s->counts, s->finished);
	}
	pn = progress_find(&p, "n02");
	assert_non_null(pn);
	assert_int_equal(pn->bucket, PROGRESS_FAILED);
	assert_string_equal(pn->reason, "timed out in phase powering-on after 3 attempts");
	assert_null(progress_find(&p, "x1"));

	progress_format(&p, line, sizeof(line));
	assert_string_equal(line,
	    "powering-on 0, pxe 0, loading 0, imaging 0, up 2, failed 1");
	progress_done(&p);
}

static void
test_checks_and_format(void **state)
{
	const char *const names[] = { "a", "b" };
	struct client_event e = { 0 };
	struct dl_err err = { 0 };
	const char *up = PHASE("a", "up");
	struct progress p;
	char line[256], small[20];
	json_t *o;

	(void)state;
	assert_int_equal(progress_init(&p, names, 2, ID), 0);
	assert_int_equal(client_parse_event(up, strlen(up), &e, &err), 0);
	assert_int_equal(progress_event(&p, &e, NULL), PROGRESS_CHECK);
	assert_int_equal(progress_event(&p, &e, NULL), PROGRESS_CHECK);
	assert_int_equal(p.nchecks, 1); /* marked once */
	client_event_done(&e);
	/* node.list clears the mark even when the node is not done. */
	o = json_loads(NODE("a", "up", "booting", OLD), 0, NULL);
	(void)progress_node(&p, o, NULL);
	json_decref(o);
	assert_int_equal(p.nchecks, 0);
	/* Waiting and bmc-unreachable show only when some node is there. */
	progress_format(&p, line, sizeof(line));
	assert_string_equal(line,
	    "powering-on 0, pxe 0, loading 0, imaging 0, up 0, failed 0, waiting 2");
	/* Cut, never overflowing. */
	progress_format(&p, small, sizeof(small));
	assert_true(strlen(small) < sizeof(small));
	progress_done(&p);

	assert_int_equal(progress_init(&p, names, 0, ID), -EINVAL);
	assert_int_equal(progress_init(&p, names, 2, ID "0"), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scenario),
		cmocka_unit_test(test_checks_and_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
