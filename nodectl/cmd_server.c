/* SPDX-License-Identifier: MIT */
/* nodectl server list (issue 15): the bootsvc instances sharing a PostgreSQL, as
 * server.list returns them -> a table. SEEN is how long ago the instance last wrote its
 * row; one silent for three leases shows as gone. */
#include <errno.h>
#include <stdio.h>

#include "cmd.h"
#include "cmd_args.h"
#include "format.h"
#include "macro.h"
#include "table.h"

int
cmd_server_list_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr)
{
	return cmd_args_parse_none(argc, argv, "server list", opts, ret_args, reterr);
}

int
cmd_server_list_print(FILE *out, const json_t *result, _unused_ time_t now,
    struct dl_err *reterr)
{
	static const char *const headers[] = { "NAME", "URL", "ROLE", "SEGMENTS", "SEEN" };
	const json_t *servers = json_object_get(result, "servers"), *s;
	struct table *t;
	size_t i;
	int r = 0;

	if (!json_is_array(servers))
		return dl_err_set(reterr, -EPROTO, "bootsvc's result has no 'servers' list");
	t = table_new(headers, ELEMENTSOF(headers));
	if (!t)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	json_array_foreach(servers, i, s) {
		char b[5][FORMAT_BUF];
		const char *cells[ELEMENTSOF(headers)];
		const json_t *ago;

		if (!json_is_object(s)) {
			r = dl_err_set(reterr, -EPROTO, "bootsvc's server %zu is not an object", i);
			break;
		}
		cells[0] = format_scalar(json_object_get(s, "name"), b[0]);
		if (cells[0] && json_is_true(json_object_get(s, "self"))) {
			/* the instance answering: the one this nodectl talks to */
			(void)snprintf(b[0], FORMAT_BUF, "%s*",
			    json_string_value(json_object_get(s, "name")));
			cells[0] = b[0];
		}
		cells[1] = format_scalar(json_object_get(s, "url"), b[1]);
		cells[2] = format_scalar(json_object_get(s, "role"), b[2]);
		cells[3] = format_scalar(json_object_get(s, "segments"), b[3]);
		ago = json_object_get(s, "seen_ms_ago");
		if (json_is_true(json_object_get(s, "gone")))
			(void)snprintf(b[4], FORMAT_BUF, "gone (%llds)",
			    (long long)(json_integer_value(ago) / 1000));
		else
			(void)snprintf(b[4], FORMAT_BUF, "%llds ago",
			    (long long)(json_integer_value(ago) / 1000));
		cells[4] = b[4];
		if ((r = table_add_row_err(t, cells, reterr)) < 0)
			break;
	}
	return table_finish(t, r, out, reterr);
}
