/* SPDX-License-Identifier: MIT */
/* The only place that starts programs (CONVENTIONS §7): posix_spawn with an absolute
 * path and a prebuilt argv, clean signal state, own process group, fds above 2 closed. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "err.h"

/* Most stderr kept for an error message. */
#define MAX_SPAWN_TAIL 2048

struct spawn_opts {
	const char *const *envp; /* NULL: a minimal PATH=/usr/sbin:/usr/bin:/sbin:/bin only */
	const char *cwd;         /* NULL: inherit */
	int stdin_fd;            /* -1: /dev/null */
	int stdout_fd;           /* -1: /dev/null; -2: inherit */
	int stderr_fd;           /* -1: /dev/null; -2: inherit */
	bool new_pgroup;         /* put the child into its own process group */
};

#define SPAWN_OPTS_DEFAULT { .stdin_fd = -1, .stdout_fd = -2, .stderr_fd = -2, .new_pgroup = true }

/* Start argv[0] (must be absolute) with argv. Returns 0 and *ret_pid, or -errno with
 * reterr naming the program. Does not wait. */
int spawn_start(const char *const *argv, const struct spawn_opts *o, pid_t *ret_pid,
    struct dl_err *reterr);

/* Open a pidfd for pid (pidfd_open(2)); -errno on failure. */
int spawn_pidfd(pid_t pid);

/* Run argv to completion with a deadline (ms; 0 = none), stdout and stderr captured
 * (stdout to out_fd if >= 0, else discarded). On a non-zero exit or a signal, returns
 * -EPROTO with reterr "<prog> exited 3: <last stderr lines>" or "killed by SIGKILL";
 * on deadline the process group gets SIGTERM then SIGKILL and -ETIMEDOUT is returned.
 * For tools without an event loop (imagebuild); never call it on bootsvc's loop. */
/* Async-signal-safe: call it from a SIGINT/SIGTERM handler installed without SA_RESTART.
 * A spawn_run() waiting now or later ends its child's process group (SIGTERM, then
 * SIGKILL after a grace period) and returns -EINTR, so the caller unwinds and cleans up:
 * the child runs in its own process group and would not get the terminal's signal. */
void spawn_interrupt(void);

int spawn_run(const char *const *argv, const struct spawn_opts *o, int out_fd,
    unsigned timeout_ms, struct dl_err *reterr);

/* Describe a wait status: "exited 3", "killed by SIGKILL". */
const char *spawn_status_string(int status, char *buf, size_t size);

/* Find prog in /usr/sbin:/usr/bin:/sbin:/bin; returns a static-lifetime-of-buf path in
 * buf or -ENOENT. For resolving tool paths once at start-up, never per call. */
int spawn_which(const char *prog, char *buf, size_t size);
