/* SPDX-License-Identifier: MIT */
/* Reimaging a VM host that runs VMs (issue 12 item 5): the provision verb's check,
 * independent of the controller, from the store's last listing of the host's domains
 * (what libvirt said within vm_poll). */
#pragma once

#include <stdbool.h>

#include "err.h"
#include "store/store.h"

/* Most VM names a refusal quotes; the count says how many there are. */
#define MAX_VM_REIMAGE_NAMES 8

/* Is a domain in state s running in the sense that a reimage would kill it (running,
 * blocked, paused, being shut down, suspended to memory)? */
bool vm_domain_state_active(const char *s);

/* May node be reimaged? 0 when it runs no VM, or force is set; 1 when it runs some and
 * evacuate is set (the caller plans the evacuation: vm/vm_policy.h). Else -EBUSY with
 * "n1 runs 2 VMs (g1, g2): add --evacuate or --force" in reterr. -EIO from the store. */
int vm_reimage_check(struct store *s, const char *node, bool force, bool evacuate,
    struct dl_err *reterr);
