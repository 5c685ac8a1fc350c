/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static int log_level = LOG_INFO;

static const char *const level_names[] = {
	[LOG_EMERG] = "emerg", [LOG_ALERT] = "alert", [LOG_CRIT] = "crit",
	[LOG_ERR] = "err",     [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
	[LOG_INFO] = "info",   [LOG_DEBUG] = "debug",
};

void
log_set_level(int level)
{
	log_level = level;
}

int
log_get_level(void)
{
	return log_level;
}

int
log_level_from_string(const char *s)
{
	for (size_t i = 0; i < ELEMENTSOF(level_names); i++)
		if (level_names[i] && strcmp(level_names[i], s) == 0)
			return (int)i;
	return -EINVAL;
}

void
log_kv(int level, const char *fmt, ...)
{
	char line[MAX_LOG_LINE];
	va_list ap;
	int n, m;

	if (level > log_level || level < 0 || level > LOG_DEBUG)
		return;
	n = snprintf(line, sizeof(line), "level=%s ", level_names[level]);
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	n += m;
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	/* One write() per line keeps lines whole when threads log at once. */
	(void)!write(STDERR_FILENO, line, (size_t)n);
}

const char *
log_safe(char *buf, size_t size, const char *s)
{
	size_t i, cap = size - 1;

	if (!s)
		s = "(null)";
	if (cap > MAX_LOG_VALUE)
		cap = MAX_LOG_VALUE;
	for (i = 0; s[i] && i < cap; i++) {
		unsigned char c = (unsigned char)s[i];
		buf[i] = (c < 0x20 || c == 0x7f || c == '"' || c == '\\') ? '?' : (char)c;
	}
	buf[i] = '\0';
	if (s[i] && cap >= 3)
		memcpy(buf + cap - 3, "...", 4);
	return buf;
}

bool
log_ratelimit_pass(struct log_ratelimit *rl, uint64_t now_ms, uint64_t *ret_suppressed)
{
	/* A new window on the first call, after interval_ms, or if the clock went back. */
	if (rl->n == 0 || now_ms < rl->window_start ||
	    now_ms - rl->window_start >= rl->interval_ms) {
		rl->window_start = now_ms;
		rl->n = 0;
	}
	if (rl->n >= rl->burst) {
		rl->suppressed++;
		return false;
	}
	rl->n++;
	*ret_suppressed = rl->suppressed;
	rl->suppressed = 0;
	return true;
}
