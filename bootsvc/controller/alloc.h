/* SPDX-License-Identifier: MIT */
/* Choosing nodes for an allocation, as a pure function (issue #5): N nodes of an image for
 * a job class, preferring idle healthy nodes already up on that image (stateless: nothing
 * to clean, no reimage), then idle nodes to reimage, then powered-off nodes; never a node
 * the class may not use. Tested from a table in tests/unit/test_alloc.c. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

enum alloc_health { AH_OK, AH_RISKY, AH_DOOMED };

struct alloc_node {
	const char *name;       /* borrowed */
	bool usable;            /* managed, not held, not allocated, not failed, BMC answers */
	enum alloc_health health;
	bool up_on_target;      /* up, and its receipt proved the requested version */
	bool powered_on;        /* on (up on another image, or booting something) */
};

struct alloc_request {
	size_t count;
	bool allow_risky;       /* the job class may use risky nodes */
	const char *class_name; /* for messages */
};

enum alloc_tier { TIER_REUSE, TIER_REIMAGE, TIER_POWER_ON, _TIER_MAX };

struct alloc_choice {
	size_t index;           /* into the nodes array */
	enum alloc_tier tier;
};

/* Choose req->count nodes. ret must have room for req->count entries; on success it is
 * filled in preference order. -ENOSPC when too few nodes qualify, with reterr saying how
 * many were usable and how many the class excluded; -EINVAL for a zero count. */
int alloc_choose(const struct alloc_node *nodes, size_t n, const struct alloc_request *req,
    struct alloc_choice *ret, struct dl_err *reterr);
