/* SPDX-License-Identifier: MIT */
/* The wall clock in Unix milliseconds: the times the store and the events carry, which
 * outlive a process (the loop's loop_now_ms() is monotonic, for its timers only). */
#pragma once

#include <stdint.h>
#include <time.h>

static inline int64_t
wall_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
