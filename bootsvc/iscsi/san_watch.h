/* SPDX-License-Identifier: MIT */
/* The phases of nodes that run nothing of ours (kind_is_sanboot: iscsi), which bootsvc
 * sees for itself (lib/kind.h KIND_BY_TARGET, KIND_BY_PROBE):
 *   pxe -> loading  when tgtd lists the node's initiator logged in to its target from
 *                   the node's address (the firmware's sanboot),
 *   loading -> up   when the booted OS answers the image's up_probe ("tcp:<port>").
 * Every SAN_WATCH_TICK_MS the loop looks at the nodes in those two phases; tgtd's
 * sessions are read on a thread of the watcher's own (a privsep request that waits for
 * tgtadm), the probes are non-blocking connects on the loop, so neither can hold a
 * booting node's request. Nodes that pass no phase here cost one store scan a tick. */
#pragma once

#include "bootsvc.h"
#include "err.h"

/* How often nodes in pxe and loading are looked at: a boot's phases are seconds apart. */
#define SAN_WATCH_TICK_MS 2000
/* With no node in pxe, tgtd's sessions are read every this many ticks (10 s): a login
 * under another node's initiator name is dropped then (docs/iscsi.md). */
#define SAN_SESSIONS_EVERY 5
/* A probe's connect that has not completed after this failed for this tick. */
#define SAN_PROBE_TIMEOUT_MS 1500
/* Probes in flight at once (each one socket): a boot storm's nodes are probed over a
 * few ticks rather than with thousands of sockets. */
#define MAX_SAN_PROBES 256
/* Nodes looked at in one tick: the rest wait for the next. */
#define MAX_SAN_WATCH 4096

struct san_watch;

/* Start watching (a no-op watcher when cfg.iscsi is off). -ENOMEM or the thread's error. */
int san_watch_new(struct bootsvc *bs, struct san_watch **ret, struct dl_err *reterr);
struct san_watch *san_watch_free(struct san_watch *w);
