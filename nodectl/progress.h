/* SPDX-License-Identifier: MIT */
/* Accounting for provision --wait, as pure functions: fed the event stream and node
 * objects from node.list, it keeps each node's phase and whether it is done (up on the
 * provisioned image, or failed for good), and the counts the progress line shows. No
 * I/O, no clock: wait.c does those, the unit tests feed it vectors. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "client.h"

/* What the progress line counts. A node is in exactly one bucket. */
enum progress_bucket {
	PROGRESS_WAITING,  /* nothing seen yet this provision (off, up on another image...) */
	PROGRESS_POWERING, /* powering-on */
	PROGRESS_PXE,
	PROGRESS_LOADING,
	PROGRESS_IMAGING,
	PROGRESS_UP,       /* done: up, and node.list says booted_image is the image */
	PROGRESS_FAILED,   /* done: the controller gave up (op "failed") */
	PROGRESS_BMC,      /* bmc-unreachable: the controller retries */
	_PROGRESS_MAX,
};

struct progress_node {
	char name[MAX_EVENT_NODE];
	char phase[MAX_EVENT_WORD];     /* last phase seen */
	char reason[MAX_EVENT_REASON];  /* why it failed, or the last phase's reason */
	enum progress_bucket bucket;
	bool check;                     /* an event says: look at it with node.list */
};

struct progress {
	char image_id[65];              /* the provisioned version (lowercase hex) */
	struct progress_node *nodes;    /* owned; sorted by name */
	size_t n;
	size_t count[_PROGRESS_MAX];
	size_t nchecks;                 /* nodes with check set */
};

/* What applying an event or a node object did. */
enum progress_change {
	PROGRESS_NONE,      /* not one of ours, or nothing new */
	PROGRESS_MOVED,     /* a node changed bucket or phase */
	PROGRESS_CHECK,     /* as MOVED, and the node now needs a node.list look */
	PROGRESS_NEW_UP,    /* a node is now done and up */
	PROGRESS_NEW_FAILED,/* a node is now done and failed: name it */
};

/* Track names[0..n) (borrowed; copied, duplicates merged) provisioned to image_id.
 * Every node starts WAITING. Returns 0, -EINVAL (a name or the id too long, n 0) or
 * -ENOMEM. */
int progress_init(struct progress *p, const char *const *names, size_t n,
    const char *image_id);
void progress_done(struct progress *p);

/* The tracked node named name, or NULL. */
struct progress_node *progress_find(struct progress *p, const char *name);

/* Apply one event. A phase event moves a node that is not done yet to that phase's
 * bucket; "up", "failed" phases and the "done" action also mark it for a check (an up
 * event does not say which image, a failed phase may be retried). Done nodes stay done:
 * the stream replays from before the provision, and a node confirmed by node.list is
 * newer than any replayed event. If ret_node, it gets the node the event was about. */
enum progress_change progress_event(struct progress *p, const struct client_event *e,
    struct progress_node **ret_node);

/* Apply one node object (borrowed) of a node.list result: done-up when phase is "up"
 * and booted_image is the provisioned id, done-failed when op is "failed" (reason from
 * last_error, else the phase's reason), else its phase. Clears the node's check. */
enum progress_change progress_node(struct progress *p, const json_t *node,
    struct progress_node **ret_node);

/* Every node is up or failed. */
bool progress_finished(const struct progress *p);

/* The bucket's label in the progress line: "powering-on", "pxe", ... */
const char *progress_bucket_name(enum progress_bucket b);

/* The progress line without the elapsed time: "powering-on 2, pxe 1, loading 0, imaging 0,
 * up 5, failed 1" plus "waiting N" and "bmc-unreachable N" when not 0. Always
 * NUL-terminated, cut to size. */
void progress_format(const struct progress *p, char *buf, size_t size);
