/* SPDX-License-Identifier: MIT */
/* The daemon's state, owned by the loop thread. One instance per process. */
#pragma once

#include <pthread.h>
#include <stdint.h>

#include "boot/discover.h"
#include "boot/templates.h"
#include "config.h"
#include "loop.h"
#include "notify.h"
#include "pki.h"
#include "store/store.h"

struct http;
struct control;
struct web;
struct dnsmasq;
struct ctrl;
struct action;
struct privsep;
struct vm;
struct disks;
struct san_watch;
struct sync;
struct cluster;

/* The script latency histogram's finite buckets, 1 ms to 10 s (http/metrics.c). */
#define METRICS_SCRIPT_BUCKETS 12

/* Counters for /metrics. bs->metrics is the loop's: only it touches them. A reader
 * thread has its own (http_internal.h, struct http_view), which it bumps with
 * metric_add and /metrics reads with relaxed atomic loads. */
struct metrics {
	uint64_t requests[6];  /* by route family, enum http_route */
	uint64_t responses[6]; /* by status class 1xx..5xx (index 1..5) */
	uint64_t bytes_sent;
	uint64_t control_requests, control_errors;
	uint64_t dnsmasq_restarts;
	uint64_t phase_reports, phase_rejected;
	uint64_t sync_bytes, sync_versions, sync_failures; /* sync/sync.h */
	uint64_t boot_scripts; /* image scripts served: boots started (http_ipxe.c) */
	/* How long /ipxe requests took, request to response done (http/metrics.c has the
	 * bucket bounds): a boot storm shows here before nodes time out. */
	uint64_t script_buckets[METRICS_SCRIPT_BUCKETS], script_count;
	uint64_t script_ms_sum;
};

/* /etc/hosts as every node's overlay carries it (boot/overlay.c): rebuilt from the store
 * at most once per OVERLAY_HOSTS_MS, on the loop. NULL text: not built yet. */
struct overlay_hosts {
	char *text;
	size_t len;
	uint64_t built_ms; /* loop_now_ms() when built */
};

/* x += n for a counter with one writer that another thread may read. */
static inline void
metric_add(uint64_t *x, uint64_t n)
{
	__atomic_store_n(x, __atomic_load_n(x, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

struct bootsvc {
	struct config cfg;
	const char *config_path; /* borrowed from argv, NULL when none */
	char *const *overrides;  /* borrowed from argv: --key=value list */
	int n_overrides;
	struct loop *loop;
	struct store *store;
	struct http *http;
	struct control *control;
	struct web *web;          /* the admin listener (web/web.h); NULL: off */
	struct dnsmasq *dnsmasq;
	struct action *action;   /* node actions on worker pools (action/action.h) */
	struct privsep *privsep; /* to the root parent; NULL when started unprivileged */
	struct ctrl *ctrl;
	struct vm *vm;            /* VM hosts over libvirt (vm/vm.h) */
	struct disks *disks;      /* iscsi nodes' disks (iscsi/disks.h); NULL: iscsi = off */
	struct san_watch *san;    /* iscsi nodes' loading and up, seen (iscsi/san_watch.h) */
	struct sync *sync;        /* image versions fetched from peers (sync/sync.h) */
	struct cluster *cluster;  /* several bootsvc (cluster/cluster.h); NULL: alone, leader */
	struct notify notify;    /* who is told what happened (notify.h) */
	struct templates tmpl;
	/* The templates and what HTTP reader threads read of cfg (boot_url, hold_poll_ms) are
	 * changed under it (main.c's reload), and read under it by them. */
	pthread_mutex_t reload_lock;
	struct tmpl_bound_cache tmpl_bound; /* the loop's kind scripts, bound */
	struct metrics metrics;
	char images_dir[MAX_STORE_PATH];
	uint32_t ip_hint; /* host order: where nodes_alloc_ip() looks first */
	struct discover_limit discover; /* discovery's bounds (boot/discover.h) */
	struct pki pki;   /* the CA VM hosts' certificates come from (pki.h) */
	struct overlay_hosts hosts; /* overlays' /etc/hosts, cached (boot/overlay.h) */
};
