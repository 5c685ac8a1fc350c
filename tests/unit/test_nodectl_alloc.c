/* SPDX-License-Identifier: MIT */
/* nodectl allocate, release --job, health [clear]: argv -> request args, and allocate
 * --wait's accounting of the job's membership (nodec/progress.c in job mode) fed node
 * lists and events shaped as bootsvc makes them: the allocate and alloc-replace events
 * of bootsvc/control/verbs_ctrl.c verbs_ctrl_alloc_assign() and bootsvc/controller/ctrl_alloc.c
 * ctrl_alloc_replace(), the node objects of bootsvc/control/verbs_node.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../nodectl/cmd.h"
#include "../../nodectl/progress.h"
#include "macro.h"
#include "nodectl_checks.h"

#define ID "3f2a9c0d11e2ffffffffffffffffffffffffffffffffffffffffffffffffffff"
#define OLD "0000000000000000000000000000000000000000000000000000000000000001"

struct vector {
	int line;
	cmd_parse_fn parse;
	const char *argv;
	const char *want;       /* args as JSON, or NULL when an error is expected */
	const char *err;        /* substring of the error message */
	bool follow;            /* opts->follow after a good parse */
	uint64_t timeout_ms;
};

#define ALLOC cmd_allocate_parse
#define REL cmd_release_parse
#define HEALTH cmd_health_parse
#define CLEAR cmd_health_clear_parse
#define DEF_TIMEOUT (20 * 60 * 1000)

static const struct vector vectors[] = {
	/* allocate: the example, then every option. */
	{ __LINE__, ALLOC, "allocate --count 8 --image compute --class mpi",
	  "{\"count\":8,\"image\":\"compute\",\"class\":\"mpi\"}", NULL, false, DEF_TIMEOUT },
	{ __LINE__, ALLOC, "allocate --count=1 --image=compute@3f2a --job slurm-88 --json",
	  "{\"count\":1,\"image\":\"compute@3f2a\",\"job\":\"slurm-88\"}", NULL, false,
	  DEF_TIMEOUT },
	{ __LINE__, ALLOC, "allocate --count 2 --image c --wait",
	  "{\"count\":2,\"image\":\"c\"}", NULL, true, DEF_TIMEOUT },
	{ __LINE__, ALLOC, "allocate --wait --timeout 90s --count 2 --image c",
	  "{\"count\":2,\"image\":\"c\"}", NULL, true, 90 * 1000 },
	/* allocate: bad input. */
	{ __LINE__, ALLOC, "allocate --image c", NULL, "option --count is required", false, 0 },
	{ __LINE__, ALLOC, "allocate --count 2", NULL, "option --image is required", false, 0 },
	{ __LINE__, ALLOC, "allocate --count 0 --image c", NULL, "allocate: option --count", false, 0 },
	{ __LINE__, ALLOC, "allocate --count -1 --image c", NULL, "allocate: option --count", false, 0 },
	{ __LINE__, ALLOC, "allocate --count 8x --image c", NULL, "allocate: option --count", false, 0 },
	{ __LINE__, ALLOC, "allocate --count 65537 --image c", NULL, "allocate: option --count", false, 0 },
	{ __LINE__, ALLOC, "allocate --count 2 --count 3 --image c", NULL, "given twice", false, 0 },
	{ __LINE__, ALLOC, "allocate --count 2 --image Compute", NULL,
	  "option --image: 'Compute' is not an image name", false, 0 },
	{ __LINE__, ALLOC, "allocate --count 2 --image c --class MPI", NULL,
	  "option --class: 'MPI' is not a job class", false, 0 },
	{ __LINE__, ALLOC, "allocate --count 2 --image c --class "
	  "a2345678901234567890123456789012", NULL, "option --class", false, 0 },
	{ __LINE__, ALLOC, "allocate --count 2 --image c --job Job_1", NULL,
	  "option --job: 'Job_1' is not a job id", false, 0 },
	{ __LINE__, ALLOC, "allocate --count 2 --image c --timeout 5m", NULL,
	  "option --timeout needs --wait", false, 0 },
	{ __LINE__, ALLOC, "allocate --count 2 --image c --wait --timeout 8d", NULL,
	  "option --timeout", false, 0 },
	{ __LINE__, ALLOC, "allocate n[01-02] --count 2 --image c", NULL,
	  "unexpected argument 'n[01-02]'", false, 0 },
	{ __LINE__, ALLOC, "allocate --count 2 --image c --force", NULL, "unknown option", false, 0 },
	{ __LINE__, ALLOC, "allocate --count --image c", NULL, "option --count needs a value", false, 0 },

	/* release: a hostlist (as before) or a job. */
	{ __LINE__, REL, "release n[01-02]", "{\"names\":\"n[01-02]\"}", NULL, false, 0 },
	{ __LINE__, REL, "release --job a17", "{\"job\":\"a17\"}", NULL, false, 0 },
	{ __LINE__, REL, "release --job=slurm-88", "{\"job\":\"slurm-88\"}", NULL, false, 0 },
	{ __LINE__, REL, "release", NULL, "missing <hostlist> of node names (or --job ID)", false, 0 },
	{ __LINE__, REL, "release n1 --job a17", NULL, "give a <hostlist> or --job, not both", false, 0 },
	{ __LINE__, REL, "release --job a1 --job a2", NULL, "given twice", false, 0 },
	{ __LINE__, REL, "release --job A1", NULL, "'A1' is not a job id", false, 0 },
	{ __LINE__, REL, "release --job", NULL, "option --job needs a value", false, 0 },
	{ __LINE__, REL, "release n1 --reason x", NULL, "unknown option", false, 0 },

	/* health: node.list, optionally of some nodes. */
	{ __LINE__, HEALTH, "health", "{}", NULL, false, 0 },
	{ __LINE__, HEALTH, "health n[01-04] --all --json", "{\"names\":\"n[01-04]\"}", NULL,
	  false, 0 },
	{ __LINE__, HEALTH, "health N1", NULL, "'N1' is not a valid node name", false, 0 },
	{ __LINE__, HEALTH, "health n1 n2", NULL, "unexpected argument 'n2'", false, 0 },
	{ __LINE__, HEALTH, "health --bogus", NULL, "unknown option", false, 0 },
	{ __LINE__, CLEAR, "clear n[01-02]", "{\"names\":\"n[01-02]\"}", NULL, false, 0 },
	{ __LINE__, CLEAR, "clear", NULL, "health clear: missing <hostlist>", false, 0 },
	{ __LINE__, CLEAR, "clear n[01-", NULL, "health clear: node names", false, 0 },
	{ __LINE__, CLEAR, "clear n1 --all", NULL, "unknown option", false, 0 },
};

static void
test_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(vectors); i++) {
		const struct vector *v = &vectors[i];
		struct cmd_opts opts;

		check_cmd_vector(__FILE__, v->line, v->parse, v->argv, v->want, v->err, &opts);
		if (v->want) {
			_assert_int_equal(opts.follow, v->follow, __FILE__, v->line);
			if (v->parse == ALLOC)
				_assert_int_equal(opts.timeout_ms, v->timeout_ms, __FILE__, v->line);
		}
	}
}

/* Membership accounting. An event line, or a node.list result (an array of node
 * objects) fed to progress_members(), or one node object fed to progress_node(). */
#define ACTION(node, what, reason) \
	"{\"event\":{\"seq\":9,\"node\":\"" node "\",\"kind\":\"action\",\"action\":\"" \
	what "\",\"reason\":\"" reason "\",\"at\":1714564803}}"
#define PHASE(node, what) \
	"{\"event\":{\"seq\":9,\"node\":\"" node "\",\"kind\":\"phase\",\"phase\":\"" what \
	"\",\"reason\":\"\",\"at\":1714564803}}"
#define NODE(node, job, phase, op, booted) \
	"{\"name\":\"" node "\",\"job\":\"" job "\",\"phase\":\"" phase "\",\"reason\":\"\"," \
	"\"op\":\"" op "\",\"booted_image\":\"" booted "\",\"last_error\":\"" \
	"timed out in phase pxe after 3 attempts\",\"hold\":false,\"health\":\"ok\"}"

enum kind { EVENT, LIST, ONE };

/* Counts in the order waiting powering pxe loading imaging up failed bmc replaced. */
struct step {
	int line;
	enum kind kind;
	const char *in;
	enum progress_change want;      /* EVENT, ONE: the change reported */
	const char *changes;            /* LIST: "n01+ n02- n03^ n04! n05~" joined, left,
	                                 * new up, new failed, moved, in callback order */
	size_t counts[_PROGRESS_MAX];
	bool finished, complete;
};

struct recorder {
	char buf[256];
};

static void
record(void *userdata, const struct progress_node *pn, enum progress_change ch)
{
	struct recorder *r = userdata;
	size_t o = strlen(r->buf);
	char c = ch == PROGRESS_JOINED ? '+' : ch == PROGRESS_LEFT ? '-' :
	    ch == PROGRESS_NEW_UP ? '^' : ch == PROGRESS_NEW_FAILED ? '!' : '~';

	(void)snprintf(r->buf + o, sizeof(r->buf) - o, "%s%s%c", o ? " " : "", pn->name, c);
}

/* Job a7 of 2 nodes: n01 reused (already up on the image), n02 fails and is replaced by
 * n03 (events first, node.list later), an event of job a70 is not ours. */
static const struct step replaced[] = {
	{ __LINE__, LIST, "[" NODE("n01", "a7", "up", "", ID) "," NODE("n02", "a7", "off",
	  "booting", "") "," NODE("n03", "", "off", "", "") "]", 0, "n01^ n02~",
	  { 1, 0, 0, 0, 0, 1 }, false, false },
	{ __LINE__, EVENT, PHASE("n02", "powering-on"), PROGRESS_MOVED, NULL,
	  { 0, 1, 0, 0, 0, 1 }, false, false },
	/* The replacement is written first (verbs_ctrl_alloc_assign), then alloc-replace. */
	{ __LINE__, EVENT, ACTION("n03", "allocate", "job a7 class mpi: power-on compute@3f2a9c0d11e2"),
	  PROGRESS_JOINED, NULL, { 1, 1, 0, 0, 0, 1 }, false, false },
	{ __LINE__, EVENT, ACTION("n02", "alloc-replace", "job a7: replaced by n03"),
	  PROGRESS_LEFT, NULL, { 1, 0, 0, 0, 0, 1, 0, 0, 1 }, false, false },
	/* The failed node's own later events and node object change nothing. */
	{ __LINE__, EVENT, PHASE("n02", "failed"), PROGRESS_NONE, NULL,
	  { 1, 0, 0, 0, 0, 1, 0, 0, 1 }, false, false },
	{ __LINE__, ONE, NODE("n02", "", "failed", "failed", ""), PROGRESS_NONE, NULL,
	  { 1, 0, 0, 0, 0, 1, 0, 0, 1 }, false, false },
	/* Another job's allocation, whose id starts like ours. */
	{ __LINE__, EVENT, ACTION("n04", "allocate", "job a70 class mpi: reuse compute@3f2a"),
	  PROGRESS_NONE, NULL, { 1, 0, 0, 0, 0, 1, 0, 0, 1 }, false, false },
	{ __LINE__, EVENT, PHASE("n03", "pxe"), PROGRESS_MOVED, NULL,
	  { 0, 0, 1, 0, 0, 1, 0, 0, 1 }, false, false },
	{ __LINE__, EVENT, PHASE("n03", "up"), PROGRESS_CHECK, NULL,
	  { 1, 0, 0, 0, 0, 1, 0, 0, 1 }, false, false },
	{ __LINE__, ONE, NODE("n03", "a7", "up", "", ID), PROGRESS_NEW_UP, NULL,
	  { 0, 0, 0, 0, 0, 2, 0, 0, 1 }, true, true },
};

/* The same from node lists alone (the events were lost): membership from "job". */
static const struct step lists_only[] = {
	{ __LINE__, LIST, "[" NODE("n01", "a7", "pxe", "booting", "") "," NODE("n02", "a7",
	  "pxe", "booting", "") "]", 0, "n01~ n02~", { 0, 0, 2 }, false, false },
	{ __LINE__, LIST, "[" NODE("n01", "a7", "up", "", ID) "," NODE("n02", "", "failed",
	  "failed", "") "," NODE("n05", "a7", "powering-on", "booting", OLD) "]", 0,
	  "n05+ n01^ n02- n05~", { 0, 1, 0, 0, 0, 1, 0, 0, 1 }, false, false },
	/* n05 up on the old image is not done; the removed n02 is already gone. */
	{ __LINE__, LIST, "[" NODE("n01", "a7", "up", "", ID) "," NODE("n05", "a7", "up",
	  "booting", OLD) "]", 0, "n05~", { 1, 0, 0, 0, 0, 1, 0, 0, 1 }, false, false },
	{ __LINE__, LIST, "[" NODE("n01", "a7", "up", "", ID) "," NODE("n05", "a7", "up", "",
	  ID) "]", 0, "n05^", { 0, 0, 0, 0, 0, 2, 0, 0, 1 }, true, true },
};

/* No replacement found: the job is short of a node, which allocate --wait reports. */
static const struct step lost[] = {
	{ __LINE__, LIST, "[" NODE("n01", "a7", "up", "", ID) "," NODE("n02", "", "failed",
	  "failed", "") "]", 0, "n01^ n02-", { 0, 0, 0, 0, 0, 1, 0, 0, 1 }, true, false },
	/* another job's loss (whose id starts like ours) is not ours */
	{ __LINE__, EVENT, ACTION("n02", "alloc-lost", "job a70: no replacement: no eligible node"),
	  PROGRESS_NONE, NULL, { 0, 0, 0, 0, 0, 1, 0, 0, 1 }, true, false },
	{ __LINE__, EVENT, ACTION("n02", "alloc-lost", "job a7: no replacement: no eligible node"),
	  PROGRESS_NEW_FAILED, NULL, { 0, 0, 0, 0, 0, 1, 1 }, true, false },
	/* A node object without "job" (an older bootsvc) keeps membership as it is. */
	{ __LINE__, ONE, "{\"name\":\"n01\",\"phase\":\"up\",\"op\":\"\"}", PROGRESS_NONE, NULL,
	  { 0, 0, 0, 0, 0, 1, 1 }, true, false },
};

static void
run(const struct step *steps, size_t n, const char *const *names, size_t nnames)
{
	struct progress p;

	assert_int_equal(progress_init(&p, names, nnames, ID), 0);
	assert_int_equal(progress_set_job(&p, "a7"), 0);
	for (size_t i = 0; i < n; i++) {
		const struct step *s = &steps[i];
		struct recorder rec = { "" };
		enum progress_change got = PROGRESS_NONE;
		json_t *o = NULL;

		if (s->kind == EVENT) {
			struct client_event e = { 0 };
			struct dl_err err = { 0 };

			_assert_int_equal(client_parse_event(s->in, strlen(s->in), &e, &err), 0,
			    __FILE__, s->line);
			got = progress_event(&p, &e, NULL);
			client_event_done(&e);
		} else {
			o = json_loads(s->in, JSON_REJECT_DUPLICATES, NULL);
			_assert_true(o != NULL, "input is JSON", __FILE__, s->line);
			if (s->kind == LIST)
				_assert_int_equal(progress_members(&p, o, record, &rec), 0,
				    __FILE__, s->line);
			else
				got = progress_node(&p, o, NULL);
			json_decref(o);
		}
		if (s->kind == LIST) {
			if (!streq(rec.buf, s->changes))
				print_error("%s:%d: changes '%s', want '%s'\n", __FILE__, s->line,
				    rec.buf, s->changes);
			_assert_true(streq(rec.buf, s->changes), "changes", __FILE__, s->line);
		} else {
			if (got != s->want)
				print_error("%s:%d: change %d, want %d\n", __FILE__, s->line, got,
				    s->want);
			_assert_int_equal(got, s->want, __FILE__, s->line);
		}
		check_progress(__FILE__, s->line, &p, s->counts, s->finished);
		_assert_int_equal(progress_job_complete(&p, 2), s->complete, __FILE__, s->line);
	}
	progress_done(&p);
}

static void
test_replaced(void **state)
{
	const char *const names[] = { "n02", "n01" };
	struct progress p;
	char line[256];

	(void)state;
	run(replaced, ELEMENTSOF(replaced), names, 2);
	run(lists_only, ELEMENTSOF(lists_only), names, 2);
	run(lost, ELEMENTSOF(lost), names, 2);

	/* The progress line counts the replaced; the array stays sorted as nodes join. */
	assert_int_equal(progress_init(&p, names, 2, ID), 0);
	assert_int_equal(progress_set_job(&p, "a7"), 0);
	{
		const char *ev[] = {
			ACTION("n00", "allocate", "job a7: reimage"),
			ACTION("n09", "allocate", "job a7"),
			ACTION("n01", "alloc-replace", "job a7: replaced by n09"),
		};

		for (size_t i = 0; i < ELEMENTSOF(ev); i++) {
			struct client_event e = { 0 };
			struct dl_err err = { 0 };

			assert_int_equal(client_parse_event(ev[i], strlen(ev[i]), &e, &err), 0);
			(void)progress_event(&p, &e, NULL);
			client_event_done(&e);
		}
	}
	assert_int_equal(p.n, 4);
	assert_string_equal(p.nodes[0].name, "n00");
	assert_string_equal(p.nodes[3].name, "n09");
	assert_non_null(progress_find(&p, "n09"));
	progress_format(&p, line, sizeof(line));
	assert_string_equal(line, "powering-on 0, pxe 0, loading 0, imaging 0, up 0, failed 0, "
	    "waiting 3, replaced 1");
	/* Not job mode: progress_members refuses. */
	assert_int_equal(progress_set_job(&p, ""), -EINVAL);
	progress_done(&p);
	assert_int_equal(progress_init(&p, names, 2, ID), 0);
	{
		json_t *a = json_array();

		assert_int_equal(progress_members(&p, a, NULL, NULL), -EINVAL);
		json_decref(a);
	}
	progress_done(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_replaced),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
