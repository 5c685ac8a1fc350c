/* SPDX-License-Identifier: MIT */
/* nodectl image list|show|add|remove|sync: argv -> image.* args, image.* results -> text. */
#include <errno.h>
#include <string.h>

#include "cmd.h"
#include "cmd_args.h"
#include "format.h"
#include "macro.h"
#include "table.h"

/* How much of a content id image list shows: like git's short ids, enough to tell the
 * versions of one name apart, and accepted back as name@idprefix. */
#define IMAGE_ID_SHORT 12

int
cmd_image_list_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr)
{
	return cmd_args_parse_none(argc, argv, "image list", opts, ret_args, reterr);
}

/* image show|remove <image> */
static int
cmd_image_parse_ref(int argc, char **argv, const char *cmd, struct cmd_opts *opts,
    json_t **ret_args, struct dl_err *reterr)
{
	const char *operands[1];
	char what[64];
	int r, n;

	*ret_args = NULL;
	r = cmd_args_getopt(argc, argv, cmd, cmd_args_common_only, NULL, NULL, opts, operands,
	    1, 1, "<image> (name, name@idprefix or id)", &n, reterr);
	if (r < 0 || opts->help)
		return r;
	(void)snprintf(what, sizeof(what), "%s: image", cmd); /* fits: cmd is ours */
	r = cmd_args_image_ref(what, operands[0], reterr);
	if (r < 0)
		return r;
	return cmd_args_new_str(ret_args, "image", what, operands[0], reterr);
}

int
cmd_image_show_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr)
{
	return cmd_image_parse_ref(argc, argv, "image show", opts, ret_args, reterr);
}

int
cmd_image_remove_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr)
{
	return cmd_image_parse_ref(argc, argv, "image remove", opts, ret_args, reterr);
}

int
cmd_image_add_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr)
{
	_cleanup_free_ char *path = NULL;
	const char *operands[1];
	int r, n;

	*ret_args = NULL;
	r = cmd_args_getopt(argc, argv, "image add", cmd_args_common_only, NULL, NULL, opts,
	    operands, 1, 1, "<store-path> (an image version directory with manifest.json)", &n,
	    reterr);
	if (r < 0 || opts->help)
		return r;
	/* bootsvc runs in another working directory: send the path absolute. */
	r = cmd_args_path_absolute("image add: path", operands[0], &path, reterr);
	if (r < 0)
		return r;
	return cmd_args_new_str(ret_args, "path", "image add: path", path, reterr);
}

enum { OPT_ALL = CMD_ARGS_OPT_FIRST };

static int
sync_option(int opt, _unused_ const char *name, _unused_ const char *value, void *userdata,
    _unused_ struct dl_err *reterr)
{
	if (opt == OPT_ALL)
		*(bool *)userdata = true;
	return 0;
}

int
cmd_image_sync_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr)
{
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, OPT_ALL },
		CMD_ARGS_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	const char *operands[1];
	bool all = false;
	int r, n;

	*ret_args = NULL;
	r = cmd_args_getopt(argc, argv, "image sync", longopts, sync_option, &all, opts,
	    operands, 0, 1, "<image> (name, name@idprefix or id)", &n, reterr);
	if (r < 0 || opts->help)
		return r;
	if ((n == 1) == all)
		return dl_err_set(reterr, -EINVAL, "image sync: name one <image>, or --all");
	if (all) {
		*ret_args = json_pack("{s:b}", "all", 1);
		return *ret_args ? 0 : dl_err_set(reterr, -ENOMEM, "out of memory");
	}
	r = cmd_args_image_ref("image sync: image", operands[0], reterr);
	if (r < 0)
		return r;
	return cmd_args_new_str(ret_args, "image", "image sync: image", operands[0], reterr);
}

/* One line per version: what was fetched from where, the bytes and the time. */
int
cmd_image_sync_print(FILE *out, const json_t *result, _unused_ time_t now,
    struct dl_err *reterr)
{
	const json_t *synced = json_object_get(result, "synced"), *v;
	size_t i;

	if (!json_is_array(synced))
		return dl_err_set(reterr, -EPROTO, "bootsvc's result has no 'synced' list");
	if (json_array_size(synced) == 0)
		(void)fprintf(out, "every version is here already\n");
	json_array_foreach(synced, i, v) {
		char b[5][FORMAT_BUF], sz[FORMAT_BUF], kept[FORMAT_BUF];
		const char *name = format_scalar(json_object_get(v, "name"), b[0]);
		const char *id = format_scalar(json_object_get(v, "id"), b[1]);
		const char *what = format_scalar(json_object_get(v, "result"), b[2]);
		const char *peer = format_scalar(json_object_get(v, "peer"), b[3]);
		const char *err = format_scalar(json_object_get(v, "error"), b[4]);
		const json_t *ms = json_object_get(v, "ms");

		(void)fprintf(out, "%s %s@%.*s", what ? what : "?", name ? name : "?",
		    IMAGE_ID_SHORT, id ? id : "?");
		if (what && (streq(what, "present") || streq(what, "started"))) {
			(void)fprintf(out, "%s\n", streq(what, "present") ?
			    ": its files are here already" : "");
			continue;
		}
		if (peer)
			(void)fprintf(out, " from %s", peer);
		if (format_size(json_object_get(v, "bytes"), sz))
			(void)fprintf(out, ": %s fetched", sz);
		if (json_integer_value(json_object_get(v, "kept")) > 0 &&
		    format_size(json_object_get(v, "kept"), kept))
			(void)fprintf(out, ", %s kept from before", kept);
		if (json_is_integer(ms))
			(void)fprintf(out, " in %.1f s", (double)json_integer_value(ms) / 1000.0);
		if (err)
			(void)fprintf(out, ": %s", err);
		(void)fprintf(out, "\n");
	}
	return ferror(out) ? dl_err_set(reterr, -EIO, "cannot write the output") : 0;
}

int
cmd_image_list_print(FILE *out, const json_t *result, _unused_ time_t now,
    struct dl_err *reterr)
{
	static const char *const headers[] = { "NAME", "ID", "KIND", "KERNEL", "BUILT", "SIZE",
		"CURRENT", "HERE" };
	const json_t *images = json_object_get(result, "images"), *img;
	struct table *t;
	size_t i;
	int r = 0;

	if (!json_is_array(images))
		return dl_err_set(reterr, -EPROTO, "bootsvc's result has no 'images' list");
	t = table_new(headers, ELEMENTSOF(headers));
	if (!t)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	table_set_right(t, 5);
	json_array_foreach(images, i, img) {
		char b[7][FORMAT_BUF], id[IMAGE_ID_SHORT + 1];
		const char *cells[ELEMENTSOF(headers)];

		if (!json_is_object(img)) {
			r = dl_err_set(reterr, -EPROTO, "bootsvc's image %zu is not an object", i);
			break;
		}
		cells[0] = format_scalar(json_object_get(img, "name"), b[0]);
		cells[1] = format_scalar(json_object_get(img, "id"), b[1]);
		if (cells[1]) {
			(void)snprintf(id, sizeof(id), "%s", cells[1]); /* cut on purpose */
			cells[1] = id;
		}
		cells[2] = format_scalar(json_object_get(img, "kind"), b[2]);
		cells[3] = format_scalar(json_object_get(img, "kernel_version"), b[3]);
		cells[4] = format_time(json_object_get(img, "built"), b[4]);
		cells[5] = format_size(json_object_get(img, "size"), b[5]);
		cells[6] = json_is_boolean(json_object_get(img, "current")) ?
		    (json_is_true(json_object_get(img, "current")) ? "yes" : "no") : NULL;
		/* present, syncing or missing: whether this server has the files */
		cells[7] = format_scalar(json_object_get(img, "here"), b[6]);
		if ((r = table_add_row_err(t, cells, reterr)) < 0)
			break;
	}
	return table_finish(t, r, out, reterr);
}

/* Keys of an image object in the order "image show" prints them. */
static const char *const image_keys[] = { "name", "id", "kind", "kernel_version", "built",
	"size", "current", "here" };

int
cmd_image_show_print(FILE *out, const json_t *result, _unused_ time_t now,
    struct dl_err *reterr)
{
	const json_t *img = json_object_get(result, "image"), *v;
	size_t nkeys = json_is_object(img) ? json_object_size(img) : 0, n = 0, i;
	_cleanup_free_ struct format_kv *kv = NULL;
	_cleanup_free_ char (*bufs)[FORMAT_KV_BUF] = NULL;
	const char *key;
	int r;

	if (!json_is_object(img))
		return dl_err_set(reterr, -EPROTO, "bootsvc's result has no 'image' object");
	kv = calloc(nkeys + ELEMENTSOF(image_keys), sizeof(*kv));
	bufs = calloc(nkeys + ELEMENTSOF(image_keys), sizeof(*bufs));
	if (!kv || !bufs)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	for (i = 0; i < ELEMENTSOF(image_keys); i++) {
		v = json_object_get(img, image_keys[i]);
		kv[n].key = image_keys[i];
		if (streq(image_keys[i], "built")) {
			kv[n].value = format_time(v, bufs[n]);
		} else if (streq(image_keys[i], "size") && json_is_integer(v)) {
			char h[FORMAT_BUF];

			(void)snprintf(bufs[n], FORMAT_KV_BUF, "%" JSON_INTEGER_FORMAT " (%s)",
			    json_integer_value(v), format_size(v, h) ? h : "-");
			kv[n].value = bufs[n];
		} else {
			kv[n].value = format_scalar(v, bufs[n]);
		}
		n++;
	}
	/* Keys a newer bootsvc added (files, sha256s...): shown when they are scalars. */
	json_object_foreach((json_t *)img, key, v) {
		bool known = false;

		for (i = 0; i < ELEMENTSOF(image_keys); i++)
			known |= streq(key, image_keys[i]);
		if (known || json_is_object(v) || json_is_array(v))
			continue;
		kv[n].key = key;
		kv[n].value = format_scalar(v, bufs[n]);
		n++;
	}
	r = format_kv_print(out, kv, n);
	return r < 0 ? dl_err_set(reterr, r, "cannot write the output") : 0;
}

int
cmd_image_remove_print(FILE *out, const json_t *result, _unused_ time_t now,
    struct dl_err *reterr)
{
	const char *id = json_string_value(json_object_get(result, "removed"));
	_cleanup_free_ char *safe = NULL;

	if (!id)
		return dl_err_set(reterr, -EPROTO, "bootsvc's result has no 'removed' id");
	safe = table_sanitize(id);
	if (!safe)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	(void)fprintf(out, "removed image %s\n", safe);
	return ferror(out) ? dl_err_set(reterr, -EIO, "cannot write the output") : 0;
}
