/* SPDX-License-Identifier: MIT */
/* Energy accumulated in memory between writes (issue 11): each accounting pass (every
 * energy_interval) adds every node's energy since the last pass to a table in memory,
 * and a flush (every energy_flush, before the energy verb reads, and at shutdown) adds
 * the table to the store's per-node and per-image totals in one transaction and empties
 * it. So a pass writes nothing, and the store sees one row write per node per flush
 * instead of one per pass (30 s). What a crash loses is re-accounted: the store's clock
 * (at_ms) of a node is the last flush, and the first pass after a restart accounts the gap
 * since then (up to MAX_ENERGY_GAP_MS) at the node's state then.
 *
 * The table is in name order, the order store_node_foreach walks, so a pass merges it
 * with the nodes in one walk; a node removed meanwhile drops out. Loop thread only. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "controller/energy.h"
#include "store/store.h"

struct energy_pending {
	char name[MAX_NODE_NAME];     /* a node, or an image (struct energy_acc.img) */
	int64_t at_ms;                /* accounted up to here */
	struct energy_totals d;       /* since the last flush */
};

/* Images with energy pending: a site has a handful; past this a pass flushes early. */
#define MAX_ENERGY_IMAGES 64

struct energy_acc {
	struct energy_pending *p;     /* nodes, in name order */
	size_t n, cap;
	struct energy_pending img[MAX_ENERGY_IMAGES]; /* per image, at_ms unused */
	size_t n_img;
};

/* The state n is in for accounting. */
enum energy_state energy_acc_state(const struct node_rec *n);
/* Account every node of st from its last pass (or the store's clock) to now under m, in
 * memory. 0, -ENOMEM (nothing changed), or the store's error. */
int energy_acc_pass(struct energy_acc *a, struct store *st, const struct energy_model *m,
    int64_t now);
/* Add what is pending to st's totals, in one transaction; emptied on success. 0 or the
 * store's error (the table is kept for the next flush). */
int energy_acc_flush(struct energy_acc *a, struct store *st);
/* Free the table (what is pending is lost: flush first). */
void energy_acc_done(struct energy_acc *a);
