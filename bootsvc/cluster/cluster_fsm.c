/* SPDX-License-Identifier: MIT */
/* The leader's lease as a pure decision (cluster_fsm.h has the rule). */
#include <assert.h>
#include <stddef.h>

#include "cluster/cluster_fsm.h"
#include "name_table.h"

void
cluster_fsm_init(struct cluster_fsm *f)
{
	*f = (struct cluster_fsm){ .state = CS_FOLLOWER };
}

const char *
cluster_state_to_string(enum cluster_state s)
{
	static const char *const names[_CS_MAX] = {
		[CS_FOLLOWER] = "follower", [CS_WAITING] = "waiting", [CS_LEADER] = "leader",
		[CS_FENCED] = "fenced",
	};

	return NAME_OF(names, s, "?");
}

/* Holding the lock (waiting or leading): what one more event means. */
static void
holder_step(struct cluster_fsm *f, int64_t lease_ms, enum cluster_event ev, int64_t at,
    int64_t now, struct cluster_out *o)
{
	bool was_leader = f->state == CS_LEADER;

	switch (ev) {
	case CE_LOCK_TAKEN: /* asked again on the same session: as good as a check */
	case CE_CHECK_OK:
		/* An answer to a question sent before the last one confirmed nothing new; one
		 * sent in the future is a broken clock. */
		if (at > now) {
			f->state = CS_FENCED;
			break;
		}
		if (at > f->confirmed_ms)
			f->confirmed_ms = at;
		break;
	case CE_TICK:
		break;
	case CE_LOCK_BUSY: /* the holder's own session cannot be refused: not ours any more */
	case CE_CHECK_FAILED:
	case CE_SESSION_LOST:
	case CE_SESSION_NEW:
	default:
		f->state = CS_FENCED;
		break;
	}
	if (f->state != CS_FENCED && (now < f->confirmed_ms ||
	    now - f->confirmed_ms >= cluster_confirm_ms(lease_ms)))
		f->state = CS_FENCED;
	if (f->state == CS_WAITING && now - f->acquired_ms >= cluster_wait_ms(lease_ms)) {
		f->state = CS_LEADER;
		o->took_over = true;
	}
	if (f->state == CS_FENCED)
		o->fenced = was_leader;
}

struct cluster_out
cluster_fsm_step(struct cluster_fsm *f, int64_t lease_ms, enum cluster_event ev, int64_t at,
    int64_t now)
{
	struct cluster_out o = { 0 };

	assert(lease_ms > 0);
	switch (f->state) {
	case CS_FOLLOWER:
		/* Taken at a time from the future: the lock is ours but the clock cannot
		 * be trusted to time the lease; give it back. */
		if (ev == CE_LOCK_TAKEN && at > now)
			f->state = CS_FENCED;
		else if (ev == CE_LOCK_TAKEN) {
			f->state = CS_WAITING;
			f->acquired_ms = f->confirmed_ms = at;
			/* A lease of one check's length: it may lead at once. */
			holder_step(f, lease_ms, CE_TICK, at, now, &o);
		}
		break;
	case CS_WAITING:
	case CS_LEADER:
		holder_step(f, lease_ms, ev, at, now, &o);
		break;
	case CS_FENCED:
		/* Only a fresh session, which holds nothing, ends the fence. */
		if (ev == CE_SESSION_NEW)
			f->state = CS_FOLLOWER;
		break;
	default:
		assert(!"cluster state");
	}
	o.state = f->state;
	o.acting = f->state == CS_LEADER;
	o.acting_until = o.acting ? f->confirmed_ms + cluster_confirm_ms(lease_ms) : 0;
	o.drop_session = f->state == CS_FENCED;
	return o;
}
