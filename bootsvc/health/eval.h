/* SPDX-License-Identifier: MIT */
/* Evaluation: rules (rule.h) against one node's state (state.h) to ok, risky or doomed,
 * with reasons people read.
 *
 * Every rule is checked; the node is the worst verdict of the rules that match, with one
 * reason per matching rule and sensor ("doomed: CPU Temp upper critical", "risky: 12
 * correctable ECC in 24h"; identical reasons once). A rate counts the asserted SEL events
 * of its class whose time t satisfies now - WINDOW < t: an event exactly WINDOW old has
 * left the window. Risky is recomputed on every evaluation, so a risky node is ok again
 * once its events age out of the window and its sensors return to nominal. Doomed latches
 * in the node's state with its reasons, across restarts when the state is persisted, until
 * health_state_clear(): a node that once reached a critical temperature stays out of
 * service until a person has looked at it. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "health/rule.h"
#include "health/state.h"

struct health_verdict {
	enum health health;
	char reason[MAX_HEALTH_REASONS][MAX_HEALTH_REASON]; /* doomed reasons first */
	size_t n_reasons;
	size_t n_reasons_omitted;        /* matched beyond MAX_HEALTH_REASONS */
};

/* Evaluate rs against st at time now into *ret (always filled; returns 0). Forgets events
 * older than MAX_HEALTH_WINDOW_S and latches doomed (with its reasons) into st, which is why
 * st is not const. Use a zero-rule rs for "no rules": every node is ok. */
int health_eval(const struct health_rules *rs, struct health_state *st, int64_t now,
    struct health_verdict *ret);
