/* SPDX-License-Identifier: MIT */
#include "backoff.h"

uint64_t
backoff_next(struct backoff *b, uint64_t ran_ms)
{
	uint64_t delay;

	if (ran_ms >= b->stable_ms)
		b->next_ms = b->min_ms;
	delay = b->next_ms;
	b->next_ms = b->next_ms * 2 > b->max_ms ? b->max_ms : b->next_ms * 2;
	return delay;
}
