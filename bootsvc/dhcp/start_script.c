/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include "strbuf.h"
#include "template.h"
#include "dhcp/start_script.h"

_Static_assert(START_WAIT_MIN_S > 0 && START_WAIT_MAX_S % START_WAIT_MIN_S == 0 &&
    ((START_WAIT_MAX_S / START_WAIT_MIN_S) & (START_WAIT_MAX_S / START_WAIT_MIN_S - 1)) == 0,
    "the script doubles the wait until it equals the cap: cap = min * 2^k");

struct start_vars {
	const char *server;
	const char *nodes;
	char count[12], wait_min[12], wait_max[12];
};

static const char *
lookup(const char *name, void *userdata)
{
	const struct start_vars *v = userdata;

	if (strcmp(name, "server") == 0)
		return v->server;
	if (strcmp(name, "service_nodes") == 0)
		return v->nodes;
	if (strcmp(name, "service_node_count") == 0)
		return v->count;
	if (strcmp(name, "wait_min") == 0)
		return v->wait_min;
	if (strcmp(name, "wait_max") == 0)
		return v->wait_max;
	return NULL;
}

int
start_script_render(const char *tmpl, size_t len, const struct config *c, char **ret,
    size_t *ret_len, struct dl_err *reterr)
{
	struct start_vars v = { .server = c->boot_url };
	struct strbuf b = { 0 };
	unsigned n = 0;
	int r;

	/* Setting names dl-s0.. are iPXE's (the script reads ${dl-s${dl-i}}). */
	if (c->boot_url[0])
		strbuf_printf(&b, "set dl-s%u %s\n", n++, c->boot_url);
	for (unsigned i = 0; i < c->n_peers && i < MAX_PEERS; i++)
		strbuf_printf(&b, "set dl-s%u %s\n", n++, c->peers[i]);
	if (b.oom) {
		strbuf_done(&b);
		return -ENOMEM;
	}
	if (n == 0)
		return dl_err_set(reterr, -EINVAL,
		    "start script: no service node to chain to (boot_url and peers are empty)");
	v.nodes = b.s;
	(void)snprintf(v.count, sizeof(v.count), "%u", n);
	(void)snprintf(v.wait_min, sizeof(v.wait_min), "%d", START_WAIT_MIN_S);
	(void)snprintf(v.wait_max, sizeof(v.wait_max), "%d", START_WAIT_MAX_S);
	r = template_render(tmpl, len, lookup, &v, ret, ret_len, reterr);
	strbuf_done(&b);
	return r;
}
