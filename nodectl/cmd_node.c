/* SPDX-License-Identifier: MIT */
/* nodectl node add|remove|list|show|set|arm|reset-disk|reset-bmc-pin: argv -> node.* args, node.*
 * results -> text. */
#include <errno.h>
#include <string.h>

#include "cmd.h"
#include "cmd_args.h"
#include "format.h"
#include "hostlist.h"
#include "macro.h"
#include "parse.h"
#include "table.h"

enum {
	OPT_MAC = CMD_ARGS_OPT_FIRST,
	OPT_IP,
	OPT_UUID,
	OPT_SERIAL,
	OPT_BMC,
	OPT_BMC_CREDS,
	OPT_IMAGE,
	OPT_PERSISTENT_DISK,
	OPT_FORCE,
};

/* The per-node lists of node add: option, protocol key, what each name must be, and
 * what one value is called in a count mismatch message. */
struct node_list_opt {
	int opt;
	const char *name;
	const char *key;
	enum cmd_args_kind kind;
	const char *noun;
};

static const struct node_list_opt node_list_opts[] = {
	{ OPT_MAC, "mac", "macs", CMD_ARGS_MAC, "MAC addresses" },
	{ OPT_IP, "ip", "ips", CMD_ARGS_IPV4, "IP addresses" },
	{ OPT_UUID, "uuid", "uuids", CMD_ARGS_UUID, "UUIDs" },
	{ OPT_SERIAL, "serial", "serials", CMD_ARGS_SERIAL, "serial numbers" },
	{ OPT_BMC, "bmc", "bmcs", CMD_ARGS_ANY, "BMC addresses" },
};

struct node_args {
	const char *lists[ELEMENTSOF(node_list_opts)];
	const char *bmc_creds;
	const char *image;
	const char *persistent_disk; /* "on" or "off" */
	bool force;
};

static int
cmd_node_handle(int opt, const char *name, const char *value, void *userdata,
    struct dl_err *reterr)
{
	struct node_args *a = userdata;

	for (size_t i = 0; i < ELEMENTSOF(node_list_opts); i++)
		if (node_list_opts[i].opt == opt)
			return cmd_args_once(&a->lists[i], name, value, reterr);
	switch (opt) {
	case OPT_BMC_CREDS:
		return cmd_args_once(&a->bmc_creds, name, value, reterr);
	case OPT_IMAGE:
		return cmd_args_once(&a->image, name, value, reterr);
	case OPT_PERSISTENT_DISK:
		if (!streq(value, "on") && !streq(value, "off"))
			return dl_err_set(reterr, -EINVAL, "option --%s: '%.16s' is not on or off",
			    name, value);
		return cmd_args_once(&a->persistent_disk, name, value, reterr);
	case OPT_FORCE:
		a->force = true;
		return 0;
	default:
		return dl_err_set(reterr, -EINVAL, "option --%s is not valid here", name);
	}
}

static int
cmd_node_image(json_t *args, const char *cmd, const char *image, struct dl_err *reterr)
{
	char what[64];
	int r;

	(void)snprintf(what, sizeof(what), "%s: option --image", cmd);
	r = cmd_args_image_ref(what, image, reterr);
	if (r < 0)
		return r;
	return cmd_args_set_str(args, "image", what, image, reterr);
}

int
cmd_node_add_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr)
{
	static const struct option longopts[] = {
		{ "mac", required_argument, NULL, OPT_MAC },
		{ "ip", required_argument, NULL, OPT_IP },
		{ "uuid", required_argument, NULL, OPT_UUID },
		{ "serial", required_argument, NULL, OPT_SERIAL },
		{ "bmc", required_argument, NULL, OPT_BMC },
		{ "bmc-creds", required_argument, NULL, OPT_BMC_CREDS },
		{ "image", required_argument, NULL, OPT_IMAGE },
		CMD_ARGS_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	static const char cmd[] = "node add";
	_cleanup_(json_decrefp) json_t *args = NULL;
	struct node_args a = { 0 };
	const char *operands[1];
	int r, n, nnodes;

	r = cmd_args_getopt(argc, argv, cmd, longopts, cmd_node_handle, &a, opts, operands, 1,
	    1, "<hostlist> of node names", &n, reterr);
	if (r < 0 || opts->help) {
		*ret_args = NULL;
		return r;
	}
	args = json_object();
	if (!args)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	nnodes = cmd_args_names(args, cmd, operands[0], reterr);
	if (nnodes < 0)
		return nnodes;

	/* bootsvc checks the counts too; checking here names the option before anything
	 * is sent. */
	if (!a.lists[0])
		return dl_err_set(reterr, -EINVAL,
		    "%s: option --mac is required (a hostlist of one MAC per node)", cmd);
	for (size_t i = 0; i < ELEMENTSOF(node_list_opts); i++) {
		const struct node_list_opt *o = &node_list_opts[i];
		char what[64];

		if (!a.lists[i])
			continue;
		(void)snprintf(what, sizeof(what), "%s: option --%s", cmd, o->name);
		n = cmd_args_hostlist(what, a.lists[i], o->kind, reterr);
		if (n < 0)
			return n;
		if (n != nnodes)
			return dl_err_set(reterr, -EINVAL, "%s: %d %s for %d node%s", what, n,
			    o->noun, nnodes, nnodes == 1 ? "" : "s");
		r = cmd_args_set_str(args, o->key, what, a.lists[i], reterr);
		if (r < 0)
			return r;
	}
	if (a.bmc_creds) {
		_cleanup_free_ char *path = NULL;

		if (!a.lists[4])
			return dl_err_set(reterr, -EINVAL,
			    "%s: option --bmc-creds needs --bmc (the BMCs they log in to)", cmd);
		r = cmd_args_path_absolute("node add: option --bmc-creds", a.bmc_creds, &path,
		    reterr);
		if (r < 0)
			return r;
		r = cmd_args_set_str(args, "bmc_creds", "node add: option --bmc-creds", path,
		    reterr);
		if (r < 0)
			return r;
	}
	if (a.image) {
		r = cmd_node_image(args, cmd, a.image, reterr);
		if (r < 0)
			return r;
	}
	*ret_args = TAKE_PTR(args);
	return 0;
}

/* node remove|list|set|arm: a hostlist operand (required unless optional); node set takes
 * --image and --persistent-disk, at least one. */
static int
cmd_node_parse_names(int argc, char **argv, const char *cmd, bool optional, bool set,
    struct cmd_opts *opts, json_t **ret_args, struct dl_err *reterr)
{
	static const struct option with_set[] = {
		{ "image", required_argument, NULL, OPT_IMAGE },
		{ "persistent-disk", required_argument, NULL, OPT_PERSISTENT_DISK },
		CMD_ARGS_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_(json_decrefp) json_t *args = NULL;
	struct node_args a = { 0 };
	int r;

	r = cmd_args_parse_names(argc, argv, cmd, set ? with_set : with_set + 2,
	    cmd_node_handle, &a, optional ? 0 : 1, opts, &args, reterr);
	*ret_args = NULL;
	if (r < 0 || opts->help)
		return r;
	if (set) {
		if (!a.image && !a.persistent_disk)
			return dl_err_set(reterr, -EINVAL, "%s: nothing to change; give --image "
			    "NAME[@IDPREFIX] or --persistent-disk on|off", cmd);
		if (a.image && (r = cmd_node_image(args, cmd, a.image, reterr)) < 0)
			return r;
		if (a.persistent_disk && json_object_set_new(args, "persistent_disk",
		    json_boolean(streq(a.persistent_disk, "on"))) < 0)
			return dl_err_set(reterr, -ENOMEM, "out of memory");
	}
	*ret_args = TAKE_PTR(args);
	return 0;
}

/* node reset-disk <hostlist> [--force] */
int
cmd_node_reset_disk_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr)
{
	static const struct option longopts[] = {
		{ "force", no_argument, NULL, OPT_FORCE },
		CMD_ARGS_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_(json_decrefp) json_t *args = NULL;
	struct node_args a = { 0 };
	int r;

	r = cmd_args_parse_names(argc, argv, "node reset-disk", longopts, cmd_node_handle, &a,
	    1, opts, &args, reterr);
	*ret_args = NULL;
	if (r < 0 || opts->help)
		return r;
	if (a.force && json_object_set_new(args, "force", json_true()) < 0)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	*ret_args = TAKE_PTR(args);
	return 0;
}

int
cmd_node_reset_disk_print(FILE *out, const json_t *result, _unused_ time_t now,
    struct dl_err *reterr)
{
	const json_t *none = json_object_get(result, "no_disk");
	int r = cmd_print_names(out, result, "reset", "disk reset (a fresh clone at the next "
	    "boot) for", reterr);

	if (r == 0 && json_is_array(none) && json_array_size(none) > 0)
		r = cmd_print_names(out, result, "no_disk", "no disk to reset on", reterr);
	return r;
}

/* node reset-bmc-pin <hostlist> */
int
cmd_node_reset_bmc_pin_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr)
{
	return cmd_node_parse_names(argc, argv, "node reset-bmc-pin", false, false, opts,
	    ret_args, reterr);
}

int
cmd_node_reset_bmc_pin_print(FILE *out, const json_t *result, _unused_ time_t now,
    struct dl_err *reterr)
{
	const json_t *none = json_object_get(result, "none");
	int r = cmd_print_names(out, result, "reset", "BMC key pin forgotten (the next contact "
	    "records the key offered) for", reterr);

	if (r == 0 && json_is_array(none) && json_array_size(none) > 0)
		r = cmd_print_names(out, result, "none", "no recorded BMC key pin for", reterr);
	return r;
}

int
cmd_node_remove_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr)
{
	return cmd_node_parse_names(argc, argv, "node remove", false, false, opts, ret_args,
	    reterr);
}

int
cmd_node_arm_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr)
{
	return cmd_node_parse_names(argc, argv, "node arm", false, false, opts, ret_args,
	    reterr);
}

int
cmd_node_list_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr)
{
	return cmd_node_parse_names(argc, argv, "node list", true, false, opts, ret_args,
	    reterr);
}

int
cmd_node_set_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr)
{
	return cmd_node_parse_names(argc, argv, "node set", false, true, opts, ret_args,
	    reterr);
}

int
cmd_node_show_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr)
{
	_cleanup_(json_decrefp) json_t *args = NULL;
	const char *operands[1];
	int r, n;

	r = cmd_args_getopt(argc, argv, "node show", cmd_args_common_only, NULL, NULL, opts,
	    operands, 1, 1, "<name> of one node", &n, reterr);
	if (r < 0 || opts->help) {
		*ret_args = NULL;
		return r;
	}
	/* One name, not a hostlist: "n[01]" is more likely a slip than a wish. */
	if (!hostname_is_valid(operands[0]))
		return dl_err_set(reterr, -EINVAL,
		    "node show: '%.64s' is not one node name (lowercase letters, digits and "
		    "'-'; for several nodes use node list)", operands[0]);
	args = json_pack("{s:s}", "name", operands[0]);
	if (!args)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	*ret_args = TAKE_PTR(args);
	return 0;
}

int
cmd_print_names(FILE *out, const json_t *result, const char *key, const char *verb,
    struct dl_err *reterr)
{
	const json_t *list = json_object_get(result, key), *v;
	_cleanup_free_ char **names = NULL;
	_cleanup_free_ char *text = NULL, *safe = NULL;
	const char *id;
	size_t i, n;

	if (!json_is_array(list))
		return dl_err_set(reterr, -EPROTO, "bootsvc's result has no '%s' list", key);
	n = json_array_size(list);
	if (n == 0) {
		(void)fprintf(out, "%s no nodes\n", verb);
		return ferror(out) ? -EIO : 0;
	}
	names = calloc(n, sizeof(*names));
	if (!names)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	json_array_foreach(list, i, v) {
		if (!json_is_string(v))
			return dl_err_set(reterr, -EPROTO,
			    "bootsvc's '%s' list holds a non-string", key);
		names[i] = (char *)json_string_value(v);
	}
	text = hostlist_compress(names, n);
	safe = text ? table_sanitize(text) : NULL;
	if (!safe)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	(void)fprintf(out, "%s %zu node%s: %s", verb, n, n == 1 ? "" : "s", safe);
	/* node.set also says which image version the names now boot. */
	id = json_string_value(json_object_get(result, "image_id"));
	if (id && id[0] && strspn(id, "0123456789abcdef") == strlen(id))
		(void)fprintf(out, " (image %.12s)", id);
	(void)fputc('\n', out);
	return ferror(out) ? -EIO : 0;
}

int
cmd_node_add_print(FILE *out, const json_t *result, _unused_ time_t now, struct dl_err *reterr)
{
	return cmd_print_names(out, result, "added", "added", reterr);
}

int
cmd_node_remove_print(FILE *out, const json_t *result, _unused_ time_t now,
    struct dl_err *reterr)
{
	return cmd_print_names(out, result, "removed", "removed", reterr);
}

int
cmd_node_arm_print(FILE *out, const json_t *result, _unused_ time_t now, struct dl_err *reterr)
{
	return cmd_print_names(out, result, "armed", "armed", reterr);
}

int
cmd_node_set_print(FILE *out, const json_t *result, _unused_ time_t now, struct dl_err *reterr)
{
	return cmd_print_names(out, result, "updated", "updated", reterr);
}

const char *
cmd_node_state(const json_t *node, char buf[static FORMAT_BUF])
{
	const char *op = json_string_value(json_object_get(node, "op"));
	const json_t *attempts = json_object_get(node, "attempts");

	const char *bmc = json_string_value(json_object_get(node, "bmc_state"));

	if (json_is_true(json_object_get(node, "hold")))
		return "hold";
	/* An unreachable BMC matters more than the op it holds up. */
	if (bmc && streq(bmc, "unreachable"))
		return "bmc-unreachable";
	/* An admin's drain: the node runs on as it is, but no new allocation takes it. */
	if (json_is_true(json_object_get(node, "drain")))
		return "drain";
	if (!op || !op[0])
		return NULL;
	if (streq(op, "booting") && json_is_integer(attempts) && json_integer_value(attempts) > 0) {
		(void)snprintf(buf, FORMAT_BUF, "%.32s(%" JSON_INTEGER_FORMAT ")", op,
		    json_integer_value(attempts));
		return buf;
	}
	return op;
}

/* The most useful reason for node list: the hold's while held, the drain's while drained,
 * the controller's last error when it gave up and the phase says nothing, else the
 * phase's. */
static const char *
cmd_node_reason(const json_t *node)
{
	const char *reason = json_string_value(json_object_get(node, "reason"));
	const char *op = json_string_value(json_object_get(node, "op"));
	const char *hold = json_string_value(json_object_get(node, "hold_reason"));
	const char *last = json_string_value(json_object_get(node, "last_error"));
	const char *drain = json_string_value(json_object_get(node, "drain_reason"));

	if (json_is_true(json_object_get(node, "hold")) && hold && hold[0])
		return hold;
	if (json_is_true(json_object_get(node, "drain")) && drain && drain[0])
		return drain;
	if ((!reason || !reason[0]) && op && streq(op, "failed") && last && last[0])
		return last;
	return reason;
}

/* The version a node runs: the one its last script named ("served_image"), else the one
 * its receipt proved ("booted_image"); NULL when it runs none of ours now (off, held,
 * failed, never booted): only pxe, loading, imaging and up run a version. */
static const char *
cmd_node_running(const json_t *node)
{
	static const char *const running[] = { "pxe", "loading", "imaging", "up" };
	const char *phase = json_string_value(json_object_get(node, "phase"));
	const char *served = json_string_value(json_object_get(node, "served_image"));
	const char *booted = json_string_value(json_object_get(node, "booted_image"));
	const char *v = served && served[0] ? served : booted;
	bool runs = false;

	for (size_t i = 0; phase && i < ELEMENTSOF(running); i++)
		runs |= streq(phase, running[i]);
	return runs && v && v[0] ? v : NULL;
}

/* Whether the node runs an older version than the one it would boot now ("image_id":
 * its pin, else its image's current version): `tiny up` must not read as up to date. */
static bool
cmd_node_behind(const json_t *node, const char **ret_running)
{
	const char *current = json_string_value(json_object_get(node, "image_id"));
	const char *run = cmd_node_running(node);

	*ret_running = run;
	return run && current && current[0] && !streq(run, current);
}

/* A node pinned to a version (provision) has "image_pin" beside its "image" name: show
 * "compute@3f2a9c0d11e2", as wide as a name and still exact enough. A node running an
 * older version than its image's current one shows that version and "(behind)":
 * "compute@0b1c2d3e4f50 (behind)" (docs/nodectl.md). */
static const char *
cmd_node_image_cell(const json_t *node, char buf[static FORMAT_BUF])
{
	const char *name = json_string_value(json_object_get(node, "image"));
	const char *pin = json_string_value(json_object_get(node, "image_pin"));
	const char *run;

	if (name && name[0] && cmd_node_behind(node, &run)) {
		(void)snprintf(buf, FORMAT_BUF, "%.30s@%.12s (behind)", name, run);
		return buf;
	}
	if (pin && strlen(pin) == 64 && name && name[0]) {
		(void)snprintf(buf, FORMAT_BUF, "%.40s@%.12s", name, pin);
		return buf;
	}
	return format_scalar(json_object_get(node, "image"), buf);
}

/* node list's columns; BMC, JOB and HEALTH only when some node has one to show. BMC is
 * the node's BMC address as stored: "redfish://10.0.0.5", "ipmi://10.0.0.6", or a bare
 * address that bootsvc's bmc_protocol decides (docs/redfish.md). */
enum {
	COL_NAME, COL_MAC, COL_IP, COL_BMC, COL_IMAGE, COL_POWER, COL_PHASE, COL_STATE, COL_JOB,
	COL_HEALTH, COL_AGE, COL_REASON, _COL_MAX,
};

int
cmd_node_list_print(FILE *out, const json_t *result, time_t now, struct dl_err *reterr)
{
	static const char *const all_headers[_COL_MAX] = { "NAME", "MAC", "IP", "BMC", "IMAGE",
		"POWER", "PHASE", "STATE", "JOB", "HEALTH", "AGE", "REASON" };
	const json_t *nodes = json_object_get(result, "nodes"), *node;
	const char *headers[_COL_MAX];
	bool show[_COL_MAX];
	size_t ncols = 0;
	struct table *t;
	size_t i;
	int r = 0;

	if (!json_is_array(nodes))
		return dl_err_set(reterr, -EPROTO, "bootsvc's result has no 'nodes' list");
	/* An idle cluster of healthy nodes keeps the narrow table people know. */
	for (i = 0; i < _COL_MAX; i++)
		show[i] = i != COL_JOB && i != COL_HEALTH && i != COL_BMC;
	json_array_foreach(nodes, i, node) {
		const char *bmc = json_string_value(json_object_get(node, "bmc"));
		const char *job = json_string_value(json_object_get(node, "job"));
		const char *health = json_string_value(json_object_get(node, "health"));

		show[COL_BMC] |= bmc && bmc[0];
		show[COL_JOB] |= job && job[0];
		show[COL_HEALTH] |= health && health[0] && !streq(health, "ok");
	}
	for (i = 0; i < _COL_MAX; i++)
		if (show[i])
			headers[ncols++] = all_headers[i];
	t = table_new(headers, ncols);
	if (!t)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	table_set_right(t, ncols - 2); /* AGE */
	json_array_foreach(nodes, i, node) {
		char b[8][FORMAT_BUF];
		const char *all[_COL_MAX], *cells[_COL_MAX];
		size_t c = 0;

		if (!json_is_object(node)) {
			r = dl_err_set(reterr, -EPROTO, "bootsvc's node %zu is not an object", i);
			break;
		}
		all[COL_NAME] = format_scalar(json_object_get(node, "name"), b[0]);
		all[COL_MAC] = format_scalar(json_object_get(node, "mac"), b[1]);
		all[COL_IP] = format_scalar(json_object_get(node, "ip"), b[2]);
		all[COL_BMC] = format_scalar(json_object_get(node, "bmc"), b[7]);
		all[COL_IMAGE] = cmd_node_image_cell(node, b[3]);
		all[COL_POWER] = json_string_value(json_object_get(node, "power"));
		all[COL_PHASE] = json_string_value(json_object_get(node, "phase"));
		all[COL_STATE] = cmd_node_state(node, b[5]);
		all[COL_JOB] = format_scalar(json_object_get(node, "job"), b[6]);
		all[COL_HEALTH] = json_string_value(json_object_get(node, "health"));
		all[COL_AGE] = format_age(json_object_get(node, "phase_at"), now, b[4]);
		all[COL_REASON] = cmd_node_reason(node);
		for (size_t k = 0; k < _COL_MAX; k++)
			if (show[k])
				cells[c++] = all[k];
		if ((r = table_add_row_err(t, cells, reterr)) < 0)
			break;
	}
	return table_finish(t, r, out, reterr);
}

/* Keys of a node object in the order "node show" prints them (docs/control-protocol.md). */
static const char *const node_keys[] = { "name", "mac", "ip", "uuid", "serial", "bmc", "image",
	"image_id", "phase", "reason", "phase_at", "want_power", "power", "op", "attempts",
	"bmc_state", "last_error", "hold", "hold_reason", "drain", "drain_reason",
	"booted_image" };

/* An iscsi node's disk (issue 14): never a secret, bootsvc sends none. */
static int
print_disk(FILE *out, const json_t *disk, struct dl_err *reterr)
{
	static const char *const keys[] = { "state", "reason", "image_id", "method", "size",
		"persistent", "target", "made_at", "make_ms", "reset", "path" };
	struct format_kv kv[ELEMENTSOF(keys)];
	char bufs[ELEMENTSOF(keys)][FORMAT_KV_BUF], a[FORMAT_BUF], b[FORMAT_BUF];
	size_t n = 0;

	if (!json_is_object(disk))
		return 0;
	for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
		const char *v = bufs[n];

		kv[n].key = keys[i];
		if (streq(keys[i], "size"))
			(void)snprintf(bufs[n], FORMAT_KV_BUF, "%s apparent, %s allocated",
			    format_size(json_object_get(disk, "apparent_bytes"), a) ?: "-",
			    format_size(json_object_get(disk, "allocated_bytes"), b) ?: "-");
		else if (streq(keys[i], "target"))
			(void)snprintf(bufs[n], FORMAT_KV_BUF, "%.100s (tid %s)",
			    format_scalar(json_object_get(disk, "target"), a) ?: "-",
			    format_scalar(json_object_get(disk, "tid"), b) ?: "-");
		else if (streq(keys[i], "made_at"))
			v = format_time(json_object_get(disk, "made_at"), bufs[n]);
		else
			v = format_scalar(json_object_get(disk, keys[i]), bufs[n]);
		kv[n].value = v && v[0] ? v : NULL;
		n++;
	}
	if (fputs("\ndisk:\n", out) < 0 || format_kv_print(out, kv, n) < 0)
		return dl_err_set(reterr, -EIO, "cannot write the output");
	return 0;
}

/* node show's "version:" line, under image_id, for a node that runs one: which it runs
 * and which is current, "(behind)" when they differ. 1 when set, 0 for no line. */
static int
print_version(const json_t *node, struct format_kv *kv, char buf[static FORMAT_KV_BUF])
{
	const char *current = json_string_value(json_object_get(node, "image_id"));
	const char *run;
	bool behind = cmd_node_behind(node, &run);

	if (!run)
		return 0;
	kv->key = "version";
	if (behind)
		(void)snprintf(buf, FORMAT_KV_BUF, "runs %.12s, current %.12s (behind: the next "
		    "boot takes the current)", run, current);
	else
		(void)snprintf(buf, FORMAT_KV_BUF, "runs %.12s (current)", run);
	kv->value = buf;
	return 1;
}

int
cmd_node_show_print(FILE *out, const json_t *result, time_t now, struct dl_err *reterr)
{
	static const char *const headers[] = { "PHASE", "AT", "AGE", "REASON" };
	const json_t *node = json_object_get(result, "node"), *history, *v;
	size_t nkeys = json_is_object(node) ? json_object_size(node) : 0;
	_cleanup_free_ struct format_kv *kv = NULL;
	_cleanup_free_ char (*bufs)[FORMAT_KV_BUF] = NULL;
	char at[FORMAT_BUF], age[FORMAT_BUF];
	struct table *t;
	const char *key;
	size_t n = 0, i;
	int r = 0;

	if (!json_is_object(node))
		return dl_err_set(reterr, -EPROTO, "bootsvc's result has no 'node' object");
	/* + 1: the version line (print_version) */
	kv = calloc(nkeys + ELEMENTSOF(node_keys) + 1, sizeof(*kv));
	bufs = calloc(nkeys + ELEMENTSOF(node_keys) + 1, sizeof(*bufs));
	if (!kv || !bufs)
		return dl_err_set(reterr, -ENOMEM, "out of memory");

	for (i = 0; i < ELEMENTSOF(node_keys); i++) {
		v = json_object_get(node, node_keys[i]);
		kv[n].key = node_keys[i];
		if (streq(node_keys[i], "phase_at") && json_is_integer(v)) {
			(void)snprintf(bufs[n], FORMAT_KV_BUF, "%s (%s ago)", format_time(v, at),
			    format_age(v, now, age));
			kv[n].value = bufs[n];
		} else {
			kv[n].value = format_scalar(v, bufs[n]);
		}
		n++;
		if (streq(node_keys[i], "image_id") && (r = print_version(node, &kv[n], bufs[n])))
			n++;
	}
	r = 0;
	/* Keys a newer bootsvc added: shown, so an old nodectl still shows everything. */
	json_object_foreach((json_t *)node, key, v) {
		bool known = streq(key, "history") || streq(key, "disk");

		for (i = 0; i < ELEMENTSOF(node_keys); i++)
			known |= streq(key, node_keys[i]);
		if (known)
			continue;
		kv[n].key = key;
		kv[n].value = format_scalar(v, bufs[n]);
		n++;
	}
	r = format_kv_print(out, kv, n);
	if (r < 0)
		return dl_err_set(reterr, r, "cannot write the output");
	if ((r = print_disk(out, json_object_get(node, "disk"), reterr)) < 0)
		return r;

	history = json_object_get(node, "history");
	if (!history)
		return 0;
	if (!json_is_array(history))
		return dl_err_set(reterr, -EPROTO, "bootsvc's node history is not a list");
	t = table_new(headers, ELEMENTSOF(headers));
	if (!t)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	table_set_right(t, 2);
	json_array_foreach(history, i, v) {
		const char *cells[ELEMENTSOF(headers)];

		if (!json_is_object(v)) {
			r = dl_err_set(reterr, -EPROTO,
			    "bootsvc's history entry %zu is not an object", i);
			break;
		}
		cells[0] = json_string_value(json_object_get(v, "phase"));
		cells[1] = format_time(json_object_get(v, "at"), at);
		cells[2] = format_age(json_object_get(v, "at"), now, age);
		cells[3] = json_string_value(json_object_get(v, "reason"));
		r = table_add_row(t, cells);
		if (r < 0) {
			r = dl_err_set(reterr, r, "out of memory");
			break;
		}
	}
	if (r == 0) {
		(void)fputs("\nhistory:\n", out);
		if (table_print(t, out) < 0)
			r = dl_err_set(reterr, -EIO, "cannot write the output");
	}
	table_free(t);
	return r;
}
