/* SPDX-License-Identifier: MIT */
/* Retention (issue 11, docs/store.md): the store's history is kept by count (each append
 * trims its node's rows past history_max_per_node, store_history_keep) and by age (here:
 * rows older than history_max_age go, MAX_PRUNE_ROWS per tick while there is a backlog,
 * so the loop never runs one big DELETE; finished VM plans of that age go too); and the
 * write-ahead log is checkpointed and truncated every CHECKPOINT_EVERY_MS, so -wal does
 * not keep the size of its busiest minute forever. */
#include "controller/ctrl_internal.h"
#include "log.h"

/* Rows looked at per pass: about a millisecond of the loop; at one pass a second while a
 * backlog lasts that is 1.8 million rows an hour, far above what a cluster appends. */
#define MAX_PRUNE_ROWS 1000
/* Without a backlog, the age is checked this often. */
#define PRUNE_EVERY_MS 60000
/* SQLite checkpoints on its own every 1000 pages but never shrinks the file: a truncating
 * checkpoint this often keeps -wal at what five minutes of writes need. */
#define CHECKPOINT_EVERY_MS 300000

void
ctrl_retention_init(struct ctrl *c)
{
	store_history_keep(c->bs->store, c->bs->cfg.history_max_per_node);
}

void
ctrl_retention_run(struct ctrl *c, int64_t now)
{
	const struct config *cfg = &c->bs->cfg;
	int64_t frames = 0;
	size_t n = 0;
	int r;

	/* again each tick: a SIGHUP may have changed it */
	store_history_keep(c->bs->store, cfg->history_max_per_node);
	if (cfg->history_max_age_ms &&
	    (c->prune_backlog || now - c->last_prune_ms >= PRUNE_EVERY_MS)) {
		c->last_prune_ms = now;
		r = store_history_prune(c->bs->store,
		    (now - (int64_t)cfg->history_max_age_ms) / 1000, MAX_PRUNE_ROWS, &n);
		c->prune_backlog = r == 0 && n == MAX_PRUNE_ROWS;
		c->pruned += n;
		if (r < 0)
			log_warning("event=store_prune msg=\"history pruning failed, will retry\"");
		else if (n && !c->prune_backlog)
			log_info("event=store_prune rows=%llu msg=\"history older than "
			    "history_max_age removed\"", (unsigned long long)c->pruned);
		if (!c->prune_backlog)
			c->pruned = 0;
		/* VM plans that ended (issue 13) are history too: the same age. A plan is
		 * a handful a day; MAX_VM_PLAN_PRUNE a minute is far above that. */
		r = store_vm_plan_prune(c->bs->store, now - (int64_t)cfg->history_max_age_ms);
		if (r < 0)
			log_warning("event=store_prune msg=\"VM plan pruning failed, will retry\"");
		else if (r > 0)
			log_info("event=store_prune plans=%d msg=\"VM plans older than "
			    "history_max_age removed\"", r);
	}
	if (now - c->last_checkpoint_ms >= CHECKPOINT_EVERY_MS) {
		c->last_checkpoint_ms = now;
		r = store_checkpoint(c->bs->store, &frames);
		log_debug("event=store_checkpoint frames=%lld busy=%d", (long long)frames,
		    r == -EBUSY);
	}
}
