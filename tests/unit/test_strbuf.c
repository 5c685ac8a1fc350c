/* SPDX-License-Identifier: MIT */
/* lib/strbuf.c: appending bytes and text, from strbuf.h's contract: the buffer is
 * NUL-terminated after every append (also of nothing), holds bytes that are not text,
 * and grows past its first allocation without losing what it held. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "strbuf.h"

static void
test_add(void **state)
{
	struct strbuf b = { 0 };
	char big[1000];

	(void)state;
	strbuf_add(&b, NULL, 0); /* nothing: still a string */
	assert_non_null(b.s);
	assert_string_equal(b.s, "");
	assert_int_equal(b.len, 0);
	strbuf_add(&b, "a\0b", 3);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.s, "a\0b", 4);
	memset(big, 'x', sizeof(big));
	strbuf_add(&b, big, sizeof(big)); /* past the first 64 bytes */
	assert_int_equal(b.len, 3 + sizeof(big));
	assert_memory_equal(b.s + 3, big, sizeof(big));
	assert_int_equal(b.s[b.len], '\0');
	strbuf_printf(&b, "%d", 42);
	assert_string_equal(b.s + b.len - 2, "42");
	assert_false(b.oom);
	strbuf_done(&b);
	assert_null(b.s);
	assert_int_equal(b.len, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
