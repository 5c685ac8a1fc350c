/* SPDX-License-Identifier: MIT */
#include "controller/energy.h"
#include "name_table.h"

static const char *const state_names[_ES_MAX] = {
	[ES_UNKNOWN] = "unknown", [ES_ON] = "on", [ES_OFF] = "off", [ES_BOOTING] = "booting",
};

const char *
energy_state_name(enum energy_state s)
{
	return NAME_OF(state_names, s, "unknown");
}

int64_t
energy_add(struct energy_totals *t, const struct energy_model *m, enum energy_state s,
    unsigned measured_w, unsigned baseline_w, int64_t dt_ms)
{
	int64_t w, base;

	if (s <= ES_UNKNOWN || s >= _ES_MAX || dt_ms <= 0)
		return 0;
	if (dt_ms > MAX_ENERGY_GAP_MS)
		dt_ms = MAX_ENERGY_GAP_MS;
	w = measured_w ? measured_w : m->watts[s];
	base = baseline_w ? baseline_w : m->watts[ES_ON];
	if (s == ES_OFF)
		t->off_mj += w * dt_ms;
	else
		t->on_mj += w * dt_ms;
	/* While on, the node is its own baseline: nothing saved, nothing lost. */
	if (s != ES_ON)
		t->saved_mj += (base - w) * dt_ms;
	return dt_ms;
}

void
energy_sum(struct energy_totals *a, const struct energy_totals *b)
{
	a->on_mj += b->on_mj;
	a->off_mj += b->off_mj;
	a->saved_mj += b->saved_mj;
}

double
energy_kwh(int64_t mj)
{
	return (double)mj / 3.6e9;
}
