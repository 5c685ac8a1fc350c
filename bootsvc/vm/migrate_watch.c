/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include "name_table.h"
#include "vm/migrate_watch.h"

#define MIB (1024 * 1024)

void
migrate_watch_init(struct migrate_watch *w, int64_t now_ms)
{
	memset(w, 0, sizeof(*w));
	w->started_ms = now_ms;
	w->best_remaining = -1;
}

int64_t
migrate_watch_deadline_ms(int64_t mem_mib, unsigned s_per_gib)
{
	int64_t ms;

	if (mem_mib < 0)
		mem_mib = 0;
	/* mem_mib <= 64 TiB (the facts' bound) and s_per_gib <= 86400: no overflow */
	ms = mem_mib * (int64_t)s_per_gib * 1000 / 1024;
	return ms > MIGRATE_MIN_DEADLINE_MS ? ms : MIGRATE_MIN_DEADLINE_MS;
}

struct migrate_decision
migrate_watch_decide(struct migrate_watch *w, const struct migrate_sample *s,
    const struct migrate_policy *p)
{
	struct migrate_decision d = { .verdict = MIGRATE_CONTINUE };
	int64_t elapsed = s->at_ms - w->started_ms;

	if (s->postcopy)
		w->postcopy = true;
	if (w->postcopy || w->aborted)
		return d;
	if (elapsed > p->deadline_ms) {
		w->aborted = true;
		d.verdict = MIGRATE_ABORT;
		(void)snprintf(d.why, sizeof(d.why), "deadline: not done after %lld s "
		    "(%lld of %lld MiB left)", (long long)(elapsed / 1000),
		    (long long)(s->data_remaining / MIB), (long long)(s->data_total / MIB));
		return d;
	}
	if (s->data_total <= 0)
		return d; /* not copying yet */
	if (w->best_remaining < 0 || s->data_remaining < w->best_remaining) {
		w->best_remaining = s->data_remaining;
		w->stalled = 0;
		return d;
	}
	if (++w->stalled < MIGRATE_STALL_SAMPLES)
		return d;
	d.stalled = true;
	w->stalled = 0; /* a stall kept going is said again only after as many more */
	if (p->postcopy_allowed) {
		w->postcopy = true;
		d.verdict = MIGRATE_POSTCOPY;
		(void)snprintf(d.why, sizeof(d.why), "no progress in %d samples (%lld MiB "
		    "left, at best %lld): switching to post-copy", MIGRATE_STALL_SAMPLES,
		    (long long)(s->data_remaining / MIB), (long long)(w->best_remaining / MIB));
	} else
		(void)snprintf(d.why, sizeof(d.why), "no progress in %d samples (%lld MiB "
		    "left, at best %lld), post-copy not allowed: going on until the deadline",
		    MIGRATE_STALL_SAMPLES, (long long)(s->data_remaining / MIB),
		    (long long)(w->best_remaining / MIB));
	return d;
}

const char *
migrate_verdict_to_string(enum migrate_verdict v)
{
	static const char *const names[_MIGRATE_VERDICT_MAX] = {
		[MIGRATE_CONTINUE] = "continue",
		[MIGRATE_POSTCOPY] = "postcopy",
		[MIGRATE_ABORT] = "abort",
	};

	return NAME_OF(names, v, "invalid");
}
