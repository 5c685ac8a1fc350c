/* SPDX-License-Identifier: MIT */
/* The restart backoff of a supervised daemon (dnsmasq, tgtd): the delay doubles from min
 * to max with each death, and a child that ran stable_ms resets it. Pure, one place, so
 * every supervisor in bootsvc backs off the same way. */
#pragma once

#include <stdint.h>

struct backoff {
	uint64_t min_ms;
	uint64_t max_ms;
	uint64_t stable_ms;
	uint64_t next_ms; /* the delay the next death gets */
};

#define BACKOFF_INIT(min, max, stable) { (min), (max), (stable), (min) }

/* The delay before restarting a child that died after running ran_ms; doubles the next
 * one (up to max_ms). A run of stable_ms or more starts again from min_ms. */
uint64_t backoff_next(struct backoff *b, uint64_t ran_ms);
