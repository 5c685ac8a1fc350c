/* SPDX-License-Identifier: MIT */
/* Room for one more element in a growing array: the walks that collect rows into one
 * (the VM world, the energy pass) call it before each append. libc only. */
#pragma once

#include <stddef.h>

/* *p holds n elements of size in room for *cap: when n has reached *cap, *p is
 * reallocated to twice as many (64 the first time) and *cap says so. 0, or -ENOMEM with
 * *p and *cap unchanged. */
int grow(void **p, size_t *cap, size_t n, size_t size);
