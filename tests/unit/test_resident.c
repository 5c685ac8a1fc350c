/* SPDX-License-Identifier: MIT */
/* lib/resident.c: calloc_resident's memory is zeroed and every page of it resident as it
 * is returned (mincore), where a fresh calloc of that size leaves its pages untouched. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "resident.h"

/* The pages of [p, p + len) that are not in memory. */
static size_t
pages_out(const void *p, size_t len)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), out = 0;
	uintptr_t start = (uintptr_t)p & ~(pg - 1), end = (uintptr_t)p + len;
	size_t n = (end - start + pg - 1) / pg;
	unsigned char *vec = malloc(n);

	assert_non_null(vec);
	assert_int_equal(mincore((void *)start, end - start, vec), 0);
	for (size_t i = 0; i < n; i++)
		out += !(vec[i] & 1);
	free(vec);
	return out;
}

static void
test_resident(void **state)
{
	/* 4 MiB: past glibc's (and ASan's) threshold for memory straight from mmap, so
	 * nothing of it was touched before */
	size_t n = 4u << 20;
	unsigned char *p = calloc_resident(n, 1);

	(void)state;
	assert_non_null(p);
	assert_int_equal(pages_out(p, n), 0);
	for (size_t i = 0; i < n; i += 4093)
		assert_int_equal(p[i], 0);
	assert_int_equal(p[n - 1], 0);
	free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resident),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
