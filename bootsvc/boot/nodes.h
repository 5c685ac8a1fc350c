/* SPDX-License-Identifier: MIT */
/* What bootsvc does to nodes, shared by the control verbs and the HTTP routes:
 * registration, phases, the image a node boots. */
#pragma once

#include "bootsvc.h"
#include "boot/boot_query.h"

/* Phases a node is in (docs/architecture.md). */
bool phase_is_valid(const char *phase);
/* Phases a node may report about itself over HTTP. */
bool phase_is_reportable(const char *phase);

/* A fresh per-node token: 32 random bytes as 64 hex chars. */
int nodes_token_new(char ret[static SHA256_HEX_SIZE]);

/* Arm n (boot/trust.h): a fresh token, handed out once from now on; by ("controller",
 * "self", "admin") and why go to the store, the history and the log. n is updated. */
int nodes_arm(struct bootsvc *bs, struct node_rec *n, const char *by, const char *why);
/* The credential was handed out: n keeps its token, no longer armed. */
int nodes_disarm(struct bootsvc *bs, struct node_rec *n);

/* Record a phase change (store + history + one log line). */
int nodes_set_phase(struct bootsvc *bs, const char *name, const char *phase, const char *reason);
/* The same, dated at (s) rather than now: a change the loop writes after the request that
 * made it (boot/boot_records.h). */
int nodes_set_phase_at(struct bootsvc *bs, const char *name, const char *phase,
    const char *reason, int64_t at);

/* The image version node n boots now: its pin, else the newest of its image name.
 * -ENOENT when it has none (it holds). */
int nodes_boot_image(struct bootsvc *bs, const struct node_rec *n, struct image_rec *ret);

/* The lowest free address of node_ip_range into ret; -ENOSPC when all are taken. */
int nodes_alloc_ip(struct bootsvc *bs, char ret[static 16], struct dl_err *reterr);

/* Register an unknown machine that asked for its script from address src ("" when not
 * known) as "d-<mac hex>" in phase discovered, within the bounds of boot/discover.h:
 * -EAGAIN past src's discover_rate, -ENOSPC with discover_max nodes discovered already
 * (an event "discover-cap" the first time), each logged once per run of refusals. */
int nodes_discover(struct bootsvc *bs, const struct boot_query *q, const char *src,
    struct node_rec *ret);

/* Is n drained: by an admin (n->drain), or by its health (the configured action for its
 * health includes drain)? A drained node gets no new work; nothing else changes. */
bool nodes_drained(struct bootsvc *bs, const struct node_rec *n);

/* Rewrite every node's dnsmasq host entry, and remove those of nodes no longer in the
 * store (after a start or a reload, and each cluster resync). */
int nodes_sync_dhcp_hosts(struct bootsvc *bs);
