/* SPDX-License-Identifier: MIT */
/* What the controller's files share: its state (loop thread only) and each file's entry
 * points for the tick. Not for use outside controller/ (ctrl.h is the API).
 *
 *   ctrl.c         lifecycle and the tick: read every managed node, hand each to the
 *                  files below
 *   ctrl_bmc.c     a node's BMC target (address, credentials file, timeout)
 *   ctrl_power.c   power: the FSM's decisions carried out, the power-on rate, status
 *                  polls, the imperative power verb
 *   ctrl_health.c  health polls, their verdicts and the configured health actions
 *   ctrl_green.c   feeding green.c (idle clocks, node states) and applying its decisions
 *   ctrl_hints.c   the schedulers' expect hints green.c reads
 *   ctrl_energy.c  feeding energy.c: the accounting pass and the BMC's measured draw
 *   ctrl_alloc.c   allocation repair: a failed member replaced in its job */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "controller/ctrl.h"
#include "controller/ctrl_fsm.h"
#include "controller/energy.h"
#include "controller/energy_acc.h"
#include "controller/green.h"
#include "controller/hook.h"
#include "health/eval.h"
#include "health/persist.h"
#include "health/rule.h"
#include "health/state.h"
#include "hostlist.h"
#include "action/action.h"

/* Live scheduler hints: one per image, and a site has a handful of images. */
#define MAX_HINTS 64

struct ctrl {
	struct bootsvc *bs;
	struct ctrl_policy policy;
	bool stopping;
	/* The tick (ctrl.c). */
	int64_t tick_timer;
	uint64_t tick_due_ms;   /* loop time tick_timer fires at */
	uint64_t last_tick_ms;  /* loop time the last tick began */
	int64_t next_wake_ms;   /* earliest wake a decision asked for */
	/* Power (ctrl_power.c): its action types (a change and a read; deadlines from
	 * bmc_timeout), and the power-on rate limit, a token bucket refilled at
	 * power_on_rate per second. */
	struct action_type power_change, power_read;
	double tokens;
	int64_t tokens_at_ms;
	int64_t last_poll_ms;
	/* Health (issue #5, ctrl_health.c): rules from the config, one read per node per
	 * health_poll. */
	struct action_type health_read;
	struct health_rules rules;
	int64_t last_health_ms;
	/* Green policy (issue #7): hints in memory (ctrl_hints.c; a scheduler re-sends them,
	 * they live minutes), floors expanded once, and the per-tick inputs of
	 * green_decide() (ctrl_green.c). */
	struct green_hint hints[MAX_HINTS];
	size_t n_hints;
	struct green_spare spares[MAX_CONF_WARM];
	struct green_floor floors[MAX_CONF_FLOORS];
	struct hostlist floor_hosts[MAX_CONF_FLOORS];
	struct green_node *gn;
	char (*gnames)[MAX_NODE_NAME];
	char (*gimages)[MAX_NODE_NAME];
	size_t n_gn, cap_gn;
	bool gn_oom;
	/* Energy (ctrl_energy.c): accounted in memory, written every energy_flush, each a
	 * pass or a flush in steps (energy_job) a timer of its own runs. */
	int64_t last_energy_ms, last_energy_flush_ms;
	struct energy_acc energy;
	enum { ENERGY_IDLE, ENERGY_PASS, ENERGY_FLUSH } energy_job;
	int64_t energy_timer;
	/* Retention (ctrl_retention.c). */
	int64_t last_prune_ms, last_checkpoint_ms;
	bool prune_backlog;     /* the last pass deleted a full batch: another next tick */
	uint64_t pruned;        /* rows deleted by this run of passes, for its log line */
	/* The notify hooks running (hook.h). */
	struct hooks hooks;
};

/* Ask the tick to run again by at (loop ms): the earliest of what the tick's decisions
 * asked for wins (0 = no wake asked). */
static inline void
ctrl_wake_by(struct ctrl *c, int64_t at)
{
	if (at && (c->next_wake_ms == 0 || at < c->next_wake_ms))
		c->next_wake_ms = at;
}

/* One tick's view of the world, the same for every node it visits. */
struct ctrl_tick {
	struct ctrl *c;
	int64_t now;            /* wall clock, ms */
	bool poll;              /* power status is due */
	bool health;            /* a health read is due */
};

/* BMC calls (power_ipmi_run, health_read) exchange at most about eight messages, each
 * bounded by the session timeout (bmc_timeout): open the session, boot flags get and
 * set, status, power down, off confirmed for up to one timeout, power up. One that has
 * not returned after ten timeouts is stuck, not slow: its action is reported timed out. */
#define CTRL_BMC_DEADLINE_TIMEOUTS 10

/* ctrl.c: the wall clock in ms (node rows keep wall-clock times). */
int64_t ctrl_now_ms(void);

/* ctrl_power.c */
void ctrl_power_init(struct ctrl *c);
/* Whether a BMC power action (a change or a read) for name is in flight or waiting. */
bool ctrl_power_busy(struct ctrl *c, const char *name);
/* Carry out the FSM's decision d for n (intent first, then the BMC action). */
void ctrl_power_apply(struct ctrl *c, struct node_rec *n, const struct ctrl_decision *d,
    struct ctrl_tick *t);
/* Read n's observed power (power_poll) unless a power action is in flight or the cap is
 * reached: the next tick asks again. */
void ctrl_power_poll(struct ctrl *c, const struct node_rec *n, const struct ctrl_tick *t);

/* ctrl_health.c */
/* The rules: the configured ones, else the built-in defaults. reterr names the rule. */
int ctrl_health_init(struct ctrl *c, struct dl_err *reterr);
/* Read n's sensors and SEL when due, unless a read is in flight or the cap is reached. */
void ctrl_health_poll(struct ctrl *c, const struct node_rec *n, const struct ctrl_tick *t);

/* ctrl_green.c */
/* Spares and floors from the config; reterr names a bad min_on hostlist. */
int ctrl_green_init(struct ctrl *c, struct dl_err *reterr);
void ctrl_green_done(struct ctrl *c);
/* Start a tick's inputs. */
void ctrl_green_begin(struct ctrl *c);
/* n as green.c sees it: its idle clock kept in the store, its state, its floors. */
void ctrl_green_add(struct ctrl *c, struct node_rec *n, bool booted_is_target, int64_t now);
/* Decide and apply: power-offs and power-ons with their reasons. */
void ctrl_green_run(struct ctrl *c, int64_t now);

/* ctrl_hints.c: drop the hints whose time is up. */
void ctrl_hints_expire(struct ctrl *c, int64_t now);

/* ctrl_energy.c */
/* The accounting pass over every node, in memory, once energy_interval has passed since
 * the last; the totals are written once energy_flush has passed. Either runs in steps of
 * ENERGY_STEP_NODES on a timer of its own, while this server leads; ctrl_energy_flush
 * finishes both at once (the energy verb, shutdown). */
void ctrl_energy_run(struct ctrl *c, int64_t now);
/* Retention (ctrl_retention.c): init sets the per-node history count; run, every tick,
 * prunes by age in bounded batches and checkpoints the WAL now and then. */
void ctrl_retention_init(struct ctrl *c);
void ctrl_retention_run(struct ctrl *c, int64_t now);
/* The BMC's power reading of n (0: it has none) as its measured draw. */
void ctrl_energy_measured(struct ctrl *c, const struct node_rec *n, unsigned watts);

/* ctrl_alloc.c: n, a member of an allocation, failed for good: replace it (issue #5). */
void ctrl_alloc_replace(struct ctrl *c, struct node_rec *n);
