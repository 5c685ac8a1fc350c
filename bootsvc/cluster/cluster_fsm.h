/* SPDX-License-Identifier: MIT */
/* Who leads, as a pure function: (the leader session's last answer, the lease, now) ->
 * whether this instance may act. No I/O, no clock: cluster_pg.c runs the session and
 * feeds it what PostgreSQL said and when the question was sent; its table tests are
 * tests/unit/test_cluster_fsm.c. docs/scale-out.md "The leader and fencing" has the
 * timeline this implements.
 *
 * The rule, with L the lease:
 *   - a leader acts only while its last confirmed check was sent less than L/3 ago
 *     (cluster_confirm_ms): every check confirms that the session, and so the lock, was
 *     alive at some moment after it was sent; past L/3 without one it fences
 *     (CS_FENCED), whatever its thread is doing;
 *   - a session that took the advisory lock waits L/2 before it acts (CS_WAITING,
 *     cluster_wait_ms), so an old leader that lost the lock has fenced itself by then;
 *   - any failed check or lost session fences at once, and the session is dropped so
 *     the server frees the lock as soon as it can.
 * Because a new leader acquires only after the server freed the lock, and the server
 * freed it after the old one's last confirmed check, the old one stopped at least
 * L/2 - L/3 = L/6 before the new one starts: the margin for the loop's reaction to its
 * deadline and for two machines' clock rates. A crashed leader (its socket closed by its
 * kernel) is replaced within L/6 (the next try, cluster_check_ms) + L/2 of the crash:
 * within the lease. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* The lease's parts (above). Checks go out every L/6, each given L/8 (cluster_bound_ms):
 * one slow answer still lands within L/3 (1/6 + 1/8 < 1/3). */
static inline int64_t
cluster_confirm_ms(int64_t lease_ms)
{
	return lease_ms / 3;
}

static inline int64_t
cluster_wait_ms(int64_t lease_ms)
{
	return lease_ms / 2;
}

static inline int64_t
cluster_check_ms(int64_t lease_ms)
{
	return lease_ms / 6;
}

static inline int64_t
cluster_bound_ms(int64_t lease_ms)
{
	return lease_ms / 8;
}

enum cluster_state {
	CS_FOLLOWER, /* no lock: contends for it every check */
	CS_WAITING,  /* took the lock, waits half a lease before acting */
	CS_LEADER,   /* acts, while confirmed within a third of a lease */
	CS_FENCED,   /* stopped acting; the session is to be dropped, then contend again */
	_CS_MAX,
};

enum cluster_event {
	CE_TICK,        /* time passed, nothing was heard */
	CE_LOCK_TAKEN,  /* pg_try_advisory_lock said true; at = when it was sent */
	CE_LOCK_BUSY,   /* said false: another session holds it */
	CE_CHECK_OK,    /* a check on the holding session answered; at = when it was sent */
	CE_CHECK_FAILED, /* a check failed or passed its deadline */
	CE_SESSION_LOST, /* the connection is gone */
	CE_SESSION_NEW, /* a fresh connection (which holds nothing) */
	_CE_MAX,
};

struct cluster_fsm {
	enum cluster_state state;
	int64_t acquired_ms;  /* when the lock was asked for, in the state's session */
	int64_t confirmed_ms; /* when the last check that succeeded was sent */
};

struct cluster_out {
	enum cluster_state state;
	bool acting;          /* may act now */
	int64_t acting_until; /* may act while now < this (0: not at all); the loop checks
			       * it itself, so a thread stuck in a call cannot extend it */
	bool took_over;       /* this step began acting */
	bool fenced;          /* this step stopped acting: drain what was started */
	bool drop_session;    /* close the session (it may still hold the lock) */
};

void cluster_fsm_init(struct cluster_fsm *f);

/* Feed ev (at: when its question was sent, for CE_LOCK_TAKEN and CE_CHECK_OK; else
 * ignored) at now, both on one monotonic clock, with lease_ms > 0. A time that goes
 * backwards (at or now before the last confirmation) cannot be reasoned about and
 * fences. */
struct cluster_out cluster_fsm_step(struct cluster_fsm *f, int64_t lease_ms,
    enum cluster_event ev, int64_t at, int64_t now);

/* "follower", "waiting", "leader", "fenced" (what `server list` shows). */
const char *cluster_state_to_string(enum cluster_state s);
