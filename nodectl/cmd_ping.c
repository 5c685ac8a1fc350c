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
	return cmd_args_parse_none(argc, argv, "ping", opts, ret_args, reterr);
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
