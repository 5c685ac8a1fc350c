/* SPDX-License-Identifier: MIT */
/* systemd's notify protocol (sd_notify(3)), spoken over $NOTIFY_SOCKET ourselves: one
 * datagram of "KEY=VALUE\n" lines to a unix socket, ~40 lines, so bootsvc links no
 * libsystemd and behaves the same with or without systemd (no socket: every call is a
 * no-op). Type=notify units hear READY=1, STOPPING=1 and WATCHDOG=1 from the loop. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

/* sun_path's size: a longer $NOTIFY_SOCKET cannot be addressed. */
#define MAX_NOTIFY_PATH 108
/* The watchdog is pinged at half its interval, systemd's own advice (sd_watchdog_enabled(3)),
 * so one late loop turn never trips it; an interval below 2 ms could not be kept. */
#define MIN_WATCHDOG_USEC 2000

struct sdnotify {
	char path[MAX_NOTIFY_PATH + 1]; /* "" = not under a notify-aware manager */
	bool abstract;                  /* "@name": Linux's abstract namespace */
	uint64_t watchdog_usec;         /* 0 = no watchdog asked for */
};

/* Read $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID into n, then unset them so the
 * programs bootsvc spawns never notify in its name. self and parent: this process's pid
 * and (under privilege separation) the root parent's, the one systemd started; a
 * WATCHDOG_PID naming neither turns the watchdog off. A malformed value is ignored with
 * -EINVAL and reterr naming the variable (bootsvc logs it and runs on). */
int sdnotify_init(struct sdnotify *n, pid_t self, pid_t parent, struct dl_err *reterr);

/* Parse the two variables alone (pure; unit-tested). */
int sdnotify_parse(struct sdnotify *n, const char *socket, const char *watchdog_usec,
    const char *watchdog_pid, pid_t self, pid_t parent, struct dl_err *reterr);

/* Send state ("READY=1", "STOPPING=1", "WATCHDOG=1", "STATUS=..."): 0, or a negative
 * errno. A no-op returning 0 when there is no socket. */
int sdnotify_send(const struct sdnotify *n, const char *state);

/* Milliseconds between watchdog pings, 0 when none. */
uint64_t sdnotify_watchdog_ms(const struct sdnotify *n);
