/* SPDX-License-Identifier: MIT */
/* The admin's hooks (notify_hook): programs bootsvc starts and does not wait for on the
 * loop. Each runs under a deadline: still running after it, its process group is killed
 * (SIGKILL) and the log says so once; its exit is reaped through its pidfd and a failure
 * logged. At most MAX_HOOKS run at once: a hook that hangs cannot make bootsvc pile up
 * processes; one more is refused and logged. Loop thread only. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "loop.h"
#include "store/store.h"

/* Hooks running at once: one per node turning risky or doomed in the same few seconds is
 * a handful; more than this means the hook hangs or the cluster is on fire, and another
 * process would not help either. */
#define MAX_HOOKS 16

struct hook_run {
	struct hooks *owner;
	pid_t pid;        /* 0: free slot */
	int pidfd;
	int64_t timer;
	char node[MAX_NODE_NAME];
};

struct hooks {
	struct loop *loop;
	unsigned timeout_ms;  /* each hook's deadline */
	struct hook_run run[MAX_HOOKS];
	unsigned n_running;
	uint64_t killed;      /* hooks killed at their deadline, since start */
	uint64_t refused;     /* not started: MAX_HOOKS already running */
	bool refusing;        /* the last one was refused (its refusal was logged) */
};

void hooks_init(struct hooks *h, struct loop *l, unsigned timeout_ms);
/* Start argv (argv[0] absolute, no shell) for node under h's deadline. 0, -EAGAIN with
 * MAX_HOOKS running, or spawn's error; each logged (event=notify_hook). */
int hooks_run(struct hooks *h, const char *const *argv, const char *node);
/* Stop watching the hooks still running (they are left to finish; init reaps them). */
void hooks_done(struct hooks *h);
