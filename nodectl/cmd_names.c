/* SPDX-License-Identifier: MIT */
/* nodectl node names, image names: one name a line, nothing else, for shell completion
 * (completion/nodectl) and scripts. The same control verbs as the lists (node.list,
 * image.list): no new protocol, the names taken from their results. */
#include <errno.h>
#include <string.h>

#include "cmd.h"
#include "cmd_args.h"
#include "macro.h"
#include "table.h"

int
cmd_node_names_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr)
{
	return cmd_args_parse_none(argc, argv, "node names", opts, ret_args, reterr);
}

int
cmd_image_names_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr)
{
	return cmd_args_parse_none(argc, argv, "image names", opts, ret_args, reterr);
}

/* Each element's "name" of result's array key, sanitized (a name is bootsvc's, but a
 * terminal is no place for its bytes unchecked), in the server's order. */
static int
print_names(FILE *out, const json_t *result, const char *key, struct dl_err *reterr)
{
	const json_t *arr = json_object_get(result, key), *e;
	size_t i;

	if (!json_is_array(arr))
		return dl_err_set(reterr, -EPROTO, "bootsvc's result has no '%s' list", key);
	json_array_foreach(arr, i, e) {
		const char *name = json_string_value(json_object_get(e, "name"));
		_cleanup_free_ char *safe = NULL;

		if (!name)
			continue;
		safe = table_sanitize(name);
		if (!safe)
			return dl_err_set(reterr, -ENOMEM, "out of memory");
		(void)fprintf(out, "%s\n", safe);
	}
	return ferror(out) ? dl_err_set(reterr, -EIO, "cannot write the output") : 0;
}

int
cmd_node_names_print(FILE *out, const json_t *result, _unused_ time_t now,
    struct dl_err *reterr)
{
	return print_names(out, result, "nodes", reterr);
}

int
cmd_image_names_print(FILE *out, const json_t *result, _unused_ time_t now,
    struct dl_err *reterr)
{
	return print_names(out, result, "images", reterr);
}
