/* SPDX-License-Identifier: MIT */
/* The iscsi room's public face: each iscsi node's disk, from its clone to its target in
 * tgtd (issue 14, docs/iscsi.md "Disks"). Loop-owned; the clone and every tgtd call run
 * on the room's own worker pool, never on the loop.
 *
 * - The script path asks disks_for_boot() for a node's disk: the decision is
 *   disk_fsm.h's; a clone to make is started here (a new row "making" with new CHAP
 *   secrets, then a worker clones, drops the old target first and sets the new one).
 * - Every DISKS_TICK_MS the room asks tgtd's status (privsep_tgt_status) and
 *   qemu-storage-daemon's (privsep_qsd_status): when tgtd's generation changed every
 *   ready disk's target is set again from the store; when qsd's did, every ready qcow2
 *   disk is exported again first (its old FUSE file is gone with the old qsd); and a disk whose node went, or whose node's image is no longer of a
 *   sanboot kind, loses its target, its clone and its row.
 * - At start, temp files of clones a dead bootsvc left are removed and rows left
 *   "making" are failed (a new armed boot makes them again).
 *
 * tgtd is driven by the root parent (iscsi/tgt.h); main.c gives the room the parent's
 * calls (privsep_tgt_*) as struct disks_tgt_ops, and tests their own. Without a parent
 * (bootsvc started unprivileged) the ops are NULL: clones are made but nothing is
 * exported, said once. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"
#include "iscsi/disk_fsm.h"
#include "iscsi/tgt.h"
#include "store/store.h"

struct bootsvc;
struct privsep;
struct disks;
struct strbuf;

/* How often tgtd's generation is asked and gone nodes' disks are dropped: a restarted
 * tgtd is back in seconds, and a node sanbooting through the gap retries (iscsi.ipxe). */
#define DISKS_TICK_MS 3000
/* Clones made at once: each one reads the golden and writes disk_dir flat out (a copy);
 * two keep the disk busy without starving the rest of the machine. */
#define DISKS_WORKERS 2
/* Jobs queued at most: a clone per node of a large site's mass reboot, and the targets
 * to set again after a tgtd restart (one per iscsi node). */
#define MAX_DISKS_QUEUE 4096

struct disks_tgt_ops {
	int (*set)(struct privsep *p, const struct tgt_target *t, struct dl_err *reterr);
	int (*del)(struct privsep *p, uint32_t tid, struct dl_err *reterr);
	int (*status)(struct privsep *p, pid_t *ret_pid, uint64_t *ret_restarts,
	    uint64_t *ret_generation, struct dl_err *reterr);
	/* qcow2 exports (privsep_disk_*; all three NULL: the method is not offered). */
	int (*export)(struct privsep *p, const char *node, const char *golden, char ret_path[],
	    size_t size, struct dl_err *reterr);
	int (*unexport)(struct privsep *p, const char *node, bool remove, struct dl_err *reterr);
	int (*qsd_status)(struct privsep *p, pid_t *ret_pid, uint64_t *ret_restarts,
	    uint64_t *ret_generation, struct dl_err *reterr);
};

/* The room for bs (cfg.iscsi must be on: with it off there is no room, *ret = NULL and
 * 0). Makes disk_dir if missing, sweeps it, fails rows left making, starts the pool and
 * the tick. ops may be NULL (see above).
 * @ret *ret a new room, owned by the caller: disks_free() it before the store. */
int disks_new(struct bootsvc *bs, const struct disks_tgt_ops *ops, struct disks **ret,
    struct dl_err *reterr);
/* Stop the pool (a clone in flight is cancelled: its row stays making and the next start
 * fails it) and free. NULL is fine; returns NULL. */
struct disks *disks_free(struct disks *d);

/* The disk of node n booting img (a sanboot kind) on this script request. d may be NULL
 * (iscsi off). *ret the row when the verdict is DD_KEEP (ready); *ret_why why not.
 * DD_MAKE never comes back: a make started is DD_WAIT. */
enum disk_do disks_for_boot(struct disks *d, const struct node_rec *n,
    const struct image_rec *img, struct disk_rec *ret, const char **ret_why);

/* Where an armed boot begins (the controller's power-on, an admin's power verb): start
 * node n's clone now if its boot image is of a sanboot kind and the lifecycle says so, so
 * it is made while the node POSTs; the script request then finds it ready or being made.
 * n must be armed already. d may be NULL; anything else does nothing. */
void disks_prepare(struct disks *d, const struct node_rec *n);

/* Fill t with node n's target from its disk row and the config. */
int disks_target(const struct bootsvc *bs, const struct node_rec *n, const struct disk_rec *dr,
    struct tgt_target *t, struct dl_err *reterr);

/* Is a clone of node being made by this bootsvc now? */
bool disks_in_flight(const struct disks *d, const char *node);

/* /metrics: diskless_disk_clones_total{method}, diskless_disk_clone_failures_total,
 * diskless_disk_clone_bytes,
 * diskless_disk_clone_seconds (sum and count). Nothing when d is NULL. */
void disks_metrics(struct disks *d, struct strbuf *out);

/* May node n be given image img? An image of a sanboot kind needs iscsi = on and a node
 * with a fixed address (its target is bound to it): -EOPNOTSUPP / -EINVAL with reterr
 * naming the node, the image and the fix; logged once per refusal. 0 otherwise. */
int disks_image_check(const struct bootsvc *bs, const struct node_rec *n,
    const struct image_rec *img, struct dl_err *reterr);

/* node.show's "disk" object of n (never a secret), NULL when it has none: a new
 * reference. */
struct json_t;
struct json_t *disks_show_json(const struct bootsvc *bs, const struct node_rec *n);
