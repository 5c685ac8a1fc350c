/* SPDX-License-Identifier: MIT */
/* A node's action events as the store's history holds them, for tests that check what a
 * room recorded. Include after <cmocka.h>. */
#pragma once

#include <stdio.h>
#include <string.h>

#include "../../bootsvc/store/store.h"

struct history_actions {
	size_t n;                  /* how many */
	char what[24];             /* the last one's action */
	char reason[MAX_REASON];   /* and its reason */
	const char *node, *only;   /* the query */
};

static inline int
history_action_cb(const struct event_rec *e, void *userdata)
{
	struct history_actions *h = userdata;

	if (strcmp(e->node, h->node) != 0 || strcmp(e->kind, "action") != 0 ||
	    (h->only && strcmp(e->what, h->only) != 0))
		return 0;
	(void)snprintf(h->what, sizeof(h->what), "%s", e->what);
	(void)snprintf(h->reason, sizeof(h->reason), "%s", e->reason);
	h->n++;
	return 0;
}

/* node's action events (only those named only, or all when only is NULL): how many, and
 * the last one's action and reason. */
static inline struct history_actions
history_actions(struct store *s, const char *node, const char *only)
{
	struct history_actions h = { .node = node, .only = only };

	assert_int_equal(store_events_since(s, 0, 100000, history_action_cb, &h), 0);
	return h;
}
