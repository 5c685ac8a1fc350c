/* SPDX-License-Identifier: MIT */
/* Zeroed memory resident from the start (resident.h). */
#include <stdlib.h>
#include <string.h>

#include "resident.h"

void *
calloc_resident(size_t n, size_t size)
{
	void *p = calloc(n, size);

	/* explicit_bzero, not memset: a compiler may drop a memset of calloc's zeros, and
	 * the write is the point */
	if (p)
		explicit_bzero(p, n * size);
	return p;
}
