/* SPDX-License-Identifier: MIT */
/* control_handle_line() on arbitrary request lines against a bootsvc whose store is a
 * SQLite file in a temp dir made once per process (no dnsmasq, no loop). Every answer is
 * one '\n'-terminated JSON object with "ok" and the request's id or null. The store is
 * emptied when it grows, so runs stay fast. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../bootsvc/control/control.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Nodes kept between inputs before the store is emptied. */
#define MAX_FUZZ_NODES 512
/* Longest input tried: a few hostlists' worth; longer ones only cost time. */
#define MAX_FUZZ_INPUT 8192

static struct bootsvc bs;
static char dir[64];

static void
cleanup(void)
{
	char cmd[128];

	store_close(bs.store);
	bs.store = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	(void)!system(cmd);
}

static void
init_once(void)
{
	struct dl_err e = { 0 };
	char path[128];

	strcpy(dir, "/tmp/fuzz_control.XXXXXX");
	if (!mkdtemp(dir))
		abort();
	config_init(&bs.cfg);
	if (config_set(&bs.cfg, "node_ip_range", "10.0.0.1,10.0.3.254", &e) < 0)
		abort();
	snprintf(path, sizeof(path), "%s/state.db", dir);
	if (store_open(path, &bs.store, &e) < 0)
		abort();
	log_set_level(-1); /* nothing: the fuzzer's output is for findings */
	atexit(cleanup);
}

struct names {
	char (*v)[MAX_NODE_NAME];
	size_t n, cap;
};

static int
count_one(const struct node_rec *n, void *userdata)
{
	size_t *count = userdata;

	(void)n;
	++*count;
	return 0;
}

static int
collect_one(const struct node_rec *n, void *userdata)
{
	struct names *l = userdata;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		void *v = realloc(l->v, cap * sizeof(*l->v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	strcpy(l->v[l->n++], n->name);
	return 0;
}

static void
trim_store(void)
{
	struct names l = { 0 };
	size_t count = 0;

	(void)store_node_foreach(bs.store, count_one, &count);
	if (count <= MAX_FUZZ_NODES)
		return;
	(void)store_node_foreach(bs.store, collect_one, &l);
	(void)store_begin(bs.store);
	for (size_t i = 0; i < l.n; i++)
		(void)store_node_delete(bs.store, l.v[i]);
	(void)store_commit(bs.store);
	free(l.v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t jerr;
	json_t *o, *ok;
	char *out;
	size_t n;

	if (!bs.store)
		init_once();
	if (size > MAX_FUZZ_INPUT)
		return 0;
	out = control_handle_line(&bs, (const char *)data, size);
	if (!out)
		abort();
	n = strlen(out);
	if (n == 0 || out[n - 1] != '\n' || memchr(out, '\n', n - 1))
		abort();
	o = json_loadb(out, n - 1, 0, &jerr);
	if (!o || !json_is_object(o))
		abort();
	ok = json_object_get(o, "ok");
	if (!json_is_boolean(ok) || !json_object_get(o, "id"))
		abort();
	if (json_is_true(ok) ? !json_is_object(json_object_get(o, "result")) :
	    !json_is_string(json_object_get(json_object_get(o, "error"), "message")))
		abort();
	json_decref(o);
	free(out);
	trim_store();
	return 0;
}
