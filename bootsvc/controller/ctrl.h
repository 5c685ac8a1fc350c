/* SPDX-License-Identifier: MIT */
/* The controller: drives each managed node's observed state toward its desired state
 * (ctrl_fsm.h decides; the ctrl*.c files gather inputs, persist intent, and run BMC jobs
 * with a concurrency cap and a power-on rate limit; ctrl_internal.h has the file map).
 * Level-triggered: it re-reads the store every tick, so after a restart it simply
 * reconciles again. */
#pragma once

#include "bootsvc.h"
#include "controller/green.h"
#include "bmc/power.h"

struct ctrl;

/* Start the controller on bs (borrowed; its action path, bs->action, carries the BMC
 * calls). reterr names a bad health_rule or min_on. */
int ctrl_new(struct bootsvc *bs, struct ctrl **ret, struct dl_err *reterr);
/* Stop and free c (NULL is fine). Free bs->action first: its cancelled actions come
 * back to c. */
struct ctrl *ctrl_free(struct ctrl *c);
/* Write the energy accounted in memory to the store (energy_acc.h), so what the store
 * says is current: before reading energy totals. 0 (also for c NULL) or the store's. */
int ctrl_energy_flush(struct ctrl *c);

/* Something changed (a phase, a desired state): decide again soon. */
void ctrl_kick(struct ctrl *c);

/* Callback for an imperative BMC operation started by a verb. */
typedef void (*ctrl_power_now_cb)(struct bootsvc *bs, const char *node, enum power_op op,
    int r, bool on, const char *message, void *userdata);

/* Run op on node's BMC now (cycle, reset, status, or on/off of an unmanaged node),
 * outside the reconcile loop but under the same cap (ipmi_concurrency) as the
 * controller's own actions: when the cap is reached it waits for a slot, ahead of the
 * controller. cb is called on the loop thread when done (cb may be NULL), with -ETIMEDOUT
 * when the BMC call passed its deadline. -ENOENT no node, -EINVAL no BMC, -EBUSY another
 * change is in flight for node (never for a status), -EAGAIN too many requests wait. */
int ctrl_power_now(struct ctrl *c, const char *node, enum power_op op,
    ctrl_power_now_cb cb, void *userdata, struct dl_err *reterr);

/* Forget a node's health history and verdict (doomed is sticky until this). */
int ctrl_health_clear(struct ctrl *c, const char *name);

/* A scheduler's hint (issue #7): count nodes on image will be wanted within within_ms.
 * Until then idle nodes on image are held and off ones powered on to make up count.
 * Replaces an earlier hint for the same image; count 0 withdraws it. -E2BIG when
 * MAX_HINTS images have live hints. */
int ctrl_hints_expect(struct ctrl *c, const char *image, unsigned count,
    int64_t within_ms);

/* The live hints (borrowed, valid until the next call into the controller). */
size_t ctrl_hints(struct ctrl *c, const struct green_hint **ret);

/* Build a node's BMC target from the store and its credentials file (exposed for the
 * verbs: "status" of many nodes validates them all before queueing). */
int ctrl_bmc_target(struct bootsvc *bs, const struct node_rec *n, struct bmc_target *ret,
    struct dl_err *reterr);
/* Between begin and end (one verb's batch, on the loop, without returning to it), each
 * distinct credentials file is read once: 200 nodes sharing one file cost the batch 400
 * round trips to the privileged parent otherwise, and the last node's job waited for all
 * of them. end wipes what was read. Nested begins are not allowed. */
void ctrl_bmc_creds_begin(struct bootsvc *bs);
/* Forget the Redfish key node's BMC was trusted with on first use (redfish_tofu): 1 when
 * a pin was recorded and is gone, 0 when there was none, or an errno naming the file. */
int ctrl_bmc_pin_forget(struct bootsvc *bs, const char *node, struct dl_err *reterr);
void ctrl_bmc_creds_end(struct bootsvc *bs);

struct image_rec;
/* Called with each node ctrl_alloc_assign() chooses. */
typedef void (*ctrl_alloc_chosen_fn)(const char *node, void *userdata);
/* Choose count nodes for job (alloc.h) and write their allocation as desired state: the
 * controller then reimages or powers them as needed. Used by the allocate verb and by the
 * controller to replace a member that failed. Calls chosen (may be NULL) per node chosen
 * and counts per tier (reuse, reimage, power-on) into tiers. Run inside a store
 * transaction. -ENOSPC (reterr says why) when too few nodes qualify. */
int ctrl_alloc_assign(struct bootsvc *bs, const char *job, const char *class_name,
    bool allow_risky, const struct image_rec *img, size_t count, ctrl_alloc_chosen_fn chosen,
    void *userdata, size_t tiers[static 3], struct dl_err *reterr);
