/* SPDX-License-Identifier: MIT */
/* nodectl energy and expect (issue #7): the green policy's two faces for people and
 * schedulers. energy [<hostlist>] -> the energy verb, printed as per-node, per-image and
 * total kWh; expect --image NAME --count N --within DUR -> the expect verb (a hint that
 * the queue will want N nodes on NAME soon), printed as the live hints. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "cmd_args.h"
#include "hostlist.h"
#include "format.h"
#include "macro.h"
#include "parse.h"
#include "table.h"

enum {
	OPT_IMAGE = CMD_ARGS_OPT_FIRST,
	OPT_COUNT,
	OPT_WITHIN,
};

struct expect_args {
	const char *image, *count, *within;
};

static int
cmd_expect_handle(int opt, const char *name, const char *value, void *userdata,
    struct dl_err *reterr)
{
	struct expect_args *a = userdata;

	switch (opt) {
	case OPT_IMAGE:
		return cmd_args_once(&a->image, name, value, reterr);
	case OPT_COUNT:
		return cmd_args_once(&a->count, name, value, reterr);
	case OPT_WITHIN:
		return cmd_args_once(&a->within, name, value, reterr);
	default:
		return dl_err_set(reterr, -EINVAL, "option --%s is not valid here", name);
	}
}

int
cmd_expect_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr)
{
	static const struct option longopts[] = {
		{ "image", required_argument, NULL, OPT_IMAGE },
		{ "count", required_argument, NULL, OPT_COUNT },
		{ "within", required_argument, NULL, OPT_WITHIN },
		CMD_ARGS_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	static const char cmd[] = "expect";
	_cleanup_(json_decrefp) json_t *args = NULL;
	struct expect_args a = { 0 };
	const char *operands[1];
	uint64_t count, within_ms;
	int r, n;

	*ret_args = NULL;
	r = cmd_args_getopt(argc, argv, cmd, longopts, cmd_expect_handle, &a, opts, operands,
	    0, 0, "", &n, reterr);
	if (r < 0 || opts->help)
		return r;
	if (!a.image || !a.count || !a.within)
		return dl_err_set(reterr, -EINVAL, "%s: option --%s is required", cmd,
		    !a.image ? "image (NAME)" : !a.count ? "count (nodes; 0 withdraws the hint)" :
		    "within (when they are wanted: 30s, 5m, 2h)");
	if ((r = cmd_args_image_ref("expect: option --image", a.image, reterr)) < 0)
		return r;
	if ((r = parse_u64(a.count, 0, MAX_HOSTLIST_NAMES, &count, reterr)) < 0)
		return dl_err_prefix(reterr, "%s: option --count", cmd), r;
	/* The same range bootsvc enforces, said before the trip. */
	if ((r = parse_duration_ms(a.within, &within_ms, reterr)) < 0)
		return dl_err_prefix(reterr, "%s: option --within", cmd), r;
	if (within_ms < 1000 || within_ms > 86400000)
		return dl_err_set(reterr, -EINVAL, "%s: option --within: '%s' is not between 1s "
		    "and 24h", cmd, a.within);
	args = json_object();
	if (!args || json_object_set_new(args, "count", json_integer((json_int_t)count)) < 0)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	if ((r = cmd_args_set_str(args, "image", "expect: option --image", a.image,
	    reterr)) < 0 ||
	    (r = cmd_args_set_str(args, "within", "expect: option --within", a.within,
	    reterr)) < 0)
		return r;
	*ret_args = TAKE_PTR(args);
	return 0;
}

int
cmd_expect_print(FILE *out, const json_t *result, _unused_ time_t now,
    struct dl_err *reterr)
{
	static const char *const headers[] = { "IMAGE", "COUNT", "UNTIL" };
	const json_t *hints = json_object_get(result, "hints"), *h;
	const char *image = json_string_value(json_object_get(result, "image"));
	const json_t *count = json_object_get(result, "count");
	struct table *t;
	size_t i;
	int r = 0;

	if (!image || !json_is_integer(count) || !json_is_array(hints))
		return dl_err_set(reterr, -EPROTO, "bootsvc's result lacks image, count or hints");
	if (json_integer_value(count) == 0)
		(void)fprintf(out, "hint for %s withdrawn\n", image);
	else
		(void)fprintf(out, "expecting %lld nodes on %s\n",
		    (long long)json_integer_value(count), image);
	if (json_array_size(hints) == 0)
		return 0;
	t = table_new(headers, ELEMENTSOF(headers));
	if (!t)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	json_array_foreach(hints, i, h) {
		char b[2][FORMAT_BUF];
		const char *cells[ELEMENTSOF(headers)];

		cells[0] = json_string_value(json_object_get(h, "image"));
		cells[1] = format_scalar(json_object_get(h, "count"), b[0]);
		cells[2] = format_time(json_object_get(h, "until"), b[1]);
		if (!cells[0]) {
			r = dl_err_set(reterr, -EPROTO, "bootsvc's hint %zu has no image", i);
			break;
		}
		if ((r = table_add_row(t, cells)) < 0) {
			r = dl_err_set(reterr, r, "out of memory");
			break;
		}
	}
	if (r == 0)
		r = table_print(t, out);
	table_free(t);
	return r;
}

int
cmd_energy_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr)
{
	return cmd_args_parse_names(argc, argv, "energy", cmd_args_common_only, NULL, NULL, 0,
	    opts, ret_args, reterr);
}

/* One row of the energy table: kWh to three decimals (a node drawing 300 W accrues
 * 0.005 kWh a minute, so a demo's minutes still show). */
static int
energy_row(struct table *t, const json_t *o, const char *key, const char *source,
    struct dl_err *reterr)
{
	static const char *const fields[] = { "on_kwh", "off_kwh", "saved_kwh" };
	char b[3][32];
	const char *cells[5];

	cells[0] = json_string_value(json_object_get(o, key));
	if (!cells[0])
		return dl_err_set(reterr, -EPROTO, "bootsvc's energy entry has no '%s'", key);
	for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
		const json_t *v = json_object_get(o, fields[i]);

		if (!json_is_number(v))
			return dl_err_set(reterr, -EPROTO, "bootsvc's energy entry '%s' has no "
			    "'%s'", cells[0], fields[i]);
		(void)snprintf(b[i], sizeof(b[i]), "%.3f", json_number_value(v));
		cells[1 + i] = b[i];
	}
	cells[4] = source;
	if (table_add_row(t, cells) < 0)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	return 0;
}

int
cmd_energy_print(FILE *out, const json_t *result, _unused_ time_t now,
    struct dl_err *reterr)
{
	static const char *const headers[] = { "NAME", "ON_KWH", "OFF_KWH", "SAVED_KWH",
		"SOURCE" };
	const json_t *nodes = json_object_get(result, "nodes");
	const json_t *images = json_object_get(result, "images");
	const json_t *total = json_object_get(result, "total"), *o;
	struct table *t;
	size_t i;
	int r = 0;

	if (!json_is_array(nodes) || !json_is_array(images) || !json_is_object(total))
		return dl_err_set(reterr, -EPROTO, "bootsvc's result lacks nodes, images or total");
	t = table_new(headers, ELEMENTSOF(headers));
	if (!t)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	for (size_t c = 1; c <= 3; c++)
		table_set_right(t, c);
	json_array_foreach(nodes, i, o) {
		r = energy_row(t, o, "name", json_string_value(json_object_get(o, "source")),
		    reterr);
		if (r < 0)
			break;
	}
	/* Images by name with an "image:" prefix so they never read as a node. */
	json_array_foreach(images, i, o) {
		json_t *copy;
		char label[96];
		const char *name = json_string_value(json_object_get(o, "image"));

		if (r < 0)
			break;
		if (!name) {
			r = dl_err_set(reterr, -EPROTO, "bootsvc's image energy %zu has no name", i);
			break;
		}
		(void)snprintf(label, sizeof(label), "image:%s", name);
		copy = json_deep_copy(o);
		if (!copy || json_object_set_new(copy, "image", json_string(label)) < 0) {
			json_decref(copy);
			r = dl_err_set(reterr, -ENOMEM, "out of memory");
			break;
		}
		r = energy_row(t, copy, "image", NULL, reterr);
		json_decref(copy);
	}
	if (r == 0)
		r = energy_row(t, total, "name", NULL, reterr);
	if (r == 0)
		r = table_print(t, out);
	table_free(t);
	return r;
}
