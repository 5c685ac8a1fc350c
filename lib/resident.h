/* SPDX-License-Identifier: MIT */
/* Zeroed memory whose pages are in memory from the start: for the tables a boot storm
 * reads before it writes (the boot records' set of pending nodes, the row caches' hash
 * indexes). libc only. */
#pragma once

#include <stddef.h>

/* n elements of size, zeroed, every page of them written once now; NULL on overflow or
 * out of memory. Freed with free().
 *
 * Why: calloc's pages of a large table come untouched from the kernel. A lookup that
 * reads one first maps the shared zero page there, and the first write to it then
 * replaces that mapping, which flushes the page from the TLB of every CPU running one of
 * the process's threads: an interrupt to each, in the middle of their work. In the first
 * storm after a start, the boot records' set took about 3 ms of CPU so (a profile of a
 * storm of 200 first boots, 2026-12-08). Written now, each page costs one plain fault,
 * which flushes nothing. */
void *calloc_resident(size_t n, size_t size);
