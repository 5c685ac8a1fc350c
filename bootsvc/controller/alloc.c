/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "controller/alloc.h"

struct cand {
	size_t index;
	enum alloc_tier tier;
	enum alloc_health health;
	const char *name;
};

/* Tier first (reuse beats reimage beats power-on), then health (ok before risky: a risky
 * node is a last resort even for a class that allows it), then name for a stable order. */
static int
cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->tier != y->tier)
		return (int)x->tier - (int)y->tier;
	if (x->health != y->health)
		return (int)x->health - (int)y->health;
	return strcmp(x->name, y->name);
}

int
alloc_choose(const struct alloc_node *nodes, size_t n, const struct alloc_request *req,
    struct alloc_choice *ret, struct dl_err *reterr)
{
	struct cand *c;
	size_t nc = 0, usable = 0, risky_excluded = 0, doomed = 0;

	if (req->count == 0)
		return dl_err_set(reterr, -EINVAL, "an allocation needs a count of at least 1");
	c = calloc(n ? n : 1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct alloc_node *a = &nodes[i];
		if (!a->usable)
			continue;
		usable++;
		if (a->health == AH_DOOMED) {
			doomed++;
			continue;
		}
		if (a->health == AH_RISKY && !req->allow_risky) {
			risky_excluded++;
			continue;
		}
		c[nc++] = (struct cand){ .index = i, .health = a->health, .name = a->name,
			.tier = a->up_on_target ? TIER_REUSE : a->powered_on ? TIER_REIMAGE :
			    TIER_POWER_ON };
	}
	if (nc < req->count) {
		free(c);
		return dl_err_set(reterr, -ENOSPC,
		    "class '%s' needs %zu nodes, %zu qualify (%zu usable, %zu risky excluded, "
		    "%zu doomed)", req->class_name ? req->class_name : "-", req->count, nc, usable,
		    risky_excluded, doomed);
	}
	qsort(c, nc, sizeof(*c), cand_cmp);
	for (size_t i = 0; i < req->count; i++)
		ret[i] = (struct alloc_choice){ .index = c[i].index, .tier = c[i].tier };
	free(c);
	return 0;
}
