/* SPDX-License-Identifier: MIT */
/* nodectl ping: is bootsvc there, and which version. */
#include <errno.h>

#include "cmd.h"
#include "cmd_args.h"
#include "macro.h"
#include "table.h"

int
cmd_ping_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr)
{
	static const struct option longopts[] = {
		CMD_ARGS_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	const char *operands[1];
	int r, n;

	*ret_args = NULL;
	r = cmd_args_getopt(argc, argv, "ping", longopts, NULL, NULL, opts, operands, 0, 0, "",
	    &n, reterr);
	if (r < 0 || opts->help)
		return r;
	*ret_args = json_object();
	return *ret_args ? 0 : dl_err_set(reterr, -ENOMEM, "out of memory");
}

int
cmd_ping_print(FILE *out, const json_t *result, _unused_ time_t now, struct dl_err *reterr)
{
	const char *version = json_string_value(json_object_get(result, "version"));
	_cleanup_free_ char *safe = NULL;

	if (!version)
		return dl_err_set(reterr, -EPROTO, "bootsvc's result has no 'version'");
	safe = table_sanitize(version);
	if (!safe)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	(void)fprintf(out, "bootsvc %s is answering\n", safe);
	return ferror(out) ? dl_err_set(reterr, -EIO, "cannot write the output") : 0;
}
