/* SPDX-License-Identifier: MIT */
/* http_head.h: a plain GET's head, or -EINVAL for libmicrohttpd to answer. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "http/http_head.h"

static bool
is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* A field value's byte: visible ASCII, space or tab (no obs-text: libmicrohttpd's). */
static bool
is_vchar(char c)
{
	return (c >= 0x21 && c <= 0x7e) || c == ' ' || c == '\t';
}

/* A target's byte: visible ASCII but the escapes and the fragment, whose meaning
 * (decoding) is libmicrohttpd's. */
static bool
is_target(char c)
{
	return c >= 0x21 && c <= 0x7e && c != '%' && c != '+' && c != '#';
}

/* Headers whose request libmicrohttpd reads on: a body, a continue, a protocol switch. */
static bool
announces_more(const char *name, size_t n)
{
	static const char *const names[] = { "content-length", "transfer-encoding", "expect",
		"upgrade" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == n && strncasecmp(name, names[i], n) == 0)
			return true;
	return false;
}

/* target (NUL-terminated in h->target) split into its path and arguments in place. */
static int
split_target(struct http_head *h)
{
	char *q = strchr(h->target, '?'), *p;

	h->path = h->target;
	h->n_args = 0;
	if (!q)
		return 0;
	*q++ = '\0';
	if (!*q)
		return 0; /* "/ipxe/boot?": no arguments */
	for (p = q; p;) {
		char *amp = strchr(p, '&'), *eq;

		if (amp)
			*amp++ = '\0';
		eq = strchr(p, '=');
		if (!eq || eq == p || h->n_args == HTTP_HEAD_ARGS)
			return -EINVAL;
		*eq = '\0';
		h->args[h->n_args].key = p;
		h->args[h->n_args].value = eq + 1;
		h->n_args++;
		p = amp;
	}
	return 0;
}

/* The request line, "GET <target> HTTP/1.x", data[0..n): the target copied into h. */
static int
request_line(const char *data, size_t n, struct http_head *h, bool *ret_http11)
{
	size_t t;

	if (n < 4 + 1 + 9 || memcmp(data, "GET /", 5) != 0)
		return -EINVAL;
	for (t = 4; t < n && is_target(data[t]); t++)
		;
	if (n - t != 9 || data[t] != ' ' || memcmp(data + t + 1, "HTTP/1.", 7) != 0 ||
	    (data[n - 1] != '0' && data[n - 1] != '1'))
		return -EINVAL;
	memcpy(h->target, data + 4, t - 4);
	h->target[t - 4] = '\0';
	*ret_http11 = data[n - 1] == '1';
	return 0;
}

/* Whether the Connection header's value v[0..n) lists token (a comma-separated list,
 * RFC 9110 §7.6.1; tokens are case-insensitive). */
static bool
lists(const char *v, size_t n, const char *token)
{
	size_t t = strlen(token);

	for (size_t i = 0; i < n;) {
		size_t end, a, b;

		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		for (end = i; end < n && v[end] != ','; end++)
			;
		for (a = i, b = end; b > a && (v[b - 1] == ' ' || v[b - 1] == '\t'); b--)
			;
		if (b - a == t && strncasecmp(v + a, token, t) == 0)
			return true;
		i = end;
	}
	return false;
}

/* One header line, data[0..n) without its CRLF: Host seen, Connection's close and
 * keep-alive. */
static int
header_line(const char *data, size_t n, bool *host, bool *close, bool *keep)
{
	size_t name = 0;

	while (name < n && is_tchar(data[name]))
		name++;
	if (name == 0 || name == n || data[name] != ':' || announces_more(data, name))
		return -EINVAL;
	for (size_t i = name + 1; i < n; i++)
		if (!is_vchar(data[i]))
			return -EINVAL;
	if (name == 4 && strncasecmp(data, "host", 4) == 0)
		*host = true;
	if (name == 10 && strncasecmp(data, "connection", 10) == 0) {
		*close |= lists(data + name + 1, n - name - 1, "close");
		*keep |= lists(data + name + 1, n - name - 1, "keep-alive");
	}
	return 0;
}

int
http_head_parse(const char *data, size_t len, struct http_head *ret)
{
	const char *end = NULL;
	bool http11 = false, host = false, close = false, keep = false;
	size_t line = 0;

	/* the head's end first: a beginning is 0, however it looks so far */
	for (size_t i = 0; i + 3 < len; i++)
		if (data[i] == '\r' && data[i + 1] == '\n' && data[i + 2] == '\r' &&
		    data[i + 3] == '\n') {
			end = data + i + 4;
			break;
		}
	if (!end)
		return len < HTTP_HEAD_MAX ? 0 : -EINVAL;
	if ((size_t)(end - data) != len || len > HTTP_HEAD_MAX)
		return -EINVAL; /* a second request, or bytes of a body, behind the head */
	for (size_t at = 0; at < len - 2; line++) {
		const char *cr = memchr(data + at, '\r', len - at);
		size_t n = (size_t)(cr - (data + at));

		/* a CR is only ever a line's end; a bare LF is a line's byte, which no
		 * check below lets through */
		if (cr[1] != '\n')
			return -EINVAL;
		if (line == 0 ? request_line(data, n, ret, &http11) < 0 :
		    header_line(data + at, n, &host, &close, &keep) < 0)
			return -EINVAL;
		at += n + 2;
	}
	/* HTTP/1.1 without Host is a 400 of libmicrohttpd's (RFC 9112 §3.2) */
	if (http11 && !host)
		return -EINVAL;
	if (split_target(ret) < 0)
		return -EINVAL;
	ret->keep_alive = !close && (http11 || keep);
	return (int)len;
}

const char *
http_head_arg(const struct http_head *h, const char *key)
{
	for (unsigned i = 0; i < h->n_args; i++)
		if (strcmp(h->args[i].key, key) == 0)
			return h->args[i].value;
	return NULL;
}
