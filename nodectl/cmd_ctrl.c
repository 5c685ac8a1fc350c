/* SPDX-License-Identifier: MIT */
/* nodectl provision|power|hold|release|drain|undrain|allocate: the controller's verbs.
 * argv -> args of provision, power, hold, release, drain, undrain, allocate; their
 * results -> text. provision --wait and
 * allocate --wait are followed in wait.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "cmd_args.h"
#include "format.h"
#include "hostlist.h"
#include "macro.h"
#include "parse.h"
#include "table.h"

enum {
	OPT_IMAGE = CMD_ARGS_OPT_FIRST,
	OPT_FORCE,
	OPT_WAIT,
	OPT_EVACUATE,
	OPT_TIMEOUT,
	OPT_REASON,
	OPT_COUNT,
	OPT_CLASS,
	OPT_JOB,
};

/* How long provision --wait waits by default: a boot storm of a few hundred nodes with
 * the controller's retries (three attempts, each up to the phase timeouts of minutes)
 * fits; a script that needs longer says so with --timeout. */
#define DEFAULT_WAIT_TIMEOUT_MS (20 * 60 * 1000)
/* Longest --timeout: a week, far past any provision, and well inside poll()'s int. */
#define MAX_WAIT_TIMEOUT_MS (7ULL * 24 * 3600 * 1000)
/* Longest hold or drain reason bootsvc keeps (bootsvc/store.h MAX_REASON - 1). */
#define MAX_HOLD_REASON 255
/* Longest job class name bootsvc accepts (the "class" arg of allocate: 31 bytes). */
#define MAX_CLASS_NAME 31

/* Power actions, as the protocol spells them. */
static const char *const power_actions[] = { "on", "off", "cycle", "reset", "status" };

struct ctrl_args {
	const char *image;
	const char *timeout;
	const char *reason;
	const char *count;
	const char *class_name;
	const char *job;
	bool force;
	bool evacuate;
	bool wait;
};

static int
cmd_ctrl_handle(int opt, const char *name, const char *value, void *userdata,
    struct dl_err *reterr)
{
	struct ctrl_args *a = userdata;

	switch (opt) {
	case OPT_IMAGE:
		return cmd_args_once(&a->image, name, value, reterr);
	case OPT_TIMEOUT:
		return cmd_args_once(&a->timeout, name, value, reterr);
	case OPT_REASON:
		return cmd_args_once(&a->reason, name, value, reterr);
	case OPT_COUNT:
		return cmd_args_once(&a->count, name, value, reterr);
	case OPT_CLASS:
		return cmd_args_once(&a->class_name, name, value, reterr);
	case OPT_JOB:
		return cmd_args_once(&a->job, name, value, reterr);
	case OPT_FORCE:
		a->force = true;
		return 0;
	case OPT_WAIT:
		a->wait = true;
		return 0;
	case OPT_EVACUATE:
		a->evacuate = true;
		return 0;
	default:
		return dl_err_set(reterr, -EINVAL, "option --%s is not valid here", name);
	}
}

/* --wait and --timeout: the timeout in *timeout_ms (left at its default without one). */
static int
cmd_ctrl_timeout(const char *cmd, const struct ctrl_args *a, uint64_t *timeout_ms,
    struct dl_err *reterr)
{
	int r;

	if (a->timeout && !a->wait)
		return dl_err_set(reterr, -EINVAL,
		    "%s: option --timeout needs --wait (without it nothing is waited for)", cmd);
	if (!a->timeout)
		return 0;
	r = parse_duration_ms(a->timeout, timeout_ms, reterr);
	if (r == 0 && (*timeout_ms == 0 || *timeout_ms > MAX_WAIT_TIMEOUT_MS))
		r = dl_err_set(reterr, -EINVAL, "duration '%.32s' is not in 1ms..7d", a->timeout);
	if (r < 0)
		(void)dl_err_prefix(reterr, "%s: option --timeout", cmd);
	return r;
}

/* A job id as bootsvc makes and takes them: an RFC 1123 label ("a1234", "slurm-8812"). */
static int
cmd_ctrl_job(json_t *args, const char *cmd, const char *job, struct dl_err *reterr)
{
	if (!hostname_is_valid(job)) {
		char q[QUOTE_BUF_SIZE];

		return dl_err_set(reterr, -EINVAL, "%s: option --job: '%s' is not a job id "
		    "(lowercase letters, digits and '-', at most %d)", cmd,
		    parse_quote(q, job, strlen(job)), MAX_HOSTNAME);
	}
	return cmd_args_set_str(args, "job", "option --job", job, reterr);
}

int
cmd_provision_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr)
{
	static const struct option longopts[] = {
		{ "image", required_argument, NULL, OPT_IMAGE },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "evacuate", no_argument, NULL, OPT_EVACUATE },
		{ "wait", no_argument, NULL, OPT_WAIT },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		CMD_ARGS_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	static const char cmd[] = "provision";
	_cleanup_(json_decrefp) json_t *args = NULL;
	struct ctrl_args a = { 0 };
	const char *operands[1];
	uint64_t timeout_ms = DEFAULT_WAIT_TIMEOUT_MS;
	int r, n;

	*ret_args = NULL;
	r = cmd_args_getopt(argc, argv, cmd, longopts, cmd_ctrl_handle, &a, opts, operands, 1,
	    1, "<hostlist> of node names", &n, reterr);
	if (r < 0 || opts->help)
		return r;
	if (!a.image)
		return dl_err_set(reterr, -EINVAL,
		    "%s: option --image is required (NAME or NAME@IDPREFIX)", cmd);
	r = cmd_ctrl_timeout(cmd, &a, &timeout_ms, reterr);
	if (r < 0)
		return r;
	args = json_object();
	if (!args)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	r = cmd_args_names(args, cmd, operands[0], reterr);
	if (r < 0)
		return r;
	r = cmd_args_image_ref("provision: option --image", a.image, reterr);
	if (r < 0)
		return r;
	r = cmd_args_set_str(args, "image", "provision: option --image", a.image, reterr);
	if (r < 0)
		return r;
	if (a.force && json_object_set_new(args, "force", json_true()) < 0)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	/* A VM host's VMs: moved first by the VM layer (issue 13; bootsvc says so). */
	if (a.evacuate && json_object_set_new(args, "evacuate", json_true()) < 0)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	opts->follow = a.wait;
	opts->timeout_ms = timeout_ms;
	*ret_args = TAKE_PTR(args);
	return 0;
}

int
cmd_provision_print(FILE *out, const json_t *result, _unused_ time_t now,
    struct dl_err *reterr)
{
	const char *image = json_string_value(json_object_get(result, "image"));
	_cleanup_free_ char *safe = NULL;
	char verb[128];

	if (!image)
		return dl_err_set(reterr, -EPROTO, "bootsvc's result has no 'image'");
	safe = table_sanitize(image);
	if (!safe)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	(void)snprintf(verb, sizeof(verb), "provisioning %.64s on", safe);
	return cmd_print_names(out, result, "nodes", verb, reterr);
}

int
cmd_power_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr)
{
	static const char cmd[] = "power";
	_cleanup_(json_decrefp) json_t *args = NULL;
	const char *operands[2];
	bool known = false;
	int r, n;

	*ret_args = NULL;
	r = cmd_args_getopt(argc, argv, cmd, cmd_args_common_only, NULL, NULL, opts, operands,
	    2, 2, "<on|off|cycle|reset|status> <hostlist>", &n, reterr);
	if (r < 0 || opts->help)
		return r;
	for (size_t i = 0; i < ELEMENTSOF(power_actions); i++)
		known |= streq(operands[0], power_actions[i]);
	if (!known) {
		char q[QUOTE_BUF_SIZE];

		return dl_err_set(reterr, -EINVAL,
		    "%s: '%s' is not an action (one of on, off, cycle, reset, status; the "
		    "action comes before the hostlist)", cmd,
		    parse_quote(q, operands[0], strlen(operands[0])));
	}
	args = json_object();
	if (!args)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	r = cmd_args_names(args, cmd, operands[1], reterr);
	if (r < 0)
		return r;
	if (json_object_set_new(args, "action", json_string(operands[0])) < 0)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	*ret_args = TAKE_PTR(args);
	return 0;
}

bool
cmd_result_has_errors(const json_t *result)
{
	const json_t *v;
	size_t i;

	json_array_foreach(json_object_get(result, "nodes"), i, v)
		if (json_object_get(v, "error"))
			return true;
	return false;
}

static int
cmd_power_cmp(const void *a, const void *b)
{
	const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
	const char *nx = json_string_value(json_object_get(x, "name"));
	const char *ny = json_string_value(json_object_get(y, "name"));

	return strcmp(nx ? nx : "", ny ? ny : "");
}

int
cmd_power_print(FILE *out, const json_t *result, _unused_ time_t now, struct dl_err *reterr)
{
	static const char *const headers[] = { "NAME", "POWER", "ERROR" };
	const json_t *nodes = json_object_get(result, "nodes"), *want, *v;
	_cleanup_free_ const json_t **rows = NULL;
	struct table *t;
	bool failed = false;
	size_t i, n;
	int r = 0;

	/* on/off: the desired state was written; the controller acts on it. */
	want = json_object_get(result, "want");
	if (json_is_string(want)) {
		char verb[64];

		(void)snprintf(verb, sizeof(verb), "desired power %s for",
		    streq(json_string_value(want), "on") ? "on" : "off");
		return cmd_print_names(out, result, "nodes", verb, reterr);
	}
	if (!json_is_array(nodes))
		return dl_err_set(reterr, -EPROTO, "bootsvc's result has no 'nodes' list");
	n = json_array_size(nodes);
	rows = calloc(n ? n : 1, sizeof(*rows));
	if (!rows)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	json_array_foreach(nodes, i, v) {
		if (!json_is_object(v))
			return dl_err_set(reterr, -EPROTO, "bootsvc's node %zu is not an object", i);
		rows[i] = v;
	}
	/* bootsvc lists them as the BMCs answered; people look them up by name. */
	qsort(rows, n, sizeof(*rows), cmd_power_cmp);
	t = table_new(headers, ELEMENTSOF(headers));
	if (!t)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		const char *code = json_string_value(json_object_get(rows[i], "error"));
		const char *msg = json_string_value(json_object_get(rows[i], "message"));
		char err[MAX_ERR_MSG];
		const char *cells[ELEMENTSOF(headers)];

		cells[0] = json_string_value(json_object_get(rows[i], "name"));
		cells[1] = json_string_value(json_object_get(rows[i], "power"));
		cells[2] = NULL;
		if (code || msg) {
			failed = true;
			(void)snprintf(err, sizeof(err), "%s%s%s", code ? code : "",
			    code && msg && msg[0] ? ": " : "", msg ? msg : "");
			cells[2] = err;
		}
		if ((r = table_add_row_err(t, cells, reterr)) < 0)
			break;
	}
	r = table_finish(t, r, out, reterr);
	return r < 0 ? r : failed ? CMD_PRINT_PARTIAL : 0;
}

/* What a hold, release, drain or undrain takes besides a <hostlist>. */
enum names_with {
	WITH_REASON,  /* hold, drain: [--reason TEXT] */
	WITH_JOB,     /* release: or --job ID instead of the hostlist */
	WITH_NOTHING, /* undrain */
};

static int
cmd_names_parse(int argc, char **argv, const char *cmd, enum names_with with,
    struct cmd_opts *opts, json_t **ret_args, struct dl_err *reterr)
{
	static const struct option with_reason[] = {
		{ "reason", required_argument, NULL, OPT_REASON },
		CMD_ARGS_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	static const struct option with_job[] = {
		{ "job", required_argument, NULL, OPT_JOB },
		CMD_ARGS_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	static const struct option with_nothing[] = {
		CMD_ARGS_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	static const struct option *const longopts[] = {
		[WITH_REASON] = with_reason, [WITH_JOB] = with_job, [WITH_NOTHING] = with_nothing,
	};
	_cleanup_(json_decrefp) json_t *args = NULL;
	struct ctrl_args a = { 0 };
	const char *operands[1];
	int r, n;

	*ret_args = NULL;
	r = cmd_args_getopt(argc, argv, cmd, longopts[with], cmd_ctrl_handle, &a, opts,
	    operands, with == WITH_JOB ? 0 : 1, 1, "<hostlist> of node names", &n, reterr);
	if (r < 0 || opts->help)
		return r;
	if (with == WITH_JOB && (n > 0) == (a.job != NULL))
		return dl_err_set(reterr, -EINVAL, n ? "%s: give a <hostlist> or --job, not both" :
		    "%s: missing <hostlist> of node names (or --job ID)", cmd);
	args = json_object();
	if (!args)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	r = a.job ? cmd_ctrl_job(args, cmd, a.job, reterr) :
	    cmd_args_names(args, cmd, operands[0], reterr);
	if (r < 0)
		return r;
	if (a.reason) {
		char what[32];

		if (!a.reason[0])
			return dl_err_set(reterr, -EINVAL,
			    "%s: option --reason is empty (leave it out for the default)", cmd);
		if (strlen(a.reason) > MAX_HOLD_REASON)
			return dl_err_set(reterr, -EINVAL,
			    "%s: option --reason is %zu bytes, at most %d", cmd, strlen(a.reason),
			    MAX_HOLD_REASON);
		(void)snprintf(what, sizeof(what), "%s: option --reason", cmd);
		r = cmd_args_set_str(args, "reason", what, a.reason, reterr);
		if (r < 0)
			return r;
	}
	*ret_args = TAKE_PTR(args);
	return 0;
}

int
cmd_hold_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr)
{
	return cmd_names_parse(argc, argv, "hold", WITH_REASON, opts, ret_args, reterr);
}

int
cmd_release_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr)
{
	return cmd_names_parse(argc, argv, "release", WITH_JOB, opts, ret_args, reterr);
}

int
cmd_drain_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr)
{
	return cmd_names_parse(argc, argv, "drain", WITH_REASON, opts, ret_args, reterr);
}

int
cmd_undrain_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr)
{
	return cmd_names_parse(argc, argv, "undrain", WITH_NOTHING, opts, ret_args, reterr);
}

int
cmd_hold_print(FILE *out, const json_t *result, _unused_ time_t now, struct dl_err *reterr)
{
	return cmd_print_names(out, result, "nodes", "held", reterr);
}

int
cmd_release_print(FILE *out, const json_t *result, _unused_ time_t now,
    struct dl_err *reterr)
{
	return cmd_print_names(out, result, "nodes", "released", reterr);
}

int
cmd_drain_print(FILE *out, const json_t *result, _unused_ time_t now, struct dl_err *reterr)
{
	return cmd_print_names(out, result, "nodes", "drained", reterr);
}

int
cmd_undrain_print(FILE *out, const json_t *result, _unused_ time_t now,
    struct dl_err *reterr)
{
	return cmd_print_names(out, result, "nodes", "undrained", reterr);
}

int
cmd_allocate_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr)
{
	static const struct option longopts[] = {
		{ "count", required_argument, NULL, OPT_COUNT },
		{ "image", required_argument, NULL, OPT_IMAGE },
		{ "class", required_argument, NULL, OPT_CLASS },
		{ "job", required_argument, NULL, OPT_JOB },
		{ "wait", no_argument, NULL, OPT_WAIT },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		CMD_ARGS_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	static const char cmd[] = "allocate";
	_cleanup_(json_decrefp) json_t *args = NULL;
	struct ctrl_args a = { 0 };
	const char *operands[1];
	uint64_t timeout_ms = DEFAULT_WAIT_TIMEOUT_MS, count;
	int r, n;

	*ret_args = NULL;
	r = cmd_args_getopt(argc, argv, cmd, longopts, cmd_ctrl_handle, &a, opts, operands, 0,
	    0, "", &n, reterr);
	if (r < 0 || opts->help)
		return r;
	if (!a.count)
		return dl_err_set(reterr, -EINVAL, "%s: option --count is required (how many "
		    "nodes)", cmd);
	if (!a.image)
		return dl_err_set(reterr, -EINVAL,
		    "%s: option --image is required (NAME or NAME@IDPREFIX)", cmd);
	r = parse_u64(a.count, 1, MAX_HOSTLIST_NAMES, &count, reterr);
	if (r < 0) {
		(void)dl_err_prefix(reterr, "%s: option --count", cmd);
		return r;
	}
	r = cmd_ctrl_timeout(cmd, &a, &timeout_ms, reterr);
	if (r < 0)
		return r;
	args = json_object();
	if (!args || json_object_set_new(args, "count", json_integer((json_int_t)count)) < 0)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	r = cmd_args_image_ref("allocate: option --image", a.image, reterr);
	if (r < 0)
		return r;
	r = cmd_args_set_str(args, "image", "allocate: option --image", a.image, reterr);
	if (r < 0)
		return r;
	if (a.class_name) {
		/* bootsvc's config names classes [a-z0-9_-]; say so here, not after a trip. */
		size_t len = strlen(a.class_name);

		if (len == 0 || len > MAX_CLASS_NAME ||
		    strspn(a.class_name, "abcdefghijklmnopqrstuvwxyz0123456789_-") != len) {
			char q[QUOTE_BUF_SIZE];

			return dl_err_set(reterr, -EINVAL, "%s: option --class: '%s' is not a job "
			    "class name ([a-z0-9_-], 1 to %d)", cmd,
			    parse_quote(q, a.class_name, len), MAX_CLASS_NAME);
		}
		r = cmd_args_set_str(args, "class", "allocate: option --class", a.class_name,
		    reterr);
		if (r < 0)
			return r;
	}
	if (a.job) {
		r = cmd_ctrl_job(args, cmd, a.job, reterr);
		if (r < 0)
			return r;
	}
	opts->follow = a.wait;
	opts->timeout_ms = timeout_ms;
	*ret_args = TAKE_PTR(args);
	return 0;
}

int
cmd_allocate_print(FILE *out, const json_t *result, _unused_ time_t now,
    struct dl_err *reterr)
{
	const json_t *nodes = json_object_get(result, "nodes"), *tiers, *v;
	const char *job = json_string_value(json_object_get(result, "job"));
	const char *image = json_string_value(json_object_get(result, "image"));
	const char *id = json_string_value(json_object_get(result, "image_id"));
	const char *cls = json_string_value(json_object_get(result, "class"));
	_cleanup_free_ char **names = NULL;
	_cleanup_free_ char *list = NULL, *line = NULL;
	json_int_t t[3];
	size_t i, n;

	tiers = json_object_get(result, "tiers");
	if (!job || !image || !id || !json_is_array(nodes) || !json_is_object(tiers))
		return dl_err_set(reterr, -EPROTO,
		    "bootsvc's allocate result lacks job, image, image_id, nodes or tiers");
	n = json_array_size(nodes);
	names = calloc(n ? n : 1, sizeof(*names));
	if (!names)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	json_array_foreach(nodes, i, v) {
		names[i] = (char *)json_string_value(v);
		if (!names[i])
			return dl_err_set(reterr, -EPROTO, "bootsvc's node %zu is not a name", i);
	}
	list = n ? hostlist_compress(names, n) : strdup("-");
	for (i = 0; i < 3; i++) {
		static const char *const keys[] = { "reuse", "reimage", "power_on" };

		t[i] = json_integer_value(json_object_get(tiers, keys[i]));
	}
	/* The tiers say what it costs: reuse is immediate, reimage a reboot, power-on a
	 * cold boot (docs/control-protocol.md, allocate). */
	if (!list || asprintf(&line, "job %s: allocated %zu node%s: %s -> %.64s@%.12s "
	    "(class %.32s)", job, n, n == 1 ? "" : "s", list, image, id,
	    cls ? cls : "default") < 0) {
		line = NULL;
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	}
	{
		_cleanup_free_ char *safe = table_sanitize(line);

		if (!safe)
			return dl_err_set(reterr, -ENOMEM, "out of memory");
		if (fprintf(out, "%s\ntiers: reuse %" JSON_INTEGER_FORMAT ", reimage %"
		    JSON_INTEGER_FORMAT ", power-on %" JSON_INTEGER_FORMAT "\n", safe, t[0], t[1],
		    t[2]) < 0)
			return dl_err_set(reterr, -EIO, "cannot write the output");
	}
	return 0;
}
