/* SPDX-License-Identifier: MIT */
/* Green policy (issue #7): feeding green.c (a pure function) every BMC node's state,
 * image, idle clock and floors once per tick, and applying the power-offs and power-ons
 * it returns as desired state, each with an event; the FSM then acts. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "controller/ctrl_internal.h"
#include "log.h"
#include "boot/nodes.h"

int
ctrl_green_init(struct ctrl *c, struct dl_err *reterr)
{
	const struct config *cfg = &c->bs->cfg;
	int r;

	for (unsigned i = 0; i < cfg->n_warm; i++) {
		(void)snprintf(c->spares[i].image, sizeof(c->spares[i].image), "%s",
		    cfg->warm[i].image);
		c->spares[i].count = cfg->warm[i].count;
	}
	for (unsigned i = 0; i < cfg->n_min_on; i++) {
		(void)snprintf(c->floors[i].name, sizeof(c->floors[i].name), "%s",
		    cfg->min_on[i].group);
		c->floors[i].count = cfg->min_on[i].count;
		r = hostlist_parse(cfg->min_on[i].hosts, &c->floor_hosts[i], reterr);
		if (r < 0)
			return dl_err_prefix(reterr, "min_on '%s'", cfg->min_on[i].group), r;
	}
	return 0;
}

void
ctrl_green_done(struct ctrl *c)
{
	for (unsigned i = 0; i < MAX_CONF_FLOORS; i++)
		hostlist_done(&c->floor_hosts[i]);
	free(c->gn);
	free(c->gnames);
	free(c->gimages);
	c->gn = NULL;
	c->gnames = c->gimages = NULL;
	c->n_gn = c->cap_gn = 0;
}

void
ctrl_green_begin(struct ctrl *c)
{
	c->n_gn = 0;
	c->gn_oom = false;
}

/* A node is idle when it is up on its image for nobody with nothing in flight; its idle
 * clock starts then and stops when it is allocated or boots again. An admin's drained
 * node is not: it stays up as it is (an admin drains a node to look at it). */
static bool
is_idle(const struct node_rec *n, bool booted_is_target)
{
	return strcmp(n->want_power, "on") == 0 && strcmp(n->phase, "up") == 0 &&
	    booted_is_target && !n->alloc_job[0] && !n->hold && !n->op[0] &&
	    !n->drain;
}

static enum green_state
state_of(struct ctrl *c, const struct node_rec *n, bool idle)
{
	if (idle)
		return GS_IDLE;
	if (n->alloc_job[0] || n->hold || strcmp(n->op, "failed") == 0)
		return GS_BUSY;
	/* Wanted on for nobody and not up yet: booting, or waiting for its power-on token
	 * or a BMC answer (counting it stops a hint from powering on a second node
	 * meanwhile). */
	if (strcmp(n->want_power, "on") == 0)
		return GS_BOOTING;
	/* Only nodes that can come up are candidates for a power-on. */
	if (strcmp(n->want_power, "off") == 0 && strcmp(n->bmc_state, "unreachable") != 0 &&
	    strcmp(n->health, "doomed") != 0 && !nodes_drained(c->bs, n))
		return GS_OFF;
	return GS_BUSY;
}

void
ctrl_green_add(struct ctrl *c, struct node_rec *n, bool booted_is_target, int64_t now)
{
	bool idle = is_idle(n, booted_is_target);
	struct green_node *g;

	/* The idle clock (issue #7): started when the node turns up-and-free, stopped when
	 * it is allocated or boots; persisted so a restart keeps counting from then. */
	if (idle != (n->idle_since_ms != 0)) {
		n->idle_since_ms = idle ? now : 0;
		(void)store_node_update_ctrl(c->bs->store, n);
	}
	if (c->n_gn == c->cap_gn) {
		size_t cap = c->cap_gn ? c->cap_gn * 2 : 64;
		struct green_node *gn = reallocarray(c->gn, cap, sizeof(*gn));
		if (gn)
			c->gn = gn;
		char (*names)[MAX_NODE_NAME] = gn ? reallocarray(c->gnames, cap, MAX_NODE_NAME) :
		    NULL;
		if (names)
			c->gnames = names;
		char (*images)[MAX_NODE_NAME] = names ? reallocarray(c->gimages, cap,
		    MAX_NODE_NAME) : NULL;
		if (!images) {
			c->gn_oom = true; /* decide nothing this tick rather than half */
			return;
		}
		c->gimages = images;
		c->cap_gn = cap;
	}
	g = &c->gn[c->n_gn];
	strcpy(c->gnames[c->n_gn], n->name);
	strcpy(c->gimages[c->n_gn], n->image);
	*g = (struct green_node){
		.state = state_of(c, n, idle),
		.on = strcmp(n->power, "on") == 0 || strcmp(n->want_power, "on") == 0,
		.idle_since_ms = n->idle_since_ms,
	};
	for (unsigned f = 0; f < c->bs->cfg.n_min_on; f++)
		for (size_t k = 0; k < c->floor_hosts[f].n; k++)
			if (strcmp(c->floor_hosts[f].names[k], n->name) == 0) {
				g->floors |= UINT32_C(1) << f;
				break;
			}
	c->n_gn++;
}

/* Carry out one green decision on the node as it is now (the tick's view may be stale
 * by a verb that ran in between: then the decision is dropped). */
static void
apply(struct ctrl *c, const struct green_decision *d, const char *name)
{
	struct bootsvc *bs = c->bs;
	struct node_rec n;
	struct image_rec img;
	int64_t now = (int64_t)time(NULL);

	if (store_node_get(bs->store, name, &n) < 0 || n.alloc_job[0] || n.hold)
		return;
	if (d->act == GA_POWER_OFF) {
		if (strcmp(n.want_power, "on") != 0 || n.op[0])
			return;
		strcpy(n.want_power, "off");
		n.idle_since_ms = 0;
		n.retry_at_ms = 0;
	} else {
		if (strcmp(n.want_power, "off") != 0)
			return;
		if (strcmp(n.image, d->image) != 0) {
			/* A hint for another image provisions the node to it, as provision
			 * does: the newest version, pinned. */
			if (store_image_current(bs->store, d->image, &img) < 0)
				return;
			strcpy(n.image, img.name);
			strcpy(n.image_pin, img.id);
			(void)store_node_update(bs->store, &n);
		}
		strcpy(n.want_power, "on");
		if (strcmp(n.op, "power-off") == 0)
			n.op[0] = '\0';
		n.attempts = 0;
		n.retry_at_ms = 0;
	}
	(void)store_node_update_ctrl(bs->store, &n);
	(void)store_event_add(bs->store, n.name, green_act_name(d->act), d->reason, now);
	log_notice("event=green node=%s action=%s image=%s msg=\"%s\"", n.name,
	    green_act_name(d->act), d->act == GA_POWER_ON ? d->image : n.image, d->reason);
}

void
ctrl_green_run(struct ctrl *c, int64_t now)
{
	struct config *cfg = &c->bs->cfg;
	struct green_policy p = { .idle_ms = (int64_t)cfg->idle_poweroff_ms,
		.spares = c->spares, .n_spares = cfg->n_warm, .hints = c->hints,
		.n_hints = c->n_hints, .floors = c->floors, .n_floors = cfg->n_min_on };
	struct green_decision *d;
	size_t n = 0;
	int64_t wake = 0;

	ctrl_hints_expire(c, now);
	p.n_hints = c->n_hints;
	if (c->gn_oom || c->n_gn == 0)
		return;
	for (size_t i = 0; i < c->n_gn; i++) {
		c->gn[i].name = c->gnames[i];
		c->gn[i].image = c->gimages[i];
	}
	d = calloc(c->n_gn, sizeof(*d));
	if (!d || green_decide(c->gn, c->n_gn, &p, now, d, &n, &wake) < 0) {
		free(d);
		return;
	}
	for (size_t i = 0; i < n; i++)
		apply(c, &d[i], c->gnames[d[i].node]);
	if (n)
		ctrl_kick(c);
	else
		ctrl_wake_by(c, wake);
	free(d);
}
