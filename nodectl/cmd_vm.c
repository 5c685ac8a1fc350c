/* SPDX-License-Identifier: MIT */
/* nodectl host list and vm list (issue 12): argv -> host.list / vm.list args, their
 * results -> tables. VM hosts are nodes up on a hypervisor image; their VMs are what
 * libvirt listed there at bootsvc's last read (docs/vm.md). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "cmd_args.h"
#include "format.h"
#include "macro.h"
#include "parse.h"
#include "table.h"

enum {
	OPT_HOST = CMD_ARGS_OPT_FIRST,
};

int
cmd_host_list_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr)
{
	return cmd_args_parse_none(argc, argv, "host list", opts, ret_args, reterr);
}

static int
vm_handle(int opt, const char *name, const char *value, void *userdata,
    struct dl_err *reterr)
{
	if (opt == OPT_HOST)
		return cmd_args_once(userdata, name, value, reterr);
	return dl_err_set(reterr, -EINVAL, "option --%s is not valid here", name);
}

int
cmd_vm_list_parse(int argc, char **argv, struct cmd_opts *opts, json_t **ret_args,
    struct dl_err *reterr)
{
	static const struct option longopts[] = {
		{ "host", required_argument, NULL, OPT_HOST },
		CMD_ARGS_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	const char *host = NULL, *operands[1];
	int r, n;

	*ret_args = NULL;
	r = cmd_args_getopt(argc, argv, "vm list", longopts, vm_handle, &host, opts, operands, 0,
	    0, "nothing", &n, reterr);
	if (r < 0 || opts->help)
		return r;
	if (!host)
		return (*ret_args = json_object()) ? 0 : dl_err_set(reterr, -ENOMEM,
		    "out of memory");
	if (!hostname_is_valid(host)) {
		char q[QUOTE_BUF_SIZE];

		return dl_err_set(reterr, -EINVAL, "vm list: option --host: '%s' is not a node "
		    "name", parse_quote(q, host, strlen(host)));
	}
	return cmd_args_new_str(ret_args, "host", "vm list: option --host", host, reterr);
}

/* "used/total" of two integers of o; NULL when either is missing. */
static const char *
used_total(const json_t *o, const char *used, const char *total, char buf[static FORMAT_BUF])
{
	const json_t *u = json_object_get(o, used), *t = json_object_get(o, total);

	if (!json_is_integer(u) || !json_is_integer(t))
		return NULL;
	(void)snprintf(buf, FORMAT_BUF, "%lld/%lld", (long long)json_integer_value(u),
	    (long long)json_integer_value(t));
	return buf;
}

int
cmd_host_list_print(FILE *out, const json_t *result, _unused_ time_t now,
    struct dl_err *reterr)
{
	static const char *const headers[] = { "NODE", "TYPE", "CPUS", "MEMORY_MIB", "VMS",
		"STATE", "HEALTH", "TEMP_C", "REASON" };
	const json_t *hosts = json_object_get(result, "hosts"), *h;
	struct table *t;
	size_t i;
	int r = 0;

	if (!json_is_array(hosts))
		return dl_err_set(reterr, -EPROTO, "bootsvc's result has no 'hosts' list");
	t = table_new(headers, ELEMENTSOF(headers));
	if (!t)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	table_set_right(t, 2);
	table_set_right(t, 3);
	table_set_right(t, 4);
	table_set_right(t, 7);
	json_array_foreach(hosts, i, h) {
		char b[9][FORMAT_BUF];
		const json_t *temp;
		const char *cells[ELEMENTSOF(headers)], *reason;

		if (!json_is_object(h)) {
			r = dl_err_set(reterr, -EPROTO, "bootsvc's host %zu is not an object", i);
			break;
		}
		cells[0] = format_scalar(json_object_get(h, "node"), b[0]);
		cells[1] = format_scalar(json_object_get(h, "hypervisor"), b[1]);
		cells[2] = used_total(h, "cpus_used", "cpus", b[2]);
		cells[3] = used_total(h, "memory_used_mib", "memory_mib", b[3]);
		cells[4] = format_scalar(json_object_get(h, "vms"), b[4]);
		cells[5] = format_scalar(json_object_get(h, "state"), b[5]);
		if (cells[5] && json_is_true(json_object_get(h, "drain"))) {
			(void)snprintf(b[5], FORMAT_BUF, "%s+drain",
			    json_string_value(json_object_get(h, "state")));
			cells[5] = b[5];
		}
		cells[6] = format_scalar(json_object_get(h, "health"), b[6]);
		/* The BMC's hottest sensor, whole degrees; "-" when none is known. */
		temp = json_object_get(h, "temp_c");
		cells[7] = NULL;
		if (json_is_number(temp)) {
			(void)snprintf(b[7], FORMAT_BUF, "%.0f", json_number_value(temp));
			cells[7] = b[7];
		}
		/* Why it is lost, else why it is drained, else why its health is what it is. */
		reason = json_string_value(json_object_get(h, "state_reason"));
		if ((!reason || !reason[0]) && json_is_true(json_object_get(h, "drain")))
			reason = json_string_value(json_object_get(h, "drain_reason"));
		if (!reason || !reason[0])
			reason = json_string_value(json_object_get(h, "health_reasons"));
		cells[8] = reason;
		if ((r = table_add_row_err(t, cells, reterr)) < 0)
			break;
	}
	return table_finish(t, r, out, reterr);
}

int
cmd_vm_list_print(FILE *out, const json_t *result, time_t now, struct dl_err *reterr)
{
	static const char *const headers[] = { "NAME", "HOST", "STATE", "VCPUS", "MEMORY_MIB",
		"UPTIME" };
	const json_t *vms = json_object_get(result, "vms"), *v;
	struct table *t;
	size_t i;
	int r = 0;

	if (!json_is_array(vms))
		return dl_err_set(reterr, -EPROTO, "bootsvc's result has no 'vms' list");
	t = table_new(headers, ELEMENTSOF(headers));
	if (!t)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	table_set_right(t, 3);
	table_set_right(t, 4);
	table_set_right(t, 5);
	json_array_foreach(vms, i, v) {
		char b[6][FORMAT_BUF];
		const char *cells[ELEMENTSOF(headers)];

		if (!json_is_object(v)) {
			r = dl_err_set(reterr, -EPROTO, "bootsvc's vm %zu is not an object", i);
			break;
		}
		cells[0] = format_scalar(json_object_get(v, "name"), b[0]);
		cells[1] = format_scalar(json_object_get(v, "host"), b[1]);
		cells[2] = format_scalar(json_object_get(v, "state"), b[2]);
		cells[3] = format_scalar(json_object_get(v, "vcpus"), b[3]);
		cells[4] = format_scalar(json_object_get(v, "memory_mib"), b[4]);
		cells[5] = format_age(json_object_get(v, "running_since"), now, b[5]);
		if ((r = table_add_row_err(t, cells, reterr)) < 0)
			break;
	}
	return table_finish(t, r, out, reterr);
}
