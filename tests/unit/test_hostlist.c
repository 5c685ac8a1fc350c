/* SPDX-License-Identifier: MIT */
/* lib/hostlist.c: expansion, errors, limits and compress round trips. Vectors follow the
 * hostlist syntax of slurm.conf(5) ("NODE NAME") and scontrol(1) show hostnames, with the
 * padding rule of lib/hostlist.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hostlist.h"

/* Names joined with ',' so one string compare shows the whole expansion. */
static char *
join(char *const *names, size_t n)
{
	size_t len = 1;
	char *s, *p;

	for (size_t i = 0; i < n; i++)
		len += strlen(names[i]) + 1;
	p = s = calloc(1, len);
	assert_non_null(s);
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "%s%s", i ? "," : "", names[i]);
	return s;
}

static void
check_expand_at(const char *file, int line, const char *in, size_t want_n, const char *want)
{
	struct hostlist hl = { 0 };
	struct dl_err e = { 0 };
	int r = hostlist_parse(in, &hl, &e);
	char *got;

	if (r < 0)
		print_error("%s:%d: hostlist_parse('%s') = %d: %s\n", file, line, in, r, e.msg);
	_assert_int_equal(r, 0, file, line);
	_assert_int_equal(hl.n, want_n, file, line);
	if (want) {
		got = join(hl.names, hl.n);
		_assert_string_equal(got, want, file, line);
		free(got);
	}
	hostlist_done(&hl);
}

static const struct {
	int line;
	const char *in;
	size_t n;
	const char *want; /* NULL: only the count is checked */
} expand_vectors[] = {
	{ __LINE__, "n1", 1, "n1" },
	{ __LINE__, "login1,n1", 2, "login1,n1" },
	{ __LINE__, "n[1-3]", 3, "n1,n2,n3" },
	{ __LINE__, "n[1-3,7]", 4, "n1,n2,n3,n7" },
	{ __LINE__, "n[001-003,200]", 4, "n001,n002,n003,n200" },
	{ __LINE__, "n[001-100,200]", 101, NULL },                   /* DESIGN.md's example */
	{ __LINE__, "n[08-11]", 4, "n08,n09,n10,n11" },               /* padding kept past 09 */
	{ __LINE__, "n[8-11]", 4, "n8,n9,n10,n11" },                  /* no padding */
	{ __LINE__, "n[01-100]", 100, NULL },                         /* width from the wider bound */
	{ __LINE__, "n[098-100]", 3, "n098,n099,n100" },
	{ __LINE__, "n[0-2]", 3, "n0,n1,n2" },                        /* a lone "0" is not padding */
	{ __LINE__, "n[00-02]", 3, "n00,n01,n02" },
	{ __LINE__, "n[5-5]", 1, "n5" },
	{ __LINE__, "n[7]", 1, "n7" },
	{ __LINE__, "n[3,1,2]", 3, "n3,n1,n2" },                      /* order kept, no sorting */
	{ __LINE__, "n[1,1]", 2, "n1,n1" },                           /* duplicates kept */
	/* cartesian product, last group fastest, as scontrol show hostnames prints it */
	{ __LINE__, "rack[1-2]-n[01-02]", 4, "rack1-n01,rack1-n02,rack2-n01,rack2-n02" },
	{ __LINE__, "r[1-2]c[1-2]n[1-2]", 8, "r1c1n1,r1c1n2,r1c2n1,r1c2n2,r2c1n1,r2c1n2,r2c2n1,r2c2n2" },
	{ __LINE__, "[1-2]", 2, "1,2" },
	{ __LINE__, "[1-2]x", 2, "1x,2x" },
	{ __LINE__, "n[1-2].ib", 2, "n1.ib,n2.ib" },
	/* MACs: ':' is an ordinary name character */
	{ __LINE__, "52:54:00:00:00:[01-04]", 4,
	    "52:54:00:00:00:01,52:54:00:00:00:02,52:54:00:00:00:03,52:54:00:00:00:04" },
	{ __LINE__, "a,n[1-2],b", 4, "a,n1,n2,b" },
	{ __LINE__, "n[1-2],m[1-2]", 4, "n1,n2,m1,m2" },
	{ __LINE__, "n[0-65535]", MAX_HOSTLIST_NAMES, NULL },        /* exactly the cap */
	{ __LINE__, "x[0-15][0-15][0-15][0-15]", MAX_HOSTLIST_NAMES, NULL },
	{ __LINE__, "n[999999999999999998-999999999999999999]", 2,    /* MAX_HOSTLIST_DIGITS */
	    "n999999999999999998,n999999999999999999" },
};

static void
test_expand(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(expand_vectors); i++)
		check_expand_at(__FILE__, expand_vectors[i].line, expand_vectors[i].in,
		    expand_vectors[i].n, expand_vectors[i].want);
}

static void
test_padding_width(void **state)
{
	struct hostlist hl = { 0 };

	(void)state;
	assert_int_equal(hostlist_parse("n[001-100,200]", &hl, NULL), 0);
	assert_string_equal(hl.names[0], "n001");
	assert_string_equal(hl.names[98], "n099");
	assert_string_equal(hl.names[99], "n100");
	assert_string_equal(hl.names[100], "n200");
	hostlist_done(&hl);
	/* "01-100": both bounds print as wide as the wider one (lib/hostlist.h) */
	assert_int_equal(hostlist_parse("n[01-100]", &hl, NULL), 0);
	assert_string_equal(hl.names[0], "n001");
	assert_string_equal(hl.names[99], "n100");
	hostlist_done(&hl);
	hostlist_done(&hl); /* twice is harmless */
	hostlist_done(NULL);
}

/* Every error names the offending part and the offset of the bad byte. */
static const struct {
	int line;
	const char *in;
	int err;
	const char *msg;
} error_vectors[] = {
	{ __LINE__, "", -EINVAL, "hostlist is empty" },
	{ __LINE__, "n[5-3]", -EINVAL, "hostlist 'n[5-3]': reversed range '5-3' at offset 2" },
	{ __LINE__, "a,n[010-009]", -EINVAL, "hostlist 'n[010-009]': reversed range '010-009' at offset 4" },
	{ __LINE__, "n[1-2", -EINVAL, "hostlist 'n[1-2': unclosed '[' at offset 1" },
	{ __LINE__, "n[", -EINVAL, "hostlist 'n[': unclosed '[' at offset 1" },
	{ __LINE__, "n[1-", -EINVAL, "hostlist 'n[1-': unclosed '[' at offset 1" },
	{ __LINE__, "n[1-2,x", -EINVAL, "hostlist 'n[1-2,x': unexpected 'x' inside brackets at offset 6" },
	{ __LINE__, "n1]", -EINVAL, "hostlist 'n1]': unmatched ']' at offset 2" },
	{ __LINE__, "a,b]c", -EINVAL, "hostlist 'b]c': unmatched ']' at offset 3" },
	{ __LINE__, "n[]", -EINVAL, "hostlist 'n[]': empty range at offset 2" },
	{ __LINE__, "n[1,]", -EINVAL, "hostlist 'n[1,]': empty range at offset 4" },
	{ __LINE__, "n[,1]", -EINVAL, "hostlist 'n[,1]': empty range at offset 2" },
	{ __LINE__, "n[1-]", -EINVAL, "hostlist 'n[1-]': empty range at offset 4" },
	{ __LINE__, "n[-1]", -EINVAL, "hostlist 'n[-1]': empty range at offset 2" },
	{ __LINE__, "n[1-2-3]", -EINVAL, "hostlist 'n[1-2-3]': unexpected '-' inside brackets at offset 5" },
	{ __LINE__, "n[a-b]", -EINVAL, "hostlist 'n[a-b]': unexpected 'a' inside brackets at offset 2" },
	{ __LINE__, "n[1[2]]", -EINVAL, "hostlist 'n[1[2]]': nested '[' at offset 3" },
	{ __LINE__, "n[ 1]", -EINVAL, "hostlist has whitespace at offset 2" },
	{ __LINE__, "n1 n2", -EINVAL, "hostlist has whitespace at offset 2" },
	{ __LINE__, "n1\n", -EINVAL, "hostlist has whitespace at offset 2" },
	{ __LINE__, "a,,b", -EINVAL, "hostlist has an empty name at offset 2" },
	{ __LINE__, ",a", -EINVAL, "hostlist has an empty name at offset 0" },
	{ __LINE__, "a,", -EINVAL, "hostlist has an empty name at offset 2" },
	{ __LINE__, "n[1234567890123456789]", -EINVAL,
	    "hostlist 'n[1234567890123456789]': number at offset 2 has more than 18 digits" },
	{ __LINE__, "n[0-65536]", -E2BIG, "hostlist 'n[0-65536]' at offset 0 expands to more than 65536 names" },
	{ __LINE__, "n[1-999999999999999999]", -E2BIG, "expands to more than 65536 names" },
	{ __LINE__, "a,x[0-15][0-15][0-15][0-15]", -E2BIG,
	    "hostlist 'x[0-15][0-15][0-15][0-15]' at offset 2 expands to more than 65536 names" },
	{ __LINE__, "n[0-65535],b", -E2BIG, "hostlist 'b' at offset 11 expands to more than 65536 names" },
	{ __LINE__, "x[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]",
	    -E2BIG, "expands to more than 65536 names" }, /* product overflow guarded */
	{ __LINE__, "n[1,1,1,1,1,1,1,1,1,1]n[1,1,1,1,1,1,1,1,1,1]n[1,1,1,1,1,1,1,1,1,1]n[1,1,1,1,1,1,1,1,1,1]n[1,1,1,1,1,1,1,1,1,1]",
	    -E2BIG, "expands to more than 65536 names" },
	{ __LINE__, "n\x01[", -EINVAL, "hostlist 'n?[': unclosed '['" }, /* control bytes quoted as '?' */
};

static void
test_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(error_vectors); i++) {
		struct hostlist hl = { .names = (char **)0x1, .n = 42 }; /* must stay untouched */
		struct dl_err e = { 0 };
		int r = hostlist_parse(error_vectors[i].in, &hl, &e);

		if (r != error_vectors[i].err || !strstr(e.msg, error_vectors[i].msg))
			print_error("%s:%d: hostlist_parse('%s') = %d '%s', want %d '%s'\n",
			    __FILE__, error_vectors[i].line, error_vectors[i].in, r, e.msg,
			    error_vectors[i].err, error_vectors[i].msg);
		_assert_int_equal(r, error_vectors[i].err, __FILE__, error_vectors[i].line);
		_assert_int_equal(e.code, r, __FILE__, error_vectors[i].line);
		_assert_true(strstr(e.msg, error_vectors[i].msg) != NULL, "message", __FILE__,
		    error_vectors[i].line);
		_assert_true(hl.names == (char **)0x1 && hl.n == 42, "ret untouched", __FILE__,
		    error_vectors[i].line);
	}
	assert_int_equal(hostlist_parse(NULL, &(struct hostlist){ 0 }, NULL), -EINVAL);
}

/* MAX_HOSTLIST_LEN and MAX_HOSTLIST_NAME_LEN, one byte either side. */
static void
test_length_limits(void **state)
{
	struct hostlist hl = { 0 };
	struct dl_err e = { 0 };
	char *s = malloc(MAX_HOSTLIST_LEN + 2);

	(void)state;
	assert_non_null(s);
	/* "a,a,...,a" of exactly MAX_HOSTLIST_LEN bytes: 32768 names */
	for (size_t i = 0; i < MAX_HOSTLIST_LEN; i++)
		s[i] = i % 2 ? ',' : 'a';
	s[MAX_HOSTLIST_LEN - 1] = 'a';
	s[MAX_HOSTLIST_LEN] = '\0';
	assert_int_equal(hostlist_parse(s, &hl, &e), 0);
	assert_int_equal(hl.n, MAX_HOSTLIST_LEN / 2);
	hostlist_done(&hl);
	s[MAX_HOSTLIST_LEN] = 'a';
	s[MAX_HOSTLIST_LEN + 1] = '\0';
	assert_int_equal(hostlist_parse(s, &hl, &e), -E2BIG);
	assert_string_equal(e.msg, "hostlist is longer than 65536 bytes");

	/* one name of MAX_HOSTLIST_NAME_LEN: "x...x[1-2]" expands to 255-char names */
	memset(s, 'x', MAX_HOSTLIST_NAME_LEN - 1);
	strcpy(s + MAX_HOSTLIST_NAME_LEN - 1, "[1-2]");
	assert_int_equal(hostlist_parse(s, &hl, &e), 0);
	assert_int_equal(strlen(hl.names[1]), MAX_HOSTLIST_NAME_LEN);
	hostlist_done(&hl);
	strcpy(s + MAX_HOSTLIST_NAME_LEN - 1, "[1-10]"); /* n10 is one too long */
	assert_int_equal(hostlist_parse(s, &hl, &e), -E2BIG);
	assert_non_null(strstr(e.msg, "makes names longer than 255 characters"));
	assert_non_null(strstr(e.msg, "...' at offset 0")); /* the part is quoted, capped */
	free(s);
}

/* hostlist_compress: the display form; vectors are what scontrol show hostlist prints. */
static const struct {
	int line;
	const char *in;   /* comma-separated names */
	const char *want;
} compress_vectors[] = {
	{ __LINE__, "n01,n02,n03", "n[01-03]" },
	{ __LINE__, "n1", "n1" },
	{ __LINE__, "n1,n2,n3,n5", "n[1-3,5]" },
	{ __LINE__, "n3,n1,n2", "n[1-3]" },
	{ __LINE__, "login1,n1,n2", "login1,n[1-2]" },
	{ __LINE__, "n1,login,n2", "n[1-2],login" },    /* groups in order of first appearance */
	{ __LINE__, "b,a,b", "b,b,a" },                  /* names without numbers kept as is */
	{ __LINE__, "n8,n9,n10,n11", "n[8-11]" },
	{ __LINE__, "n08,n09,n10,n11", "n[08-11]" },
	{ __LINE__, "n9,n010", "n[9,010]" },             /* different widths never join */
	{ __LINE__, "n099,n100,n101", "n[099-101]" },
	{ __LINE__, "n99,n100", "n[99-100]" },
	{ __LINE__, "n1,n1", "n[1,1]" },
	{ __LINE__, "n1,n01", "n[1,01]" },
	{ __LINE__, "rack1-n01,rack1-n02,rack2-n01,rack2-n02", "rack1-n[01-02],rack2-n[01-02]" },
	{ __LINE__, "n1.ib,n2.ib,n1", "n[1-2].ib,n1" },
	{ __LINE__, "52:54:00:00:00:01,52:54:00:00:00:02", "52:54:00:00:00:[01-02]" },
	{ __LINE__, "n12345678901234567890,n1", "n12345678901234567890,n1" }, /* too long a number */
	{ __LINE__, "", "" },
};

static void
test_compress(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(compress_vectors); i++) {
		char *copy = strdup(compress_vectors[i].in), *names[16], *tok, *save = NULL, *got;
		size_t n = 0;

		assert_non_null(copy);
		for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
			names[n++] = tok;
		got = hostlist_compress(names, n);
		_assert_true(got != NULL, "compress", __FILE__, compress_vectors[i].line);
		_assert_string_equal(got, compress_vectors[i].want, __FILE__,
		    compress_vectors[i].line);
		free(got);
		free(copy);
	}
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* parse(compress(parse(x))) is parse(x) as a multiset, for the expand vectors. */
static void
test_round_trip(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(expand_vectors); i++) {
		struct hostlist a = { 0 }, b = { 0 };
		char *c;

		assert_int_equal(hostlist_parse(expand_vectors[i].in, &a, NULL), 0);
		c = hostlist_compress(a.names, a.n);
		_assert_true(c != NULL, "compress", __FILE__, expand_vectors[i].line);
		/* "x[0-15]..." compresses to more text than it came from; too long to parse */
		if (strlen(c) > MAX_HOSTLIST_LEN) {
			free(c);
			hostlist_done(&a);
			continue;
		}
		_assert_int_equal(hostlist_parse(c, &b, NULL), 0, __FILE__, expand_vectors[i].line);
		_assert_int_equal(b.n, a.n, __FILE__, expand_vectors[i].line);
		qsort(a.names, a.n, sizeof(*a.names), cmp_str);
		qsort(b.names, b.n, sizeof(*b.names), cmp_str);
		for (size_t k = 0; k < a.n; k++)
			_assert_string_equal(a.names[k], b.names[k], __FILE__,
			    expand_vectors[i].line);
		free(c);
		hostlist_done(&a);
		hostlist_done(&b);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_padding_width),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_length_limits),
		cmocka_unit_test(test_compress),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
