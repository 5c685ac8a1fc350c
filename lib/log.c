/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

/* journald's limit on a field name (systemd's JOURNAL_FIELD_NAME_MAX). */
#define MAX_JOURNAL_FIELD 64

static int log_level = LOG_INFO;
/* The journal's socket once log_open() found stderr to be the journal, else -1. */
static int journal_fd = -1;
static char journal_ident[32] = "diskless";

static const char *const level_names[] = {
	[LOG_EMERG] = "emerg", [LOG_ALERT] = "alert", [LOG_CRIT] = "crit",
	[LOG_ERR] = "err",     [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
	[LOG_INFO] = "info",   [LOG_DEBUG] = "debug",
};

void
log_set_level(int level)
{
	/* relaxed atomics: threads log while the loop changes it on SIGHUP */
	__atomic_store_n(&log_level, level, __ATOMIC_RELAXED);
}

int
log_get_level(void)
{
	return __atomic_load_n(&log_level, __ATOMIC_RELAXED);
}

int
log_level_from_string(const char *s)
{
	for (size_t i = 0; i < ELEMENTSOF(level_names); i++)
		if (level_names[i] && strcmp(level_names[i], s) == 0)
			return (int)i;
	return -EINVAL;
}

bool
log_journal_stream_is(const char *env, uint64_t dev, uint64_t ino)
{
	unsigned long long d, i;
	char *end;

	if (!env || !*env)
		return false;
	errno = 0;
	d = strtoull(env, &end, 10);
	if (errno || end == env || *end != ':')
		return false;
	env = end + 1;
	i = strtoull(env, &end, 10);
	if (errno || end == env || *end)
		return false;
	return d == dev && i == ino;
}

void
log_open(const char *ident)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = LOG_JOURNAL_SOCKET };
	struct stat st;
	int fd;

	(void)snprintf(journal_ident, sizeof(journal_ident), "%s", ident);
	if (fstat(STDERR_FILENO, &st) < 0 ||
	    !log_journal_stream_is(getenv("JOURNAL_STREAM"), st.st_dev, st.st_ino))
		return;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return;
	}
	journal_fd = fd;
}

/* Append a field: "NAME=value\n", or, when value holds a newline, the protocol's binary
 * form "NAME\n" + 64-bit little-endian length + value + "\n". */
static int
put_field(char *buf, size_t size, size_t *pos, const char *name, size_t nlen, const char *v,
    size_t vlen)
{
	bool binary = memchr(v, '\n', vlen) != NULL;
	size_t need = nlen + 1 + (binary ? 8 : 0) + vlen + 1;

	if (size - *pos < need)
		return -ENOBUFS;
	memcpy(buf + *pos, name, nlen);
	*pos += nlen;
	if (binary) {
		uint64_t l = vlen;

		buf[(*pos)++] = '\n';
		for (int i = 0; i < 8; i++)
			buf[(*pos)++] = (char)((l >> (8 * i)) & 0xff);
	} else
		buf[(*pos)++] = '=';
	memcpy(buf + *pos, v, vlen);
	*pos += vlen;
	buf[(*pos)++] = '\n';
	return 0;
}

static bool
is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '_' || c == '.' || c == '-';
}

int
log_journal_encode(char *buf, size_t size, const char *ident, int level, const char *line,
    size_t len)
{
	static const char *const fixed[] = { "MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER" };
	char prio[2] = { (char)('0' + (level & 7)), '\0' };
	size_t pos = 0, i = 0;

	if (put_field(buf, size, &pos, "MESSAGE", 7, line, len) < 0 ||
	    put_field(buf, size, &pos, "PRIORITY", 8, prio, 1) < 0 ||
	    put_field(buf, size, &pos, "SYSLOG_IDENTIFIER", 17, ident, strlen(ident)) < 0)
		return -ENOBUFS;
	while (i < len) {
		char name[MAX_JOURNAL_FIELD + 1];
		size_t k = i, nlen, vs, ve;
		bool ok = true;

		while (i < len && line[i] == ' ')
			i++;
		k = i;
		while (i < len && is_key_char(line[i]))
			i++;
		nlen = i - k;
		if (i >= len || line[i] != '=' || nlen == 0) {
			/* not a pair: skip the word */
			while (i < len && line[i] != ' ')
				i++;
			continue;
		}
		i++; /* '=' */
		if (i < len && line[i] == '"') {
			const char *q = memchr(line + i + 1, '"', len - i - 1);

			vs = i + 1;
			ve = q ? (size_t)(q - line) : len;
			i = q ? ve + 1 : len;
		} else {
			vs = i;
			while (i < len && line[i] != ' ')
				i++;
			ve = i;
		}
		/* A journal field name: A-Z 0-9 _, not starting with a digit or '_' (those
		 * are journald's own), at most 64 bytes. */
		if (nlen > MAX_JOURNAL_FIELD || (line[k] >= '0' && line[k] <= '9') ||
		    line[k] == '_')
			continue;
		for (size_t j = 0; j < nlen; j++) {
			char c = line[k + j];

			name[j] = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') :
			    (c == '.' || c == '-') ? '_' : c;
		}
		name[nlen] = '\0';
		for (size_t j = 0; j < ELEMENTSOF(fixed); j++)
			if (strcmp(name, fixed[j]) == 0)
				ok = false;
		if (ok && put_field(buf, size, &pos, name, nlen, line + vs, ve - vs) < 0)
			return -ENOBUFS;
	}
	return (int)pos;
}

void
log_kv(int level, const char *fmt, ...)
{
	char line[MAX_LOG_LINE];
	va_list ap;
	int n, m;

	if (level > log_get_level() || level < 0 || level > LOG_DEBUG)
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
	if (journal_fd >= 0) {
		char entry[MAX_LOG_JOURNAL];
		size_t skip = strlen(level_names[level]) + 7; /* "level=" + name + ' ' */
		int e = log_journal_encode(entry, sizeof(entry), journal_ident, level,
		    line + skip, (size_t)n - skip);

		/* One datagram per entry, as whole as one write(); on any failure the line
		 * goes to stderr, which is the journal's stream anyway. */
		if (e > 0 && send(journal_fd, entry, (size_t)e, MSG_NOSIGNAL) == e)
			return;
	}
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
