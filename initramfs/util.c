/* SPDX-License-Identifier: MIT */
/* Helpers shared by the init's files; see util.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

int
init_err_set(struct init_err *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return code;
	va_start(ap, fmt);
	(void)vsnprintf(e->msg, sizeof(e->msg), fmt, ap); /* truncation is acceptable */
	va_end(ap);
	return code;
}

int
init_err_prefix(struct init_err *e, int code, const char *fmt, ...)
{
	char pre[MAX_INIT_ERR], old[MAX_INIT_ERR];
	size_t n, o;
	va_list ap;

	if (!e)
		return code;
	va_start(ap, fmt);
	(void)vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old));
	old[sizeof(old) - 1] = '\0';
	/* "pre: old", cut at the buffer's end: the start of a message matters most */
	n = strlen(pre);
	memcpy(e->msg, pre, n);
	if (n + 2 < sizeof(e->msg)) {
		memcpy(e->msg + n, ": ", 2);
		n += 2;
		o = strnlen(old, sizeof(e->msg) - 1 - n);
		memcpy(e->msg + n, old, o);
		n += o;
	}
	e->msg[n] = '\0';
	return code;
}

void
init_vlog(const char *prefix, size_t size, const char *fmt, va_list ap)
{
	char line[MAX_INIT_LINE];
	size_t plen = strlen(prefix);
	int n;

	if (size > sizeof(line))
		size = sizeof(line);
	memcpy(line, prefix, plen);
	n = vsnprintf(line + plen, size - plen - 1, fmt, ap);
	if (n < 0)
		return;
	n += (int)plen;
	if ((size_t)n > size - 2)
		n = (int)size - 2;
	line[n++] = '\n';
	/* one write() per line so messages from several processes never interleave (§9) */
	(void)init_write_all(STDERR_FILENO, line, (size_t)n);
}

void
init_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	init_vlog("diskless: ", 512, fmt, ap);
	va_end(ap);
}

void
init_sanitize(char *dst, size_t size, const char *s, size_t len)
{
	size_t i;

	if (size == 0)
		return;
	for (i = 0; i < len && i + 1 < size && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		dst[i] = (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') ? '?' : (char)c;
	}
	dst[i] = '\0';
}

int
init_json_str(char *dst, size_t size, const char *s)
{
	size_t o = 0;

	if (size < 3)
		return -ENOSPC;
	dst[o++] = '"';
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8];
		size_t n;

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			n = 2;
		} else if (c < 0x20 || c == 0x7f) {
			n = (size_t)snprintf(esc, sizeof(esc), "\\u%04x", c);
		} else {
			esc[0] = (char)c;
			n = 1;
		}
		if (o + n + 2 > size)
			return -ENOSPC;
		memcpy(dst + o, esc, n);
		o += n;
	}
	dst[o++] = '"';
	dst[o] = '\0';
	return (int)o;
}

int
init_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
init_read_file(const char *path, char *buf, size_t max)
{
	size_t len = 0;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n = read(fd, buf + len, max + 1 - len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out_close_fd;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			r = -EFBIG;
			goto out_close_fd;
		}
	}
	buf[len] = '\0';
	r = (int)len;
out_close_fd:
	(void)close(fd); /* read-only fd: nothing to learn from close */
	return r;
}

void
init_sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int
init_parse_u64(const char *s, size_t len, uint64_t max, uint64_t *ret)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len > 20)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}
