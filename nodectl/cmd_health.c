/* SPDX-License-Identifier: MIT */
/* nodectl health [clear]: the nodes' health as the BMC readings and the config's rules
 * judged it (issue #5). argv -> node.list / health.clear args; node.list's result ->
 * the health table (or the same nodes as JSON). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "cmd_args.h"
#include "format.h"
#include "macro.h"
#include "table.h"

enum {
	OPT_ALL = CMD_ARGS_OPT_FIRST,
};

/* health --all: also nodes without a BMC (nothing reads their health: always "ok"). */
static bool arg_health_all;

static int
cmd_health_handle(int opt, const char *name, _unused_ const char *value,
    _unused_ void *userdata, struct dl_err *reterr)
{
	if (opt == OPT_ALL) {
		arg_health_all = true;
		return 0;
	}
	return dl_err_set(reterr, -EINVAL, "option --%s is not valid here", name);
}

int
cmd_health_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr)
{
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, OPT_ALL },
		CMD_ARGS_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};

	arg_health_all = false;
	return cmd_args_parse_names(argc, argv, "health", longopts, cmd_health_handle, NULL, 0,
	    opts, ret_args, reterr);
}

int
cmd_health_clear_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr)
{
	return cmd_args_parse_names(argc, argv, "health clear", cmd_args_common_only, NULL,
	    NULL, 1, opts, ret_args, reterr);
}

/* Shown by health: has a BMC (its health is read), or --all. */
static bool
cmd_health_shown(const json_t *node)
{
	const char *bmc = json_string_value(json_object_get(node, "bmc"));

	return arg_health_all || (bmc && bmc[0]);
}

int
cmd_health_print(FILE *out, const json_t *result, _unused_ time_t now, struct dl_err *reterr)
{
	static const char *const headers[] = { "NAME", "HEALTH", "DRAINED", "JOB", "STATE",
		"REASONS" };
	const json_t *nodes = json_object_get(result, "nodes"), *node;
	struct table *t;
	size_t i;
	int r = 0;

	if (!json_is_array(nodes))
		return dl_err_set(reterr, -EPROTO, "bootsvc's result has no 'nodes' list");
	t = table_new(headers, ELEMENTSOF(headers));
	if (!t)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	json_array_foreach(nodes, i, node) {
		char b[3][FORMAT_BUF];
		const char *cells[ELEMENTSOF(headers)];
		const json_t *drained;

		if (!json_is_object(node)) {
			r = dl_err_set(reterr, -EPROTO, "bootsvc's node %zu is not an object", i);
			break;
		}
		if (!cmd_health_shown(node))
			continue;
		drained = json_object_get(node, "drained");
		cells[0] = format_scalar(json_object_get(node, "name"), b[0]);
		cells[1] = json_string_value(json_object_get(node, "health"));
		cells[2] = json_is_true(drained) ? "yes" : json_is_false(drained) ? "no" : NULL;
		cells[3] = format_scalar(json_object_get(node, "job"), b[1]);
		cells[4] = cmd_node_state(node, b[2]);
		cells[5] = json_string_value(json_object_get(node, "health_reasons"));
		if ((r = table_add_row_err(t, cells, reterr)) < 0)
			break;
	}
	if (r == 0 && table_rows(t) == 0 && !arg_health_all) {
		(void)fputs("no node has a BMC, so no health is read ('nodectl health --all' "
		    "lists them all)\n", out);
	} else if (r == 0 && table_print(t, out) < 0) {
		r = dl_err_set(reterr, -EIO, "cannot write the output");
	}
	table_free(t);
	return r;
}

int
cmd_health_print_json(FILE *out, const json_t *result, _unused_ time_t now,
    struct dl_err *reterr)
{
	const json_t *nodes = json_object_get(result, "nodes"), *node;
	_cleanup_(json_decrefp) json_t *o = NULL;
	json_t *shown;
	size_t i;

	if (!json_is_array(nodes))
		return dl_err_set(reterr, -EPROTO, "bootsvc's result has no 'nodes' list");
	shown = json_array();
	o = json_pack("{s:o}", "nodes", shown);
	if (!o)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	json_array_foreach(nodes, i, node)
		if (cmd_health_shown(node) && json_array_append(shown, (json_t *)node) < 0)
			return dl_err_set(reterr, -ENOMEM, "out of memory");
	if (json_dumpf(o, out, JSON_INDENT(2)) < 0 || fputc('\n', out) == EOF)
		return dl_err_set(reterr, -EIO, "cannot write the output");
	return 0;
}

int
cmd_health_clear_print(FILE *out, const json_t *result, _unused_ time_t now,
    struct dl_err *reterr)
{
	return cmd_print_names(out, result, "nodes", "cleared the health history of", reterr);
}
