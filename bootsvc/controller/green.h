/* SPDX-License-Identifier: MIT */
/* The green policy as a pure function (issue #7): which idle nodes to power off and
 * which off nodes to power on ahead of demand. Inputs are the nodes' states, images and
 * idle times, the warm spares per image, the scheduler's hints and the per-group floors;
 * the output is a list of decisions, each with its reason. No I/O, no clock: ctrl_green.c
 * gathers the inputs once per tick and carries the decisions out, so every rule is
 * tested from a table (tests/unit/test_green.c).
 *
 * The rules, in order of precedence:
 *   1. A hint {image, count, until} wants count nodes on image available (idle up, or
 *      booting for nobody) until it expires: idle nodes on that image are kept, and off
 *      nodes are powered on (into the image) to make up the difference.
 *   2. warm image=N keeps the N most recently used idle nodes on image up (by idle_since:
 *      the node idle the shortest time was used last). It never powers anything on.
 *   3. A floor keeps at least N nodes of its group on: idle nodes that would take the
 *      group below N are kept, and off nodes of the group are powered on into their own
 *      image when the group is already below N.
 *   4. Any other node idle (up, unallocated) for idle_ms or longer is powered off. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Floors are a bit mask per node: 32 groups is far more than racks per controller. */
#define MAX_GREEN_FLOORS 32
#define MAX_GREEN_IMAGE 64

enum green_state {
	GS_BUSY,    /* allocated, held, failed, mid-operation: not green's to touch */
	GS_IDLE,    /* up, unallocated, nothing in flight */
	GS_BOOTING, /* wants on, not up yet, for nobody (a hint's or floor's power-on) */
	GS_OFF,     /* powered off (or wants off) and free to be powered on */
	_GS_MAX,
};

struct green_node {
	const char *name;      /* borrowed */
	const char *image;     /* requested image name, "" none; borrowed */
	enum green_state state;
	bool on;               /* counts as on for a floor (busy nodes: powered or wanted on) */
	int64_t idle_since_ms; /* GS_IDLE: when it became idle */
	uint32_t floors;       /* bit i: member of floor i */
};

struct green_spare {
	char image[MAX_GREEN_IMAGE];
	unsigned count;
};

struct green_hint {
	char image[MAX_GREEN_IMAGE];
	unsigned count;
	int64_t until_ms;      /* the hint holds while now < until_ms */
};

struct green_floor {
	char name[32];
	unsigned count;
};

struct green_policy {
	int64_t idle_ms;                    /* idle longer than this: power off; 0 = never */
	const struct green_spare *spares;
	size_t n_spares;
	const struct green_hint *hints;
	size_t n_hints;
	const struct green_floor *floors;
	size_t n_floors;
};

enum green_act { GA_POWER_OFF, GA_POWER_ON, _GA_MAX };

struct green_decision {
	size_t node;                         /* index into the nodes array */
	enum green_act act;
	char image[MAX_GREEN_IMAGE];         /* GA_POWER_ON: the image to boot */
	char reason[160];
};

const char *green_act_name(enum green_act a);

/* Decide for n nodes at now. ret must have room for n decisions; *ret_n is how many were
 * written (each node at most once, power-ons and power-offs in node order). *ret_wake_ms
 * is 0 or the earliest time an idle node's timer runs out. Returns 0, or -ENOMEM. */
int green_decide(const struct green_node *nodes, size_t n, const struct green_policy *p,
    int64_t now, struct green_decision *ret, size_t *ret_n, int64_t *ret_wake_ms);

/* "10m" -> "10m", 95000 -> "1m35s": a duration for a reason string. */
void green_format_duration(char *buf, size_t size, int64_t ms);
