/* SPDX-License-Identifier: MIT */
/* What to do with a node's disk, as pure functions of what bootsvc knows (issue 14,
 * docs/iscsi.md "Disks"): no I/O, no clock, no store. disks.c gathers the inputs and
 * carries the verdict out; tests/unit/test_disk_fsm.c checks every row.
 *
 * A node of an iscsi image has a disk that is fresh for its boot unless it is
 * persistent: each armed boot (boot/trust.h: a new token, handed out once) of a
 * non-persistent node gets a new clone, with new CHAP secrets. A persistent node keeps
 * its clone across boots until an admin resets it (node.reset-disk) or it is reimaged to
 * another image version. A clone is made once per boot: one that failed is not retried
 * before the next armed boot, so a disk_dir that is full does not loop a worker. */
#pragma once

#include <stdbool.h>

enum disk_state {
	DS_NONE,   /* no row */
	DS_MAKING,
	DS_READY,
	DS_FAILED,
	_DS_MAX,
	_DS_INVALID = -22,
};
enum disk_state disk_state_from_string(const char *s);
const char *disk_state_to_string(enum disk_state s);

struct disk_in {
	bool iscsi_on;        /* bootsvc.conf iscsi = on */
	bool fixed_ip;        /* the node has a registered address (the target is bound to it) */
	enum disk_state state;
	bool in_flight;       /* a worker of this bootsvc is making it now */
	bool persistent;
	bool golden_changed;  /* the row's image is not the version this boot serves */
	bool reset;           /* an admin asked for a fresh clone */
	bool armed;           /* this is an armed boot (its credential not yet handed out) */
	bool fresh;           /* the row was made for this armed boot */
};

enum disk_do {
	DD_KEEP,   /* serve the disk as it is */
	DD_MAKE,   /* drop the clone (and target) if any, make a new one for this boot */
	DD_WAIT,   /* a clone is being made: the hold script, ask again */
	DD_FAILED, /* this boot's clone failed: the hold script with its reason */
	DD_REFUSE, /* cannot serve this node a disk at all: the hold script with why */
};

struct disk_verdict {
	enum disk_do act;
	const char *why; /* for the log, the event and the hold script */
};

struct disk_verdict disk_decide(const struct disk_in *in);

/* node.reset-disk: may an admin drop the node's clone now? Refused while the node is up
 * (its OS has the disk mounted) unless forced; for a node with no disk it is done. */
enum disk_reset {
	DR_RESET,   /* mark the row: the next boot makes a fresh clone */
	DR_NOTHING, /* no disk: nothing to do */
	DR_REFUSE,
};
enum disk_reset disk_reset_decide(bool has_disk, bool node_up, bool force);
