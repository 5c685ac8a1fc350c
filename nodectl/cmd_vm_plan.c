/* SPDX-License-Identifier: MIT */
/* nodectl's VM-layer commands (issue 13, docs/vm.md "Plans"): host drain, vm migrate,
 * vm plan (a dry run), vm balance, vm plans, vm cancel; argv -> verb args, results ->
 * text. --wait follows the plan the command made until it ends, printing each step's
 * progress as it changes (vm.plans every second: a plan lives minutes, not
 * milliseconds). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "cmd.h"
#include "cmd_args.h"
#include "format.h"
#include "macro.h"
#include "parse.h"
#include "table.h"

/* How often --wait reads the plan. */
#define PLAN_WAIT_POLL_MS 1000
/* --wait's default limit: an evacuation of a few dozen VMs with retries fits. */
#define PLAN_WAIT_DEFAULT_MS (60 * 60 * 1000)
/* Steps whose state --wait remembers to print changes only (a plan has at most
 * vm_plan_max_steps, 4096 at most). */
#define PLAN_WAIT_MAX_STEPS 4096

enum {
	OPT_TO = CMD_ARGS_OPT_FIRST,
	OPT_WAIT,
	OPT_TIMEOUT,
	OPT_UNDO,
	OPT_REASON,
	OPT_STRATEGY,
	OPT_APPLY,
	OPT_HOST,
	OPT_ALL,
};

struct plan_args {
	const char *to, *timeout, *reason, *strategy, *host;
	bool wait, undo, apply, all;
};

static int
handle(int opt, const char *name, const char *value, void *userdata, struct dl_err *reterr)
{
	struct plan_args *a = userdata;

	switch (opt) {
	case OPT_TO:
		return cmd_args_once(&a->to, name, value, reterr);
	case OPT_TIMEOUT:
		return cmd_args_once(&a->timeout, name, value, reterr);
	case OPT_REASON:
		return cmd_args_once(&a->reason, name, value, reterr);
	case OPT_STRATEGY:
		return cmd_args_once(&a->strategy, name, value, reterr);
	case OPT_HOST:
		return cmd_args_once(&a->host, name, value, reterr);
	case OPT_WAIT:
		a->wait = true;
		return 0;
	case OPT_UNDO:
		a->undo = true;
		return 0;
	case OPT_APPLY:
		a->apply = true;
		return 0;
	case OPT_ALL:
		a->all = true;
		return 0;
	default:
		return dl_err_set(reterr, -EINVAL, "option --%s is not valid here", name);
	}
}

static int
node_name(const char *cmd, const char *what, const char *s, struct dl_err *reterr)
{
	char q[QUOTE_BUF_SIZE];

	if (hostname_is_valid(s))
		return 0;
	return dl_err_set(reterr, -EINVAL, "%s: %s '%s' is not a node name", cmd, what,
	    parse_quote(q, s, strlen(s)));
}

static int
wait_opts(const char *cmd, const struct plan_args *a, struct cmd_opts *opts,
    struct dl_err *reterr)
{
	uint64_t ms = PLAN_WAIT_DEFAULT_MS;

	if (a->timeout && !a->wait)
		return dl_err_set(reterr, -EINVAL, "%s: option --timeout needs --wait", cmd);
	if (a->timeout && (parse_duration_ms(a->timeout, &ms, reterr) < 0 || ms == 0))
		return dl_err_set(reterr, -EINVAL, "%s: option --timeout: '%.32s' is not a "
		    "duration", cmd, a->timeout);
	opts->follow = a->wait;
	opts->timeout_ms = ms;
	return 0;
}

static int
strategy_ok(const char *cmd, const char *s, struct dl_err *reterr)
{
	if (s && (streq(s, "evacuate") || streq(s, "thermal") || streq(s, "consolidate")))
		return 0;
	return dl_err_set(reterr, -EINVAL, "%s: option --strategy must be evacuate, thermal or "
	    "consolidate", cmd);
}

/* getopt over argv with the command's own options into *a; *ret_args NULL. 1 for --help
 * (nothing more to do), 0, or -EINVAL naming the option. */
static int
plan_getopt(int argc, char **argv, const char *cmd, const struct option *longopts,
    struct plan_args *a, struct cmd_opts *opts, const char **operands, int min, int max,
    const char *what, int *ret_n, json_t **ret_args, struct dl_err *reterr)
{
	int r;

	*ret_args = NULL;
	r = cmd_args_getopt(argc, argv, cmd, longopts, handle, a, opts, operands, min, max,
	    what, ret_n, reterr);
	return r < 0 ? r : opts->help ? 1 : 0;
}

#define PLAN_OPTIONS(...)                                                       \
	static const struct option longopts[] = { __VA_ARGS__,                  \
		CMD_ARGS_COMMON_OPTIONS, { NULL, 0, NULL, 0 } }

int
cmd_host_drain_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr)
{
	PLAN_OPTIONS({ "undo", no_argument, NULL, OPT_UNDO },
	    { "reason", required_argument, NULL, OPT_REASON },
	    { "wait", no_argument, NULL, OPT_WAIT },
	    { "timeout", required_argument, NULL, OPT_TIMEOUT });
	static const char cmd[] = "host drain";
	_cleanup_(json_decrefp) json_t *args = NULL;
	struct plan_args a = { 0 };
	const char *operands[1];
	int r, n;

	if ((r = plan_getopt(argc, argv, cmd, longopts, &a, opts, operands, 1, 1,
	    "<host>", &n, ret_args, reterr)) != 0)
		return r < 0 ? r : 0;
	if ((r = node_name(cmd, "host", operands[0], reterr)) < 0 ||
	    (r = wait_opts(cmd, &a, opts, reterr)) < 0)
		return r;
	if (a.undo && a.wait)
		return dl_err_set(reterr, -EINVAL, "%s: --undo moves nothing to --wait for", cmd);
	if (!(args = json_pack("{s:s,s:b}", "host", operands[0], "undo", a.undo)))
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	if (a.reason && (r = cmd_args_set_str(args, "reason", "host drain: option --reason",
	    a.reason, reterr)) < 0)
		return r;
	*ret_args = TAKE_PTR(args);
	return 0;
}

int
cmd_vm_migrate_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr)
{
	PLAN_OPTIONS({ "to", required_argument, NULL, OPT_TO },
	    { "wait", no_argument, NULL, OPT_WAIT },
	    { "timeout", required_argument, NULL, OPT_TIMEOUT });
	static const char cmd[] = "vm migrate";
	_cleanup_(json_decrefp) json_t *args = NULL;
	struct plan_args a = { 0 };
	const char *operands[1];
	int r, n;

	if ((r = plan_getopt(argc, argv, cmd, longopts, &a, opts, operands, 1, 1,
	    "<vm> (a name or UUID)", &n, ret_args, reterr)) != 0)
		return r < 0 ? r : 0;
	if ((a.to && (r = node_name(cmd, "option --to", a.to, reterr)) < 0) ||
	    (r = wait_opts(cmd, &a, opts, reterr)) < 0)
		return r;
	if (!(args = json_object()) ||
	    (r = cmd_args_set_str(args, "vm", "vm migrate: <vm>", operands[0], reterr)) < 0 ||
	    (a.to && (r = cmd_args_set_str(args, "to", "vm migrate: option --to", a.to,
	    reterr)) < 0))
		return args ? r : dl_err_set(reterr, -ENOMEM, "out of memory");
	*ret_args = TAKE_PTR(args);
	return 0;
}

int
cmd_vm_plan_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr)
{
	PLAN_OPTIONS({ "strategy", required_argument, NULL, OPT_STRATEGY },
	    { "host", required_argument, NULL, OPT_HOST });
	static const char cmd[] = "vm plan";
	struct plan_args a = { 0 };
	const char *operands[1];
	int r, n;

	if ((r = plan_getopt(argc, argv, cmd, longopts, &a, opts, operands, 0, 0,
	    "nothing", &n, ret_args, reterr)) != 0)
		return r < 0 ? r : 0;
	if ((r = strategy_ok(cmd, a.strategy, reterr)) < 0 ||
	    (a.host && (r = node_name(cmd, "option --host", a.host, reterr)) < 0))
		return r;
	*ret_args = a.host ? json_pack("{s:s,s:s}", "strategy", a.strategy, "host", a.host) :
	    json_pack("{s:s}", "strategy", a.strategy);
	return *ret_args ? 0 : dl_err_set(reterr, -ENOMEM, "out of memory");
}

int
cmd_vm_balance_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr)
{
	PLAN_OPTIONS({ "strategy", required_argument, NULL, OPT_STRATEGY },
	    { "apply", no_argument, NULL, OPT_APPLY },
	    { "wait", no_argument, NULL, OPT_WAIT },
	    { "timeout", required_argument, NULL, OPT_TIMEOUT });
	static const char cmd[] = "vm balance";
	struct plan_args a = { 0 };
	const char *operands[1];
	int r, n;

	if ((r = plan_getopt(argc, argv, cmd, longopts, &a, opts, operands, 0, 0,
	    "nothing", &n, ret_args, reterr)) != 0)
		return r < 0 ? r : 0;
	if (!a.strategy)
		a.strategy = "consolidate";
	if ((r = strategy_ok(cmd, a.strategy, reterr)) < 0 ||
	    (r = wait_opts(cmd, &a, opts, reterr)) < 0)
		return r;
	/* Without --apply it is the dry run: what vm plan shows. */
	if (!a.apply && a.wait)
		return dl_err_set(reterr, -EINVAL, "%s: --wait needs --apply (a dry run moves "
		    "nothing)", cmd);
	*ret_args = json_pack("{s:s,s:b}", "strategy", a.strategy, "apply", a.apply);
	return *ret_args ? 0 : dl_err_set(reterr, -ENOMEM, "out of memory");
}

int
cmd_vm_plans_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr)
{
	PLAN_OPTIONS({ "all", no_argument, NULL, OPT_ALL });
	static const char cmd[] = "vm plans";
	struct plan_args a = { 0 };
	const char *operands[1];
	uint64_t id = 0;
	int r, n;

	if ((r = plan_getopt(argc, argv, cmd, longopts, &a, opts, operands, 0, 1,
	    "[<plan id>]", &n, ret_args, reterr)) != 0)
		return r < 0 ? r : 0;
	if (n && parse_u64(operands[0], 1, INT64_MAX, &id, reterr) < 0)
		return dl_err_set(reterr, -EINVAL, "%s: '%.32s' is not a plan's number", cmd,
		    operands[0]);
	*ret_args = n ? json_pack("{s:I}", "id", (json_int_t)id) :
	    json_pack("{s:b}", "all", a.all);
	return *ret_args ? 0 : dl_err_set(reterr, -ENOMEM, "out of memory");
}

int
cmd_vm_cancel_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr)
{
	static const char cmd[] = "vm cancel";
	const char *operands[1];
	uint64_t id;
	int r, n;

	*ret_args = NULL;
	r = cmd_args_getopt(argc, argv, cmd, cmd_args_common_only, handle, NULL, opts,
	    operands, 1, 1, "<plan id>", &n, reterr);
	if (r < 0 || opts->help)
		return r;
	if (parse_u64(operands[0], 1, INT64_MAX, &id, reterr) < 0)
		return dl_err_set(reterr, -EINVAL, "%s: '%.32s' is not a plan's number", cmd,
		    operands[0]);
	*ret_args = json_pack("{s:I}", "id", (json_int_t)id);
	return *ret_args ? 0 : dl_err_set(reterr, -ENOMEM, "out of memory");
}

/* ---- printing ---- */

static const char *
str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static long long
num(const json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

/* A plan as vm.plan, vm.balance, vm.migrate and host.drain answer it. */
int
cmd_vm_plan_print(FILE *out, const json_t *result, _unused_ time_t now, struct dl_err *reterr)
{
	static const char *const headers[] = { "ACTION", "VM", "FROM", "TO", "REASON" };
	const json_t *p = json_object_get(result, "plan"), *steps, *eff, *st;
	struct table *t;
	size_t i;
	int r = 0;

	if (!p) { /* host drain --undo */
		(void)fprintf(out, "%s: drain %s\n", str(result, "host"),
		    json_is_true(json_object_get(result, "drain")) ? "on" : "off");
		return 0;
	}
	steps = json_object_get(p, "steps");
	eff = json_object_get(p, "efficacy");
	if (!json_is_object(p) || !json_is_array(steps) || !json_is_object(eff))
		return dl_err_set(reterr, -EPROTO, "bootsvc's plan lacks its steps or efficacy");
	if (num(p, "id"))
		(void)fprintf(out, "plan %lld (%s): ", num(p, "id"), str(p, "strategy"));
	else
		(void)fprintf(out, "plan (%s, dry run): ", str(p, "strategy"));
	(void)fprintf(out, "%lld migrations, %lld MiB, %lld hosts freed, %lld unplaced",
	    num(eff, "migrations"), num(eff, "mib_moved"), num(eff, "hosts_freed"),
	    num(eff, "unplaced"));
	if (json_is_number(json_object_get(eff, "peak_c_before")) &&
	    json_is_number(json_object_get(eff, "peak_c_after")))
		(void)fprintf(out, ", peak %.0f C -> %.0f C",
		    json_number_value(json_object_get(eff, "peak_c_before")),
		    json_number_value(json_object_get(eff, "peak_c_after")));
	(void)fputc('\n', out);
	if (json_array_size(steps) == 0)
		return 0;
	if (!(t = table_new(headers, ELEMENTSOF(headers))))
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	json_array_foreach(steps, i, st) {
		const char *cells[ELEMENTSOF(headers)] = { str(st, "action"), str(st, "vm"),
			str(st, "from"), str(st, "to"), str(st, "reason") };

		if ((r = table_add_row_err(t, cells, reterr)) < 0)
			break;
	}
	return table_finish(t, r, out, reterr);
}

int
cmd_vm_plans_print(FILE *out, const json_t *result, _unused_ time_t now, struct dl_err *reterr)
{
	static const char *const headers[] = { "PLAN", "STRATEGY", "ORIGIN", "STATE", "STEP",
		"VM", "SRC", "DST", "STEP_STATE", "PROGRESS", "REASON" };
	const json_t *plans = json_object_get(result, "plans"), *p, *st;
	struct table *t;
	size_t i, k;
	int r = 0;

	if (!json_is_array(plans))
		return dl_err_set(reterr, -EPROTO, "bootsvc's result has no 'plans' list");
	if (!(t = table_new(headers, ELEMENTSOF(headers))))
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	json_array_foreach(plans, i, p) {
		char id[24];

		(void)snprintf(id, sizeof(id), "%lld", num(p, "id"));
		json_array_foreach(json_object_get(p, "steps"), k, st) {
			char seq[16], prog[48];
			long long total = num(st, "data_total"), done = num(st, "data_processed");

			(void)snprintf(seq, sizeof(seq), "%lld", num(st, "seq"));
			prog[0] = '\0';
			if (total > 0)
				(void)snprintf(prog, sizeof(prog), "%lld%%%s", done * 100 / total,
				    json_is_true(json_object_get(st, "postcopy")) ? " postcopy" :
				    "");
			else if (json_is_true(json_object_get(st, "postcopy")))
				(void)snprintf(prog, sizeof(prog), "postcopy");
			const char *cells[ELEMENTSOF(headers)] = { id, str(p, "strategy"),
				str(p, "origin"), str(p, "state"), seq, str(st, "vm"),
				str(st, "src"), str(st, "dst"), str(st, "state"), prog,
				str(st, "reason") };
			if ((r = table_add_row_err(t, cells, reterr)) < 0)
				goto out;
		}
	}
out:
	return table_finish(t, r, out, reterr);
}

int
cmd_vm_cancel_print(FILE *out, const json_t *result, _unused_ time_t now,
    _unused_ struct dl_err *reterr)
{
	(void)fprintf(out, "plan %lld: cancelling\n", num(result, "cancelled"));
	return 0;
}

/* ---- --wait ---- */

struct seen_step {
	char state[16];
	int pct;
	bool postcopy;
};

/* Sleep ms, or until SIGINT wakes the client: -EINTR. */
static int
nap(struct client *c, int ms)
{
	struct pollfd p = { .fd = c->wake_fd, .events = POLLIN };

	if (c->wake_fd < 0) {
		(void)usleep((useconds_t)ms * 1000);
		return 0;
	}
	return poll(&p, 1, ms) > 0 ? -EINTR : 0;
}

/* The VM host named host in a host.list result, or NULL. */
static const json_t *
host_of(const json_t *result, const char *host)
{
	const json_t *h;
	size_t i;

	json_array_foreach(json_object_get(result, "hosts"), i, h)
		if (streq(str(h, "node"), host))
			return h;
	return NULL;
}

/* host drain --wait, once its plan is done (since_ms: when it ended, or when the drain
 * was answered without one): a plan done is not yet the host empty. A VM may reach the
 * host after the plan was made (a migration bootsvc had not listed yet, an admin's
 * virsh), and bootsvc moves it off again (docs/vm.md "Policy"). So the host is empty
 * only in a listing asked for after since_ms (last_seen, in seconds, past it) with no
 * active VM. */
static int
wait_host_empty(struct client *c, const char *host, int64_t since_ms, int64_t deadline,
    FILE *out, struct dl_err *reterr)
{
	struct client_reply rep = { 0 };
	bool said = false, said_state = false;
	struct timespec ts;
	int r;

	for (;;) {
		const json_t *h;
		long long active = -1;
		bool fresh = false;
		char state[64] = "";

		if ((r = client_call(c, "host.list", NULL, &rep, reterr)) < 0)
			return r;
		if (!rep.ok) {
			(void)fprintf(stderr, "nodectl: %s\n", rep.message);
			client_reply_done(&rep);
			return NODECTL_EXIT_DAEMON;
		}
		if ((h = host_of(rep.result, host))) {
			fresh = num(h, "last_seen") * 1000 > since_ms;
			active = num(h, "vms_active");
			if (!streq(str(h, "state"), "connected"))
				(void)snprintf(state, sizeof(state), "%s", str(h, "state"));
		}
		client_reply_done(&rep);
		if (!h) {
			(void)fprintf(out, "host %s: no longer a VM host\n", host);
			return NODECTL_EXIT_DAEMON;
		}
		if (fresh && active == 0) {
			(void)fprintf(out, "host %s: empty\n", host);
			return NODECTL_EXIT_OK;
		}
		/* no listing comes from a host bootsvc cannot reach: say why nothing moves */
		if (state[0] && !said_state) {
			(void)fprintf(out, "host %s: %s, waiting for bootsvc to list it again\n",
			    host, state);
			said_state = true;
		}
		if (fresh && !said) {
			(void)fprintf(out, "host %s: %lld VMs listed after the plan, bootsvc moves "
			    "them off (nodectl vm plans)\n", host, active);
			said = true;
		}
		(void)fflush(out);
		(void)clock_gettime(CLOCK_MONOTONIC, &ts);
		if ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 >= deadline) {
			(void)fprintf(out, "host %s: --timeout passed before it was seen empty, "
			    "bootsvc goes on\n", host);
			return NODECTL_EXIT_TIMEOUT;
		}
		if (nap(c, PLAN_WAIT_POLL_MS) == -EINTR)
			return NODECTL_EXIT_INTERRUPTED;
	}
}

/* What host drain --wait does once the drain's plan is done, or when it had none: VMs
 * that fit nowhere stay (exit 1 at once), else wait for the host seen empty. */
static int
drain_done(struct client *c, const char *host, long long unplaced, int64_t since_ms,
    int64_t deadline, FILE *out, struct dl_err *reterr)
{
	if (unplaced) {
		(void)fprintf(out, "host %s: %lld VMs fit nowhere and stay (nodectl vm list "
		    "--host %s)\n", host, unplaced, host);
		return NODECTL_EXIT_DAEMON;
	}
	return wait_host_empty(c, host, since_ms, deadline, out, reterr);
}

int
cmd_vm_plan_follow(struct client *c, const char *verb, const json_t *args,
    const struct cmd_opts *opts, FILE *out, struct dl_err *reterr)
{
	struct client_reply rep = { 0 };
	struct seen_step *seen = NULL;
	/* host drain --wait goes on until the host is seen empty */
	const char *host = json_string_value(json_object_get(args, "host"));
	bool drain = streq(verb, "host.drain") && host &&
	    !json_is_true(json_object_get(args, "undo"));
	const json_t *p0;
	long long unplaced;
	int64_t id, deadline, since_ms;
	int r, code = NODECTL_EXIT_OK;
	struct timespec ts;

	if ((r = client_call(c, verb, args, &rep, reterr)) < 0)
		return r;
	if (!rep.ok) {
		(void)fprintf(stderr, "nodectl: %s\n", rep.message);
		client_reply_done(&rep);
		return NODECTL_EXIT_DAEMON;
	}
	(void)cmd_vm_plan_print(out, rep.result, time(NULL), reterr);
	p0 = json_object_get(rep.result, "plan");
	id = (int64_t)json_integer_value(json_object_get(p0, "id"));
	unplaced = num(json_object_get(p0, "efficacy"), "unplaced");
	since_ms = (int64_t)json_integer_value(json_object_get(rep.result, "answered_ms"));
	client_reply_done(&rep);
	(void)fflush(out);
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	deadline = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + (int64_t)opts->timeout_ms;
	if (id <= 0) /* nothing to move: a drain still waits for a listing that says so */
		return drain ? drain_done(c, host, unplaced, since_ms, deadline, out, reterr) :
		    NODECTL_EXIT_OK;
	seen = calloc(PLAN_WAIT_MAX_STEPS, sizeof(*seen));
	if (!seen)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	for (;;) {
		json_t *q = json_pack("{s:I}", "id", (json_int_t)id), *p, *st;
		const char *state;
		size_t k;

		if (!q) {
			r = dl_err_set(reterr, -ENOMEM, "out of memory");
			break;
		}
		r = client_call(c, "vm.plans", q, &rep, reterr);
		json_decref(q);
		if (r < 0)
			break;
		if (!rep.ok) {
			(void)fprintf(stderr, "nodectl: %s\n", rep.message);
			client_reply_done(&rep);
			code = NODECTL_EXIT_DAEMON;
			break;
		}
		p = json_array_get(json_object_get(rep.result, "plans"), 0);
		json_array_foreach(json_object_get(p, "steps"), k, st) {
			struct seen_step now = { 0 };
			long long total = num(st, "data_total");

			if (k >= PLAN_WAIT_MAX_STEPS)
				break;
			(void)snprintf(now.state, sizeof(now.state), "%s", str(st, "state"));
			now.pct = total > 0 ? (int)(num(st, "data_processed") * 100 / total) : -1;
			now.postcopy = json_is_true(json_object_get(st, "postcopy"));
			/* a line per change of state, switch to post-copy, or 10% of data */
			if (strcmp(now.state, seen[k].state) == 0 &&
			    now.postcopy == seen[k].postcopy && now.pct / 10 == seen[k].pct / 10)
				continue;
			(void)fprintf(out, "step %zu %s %s %s -> %s: %s", k, str(st, "action"),
			    str(st, "vm"), str(st, "src"), str(st, "dst"), now.state);
			if (now.pct >= 0 && streq(now.state, "running"))
				(void)fprintf(out, " %d%% (%lld MiB left)", now.pct,
				    num(st, "data_remaining") / (1024 * 1024));
			if (now.postcopy)
				(void)fprintf(out, " post-copy");
			if (num(st, "downtime_ms") > 0 && streq(now.state, "done"))
				(void)fprintf(out, " downtime %lld ms", num(st, "downtime_ms"));
			if ((streq(now.state, "failed") || streq(now.state, "cancelled")) &&
			    str(st, "reason")[0])
				(void)fprintf(out, " (%s)", str(st, "reason"));
			(void)fputc('\n', out);
			seen[k] = now;
		}
		state = str(p, "state");
		if (streq(state, "done") || streq(state, "failed") || streq(state, "cancelled")) {
			(void)fprintf(out, "plan %lld %s%s%s\n", (long long)id, state,
			    str(p, "reason")[0] && !streq(state, "done") ? ": " : "",
			    !streq(state, "done") ? str(p, "reason") : "");
			code = streq(state, "done") ? NODECTL_EXIT_OK : NODECTL_EXIT_DAEMON;
			since_ms = num(p, "ended_ms");
			client_reply_done(&rep);
			break;
		}
		client_reply_done(&rep);
		(void)fflush(out);
		(void)clock_gettime(CLOCK_MONOTONIC, &ts);
		if ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 >= deadline) {
			(void)fprintf(out, "plan %lld: --timeout passed, bootsvc goes on\n",
			    (long long)id);
			code = NODECTL_EXIT_TIMEOUT;
			break;
		}
		if (nap(c, PLAN_WAIT_POLL_MS) == -EINTR) {
			code = NODECTL_EXIT_INTERRUPTED;
			break;
		}
	}
	free(seen);
	if (r < 0 || code != NODECTL_EXIT_OK || !drain)
		return r < 0 ? r : code;
	return drain_done(c, host, unplaced, since_ms, deadline, out, reterr);
}
