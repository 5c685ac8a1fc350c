/* SPDX-License-Identifier: MIT */
/* What the vm room (vm.c) shares with its executor (vm_exec.c, issue 13): the hosts'
 * connections stay vm.c's, the executor asks about them by node name. Loop thread only;
 * only vm/ includes this. */
#pragma once

#include <stdbool.h>

#include <libvirt/libvirt.h>

#include "bootsvc.h"

struct vm;
struct vm_exec;

/* The daemon vm was started with (borrowed). */
struct bootsvc *vm_bootsvc(struct vm *vm);
/* vm's executor (NULL for a NULL vm, or before vm_new made it). */
struct vm_exec *vm_exec_of(struct vm *vm);
/* Whether node is a VM host with a live connection right now. */
bool vm_host_connected(const struct vm *vm, const char *node);
/* Listings of node's domains stored since this incarnation of the host was added (a
 * restart or a new boot starts at 0): the executor's resume waits for one of each host
 * before it believes the store's vm_domains rows. 0 for no such host. */
unsigned vm_host_listings(const struct vm *vm, const char *node);
/* A new reference to node's connection, for a job on the pool (the job closes it);
 * NULL when node is not connected. */
virConnectPtr vm_host_conn_ref(struct vm *vm, const char *node);
/* Have node's domains listed at once (after a migration), if it is connected. */
void vm_host_read_now(struct vm *vm, const char *node);
