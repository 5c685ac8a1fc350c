/* SPDX-License-Identifier: MIT */
/* The sync room (issue 15, docs/scale-out.md "Images across servers"): image versions a
 * registered record names but whose files this server lacks are fetched from the peers
 * (config `peers`) by content id, on a worker pool of its own, and appear at their path
 * only whole and verified. A version is asked for when a node's script or file needs it
 * (the node gets the hold script meanwhile) or when an admin runs `nodectl image sync`;
 * a failed round is retried with a backoff (lib/backoff.h). Loop thread only, except
 * sync_have(), which any thread may call. Every function takes s NULL (no room: the unit
 * tests' bootsvc) as a room with no peers and nothing remembered. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "store/store.h"
#include "sync/sync_plan.h"

struct bootsvc;
struct sync;

/* What one round of a version's sync did, for its waiters. */
struct sync_result {
	char id[SHA256_HEX_SIZE];
	char name[MAX_NODE_NAME];
	int r;                /* 0: in place; < 0: the round failed (retried later) */
	char error[MAX_ERR_MSG];
	char peer[128];
	uint64_t bytes, kept, refetched, ms;
	uint64_t retry_ms;    /* r < 0: the next round starts in this long */
};

/* Called on the loop when a round of the version it waited for ends; result borrowed. */
typedef void (*sync_done_fn)(struct bootsvc *bs, const struct sync_result *res, void *userdata);

int sync_new(struct bootsvc *bs, struct sync **ret, struct dl_err *reterr);
/* Cancel running rounds (their bytes kept), answer waiters with -ECANCELED, free. */
struct sync *sync_free(struct sync *s);

/* Are img's files at img->path, each of the manifest's size? For the request paths: a yes
 * is remembered for SYNC_PRESENT_TTL_MS (versions never change); a no is checked again
 * (stat) each call. Any thread. */
bool sync_have(struct sync *s, const struct image_rec *img);
/* Forget that img is here (its file could not be opened after all). Any thread. */
void sync_forget(struct sync *s, const char *id);

/* present, syncing or missing (sync_plan.h), for image list. */
enum sync_state sync_state_of(struct sync *s, const struct image_rec *img);
/* The last failed round's message of a version being synced ("" if none). */
const char *sync_last_error(struct sync *s, const char *id);

/* Start a sync of img (or join the one under way; a version waiting for its retry starts
 * now). why says who asked, for the log ("node n1", "admin"). fn (may be NULL) is called
 * once, when this round ends. Returns 0; 1 when img is here already (fn is not called);
 * -ENOENT when there are no peers; -EAGAIN when MAX_SYNC_ACTIVE versions are under way;
 * -ENOMEM. reterr says why. */
int sync_start(struct sync *s, const struct image_rec *img, const char *why, sync_done_fn fn,
    void *userdata, struct dl_err *reterr);

/* On the script and file paths: img is not here; start its sync for node (or "" for an
 * unknown requester), logging a refusal once per version. */
void sync_on_demand(struct sync *s, const struct image_rec *img, const char *node);
