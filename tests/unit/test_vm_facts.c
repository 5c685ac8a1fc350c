/* SPDX-License-Identifier: MIT */
/* The facts of a VM host's up report (bootsvc/vm/vm_facts.c): the shape H1's init
 * sends (docs/vm.md "Facts"), and every field that is missing, of the wrong type, out of
 * range, or pointing bootsvc somewhere other than the node itself, refused by name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kind.h"
#include "macro.h"
#include "vm/vm_facts.h"

/* The example of the brief, for a kvm node at 10.0.0.5. */
#define GOOD "\"hypervisor\":\"QEMU\",\"hypervisor_version\":\"7.2.0\"," \
	"\"libvirt_version\":\"9.0.0\",\"uri\":\"qemu+tls://10.0.0.5/system\",\"cpus\":2," \
	"\"memory_mib\":2048,\"numa_nodes\":1,\"guest_cpus\":1,\"guest_memory_mib\":1500"

static const struct {
	const char *kind, *ip, *json; /* json NULL: no facts at all */
	const char *err;              /* NULL: accepted; else a part of the message */
} vectors[] = {
	{ "kvm", "10.0.0.5", "{" GOOD "}", NULL },
	{ "kvm", "10.0.0.5", "{" GOOD ",\"x\":1}", "unknown key" },
	{ "kvm", "10.0.0.5", NULL, "facts missing" },
	{ "kvm", "10.0.0.5", "[]", "must be an object" },
	{ "kvm", "10.0.0.5", "{\"hypervisor\":\"QEMU\"}", "'hypervisor_version' must be a string" },
	{ "kvm", "10.0.0.6", "{" GOOD "}", "'uri' must be 'qemu+tls://10.0.0.6/system'" },
	{ "kvm", "", "{" GOOD "}", "no fixed address" },
	{ "xen", "10.0.0.5", "{" GOOD "}", "'hypervisor' of a xen host must be Xen" },
	{ "linux", "10.0.0.5", "{" GOOD "}", "not a VM host" },
	{ "xen", "10.0.0.7", "{\"hypervisor\":\"Xen\",\"hypervisor_version\":"
	  "\"4.17.3+10-g091466ba55-1~deb12u1\",\"libvirt_version\":\"9.0.0\",\"uri\":"
	  "\"xen+tls://10.0.0.7/system\",\"cpus\":4,\"memory_mib\":8192,\"numa_nodes\":2,"
	  "\"guest_cpus\":3,\"guest_memory_mib\":6000}", NULL },
	{ "kvm", "10.0.0.5", "{\"hypervisor\":\"QEMU\",\"hypervisor_version\":\"seven\","
	  "\"libvirt_version\":\"9.0.0\",\"uri\":\"qemu+tls://10.0.0.5/system\",\"cpus\":2,"
	  "\"memory_mib\":2048,\"numa_nodes\":1,\"guest_cpus\":1,\"guest_memory_mib\":1500}",
	  "'hypervisor_version' is not a version" },
	{ "kvm", "10.0.0.5", "{\"hypervisor\":\"QEMU\",\"hypervisor_version\":\"7.2.0\","
	  "\"libvirt_version\":\"9.0.0\",\"uri\":\"qemu+tls://10.0.0.5/system\",\"cpus\":0,"
	  "\"memory_mib\":2048,\"numa_nodes\":1,\"guest_cpus\":1,\"guest_memory_mib\":1500}",
	  "'cpus' must be an integer 1..8192" },
	{ "kvm", "10.0.0.5", "{\"hypervisor\":\"QEMU\",\"hypervisor_version\":\"7.2.0\","
	  "\"libvirt_version\":\"9.0.0\",\"uri\":\"qemu+tls://10.0.0.5/system\",\"cpus\":2,"
	  "\"memory_mib\":2048,\"numa_nodes\":1,\"guest_cpus\":3,\"guest_memory_mib\":1500}",
	  "'guest_cpus' must be an integer 0..2" },
	{ "kvm", "10.0.0.5", "{\"hypervisor\":\"QEMU\",\"hypervisor_version\":\"7.2.0\","
	  "\"libvirt_version\":\"9.0.0\",\"uri\":\"qemu+tls://10.0.0.5/system\",\"cpus\":2,"
	  "\"memory_mib\":2048,\"numa_nodes\":1,\"guest_cpus\":1,\"guest_memory_mib\":4096}",
	  "'guest_memory_mib' must be an integer 0..2048" },
	{ "kvm", "10.0.0.5", "{\"hypervisor\":\"QEMU\",\"hypervisor_version\":\"7.2.0\","
	  "\"libvirt_version\":\"9.0.0\",\"uri\":\"qemu+tls://10.0.0.5/system\",\"cpus\":2,"
	  "\"memory_mib\":\"2048\",\"numa_nodes\":1,\"guest_cpus\":1,\"guest_memory_mib\":1}",
	  "'memory_mib' must be an integer" },
	/* a node naming another place to connect to, even with a path or query */
	{ "kvm", "10.0.0.5", "{\"hypervisor\":\"QEMU\",\"hypervisor_version\":\"7.2.0\","
	  "\"libvirt_version\":\"9.0.0\",\"uri\":\"qemu+tls://10.0.0.5/system?pkipath=/tmp\","
	  "\"cpus\":2,\"memory_mib\":2048,\"numa_nodes\":1,\"guest_cpus\":1,"
	  "\"guest_memory_mib\":1500}", "'uri' must be" },
	{ "kvm", "10.0.0.5", "{\"hypervisor\":\"QEMU\",\"hypervisor_version\":\"7.2.0\","
	  "\"libvirt_version\":\"9.0.0\",\"uri\":\"qemu+tcp://10.0.0.5/system\","
	  "\"cpus\":2,\"memory_mib\":2048,\"numa_nodes\":1,\"guest_cpus\":1,"
	  "\"guest_memory_mib\":1500}", "'uri' must be" },
};

static void
test_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(vectors); i++) {
		json_error_t jerr;
		json_t *o = vectors[i].json ? json_loads(vectors[i].json, 0, &jerr) : NULL;
		struct vm_facts f;
		struct dl_err e = { 0 };
		int r;

		if (vectors[i].json && !o)
			fail_msg("vector %zu: bad JSON: %s", i, jerr.text);
		memset(&f, 0x5a, sizeof(f));
		r = vm_facts_from_json(o, kind_find(vectors[i].kind), vectors[i].ip, &f, &e);
		if (!vectors[i].err) {
			if (r != 0)
				fail_msg("vector %zu refused: %s", i, e.msg);
			assert_true(f.cpus >= 1 && f.guest_cpus <= f.cpus);
		} else {
			if (r != -EINVAL || !strstr(e.msg, vectors[i].err))
				fail_msg("vector %zu: r=%d msg '%s', want '%s'", i, r, e.msg,
				    vectors[i].err);
			assert_int_equal(((unsigned char *)&f)[0], 0x5a); /* untouched */
		}
		json_decref(o);
	}
}

static void
test_good_fields(void **state)
{
	json_t *o = json_loads("{" GOOD "}", 0, NULL);
	struct vm_facts f;
	struct dl_err e = { 0 };
	char uri[64];

	(void)state;
	assert_int_equal(vm_facts_from_json(o, kind_find("kvm"), "10.0.0.5", &f, &e), 0);
	assert_string_equal(f.hypervisor, "QEMU");
	assert_string_equal(f.hypervisor_version, "7.2.0");
	assert_string_equal(f.libvirt_version, "9.0.0");
	assert_string_equal(f.uri, "qemu+tls://10.0.0.5/system");
	assert_int_equal(f.cpus, 2);
	assert_int_equal(f.memory_mib, 2048);
	assert_int_equal(f.numa_nodes, 1);
	assert_int_equal(f.guest_cpus, 1);
	assert_int_equal(f.guest_memory_mib, 1500);
	json_decref(o);
	assert_int_equal(vm_facts_uri(kind_find("xen"), "10.1.2.3", uri, sizeof(uri)), 0);
	assert_string_equal(uri, "xen+tls://10.1.2.3/system");
	assert_int_equal(vm_facts_uri(kind_find("linux"), "10.1.2.3", uri, sizeof(uri)), -EINVAL);
	assert_int_equal(vm_facts_uri(kind_find("kvm"), "10.1.2.3", uri, 8), -ENAMETOOLONG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_good_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
