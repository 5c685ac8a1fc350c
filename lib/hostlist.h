/* SPDX-License-Identifier: MIT */
/* Slurm/pdsh hostlists: "n[001-100,200],login1,rack[1-2]-n[01-02]".
 * Expanded eagerly into a list of names; ranges keep their zero padding. */
#pragma once

#include <stddef.h>

#include "err.h"

/* Most names one hostlist may expand to: a larger cluster is asked for in several
 * requests; the cap keeps one request from making bootsvc allocate without bound. */
#define MAX_HOSTLIST_NAMES 65536
/* Longest hostlist text accepted. */
#define MAX_HOSTLIST_LEN 65536
/* Longest expanded name: a DNS name (RFC 1035 §2.3.4: 253 chars) with room to spare; with
 * MAX_HOSTLIST_NAMES it bounds one expansion to 16 MiB however the text is written. */
#define MAX_HOSTLIST_NAME_LEN 255
/* Most digits in a range bound: 10^18 - 1 still fits a uint64_t with room for "+1". */
#define MAX_HOSTLIST_DIGITS 18

struct hostlist {
	char **names; /* owned, each owned */
	size_t n;
};

/* Parse and expand s. Brackets may appear several times in one name (cartesian product,
 * in order), ranges "a-b" with a <= b, padding taken from the wider bound's width when
 * the lower bound has leading zeros ("001-100"). Names are not validated here beyond
 * being non-empty with no whitespace, ',' '[' ']' outside brackets.
 * On error fills reterr naming the offending part and its offset; *ret untouched.
 * Errors: -EINVAL (syntax), -E2BIG (over MAX_HOSTLIST_NAMES, MAX_HOSTLIST_LEN or
 * MAX_HOSTLIST_NAME_LEN), -ENOMEM. */
int hostlist_parse(const char *s, struct hostlist *ret, struct dl_err *reterr);

/* Free names; hl may be zeroed or half-built. */
void hostlist_done(struct hostlist *hl);

/* Compress names back into a hostlist string (n01,n02,n03 -> n[01-03]), keeping order
 * of first appearance of each prefix. Names are grouped by what surrounds their last run
 * of digits; within a group numbers are sorted and duplicates kept, so hostlist_parse()
 * of the result gives the same names (as a multiset) for any names hostlist_parse() can
 * produce, as long as the result fits MAX_HOSTLIST_LEN. names are borrowed. Returns a malloc'd string ("" for n == 0) or NULL on ENOMEM. */
char *hostlist_compress(char *const *names, size_t n);
