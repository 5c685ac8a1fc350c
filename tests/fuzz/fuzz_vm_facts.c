/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the facts of a VM host's up report (bootsvc/vm/vm_facts.c), as the
 * "facts" member of a report body, for a kvm node at 10.0.0.5 and a xen node at
 * 10.0.0.6. Accepted facts must name that node's own URI and hold their bounds. */
#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "kind.h"
#include "vm/vm_facts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct { const char *kind, *ip, *uri; } nodes[] = {
		{ "kvm", "10.0.0.5", "qemu+tls://10.0.0.5/system" },
		{ "xen", "10.0.0.6", "xen+tls://10.0.0.6/system" },
	};
	json_error_t jerr;
	json_t *body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);

	if (!body)
		return 0;
	for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		struct vm_facts f;
		struct dl_err e = { 0 };

		if (vm_facts_from_json(json_object_get(body, "facts"), kind_find(nodes[i].kind),
		    nodes[i].ip, &f, &e) < 0) {
			if (!e.msg[0])
				__builtin_trap();
			continue;
		}
		if (strcmp(f.uri, nodes[i].uri) != 0 || f.guest_cpus > f.cpus ||
		    f.guest_memory_mib > f.memory_mib || f.cpus == 0 || f.numa_nodes == 0)
			__builtin_trap();
	}
	json_decref(body);
	return 0;
}
