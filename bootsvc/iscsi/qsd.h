/* SPDX-License-Identifier: MIT */
/* qemu-storage-daemon supervised by bootsvc's root parent (issue 14, docs/iscsi.md "qcow2
 * exports"): one long-lived daemon, started with argv (`qemu-storage-daemon --chardev
 * socket,id=qmp,path=<state_dir>/qsd/qmp.sock,server=on,wait=off --monitor chardev=qmp`)
 * from the parent, so in bootsvc's mount namespace: tgtd (also the parent's) sees the
 * FUSE mounts it makes. Restarted with backoff when it dies (lib/backoff.h, as tgtd), each
 * start a new generation (every export is gone: the child exports again and sets its
 * targets again), stopped cleanly at the end (exports deleted, then `quit`; SIGKILL only
 * after a bounded wait). A qsd of an earlier run found on the socket is told to quit, and
 * FUSE mounts left in the exports directory (a SIGKILLed qsd) are detached at each start.
 *
 * An export is a qcow2 overlay over a raw golden, handed to qsd as /proc/<our pid>/fd/<n>:
 * the golden opened by the caller (checked by privsep_policy.c) and given as an explicit
 * backing node, the overlay made and kept here, in root's <state_dir>/qsd/overlays, with
 * no backing name in its header: the child never writes a byte that qsd parses (a qcow2
 * header can name a backing file or an external data file that qemu would open). The raw view
 * is a FUSE file <state_dir>/qsd/exports/<node>.raw that this module creates in its own
 * root-only directory.
 *
 * Runs in the root parent only, on its loop; each QMP command has a deadline
 * (QSD_QMP_TIMEOUT_MS). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "err.h"
#include "loop.h"

struct qsd;

/* One QMP command: qsd answers from memory or after opening a file, in milliseconds. */
#define QSD_QMP_TIMEOUT_MS 5000
/* qsd's start-up until its QMP socket answers: ~80 ms here; a bound, not a wait. */
#define QSD_READY_MS 5000
/* qsd's exit after `quit`. */
#define QSD_STOP_MS 3000
/* A blockdev-del refused while the export's last requests drain. */
#define QSD_DEL_MS 2000
/* Restart backoff: as tgtd's. */
#define QSD_BACKOFF_MIN_MS 1000
#define QSD_BACKOFF_MAX_MS 30000
#define QSD_STABLE_MS 60000
/* One `qemu-img create` of an overlay: ~10 ms here (a header and two tables). */
#define QSD_IMG_TIMEOUT_MS 10000
/* Exports at once: one per node with a qcow2 disk; tgtd's target limit bounds nodes. */
#define MAX_QSD_EXPORTS 4096
/* One QMP answer: a return of a few hundred bytes; a longer line is not qsd's. */
#define MAX_QMP_LINE 65536

/* Prepare <state_dir>/qsd and its exports/ (root's, 0700) and start qsd; a start that
 * fails is logged and retried with the backoff. cfg and l are borrowed and outlive the
 * handle. -errno only for what a retry cannot mend (the directory, a path too long). */
int qsd_new(struct loop *l, const struct config *cfg, struct qsd **ret, struct dl_err *reterr);
/* Stop qsd cleanly (above), detach and remove every mountpoint, free. NULL-safe. */
struct qsd *qsd_free(struct qsd *q);

/* pid (0: down), restarts and generation (1 after the first start, +1 at each start). */
void qsd_status(const struct qsd *q, pid_t *ret_pid, uint64_t *ret_restarts,
    uint64_t *ret_generation);

/* Export node's overlay <state_dir>/qsd/overlays/<node>.qcow2 (made now, of golden's
 * size and with no backing name in its header, if there is none) over golden_fd (read-
 * only, raw, checked by the caller) at <state_dir>/qsd/exports/<node>.raw, replacing an
 * export node had. golden_fd is only borrowed for the call: qsd opens its own.
 * ret_path[0..size) the mountpoint. -ENOTCONN while qsd is down; -EIO naming QMP's
 * error. */
int qsd_export(struct qsd *q, const char *node, int golden_fd, char ret_path[], size_t size,
    struct dl_err *reterr);
/* End node's export: block-export-del, blockdev-del of both nodes, the mountpoint
 * unmounted and removed; remove: the overlay deleted too (its writes are gone). 0 when
 * node has none. */
int qsd_unexport(struct qsd *q, const char *node, bool remove, struct dl_err *reterr);
/* <state_dir>/qsd/overlays/<node>.qcow2 into buf; -ENAMETOOLONG. */
int qsd_overlay_path(const struct qsd *q, const char *node, char *buf, size_t size);

/* Is path one of this qsd's live export files (<exports dir>/<node>.raw of an export it
 * holds)? What privsep lets a target be set on besides the child's plain files. */
bool qsd_is_export(const struct qsd *q, const char *path);
/* The exports directory (<state_dir>/qsd/exports). */
const char *qsd_exports_dir(const struct qsd *q);
