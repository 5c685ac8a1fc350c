/* SPDX-License-Identifier: MIT */
/* What cluster.c (the loop's side) and cluster_pg.c (the two session threads) share. The
 * threads publish under mu and poke wake_fd; the loop reads under mu. */
#pragma once

#include <pthread.h>
#include <stdatomic.h>

#include "cluster/cluster.h"
#include "cluster/cluster_fsm.h"
#include "config.h"

struct cluster {
	struct bootsvc *bs;
	/* Inputs, copied at start and never changed: the threads read them freely. */
	char conninfo[MAX_CONF_STORE]; /* the store's URL: the cluster shares its database */
	int64_t lease_ms;
	char name[64], url[128], segments[192];
	int64_t pid, started_ms;
	int wake_fd;   /* eventfd: the threads wake the loop */
	int stop_fd;   /* eventfd: the loop wakes the threads to stop */
	atomic_bool stopping;
	pthread_t leader_thread, listen_thread;
	bool leader_started, listen_started;

	pthread_mutex_t mu;
	/* Published by the leader thread (under mu). */
	struct cluster_out out;
	int64_t generation;
	struct cluster_server servers[MAX_CLUSTER_SERVERS];
	size_t n_servers;
	uint64_t servers_read_ms; /* loop_now_ms() of the read, 0: never */
	/* Set by the loop for the leader thread: the store refused a write for this
	 * instance's generation (store_fence_refused()), so a newer leader exists whatever
	 * this session's lock says; the thread fences and drops the session. */
	atomic_bool stale;
	/* Published by the LISTEN thread (atomic: a flag, coalesced). */
	atomic_bool history;
	_Atomic uint64_t notifications; /* received since start (server.list shows it) */

	/* Loop only. */
	bool leading;
	int64_t acting_until;
	int64_t fence_timer;
	int64_t dhcp_timer;  /* the periodic DHCP host resync (cluster.c) */
};

/* cluster_pg.c: the threads' bodies (arg: the struct cluster). */
void *cluster_pg_leader_main(void *arg);
void *cluster_pg_listen_main(void *arg);
/* Wake the loop (from a thread). */
void cluster_wake(struct cluster *c);
