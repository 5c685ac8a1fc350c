/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/green.h"
#include "name_table.h"

static const char *const act_names[_GA_MAX] = {
	[GA_POWER_OFF] = "idle-off",
	[GA_POWER_ON] = "green-on",
};

const char *
green_act_name(enum green_act a)
{
	return NAME_OF(act_names, a, "none");
}

void
green_format_duration(char *buf, size_t size, int64_t ms)
{
	int64_t s = ms / 1000, h = s / 3600, m = s / 60 % 60;

	s %= 60;
	if (h)
		(void)snprintf(buf, size, m ? "%lldh%lldm" : "%lldh", (long long)h, (long long)m);
	else if (m)
		(void)snprintf(buf, size, s ? "%lldm%llds" : "%lldm", (long long)m, (long long)s);
	else
		(void)snprintf(buf, size, "%llds", (long long)s);
}

struct ctx {
	const struct green_node *nodes;
	size_t n;
	const struct green_policy *p;
	int64_t now;
	size_t *order;    /* idle nodes, most recently used first */
	size_t n_order;
	bool *keep;
	bool *decided;
	struct green_decision *dec; /* by node index */
};

/* Most recently used first: the latest idle_since; ties by name so the order is stable. */
static const struct green_node *sort_nodes;

static int
cmp_recent(const void *a, const void *b)
{
	const struct green_node *x = &sort_nodes[*(const size_t *)a];
	const struct green_node *y = &sort_nodes[*(const size_t *)b];

	if (x->idle_since_ms != y->idle_since_ms)
		return x->idle_since_ms > y->idle_since_ms ? -1 : 1;
	return strcmp(x->name, y->name);
}

static bool
same_image(const struct green_node *nd, const char *image)
{
	return nd->image && strcmp(nd->image, image) == 0;
}

static bool
expiring(const struct ctx *c, size_t i)
{
	const struct green_node *nd = &c->nodes[i];

	return nd->state == GS_IDLE && !c->keep[i] && c->p->idle_ms > 0 &&
	    c->now - nd->idle_since_ms >= c->p->idle_ms;
}

/* Mark node i for power-on into image; the caller writes the reason. */
static struct green_decision *
power_on(struct ctx *c, size_t i, const char *image)
{
	struct green_decision *d = &c->dec[i];

	c->decided[i] = true;
	d->node = i;
	d->act = GA_POWER_ON;
	(void)snprintf(d->image, sizeof(d->image), "%s", image);
	return d;
}

/* Rule 1: the largest live hint per image holds idle nodes and powers off ones on. */
static void
apply_hint(struct ctx *c, const struct green_hint *h)
{
	unsigned want = h->count, avail = 0;
	char left[32];

	for (size_t k = 0; k < c->p->n_hints; k++) {
		const struct green_hint *o = &c->p->hints[k];
		if (o != h && strcmp(o->image, h->image) == 0 && c->now < o->until_ms) {
			/* One hint per image acts: the largest, then the first. */
			if (o->count > h->count || (o->count == h->count && o < h))
				return;
		}
	}
	for (size_t k = 0; k < c->n_order && avail < want; k++) {
		size_t i = c->order[k];
		if (same_image(&c->nodes[i], h->image)) {
			c->keep[i] = true;
			avail++;
		}
	}
	for (size_t i = 0; i < c->n; i++)
		if (c->nodes[i].state == GS_BOOTING && same_image(&c->nodes[i], h->image))
			avail++;
	green_format_duration(left, sizeof(left), h->until_ms - c->now);
	/* Off nodes last on this image first (no reimage of a warm cache), then any. */
	for (int pass = 0; pass < 2 && avail < want; pass++)
		for (size_t i = 0; i < c->n && avail < want; i++) {
			const struct green_node *nd = &c->nodes[i];
			if (nd->state != GS_OFF || c->decided[i] ||
			    same_image(nd, h->image) != (pass == 0))
				continue;
			struct green_decision *d = power_on(c, i, h->image);
			(void)snprintf(d->reason, sizeof(d->reason),
			    "expect %u on %s for %s more: %u available", want, h->image, left,
			    avail);
			avail++;
		}
}

/* Rule 2: the N most recently used idle nodes on image stay up. */
static void
apply_spare(struct ctx *c, const struct green_spare *s)
{
	unsigned kept = 0;

	for (size_t k = 0; k < c->n_order; k++) {
		size_t i = c->order[k];
		if (!same_image(&c->nodes[i], s->image))
			continue;
		if (!c->keep[i] && kept < s->count)
			c->keep[i] = true;
		if (c->keep[i])
			kept++;
	}
}

static bool
counts_on(const struct ctx *c, size_t i)
{
	const struct green_node *nd = &c->nodes[i];

	return nd->state == GS_IDLE || nd->state == GS_BOOTING || c->decided[i] ||
	    (nd->state == GS_BUSY && nd->on);
}

/* Rule 3: a group never goes below its floor, and is brought up to it. */
static void
apply_floor(struct ctx *c, size_t f)
{
	const struct green_floor *fl = &c->p->floors[f];
	uint32_t bit = UINT32_C(1) << f;
	unsigned on = 0, going = 0;

	for (size_t i = 0; i < c->n; i++) {
		if (!(c->nodes[i].floors & bit))
			continue;
		if (counts_on(c, i))
			on++;
		if (expiring(c, i))
			going++;
	}
	/* Keep the most recently used of those about to go. */
	for (size_t k = 0; k < c->n_order && on - going < fl->count && going > 0; k++) {
		size_t i = c->order[k];
		if ((c->nodes[i].floors & bit) && expiring(c, i)) {
			c->keep[i] = true;
			going--;
		}
	}
	for (size_t i = 0; i < c->n && on < fl->count; i++) {
		const struct green_node *nd = &c->nodes[i];
		if (!(nd->floors & bit) || nd->state != GS_OFF || c->decided[i] || !nd->image ||
		    !nd->image[0])
			continue;
		struct green_decision *d = power_on(c, i, nd->image);
		(void)snprintf(d->reason, sizeof(d->reason), "floor %s: %u of %u on", fl->name, on,
		    fl->count);
		on++;
	}
}

int
green_decide(const struct green_node *nodes, size_t n, const struct green_policy *p,
    int64_t now, struct green_decision *ret, size_t *ret_n, int64_t *ret_wake_ms)
{
	struct ctx c = { .nodes = nodes, .n = n, .p = p, .now = now };
	int64_t wake = 0;
	size_t out = 0;
	int r = -ENOMEM;

	c.order = calloc(n ? n : 1, sizeof(*c.order));
	c.keep = calloc(n ? n : 1, sizeof(*c.keep));
	c.decided = calloc(n ? n : 1, sizeof(*c.decided));
	c.dec = calloc(n ? n : 1, sizeof(*c.dec));
	if (!c.order || !c.keep || !c.decided || !c.dec)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (nodes[i].state == GS_IDLE)
			c.order[c.n_order++] = i;
	/* qsort has no context argument; the decision runs on the loop thread only. */
	sort_nodes = nodes;
	qsort(c.order, c.n_order, sizeof(*c.order), cmp_recent);
	sort_nodes = NULL;

	for (size_t k = 0; k < p->n_hints; k++)
		if (now < p->hints[k].until_ms && p->hints[k].count > 0) {
			apply_hint(&c, &p->hints[k]);
			if (wake == 0 || p->hints[k].until_ms < wake)
				wake = p->hints[k].until_ms;
		}
	for (size_t k = 0; k < p->n_spares; k++)
		apply_spare(&c, &p->spares[k]);
	for (size_t f = 0; f < p->n_floors && f < MAX_GREEN_FLOORS; f++)
		apply_floor(&c, f);

	for (size_t i = 0; i < n; i++) {
		const struct green_node *nd = &nodes[i];
		if (expiring(&c, i)) {
			char idle[32];
			struct green_decision *d = &c.dec[i];
			green_format_duration(idle, sizeof(idle), now - nd->idle_since_ms);
			c.decided[i] = true;
			d->node = i;
			d->act = GA_POWER_OFF;
			(void)snprintf(d->reason, sizeof(d->reason),
			    "idle %s, no warm spare needed for %s", idle,
			    nd->image && nd->image[0] ? nd->image : "(no image)");
		} else if (nd->state == GS_IDLE && !c.keep[i] && p->idle_ms > 0) {
			int64_t at = nd->idle_since_ms + p->idle_ms;
			if (wake == 0 || at < wake)
				wake = at;
		}
		if (c.decided[i])
			ret[out++] = c.dec[i];
	}
	*ret_n = out;
	*ret_wake_ms = wake;
	r = 0;
out:
	free(c.order);
	free(c.keep);
	free(c.decided);
	free(c.dec);
	return r;
}
