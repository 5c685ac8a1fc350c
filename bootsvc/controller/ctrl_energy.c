/* SPDX-License-Identifier: MIT */
/* Energy (issue #7): feeding energy.c. Every energy_interval each node's state since the
 * last pass, at its measured or modelled draw, is added to its totals and its image's, in
 * one transaction per pass; the health poll's power reading becomes the measured draw. */
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

static enum energy_state
state_of(const struct node_rec *n)
{
	static const char *const booting[] = { "powering-on", "pxe", "loading", "imaging" };

	if (strcmp(n->power, "off") == 0 || strcmp(n->phase, "off") == 0)
		return ES_OFF;
	if (strcmp(n->op, "booting") == 0)
		return ES_BOOTING;
	for (size_t i = 0; i < ELEMENTSOF(booting); i++)
		if (strcmp(n->phase, booting[i]) == 0)
			return ES_BOOTING;
	if (strcmp(n->power, "on") == 0 || strcmp(n->phase, "up") == 0)
		return ES_ON;
	return ES_UNKNOWN;
}

struct pass {
	struct ctrl *c;
	struct energy_model model;
	int64_t now;
};

static int
account_node(const struct node_rec *n, void *userdata)
{
	struct pass *e = userdata;
	struct store *st = e->c->bs->store;
	struct energy_totals d = { 0 };
	struct energy_rec rec;
	enum energy_state s = state_of(n);

	(void)rec_load(st, n->name, e->now, &rec);
	(void)energy_add(&d, &e->model, s, s == ES_OFF ? 0 : rec.last_w, rec.baseline_w,
	    e->now - rec.at_ms);
	rec.on_mj += d.on_mj;
	rec.off_mj += d.off_mj;
	rec.saved_mj += d.saved_mj;
	rec.at_ms = e->now;
	(void)store_energy_put(st, &rec);
	if (d.on_mj || d.off_mj || d.saved_mj)
		(void)store_energy_image_add(st, n->image[0] ? n->image : "(none)", d.on_mj,
		    d.off_mj, d.saved_mj);
	return 0;
}

void
ctrl_energy_run(struct ctrl *c, int64_t now)
{
	struct pass e = { .c = c, .now = now, .model = { .watts = {
		[ES_ON] = c->bs->cfg.watts_on, [ES_OFF] = c->bs->cfg.watts_off,
		[ES_BOOTING] = c->bs->cfg.watts_booting } } };

	if (now - c->last_energy_ms < (int64_t)c->bs->cfg.energy_interval_ms)
		return;
	c->last_energy_ms = now;
	if (store_begin(c->bs->store) < 0)
		return;
	if (store_node_foreach(c->bs->store, account_node, &e) < 0) {
		store_rollback(c->bs->store);
		log_warning("event=energy msg=\"accounting pass failed, will retry\"");
		return;
	}
	if (store_commit(c->bs->store) < 0)
		store_rollback(c->bs->store);
}
