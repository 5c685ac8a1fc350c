/* SPDX-License-Identifier: MIT */
/* Allocation repair (issue #5): a node of an allocation failed for good (its boot failed
 * boot_attempts times, its BMC stopped answering, a health action powered it off), so
 * another eligible node takes its place in the same job and the scheduler still gets N. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "controller/alloc.h"
#include "controller/ctrl_internal.h"
#include "log.h"
#include "boot/nodes.h"

/* Every node, with what the allocator needs to know about it. */
struct pool {
	struct bootsvc *bs;
	const char *target;   /* the requested version id */
	struct alloc_node *an;
	char (*names)[MAX_NODE_NAME];
	size_t n, cap;
};

static int
pool_add(const struct node_rec *n, void *userdata)
{
	struct pool *p = userdata;

	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct alloc_node *an = reallocarray(p->an, cap, sizeof(*an));
		if (!an)
			return -ENOMEM;
		p->an = an;
		char (*names)[MAX_NODE_NAME] = reallocarray(p->names, cap, MAX_NODE_NAME);
		if (!names)
			return -ENOMEM;
		p->names = names;
		p->cap = cap;
	}
	strcpy(p->names[p->n], n->name);
	p->an[p->n] = (struct alloc_node){
		.name = NULL, /* set after the array stops moving */
		.usable = n->bmc[0] && n->bmc_creds[0] && !n->hold && !n->alloc_job[0] &&
		    strcmp(n->op, "failed") != 0 && strcmp(n->bmc_state, "unreachable") != 0 &&
		    !nodes_drained(p->bs, n),
		.health = strcmp(n->health, "doomed") == 0 ? AH_DOOMED :
		    strcmp(n->health, "risky") == 0 ? AH_RISKY : AH_OK,
		.up_on_target = strcmp(n->phase, "up") == 0 && strcmp(n->booted_image, p->target) == 0,
		.powered_on = strcmp(n->power, "on") == 0,
	};
	p->n++;
	return 0;
}

int
ctrl_alloc_assign(struct bootsvc *bs, const char *job, const char *class_name, bool allow_risky,
    const struct image_rec *img, size_t count, ctrl_alloc_chosen_fn chosen, void *userdata,
    size_t tiers[static 3], struct dl_err *reterr)
{
	struct pool p = { .bs = bs, .target = img->id };
	struct alloc_request req = { .count = count, .allow_risky = allow_risky,
		.class_name = class_name };
	struct alloc_choice *ch = NULL;
	int r;

	r = store_node_foreach(bs->store, pool_add, &p);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < p.n; i++)
		p.an[i].name = p.names[i];
	ch = calloc(count ? count : 1, sizeof(*ch));
	if (!ch) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = alloc_choose(p.an, p.n, &req, ch, reterr)) < 0)
		goto out;
	for (size_t i = 0; i < count; i++) {
		struct node_rec n;
		char why[128];
		(void)store_node_get(bs->store, p.names[ch[i].index], &n);
		strcpy(n.image, img->name);
		strcpy(n.image_pin, img->id);
		(void)store_node_update(bs->store, &n);
		(void)snprintf(n.alloc_job, sizeof(n.alloc_job), "%s", job);
		(void)snprintf(n.alloc_class, sizeof(n.alloc_class), "%s", class_name);
		strcpy(n.want_power, "on");
		n.attempts = 0;
		n.retry_at_ms = 0;
		(void)store_node_update_ctrl(bs->store, &n);
		(void)snprintf(why, sizeof(why), "job %s class %s: %s %s@%.12s", job, class_name,
		    ch[i].tier == TIER_REUSE ? "reuse, already up on" : ch[i].tier == TIER_REIMAGE ?
		    "reimage to" : "power on into", img->name, img->id);
		(void)store_event_add(bs->store, n.name, "allocate", why, (int64_t)time(NULL));
		tiers[ch[i].tier]++;
		if (chosen)
			chosen(n.name, userdata);
	}
out:
	free(ch);
	free(p.an);
	free(p.names);
	return r;
}

static void
note_chosen(const char *node, void *userdata)
{
	(void)snprintf(userdata, MAX_NODE_NAME, "%s", node);
}

/* The failed one leaves the allocation and, being failed, is not chosen again until an
 * admin releases it or failed_retry brings it back. */
void
ctrl_alloc_replace(struct ctrl *c, struct node_rec *n)
{
	struct bootsvc *bs = c->bs;
	const struct job_class *jc = config_class(&bs->cfg, n->alloc_class);
	struct image_rec img;
	struct dl_err err = { 0 };
	size_t tiers[3] = { 0 };
	char job[MAX_NODE_NAME], cls[32], repl[MAX_NODE_NAME] = "";
	int r;

	strcpy(job, n->alloc_job);
	strcpy(cls, n->alloc_class);
	n->alloc_job[0] = n->alloc_class[0] = '\0';
	(void)store_node_update_ctrl(bs->store, n);
	if (nodes_boot_image(bs, n, &img) < 0)
		return;
	r = ctrl_alloc_assign(bs, job, cls, jc ? jc->allow_risky : false, &img, 1, note_chosen,
	    repl, tiers, &err);
	if (r < 0) {
		log_warning("event=alloc_replace job=%s node=%s msg=\"no replacement: %s\"", job,
		    n->name, err.msg);
		char why[MAX_REASON];
		(void)snprintf(why, sizeof(why), "job %.63s: no replacement: %.150s", job, err.msg);
		(void)store_event_add(bs->store, n->name, "alloc-lost", why, (int64_t)time(NULL));
	} else {
		char why[MAX_REASON];
		(void)snprintf(why, sizeof(why), "job %s: replaced by %s", job, repl);
		(void)store_event_add(bs->store, n->name, "alloc-replace", why,
		    (int64_t)time(NULL));
		log_notice("event=alloc_replace job=%s failed=%s replacement=%s", job, n->name,
		    repl);
	}
	notify(&bs->notify, NOTIFY_HISTORY);
	ctrl_kick(c);
}
