/* SPDX-License-Identifier: MIT */
/* The VM layer's glue (issue 13, docs/vm.md "Policy"): the store and the vm room's view
 * of hosts and VMs -> the planner's arrays (plan.h); a plan -> its rows in the store
 * (intent before anything acts) for the executor (vm_exec.h). The triggers (health,
 * thermal, consolidation) and the verbs all come through here, so every plan has the
 * same inputs and every step a reason. Loop thread only. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bootsvc.h"
#include "err.h"
#include "vm/plan.h"

/* The planner's input as read now, with the names its borrowed pointers point into. A
 * VM that an unfinished plan moves already counts on its destination and is pinned, so
 * a new plan neither moves it again nor fills the room it will take. */
struct vm_world {
	struct plan_host *hosts;
	size_t n_hosts;
	struct plan_vm *vms;
	size_t n_vms;
	char (*host_names)[MAX_NODE_NAME];
	char (*vm_names)[MAX_VM_NAME];
	char (*vm_uuids)[UUID_STR_LEN];
	char (*groups)[MAX_VM_NAME];   /* group names, index = plan_vm.group */
	bool *risky_ok;                /* per VM: its job class takes risky nodes */
	size_t n_groups;
	double hot_c;                  /* the thermal threshold, for reasons */
};

/* Read the world. 0, -ENOMEM, -EIO (reterr says which). */
int vm_world_read(struct bootsvc *bs, struct vm_world *ret, struct dl_err *reterr);
void vm_world_done(struct vm_world *w);
/* Index of host name in w, or SIZE_MAX. */
size_t vm_world_host(const struct vm_world *w, const char *name);
/* Index of a VM by name or UUID, or SIZE_MAX. */
size_t vm_world_vm(const struct vm_world *w, const char *name_or_uuid);

/* The configured policy (config.h vm_*) for strategy s, every host. */
struct plan_policy vm_policy_of(const struct bootsvc *bs, enum plan_strategy s);

/* The reason text of step st of plan p in world w: "risky: ECC correctable >= 10 in
 * 24h", "drain: admin", "hot: 81 C > 75 C", "consolidate: frees hvB". */
void vm_step_reason(const struct vm_world *w, const struct plan_step *st,
    char *buf, size_t size);

/* Write plan p (made on w) to the store as one plan of strategy and origin, reason why,
 * and wake the executor. *ret_id: its id, 0 when p has no step (nothing stored). 0, or
 * the store's -errno. An event "vm-plan" with its efficacy goes on each host it touches. */
int vm_policy_store(struct bootsvc *bs, const struct vm_world *w, const struct plan *p,
    const char *strategy, const char *origin, const char *why, int64_t *ret_id,
    struct dl_err *reterr);

/* Plan strategy s for only_host ("" or NULL: every host) and, when apply, store it.
 * The plan is returned in *ret (plan_free) with the world in *ret_w (vm_world_done) for
 * the caller to render. 0, -ENOMEM, -EIO, -EINVAL. */
int vm_policy_run(struct bootsvc *bs, enum plan_strategy s, const char *only_host,
    const char *origin, const char *why, bool apply, struct vm_world *ret_w,
    struct plan *ret, int64_t *ret_id, struct dl_err *reterr);

/* Evacuate node: plan its VMs away as if it were drained (it is, once applied: the drain
 * is written with reason why, then the plan). risky: the node turned risky, and VMs
 * whose job class takes risky nodes stay (counted unplaced). The plan in *ret, its world in *ret_w, as
 * vm_policy_run(). -ENOENT: no VM host node. */
int vm_policy_evacuate(struct bootsvc *bs, const char *node, const char *origin,
    const char *why, bool risky, bool apply, struct vm_world *ret_w, struct plan *ret,
    int64_t *ret_id, struct dl_err *reterr);

/* A drained host is kept empty. Called with each listing of node: when node is drained
 * and lists active VMs that no unfinished plan moves (one that came after its drain was
 * planned: a migration bootsvc had not listed yet, an admin's virsh), plan their
 * evacuation (origin "drain"). Those that fit nowhere, or that a risky host keeps, stay
 * as at the drain. */
void vm_policy_keep_drained(struct bootsvc *bs, const char *node);

/* Does reason (a drain's, or the health evaluator's) begin "<verdict>:" ("risky",
 * "doomed", "reimage")? That prefix is how a health or reimage drain is told from an
 * admin's. */
bool vm_reason_is(const char *reason, const char *verdict);

/* node turned risky or doomed (why: its health reasons), with evacuate among its health
 * actions: drain it (kept until an admin undoes it or it boots clean) and plan its
 * evacuation. Does nothing for a node that is no VM host, or one bootsvc cannot reach
 * now (nothing could move). */
void vm_policy_health(struct bootsvc *bs, const char *node, const char *health,
    const char *why);

/* node's health is ok again: a drain the health policy set ends (an admin's or a
 * reimage's stays). */
void vm_policy_health_ok(struct bootsvc *bs, const char *node);

/* The periodic policies (vm_balance_interval): thermal when vm_thermal_hot is set,
 * consolidation when vm_consolidate is on; never while a plan of the same strategy is
 * unfinished. Called by the vm room's tick, which keeps *last_ms (when the last ran). */
void vm_policy_tick(struct bootsvc *bs, int64_t now_ms, int64_t *last_ms);

/* A failed step's new destination (the executor's retry): the best host for its VM
 * other than those it failed on. 0 and new_dst, or -ENOSPC. */
int vm_policy_replace(void *userdata, const struct vm_step_rec *failed, char *new_dst,
    size_t size);

/* Does node run VMs (active domains) or take part in an unfinished migration? The
 * controller neither idles (green) nor powers off such a host while it is drained. */
bool vm_host_in_use(struct bootsvc *bs, const char *node);
