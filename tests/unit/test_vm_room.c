/* SPDX-License-Identifier: MIT */
/* The vm room (bootsvc/vm/vm.c) end to end on its real machinery (the libvirt pool,
 * libvirt's event thread, the loop, the store) against libvirt's built-in test driver
 * (test:///default: a fake hypervisor with one running domain, "test", no daemon): a
 * host row whose node is up is connected, read and its domain reconciled into the store;
 * a host whose node leaves up is dropped with its domains; one whose libvirt cannot be
 * reached is lost, with the event and the node risky. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../bootsvc/action/action.h"
#include "../../bootsvc/vm/vm.h"
#include "log.h"
#include "loop_wait.h"
#include "store_dir.h"

struct fixture {
	struct store_dir sd;
	struct bootsvc bs;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct action_pool_conf pools[_ACTION_POOL_MAX];
	struct dl_err e = { 0 };

	if (!f || store_dir_open(&f->sd) < 0 || loop_new(&f->bs.loop) < 0)
		return -1;
	f->bs.store = f->sd.s;
	config_init(&f->bs.cfg);
	snprintf(f->bs.cfg.state_dir, sizeof(f->bs.cfg.state_dir), "%s", f->sd.dir);
	snprintf(f->bs.cfg.libvirt_pki_dir, sizeof(f->bs.cfg.libvirt_pki_dir), "%s/pki",
	    f->sd.dir);
	f->bs.cfg.vm_poll_ms = 1000;
	log_set_level(getenv("TEST_DEBUG") ? 7 : -1);
	action_pools_conf(&f->bs.cfg, pools);
	if (action_new(&f->bs, pools, _ACTION_POOL_MAX, &f->bs.action, &e) < 0)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	f->bs.action = action_free(f->bs.action);
	f->bs.vm = vm_free(f->bs.vm);
	f->bs.loop = loop_free(f->bs.loop);
	store_dir_remove(&f->sd);
	free(f);
	return 0;
}

static void
add_node(struct fixture *f, const char *name, const char *mac)
{
	struct node_rec n = { 0 };
	struct dl_err e = { 0 };

	snprintf(n.name, sizeof(n.name), "%s", name);
	snprintf(n.mac, sizeof(n.mac), "%s", mac);
	memset(n.token, 'a', 64);
	strcpy(n.phase, "up");
	strcpy(n.health, "ok");
	n.phase_at = n.created = 1000;
	assert_int_equal(store_node_insert(f->bs.store, &n, &e), 0);
}

/* A host row as vm_host_register writes it, with a URI of our choosing: the room takes
 * the URI from the row (bootsvc wrote it), so the test driver stands in for libvirtd. */
static void
add_host(struct fixture *f, const char *node, const char *uri)
{
	struct vm_host_rec h = { 0 };

	snprintf(h.node, sizeof(h.node), "%s", node);
	strcpy(h.hypervisor, "QEMU");
	snprintf(h.uri, sizeof(h.uri), "%s", uri);
	h.cpus = 1;
	strcpy(h.state, "connecting");
	assert_int_equal(store_vm_host_put(f->bs.store, &h), 0);
}

struct want {
	struct fixture *f;
	const char *node, *state;
	size_t domains;
};

static int
count(const struct vm_domain_rec *d, void *userdata)
{
	(void)d;
	(*(size_t *)userdata)++;
	return 0;
}

static bool
host_reached(void *arg)
{
	struct want *w = arg;
	struct vm_host_rec h;
	size_t n = 0;

	if (store_vm_host_get(w->f->bs.store, w->node, &h) < 0)
		return w->state == NULL;
	(void)store_vm_domain_foreach(w->f->bs.store, w->node, count, &n);
	return w->state && strcmp(h.state, w->state) == 0 && n == w->domains;
}

static struct vm_domain_rec got;

static int
keep(const struct vm_domain_rec *d, void *userdata)
{
	(void)userdata;
	got = *d;
	return 0;
}

static void
test_connect_list_drop(void **state)
{
	struct fixture *f = *state;
	struct dl_err e = { 0 };
	struct want w = { .f = f, .node = "hv1", .state = "connected", .domains = 1 };
	struct vm_host_rec h;

	add_node(f, "hv1", "52:54:00:00:00:01");
	add_host(f, "hv1", "test:///default");
	if (vm_new(&f->bs, &f->bs.vm, &e) < 0)
		fail_msg("vm_new: %s", e.msg);
	assert_true(loop_wait(f->bs.loop, host_reached, NULL, &w, 20000));
	assert_int_equal(store_vm_domain_foreach(f->bs.store, "hv1", keep, NULL), 0);
	assert_string_equal(got.name, "test");
	assert_string_equal(got.state, "running");
	assert_true(got.running_since > 0);
	assert_int_equal(store_vm_host_get(f->bs.store, "hv1", &h), 0);
	assert_true(h.last_seen > 0);
	assert_true(h.cpus > 0); /* the test driver's node info replaced the facts' */
	assert_false(vm_host_is_lost(f->bs.vm, "hv1"));

	/* the node leaves up: the host is dropped, its row and domains with it */
	assert_int_equal(store_node_set_phase(f->bs.store, "hv1", "pxe", "", 2000), 0);
	notify(&f->bs.notify, NOTIFY_NODE);
	w.state = NULL;
	assert_true(loop_wait(f->bs.loop, host_reached, NULL, &w, 20000));
	assert_int_equal(store_vm_domain_foreach(f->bs.store, NULL, count, &(size_t){ 0 }), 0);
}

struct lost {
	struct fixture *f;
};

static int
has_lost_event(const struct event_rec *e, void *userdata)
{
	if (strcmp(e->what, "host-lost") == 0)
		(*(int *)userdata)++;
	return 0;
}

static bool
lost_seen(void *arg)
{
	struct fixture *f = arg;
	int n = 0;

	(void)store_events_since(f->bs.store, 0, 100, has_lost_event, &n);
	return n == 1 && vm_host_is_lost(f->bs.vm, "hv2");
}

/* A host whose libvirtd does not answer (loopback port 1 refuses):
 * lost at the first try, one event, the node risky, and a retry later (no second
 * event). */
static void
test_unreachable_is_lost(void **state)
{
	struct fixture *f = *state;
	struct dl_err e = { 0 };
	struct vm_host_rec h;
	struct node_rec n;

	add_node(f, "hv2", "52:54:00:00:00:02");
	add_host(f, "hv2", "qemu+tcp://127.0.0.1:1/system");
	if (vm_new(&f->bs, &f->bs.vm, &e) < 0)
		fail_msg("vm_new: %s", e.msg);
	assert_true(loop_wait(f->bs.loop, lost_seen, NULL, f, 20000));
	/* a few more seconds: retries (1 s, 2 s) fail without a second event */
	(void)loop_wait(f->bs.loop, NULL, NULL, NULL, 3500);
	assert_true(lost_seen(f));
	assert_int_equal(store_vm_host_get(f->bs.store, "hv2", &h), 0);
	assert_string_equal(h.state, "lost");
	assert_true(h.state_reason[0] != '\0');
	assert_int_equal(store_node_get(f->bs.store, "hv2", &n), 0);
	assert_string_equal(n.health, "risky");
	assert_string_equal(n.health_reasons, VM_HEALTH_REASON);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_connect_list_drop),
		T(test_unreachable_is_lost),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
