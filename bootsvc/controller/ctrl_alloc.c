/* SPDX-License-Identifier: MIT */
/* Allocation repair (issue #5): a node of an allocation failed for good (its boot failed
 * boot_attempts times, its BMC stopped answering, a health action powered it off), so
 * another eligible node takes its place in the same job and the scheduler still gets N. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "control/control.h"
#include "controller/ctrl_internal.h"
#include "log.h"
#include "boot/nodes.h"

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
	char job[MAX_NODE_NAME], cls[32];
	json_t *chosen = json_array();
	int r;

	strcpy(job, n->alloc_job);
	strcpy(cls, n->alloc_class);
	n->alloc_job[0] = n->alloc_class[0] = '\0';
	(void)store_node_update_ctrl(bs->store, n);
	if (!chosen || nodes_boot_image(bs, n, &img) < 0) {
		json_decref(chosen);
		return;
	}
	r = verbs_ctrl_alloc_assign(bs, job, cls, jc ? jc->allow_risky : false, &img, 1, chosen,
	    tiers, &err);
	if (r < 0) {
		log_warning("event=alloc_replace job=%s node=%s msg=\"no replacement: %s\"", job,
		    n->name, err.msg);
		char why[MAX_REASON];
		(void)snprintf(why, sizeof(why), "job %.63s: no replacement: %.150s", job, err.msg);
		(void)store_event_add(bs->store, n->name, "alloc-lost", why, (int64_t)time(NULL));
	} else {
		char why[128];
		(void)snprintf(why, sizeof(why), "job %s: replaced by %s", job,
		    json_string_value(json_array_get(chosen, 0)));
		(void)store_event_add(bs->store, n->name, "alloc-replace", why,
		    (int64_t)time(NULL));
		log_notice("event=alloc_replace job=%s failed=%s replacement=%s", job, n->name,
		    json_string_value(json_array_get(chosen, 0)));
	}
	json_decref(chosen);
	control_events_notify(bs);
	ctrl_kick(c);
}
