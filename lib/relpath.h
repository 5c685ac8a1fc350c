/* SPDX-License-Identifier: MIT */
/* Relative paths that say plainly where they go, for names that end up beneath a root
 * someone else chose: a manifest's template paths, the members imagebuild writes into an
 * initrd and the tree hash names, the members the node's init unpacks. libc only, so the
 * init links it too. */
#pragma once

#include <stdbool.h>

/* p is not empty, does not start with '/', and none of its '/'-separated components is
 * empty (no "//", no trailing '/'), "." or "..". Says nothing about characters or length:
 * each caller has its own rules for those. */
bool relpath_is_plain(const char *p);
