/* SPDX-License-Identifier: MIT */
#include "bmc/ipmi_timing.h"

/* libfreeipmi's IPMI_LAN_BACKOFF_COUNT (ipmi-lan-session-common.c): the wait after send
 * k is retransmit * (k / 2 + 1). */
#define LIBFREEIPMI_BACKOFF_COUNT 2
/* libfreeipmi compares gettimeofday() against when the session started (a little before
 * or after its first send) and the wall clock may be slewed by NTP (at most 500 ppm: 10 ms
 * over 20 s): 20 ms clears both, and is nothing beside a timeout of seconds. */
#define MAX_MARGIN_MS 20
/* For short timeouts a tenth: the wait before the timeout then still ends well below it
 * (a wait's end is at most 0.8 of the next one's under this backoff). */
#define MARGIN_DIVISOR 10
/* Sends before the timeout, at least: the first and two retransmissions (what
 * timeout / 4 gave before: a lost datagram or two on a busy network is no timeout). */
#define MIN_WAITS_BEFORE 2
/* Keeps the loops finite for any input: bmc_timeout is at most 120 s (config.c), 21
 * waits of at most the 1000 ms the callers pass. */
#define MAX_WAITS 1024

unsigned
ipmi_timeout_margin_ms(unsigned timeout_ms)
{
	unsigned m = timeout_ms / MARGIN_DIVISOR;

	return m < MAX_MARGIN_MS ? m : MAX_MARGIN_MS;
}

/* The sum of the wait multipliers 1, 1, 2, 2, 3, 3, ... up to wait k. */
static uint64_t
multiplier_sum(unsigned k)
{
	uint64_t s = 0;

	for (unsigned i = 0; i <= k; i++)
		s += i / LIBFREEIPMI_BACKOFF_COUNT + 1;
	return s;
}

uint64_t
ipmi_wait_end_ms(unsigned retransmit_ms, unsigned k)
{
	return (uint64_t)retransmit_ms * multiplier_sum(k);
}

unsigned
ipmi_retransmit_ms(unsigned timeout_ms, unsigned max_ms)
{
	uint64_t target = (uint64_t)timeout_ms + ipmi_timeout_margin_ms(timeout_ms);
	uint64_t rt = target;

	if (max_ms == 0)
		max_ms = 1;
	/* The fewest waits whose last one ends at target with an interval within max_ms:
	 * the interval rounds up, so that wait ends at or after target, and the one before
	 * it at most 0.8 of that (the multipliers' sums 1, 2, 4, 6, 9, 12, 16, 20, 25, ...). */
	for (unsigned k = MIN_WAITS_BEFORE; k < MAX_WAITS; k++) {
		uint64_t m = multiplier_sum(k);
		rt = (target + m - 1) / m;
		if (rt <= max_ms)
			break;
	}
	return rt > 0 ? (unsigned)rt : 1;
}

unsigned
ipmi_sends_until_timeout(unsigned retransmit_ms, unsigned timeout_ms)
{
	unsigned n = 1;

	if (retransmit_ms == 0)
		return 1;
	for (unsigned k = 0; k < MAX_WAITS; k++) {
		n++;
		if (ipmi_wait_end_ms(retransmit_ms, k) > timeout_ms)
			break;
	}
	return n;
}
