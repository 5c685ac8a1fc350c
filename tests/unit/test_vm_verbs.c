/* SPDX-License-Identifier: MIT */
/* The VM verbs (bootsvc/control/verbs_vm.c) and the provision refusal for a VM host that
 * runs VMs (bootsvc/vm/vm_reimage.c), through control_handle_line against a real store:
 * host.list sums what the active domains use, vm.list filters by host, and a reimage of
 * a host with running VMs is refused naming them unless forced or evacuated; and the VM
 * layer's verbs (verbs_vm_plan.c): a dry run stores nothing, a drain and a migration are
 * stored as plans with their reasons before anything moves, provision --evacuate drains
 * and plans, a VM that fits nowhere is refused; a host whose node an admin drained
 * receives no VM. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "control_call.h"
#include "../../bootsvc/vm/vm_policy.h"


static void
add_node(struct bootsvc *bs, const char *name, const char *mac, const char *ip)
{
	struct node_rec n = { 0 };
	struct dl_err e = { 0 };

	snprintf(n.name, sizeof(n.name), "%s", name);
	snprintf(n.mac, sizeof(n.mac), "%s", mac);
	snprintf(n.ip, sizeof(n.ip), "%s", ip);
	strcpy(n.bmc, "127.0.0.1:9623");
	strcpy(n.bmc_creds, "/etc/diskless/bmc/x");
	memset(n.token, 'a', 64);
	strcpy(n.phase, "up");
	strcpy(n.health, "ok");
	n.phase_at = n.created = 1000;
	assert_int_equal(store_node_insert(bs->store, &n, &e), 0);
}

static void
add_image(struct bootsvc *bs)
{
	struct image_rec i = { 0 };
	struct dl_err e = { 0 };
	char sha[SHA256_HEX_SIZE] = { 0 };

	memset(i.id, 'c', 64);
	strcpy(i.name, "kvm");
	strcpy(i.kind, "kvm");
	strcpy(i.path, "/tmp/x");
	memset(sha, '1', 64);
	assert_int_equal(image_rec_file_set(&i, "kernel", sha, 1), 0);
	i.added = 1;
	assert_int_equal(store_image_insert(bs->store, &i, &e), 0);
}

static void
add_host(struct bootsvc *bs, const char *node)
{
	struct vm_host_rec h = { 0 };

	snprintf(h.node, sizeof(h.node), "%s", node);
	strcpy(h.hypervisor, "QEMU");
	strcpy(h.hypervisor_version, "7.2.0");
	strcpy(h.libvirt_version, "9.0.0");
	strcpy(h.uri, "qemu+tls://10.0.0.10/system");
	h.cpus = 8;
	h.memory_mib = 16384;
	h.numa_nodes = 1;
	h.guest_cpus = 7;
	h.guest_memory_mib = 15000;
	strcpy(h.state, "connected");
	assert_int_equal(store_vm_host_put(bs->store, &h), 0);
}

static struct vm_domain_rec
dom(char c, const char *name, const char *state, unsigned vcpus, int64_t kib)
{
	struct vm_domain_rec d = { 0 };

	snprintf(d.uuid, sizeof(d.uuid), "%c%c%c%c%c%c%c%c-0000-4000-8000-000000000000", c, c, c,
	    c, c, c, c, c);
	snprintf(d.name, sizeof(d.name), "%s", name);
	snprintf(d.state, sizeof(d.state), "%s", state);
	d.vcpus = vcpus;
	d.memory_kib = kib;
	d.running_since = strcmp(state, "running") == 0 ? 1000 : 0;
	return d;
}

static void
populate(struct bootsvc *bs)
{
	add_node(bs, "n1", "52:54:00:00:00:01", "10.0.0.10");
	add_node(bs, "n2", "52:54:00:00:00:02", "10.0.0.11");
	add_node(bs, "n3", "52:54:00:00:00:03", "10.0.0.12");
	add_image(bs);
	add_host(bs, "n1");
	add_host(bs, "n2");
	struct vm_domain_rec d1[] = { dom('1', "g1", "running", 2, 524288),
		dom('2', "g2", "paused", 1, 262144), dom('3', "g3", "shutoff", 4, 1048576) };
	struct vm_domain_rec d2[] = { dom('4', "g4", "shutoff", 1, 131072) };
	assert_int_equal(store_vm_domains_reconcile(bs->store, "n1", d1, 3, 5000), 0);
	assert_int_equal(store_vm_domains_reconcile(bs->store, "n2", d2, 1, 5000), 0);
}

static void
test_host_list(void **state)
{
	struct control_fixture *f = *state;
	json_t *resp, *res, *h;

	populate(&f->bs);
	res = check_ok(&f->bs, "{\"id\":1,\"verb\":\"host.list\",\"args\":{}}", &resp);
	assert_int_equal(json_array_size(json_object_get(res, "hosts")), 2);
	h = json_array_get(json_object_get(res, "hosts"), 0);
	assert_string_equal(json_string_value(json_object_get(h, "node")), "n1");
	assert_string_equal(json_string_value(json_object_get(h, "hypervisor")), "QEMU");
	assert_string_equal(json_string_value(json_object_get(h, "state")), "connected");
	assert_string_equal(json_string_value(json_object_get(h, "health")), "ok");
	assert_int_equal(json_integer_value(json_object_get(h, "cpus")), 8);
	/* used: g1 running and g2 paused hold their vCPUs and memory; g3 is shut off */
	assert_int_equal(json_integer_value(json_object_get(h, "cpus_used")), 3);
	assert_int_equal(json_integer_value(json_object_get(h, "memory_used_mib")), 768);
	assert_int_equal(json_integer_value(json_object_get(h, "vms")), 3);
	assert_int_equal(json_integer_value(json_object_get(h, "vms_active")), 2);
	json_decref(resp);
	check_err(&f->bs, "{\"id\":1,\"verb\":\"host.list\",\"args\":{\"x\":1}}", "EINVAL",
	    "x");
}

static void
test_vm_list(void **state)
{
	struct control_fixture *f = *state;
	json_t *resp, *res, *v;

	populate(&f->bs);
	res = check_ok(&f->bs, "{\"id\":1,\"verb\":\"vm.list\",\"args\":{}}", &resp);
	assert_int_equal(json_array_size(json_object_get(res, "vms")), 4);
	json_decref(resp);
	res = check_ok(&f->bs, "{\"id\":1,\"verb\":\"vm.list\",\"args\":{\"host\":\"n1\"}}",
	    &resp);
	assert_int_equal(json_array_size(json_object_get(res, "vms")), 3);
	v = json_array_get(json_object_get(res, "vms"), 0);
	assert_string_equal(json_string_value(json_object_get(v, "name")), "g1");
	assert_string_equal(json_string_value(json_object_get(v, "host")), "n1");
	assert_string_equal(json_string_value(json_object_get(v, "state")), "running");
	assert_int_equal(json_integer_value(json_object_get(v, "vcpus")), 2);
	assert_int_equal(json_integer_value(json_object_get(v, "memory_mib")), 512);
	assert_int_equal(json_integer_value(json_object_get(v, "running_since")), 1000);
	assert_true(json_integer_value(json_object_get(v, "uptime_s")) > 0);
	v = json_array_get(json_object_get(res, "vms"), 2);
	assert_int_equal(json_integer_value(json_object_get(v, "uptime_s")), 0); /* shut off */
	json_decref(resp);
	check_err(&f->bs, "{\"id\":1,\"verb\":\"vm.list\",\"args\":{\"host\":\"n3\"}}",
	    "ENOENT", "no VM host 'n3'");
}

static void
test_provision_refused(void **state)
{
	struct control_fixture *f = *state;
	json_t *resp;
	struct node_rec n;

	populate(&f->bs);
	check_err(&f->bs, "{\"id\":1,\"verb\":\"provision\",\"args\":{\"names\":\"n[1-2]\","
	    "\"image\":\"kvm\"}}", "EBUSY",
	    "n1 runs 2 VMs (g1, g2): add --evacuate (they move first) or --force (they die)");
	/* nothing was changed by the refused request, n2 included */
	assert_int_equal(store_node_get(f->bs.store, "n2", &n), 0);
	assert_string_equal(n.want_power, "");
	/* n2 runs nothing (g4 is shut off): it goes */
	check_ok(&f->bs, "{\"id\":1,\"verb\":\"provision\",\"args\":{\"names\":\"n2\","
	    "\"image\":\"kvm\"}}", &resp);
	json_decref(resp);
	check_ok(&f->bs, "{\"id\":1,\"verb\":\"provision\",\"args\":{\"names\":\"n1\","
	    "\"image\":\"kvm\",\"force\":true}}", &resp);
	json_decref(resp);
	assert_int_equal(store_node_get(f->bs.store, "n1", &n), 0);
	assert_string_equal(n.want_power, "on");
}

/* More running VMs than a message quotes: the first ones, then "...", and the count. */
static void
test_provision_many_named(void **state)
{
	struct control_fixture *f = *state;
	struct vm_domain_rec d[12];
	char name[16];

	add_node(&f->bs, "n1", "52:54:00:00:00:01", "10.0.0.10");
	add_image(&f->bs);
	add_host(&f->bs, "n1");
	for (int i = 0; i < 12; i++) {
		snprintf(name, sizeof(name), "g%02d", i);
		d[i] = dom((char)('a' + i), name, "running", 1, 1024);
	}
	assert_int_equal(store_vm_domains_reconcile(f->bs.store, "n1", d, 12, 5000), 0);
	check_err(&f->bs, "{\"id\":1,\"verb\":\"provision\",\"args\":{\"names\":\"n1\","
	    "\"image\":\"kvm\"}}", "EBUSY",
	    "n1 runs 12 VMs (g00, g01, g02, g03, g04, g05, g06, g07, ...)");
}

static int
count_steps(const struct vm_step_rec *st, void *userdata)
{
	(void)st;
	(*(int *)userdata)++;
	return 0;
}

static int
steps_of(struct bootsvc *bs, int64_t plan)
{
	int n = 0;

	assert_int_equal(store_vm_step_foreach(bs->store, plan, count_steps, &n), 0);
	return n;
}

/* vm.plan is a dry run: the plan and its efficacy, nothing stored, nothing drained. */
static void
test_plan_dry_run(void **state)
{
	struct control_fixture *f = *state;
	json_t *resp, *res, *p;

	populate(&f->bs);
	res = check_ok(&f->bs, "{\"id\":1,\"verb\":\"vm.plan\",\"args\":{\"strategy\":"
	    "\"consolidate\"}}", &resp);
	p = json_object_get(res, "plan");
	assert_int_equal(json_integer_value(json_object_get(p, "id")), 0);
	assert_true(json_is_array(json_object_get(p, "steps")));
	assert_true(json_is_object(json_object_get(p, "efficacy")));
	json_decref(resp);
	res = check_ok(&f->bs, "{\"id\":1,\"verb\":\"vm.plan\",\"args\":{\"strategy\":"
	    "\"evacuate\",\"host\":\"n1\"}}", &resp);
	p = json_object_get(res, "plan");
	/* n1 is not drained or unhealthy: a plain evacuate plan for it moves nothing */
	assert_int_equal(json_integer_value(json_object_get(p, "id")), 0);
	json_decref(resp);
	assert_false(store_vm_drain_get(f->bs.store, "n1", NULL, 0));
	check_err(&f->bs, "{\"id\":1,\"verb\":\"vm.plan\",\"args\":{\"strategy\":\"x\"}}",
	    "EINVAL", "evacuate, thermal or consolidate");
	check_err(&f->bs, "{\"id\":1,\"verb\":\"vm.plans\",\"args\":{\"id\":99}}",
	    "ENOENT", "no plan 99");
}

/* host.drain: the drain and the plan are written, steps pending with their reasons; the
 * VMs it moves are taken by no other plan; --undo ends the drain. */
static void
test_drain(void **state)
{
	struct control_fixture *f = *state;
	json_t *resp, *res, *p, *st;
	char reason[MAX_REASON];
	int64_t id;

	populate(&f->bs);
	res = check_ok(&f->bs, "{\"id\":1,\"verb\":\"host.drain\",\"args\":{\"host\":"
	    "\"n1\",\"reason\":\"fan swap\"}}", &resp);
	p = json_object_get(res, "plan");
	id = json_integer_value(json_object_get(p, "id"));
	assert_true(id > 0);
	assert_int_equal(json_array_size(json_object_get(p, "steps")), 2);
	st = json_array_get(json_object_get(p, "steps"), 0);
	assert_string_equal(json_string_value(json_object_get(st, "from")), "n1");
	assert_string_equal(json_string_value(json_object_get(st, "to")), "n2");
	assert_string_equal(json_string_value(json_object_get(st, "cause")), "drain");
	/* when it answered: nodectl host drain --wait wants a listing after it */
	assert_true(json_integer_value(json_object_get(res, "answered_ms")) > 1700000000000LL);
	json_decref(resp);
	assert_true(store_vm_drain_get(f->bs.store, "n1", reason, sizeof(reason)));
	assert_string_equal(reason, "admin: fan swap");
	assert_int_equal(steps_of(&f->bs, id), 2);
	res = check_ok(&f->bs, "{\"id\":1,\"verb\":\"vm.plans\",\"args\":{}}", &resp);
	p = json_array_get(json_object_get(res, "plans"), 0);
	assert_string_equal(json_string_value(json_object_get(p, "state")), "pending");
	assert_string_equal(json_string_value(json_object_get(p, "strategy")), "evacuate");
	json_decref(resp);
	/* g1 is moved by that plan already: not again */
	check_err(&f->bs, "{\"id\":1,\"verb\":\"vm.migrate\",\"args\":{\"vm\":\"g1\"}}",
	    "EBUSY", "an unfinished plan moves it already");
	res = check_ok(&f->bs, "{\"id\":1,\"verb\":\"host.drain\",\"args\":{\"host\":"
	    "\"n1\",\"undo\":true}}", &resp);
	json_decref(resp);
	assert_false(store_vm_drain_get(f->bs.store, "n1", NULL, 0));
	check_err(&f->bs, "{\"id\":1,\"verb\":\"host.drain\",\"args\":{\"host\":\"n3\"}}",
	    "ENOENT", "no VM host 'n3'");
	/* a drained host whose node left up (powered off) is no VM host, its drain is undone */
	assert_int_equal(store_vm_drain_set(f->bs.store, "n1", true, "admin"), 0);
	assert_int_equal(store_vm_host_delete(f->bs.store, "n1"), 0);
	res = check_ok(&f->bs, "{\"id\":1,\"verb\":\"host.drain\",\"args\":{\"host\":"
	    "\"n1\",\"undo\":true}}", &resp);
	json_decref(resp);
	assert_false(store_vm_drain_get(f->bs.store, "n1", NULL, 0));
	check_err(&f->bs, "{\"id\":1,\"verb\":\"host.drain\",\"args\":{\"host\":\"n9\","
	    "\"undo\":true}}", "ENOENT", "no node 'n9'");
}

/* vm.migrate: to a named host or the best one; the same rules as any plan. */
static void
test_migrate(void **state)
{
	struct control_fixture *f = *state;
	json_t *resp, *res, *st;

	populate(&f->bs);
	check_err(&f->bs, "{\"id\":1,\"verb\":\"vm.migrate\",\"args\":{\"vm\":\"g1\","
	    "\"to\":\"n1\"}}", "EALREADY", "runs on 'n1' already");
	check_err(&f->bs, "{\"id\":1,\"verb\":\"vm.migrate\",\"args\":{\"vm\":\"g3\"}}",
	    "ENOENT", "no running VM 'g3'"); /* shut off: nothing to migrate live */
	check_err(&f->bs, "{\"id\":1,\"verb\":\"vm.migrate\",\"args\":{\"vm\":\"g1\","
	    "\"to\":\"n3\"}}", "ENOENT", "no VM host 'n3'");
	res = check_ok(&f->bs, "{\"id\":1,\"verb\":\"vm.migrate\",\"args\":{\"vm\":"
	    "\"g1\"}}", &resp);
	st = json_array_get(json_object_get(json_object_get(res, "plan"), "steps"), 0);
	assert_string_equal(json_string_value(json_object_get(st, "to")), "n2");
	assert_string_equal(json_string_value(json_object_get(st, "cause")), "manual");
	json_decref(resp);
}

/* A VM too big for any other host: migrate says so; provision --evacuate refuses. */
static void
test_no_room(void **state)
{
	struct control_fixture *f = *state;
	struct vm_domain_rec big = dom('9', "big", "running", 2, 15000 * 1024);
	json_t *resp;

	populate(&f->bs);
	assert_int_equal(store_vm_domains_reconcile(f->bs.store, "n2", &big, 1, 6000), 0);
	/* n2 is full (15000 of 15000 MiB): g1 fits nowhere else */
	check_err(&f->bs, "{\"id\":1,\"verb\":\"vm.migrate\",\"args\":{\"vm\":\"g1\"}}",
	    "ENOSPC", "fits on no other host");
	check_err(&f->bs, "{\"id\":1,\"verb\":\"provision\",\"args\":{\"names\":\"n1\","
	    "\"image\":\"kvm\",\"evacuate\":true}}", "ENOSPC", "2 of n1's VMs fit on no other");
	assert_false(store_vm_drain_get(f->bs.store, "n1", NULL, 0));
	(void)resp;
}

/* provision --evacuate: the node is drained ("reimage: ...") and its VMs planned away. */
static void
test_provision_evacuate(void **state)
{
	struct control_fixture *f = *state;
	char reason[MAX_REASON];
	json_t *resp;
	struct node_rec n;

	populate(&f->bs);
	check_ok(&f->bs, "{\"id\":1,\"verb\":\"provision\",\"args\":{\"names\":\"n1\","
	    "\"image\":\"kvm\",\"evacuate\":true}}", &resp);
	json_decref(resp);
	assert_true(store_vm_drain_get(f->bs.store, "n1", reason, sizeof(reason)));
	assert_non_null(strstr(reason, "reimage: to kvm@"));
	assert_int_equal(steps_of(&f->bs, 0), 2);
	assert_int_equal(store_node_get(f->bs.store, "n1", &n), 0);
	assert_string_equal(n.want_power, "on");
	assert_true(vm_host_in_use(&f->bs, "n1"));
	assert_false(vm_host_in_use(&f->bs, "n3"));
}

/* A risky host keeps the VMs whose job class takes risky nodes; the others move. A
 * doomed host keeps none. */
static void
test_risky_class(void **state)
{
	struct control_fixture *f = *state;
	struct dl_err e = { 0 };
	char reason[MAX_REASON];

	assert_int_equal(config_set(&f->bs.cfg, "class", "grid risky=yes", &e), 0);
	populate(&f->bs);
	struct vm_domain_rec d1[] = { dom('1', "g1", "running", 2, 524288),
		dom('2', "g2", "paused", 1, 262144) };
	strcpy(d1[0].job_class, "grid");
	assert_int_equal(store_vm_domains_reconcile(f->bs.store, "n1", d1, 2, 7000), 0);
	/* the evaluator's reasons name their verdict already: the drain's reason once */
	vm_policy_health(&f->bs, "n1", "risky", "risky: 12 correctable ECC in 24h");
	assert_true(store_vm_drain_get(f->bs.store, "n1", reason, sizeof(reason)));
	assert_string_equal(reason, "risky: 12 correctable ECC in 24h");
	assert_int_equal(steps_of(&f->bs, 0), 1); /* g2 only */
	vm_policy_health(&f->bs, "n1", "doomed", "cpu");
	assert_int_equal(steps_of(&f->bs, 0), 2); /* and now g1, by a second plan */
	assert_true(store_vm_drain_get(f->bs.store, "n1", reason, sizeof(reason)));
	assert_string_equal(reason, "doomed: cpu");
}

/* An admin's node drain (nodectl drain) closes its VM host: it keeps its VMs but
 * receives none, by hand or by a plan; undrain opens it again. */
static void
test_node_drain_closes_host(void **state)
{
	struct control_fixture *f = *state;
	json_t *resp;

	populate(&f->bs);
	check_ok(&f->bs, "{\"id\":1,\"verb\":\"drain\",\"args\":{\"names\":\"n2\"}}", &resp);
	json_decref(resp);
	check_err(&f->bs, "{\"id\":2,\"verb\":\"vm.migrate\",\"args\":{\"vm\":\"g1\"}}",
	    "ENOSPC", "fits on no other host");
	check_err(&f->bs, "{\"id\":3,\"verb\":\"vm.migrate\",\"args\":{\"vm\":\"g1\","
	    "\"to\":\"n2\"}}", "ENOSPC", "does not fit on 'n2'");
	/* n2's own VM stays where it is: no plan was written */
	assert_false(store_vm_drain_get(f->bs.store, "n2", NULL, 0));
	check_ok(&f->bs, "{\"id\":4,\"verb\":\"undrain\",\"args\":{\"names\":\"n2\"}}", &resp);
	json_decref(resp);
	check_ok(&f->bs, "{\"id\":5,\"verb\":\"vm.migrate\",\"args\":{\"vm\":\"g1\","
	    "\"to\":\"n2\"}}", &resp);
	json_decref(resp);
}

static int
last_plan(const struct vm_plan_rec *p, void *userdata)
{
	*(struct vm_plan_rec *)userdata = *p;
	return 0;
}

/* A drained host is kept empty: a listing that shows it running a VM no plan moves (one
 * that came after the drain was planned) plans that VM's evacuation, origin "drain"; a
 * listing after that plans nothing more (the VM is pinned by it), and neither does an
 * undrained host, nor a risky one for the VMs it keeps. */
static void
test_keep_drained(void **state)
{
	struct control_fixture *f = *state;
	struct vm_plan_rec p = { 0 };
	struct dl_err e = { 0 };
	char reason[MAX_REASON];

	assert_int_equal(config_set(&f->bs.cfg, "class", "grid risky=yes", &e), 0);
	populate(&f->bs);
	/* n2 holds only a shut-off VM: drained, it has nothing to move */
	assert_int_equal(store_vm_drain_set(f->bs.store, "n2", true, "admin: fan swap"), 0);
	vm_policy_keep_drained(&f->bs, "n2");
	assert_int_equal(steps_of(&f->bs, 0), 0);
	/* an undrained host running VMs: nothing either */
	vm_policy_keep_drained(&f->bs, "n1");
	assert_int_equal(steps_of(&f->bs, 0), 0);
	/* g5 turns up on the drained n2 */
	struct vm_domain_rec d2[] = { dom('4', "g4", "shutoff", 1, 131072),
		dom('5', "g5", "running", 1, 262144) };
	assert_int_equal(store_vm_domains_reconcile(f->bs.store, "n2", d2, 2, 6000), 0);
	vm_policy_keep_drained(&f->bs, "n2");
	assert_int_equal(steps_of(&f->bs, 0), 1);
	assert_int_equal(store_vm_plan_foreach(f->bs.store, true, last_plan, &p), 0);
	assert_string_equal(p.origin, "drain");
	assert_string_equal(p.strategy, "evacuate");
	assert_string_equal(p.reason, "kept drained (admin: fan swap)");
	/* the drain itself is unchanged */
	assert_true(store_vm_drain_get(f->bs.store, "n2", reason, sizeof(reason)));
	assert_string_equal(reason, "admin: fan swap");
	/* the next listing: g5 is that plan's already */
	vm_policy_keep_drained(&f->bs, "n2");
	assert_int_equal(steps_of(&f->bs, 0), 1);
	/* n1 risky: its grid VM stays, though n3 would take it */
	add_host(&f->bs, "n3");
	struct vm_domain_rec d1[] = { dom('1', "g1", "running", 2, 524288) };
	strcpy(d1[0].job_class, "grid");
	assert_int_equal(store_vm_domains_reconcile(f->bs.store, "n1", d1, 1, 7000), 0);
	assert_int_equal(store_vm_drain_set(f->bs.store, "n1", true, "risky: ecc"), 0);
	vm_policy_keep_drained(&f->bs, "n1");
	assert_int_equal(steps_of(&f->bs, 0), 1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, control_setup, control_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_host_list),
		T(test_vm_list),
		T(test_provision_refused),
		T(test_provision_many_named),
		T(test_plan_dry_run),
		T(test_node_drain_closes_host),
		T(test_drain),
		T(test_migrate),
		T(test_no_room),
		T(test_provision_evacuate),
		T(test_risky_class),
		T(test_keep_drained),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
