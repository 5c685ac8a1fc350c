/* SPDX-License-Identifier: MIT */
/* The file descriptors bootsvc needs (issue 11): RLIMIT_NOFILE raised at start to what
 * max_connections and the control clients take, or start-up refused naming the numbers. */
#pragma once

#include <sys/resource.h>

#include "config.h"
#include "err.h"

/* Fds beside the connections: the store and its WAL, dnsmasq's pipes and pidfd, the
 * loop's epoll/signal/timer fds, worker eventfds, template and overlay files being read.
 * A generous round number: bootsvc opened ~40 of them in the observations of issue 11. */
#define FDLIMIT_MARGIN 256

/* Fds needed: two per HTTP connection (the socket, and the image file sendfile() reads),
 * one per control client, plus the margin. */
rlim_t fdlimit_need(const struct config *c);

/* The limit to set, given the current one: soft raised to need (never lowered), hard
 * raised to need only where it is below. Pure, for tests. */
struct rlimit fdlimit_plan(struct rlimit cur, rlim_t need);

/* Raise RLIMIT_NOFILE to fdlimit_need(c). -EMFILE with reterr naming the need and
 * the limits when it cannot be raised (the hard limit is below and we may not lift it). */
int fdlimit_raise(const struct config *c, struct dl_err *reterr);
