/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "macro.h"
#include "vm/vm_facts.h"

int
vm_facts_uri(const struct kind *k, const char *ip, char *buf, size_t size)
{
	int n;

	if (!k || !kind_is_vm_host(k))
		return -EINVAL;
	n = snprintf(buf, size, "%s+tls://%s/system", k->libvirt, ip);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* A version as libvirt and hypervisors print them: starts with a digit, then digits,
 * letters and . + ~ - (Debian's "4.17.3+10-g091466ba55-1~deb12u1" fits). */
static bool
version_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= MAX_VM_VERSION || s[0] < '0' || s[0] > '9')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    c == '.' || c == '+' || c == '~' || c == '-'))
			return false;
	}
	return true;
}

static int
get_int(const json_t *o, const char *key, long long min, long long max, long long *ret,
    struct dl_err *reterr)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return dl_err_set(reterr, -EINVAL, "facts: '%s' must be an integer %lld..%lld",
		    key, min, max);
	*ret = json_integer_value(v);
	return 0;
}

static int
get_str(const json_t *o, const char *key, size_t max, const char **ret, struct dl_err *reterr)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_string(v))
		return dl_err_set(reterr, -EINVAL, "facts: '%s' must be a string", key);
	if (json_string_length(v) >= max || strlen(json_string_value(v)) != json_string_length(v))
		return dl_err_set(reterr, -EINVAL, "facts: '%s' is longer than %zu bytes or "
		    "holds a NUL", key, max - 1);
	*ret = json_string_value(v);
	return 0;
}

int
vm_facts_from_json(const json_t *o, const struct kind *k, const char *ip,
    struct vm_facts *ret, struct dl_err *reterr)
{
	static const char *const keys[] = { "hypervisor", "hypervisor_version",
		"libvirt_version", "uri", "cpus", "memory_mib", "numa_nodes", "guest_cpus",
		"guest_memory_mib" };
	const char *hv, *hv_ver, *lv_ver, *uri, *key;
	long long cpus, mem, numa, gcpus, gmem;
	char want[MAX_VM_URI];
	struct vm_facts f = { 0 };
	json_t *v;
	int r;

	if (!k || !kind_is_vm_host(k))
		return dl_err_set(reterr, -EINVAL, "facts: kind '%s' is not a VM host",
		    k ? k->name : "?");
	if (!o)
		return dl_err_set(reterr, -EINVAL, "facts missing (a VM host reports them "
		    "with up)");
	if (!json_is_object(o))
		return dl_err_set(reterr, -EINVAL, "facts must be an object");
	/* Unknown keys are errors: a node must not think it said something we ignored. */
	json_object_foreach((json_t *)o, key, v) {
		bool known = false;

		for (size_t i = 0; i < ELEMENTSOF(keys); i++)
			known |= strcmp(key, keys[i]) == 0;
		if (!known)
			return dl_err_set(reterr, -EINVAL, "facts: unknown key (known: hypervisor, "
			    "hypervisor_version, libvirt_version, uri, cpus, memory_mib, "
			    "numa_nodes, guest_cpus, guest_memory_mib)");
	}
	if ((r = get_str(o, "hypervisor", sizeof(f.hypervisor), &hv, reterr)) < 0 ||
	    (r = get_str(o, "hypervisor_version", MAX_VM_VERSION, &hv_ver, reterr)) < 0 ||
	    (r = get_str(o, "libvirt_version", MAX_VM_VERSION, &lv_ver, reterr)) < 0 ||
	    (r = get_str(o, "uri", MAX_VM_URI, &uri, reterr)) < 0 ||
	    (r = get_int(o, "cpus", 1, MAX_VM_FACT_CPUS, &cpus, reterr)) < 0 ||
	    (r = get_int(o, "memory_mib", 1, MAX_VM_FACT_MEMORY_MIB, &mem, reterr)) < 0 ||
	    (r = get_int(o, "numa_nodes", 1, MAX_VM_FACT_NUMA, &numa, reterr)) < 0 ||
	    (r = get_int(o, "guest_cpus", 0, cpus, &gcpus, reterr)) < 0 ||
	    (r = get_int(o, "guest_memory_mib", 0, mem, &gmem, reterr)) < 0)
		return r;
	/* The driver's own name for its hypervisor: qemu's is "QEMU", xen's "Xen". */
	if (strcasecmp(hv, k->libvirt) != 0)
		return dl_err_set(reterr, -EINVAL, "facts: 'hypervisor' of a %s host must be "
		    "%s", k->name, strcmp(k->libvirt, "qemu") == 0 ? "QEMU" : "Xen");
	if (!version_ok(hv_ver))
		return dl_err_set(reterr, -EINVAL, "facts: 'hypervisor_version' is not a "
		    "version (a digit, then digits, letters, '.', '+', '~', '-')");
	if (!version_ok(lv_ver))
		return dl_err_set(reterr, -EINVAL, "facts: 'libvirt_version' is not a version "
		    "(a digit, then digits, letters, '.', '+', '~', '-')");
	if (!ip || !ip[0] || vm_facts_uri(k, ip, want, sizeof(want)) < 0)
		return dl_err_set(reterr, -EINVAL, "facts: 'uri': the node has no fixed address "
		    "for bootsvc to reach its libvirtd at");
	if (strcmp(uri, want) != 0)
		return dl_err_set(reterr, -EINVAL, "facts: 'uri' must be '%s' (the kind's "
		    "driver over TLS at the node's own address)", want);
	(void)snprintf(f.hypervisor, sizeof(f.hypervisor), "%s", hv);
	(void)snprintf(f.hypervisor_version, sizeof(f.hypervisor_version), "%s", hv_ver);
	(void)snprintf(f.libvirt_version, sizeof(f.libvirt_version), "%s", lv_ver);
	(void)snprintf(f.uri, sizeof(f.uri), "%s", uri);
	f.cpus = (unsigned)cpus;
	f.memory_mib = mem;
	f.numa_nodes = (unsigned)numa;
	f.guest_cpus = (unsigned)gcpus;
	f.guest_memory_mib = gmem;
	*ret = f;
	return 0;
}
