/* SPDX-License-Identifier: MIT */
/* One node's health state (state.h) to and from the compact JSON the store keeps in the
 * node's row, so a restart keeps its windows and its doomed latch (docs/health.md,
 * "Persisted state"). */
#pragma once

#include "err.h"
#include "health/state.h"

/* Largest serialized state health_persist_from_json() accepts: six full classes of
 * 11-digit times plus latched reasons stay well below it. */
#define MAX_HEALTH_STATE_JSON (64 * 1024)

/* Serialize st's persistent part (events, sel_last_id, primed, the doomed latch; not the
 * sensors, which the next read refreshes) as one compact JSON object:
 *   {"v":1,"sel":14,"primed":true,"ev":{"ecc_correctable":[1764030000,...]},
 *    "doomed":{"since":1764030100,"reasons":["doomed: uncorrectable ECC ..."]}}
 * *ret_json is a new string, caller frees. Returns 0 or -ENOMEM. */
int health_persist_to_json(const struct health_state *st, char **ret_json);

/* Parse what health_persist_to_json() wrote (untrusted: the store may be damaged) into
 * *ret, which the caller has health_state_init()ed and which is replaced only on success
 * (the old contents are freed then). -EINVAL with reterr naming the bad key or value,
 * -E2BIG over MAX_HEALTH_STATE_JSON bytes or MAX_HEALTH_EVENTS per class, -ENOMEM. */
int health_persist_from_json(const char *json, struct health_state *ret,
    struct dl_err *reterr);
