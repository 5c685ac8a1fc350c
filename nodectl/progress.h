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
	PROGRESS_REPLACED, /* done: left the allocation (allocate --wait), another took over */
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
	char job[MAX_EVENT_NODE];       /* allocate --wait: the job followed; "" for provision */
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
	PROGRESS_JOINED,    /* allocate --wait: a node joined the job (a replacement) */
	PROGRESS_LEFT,      /* allocate --wait: a node left the job (replaced) */
};

/* Track names[0..n) (borrowed; copied, duplicates merged) provisioned to image_id.
 * Every node starts WAITING. Returns 0, -EINVAL (a name or the id too long, n 0) or
 * -ENOMEM. */
int progress_init(struct progress *p, const char *const *names, size_t n,
    const char *image_id);
void progress_done(struct progress *p);

/* Follow the membership of allocation job (allocate --wait) rather than a fixed set: the
 * controller replaces a member that failed by another node (docs/control-protocol.md,
 * allocate). Call after progress_init() with the nodes allocate returned. Returns 0 or
 * -EINVAL (job empty or too long). */
int progress_set_job(struct progress *p, const char *job);

/* Track one more node (WAITING), keeping the array sorted; a tracked node is left as it
 * is. Returns 0 and the node in *ret_node (valid until the next progress_add()), or
 * -EINVAL (name too long) / -ENOMEM. */
int progress_add(struct progress *p, const char *name, struct progress_node **ret_node);

/* The tracked node named name, or NULL. */
struct progress_node *progress_find(struct progress *p, const char *name);

/* Apply one event. A phase event moves a node that is not done yet to that phase's
 * bucket; "up", "failed" phases and the "done" action also mark it for a check (an up
 * event does not say which image, a failed phase may be retried). Done nodes stay done:
 * the stream replays from before the provision, and a node confirmed by node.list is
 * newer than any replayed event. If ret_node, it gets the node the event was about. */
enum progress_change progress_event(struct progress *p, const struct client_event *e,
    struct progress_node **ret_node);

/* Job mode (progress_set_job()) adds: the action "allocate" whose reason starts with
 * "job <id> " or "job <id>:" adds its node (JOINED, marked for a check); "alloc-replace"
 * with reason "job <id>: ..." moves a member to REPLACED (LEFT), done or not; "alloc-lost"
 * (the controller found no replacement; its reason does not name the job) makes a member
 * or former member FAILED, since the job is now short of a node. */

/* Apply one node object (borrowed) of a node.list result: done-up when phase is "up"
 * and booted_image is the provisioned id, done-failed when op is "failed" (reason from
 * last_error, else the phase's reason), else its phase. Clears the node's check. In job
 * mode a node whose "job" is another (or none) leaves (REPLACED, LEFT) and a REPLACED
 * node whose "job" is ours again rejoins (JOINED); a node object without "job" (an older
 * bootsvc) does not change membership. */
enum progress_change progress_node(struct progress *p, const json_t *node,
    struct progress_node **ret_node);

/* Called by progress_members() for every change other than NONE. */
typedef void (*progress_change_fn)(void *userdata, const struct progress_node *pn,
    enum progress_change change);

/* Job mode: apply a whole node.list result (nodes: borrowed array of every node): nodes
 * whose "job" is ours and are not tracked join, every tracked node listed is applied with
 * progress_node(), and a member bootsvc did not list (removed) leaves. fn (may be NULL)
 * hears of each change. Returns 0, -EINVAL (not job mode, not an array) or -ENOMEM. */
int progress_members(struct progress *p, const json_t *nodes, progress_change_fn fn,
    void *userdata);

/* The node counts as done: up, failed, or (job mode) replaced. */
bool progress_node_is_done(const struct progress_node *pn);

/* Every node is up or failed (or replaced). */
bool progress_finished(const struct progress *p);

/* Job mode, once finished: the allocation was completed, i.e. no member failed and at
 * least want nodes are up on the image. */
bool progress_job_complete(const struct progress *p, size_t want);

/* The bucket's label in the progress line: "powering-on", "pxe", ... */
const char *progress_bucket_name(enum progress_bucket b);

/* The progress line without the elapsed time: "powering-on 2, pxe 1, loading 0, imaging 0,
 * up 5, failed 1" plus "waiting N" and "bmc-unreachable N" when not 0. Always
 * NUL-terminated, cut to size. */
void progress_format(const struct progress *p, char *buf, size_t size);
