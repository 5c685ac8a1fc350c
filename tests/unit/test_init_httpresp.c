/* SPDX-License-Identifier: MIT */
/* initramfs/httpresp.c: response heads as bootsvc (libmicrohttpd) and broken servers send
 * them; Content-Range per RFC 9110 §14.4. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../initramfs/httpresp.h"

static const struct {
	int line;
	const char *head;
	int r;                /* > 0: expect head length = strlen(head) */
	int status;
	long long clen;
	int has_range;
	unsigned long long rs, re;
	long long rt;
} vec[] = {
	{ __LINE__, "HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n", 1, 200, 42, 0, 0, 0, -1 },
	{ __LINE__, "HTTP/1.1 204 No Content\r\n\r\n", 1, 204, -1, 0, 0, 0, -1 },
	{ __LINE__, "HTTP/1.0 404 Not Found\r\ncontent-length:0\r\n\r\n", 1, 404, 0, 0, 0, 0, -1 },
	{ __LINE__, "HTTP/1.1 200\r\nContent-Length: 1\r\n\r\n", 1, 200, 1, 0, 0, 0, -1 }, /* no reason */
	{ __LINE__, "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 100-199/200\r\n"
		"Content-Length: 100\r\n\r\n", 1, 206, 100, 1, 100, 199, 200 },
	{ __LINE__, "HTTP/1.1 206 X\r\nContent-Range: bytes 0-0/*\r\n\r\n", 1, 206, -1, 1, 0, 0, -1 },
	/* a 416 carries "bytes * /len": not ours to parse */
	{ __LINE__, "HTTP/1.1 416 X\r\nContent-Range: bytes */200\r\n\r\n", 1, 416, -1, 0, 0, 0, -1 },
	{ __LINE__, "HTTP/1.1 200 OK\r\nContent-Length: 4", 0, 0, 0, 0, 0, 0, 0 }, /* incomplete */
	{ __LINE__, "", 0, 0, 0, 0, 0, 0, 0 },
	{ __LINE__, "HTTP/2 200 OK\r\n\r\n", -EPROTO, 0, 0, 0, 0, 0, 0 },
	{ __LINE__, "HTTP/1.1 99 X\r\n\r\n", -EPROTO, 0, 0, 0, 0, 0, 0 },
	{ __LINE__, "HTTP/1.1 600 X\r\n\r\n", -EPROTO, 0, 0, 0, 0, 0, 0 },
	{ __LINE__, "HTTP/1.1 2x0 X\r\n\r\n", -EPROTO, 0, 0, 0, 0, 0, 0 },
	{ __LINE__, "HTTP/1.1 200OK\r\n\r\n", -EPROTO, 0, 0, 0, 0, 0, 0 },
	{ __LINE__, "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", -EPROTO, 0, 0, 0, 0, 0, 0 },
	{ __LINE__, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", -EPROTO, 0, 0, 0, 0, 0, 0 },
	{ __LINE__, "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", -EPROTO, 0, 0, 0, 0, 0, 0 },
	{ __LINE__, "HTTP/1.1 200 OK\r\nContent-Length : 1\r\n\r\n", -EPROTO, 0, 0, 0, 0, 0, 0 },
	{ __LINE__, "HTTP/1.1 200 OK\r\nno colon\r\n\r\n", -EPROTO, 0, 0, 0, 0, 0, 0 },
	{ __LINE__, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", -EPROTO, 0, 0, 0, 0, 0, 0 },
	{ __LINE__, "HTTP/1.1 206 X\r\nContent-Range: bytes 5-4/10\r\n\r\n", -EPROTO, 0, 0, 0, 0, 0, 0 },
	{ __LINE__, "HTTP/1.1 206 X\r\nContent-Range: bytes 0-10/10\r\n\r\n", -EPROTO, 0, 0, 0, 0, 0, 0 },
	{ __LINE__, "HTTP/1.1 206 X\r\nContent-Range: items 0-1/10\r\n\r\n", -EPROTO, 0, 0, 0, 0, 0, 0 },
	{ __LINE__, "HTTP/1.1 206 X\r\nContent-Range: bytes 0-1\r\n\r\n", -EPROTO, 0, 0, 0, 0, 0, 0 },
};

static void
test_vectors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		struct http_resp r;
		size_t len = strlen(vec[i].head);
		int got = httpresp_parse(vec[i].head, len, &r);
		int line = vec[i].line;

		if (vec[i].r > 0) {
			_assert_int_equal(got, len, __FILE__, line);
			_assert_int_equal(r.status, vec[i].status, __FILE__, line);
			_assert_int_equal(r.content_length, vec[i].clen, __FILE__, line);
			_assert_int_equal(r.has_range, vec[i].has_range, __FILE__, line);
			if (vec[i].has_range) {
				_assert_int_equal(r.range_start, vec[i].rs, __FILE__, line);
				_assert_int_equal(r.range_end, vec[i].re, __FILE__, line);
				_assert_int_equal(r.range_total, vec[i].rt, __FILE__, line);
			}
		} else {
			_assert_int_equal(got, vec[i].r, __FILE__, line);
		}
	}
}

static void
test_body_after_head(void **state)
{
	static const char s[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
	struct http_resp r;

	(void)state;
	assert_int_equal(httpresp_parse(s, sizeof(s) - 1, &r), (int)sizeof(s) - 1 - 5);
}

static void
test_too_long(void **state)
{
	static char big[MAX_HTTP_HEAD + 100];
	struct http_resp r;

	(void)state;
	memset(big, 'a', sizeof(big));
	memcpy(big, "HTTP/1.1 200 OK\r\nX: ", 20);
	assert_int_equal(httpresp_parse(big, sizeof(big), &r), -EMSGSIZE);
	assert_int_equal(httpresp_parse(big, MAX_HTTP_HEAD - 1, &r), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_body_after_head),
		cmocka_unit_test(test_too_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
