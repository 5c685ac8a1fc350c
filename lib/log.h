/* SPDX-License-Identifier: MIT */
/* key=value logging to stderr, one write() per line (CONVENTIONS §9); under systemd, when
 * stderr is the journal, the same line as one journal entry with each key=value pair a
 * field of its own (docs/install.md "Logs"). */
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

/* Longest journal entry: the line, its pairs again as fields, and the fixed fields. */
#define MAX_LOG_JOURNAL (2 * MAX_LOG_LINE + 256)
/* Where journald takes native entries (systemd's sd_journal_sendv() writes here too). */
#define LOG_JOURNAL_SOCKET "/run/systemd/journal/socket"

/* Call once from main() before any thread: when $JOURNAL_STREAM names stderr (systemd
 * connected it to the journal), lines go to the journal's native socket as fields, with
 * SYSLOG_IDENTIFIER=ident; otherwise (or if that socket cannot be reached) to stderr as
 * before. */
void log_open(const char *ident);

/* Whether env ("DEVICE:INODE", systemd.exec(5)) names the file whose dev and ino are
 * given. Pure; unit-tested. */
bool log_journal_stream_is(const char *env, uint64_t dev, uint64_t ino);

/* Encode one line (key=value pairs, no "level=" and no newline) as journal native
 * protocol fields into buf: MESSAGE=line, PRIORITY=level, SYSLOG_IDENTIFIER=ident, then
 * each pair as KEY=value (key upper-cased, '.' and '-' as '_', quotes of a "quoted value"
 * dropped; a key that is no valid journal field name or that names one of the fixed
 * fields is left to MESSAGE). Returns the length, or -ENOBUFS when size is too small. */
int log_journal_encode(char *buf, size_t size, const char *ident, int level, const char *line,
    size_t len);

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
