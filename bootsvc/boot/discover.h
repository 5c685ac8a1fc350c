/* SPDX-License-Identifier: MIT */
/* The bounds on discovery (issue 11): an unknown MAC asking for its script registers a
 * node, so without bounds anyone on the boot network can fill the store with made-up
 * MACs. Two limits, decided here without the store (nodes_discover() applies them):
 *
 * - a rate per source address, a token bucket of discover_rate a minute (burst the
 *   same): one real machine discovers once, a flood from one address is cut to a trickle;
 * - a cap on the nodes waiting in phase "discovered" (discover_max): past it nothing more
 *   is registered until an admin assigns or removes some.
 *
 * Every refusal is counted; the log (and, for the cap, an event) says so once per run of
 * refusals, not once per request. Loop thread only; embedded zeroed in struct bootsvc. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Source addresses whose buckets are remembered: more than the machines a boot network
 * discovers at once. When full, the bucket used longest ago is reused (it was full
 * again anyway unless it refused within the last minutes). */
#define MAX_DISCOVER_SOURCES 256
#define MAX_DISCOVER_ADDR 46 /* INET6_ADDRSTRLEN */

struct discover_src {
	char addr[MAX_DISCOVER_ADDR];
	int64_t credit;  /* tokens x 60000 (integer: refills add up exactly) */
	int64_t at_ms;   /* tokens counted up to here */
	bool refusing;   /* its last request was refused (and logged) */
};

struct discover_limit {
	struct discover_src src[MAX_DISCOVER_SOURCES];
	unsigned n;
	bool cap_reached;        /* the last cap check refused (the event was written) */
	int64_t counted_ms;      /* when the cap was last checked against the store */
	uint64_t refused_rate;   /* requests refused by the rate, since start */
	uint64_t refused_cap;    /* requests refused by the cap, since start */
};

enum discover_verdict {
	DISCOVER_OK,
	DISCOVER_REFUSED,        /* refused, already said so */
	DISCOVER_REFUSED_FIRST,  /* refused, the first of a run: log it */
};

/* Take one discovery from addr's bucket at now_ms ("" is a bucket too). per_min >= 1. */
enum discover_verdict discover_rate_take(struct discover_limit *d, const char *addr,
    unsigned per_min, int64_t now_ms);

/* While the cap is reached, the store's count is read again at most this often: a flood
 * of unknown MACs is then refused without a query each. */
#define DISCOVER_RECOUNT_MS 1000

/* Whether the cap must be checked against the store's count at now_ms (else: refused,
 * already said so). */
bool discover_cap_recount(const struct discover_limit *d, int64_t now_ms);
/* The cap, given how many nodes are discovered now. */
enum discover_verdict discover_cap_check(struct discover_limit *d, int64_t discovered,
    unsigned max, int64_t now_ms);
