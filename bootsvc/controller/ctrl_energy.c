/* SPDX-License-Identifier: MIT */
/* Energy (issue #7): feeding energy.c. Every energy_interval each node's state since the
 * last pass, at its measured or modelled draw, is added to its totals and its image's in
 * memory (energy_acc.h), written to the store every energy_flush; the health poll's power
 * reading becomes the measured draw. */
#include <stdio.h>
#include <string.h>

#include "controller/ctrl_internal.h"
#include "log.h"

/* The node's energy record, or a fresh one whose clock starts at now. Returns whether
 * the store had one. */
static bool
rec_load(struct store *st, const char *node, int64_t now, struct energy_rec *ret)
{
	if (store_energy_get(st, node, ret) == 0)
		return true;
	memset(ret, 0, sizeof(*ret));
	(void)snprintf(ret->name, sizeof(ret->name), "%s", node);
	ret->at_ms = now;
	return false;
}

/* The BMC's power reading (0: it has none) becomes the node's measured draw, which the
 * energy pass uses instead of the wattage model while the node is on; read while on, it
 * is also the baseline that "saved" compares an off node against. */
void
ctrl_energy_measured(struct ctrl *c, const struct node_rec *n, unsigned watts)
{
	struct energy_rec rec;
	bool on = strcmp(n->power, "on") == 0;

	if (!rec_load(c->bs->store, n->name, ctrl_now_ms(), &rec) && !watts)
		return;
	if (rec.last_w == watts && (!on || !watts || rec.baseline_w == watts))
		return;
	rec.last_w = watts;
	if (on && watts)
		rec.baseline_w = watts;
	(void)store_energy_put(c->bs->store, &rec);
}

static int flush_at(struct ctrl *c, int64_t now);

void
ctrl_energy_run(struct ctrl *c, int64_t now)
{
	const struct config *cfg = &c->bs->cfg;
	struct energy_model model = { .watts = { [ES_ON] = cfg->watts_on,
		[ES_OFF] = cfg->watts_off, [ES_BOOTING] = cfg->watts_booting } };

	if (!c->last_energy_flush_ms)
		c->last_energy_flush_ms = now;
	if (now - c->last_energy_ms >= (int64_t)cfg->energy_interval_ms) {
		c->last_energy_ms = now;
		if (energy_acc_pass(&c->energy, c->bs->store, &model, now) < 0)
			log_warning("event=energy msg=\"accounting pass failed, will retry\"");
	}
	if (now - c->last_energy_flush_ms >= (int64_t)cfg->energy_flush_ms)
		(void)flush_at(c, now);
}

static int
flush_at(struct ctrl *c, int64_t now)
{
	int r;

	c->last_energy_flush_ms = now;
	if ((r = energy_acc_flush(&c->energy, c->bs->store)) < 0)
		log_warning("event=energy msg=\"writing the totals failed, will retry\" err=%s",
		    dl_errno_name(r));
	return r;
}

int
ctrl_energy_flush(struct ctrl *c)
{
	return c ? flush_at(c, ctrl_now_ms()) : 0;
}
