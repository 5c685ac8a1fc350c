/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "name_table.h"
#include "vm/exec_pick.h"

struct host_load {
	const char *node;
	unsigned n;
};

static unsigned *
load_of(struct host_load *h, size_t *n_h, const char *node)
{
	for (size_t i = 0; i < *n_h; i++)
		if (strcmp(h[i].node, node) == 0)
			return &h[i].n;
	h[*n_h].node = node;
	h[*n_h].n = 0;
	return &h[(*n_h)++].n;
}

/* Whether VM uuid is moved by a running step, or one picked already. */
static bool
vm_busy(const struct vm_step_rec *steps, size_t n, const bool *picked, size_t self)
{
	for (size_t i = 0; i < n; i++)
		if (i != self && exec_step_is_migrate(&steps[i]) &&
		    strcmp(steps[i].vm_uuid, steps[self].vm_uuid) == 0 &&
		    (exec_step_state_is(&steps[i], "running") || picked[i]))
			return true;
	return false;
}

/* Every migrate step of st's plan before it off st's host is done. */
static bool
host_emptied(const struct vm_step_rec *steps, size_t n, const struct vm_step_rec *st)
{
	for (size_t i = 0; i < n; i++)
		if (steps[i].plan_id == st->plan_id && steps[i].seq < st->seq &&
		    exec_step_is_migrate(&steps[i]) && strcmp(steps[i].src, st->src) == 0 &&
		    !exec_step_state_is(&steps[i], "done"))
			return false;
	return true;
}

/* Whether a migration runs or was picked (picked[], may be NULL) with node as its source
 * or destination. */
static bool
host_touched(const struct vm_step_rec *steps, size_t n, const bool *picked, const char *node)
{
	for (size_t i = 0; i < n; i++)
		if (exec_step_is_migrate(&steps[i]) && (exec_step_state_is(&steps[i], "running") ||
		    (picked && picked[i])) && (strcmp(steps[i].src, node) == 0 ||
		    strcmp(steps[i].dst, node) == 0))
			return true;
	return false;
}

/* Whether a power-off of node is pending (only) or was picked (picked[i] set). */
static bool
host_powering_off(const struct vm_step_rec *steps, size_t n, const bool *picked,
    const char *node, bool picked_only)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(steps[i].action, "power-off") == 0 && exec_step_state_is(&steps[i], "pending") &&
		    strcmp(steps[i].src, node) == 0 && (!picked_only || picked[i]))
			return true;
	return false;
}

int
exec_pick(const struct vm_step_rec *steps, size_t n, const struct exec_limits *lim,
    exec_connected_fn connected, void *userdata, bool *ret_start)
{
	struct host_load *h;
	size_t n_h = 0;
	unsigned total = 0;
	int picked = 0;

	memset(ret_start, 0, n * sizeof(*ret_start));
	/* each step names two hosts at most: 2n entries bound the table */
	if (!(h = calloc(2 * n + 1, sizeof(*h))))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (exec_step_is_migrate(&steps[i]) && exec_step_state_is(&steps[i], "running")) {
			(*load_of(h, &n_h, steps[i].src))++;
			(*load_of(h, &n_h, steps[i].dst))++;
			total++;
		}
	for (size_t i = 0; i < n; i++) {
		const struct vm_step_rec *st = &steps[i];

		if (!exec_step_state_is(st, "pending"))
			continue;
		if (!exec_step_is_migrate(st)) {
			/* and no migration to or from it runs: it would die with the host */
			if (strcmp(st->action, "power-off") == 0 && host_emptied(steps, n, st) &&
			    !host_touched(steps, n, ret_start, st->src)) {
				ret_start[i] = true;
				picked++;
			}
			continue;
		}
		unsigned *ls, *ld;

		if (total >= lim->max || !st->dst[0] || strcmp(st->src, st->dst) == 0 ||
		    !connected(st->src, userdata) || !connected(st->dst, userdata))
			continue;
		ls = load_of(h, &n_h, st->src);
		ld = load_of(h, &n_h, st->dst);
		if (*ls >= lim->per_host || *ld >= lim->per_host || vm_busy(steps, n, ret_start, i))
			continue;
		/* never onto a host a plan powers off, nor off one being powered off now */
		if (host_powering_off(steps, n, ret_start, st->dst, false) ||
		    host_powering_off(steps, n, ret_start, st->src, true))
			continue;
		(*ls)++;
		(*ld)++;
		total++;
		ret_start[i] = true;
		picked++;
	}
	free(h);
	return picked;
}

/* Whether a domain in state s runs or could (a shut-off or crashed one is not moved:
 * LIVE needs it running, and the executor never starts one). */
static bool
state_active(const char *s)
{
	return s && strcmp(s, "shutoff") != 0 && strcmp(s, "crashed") != 0;
}

enum exec_resume
exec_resume_decide(const char *src_state, const char *dst_state)
{
	if (!dst_state)
		return state_active(src_state) ? EXEC_RESUME_PENDING : EXEC_RESUME_NOWHERE;
	if (strcmp(dst_state, "running") == 0)
		/* running on both: the hand-over is not over (post-copy's source is paused) */
		return state_active(src_state) ? EXEC_RESUME_WAIT : EXEC_RESUME_DONE;
	if (strcmp(dst_state, "paused") == 0)
		return EXEC_RESUME_WAIT; /* incoming, or post-copy still copying */
	/* defined but not running on the destination: a failed attempt's leftover */
	return state_active(src_state) ? EXEC_RESUME_PENDING : EXEC_RESUME_NOWHERE;
}

const char *
exec_resume_to_string(enum exec_resume r)
{
	static const char *const names[_EXEC_RESUME_MAX] = {
		[EXEC_RESUME_WAIT] = "wait",
		[EXEC_RESUME_DONE] = "done",
		[EXEC_RESUME_PENDING] = "pending",
		[EXEC_RESUME_NOWHERE] = "nowhere",
	};

	return NAME_OF(names, r, "invalid");
}
