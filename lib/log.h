/* SPDX-License-Identifier: MIT */
/* key=value logging to stderr, one write() per line (CONVENTIONS §9). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <syslog.h>

#include "macro.h"

/* Longest log line; longer lines are truncated. */
#define MAX_LOG_LINE 2048
/* Longest outside string copied into a log line by log_safe(). */
#define MAX_LOG_VALUE 128

void log_set_level(int level);
int log_get_level(void);
/* Parse "debug", "info", "notice", "warning", "err"; -EINVAL otherwise. */
int log_level_from_string(const char *s);

/* Write "level=<lvl> " + the formatted key=value pairs + "\n" as one write(). */
void log_kv(int level, const char *fmt, ...) _printf_(2, 3);

#define log_debug(...) log_kv(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_kv(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_kv(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_kv(LOG_WARNING, __VA_ARGS__)
#define log_err(...) log_kv(LOG_ERR, __VA_ARGS__)

/* A repeating message kept from flooding the log (CONVENTIONS §9: a flapping BMC, a
 * connection flood): at most burst lines per interval_ms; the rest are counted. Fill
 * interval_ms and burst, zero the rest; one per message kind, owned by the caller. */
struct log_ratelimit {
	uint64_t interval_ms;
	unsigned burst;
	uint64_t window_start; /* ms, the caller's clock */
	unsigned n;            /* lines let through in this window */
	uint64_t suppressed;   /* lines held back since the last one let through */
};

/* Whether a line may be written at now_ms (any monotonic ms clock, injected so tests need
 * no wall clock). When it may, *ret_suppressed is how many were held back before it (the
 * caller writes it as suppressed=N), and the count starts again. */
bool log_ratelimit_pass(struct log_ratelimit *rl, uint64_t now_ms, uint64_t *ret_suppressed);

/* Copy an untrusted string for logging into buf: control characters, quotes and
 * backslashes become '?', length capped at MAX_LOG_VALUE (marked with "..."). Returns buf. */
const char *log_safe(char *buf, size_t size, const char *s);
