/* SPDX-License-Identifier: MIT */
/* Secrets' randomness: the kernel's CSPRNG, whole or not at all (a node's token, a CHAP
 * secret). One place, so no caller forgets a short read or EINTR. */
#pragma once

#include <stddef.h>

/* Fill buf with n random bytes from getrandom(2), retrying short reads and EINTR (it
 * blocks only before the pool is first seeded, early at boot). 0 or -errno. */
int dl_random(void *buf, size_t n);
