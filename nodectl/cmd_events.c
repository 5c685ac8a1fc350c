/* SPDX-License-Identifier: MIT */
/* nodectl events: subscribe to bootsvc's event stream and print it until interrupted. */
#include <errno.h>
#include <string.h>

#include "client.h"
#include "cmd.h"
#include "cmd_args.h"
#include "cmd_events.h"
#include "format.h"
#include "macro.h"
#include "parse.h"

enum {
	OPT_SINCE = CMD_ARGS_OPT_FIRST,
};

/* Largest --since: event seqs are SQLite rowids (int64). */
#define MAX_EVENT_SEQ ((uint64_t)INT64_MAX)
/* How long one wait for an event lasts before it is simply started again; only bounds
 * how long a poll() call sleeps, SIGINT ends it at once. */
#define EVENTS_WAIT_MS (60 * 1000)

static int
cmd_events_handle(int opt, const char *name, const char *value, void *userdata,
    struct dl_err *reterr)
{
	const char **since = userdata;

	if (opt != OPT_SINCE)
		return dl_err_set(reterr, -EINVAL, "option --%s is not valid here", name);
	return cmd_args_once(since, name, value, reterr);
}

int
cmd_events_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr)
{
	static const struct option longopts[] = {
		{ "since", required_argument, NULL, OPT_SINCE },
		CMD_ARGS_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_(json_decrefp) json_t *args = NULL;
	const char *since = NULL, *operands[1];
	uint64_t seq;
	int r, n;

	*ret_args = NULL;
	r = cmd_args_getopt(argc, argv, "events", longopts, cmd_events_handle, &since, opts,
	    operands, 0, 0, "", &n, reterr);
	if (r < 0 || opts->help)
		return r;
	args = json_object();
	if (!args)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	if (since) {
		r = parse_u64(since, 0, MAX_EVENT_SEQ, &seq, reterr);
		if (r < 0) {
			(void)dl_err_prefix(reterr, "events: option --since (an event seq)");
			return r;
		}
		if (json_object_set_new(args, "since", json_integer((json_int_t)seq)) < 0)
			return dl_err_set(reterr, -ENOMEM, "out of memory");
	}
	opts->follow = true;
	*ret_args = TAKE_PTR(args);
	return 0;
}

/* The NODE column's width: a stream has no end to measure names at, so it is as wide as
 * a discovered node's name, "d-" and the MAC's 12 hex digits (boot/nodes.c), the longest
 * name bootsvc makes up; 12 broke the columns on every discovered node (issue 16). Longer
 * names an admin chose push the rest of their line right. */
#define EVENTS_NODE_WIDTH 14

int
cmd_events_print_header(FILE *out)
{
	(void)fprintf(out, "%-20s  %-*s  %-6s  %-15s  %s\n", "TIME", EVENTS_NODE_WIDTH, "NODE",
	    "KIND", "WHAT", "REASON");
	return ferror(out) ? -EIO : 0;
}

int
cmd_events_print_line(FILE *out, const struct client_event *e, bool json)
{
	char t[FORMAT_BUF];
	const char *when;
	json_t *at;

	if (json) {
		/* raw is bootsvc's JSON re-encoded: control characters are escaped. */
		if (json_dumpf(e->raw, out, JSON_COMPACT) < 0)
			return -EIO;
		(void)fputc('\n', out);
		return ferror(out) ? -EIO : 0;
	}
	at = json_integer(e->at);
	when = at ? format_time(at, t) : NULL;
	/* client.c copied the strings with control characters replaced already. */
	(void)fprintf(out, "%-20s  %-*s  %-6s  %-15s  %s\n", when ? when : "-",
	    EVENTS_NODE_WIDTH, e->node, e->kind, e->what, e->reason[0] ? e->reason : "-");
	json_decref(at);
	return ferror(out) ? -EIO : 0;
}

/* stdout is gone or full: nodectl's own failure (exit 1), not bootsvc's. */
static int
cmd_events_write_failed(void)
{
	(void)fprintf(stderr, "nodectl: cannot write the output: %s\n",
	    strerror(errno ? errno : EIO));
	return NODECTL_EXIT_DAEMON;
}

int
cmd_events_subscribe(struct client *c, const char *verb, const json_t *args,
    const char *label, struct dl_err *reterr)
{
	struct client_reply reply = { 0 };
	int r;

	r = client_call(c, verb, args, &reply, reterr);
	if (r < 0)
		return r;
	if (!reply.ok) {
		if (label)
			(void)fprintf(stderr, "nodectl: %s: %s\n", label, reply.message);
		else
			(void)fprintf(stderr, "nodectl: %s\n", reply.message);
		client_reply_done(&reply);
		return NODECTL_EXIT_DAEMON;
	}
	client_reply_done(&reply);
	return 0;
}

int
cmd_events_follow(struct client *c, const char *verb, const json_t *args,
    const struct cmd_opts *opts, FILE *out, struct dl_err *reterr)
{
	int r;

	r = cmd_events_subscribe(c, verb, args, NULL, reterr);
	if (r == -EINTR)
		return NODECTL_EXIT_OK;
	if (r != 0)
		return r;
	if (!opts->json && cmd_events_print_header(out) < 0)
		return cmd_events_write_failed();
	for (;;) {
		struct client_event ev = { 0 };

		r = client_next_event(c, EVENTS_WAIT_MS, &ev, reterr);
		if (r == -ETIMEDOUT)
			continue;
		if (r == -EINTR)
			return NODECTL_EXIT_OK; /* SIGINT: the admin has seen enough */
		if (r < 0)
			return r;
		r = cmd_events_print_line(out, &ev, opts->json);
		client_event_done(&ev);
		/* Line by line: whoever reads a pipe from us waits for each event. */
		if (r < 0 || fflush(out) != 0)
			return cmd_events_write_failed();
	}
}
