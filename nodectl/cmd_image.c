/* SPDX-License-Identifier: MIT */
/* nodectl image list|show|add|remove: argv -> image.* args, image.* results -> text. */
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

int
cmd_image_list_print(FILE *out, const json_t *result, _unused_ time_t now,
    struct dl_err *reterr)
{
	static const char *const headers[] = { "NAME", "ID", "KIND", "KERNEL", "BUILT", "SIZE",
		"CURRENT" };
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
		char b[6][FORMAT_BUF], id[IMAGE_ID_SHORT + 1];
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
		if ((r = table_add_row_err(t, cells, reterr)) < 0)
			break;
	}
	return table_finish(t, r, out, reterr);
}

/* Keys of an image object in the order "image show" prints them. */
static const char *const image_keys[] = { "name", "id", "kind", "kernel_version", "built",
	"size", "current" };

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
