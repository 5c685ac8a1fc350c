/* SPDX-License-Identifier: MIT */
/* Running one external tool for a build step: spawn_run with stdout going to the step's
 * log file, and on failure the log's last lines added to the error, because some tools
 * (debootstrap: "E: Couldn't find these debs") report on stdout, not stderr. */
#pragma once

#include "err.h"

/* Lines of a failed tool's output quoted in the error. */
#define TOOL_TAIL_LINES 8

/* Run argv (argv[0] absolute) with cwd (NULL: inherit) and env (NULL: spawn's default),
 * stdout appended to log_path, deadline timeout_ms. reterr: "<prog> exited 1: <tail>". */
int tool_run(const char *const *argv, const char *cwd, const char *const *env,
    const char *log_path, unsigned timeout_ms, struct dl_err *reterr);

/* tool_run with stdin read from stdin_path (NULL: /dev/null): sfdisk takes its script
 * there. */
int tool_run_stdin(const char *const *argv, const char *cwd, const char *const *env,
    const char *stdin_path, const char *log_path, unsigned timeout_ms, struct dl_err *reterr);

/* True if prog exists and is executable; else reterr says which package provides it. */
int tool_require(const char *prog, const char *package, struct dl_err *reterr);
