/* SPDX-License-Identifier: MIT */
/* nodectl provision --wait and allocate --wait: send the verb, subscribe to the events
 * since the seq it returned, and follow the nodes until each is up on the image or
 * failed, with a progress line redrawn on a terminal (one line per event elsewhere). An
 * "up" event does not say which image booted, so up, failed and done events are
 * confirmed with node.list (progress.c keeps the accounting). allocate follows the job's
 * membership, not a fixed set: the controller replaces a member that failed. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "cmd.h"
#include "cmd_events.h"
#include "hostlist.h"
#include "macro.h"
#include "progress.h"
#include "table.h"

/* How often the progress line is redrawn when nothing happens (its clock ticks). */
#define WAIT_TICK_MS 1000
/* How often every node still pending is looked at with node.list even without events:
 * a safety net, should an event be lost (a daemon restart between two lines). */
#define WAIT_RECHECK_MS (30 * 1000)
/* Events applied before the node.list that confirms them: a boot storm's burst is
 * handled in a few round trips, and the progress line still moves in between. */
#define MAX_EVENTS_PER_ROUND 1000
/* Above this many nodes to look at, node.list asks for every node instead of a
 * hostlist of them: a hostlist of scattered names could outgrow a request line. */
#define MAX_CHECK_NAMES 1000
/* Widest progress line when the terminal does not say. */
#define DEFAULT_TTY_WIDTH 80

struct wait {
	struct client *c;
	FILE *out;
	bool tty;               /* redraw one line; else one line per event */
	bool json;              /* nothing but the final JSON object */
	bool drawn;             /* the progress line is on the screen, no '\n' yet */
	size_t width;           /* terminal columns */
	int64_t start_ms;
	char label[240];        /* "n[01-16] -> compute@3f2a9c0d11e2" */
	char image[128];        /* "compute@3f2a9c0d11e2" */
	bool alloc;             /* allocate --wait: follow the job's membership */
	size_t want;            /* allocate: how many nodes the job asked for */
	struct progress p;
};

static int64_t
wait_now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts); /* cannot fail for CLOCK_MONOTONIC */
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "1:02:03" or "02:03". */
static void
wait_elapsed(const struct wait *w, char buf[static 32])
{
	int64_t s = (wait_now_ms() - w->start_ms) / 1000;

	if (s >= 3600)
		(void)snprintf(buf, 32, "%lld:%02lld:%02lld", (long long)(s / 3600),
		    (long long)(s / 60 % 60), (long long)(s % 60));
	else
		(void)snprintf(buf, 32, "%02lld:%02lld", (long long)(s / 60), (long long)(s % 60));
}

/* "4s", "2m13s", "1h05m" for the summary. */
static void
wait_took(const struct wait *w, char buf[static 32])
{
	int64_t s = (wait_now_ms() - w->start_ms) / 1000;

	if (s < 60)
		(void)snprintf(buf, 32, "%llds", (long long)s);
	else if (s < 3600)
		(void)snprintf(buf, 32, "%lldm%02llds", (long long)(s / 60), (long long)(s % 60));
	else
		(void)snprintf(buf, 32, "%lldh%02lldm", (long long)(s / 3600),
		    (long long)(s / 60 % 60));
}

/* Take the progress line off the screen before printing a line above it. */
static void
wait_undraw(struct wait *w)
{
	if (w->tty && w->drawn)
		(void)fputs("\r\033[K", w->out);
	w->drawn = false;
}

static void
wait_draw(struct wait *w)
{
	char counts[256], elapsed[32], line[576]; /* label, counts, elapsed and separators */
	_cleanup_free_ char *safe = NULL;

	if (!w->tty || w->json)
		return;
	progress_format(&w->p, counts, sizeof(counts));
	wait_elapsed(w, elapsed);
	/* Elapsed first: a narrow terminal cuts the end of the line, not the clock. */
	(void)snprintf(line, sizeof(line), "[%s] %s", elapsed, counts);
	safe = table_sanitize(line);
	/* A line wider than the terminal wraps, and "\r" then redraws only its tail. */
	if (safe && strlen(safe) >= w->width)
		safe[w->width > 1 ? w->width - 1 : 0] = '\0';
	(void)fprintf(w->out, "\r\033[K%s", safe ? safe : "");
	(void)fflush(w->out);
	w->drawn = true;
}

static void
wait_announce_failed(struct wait *w, const struct progress_node *pn)
{
	_cleanup_free_ char *reason = NULL;

	if (w->json)
		return;
	reason = table_sanitize(pn->reason);
	wait_undraw(w);
	(void)fprintf(w->out, "%s failed: %s\n", pn->name, reason ? reason : "?");
	(void)fflush(w->out);
}

/* Say what changed where people look: failures, and the job's membership. */
static void
wait_announce(struct wait *w, const struct progress_node *pn, enum progress_change ch)
{
	_cleanup_free_ char *reason = NULL;

	if (!pn)
		return;
	if (ch == PROGRESS_NEW_FAILED) {
		wait_announce_failed(w, pn);
		return;
	}
	if (w->json || (ch != PROGRESS_JOINED && ch != PROGRESS_LEFT))
		return;
	reason = table_sanitize(pn->reason);
	wait_undraw(w);
	if (ch == PROGRESS_JOINED)
		(void)fprintf(w->out, "%s joined job %s\n", pn->name, w->p.job);
	else
		(void)fprintf(w->out, "%s left job %s: %s\n", pn->name, w->p.job,
		    reason && reason[0] ? reason : "replaced");
	(void)fflush(w->out);
}

static void
wait_member_change(void *userdata, const struct progress_node *pn, enum progress_change ch)
{
	wait_announce(userdata, pn, ch);
}

/* node.list with args (NULL: every node). 0 with *ret filled (the caller releases it),
 * NODECTL_EXIT_DAEMON when bootsvc refused (said on stderr, below the progress line), or
 * -errno from client_call(). */
static int
wait_node_list(struct wait *w, const json_t *args, struct client_reply *ret,
    struct dl_err *reterr)
{
	int r = client_call(w->c, "node.list", args, ret, reterr);

	if (r < 0)
		return r;
	if (!ret->ok) {
		wait_undraw(w);
		(void)fprintf(stderr, "nodectl: node.list: %s\n", ret->message);
		client_reply_done(ret);
		return NODECTL_EXIT_DAEMON;
	}
	return 0;
}

/* allocate: node.list of every node, the job's members taken from their "job". */
static int
wait_check_members(struct wait *w, bool first, struct dl_err *reterr)
{
	struct client_reply reply = { 0 };
	const json_t *nodes, *node;
	size_t i;
	int r;

	r = wait_node_list(w, NULL, &reply, reterr);
	if (r != 0)
		return r;
	nodes = json_object_get(reply.result, "nodes");
	r = progress_members(&w->p, nodes, wait_member_change, w);
	if (r == -EINVAL)
		r = dl_err_set(reterr, -EPROTO, "bootsvc's node.list result has no 'nodes'");
	else if (r < 0)
		r = dl_err_set(reterr, r, "out of memory");
	if (!first || r < 0) {
		client_reply_done(&reply);
		return r;
	}
	json_array_foreach(nodes, i, node) {
		const char *name = json_string_value(json_object_get(node, "name"));
		const char *job = json_string_value(json_object_get(node, "job"));

		if (name && job && streq(job, w->p.job) &&
		    json_is_true(json_object_get(node, "hold"))) {
			wait_undraw(w);
			(void)fprintf(stderr, "nodectl: warning: %s is held, nothing happens to it "
			    "until 'nodectl release %s'\n", name, name);
		}
	}
	client_reply_done(&reply);
	return r;
}

/* node.list for the nodes marked for a check (all pending ones when all is set), and
 * apply what it says. Returns 0, an exit code > 0 (bootsvc refused), or -errno. */
static int
wait_check(struct wait *w, bool all, bool first, struct dl_err *reterr)
{
	_cleanup_(json_decrefp) json_t *args = NULL;
	_cleanup_free_ char **names = NULL;
	_cleanup_free_ char *list = NULL;
	struct client_reply reply = { 0 };
	const json_t *nodes, *node;
	size_t n = 0, i;
	int r;

	/* allocate: the full list finds members the event stream did not announce. */
	if (w->alloc && all)
		return wait_check_members(w, first, reterr);
	names = calloc(w->p.n, sizeof(*names));
	if (!names)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	for (i = 0; i < w->p.n; i++) {
		const struct progress_node *pn = &w->p.nodes[i];

		if (pn->check || (all && !progress_node_is_done(pn)))
			names[n++] = (char *)pn->name;
	}
	if (n == 0)
		return 0;
	args = json_object();
	if (!args)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	if (n <= MAX_CHECK_NAMES) {
		list = hostlist_compress(names, n);
		if (!list || json_object_set_new(args, "names", json_string(list)) < 0)
			return dl_err_set(reterr, -ENOMEM, "out of memory");
	}
	r = wait_node_list(w, args, &reply, reterr);
	if (r != 0)
		return r;
	nodes = json_object_get(reply.result, "nodes");
	if (!json_is_array(nodes)) {
		client_reply_done(&reply);
		return dl_err_set(reterr, -EPROTO, "bootsvc's node.list result has no 'nodes'");
	}
	json_array_foreach(nodes, i, node) {
		struct progress_node *pn = NULL;
		/* progress_node() sets pn: call it before pn is read (as one call's two
		 * arguments their order was unspecified, and clang read pn first) */
		enum progress_change ch = progress_node(&w->p, node, &pn);

		wait_announce(w, pn, ch);
		/* The controller leaves a held node alone: say so, rather than let the
		 * admin wait for the timeout to find out. */
		if (first && pn && json_is_true(json_object_get(node, "hold"))) {
			wait_undraw(w);
			(void)fprintf(stderr, "nodectl: warning: %s is held, nothing happens to it "
			    "until 'nodectl release %s'\n", pn->name, pn->name);
		}
	}
	client_reply_done(&reply);
	/* A node bootsvc did not list (removed meanwhile) is not looked at again and again. */
	for (i = 0; i < w->p.n; i++)
		if (w->p.nodes[i].check) {
			w->p.nodes[i].check = false;
			w->p.nchecks--;
		}
	return 0;
}

static void
wait_event(struct wait *w, const struct client_event *ev)
{
	struct progress_node *pn;
	enum progress_change ch = progress_event(&w->p, ev, &pn);

	if (ch == PROGRESS_JOINED || ch == PROGRESS_LEFT || ch == PROGRESS_NEW_FAILED)
		wait_announce(w, pn, ch);
	if (!pn || w->tty || w->json)
		return;
	(void)cmd_events_print_line(w->out, ev, false);
	(void)fflush(w->out);
}

/* NAME PHASE REASON of the nodes in bucket b (or, with pending, of those not done). */
static int
wait_print_nodes(struct wait *w, bool pending, enum progress_bucket b)
{
	static const char *const headers[] = { "NAME", "PHASE", "REASON" };
	struct table *t = table_new(headers, ELEMENTSOF(headers));
	int r = 0;

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < w->p.n && r == 0; i++) {
		const struct progress_node *pn = &w->p.nodes[i];
		const char *cells[] = { pn->name, pn->phase, pn->reason };

		if (pending ? !progress_node_is_done(pn) :
		    pn->bucket == b)
			r = table_add_row(t, cells);
	}
	if (r == 0)
		r = table_print(t, w->out);
	table_free(t);
	return r;
}

static json_t *
wait_json_names(const struct wait *w, bool pending, enum progress_bucket b, bool detail)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < w->p.n; i++) {
		const struct progress_node *pn = &w->p.nodes[i];
		json_t *v;

		if (pending ? progress_node_is_done(pn) :
		    pn->bucket != b)
			continue;
		v = detail ? json_pack("{s:s,s:s,s:s}", "name", pn->name, "phase", pn->phase,
		    "reason", pn->reason) : json_string(pn->name);
		if (!v || json_array_append_new(a, v) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* The up nodes as a hostlist, for allocate's last line. NULL on ENOMEM. */
static char *
wait_up_hostlist(const struct wait *w)
{
	_cleanup_free_ char **names = calloc(w->p.n ? w->p.n : 1, sizeof(char *));
	size_t n = 0;

	if (!names)
		return NULL;
	for (size_t i = 0; i < w->p.n; i++)
		if (w->p.nodes[i].bucket == PROGRESS_UP)
			names[n++] = (char *)w->p.nodes[i].name;
	return n ? hostlist_compress(names, n) : strdup("");
}

/* The final word: summary and tables, or one JSON object. Returns the exit code. */
static int
wait_finish(struct wait *w, int code)
{
	static const char *const outcome[] = { [NODECTL_EXIT_OK] = "up",
		[NODECTL_EXIT_DAEMON] = "failed", [NODECTL_EXIT_TIMEOUT] = "timeout" };
	size_t up = w->p.count[PROGRESS_UP], failed = w->p.count[PROGRESS_FAILED];
	size_t replaced = w->p.count[PROGRESS_REPLACED], members = w->p.n - replaced;
	_cleanup_free_ char *uplist = NULL;
	char elapsed[32];
	int r = 0;

	wait_took(w, elapsed);
	if (w->alloc) {
		uplist = wait_up_hostlist(w);
		if (!uplist) {
			(void)fprintf(stderr, "nodectl: out of memory\n");
			return NODECTL_EXIT_DAEMON;
		}
	}
	if (w->json) {
		json_t *o = json_pack("{s:s,s:s,s:o,s:o,s:o}", "result",
		    code < (int)ELEMENTSOF(outcome) && outcome[code] ? outcome[code] : "?",
		    "image", w->image,
		    "up", wait_json_names(w, false, PROGRESS_UP, false),
		    "failed", wait_json_names(w, false, PROGRESS_FAILED, true),
		    "pending", wait_json_names(w, true, 0, true));

		if (o && w->alloc && (json_object_set_new(o, "job", json_string(w->p.job)) < 0 ||
		    json_object_set_new(o, "nodes", json_string(uplist)) < 0 ||
		    json_object_set_new(o, "replaced",
		    wait_json_names(w, false, PROGRESS_REPLACED, true)) < 0)) {
			json_decref(o);
			o = NULL;
		}
		r = o && json_dumpf(o, w->out, JSON_INDENT(2)) == 0 ? 0 : -EIO;
		(void)fputc('\n', w->out);
		json_decref(o);
	} else {
		wait_draw(w);
		if (w->drawn)
			(void)fputc('\n', w->out);
		w->drawn = false;
		if (code == NODECTL_EXIT_OK && w->alloc)
			(void)fprintf(w->out, "all %zu node%s of job %s up on %s after %s\n", up,
			    up == 1 ? "" : "s", w->p.job, w->image, elapsed);
		else if (code == NODECTL_EXIT_OK)
			(void)fprintf(w->out, "all %zu node%s up on %s after %s\n", up,
			    up == 1 ? "" : "s", w->image, elapsed);
		else if (code == NODECTL_EXIT_TIMEOUT)
			(void)fprintf(w->out, "timed out after %s: %zu of %zu nodes not done\n",
			    elapsed, members - up - failed, members);
		else if (w->alloc)
			(void)fprintf(w->out, "job %s could not be completed: %zu of %zu nodes up "
			    "on %s, %zu failed without a replacement\n", w->p.job, up, w->want,
			    w->image, failed);
		else
			(void)fprintf(w->out, "%zu of %zu node%s failed, %zu up on %s\n", failed,
			    w->p.n, w->p.n == 1 ? "" : "s", up, w->image);
		if (failed) {
			if (code == NODECTL_EXIT_TIMEOUT || w->alloc)
				(void)fputs("failed:\n", w->out);
			r = wait_print_nodes(w, false, PROGRESS_FAILED);
		}
		if (r == 0 && replaced) {
			(void)fputs("replaced:\n", w->out);
			r = wait_print_nodes(w, false, PROGRESS_REPLACED);
		}
		if (r == 0 && code == NODECTL_EXIT_TIMEOUT) {
			(void)fputs("not done:\n", w->out);
			r = wait_print_nodes(w, true, 0);
		}
		/* Scripts read the job's nodes from the last line. */
		if (r == 0 && w->alloc && code == NODECTL_EXIT_OK)
			(void)fprintf(w->out, "%s\n", uplist);
	}
	if (r < 0 || fflush(w->out) != 0 || ferror(w->out)) {
		(void)fprintf(stderr, "nodectl: cannot write the output\n");
		return NODECTL_EXIT_DAEMON;
	}
	return code;
}

/* Send provision or allocate and set up the accounting from its result. */
static int
wait_provision(struct wait *w, const char *verb, const json_t *args, struct dl_err *reterr)
{
	struct client_reply reply = { 0 };
	const json_t *nodes, *v;
	json_t *sub = NULL;
	const char *image, *id;
	_cleanup_free_ const char **names = NULL;
	_cleanup_free_ char *list = NULL, *safe = NULL;
	size_t n, i;
	int r;

	r = client_call(w->c, verb, args, &reply, reterr);
	if (r < 0)
		return r;
	if (!reply.ok) {
		(void)fprintf(stderr, "nodectl: %s\n", reply.message);
		client_reply_done(&reply);
		return NODECTL_EXIT_DAEMON;
	}
	nodes = json_object_get(reply.result, "nodes");
	image = json_string_value(json_object_get(reply.result, "image"));
	id = json_string_value(json_object_get(reply.result, "image_id"));
	v = json_object_get(reply.result, "seq");
	n = json_array_size(nodes);
	if (!json_is_array(nodes) || n == 0 || !image || !id || !json_is_integer(v) ||
	    strspn(id, "0123456789abcdef") != strlen(id)) {
		client_reply_done(&reply);
		return dl_err_set(reterr, -EPROTO,
		    "bootsvc's %s result lacks nodes, image, image_id or seq", verb);
	}
	r = 0;
	names = calloc(n, sizeof(*names));
	if (!names)
		r = dl_err_set(reterr, -ENOMEM, "out of memory");
	for (i = 0; r == 0 && i < n; i++) {
		names[i] = json_string_value(json_array_get(nodes, i));
		if (!names[i])
			r = dl_err_set(reterr, -EPROTO, "bootsvc's %s result has a "
			    "non-string node", verb);
	}
	if (r == 0) {
		r = progress_init(&w->p, names, n, id);
		if (r < 0)
			r = dl_err_set(reterr, r == -ENOMEM ? r : -EPROTO,
			    r == -ENOMEM ? "out of memory" : "bootsvc's provision result has an "
			    "overlong node name or image id");
	}
	if (r == 0 && w->alloc) {
		const char *job = json_string_value(json_object_get(reply.result, "job"));

		if (!job || progress_set_job(&w->p, job) < 0)
			r = dl_err_set(reterr, -EPROTO, "bootsvc's allocate result lacks a job id");
		w->want = w->p.n;
	}
	if (r == 0) {
		list = hostlist_compress((char *const *)names, n);
		safe = table_sanitize(image);
		if (!list || !safe)
			r = dl_err_set(reterr, -ENOMEM, "out of memory");
	}
	if (r == 0) {
		(void)snprintf(w->image, sizeof(w->image), "%.64s@%.12s", safe, id);
		(void)snprintf(w->label, sizeof(w->label), "%.100s -> %s", list, w->image);
		if (!w->json && w->alloc)
			r = cmd_allocate_print(w->out, reply.result, 0, reterr);
		else if (!w->json)
			(void)fprintf(w->out, "provisioning %zu node%s: %s\n", w->p.n,
			    w->p.n == 1 ? "" : "s", w->label);
		/* Subscribe from the seq provision saw last: no transition is missed. */
		if (r == 0)
			sub = json_pack("{s:O}", "since", v);
	}
	client_reply_done(&reply);
	if (r < 0)
		return r;
	if (!sub)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	r = cmd_events_subscribe(w->c, "events", sub, "events", reterr);
	json_decref(sub);
	if (r != 0)
		return r;
	if (!w->json && !w->tty)
		(void)cmd_events_print_header(w->out);
	return 0;
}

static int
wait_run(struct client *c, const char *verb, const json_t *args, const struct cmd_opts *opts,
    FILE *out, bool alloc, struct dl_err *reterr)
{
	struct wait w = { .c = c, .out = out, .json = opts->json, .width = DEFAULT_TTY_WIDTH,
		.alloc = alloc };
	struct winsize ws;
	int64_t deadline, next_recheck;
	int r;

	w.tty = isatty(fileno(out)) == 1;
	if (w.tty && ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		w.width = ws.ws_col;
	w.start_ms = wait_now_ms();
	deadline = w.start_ms + (int64_t)opts->timeout_ms;

	r = wait_provision(&w, verb, args, reterr);
	if (r != 0)
		goto out;
	/* Where the nodes stand now: some may already be up on the image (nothing to do,
	 * no event will come), others' phases show at once. */
	r = wait_check(&w, true, true, reterr);
	next_recheck = wait_now_ms() + WAIT_RECHECK_MS;
	while (r == 0 && !progress_finished(&w.p)) {
		struct client_event ev = { 0 };
		int64_t now = wait_now_ms();

		wait_draw(&w);
		if (now >= deadline) {
			r = wait_finish(&w, NODECTL_EXIT_TIMEOUT);
			goto out;
		}
		r = client_next_event(c, deadline - now < WAIT_TICK_MS ? (int)(deadline - now) :
		    WAIT_TICK_MS, &ev, reterr);
		/* Apply the burst, then confirm with one node.list. */
		for (int i = 0; r == 0; i++) {
			wait_event(&w, &ev);
			client_event_done(&ev);
			if (i + 1 >= MAX_EVENTS_PER_ROUND)
				break;
			r = client_next_event(c, 0, &ev, reterr);
		}
		if (r == -ETIMEDOUT)
			r = 0;
		if (r == 0 && w.p.nchecks > 0)
			r = wait_check(&w, false, false, reterr);
		if (r == 0 && wait_now_ms() >= next_recheck) {
			r = wait_check(&w, true, false, reterr);
			next_recheck = wait_now_ms() + WAIT_RECHECK_MS;
		}
	}
	if (r == 0 && alloc)
		r = wait_finish(&w, progress_job_complete(&w.p, w.want) ? NODECTL_EXIT_OK :
		    NODECTL_EXIT_DAEMON);
	else if (r == 0)
		r = wait_finish(&w, w.p.count[PROGRESS_FAILED] ? NODECTL_EXIT_DAEMON :
		    NODECTL_EXIT_OK);
out:
	if (r == -EINTR) {
		wait_undraw(&w);
		(void)fflush(out);
		(void)fprintf(stderr, "nodectl: stopped waiting; bootsvc goes on provisioning "
		    "('nodectl node list' shows where the nodes are)\n");
		if (alloc && w.p.job[0])
			(void)fprintf(stderr, "nodectl: job %s keeps its nodes until 'nodectl "
			    "release --job %s'\n", w.p.job, w.p.job);
		r = NODECTL_EXIT_INTERRUPTED;
	} else if (r < 0) {
		wait_undraw(&w);
		(void)fflush(out);
	}
	progress_done(&w.p);
	return r;
}

int
cmd_provision_follow(struct client *c, const char *verb, const json_t *args,
    const struct cmd_opts *opts, FILE *out, struct dl_err *reterr)
{
	return wait_run(c, verb, args, opts, out, false, reterr);
}

int
cmd_allocate_follow(struct client *c, const char *verb, const json_t *args,
    const struct cmd_opts *opts, FILE *out, struct dl_err *reterr)
{
	return wait_run(c, verb, args, opts, out, true, reterr);
}
