/* SPDX-License-Identifier: MIT */
/* hostlist_parse() on arbitrary text; on success every name obeys lib/hostlist.h and
 * hostlist_compress() round-trips to the same names. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hostlist.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
check_same(struct hostlist *a, struct hostlist *b)
{
	if (a->n != b->n)
		abort();
	qsort(a->names, a->n, sizeof(*a->names), cmp_str);
	qsort(b->names, b->n, sizeof(*b->names), cmp_str);
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->names[i], b->names[i]) != 0)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hostlist hl = { 0 }, again = { 0 };
	struct dl_err e = { 0 };
	char *s, *c;
	int r;

	if (size > MAX_HOSTLIST_LEN + 1)
		return 0;
	s = fuzz_cstr(data, size);
	if (!s)
		return 0;
	r = hostlist_parse(s, &hl, &e);
	free(s);
	if (r < 0) {
		/* every failure explains itself */
		if (e.code != r || !e.msg[0] || (r != -EINVAL && r != -E2BIG && r != -ENOMEM))
			abort();
		return 0;
	}
	if (hl.n == 0 || hl.n > MAX_HOSTLIST_NAMES)
		abort();
	for (size_t i = 0; i < hl.n; i++) {
		size_t len = strlen(hl.names[i]);

		if (len == 0 || len > MAX_HOSTLIST_NAME_LEN || strpbrk(hl.names[i], ",[] \t\n\r\v\f"))
			abort();
	}
	c = hostlist_compress(hl.names, hl.n);
	if (c && strlen(c) <= MAX_HOSTLIST_LEN) {
		if (hostlist_parse(c, &again, &e) < 0)
			abort();
		check_same(&hl, &again);
		hostlist_done(&again);
	}
	free(c);
	hostlist_done(&hl);
	return 0;
}
