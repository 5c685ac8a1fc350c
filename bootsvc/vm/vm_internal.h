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
/* A new reference to node's connection, for a job on the pool (the job closes it);
 * NULL when node is not connected. */
virConnectPtr vm_host_conn_ref(struct vm *vm, const char *node);
/* Have node's domains listed at once (after a migration), if it is connected. */
void vm_host_read_now(struct vm *vm, const char *node);

/* The calling thread's last libvirt error into buf, without control characters or
 * quotes (it goes into log lines and reasons), "unknown libvirt error" when none. */
void vm_libvirt_error(char *buf, size_t size);
