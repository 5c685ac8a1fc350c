/* SPDX-License-Identifier: MIT */
/* Energy accumulated in memory between writes (issue 11): each accounting pass (every
 * energy_interval) adds every node's energy since the last pass to a table in memory,
 * and a flush (every energy_flush, before the energy verb reads, and at shutdown) adds
 * the table to the store's per-node and per-image totals and zeroes it. So a pass writes
 * nothing, and the store sees one row write per node per flush
 * instead of one per pass (30 s). What a crash loses is re-accounted: the store's clock
 * (at_ms) of a node is the last flush, and the first pass after a restart accounts the gap
 * since then (up to MAX_ENERGY_GAP_MS) at the node's state then.
 *
 * Both run in steps of a bounded number of nodes (energy_acc_step, energy_acc_flush_step),
 * so the loop that drives them never stalls on a site's size: a whole pass over 10,000
 * nodes took 15-30 ms on the loop and a flush 75 ms, in front of every request it answers
 * (ctrl_energy.c drives the steps; docs/architecture.md). Each step reads one page of
 * nodes with their rows (store_energy_nodes). A pass and a flush never interleave: a
 * pass's nodes carry what is pending into the table it builds, which a flush of the old
 * one would write twice.
 *
 * The table is in strcmp name order and each node of a page is looked up in it, whatever
 * order the backend's collation walks them in; a node the pass did not meet (removed)
 * drops out when the pass ends. Loop thread only. */
#pragma once

#include <stdbool.h>
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
	struct energy_pending *p;     /* nodes, in strcmp name order */
	size_t n, cap;
	struct energy_pending img[MAX_ENERGY_IMAGES]; /* per image, at_ms unused */
	size_t n_img;
	bool images_full;             /* an image found no room: flush after this pass */
	/* A pass part way: the table it builds, in the order the store walks, sorted into
	 * p when the walk ends. */
	bool walking;
	char walked[MAX_NODE_NAME];   /* the last node it accounted */
	struct energy_pending *next;
	size_t n_next, cap_next;
	/* A flush part way: the nodes up to flushed are written. */
	bool flushing;
	char flushed[MAX_NODE_NAME];
};

/* The state n is in for accounting. */
enum energy_state energy_acc_state(const struct node_rec *n);
/* The next step of a pass (a new one when none is part way): the next limit nodes of st
 * accounted from their last pass (or the store's clock) to now under m, in memory.
 * *ret_done when the pass walked the last node. 0, or -ENOMEM or the store's error: the
 * pass is abandoned (the next starts over; what it put in the image totals counts
 * twice, which beats losing the nodes'). A flush part way: -EBUSY. */
int energy_acc_step(struct energy_acc *a, struct store *st, const struct energy_model *m,
    int64_t now, size_t limit, bool *ret_done);
/* A whole pass (the rest of one part way), and the flush it asks for (images_full). */
int energy_acc_pass(struct energy_acc *a, struct store *st, const struct energy_model *m,
    int64_t now);
/* The next step of a flush: what is pending of the next limit nodes added to st's
 * totals, and after the last node the images', in one transaction. *ret_done after the
 * last. 0, or the store's error (that step's nodes stay pending; the flush starts over).
 * A pass part way: -EBUSY. */
int energy_acc_flush_step(struct energy_acc *a, struct store *st, size_t limit,
    bool *ret_done);
/* A whole flush (the rest of one part way), in one transaction. */
int energy_acc_flush(struct energy_acc *a, struct store *st);
/* Free the tables (what is pending is lost: flush first). */
void energy_acc_done(struct energy_acc *a);
