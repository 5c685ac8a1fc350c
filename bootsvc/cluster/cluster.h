/* SPDX-License-Identifier: MIT */
/* Several bootsvc on one PostgreSQL (issue 15, docs/scale-out.md): the cluster room. With
 * a postgresql store it runs, each on a thread of its own with a libpq session of its own
 * (nothing goes through the store interface, and no libpq call blocks the loop):
 *   - the leader session (cluster_pg.c): contends for a session-level advisory lock,
 *     checks it, and decides with cluster_fsm.c whether this instance may act; it also
 *     keeps this instance's row in the `servers` table and reads everyone's;
 *   - the LISTEN session: every `diskless_history` notification wakes the loop, which
 *     tells the event stream and the controller (notify.h), as a local write does.
 * The loop learns both through one eventfd. With SQLite there is no cluster: this
 * instance alone, always the leader, as before issue 15.
 *
 * Loop thread only, except where a function says otherwise. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct bootsvc;
struct cluster;

/* The advisory lock keys (pg_try_advisory_lock's bigint): the leader's, and the one
 * that serialises creating the room's tables. Any fixed numbers do; these spell "dlLEAD"
 * and "dlDDL" so they are recognisable in pg_locks. */
#define CLUSTER_LOCK_LEADER 0x646c4c454144LL
#define CLUSTER_LOCK_DDL    0x646c44444cLL
/* The notification channel the store's history trigger sends each new row's seq on. */
#define CLUSTER_CHANNEL "diskless_history"
/* Instances a `server list` shows: a site has a service node per rack or segment, tens
 * of them; more are left out, saying so in the log. */
#define MAX_CLUSTER_SERVERS 256
/* A server is shown as gone once its row is older than this many leases: it missed
 * about a dozen heartbeats (one each quarter lease). */
#define CLUSTER_GONE_LEASES 3

/* One instance as `server list` shows it. */
struct cluster_server {
	char name[64];
	char url[128];
	char segments[192];
	char role[16];   /* leader, waiting, follower, fenced */
	int64_t pid;
	int64_t age_ms;  /* since its row was last written, on the database's clock */
	bool gone;       /* age_ms past CLUSTER_GONE_LEASES leases */
	bool self;       /* this instance */
};

/* Start the room on bs (borrowed; its config, loop, notify and action path). Without
 * postgresql store, *ret is NULL and 0 is returned: alone, always the leader. -ENOMEM or a
 * thread's or eventfd's error, saying which. */
int cluster_new(struct bootsvc *bs, struct cluster **ret, struct dl_err *reterr);
/* Stop both threads (their sessions are closed, so a leader's lock is freed at once and
 * another instance takes over after its lease) and free. NULL is fine. */
struct cluster *cluster_free(struct cluster *c);

/* Whether this instance may act now: take controller actions, run the green and VM
 * policies, write desired state of its own. True without a cluster (c NULL). Checked
 * against the lease's deadline on the loop's own clock, so a leader whose session
 * thread hangs stops on time, and fenced at once when the store refused a write for a
 * newer leader's generation (store_fence()). */
bool cluster_may_act(struct cluster *c);

/* The fencing token: the generation the current leader took over with (0: not leading
 * or no cluster). */
int64_t cluster_generation(struct cluster *c);

/* History notifications received since start (0 without a cluster). Any thread. */
uint64_t cluster_notifications(struct cluster *c);

/* The instances: from the last read of `servers`, or, without a cluster, this one alone
 * as the leader (from cfg, which is borrowed). *ret is malloc'd (caller frees), *ret_n
 * its count. -ENOMEM. */
int cluster_servers(struct cluster *c, const struct bootsvc *bs,
    struct cluster_server **ret, size_t *ret_n);

/* This instance's segments as the registry shows them: its DHCP interface and ranges
 * (from cfg), e.g. "br0 10.0.0.100-10.0.0.199 nodes 10.0.0.10-10.0.0.99". */
void cluster_segments(const struct bootsvc *bs, char *buf, size_t size);
