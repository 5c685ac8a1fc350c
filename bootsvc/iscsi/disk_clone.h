/* SPDX-License-Identifier: MIT */
/* A node's disk made from the golden one (issue 14, docs/iscsi.md "Disks"): files in, files
 * out, nothing of bootsvc's state, so a worker runs it and tests call it directly.
 *
 * A clone is made under a temp name in disk_dir (".<node>.img.making-XXXXXX"), fsynced,
 * renamed to <disk_dir>/<node>.img and the directory fsynced: a clone that is not
 * complete is never at its final name, so nothing that looks for it there can export it.
 * A crash leaves at most a temp file, which disk_clone_sweep() removes at start.
 *
 * Methods (config.h enum disk_clone), what each costs:
 *   reflink  FICLONE of the whole file: O(extents), no data written, shares blocks with
 *            the golden until the node writes them; disk_dir's file system must have it
 *            (XFS with reflink=1, btrfs) and hold the golden too (else EXDEV).
 *   qcow2    a qcow2 overlay backed by the golden, exported raw by qemu-storage-daemon
 *            through a FUSE mount; the root parent makes and keeps the overlay (no file
 *            is written here: disk_clone_make() returns method qcow2 with an empty path,
 *            and the caller asks privsep_disk_export() for the export's path). Only
 *            where the parent offers it (q->qcow2_offered: iscsi on, a parent, qsd
 *            running); an explicit qcow2 without it is refused with a message saying so.
 *   copy     a sparse copy: only the golden's data extents (SEEK_DATA/SEEK_HOLE) are
 *            copied (copy_file_range, falling back to read/write), holes stay holes:
 *            linear in the golden's data, not its size.
 * auto tries reflink, then qcow2 if offered, then copy; it goes on only when reflink is
 * not there (EOPNOTSUPP, EXDEV, EINVAL, ENOTTY, ENOSYS), never after a real I/O error. */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "store/store.h"

/* The temp name's mark: <dir>/.<node>.img.making-XXXXXX. */
#define DISK_CLONE_TEMP_MARK ".img.making-"
/* Bytes one read/write of the fallback copy moves: large enough that syscalls do not
 * dominate, small enough for a worker's stack-free heap buffer. */
#define DISK_CLONE_CHUNK (1024 * 1024)
/* Temp files one sweep removes at most: disk_dir holds a file per node, so more than
 * this is not leftovers of crashes but something else, left alone and logged. */
#define MAX_DISK_CLONE_SWEEP 4096

struct disk_clone_req {
	const char *golden;     /* <image path>/disk.img: a regular file */
	const char *dir;        /* disk_dir: exists, on the file system the clone goes to */
	const char *node;       /* a valid node name: the clone is <dir>/<node>.img */
	enum disk_clone method; /* DISK_CLONE_AUTO or one method */
	bool qcow2_offered;     /* the parent offers the qcow2 export (qsd runs) */
	atomic_bool *cancel;    /* NULL, or set by the loop: stop between extents */
};

struct disk_clone_result {
	enum disk_clone method;   /* the one that made it */
	char path[MAX_STORE_PATH];/* <dir>/<node>.img; "" for qcow2 (the parent's export) */
	int64_t apparent_bytes;   /* st_size: the golden's */
	int64_t allocated_bytes;  /* st_blocks * 512 (a reflink's shared blocks count too) */
	int64_t ms;               /* how long it took */
};

/* The clone's final path: <dir>/<node>.img. -ENAMETOOLONG past size. */
int disk_clone_path(const char *dir, const char *node, char *buf, size_t size);

/* Make q's clone, replacing one at the final name only once the new one is complete
 * (rename). 0 and *ret; on failure no temp file is left and the final name is as it
 * was: -ENOENT golden missing, -EOPNOTSUPP the method asked for is not there here,
 * -ECANCELED cancelled, else the I/O error; reterr names the file and the method. */
int disk_clone_make(const struct disk_clone_req *q, struct disk_clone_result *ret,
    struct dl_err *reterr);

/* Remove node's clone (and fsync dir). 0, also when there was none; -errno. */
int disk_clone_remove(const char *dir, const char *node, struct dl_err *reterr);

/* Remove every temp file of a clone in dir (left by a crash or a kill -9 mid-clone):
 * at start, before any clone is made. *ret_n how many went. -errno for dir. */
int disk_clone_sweep(const char *dir, unsigned *ret_n, struct dl_err *reterr);

/* Allocated and apparent bytes of path now (a clone grows as its node writes). */
int disk_clone_stat(const char *path, int64_t *ret_apparent, int64_t *ret_allocated);
