/* SPDX-License-Identifier: MIT */
/* Slurm/pdsh hostlists (the syntax of slurm.conf(5) NodeName and scontrol show hostnames):
 * "n[001-100,200]", several bracket groups per name (cartesian product), ',' at top level
 * between names. ':' is an ordinary name character, so "52:54:00:00:00:[01-04]" works. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostlist.h"
#include "parse.h"
#include "strbuf.h"

/* One bracket group, expanded: at most MAX_HOSTLIST_NAMES numbers. */
struct hl_group {
	size_t lit_start, lit_len; /* literal text before the '[' (offsets into s) */
	uint64_t *vals;
	unsigned char *widths; /* 0: no padding */
	size_t n;
};

struct hl_part {
	const char *s;    /* whole hostlist */
	size_t start, end; /* this name's bytes */
	struct hl_group *groups;
	size_t ngroups;
	size_t tail_start; /* literal text after the last ']' up to end */
};

static void
part_done(struct hl_part *p)
{
	for (size_t i = 0; i < p->ngroups; i++) {
		free(p->groups[i].vals);
		free(p->groups[i].widths);
	}
	free(p->groups);
	p->groups = NULL;
	p->ngroups = 0;
}

void
hostlist_done(struct hostlist *hl)
{
	if (!hl)
		return;
	for (size_t i = 0; i < hl->n; i++)
		free(hl->names[i]);
	free(hl->names);
	hl->names = NULL;
	hl->n = 0;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Quote this part of s for an error message. */
static const char *
part_quote(char buf[static QUOTE_BUF_SIZE], const struct hl_part *p)
{
	return parse_quote(buf, p->s + p->start, p->end - p->start);
}

static int
group_push(struct hl_group *g, size_t *cap, uint64_t v, unsigned width)
{
	if (g->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		uint64_t *nv = reallocarray(g->vals, ncap, sizeof(*nv));
		unsigned char *nw;

		if (!nv)
			return -ENOMEM;
		g->vals = nv;
		nw = reallocarray(g->widths, ncap, sizeof(*nw));
		if (!nw)
			return -ENOMEM;
		g->widths = nw;
		*cap = ncap;
	}
	g->vals[g->n] = v;
	g->widths[g->n] = (unsigned char)width;
	g->n++;
	return 0;
}

/* Parse the digits at s[*i..) as one range bound; *i moves past them. */
static int
parse_bound(const struct hl_part *p, size_t *i, uint64_t *ret_v, size_t *ret_len,
    struct dl_err *reterr)
{
	char q[QUOTE_BUF_SIZE], q2[QUOTE_BUF_SIZE];
	const char *s = p->s;
	size_t start = *i, n;
	uint64_t v = 0;

	for (n = 0; start + n < p->end && is_digit(s[start + n]); n++) {
		if (n == MAX_HOSTLIST_DIGITS)
			return dl_err_set(reterr, -EINVAL,
			    "hostlist '%s': number at offset %zu has more than %d digits",
			    part_quote(q, p), start, MAX_HOSTLIST_DIGITS);
		v = v * 10 + (uint64_t)(s[start + n] - '0');
	}
	if (n == 0) {
		if (s[start] == ',' || s[start] == ']' || s[start] == '-')
			return dl_err_set(reterr, -EINVAL,
			    "hostlist '%s': empty range at offset %zu", part_quote(q, p), start);
		return dl_err_set(reterr, -EINVAL,
		    "hostlist '%s': unexpected '%s' inside brackets at offset %zu",
		    part_quote(q, p), parse_quote(q2, s + start, 1),
		    start);
	}
	*i = start + n;
	*ret_v = v;
	*ret_len = n;
	return 0;
}

/* Parse "[...]" starting at s[*i] == '[' into g; *i moves past the ']'. */
static int
parse_group(const struct hl_part *p, size_t *i, size_t limit, struct hl_group *g,
    struct dl_err *reterr)
{
	char q[QUOTE_BUF_SIZE], q2[QUOTE_BUF_SIZE];
	const char *s = p->s;
	size_t open = *i, j = *i + 1, cap = 0;
	int r;

	for (;;) {
		size_t item = j, lo_len, hi_len;
		uint64_t lo, hi;
		unsigned width = 0;

		if (j >= p->end)
			goto unclosed;
		r = parse_bound(p, &j, &lo, &lo_len, reterr);
		if (r < 0)
			return r;
		hi = lo;
		hi_len = lo_len;
		if (j < p->end && s[j] == '-') {
			if (++j >= p->end)
				goto unclosed;
			r = parse_bound(p, &j, &hi, &hi_len, reterr);
			if (r < 0)
				return r;
			if (hi < lo)
				return dl_err_set(reterr, -EINVAL,
				    "hostlist '%s': reversed range '%s' at offset %zu",
				    part_quote(q, p), parse_quote(q2, s + item, j - item), item);
		}
		/* Zero padding: "001-100" and "01-100" both print every number as wide as
		 * the wider bound; "1-100" and a lone "0" print numbers as they are. */
		if (lo_len > 1 && s[item] == '0')
			width = (unsigned)(lo_len > hi_len ? lo_len : hi_len);
		if (hi - lo >= limit || g->n + (hi - lo) >= limit)
			return dl_err_set(reterr, -E2BIG,
			    "hostlist '%s' at offset %zu expands to more than %d names",
			    part_quote(q, p), p->start, MAX_HOSTLIST_NAMES);
		for (uint64_t v = lo;; v++) {
			r = group_push(g, &cap, v, width);
			if (r < 0)
				return r;
			if (v == hi)
				break;
		}
		if (j >= p->end)
			goto unclosed;
		if (s[j] == ']')
			break;
		if (s[j] != ',') {
			if (s[j] == '[')
				return dl_err_set(reterr, -EINVAL,
				    "hostlist '%s': nested '[' at offset %zu", part_quote(q, p), j);
			return dl_err_set(reterr, -EINVAL,
			    "hostlist '%s': unexpected '%s' inside brackets at offset %zu",
			    part_quote(q, p), parse_quote(q2, s + j, 1), j);
		}
		j++;
	}
	*i = j + 1;
	return 0;
unclosed:
	return dl_err_set(reterr, -EINVAL, "hostlist '%s': unclosed '[' at offset %zu",
	    part_quote(q, p), open);
}

/* Split one name into literal text and bracket groups; *ret_count is its expansion size,
 * at most limit (else -E2BIG). */
static int
parse_part(struct hl_part *p, size_t limit, size_t *ret_count, struct dl_err *reterr)
{
	char q[QUOTE_BUF_SIZE];
	const char *s = p->s;
	size_t i = p->start, lit = p->start, count = 1, name_len = 0, gcap = 0;
	int r;

	if (p->start == p->end)
		return dl_err_set(reterr, -EINVAL, "hostlist has an empty name at offset %zu",
		    p->start);
	while (i < p->end) {
		struct hl_group *g;
		size_t wmax = 0;

		if (s[i] == ']')
			return dl_err_set(reterr, -EINVAL,
			    "hostlist '%s': unmatched ']' at offset %zu", part_quote(q, p), i);
		if (s[i] != '[') {
			i++;
			continue;
		}
		if (p->ngroups == gcap) {
			size_t ncap = gcap ? gcap * 2 : 4;
			struct hl_group *ng = reallocarray(p->groups, ncap, sizeof(*ng));

			if (!ng)
				return -ENOMEM;
			p->groups = ng;
			gcap = ncap;
		}
		g = &p->groups[p->ngroups++];
		*g = (struct hl_group){ .lit_start = lit, .lit_len = i - lit };
		r = parse_group(p, &i, limit, g, reterr);
		if (r < 0)
			return r;
		lit = i;
		if (count > limit / g->n)
			return dl_err_set(reterr, -E2BIG,
			    "hostlist '%s' at offset %zu expands to more than %d names",
			    part_quote(q, p), p->start, MAX_HOSTLIST_NAMES);
		count *= g->n;
		for (size_t k = 0; k < g->n; k++) {
			size_t w = 1;

			for (uint64_t v = g->vals[k]; v >= 10; v /= 10)
				w++;
			if (g->widths[k] > w)
				w = g->widths[k];
			if (w > wmax)
				wmax = w;
		}
		name_len += g->lit_len + wmax;
	}
	p->tail_start = lit;
	name_len += p->end - lit;
	if (name_len > MAX_HOSTLIST_NAME_LEN)
		return dl_err_set(reterr, -E2BIG,
		    "hostlist '%s' at offset %zu makes names longer than %d characters",
		    part_quote(q, p), p->start, MAX_HOSTLIST_NAME_LEN);
	if (count > limit)
		return dl_err_set(reterr, -E2BIG,
		    "hostlist '%s' at offset %zu expands to more than %d names",
		    part_quote(q, p), p->start, MAX_HOSTLIST_NAMES);
	*ret_count = count;
	return 0;
}

/* Append the count names of p to names[*n..), odometer order: last group fastest. */
static int
part_expand(const struct hl_part *p, size_t count, char **names, size_t *n)
{
	_cleanup_free_ size_t *idx = calloc(p->ngroups + 1, sizeof(*idx));
	char buf[MAX_HOSTLIST_NAME_LEN + 1];

	if (!idx)
		return -ENOMEM;
	for (size_t c = 0; c < count; c++) {
		size_t o = 0;

		for (size_t k = 0; k < p->ngroups; k++) {
			const struct hl_group *g = &p->groups[k];
			int w;

			memcpy(buf + o, p->s + g->lit_start, g->lit_len);
			o += g->lit_len;
			/* parse_part() checked the longest name fits buf */
			w = snprintf(buf + o, sizeof(buf) - o, "%0*llu", g->widths[idx[k]],
			    (unsigned long long)g->vals[idx[k]]);
			o += (size_t)w;
		}
		memcpy(buf + o, p->s + p->tail_start, p->end - p->tail_start);
		o += p->end - p->tail_start;
		buf[o] = '\0';
		names[*n] = strdup(buf);
		if (!names[*n])
			return -ENOMEM;
		(*n)++;
		for (size_t k = p->ngroups; k-- > 0;) {
			if (++idx[k] < p->groups[k].n)
				break;
			idx[k] = 0;
		}
	}
	return 0;
}

int
hostlist_parse(const char *s, struct hostlist *ret, struct dl_err *reterr)
{
	struct hostlist hl = { 0 };
	size_t len, total = 0, cap = 0, start = 0;
	bool in_bracket = false;
	int r = 0;

	if (!s || !*s)
		return dl_err_set(reterr, -EINVAL, "hostlist is empty");
	len = strnlen(s, MAX_HOSTLIST_LEN + 1);
	if (len > MAX_HOSTLIST_LEN)
		return dl_err_set(reterr, -E2BIG, "hostlist is longer than %d bytes",
		    MAX_HOSTLIST_LEN);
	for (size_t i = 0; i <= len; i++) {
		struct hl_part p = { .s = s, .start = start, .end = i };
		size_t count = 0;

		if (i < len) {
			if (is_space(s[i])) {
				r = dl_err_set(reterr, -EINVAL, "hostlist has whitespace at offset %zu",
				    i);
				goto fail;
			}
			if (s[i] == '[')
				in_bracket = true;
			else if (s[i] == ']')
				in_bracket = false;
			if (in_bracket || s[i] != ',')
				continue;
		}
		/* A name ends at a top-level ',' or the end; its syntax is checked here. */
		r = parse_part(&p, MAX_HOSTLIST_NAMES - total, &count, reterr);
		if (r < 0) {
			part_done(&p);
			goto fail;
		}
		if (total + count > cap) {
			size_t ncap = cap ? cap : 16;
			char **nn;

			while (ncap < total + count)
				ncap *= 2;
			nn = reallocarray(hl.names, ncap, sizeof(*nn));
			if (!nn) {
				part_done(&p);
				r = -ENOMEM;
				goto fail;
			}
			hl.names = nn;
			cap = ncap;
		}
		r = part_expand(&p, count, hl.names, &hl.n);
		part_done(&p);
		if (r < 0)
			goto fail;
		total += count;
		start = i + 1;
		in_bracket = false;
	}
	*ret = hl;
	return 0;
fail:
	hostlist_done(&hl);
	if (r == -ENOMEM)
		return dl_err_set(reterr, -ENOMEM, "out of memory expanding hostlist");
	return r;
}

/* ---- compression ---- */

struct hc_entry {
	const char *name;
	size_t pre_len;   /* bytes before the last digit run */
	size_t dig_len;   /* 0: no usable number, the name stands alone */
	uint64_t val;
	size_t idx;       /* position in the input */
};

static const char *
entry_suffix(const struct hc_entry *e)
{
	return e->name + e->pre_len + e->dig_len;
}

/* Same group: same text around the number (or the same whole name, if it has none). */
static int
entry_cmp_key(const struct hc_entry *a, const struct hc_entry *b)
{
	int c;

	if ((a->dig_len == 0) != (b->dig_len == 0))
		return a->dig_len == 0 ? -1 : 1;
	if (a->dig_len == 0)
		return strcmp(a->name, b->name);
	if (a->pre_len != b->pre_len)
		return a->pre_len < b->pre_len ? -1 : 1;
	c = memcmp(a->name, b->name, a->pre_len);
	if (c)
		return c;
	return strcmp(entry_suffix(a), entry_suffix(b));
}

static int
entry_cmp(const void *pa, const void *pb)
{
	const struct hc_entry *a = pa, *b = pb;
	int c = entry_cmp_key(a, b);

	if (c)
		return c;
	/* Width first, then value: all numbers of one width are adjacent, so "08,09,10"
	 * and "8,9,10" each become one range. */
	if (a->dig_len != b->dig_len)
		return a->dig_len < b->dig_len ? -1 : 1;
	if (a->val != b->val)
		return a->val < b->val ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

struct hc_group {
	size_t first, n; /* entries[first..first+n) */
	size_t idx;      /* first appearance */
};

static int
group_cmp(const void *pa, const void *pb)
{
	const struct hc_group *a = pa, *b = pb;

	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* A number written without leading zeros ("0" included). */
static bool
entry_is_natural(const struct hc_entry *e)
{
	return e->dig_len == 1 || e->name[e->pre_len] != '0';
}

static void
emit_group(struct strbuf *b, const struct hc_entry *e, size_t n)
{
	if (e[0].dig_len == 0 || n == 1) {
		for (size_t i = 0; i < n; i++) {
			if (i)
				strbuf_add(b, ",", 1);
			strbuf_add(b, e[i].name, strlen(e[i].name));
		}
		return;
	}
	strbuf_add(b, e[0].name, e[0].pre_len);
	strbuf_add(b, "[", 1);
	for (size_t i = 0; i < n;) {
		bool natural = entry_is_natural(&e[i]);
		size_t j = i;

		/* Extend the run while hostlist_parse() would print the same strings: a
		 * padded run keeps one width, an unpadded run only unpadded numbers. */
		while (j + 1 < n && e[j + 1].val == e[j].val + 1 &&
		    (natural ? entry_is_natural(&e[j + 1]) : e[j + 1].dig_len == e[i].dig_len))
			j++;
		if (i)
			strbuf_add(b, ",", 1);
		strbuf_add(b, e[i].name + e[i].pre_len, e[i].dig_len);
		if (j > i) {
			strbuf_add(b, "-", 1);
			strbuf_add(b, e[j].name + e[j].pre_len, e[j].dig_len);
		}
		i = j + 1;
	}
	strbuf_add(b, "]", 1);
	strbuf_add(b, entry_suffix(&e[0]), strlen(entry_suffix(&e[0])));
}

char *
hostlist_compress(char *const *names, size_t n)
{
	_cleanup_free_ struct hc_entry *ent = NULL;
	_cleanup_free_ struct hc_group *grp = NULL;
	struct strbuf b = { 0 };
	size_t ngrp = 0;

	if (n == 0)
		return strdup("");
	ent = calloc(n, sizeof(*ent));
	grp = calloc(n, sizeof(*grp));
	if (!ent || !grp)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const char *s = names[i];
		size_t len = strlen(s), end = len, d;

		while (end > 0 && !is_digit(s[end - 1]))
			end--;
		d = end;
		while (d > 0 && is_digit(s[d - 1]))
			d--;
		ent[i] = (struct hc_entry){ .name = s, .pre_len = d, .dig_len = end - d, .idx = i };
		/* Too long to be a range bound: leave the name as it is. */
		if (ent[i].dig_len > MAX_HOSTLIST_DIGITS)
			ent[i].dig_len = 0;
		for (size_t k = 0; k < ent[i].dig_len; k++)
			ent[i].val = ent[i].val * 10 + (uint64_t)(s[d + k] - '0');
		if (ent[i].dig_len == 0)
			ent[i].pre_len = len;
	}
	qsort(ent, n, sizeof(*ent), entry_cmp);
	for (size_t i = 0; i < n; i++) {
		if (i == 0 || entry_cmp_key(&ent[i - 1], &ent[i]) != 0)
			grp[ngrp++] = (struct hc_group){ .first = i, .idx = ent[i].idx };
		grp[ngrp - 1].n++;
		if (ent[i].idx < grp[ngrp - 1].idx)
			grp[ngrp - 1].idx = ent[i].idx;
	}
	qsort(grp, ngrp, sizeof(*grp), group_cmp);
	strbuf_add(&b, "", 0);
	for (size_t g = 0; g < ngrp; g++) {
		if (g)
			strbuf_add(&b, ",", 1);
		emit_group(&b, ent + grp[g].first, grp[g].n);
	}
	if (b.oom) {
		strbuf_done(&b);
		return NULL;
	}
	return b.s;
}
