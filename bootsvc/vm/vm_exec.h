/* SPDX-License-Identifier: MIT */
/* The executor of VM plans (issue 13, docs/vm.md "Executor"): it carries out what the
 * store's unfinished plans say, step by step, over real libvirt live migrations.
 *
 * Every vm tick (and at once after vm_exec_kick) it reads the steps of the unfinished
 * plans from the store, in (priority, plan, seq) order, and starts those exec_pick()
 * allows: a migration when both hosts are connected, within vm_migrations_per_host (a
 * host's outgoing and incoming together) and vm_migrations_max overall, and its VM is
 * not being moved by another step; a power-off once every earlier migration of its plan
 * off that host is done. Before anything acts, the step is written running with its
 * attempt counted (intent in the store first); the migration runs on the libvirt pool
 * (vm_migrate.c). Each tick the latest progress sample is copied into the running
 * steps' rows. History events "vm-migrate" on the source and the destination say the
 * start, a switch to post-copy and the end, with the reason.
 *
 * A failed migration (not cancelled) is tried again to another destination while it has
 * had fewer than VM_EXEC_MAX_ATTEMPTS attempts and the replace callback names one;
 * else the step fails for good, and with it its plan (its other steps still run, except
 * power-offs of a host a VM could not leave). A plan is done when every step is.
 *
 * A restart (kill -9 included) resumes from the store and libvirt's truth: a step the
 * store says is running without a job of this process is checked by asking both hosts'
 * libvirtds for the domain (a pool job, once both are connected): still incoming
 * (paused) on the destination: wait; running there and not on the source: done; running
 * on the source only: pending again (the lost attempt not counted). It never starts or
 * defines a domain: it only migrates, so no VM is lost and none runs twice.
 *
 * Loop thread only, except the migration job (vm_migrate.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "store/store.h"

struct vm;
struct vm_exec;

/* Attempts of one migration step before it fails for good: a destination that refused
 * or broke twice is retried once more elsewhere; a VM that fails on three hosts has a
 * problem of its own that more hosts will not fix. */
#define VM_EXEC_MAX_ATTEMPTS 3
/* Steps read per tick: the unfinished plans of a site (an evacuation of a rack is a few
 * hundred). Past it the rest wait for the ticks after the first ones end (logged). */
#define MAX_VM_EXEC_STEPS 16384
/* A resumed step whose VM neither host lists is failed after this many checks (each a
 * tick after both hosts were listed): a listing of each taken between the two halves of
 * a hand-over can miss it once, never this many times. */
#define VM_EXEC_NOWHERE_MAX 30
/* A progress event on the source while a migration copies, this often: enough to follow
 * one in the history without filling its per-node rows. */
#define VM_EXEC_PROGRESS_EVENT_MS 5000

/* A replacement destination for a step whose migration failed (the planner's glue):
 * fill new_dst (size bytes) and return 0, or -ENOSPC when no host fits. failed is the
 * step as it failed (its dst the host that failed it, reason libvirt's). */
typedef int (*vm_exec_replace_fn)(void *userdata, const struct vm_step_rec *failed,
    char *new_dst, size_t size);

/* The executor of vm (borrowed; outlives it). -ENOMEM; reterr says so.
 * @ret *ret owned by the vm room: vm_exec_free(). */
int vm_exec_new(struct vm *vm, struct vm_exec **ret, struct dl_err *reterr);
/* Free (NULL is fine). Call once the action layer is freed (every job's done() ran).
 * Returns NULL. */
struct vm_exec *vm_exec_free(struct vm_exec *e);
/* The executor's pass (vm.c's tick calls it). vm may be NULL (no room): nothing. */
void vm_exec_tick(struct vm *vm);
/* Run a pass at once, on the loop's next turn (after a plan was added). */
void vm_exec_kick(struct vm *vm);
/* Set the replacement callback (NULL: a failed migration fails for good). */
void vm_exec_set_replace(struct vm *vm, vm_exec_replace_fn fn, void *userdata);
/* Cancel plan_id: its pending steps are cancelled, its running migrations aborted (the
 * job's watcher calls virDomainAbortJob on the source within VM_MIGRATE_SAMPLE_MS), and
 * the plan ends cancelled once none runs. 0; -ENOENT no such plan; -EALREADY it ended
 * already; -EIO. reason (may be NULL) is written to the steps and the plan. */
int vm_exec_cancel(struct vm *vm, int64_t plan_id, const char *reason);

/* The pure parts (exec_pick, exec_resume_decide) are in exec_pick.h. */
#include "vm/exec_pick.h"
