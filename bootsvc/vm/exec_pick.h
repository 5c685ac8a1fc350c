/* SPDX-License-Identifier: MIT */
/* The executor's decisions (issue 13, docs/vm.md "Executor"), pure and table-tested
 * (tests/unit/test_vm_exec.c): which pending steps may start now, and what a step found
 * running after a restart became. vm_exec.c gathers their inputs and acts. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <string.h>

#include "store/store.h"

static inline bool
exec_step_is_migrate(const struct vm_step_rec *st)
{
	return strcmp(st->action, "migrate") == 0;
}

static inline bool
exec_step_state_is(const struct vm_step_rec *st, const char *state)
{
	return strcmp(st->state, state) == 0;
}

struct exec_limits {
	unsigned max;       /* vm_migrations_max */
	unsigned per_host;  /* vm_migrations_per_host */
};

/* Is node a connected VM host? */
typedef bool (*exec_connected_fn)(const char *node, void *userdata);

/* Which pending steps of steps[0..n) may start now. steps are every step of the
 * unfinished plans in (priority, plan_id, seq) order; the running migrations among them
 * count against the caps. ret_start[i] (n entries) is set for each step to start: a
 * migrate when src and dst are connected and differ, neither host is at per_host
 * (outgoing + incoming, counting those picked before it), fewer than max run overall,
 * no other step moves the same VM, its destination is no host a pending power-off step
 * names, and its source none being powered off in this pick; a power-off when every
 * migrate step of its plan before it off the same host is done and no migration to or
 * from that host runs or was picked. Returns how many, or -ENOMEM. */
int exec_pick(const struct vm_step_rec *steps, size_t n, const struct exec_limits *lim,
    exec_connected_fn connected, void *userdata, bool *ret_start);

enum exec_resume {
	EXEC_RESUME_WAIT,    /* still migrating, or a listing is behind: ask again later */
	EXEC_RESUME_DONE,    /* it runs on the destination, not on the source */
	EXEC_RESUME_PENDING, /* it is on the source only: the migration was lost */
	EXEC_RESUME_NOWHERE, /* neither host lists it */
	_EXEC_RESUME_MAX,
};

/* What a step the store says is running, without a job of this process, became: from
 * the domain's state on its source and destination as their libvirtds say it now (NULL:
 * not defined there). A shut-off or crashed domain counts as not running: the executor
 * never starts one. */
enum exec_resume exec_resume_decide(const char *src_state, const char *dst_state);
const char *exec_resume_to_string(enum exec_resume r);
