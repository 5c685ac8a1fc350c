/* SPDX-License-Identifier: MIT */
/* The planner's working state, shared by its strategy files (plan_evacuate.c,
 * plan_consolidate.c, plan_thermal.c) and nobody else: the cluster as the plan so far
 * leaves it (each host's use, each VM's host, the modelled temperatures, which anti-affinity
 * groups sit on which host), the steps made so far, and a first-fit index over receivers.
 * Every strategy only moves VMs through plan_state_move(), which keeps the rules of plan.h. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vm/plan.h"

/* (host, group) -> VMs of that group on that host; open addressing, linear probing.
 * Entries are never removed (a count may drop to 0 and be reused by the same key). */
struct plan_groups {
	uint64_t *keys;            /* host << 32 | group, UINT64_MAX = empty slot */
	uint32_t *counts;
	size_t cap, used;          /* cap a power of two; grown at half full */
};

/* First fit over receivers in a fixed order (position 0 first): a tree of maxima of free
 * memory and free vCPUs over positions, so finding the first position where a VM fits is
 * O(log n) unless many positions fit in size but not by anti-affinity group. A position
 * closed to receiving holds -1 in both. */
struct plan_fit {
	size_t n, leaves;          /* positions; leaves a power of two >= n */
	int64_t *mem, *cpu;        /* 2 * leaves nodes each, node 1 the root */
	size_t *host;              /* position -> host index */
	size_t *pos;               /* host index -> position, SIZE_MAX when not in the order */
};

struct plan_state {
	const struct plan_host *hosts;
	size_t n_hosts;
	const struct plan_vm *vms;
	size_t n_vms;
	const struct plan_policy *p;

	int64_t *cpu_cap;          /* floor(cpu_ratio * cpus): vCPUs a host may carry */
	int64_t *cpu_used, *mem_used;
	size_t *n_on;              /* VMs on each host now */
	size_t *n_before;          /* VMs on each host in the input */
	double *temp;              /* modelled temperature now */
	bool *off;                 /* a POWER_OFF step for this host is in the plan */
	size_t *cur;               /* each VM's host now */
	bool *moved;
	/* the input's VMs of each host, a CSR list: vms of host h are
	 * by_host[first[h] .. first[h + 1]) in index order */
	size_t *first, *by_host;
	struct plan_groups groups;

	struct plan_step *steps;
	size_t n_steps, cap_steps, migrations;
	size_t unplaced, deferred;
};

int plan_state_init(struct plan_state *st, const struct plan_host *hosts, size_t n_hosts,
    const struct plan_vm *vms, size_t n_vms, const struct plan_policy *p);
void plan_state_done(struct plan_state *st);

/* May host h receive anything at all (usable, not drained, health ok)? */
bool plan_state_receiver(const struct plan_state *st, size_t h);
/* Does VM v fit on host h as the state stands (memory, vCPU ratio, its group)? Receiver
 * eligibility is the caller's (plan_state_receiver). */
bool plan_state_fits(const struct plan_state *st, size_t h, size_t v);
/* Does the group of VM v already sit on host h? */
bool plan_state_group_on(const struct plan_state *st, size_t h, size_t v);
/* Account VM v on / off host h (use, group counts) without a step: tentative placements. */
int plan_state_add(struct plan_state *st, size_t v, size_t h);
void plan_state_remove(struct plan_state *st, size_t v, size_t h);
/* Move VM v from where it is to host to: the step, the accounting, the thermal model. */
int plan_state_move(struct plan_state *st, size_t v, size_t to, enum plan_cause cause);
/* Append a POWER_OFF step for host h. */
int plan_state_power_off(struct plan_state *st, size_t h, enum plan_cause cause);
/* Has the plan used up policy max_steps migrations? */
bool plan_state_capped(const struct plan_state *st);
/* The model's temperature change of host h when vcpus vCPUs arrive (or leave: negate). */
double plan_state_dtemp(const struct plan_state *st, size_t h, unsigned vcpus);
/* A host's fill: the larger of its memory and vCPU use over capacity (> 1 when the input
 * already overcommits it; 0 for a host with no capacity). */
double plan_state_fill(const struct plan_state *st, size_t h);
/* Sort these host indices by fill, fullest first, ties by index: the receivers' order, so
 * the hosts least likely to empty fill up first. 0 or -ENOMEM. */
int plan_state_sort_fullest(const struct plan_state *st, size_t *hosts, size_t n);
/* Host h's VMs of the input, largest first (memory, vCPUs, then index), into out (at least
 * n_before[h] long): big VMs take the big gaps. @ret how many. */
size_t plan_state_vms_largest(const struct plan_state *st, size_t h, size_t *out);

/* The first-fit index over the given hosts, in the order given. */
int plan_fit_init(struct plan_fit *f, const struct plan_state *st, const size_t *order, size_t n);
void plan_fit_done(struct plan_fit *f);
/* Refresh host h's free memory and vCPUs from the state, or close it (open = false). */
void plan_fit_update(struct plan_fit *f, const struct plan_state *st, size_t h, bool open);
/* The first host in order where VM v fits (group included); SIZE_MAX when none. */
size_t plan_fit_find(const struct plan_fit *f, const struct plan_state *st, size_t v);

/* The strategies: each appends its steps to st and sets st->unplaced / deferred. */
int plan_evacuate(struct plan_state *st);
int plan_consolidate(struct plan_state *st);
int plan_thermal(struct plan_state *st);
