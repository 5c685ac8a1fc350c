/* SPDX-License-Identifier: MIT */
/* HTTP response head parser; see httpresp.h. RFC 9112 §4 (status line), §6 (body length),
 * RFC 9110 §14.4 (Content-Range). */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "httpresp.h"
#include "util.h"

/* Longest decimal we accept in a length: 2^63 fits in 19 digits. */
#define MAX_DIGITS 19

static int
parse_num(const char *s, size_t len, uint64_t *ret)
{
	if (len > MAX_DIGITS)
		return -EPROTO;
	return init_parse_u64(s, len, INT64_MAX, ret) < 0 ? -EPROTO : 0;
}

int
httpresp_parse_content_range(const char *v, size_t len, uint64_t *ret_start, uint64_t *ret_end,
    int64_t *ret_total)
{
	const char *dash, *slash;
	uint64_t start, end, total;

	if (len < 6 || memcmp(v, "bytes ", 6) != 0)
		return -EPROTO;
	v += 6;
	len -= 6;
	dash = memchr(v, '-', len);
	slash = memchr(v, '/', len);
	if (!dash || !slash || slash < dash)
		return -EPROTO;
	if (parse_num(v, (size_t)(dash - v), &start) < 0 ||
	    parse_num(dash + 1, (size_t)(slash - dash - 1), &end) < 0 || end < start)
		return -EPROTO;
	if ((size_t)(slash + 1 - v) == len - 1 && slash[1] == '*') {
		*ret_total = -1;
	} else {
		if (parse_num(slash + 1, len - (size_t)(slash + 1 - v), &total) < 0 || end >= total)
			return -EPROTO;
		*ret_total = (int64_t)total;
	}
	*ret_start = start;
	*ret_end = end;
	return 0;
}

static bool
header_is(const char *line, size_t nlen, const char *name)
{
	return strlen(name) == nlen && strncasecmp(line, name, nlen) == 0;
}

int
httpresp_parse(const char *buf, size_t len, struct http_resp *ret)
{
	struct http_resp r = { .content_length = -1, .range_total = -1 };
	const char *end, *p, *eol;
	size_t head_len;
	uint64_t v;

	if (len > MAX_HTTP_HEAD)
		len = MAX_HTTP_HEAD;
	end = memmem(buf, len, "\r\n\r\n", 4);
	if (!end)
		return len >= MAX_HTTP_HEAD ? -EMSGSIZE : 0;
	head_len = (size_t)(end - buf) + 4;
	end += 2; /* each line below ends with its own \r\n */

	/* status line: HTTP/1.x SP 3DIGIT SP reason */
	eol = memmem(buf, (size_t)(end - buf), "\r\n", 2);
	if (!eol || eol - buf < 12 || memcmp(buf, "HTTP/1.", 7) != 0 ||
	    (buf[7] != '0' && buf[7] != '1') || buf[8] != ' ' || (eol - buf > 12 && buf[12] != ' '))
		return -EPROTO;
	if (parse_num(buf + 9, 3, &v) < 0 || v < 100 || v > 599)
		return -EPROTO;
	r.status = (int)v;

	for (p = eol + 2; p < end; p = eol + 2) {
		const char *colon, *val, *vend;
		size_t nlen;

		eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		if (!eol)
			return -EPROTO;
		colon = memchr(p, ':', (size_t)(eol - p));
		if (!colon || colon == p)
			return -EPROTO;
		nlen = (size_t)(colon - p);
		if (memchr(p, ' ', nlen) || memchr(p, '\t', nlen))
			return -EPROTO; /* RFC 9112 §5.1: no whitespace before the colon */
		for (val = colon + 1; val < eol && (*val == ' ' || *val == '\t'); val++)
			;
		for (vend = eol; vend > val && (vend[-1] == ' ' || vend[-1] == '\t'); vend--)
			;
		if (memchr(val, '\0', (size_t)(vend - val)))
			return -EPROTO;
		if (header_is(p, nlen, "content-length")) {
			if (r.content_length >= 0 || parse_num(val, (size_t)(vend - val), &v) < 0)
				return -EPROTO;
			r.content_length = (int64_t)v;
		} else if (header_is(p, nlen, "transfer-encoding")) {
			if ((size_t)(vend - val) != 7 || strncasecmp(val, "chunked", 7) != 0)
				return -EPROTO;
			r.chunked = true;
		} else if (r.status == 206 && header_is(p, nlen, "content-range")) {
			/* only a 206 carries a range we asked for; a 416 names just the total */
			if (r.has_range || httpresp_parse_content_range(val, (size_t)(vend - val),
			    &r.range_start, &r.range_end, &r.range_total) < 0)
				return -EPROTO;
			r.has_range = true;
		}
	}
	*ret = r;
	return (int)head_len;
}
