/* SPDX-License-Identifier: MIT */
/* The VM planner as a pure function (issue 13): (hosts with capacity, health, temperature,
 * power and role; VMs with size, anti-affinity group and pin; a policy) -> an ordered plan
 * of migrations and power-offs plus what it will achieve (its efficacy), before anything
 * acts. No store, no libvirt, no clock, no globals: the vm room gathers the arrays and
 * carries the steps out, so every rule is unit-tested from tables and a property test
 * (tests/unit/test_vm_plan.c) and the planner is benchmarked at 10,000 hosts
 * (bench/vm_plan.c). docs/vm.md "Planner" describes the strategies.
 *
 * Rules every strategy keeps, at every step of the plan taken in order:
 * - memory is never overcommitted; a host's vCPUs stay <= cpu_ratio * cpus;
 * - two VMs of one anti-affinity group never share a host the plan moved one of them to;
 * - a pinned VM never moves; no VM moves twice in one plan (so no move is undone);
 * - only hosts that are usable, not drained (the host, or its node: closed) and of health
 *   ok receive VMs;
 * - the same input gives the same plan (every tie is broken by index). */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Bounds on the input: far above any site (the benchmark plans 10,000 hosts and 100,000
 * VMs), low enough that every count and index sum fits in 32 bits and a plan's working
 * memory (about 100 bytes per VM and per host) stays under a few hundred MiB. */
#define MAX_PLAN_HOSTS (1u << 20)
#define MAX_PLAN_VMS (1u << 24)

enum plan_strategy { PLAN_EVACUATE, PLAN_THERMAL, PLAN_CONSOLIDATE, _PLAN_STRATEGY_MAX,
	_PLAN_STRATEGY_INVALID = -EINVAL };

/* Why one step is there, for its reason text and its priority (executor order:
 * evacuations, then thermal, then consolidation). */
enum plan_cause { PLAN_CAUSE_DOOMED, PLAN_CAUSE_RISKY, PLAN_CAUSE_DRAIN, PLAN_CAUSE_HOT,
	PLAN_CAUSE_CONSOLIDATE, PLAN_CAUSE_MANUAL, _PLAN_CAUSE_MAX };

enum plan_host_health { PLAN_OK, PLAN_RISKY, PLAN_DOOMED };

struct plan_host {
	const char *name;          /* borrowed; for reasons only */
	unsigned cpus;             /* CPUs guests may use (facts' guest_cpus) */
	int64_t mem_mib;           /* memory guests may use */
	enum plan_host_health health;
	bool usable;               /* connected and on: may receive and send; false: neither (its
	                            * VMs stay where they are, counted unplaced if it must empty) */
	bool drain;                /* admin drain: empty it, receive nothing */
	bool closed;               /* its node is drained (nodectl drain): receive nothing, keep
	                            * what it runs, as a Slurm drain */
	bool has_temp;             /* temp_c valid (BMC temperature from the health poll) */
	double temp_c;
	bool spare_ok;             /* may be freed by consolidation (false: keep on, e.g. allocated) */
};

struct plan_vm {
	const char *name;          /* borrowed */
	size_t host;               /* index into hosts */
	unsigned vcpus;
	int64_t mem_mib;
	int group;                 /* anti-affinity group, -1 none: two VMs of a group never
	                            * share a host */
	bool pinned;               /* never moved (counted unplaced when its host must empty) */
};

struct plan_policy {
	enum plan_strategy strategy;
	double cpu_ratio;          /* vCPUs per guest CPU, >= 1.0; memory is never overcommitted */
	unsigned warm_spares;      /* empty usable hosts the green policy keeps on; consolidation
	                            * never fills an empty host, so it never eats into them */
	double hot_c, cool_c;      /* thermal: shed while above hot_c; receive only below cool_c
	                            * (cool_c < hot_c: hysteresis) */
	double c_per_cpu;          /* thermal model: a host's temperature changes by c_per_cpu *
	                            * (vCPUs moved / its cpus) (docs/vm.md "Planner") */
	size_t max_steps;          /* cap on migrations in one plan (0 = no cap) */
	size_t only_host;          /* evacuate: SIZE_MAX = every risky/doomed/drained host; else
	                            * just this host index (a drain, a reimage --evacuate) */
};

struct plan_step {
	enum { PLAN_STEP_MIGRATE, PLAN_STEP_POWER_OFF } action;
	enum plan_cause cause;
	size_t vm;                 /* index into vms (MIGRATE) */
	size_t from, to;           /* host indices (POWER_OFF: from = to = the host) */
};

struct plan_efficacy {
	size_t migrations, hosts_freed, unplaced;  /* unplaced: VMs that had to move but fit nowhere
	                                            * (or were pinned, or on an unusable host) */
	size_t deferred;           /* VMs that had to move but max_steps left them for a later plan
	                            * (thermal: hosts the cap left hot) */
	int64_t mib_moved;
	double peak_c_before, peak_c_after;        /* over hosts with has_temp (0 when none); after
	                                            * = by the model, hosts powered off left out */
	size_t hosts_with_temp;
	size_t hosts_used_before, hosts_used_after; /* hosts with at least one VM */
	size_t hosts_empty_after;  /* usable hosts with no VM that the plan does not power off: the
	                            * green policy keeps warm_spares of them and powers off the rest */
	size_t power_offs;
};

struct plan {
	struct plan_step *steps;   /* owned; n_steps of them, in the order to carry them out */
	size_t n_steps;
	struct plan_efficacy eff;
};

/* Make the plan of p->strategy for this cluster. Inputs are borrowed and not changed.
 * @ret 0 and *ret filled (free with plan_free); -EINVAL for inconsistent input (a vm's host
 * out of range, cpu_ratio < 1, cool_c >= hot_c when thermal, ...) with reterr naming it;
 * -E2BIG past MAX_PLAN_HOSTS / MAX_PLAN_VMS; -ENOMEM. *ret is written only on success. */
int plan_make(const struct plan_host *hosts, size_t n_hosts, const struct plan_vm *vms,
    size_t n_vms, const struct plan_policy *p, struct plan *ret, struct dl_err *reterr);

/* Free what plan_make put in *p and clear it; p may be NULL or already freed. */
void plan_free(struct plan *p);

/* One VM to one host (manual `vm migrate --to`, or a retry after a failed migration): the
 * best host for vms[vm] other than its own and those with exclude[i] true (exclude may be
 * NULL, else n_hosts long). Same rules as plan_make (memory, cpu ratio, groups, only usable
 * undrained ok hosts receive); best = the fullest host that fits (the one plan_make's
 * evacuation would pick), ties by index. @ret the host index; SIZE_MAX when none fits, the
 * VM is pinned, or the input is inconsistent. */
size_t plan_place_one(const struct plan_host *hosts, size_t n_hosts, const struct plan_vm *vms,
    size_t n_vms, size_t vm, const bool *exclude, const struct plan_policy *p);

/* "evacuate", "thermal", "consolidate"; NULL out of range. */
const char *plan_strategy_to_string(enum plan_strategy s);
/* The reverse; _PLAN_STRATEGY_INVALID for NULL or an unknown name. */
enum plan_strategy plan_strategy_from_string(const char *s);
/* "doomed", "risky", "drain", "hot", "consolidate", "manual"; NULL out of range. */
const char *plan_cause_to_string(enum plan_cause c);
