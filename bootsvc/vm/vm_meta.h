/* SPDX-License-Identifier: MIT */
/* A VM's placement, as whoever defined the domain wrote it in its libvirt metadata
 * (docs/vm.md "Placement"): libvirt is the truth of a VM, so its placement travels with
 * it through every migration and restart, and bootsvc keeps no second copy to drift.
 *
 *   <metadata>
 *     <dl:placement xmlns:dl="https://diskless.dev/xmlns/placement/1" group="db" pin="no"/>
 *   </metadata>
 *
 * group: the anti-affinity group (two VMs of a group never share a host); pin: yes =
 * never moved by a plan; class: the job class of its work (bootsvc.conf `class`): one
 * whose class takes risky nodes stays on a risky host, as its bare-metal jobs would. The element is what virDomainGetMetadata(ELEMENT, VM_META_NS)
 * returns, from a domain anyone with libvirt access may define: parsed strictly,
 * fuzzed (tests/fuzz/fuzz_vm_meta.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define VM_META_NS "https://diskless.dev/xmlns/placement/1"
/* A group name: letters, digits, '.', '_', '-'; one shorter than the store's field. */
#define MAX_VM_GROUP 64
/* Longest element read: libvirt's own serialisation of the two attributes is ~150 bytes;
 * anything much longer is not ours to read. */
#define MAX_VM_META_LEN 1024

/* A job class name, as bootsvc.conf's `class` keys name them (config.h MAX name 31). */
#define MAX_VM_CLASS 32

struct vm_placement {
	char group[MAX_VM_GROUP];   /* "" = none */
	char job_class[MAX_VM_CLASS]; /* "" = none: the job class of the VM's work */
	bool pin;
};

/* Parse the element s (NUL-terminated). 0 and *ret; -EINVAL naming what was wrong (an
 * unknown pin word, a bad group character, no element); *ret is then empty. Unknown
 * attributes (xmlns, a later version's) are ignored. */
int vm_meta_parse(const char *s, struct vm_placement *ret, struct dl_err *reterr);
