/* SPDX-License-Identifier: MIT */
/* bootsvc/http/http_head.c: the request heads the direct path answers, and every near miss
 * it must leave to libmicrohttpd (-EINVAL) or wait on (0). Vectors from RFC 9112 §2-§3 and
 * §6 (what announces a body), and from request smuggling's usual shapes: a second request
 * behind the first, bare LF, folded headers, a body on a GET. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../bootsvc/http/http_head.h"

#define IPXE_HEAD "GET /ipxe/boot?mac=52:54:00:01:00:07&uuid=&serial=ABC HTTP/1.1\r\n" \
	"Connection: keep-alive\r\nUser-Agent: iPXE/1.21.1+\r\nHost: 10.0.0.1:8080\r\n\r\n"

static int
parse(const char *s, struct http_head *h)
{
	return http_head_parse(s, strlen(s), h);
}

/* iPXE's own request, as it sends it: the path and its three arguments. */
static void
test_ipxe(void **state)
{
	struct http_head h;

	(void)state;
	assert_int_equal(parse(IPXE_HEAD, &h), (int)strlen(IPXE_HEAD));
	assert_string_equal(h.path, "/ipxe/boot");
	assert_int_equal(h.n_args, 3);
	assert_string_equal(http_head_arg(&h, "mac"), "52:54:00:01:00:07");
	assert_string_equal(http_head_arg(&h, "uuid"), "");
	assert_string_equal(http_head_arg(&h, "serial"), "ABC");
	assert_null(http_head_arg(&h, "ip"));
	assert_null(http_head_arg(&h, "MAC")); /* keys are case-sensitive, as MHD's */
}

/* HTTP/1.0 needs no Host; no query is no argument; the first of a repeated key wins. */
static void
test_shapes(void **state)
{
	struct http_head h;

	(void)state;
	assert_true(parse("GET /ipxe/start HTTP/1.0\r\n\r\n", &h) > 0);
	assert_string_equal(h.path, "/ipxe/start");
	assert_int_equal(h.n_args, 0);
	assert_true(parse("GET /ipxe/boot? HTTP/1.0\r\n\r\n", &h) > 0);
	assert_string_equal(h.path, "/ipxe/boot");
	assert_int_equal(h.n_args, 0);
	assert_true(parse("GET /ipxe/boot?mac=a&mac=b HTTP/1.0\r\n\r\n", &h) > 0);
	assert_string_equal(http_head_arg(&h, "mac"), "a");
	assert_true(parse("GET /x?a==b HTTP/1.0\r\n\r\n", &h) > 0);
	assert_string_equal(http_head_arg(&h, "a"), "=b");
	assert_true(parse("GET / HTTP/1.1\r\nhOsT:\r\nX-Empty:\r\n\r\n", &h) > 0);
	assert_true(parse("GET / HTTP/1.1\r\nHost: a\r\nX: \t tab\t\r\n\r\n", &h) > 0);
}

/* Whether the client keeps the connection: HTTP/1.1's default, HTTP/1.0's exception, and
 * the Connection header's tokens in any case and order (RFC 9112 §9.3). */
static void
test_keep_alive(void **state)
{
	static const struct {
		const char *head;
		bool keep;
	} v[] = {
		{ "GET / HTTP/1.1\r\nHost: a\r\n\r\n", true },
		{ "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", false },
		{ "GET / HTTP/1.1\r\nHost: a\r\nConnection: TE, Close\r\n\r\n", false },
		{ "GET / HTTP/1.1\r\nConnection: keep-alive\r\nHost: a\r\n\r\n", true },
		{ "GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n", true },
		{ "GET / HTTP/1.1\r\nHost: a\r\nX-Connection: close\r\n\r\n", true },
		{ "GET / HTTP/1.0\r\n\r\n", false },
		{ "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true },
		{ "GET / HTTP/1.0\r\nConnection: ,keep-alive ,\r\n\r\n", true },
		{ "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", false },
		{ "GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n", false },
	};
	struct http_head h;

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_true(parse(v[i].head, &h) > 0);
		if (h.keep_alive != v[i].keep)
			fail_msg("vector %zu: keep_alive %d: %s", i, h.keep_alive, v[i].head);
	}
}

/* A beginning is 0 whatever it looks like so far: the caller's to hand on or wait. */
static void
test_incomplete(void **state)
{
	struct http_head h;

	(void)state;
	for (size_t n = 0; n < strlen(IPXE_HEAD); n++)
		assert_int_equal(http_head_parse(IPXE_HEAD, n, &h), 0);
	assert_int_equal(parse("POST /api", &h), 0);
}

/* Everything libmicrohttpd must answer: its own dialect's cases, every body, every
 * escape (whose decoding is MHD's), anything smuggled. */
static void
test_refused(void **state)
{
	static const char *const bad[] = {
		"POST /ipxe/boot HTTP/1.1\r\nHost: a\r\n\r\n",
		"HEAD /ipxe/boot HTTP/1.1\r\nHost: a\r\n\r\n",
		"get /ipxe/boot HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET ipxe/boot HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET http://a/ipxe/boot HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /ipxe/boot HTTP/1.1\r\n\r\n",               /* 1.1 without Host */
		"GET /ipxe/boot HTTP/2.0\r\nHost: a\r\n\r\n",
		"GET /ipxe/boot HTTP/1.2\r\nHost: a\r\n\r\n",
		"GET /ipxe/boot  HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET  /ipxe/boot HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /ipxe/boot HTTP/1.1 \r\nHost: a\r\n\r\n",
		"GET /ipxe/boot\r\n\r\n",                       /* HTTP/0.9 */
		"GET /ipxe/boot?mac=52%3A54 HTTP/1.0\r\n\r\n",  /* escapes are MHD's */
		"GET /ipxe/boot?mac=a+b HTTP/1.0\r\n\r\n",
		"GET /ipxe/boot#x HTTP/1.0\r\n\r\n",
		"GET /ipxe/b\x80oot HTTP/1.0\r\n\r\n",
		"GET /ipxe/boot?mac HTTP/1.0\r\n\r\n",          /* an argument without '=' */
		"GET /ipxe/boot?=x HTTP/1.0\r\n\r\n",
		"GET /ipxe/boot?a=1&&b=2 HTTP/1.0\r\n\r\n",
		"GET /ipxe/boot?a=1& HTTP/1.0\r\n\r\n",
		"GET /x?a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9 HTTP/1.0\r\n\r\n",
		"GET /ipxe/boot HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n",
		"GET /ipxe/boot HTTP/1.1\r\nHost: a\r\ncontent-length: 0\r\n\r\n",
		"GET /ipxe/boot HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
		"GET /ipxe/boot HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n",
		"GET /ipxe/boot HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\n\r\n",
		"GET /ipxe/boot HTTP/1.1\r\nHost: a\r\n X-Folded: b\r\n\r\n",
		"GET /ipxe/boot HTTP/1.1\r\nHost: a\r\nX-Folded: b\r\n\tc\r\n\r\n",
		"GET /ipxe/boot HTTP/1.1\r\nHost : a\r\n\r\n",   /* space before ':' */
		"GET /ipxe/boot HTTP/1.1\r\nHost a\r\n\r\n",
		"GET /ipxe/boot HTTP/1.1\r\n: a\r\nHost: a\r\n\r\n",
		"GET /ipxe/boot HTTP/1.1\r\nHost: a\nX: b\r\n\r\n", /* bare LF */
		"GET /ipxe/boot HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", /* bare CR */
		"GET /ipxe/boot HTTP/1.1\r\nHost: a\x01\r\n\r\n",
		"GET /ipxe/boot HTTP/1.1\r\nHost: \x80\r\n\r\n",
		/* a second request, or a body, behind the head */
		"GET /ipxe/boot HTTP/1.1\r\nHost: a\r\n\r\nGET /metrics HTTP/1.1\r\n\r\n",
		"GET /ipxe/boot HTTP/1.1\r\nHost: a\r\n\r\nx",
		"\r\nGET /ipxe/boot HTTP/1.0\r\n\r\n",
	};
	struct http_head h;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = parse(bad[i], &h);

		if (r != -EINVAL)
			fail_msg("vector %zu: %d, want -EINVAL: %s", i, r, bad[i]);
	}
}

/* A NUL in the head is a byte like any other: not a way to end it early. */
static void
test_nul(void **state)
{
	static const char head[] = "GET /ipxe/boot HTTP/1.0\r\nX: a\0b\r\n\r\n";
	struct http_head h;

	(void)state;
	assert_int_equal(http_head_parse(head, sizeof(head) - 1, &h), -EINVAL);
}

/* The size bound: a beginning of HTTP_HEAD_MAX bytes without its end is refused, not
 * waited on; a whole head of exactly HTTP_HEAD_MAX is one; a byte more is refused. */
static void
test_sizes(void **state)
{
	static char buf[HTTP_HEAD_MAX + 16];
	const char *pre = "GET /", *post = " HTTP/1.0\r\n\r\n";
	size_t fill = HTTP_HEAD_MAX - strlen(pre) - strlen(post);
	struct http_head h;

	(void)state;
	memset(buf, 'a', sizeof(buf));
	assert_int_equal(http_head_parse(buf, HTTP_HEAD_MAX - 1, &h), 0);
	assert_int_equal(http_head_parse(buf, HTTP_HEAD_MAX, &h), -EINVAL);
	memcpy(buf, pre, strlen(pre));
	memcpy(buf + strlen(pre) + fill, post, strlen(post));
	assert_int_equal(http_head_parse(buf, HTTP_HEAD_MAX, &h), HTTP_HEAD_MAX);
	assert_int_equal(strlen(h.path), 1 + fill);
	memmove(buf + 1, buf, HTTP_HEAD_MAX);
	memcpy(buf, "GET /a", 6);
	assert_int_equal(http_head_parse(buf, HTTP_HEAD_MAX + 1, &h), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipxe),
		cmocka_unit_test(test_shapes),
		cmocka_unit_test(test_keep_alive),
		cmocka_unit_test(test_incomplete),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_nul),
		cmocka_unit_test(test_sizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
