/* SPDX-License-Identifier: MIT */
/* Energy (issue #7): feeding energy.c. Every energy_interval each node's state since the
 * last pass, at its measured or modelled draw, is added to its totals and its image's in
 * memory (energy_acc.h), written to the store every energy_flush; the health poll's power
 * reading becomes the measured draw. */
#include <stdio.h>
#include <string.h>

#include "cluster/cluster.h"
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

/* A step's nodes: at the cost measured (a page read with its rows, about 1.5 us a node on
 * SQLite), a few hundred keep a step near half a millisecond of the loop; a pass over
 * 10,000 nodes is then 40 steps, 0.8 s apart of ENERGY_STEP_MS each. */
#define ENERGY_STEP_NODES 256
#define ENERGY_STEP_MS 20

static struct energy_model
model_of(const struct config *cfg)
{
	return (struct energy_model){ .watts = { [ES_ON] = cfg->watts_on,
		[ES_OFF] = cfg->watts_off, [ES_BOOTING] = cfg->watts_booting } };
}

static void energy_step(struct ctrl *c);

static void
on_step(struct loop *l, void *userdata)
{
	struct ctrl *c = userdata;

	(void)l;
	c->energy_timer = 0;
	/* A server that no longer leads stops here; the job resumes if it leads again. */
	if (cluster_may_act(c->bs->cluster))
		energy_step(c);
}

/* One step of the job; the next on the timer while it lasts. */
static void
energy_step(struct ctrl *c)
{
	struct energy_model model = model_of(&c->bs->cfg);
	bool done = true;
	int r = 0;

	if (c->energy_job == ENERGY_PASS) {
		r = energy_acc_step(&c->energy, c->bs->store, &model, ctrl_now_ms(),
		    ENERGY_STEP_NODES, &done);
		if (r < 0)
			log_warning("event=energy msg=\"accounting pass failed, will retry\" err=%s",
			    dl_errno_name(r));
	} else if (c->energy_job == ENERGY_FLUSH) {
		r = energy_acc_flush_step(&c->energy, c->bs->store, ENERGY_STEP_NODES, &done);
		if (r < 0)
			log_warning("event=energy msg=\"writing the totals failed, will retry\" "
			    "err=%s", dl_errno_name(r));
	}
	if (r < 0 || done) {
		c->energy_job = ENERGY_IDLE;
		return;
	}
	if (!c->bs->loop)
		return; /* driven without a loop (tests/unit/test_churn.c): a step a run */
	c->energy_timer = loop_add_timer(c->bs->loop, loop_now_ms() + ENERGY_STEP_MS, on_step, c);
	if (c->energy_timer < 0)
		c->energy_timer = 0; /* the next tick steps on */
}

void
ctrl_energy_run(struct ctrl *c, int64_t now)
{
	const struct config *cfg = &c->bs->cfg;

	if (!c->last_energy_flush_ms)
		c->last_energy_flush_ms = now;
	if (c->energy_job == ENERGY_IDLE) {
		if (now - c->last_energy_flush_ms >= (int64_t)cfg->energy_flush_ms ||
		    c->energy.images_full) {
			c->last_energy_flush_ms = now;
			c->energy_job = ENERGY_FLUSH;
		} else if (now - c->last_energy_ms >= (int64_t)cfg->energy_interval_ms) {
			c->last_energy_ms = now;
			c->energy_job = ENERGY_PASS;
		}
	}
	/* a job part way whose timer stopped (the lead lost and won back) steps on here */
	if (c->energy_job != ENERGY_IDLE && !c->energy_timer)
		energy_step(c);
}

int
ctrl_energy_flush(struct ctrl *c)
{
	struct energy_model model;
	int r;

	if (!c)
		return 0;
	model = model_of(&c->bs->cfg);
	/* no step after this: both finish here (and at ctrl_free, before the loop goes) */
	if (c->energy_timer > 0)
		loop_cancel_timer(c->bs->loop, c->energy_timer);
	c->energy_timer = 0;
	c->energy_job = ENERGY_IDLE;
	c->last_energy_flush_ms = ctrl_now_ms();
	/* A pass part way is finished first: its nodes carry what is pending. */
	if (c->energy.walking &&
	    (r = energy_acc_pass(&c->energy, c->bs->store, &model, ctrl_now_ms())) < 0)
		log_warning("event=energy msg=\"accounting pass failed, will retry\" err=%s",
		    dl_errno_name(r));
	if ((r = energy_acc_flush(&c->energy, c->bs->store)) < 0)
		log_warning("event=energy msg=\"writing the totals failed, will retry\" err=%s",
		    dl_errno_name(r));
	return r;
}
