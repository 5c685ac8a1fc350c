/* SPDX-License-Identifier: MIT */
/* Energy accounting as a pure accumulator (issue #7): a node spends time in a power
 * state at some draw, measured by its BMC (DCMI Get Power Reading) or taken from the
 * configured per-state model; the totals say how much went into "on" (booting counts as
 * on: the machine is powered) and "off" (standby draw), and how much was saved versus
 * the same node left on all the time. Integer millijoules (W x ms), so a year of a
 * thousand nodes adds up exactly and totals survive a restart unchanged.
 *
 * Saved: the always-on baseline is the node's on draw (its last BMC reading while on,
 * else watts_on). Off time saves baseline - off draw; boot time saves baseline - boot
 * draw, which is negative: a boot costs more than staying on, and the total says so. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* The longest gap accounted in one step: a bootsvc that was down longer does not know
 * what the node did meanwhile, so the rest of the gap is left out rather than guessed. */
#define MAX_ENERGY_GAP_MS (10 * 60 * 1000)

enum energy_state {
	ES_UNKNOWN, /* never seen by a BMC or a boot: not accounted */
	ES_ON,
	ES_OFF,
	ES_BOOTING,
	_ES_MAX,
};

struct energy_model {
	unsigned watts[_ES_MAX]; /* ES_ON, ES_OFF, ES_BOOTING; ES_UNKNOWN unused */
};

struct energy_totals {
	int64_t on_mj;    /* energy while powered (on and booting) */
	int64_t off_mj;   /* energy while off (standby) */
	int64_t saved_mj; /* versus always-on; may be negative */
};

const char *energy_state_name(enum energy_state s);

/* Account dt_ms in state s. measured_w > 0 is the BMC's reading for this interval and
 * replaces the model's draw; baseline_w > 0 is the node's measured on draw (else the
 * model's watts_on). dt is clipped to [0, MAX_ENERGY_GAP_MS]. Returns the ms accounted. */
int64_t energy_add(struct energy_totals *t, const struct energy_model *m, enum energy_state s,
    unsigned measured_w, unsigned baseline_w, int64_t dt_ms);

/* a += b */
void energy_sum(struct energy_totals *a, const struct energy_totals *b);

/* millijoules as kWh (1 kWh = 3.6e9 mJ). */
double energy_kwh(int64_t mj);
