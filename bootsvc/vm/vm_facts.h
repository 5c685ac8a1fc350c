/* SPDX-License-Identifier: MIT */
/* The facts a VM host reports with its up (issue 12, docs/vm.md "Facts"): what
 * hypervisor it runs, how bootsvc reaches its libvirtd, what it has and what it leaves to
 * guests. Input from a booting node, so parsed strictly, once, here (CONVENTIONS §8):
 * every key required, no other key, every number in range. Pure: no I/O, no logging. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"
#include "kind.h"
#include "store/store.h"

/* Bounds of what a host may say it has. CPUs: Linux's NR_CPUS of Debian's kernel is
 * 8192; memory: 64 TiB is above any x86 board sold today; NUMA nodes: Linux's
 * MAX_NUMNODES is 1024. A value past them is a lie or a bug, refused, not clamped. */
#define MAX_VM_FACT_CPUS 8192
#define MAX_VM_FACT_MEMORY_MIB (64LL * 1024 * 1024)
#define MAX_VM_FACT_NUMA 1024

struct vm_facts {
	char hypervisor[16];      /* "QEMU" or "Xen": matches the kind's driver */
	char hypervisor_version[MAX_VM_VERSION];
	char libvirt_version[MAX_VM_VERSION];
	char uri[MAX_VM_URI];     /* exactly vm_facts_uri() of the node's kind and address */
	unsigned cpus, numa_nodes, guest_cpus;
	int64_t memory_mib, guest_memory_mib;
};

/* The URI bootsvc reaches a host of kind k at address ip by: "<k->libvirt>+tls://<ip>/
 * system". -EINVAL when k is not a VM-host kind, -ENAMETOOLONG when it does not fit. */
int vm_facts_uri(const struct kind *k, const char *ip, char *buf, size_t size);

/* Parse o, the "facts" object of an up report of a node at fixed address ip (may be "":
 * then no URI can match) booted on kind k, into *ret. Exactly the keys hypervisor,
 * hypervisor_version, libvirt_version, uri (strings), cpus, memory_mib, numa_nodes,
 * guest_cpus, guest_memory_mib (integers); hypervisor must be k's driver (case aside),
 * the URI exactly vm_facts_uri(k, ip): bootsvc never connects where a node says.
 * guest_cpus <= cpus, guest_memory_mib <= memory_mib. -EINVAL with a message naming
 * the field ("facts: 'cpus' must be an integer 1..8192") in reterr; o NULL: "facts
 * missing". *ret is written only on success. */
int vm_facts_from_json(const json_t *o, const struct kind *k, const char *ip,
    struct vm_facts *ret, struct dl_err *reterr);
