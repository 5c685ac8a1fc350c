/* SPDX-License-Identifier: MIT */
/* The store's VM hosts and domains (issue 12) against a real SQLite file: a host row per
 * node (gone with it), and domains reconciled with what libvirt lists: a domain not listed
 * is gone, one listed on another host moves, a running one keeps its first-seen time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../bootsvc/store/store.h"
#include "store_dir.h"

static struct vm_host_rec
host(const char *node)
{
	struct vm_host_rec h = { 0 };

	snprintf(h.node, sizeof(h.node), "%s", node);
	strcpy(h.hypervisor, "QEMU");
	strcpy(h.hypervisor_version, "7.2.0");
	strcpy(h.libvirt_version, "9.0.0");
	snprintf(h.uri, sizeof(h.uri), "qemu+tls://10.0.0.1/system");
	h.cpus = 8;
	h.memory_mib = 16384;
	h.numa_nodes = 2;
	h.guest_cpus = 6;
	h.guest_memory_mib = 14000;
	strcpy(h.state, "connecting");
	h.state_since = 1000;
	return h;
}

static struct vm_domain_rec
dom(char uuid_digit, const char *name, const char *state, int64_t since)
{
	struct vm_domain_rec d = { 0 };

	snprintf(d.uuid, sizeof(d.uuid), "%c%c%c%c%c%c%c%c-0000-4000-8000-000000000000",
	    uuid_digit, uuid_digit, uuid_digit, uuid_digit, uuid_digit, uuid_digit, uuid_digit,
	    uuid_digit);
	snprintf(d.name, sizeof(d.name), "%s", name);
	snprintf(d.state, sizeof(d.state), "%s", state);
	d.vcpus = 1;
	d.memory_kib = 131072;
	d.running_since = since;
	return d;
}

struct seen {
	struct vm_domain_rec d[8];
	size_t n;
};

static int
collect(const struct vm_domain_rec *d, void *userdata)
{
	struct seen *s = userdata;

	assert_true(s->n < ELEMENTSOF(s->d));
	s->d[s->n++] = *d;
	return 0;
}

static struct seen
list(struct store *s, const char *h)
{
	struct seen out = { 0 };

	assert_int_equal(store_vm_domain_foreach(s, h, collect, &out), 0);
	return out;
}

static void
test_host_rows(void **state)
{
	struct store_dir *f = *state;
	struct vm_host_rec h = host("n1"), got;

	/* a host needs its node */
	assert_int_equal(store_vm_host_put(f->s, &h), -ENOENT);
	store_dir_add_node(f->s, "n1", "52:54:00:00:00:01", "up");
	assert_int_equal(store_vm_host_put(f->s, &h), 0);
	assert_int_equal(store_vm_host_get(f->s, "n1", &got), 0);
	assert_memory_equal(&got, &h, sizeof(h));
	strcpy(h.state, "lost");
	strcpy(h.state_reason, "End of file while reading data");
	h.state_since = 2000;
	assert_int_equal(store_vm_host_put(f->s, &h), 0);
	assert_int_equal(store_vm_host_get(f->s, "n1", &got), 0);
	assert_string_equal(got.state, "lost");
	assert_string_equal(got.state_reason, "End of file while reading data");
	assert_int_equal(got.state_since, 2000);
	/* removing the node removes its host row and domains */
	struct vm_domain_rec d = dom('1', "g1", "running", 5);
	assert_int_equal(store_vm_domains_reconcile(f->s, "n1", &d, 1, 10000), 0);
	assert_int_equal(store_node_delete(f->s, "n1"), 0);
	assert_int_equal(store_vm_host_get(f->s, "n1", &got), -ENOENT);
	assert_int_equal(list(f->s, NULL).n, 0);
	assert_int_equal(store_vm_host_delete(f->s, "n1"), -ENOENT);
}

static void
test_reconcile(void **state)
{
	struct store_dir *f = *state;
	struct vm_host_rec h1 = host("n1"), h2 = host("n2");
	struct seen s;

	store_dir_add_node(f->s, "n1", "52:54:00:00:00:01", "up");
	store_dir_add_node(f->s, "n2", "52:54:00:00:00:02", "up");
	assert_int_equal(store_vm_host_put(f->s, &h1), 0);
	assert_int_equal(store_vm_host_put(f->s, &h2), 0);
	/* no such host: nothing written */
	struct vm_domain_rec one = dom('9', "x", "running", 1);
	assert_int_equal(store_vm_domains_reconcile(f->s, "n3", &one, 1, 1000), -ENOENT);
	assert_int_equal(list(f->s, NULL).n, 0);

	/* first listing on n1: g2 running (since 100), g1 shut off */
	struct vm_domain_rec l1[] = { dom('2', "g2", "running", 100), dom('1', "g1", "shutoff", 0) };
	assert_int_equal(store_vm_domains_reconcile(f->s, "n1", l1, 2, 100000), 0);
	s = list(f->s, "n1");
	assert_int_equal(s.n, 2);
	assert_string_equal(s.d[0].name, "g1"); /* name order */
	assert_string_equal(s.d[0].host, "n1");
	assert_int_equal(s.d[0].running_since, 0);
	assert_string_equal(s.d[1].name, "g2");
	assert_int_equal(s.d[1].running_since, 100);
	assert_int_equal(s.d[1].last_seen, 100000);

	/* second listing: g2 still running (the new time is ignored: its uptime counts from
	 * the first), g1 started (since 200), g3 new */
	struct vm_domain_rec l2[] = { dom('2', "g2", "running", 200), dom('1', "g1", "running", 200),
		dom('3', "g3", "paused", 0) };
	/* g3's placement (from its metadata) is kept with it */
	strcpy(l2[2].group, "db");
	l2[2].pinned = true;
	assert_int_equal(store_vm_domains_reconcile(f->s, "n1", l2, 3, 110000), 0);
	s = list(f->s, "n1");
	assert_int_equal(s.n, 3);
	assert_string_equal(s.d[2].group, "db");
	assert_true(s.d[2].pinned);
	assert_string_equal(s.d[0].group, "");
	assert_false(s.d[0].pinned);
	assert_int_equal(s.d[0].running_since, 200);
	assert_int_equal(s.d[1].running_since, 100);
	assert_string_equal(s.d[2].state, "paused");

	/* rewriting the host's row (its state, each refresh) keeps its domains */
	strcpy(h1.state, "connected");
	h1.last_seen = 2000;
	assert_int_equal(store_vm_host_put(f->s, &h1), 0);
	assert_int_equal(list(f->s, "n1").n, 3);

	/* g2 migrated: n2 lists it. It moves (one row), and its uptime starts again there */
	struct vm_domain_rec l3[] = { dom('2', "g2", "running", 300) };
	assert_int_equal(store_vm_domains_reconcile(f->s, "n2", l3, 1, 120000), 0);
	s = list(f->s, NULL);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.d[0].host, "n1");
	assert_string_equal(s.d[1].host, "n1");
	assert_string_equal(s.d[2].host, "n2");
	assert_string_equal(s.d[2].name, "g2");
	assert_int_equal(s.d[2].running_since, 300);

	/* n1 now lists only g1: g3 is gone from the store, g2 stays on n2 */
	struct vm_domain_rec l4[] = { dom('1', "g1", "running", 400) };
	assert_int_equal(store_vm_domains_reconcile(f->s, "n1", l4, 1, 130000), 0);
	s = list(f->s, NULL);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.d[0].name, "g1");
	assert_int_equal(s.d[0].running_since, 200);
	assert_string_equal(s.d[1].name, "g2");

	/* g1 shuts off: not running any more */
	struct vm_domain_rec l5[] = { dom('1', "g1", "shutoff", 0) };
	assert_int_equal(store_vm_domains_reconcile(f->s, "n1", l5, 1, 140000), 0);
	assert_int_equal(list(f->s, "n1").d[0].running_since, 0);
	/* an empty listing empties the host */
	assert_int_equal(store_vm_domains_reconcile(f->s, "n1", NULL, 0, 150000), 0);
	assert_int_equal(list(f->s, "n1").n, 0);
	assert_int_equal(list(f->s, "n2").n, 1);
	/* deleting the host row takes its domains */
	assert_int_equal(store_vm_host_delete(f->s, "n2"), 0);
	assert_int_equal(list(f->s, NULL).n, 0);
}

/* A migration reported done moves the row at once; the hosts' listings still decide. */
static void
test_domain_moved(void **state)
{
	struct store_dir *f = *state;
	struct vm_host_rec h1 = host("n1"), h2 = host("n2");
	struct vm_domain_rec l1[] = { dom('1', "g1", "running", 100), dom('2', "g2", "shutoff", 0) };
	struct seen s;

	store_dir_add_node(f->s, "n1", "52:54:00:00:00:01", "up");
	store_dir_add_node(f->s, "n2", "52:54:00:00:00:02", "up");
	assert_int_equal(store_vm_host_put(f->s, &h1), 0);
	assert_int_equal(store_vm_host_put(f->s, &h2), 0);
	assert_int_equal(store_vm_domains_reconcile(f->s, "n1", l1, 2, 100000), 0);

	/* no such domain, no such host: nothing moves */
	assert_int_equal(store_vm_domain_moved(f->s, "99999999-0000-4000-8000-000000000000", "n1",
	    "n2", 110000), -ENOENT);
	assert_int_equal(store_vm_domain_moved(f->s, l1[0].uuid, "n1", "n3", 110000), -ENOENT);
	assert_int_equal(list(f->s, "n1").n, 2);

	/* g1 moved to n2: one row, there, its uptime from the move */
	assert_int_equal(store_vm_domain_moved(f->s, l1[0].uuid, "n1", "n2", 110000), 0);
	s = list(f->s, NULL);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.d[0].name, "g2");
	assert_string_equal(s.d[0].host, "n1");
	assert_string_equal(s.d[1].name, "g1");
	assert_string_equal(s.d[1].host, "n2");
	assert_int_equal(s.d[1].running_since, 110);
	assert_int_equal(s.d[1].last_seen, 110000);

	/* listings asked for before the move, back after it: n1's (still with g1) does not
	 * move it back, n2's (not yet with it) does not drop it */
	struct vm_domain_rec l0[] = { dom('2', "g2", "shutoff", 0), dom('1', "g1", "running", 100) };
	assert_int_equal(store_vm_domains_reconcile(f->s, "n1", l0, 2, 105000), 0);
	assert_int_equal(store_vm_domains_reconcile(f->s, "n2", NULL, 0, 106000), 0);
	s = list(f->s, "n2");
	assert_int_equal(s.n, 1);
	assert_string_equal(s.d[0].name, "g1");
	assert_int_equal(s.d[0].last_seen, 110000);

	/* n1's next listing (without g1) leaves it on n2; n2's (with it) keeps its uptime */
	struct vm_domain_rec l2[] = { dom('2', "g2", "shutoff", 0) };
	assert_int_equal(store_vm_domains_reconcile(f->s, "n1", l2, 1, 120000), 0);
	struct vm_domain_rec l3[] = { dom('1', "g1", "running", 125) };
	assert_int_equal(store_vm_domains_reconcile(f->s, "n2", l3, 1, 125000), 0);
	s = list(f->s, "n2");
	assert_int_equal(s.n, 1);
	assert_int_equal(s.d[0].running_since, 110);
	assert_int_equal(list(f->s, "n1").n, 1);

	/* a listing has the last word: n1 lists g1 again (the move was undone), it is back */
	struct vm_domain_rec l4[] = { dom('2', "g2", "shutoff", 0), dom('1', "g1", "running", 130) };
	assert_int_equal(store_vm_domains_reconcile(f->s, "n1", l4, 2, 130000), 0);
	assert_int_equal(list(f->s, "n1").n, 2);
	assert_int_equal(list(f->s, "n2").n, 0);
}

/* A reconcile inside a transaction that is rolled back leaves nothing. */
static void
test_reconcile_rolled_back(void **state)
{
	struct store_dir *f = *state;
	struct vm_host_rec h = host("n1");
	struct vm_domain_rec d = dom('1', "g1", "running", 5);

	store_dir_add_node(f->s, "n1", "52:54:00:00:00:01", "up");
	assert_int_equal(store_vm_host_put(f->s, &h), 0);
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_vm_domains_reconcile(f->s, "n1", &d, 1, 1000), 0);
	assert_int_equal(list(f->s, NULL).n, 1);
	store_rollback(f->s);
	assert_int_equal(list(f->s, NULL).n, 0);
}

static int
count_hosts(const struct vm_host_rec *h, void *userdata)
{
	(void)h;
	(*(int *)userdata)++;
	return 0;
}

static void
test_host_foreach(void **state)
{
	struct store_dir *f = *state;
	int n = 0;

	store_dir_add_node(f->s, "n1", "52:54:00:00:00:01", "up");
	store_dir_add_node(f->s, "n2", "52:54:00:00:00:02", "up");
	store_dir_add_node(f->s, "n3", "52:54:00:00:00:03", "up");
	struct vm_host_rec a = host("n3"), b = host("n1");
	assert_int_equal(store_vm_host_put(f->s, &a), 0);
	assert_int_equal(store_vm_host_put(f->s, &b), 0);
	assert_int_equal(store_vm_host_foreach(f->s, count_hosts, &n), 0);
	assert_int_equal(n, 2);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, store_dir_setup, store_dir_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_host_rows),
		T(test_reconcile),
		T(test_domain_moved),
		T(test_reconcile_rolled_back),
		T(test_host_foreach),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
