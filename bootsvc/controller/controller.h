/* SPDX-License-Identifier: MIT */
/* The controller: drives each managed node's observed state toward its desired state
 * (ctrl_fsm.h decides; this file gathers inputs, persists intent, and runs BMC jobs on
 * the worker pool with a concurrency cap and a power-on rate limit). Level-triggered:
 * it re-reads the store every tick, so after a restart it simply reconciles again. */
#pragma once

#include "bootsvc.h"
#include "controller/green.h"
#include "bmc/power.h"

struct controller;

int controller_new(struct bootsvc *bs, struct controller **ret, struct dl_err *reterr);
struct controller *controller_free(struct controller *c);

/* Something changed (a phase, a desired state): decide again soon. */
void controller_kick(struct controller *c);

/* Callback for an imperative BMC operation started by a verb. */
typedef void (*controller_power_cb)(struct bootsvc *bs, const char *node, enum power_op op,
    int r, bool on, const char *message, void *userdata);

/* Run op on node's BMC now (cycle, reset, status, or on/off of an unmanaged node),
 * outside the reconcile loop; cb is called on the loop thread when done. -ENOENT no
 * node, -EINVAL no BMC, -EAGAIN queue full. */
int controller_power(struct controller *c, const char *node, enum power_op op,
    controller_power_cb cb, void *userdata, struct dl_err *reterr);

/* Forget a node's health history and verdict (doomed is sticky until this). */
int controller_health_clear(struct controller *c, const char *name);

/* A scheduler's hint (issue #7): count nodes on image will be wanted within within_ms.
 * Until then idle nodes on image are held and off ones powered on to make up count.
 * Replaces an earlier hint for the same image; count 0 withdraws it. -E2BIG when
 * MAX_HINTS images have live hints. */
int controller_expect(struct controller *c, const char *image, unsigned count,
    int64_t within_ms);

/* The live hints (borrowed, valid until the next call into the controller). */
size_t controller_hints(struct controller *c, const struct green_hint **ret);

/* Build a node's BMC target from the store and its credentials file (exposed for the
 * verbs: "status" of many nodes validates them all before queueing). */
int controller_target(struct bootsvc *bs, const struct node_rec *n, struct bmc_target *ret,
    struct dl_err *reterr);
