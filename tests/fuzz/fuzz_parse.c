/* SPDX-License-Identifier: MIT */
/* The small parsers of lib/parse.h. The first byte picks the parser, the rest is its
 * input; each success is checked by a round trip through the canonical form. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hostlist.h"
#include "parse.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
	FUZZ_MAC,
	FUZZ_UUID,
	FUZZ_U64,
	FUZZ_DURATION,
	FUZZ_URL,
	FUZZ_IPV4,
	FUZZ_COMPRESS,
	FUZZ_PREDICATES,
	FUZZ_SIZE,
	FUZZ_PARSE_MAX,
};

static void
check_err(int r, const struct dl_err *e)
{
	if (r >= 0)
		return;
	if (e->code != r || !e->msg[0])
		abort();
}

static void
fuzz_mac(const char *s)
{
	struct dl_err e = { 0 };
	struct mac_addr m, m2;
	char buf[MAC_STR_LEN];
	int r = parse_mac(s, &m, &e);

	check_err(r, &e);
	if (r < 0)
		return;
	if (parse_mac(mac_to_string(&m, buf), &m2, NULL) < 0 || memcmp(&m, &m2, sizeof(m)))
		abort();
	if (s[2] == ':' && strcasecmp(buf, s) != 0)
		abort();
}

static void
fuzz_uuid(const char *s)
{
	struct dl_err e = { 0 };
	char u[UUID_STR_LEN], u2[UUID_STR_LEN];
	int r = parse_uuid(s, u, &e);

	check_err(r, &e);
	if (r < 0)
		return;
	if (strcasecmp(u, s) != 0 || parse_uuid(u, u2, NULL) < 0 || strcmp(u, u2) != 0)
		abort();
}

static void
fuzz_u64(const char *s)
{
	struct dl_err e = { 0 };
	char buf[32];
	uint64_t v;
	int r = parse_u64(s, 0, UINT64_MAX, &v, &e);

	check_err(r, &e);
	if (r < 0)
		return;
	/* the value prints back as the input without its leading zeros */
	while (s[0] == '0' && s[1])
		s++;
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	if (strcmp(buf, s) != 0)
		abort();
}

static void
fuzz_duration(const char *s)
{
	struct dl_err e = { 0 };
	uint64_t ms;

	check_err(parse_duration_ms(s, &ms, &e), &e);
}

/* A size that parses prints back as bytes and parses to the same value. */
static void
fuzz_size(const char *s)
{
	struct dl_err e = { 0 };
	uint64_t v, v2;
	char buf[24];
	int r = parse_size(s, &v, &e);

	check_err(r, &e);
	if (r < 0)
		return;
	(void)snprintf(buf, sizeof(buf), "%" PRIu64, v);
	if (parse_size(buf, &v2, NULL) < 0 || v2 != v)
		abort();
}

static void
fuzz_url(const uint8_t *data, size_t size)
{
	struct dl_err e = { 0 };
	char buf[256];
	size_t cap;
	int r;

	if (size < 1)
		return;
	cap = data[0]; /* 0..255: exercises the "does not fit" edge */
	r = url_decode((const char *)data + 1, size - 1, buf, cap, &e);
	check_err(r, &e);
	if (r == 0 && (strlen(buf) >= cap || strlen(buf) > size - 1))
		abort();
}

static void
fuzz_ipv4(const char *s)
{
	struct dl_err e = { 0 };
	char buf[INET_ADDRSTRLEN];
	uint32_t a;
	int r = parse_ipv4(s, &a, &e);

	check_err(r, &e);
	if (r < 0)
		return;
	/* strict form: exactly what inet_ntop() prints */
	if (!inet_ntop(AF_INET, &a, buf, sizeof(buf)) || strcmp(buf, s) != 0)
		abort();
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Newline-separated names; when all could come from hostlist_parse(), the compressed
 * form must parse back to the same multiset. */
static void
fuzz_compress(char *s)
{
	char *names[256], *save = NULL, *c;
	struct hostlist hl = { 0 };
	size_t n = 0;
	bool parseable = true;

	for (char *tok = strtok_r(s, "\n", &save); tok && n < ELEMENTSOF(names);
	    tok = strtok_r(NULL, "\n", &save)) {
		if (strlen(tok) > MAX_HOSTLIST_NAME_LEN || strpbrk(tok, ",[] \t\r\v\f"))
			parseable = false;
		names[n++] = tok;
	}
	c = hostlist_compress(names, n);
	if (!c)
		return;
	if (parseable && n > 0) {
		if (hostlist_parse(c, &hl, NULL) < 0 || hl.n != n)
			abort();
		qsort(names, n, sizeof(*names), cmp_str);
		qsort(hl.names, hl.n, sizeof(*hl.names), cmp_str);
		for (size_t i = 0; i < n; i++)
			if (strcmp(names[i], hl.names[i]) != 0)
				abort();
		hostlist_done(&hl);
	}
	free(c);
}

static void
fuzz_predicates(const char *s)
{
	bool b;

	(void)hostname_is_valid(s);
	(void)image_name_is_valid(s);
	(void)serial_is_valid(s);
	(void)sha256_hex_is_valid(s);
	(void)parse_bool(s, &b, NULL);
	if (hostname_is_valid(s) && strlen(s) > MAX_HOSTNAME)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size < 1 || size > 4096)
		return 0;
	if (data[0] % FUZZ_PARSE_MAX == FUZZ_URL) {
		fuzz_url(data + 1, size - 1); /* length-delimited, not a C string */
		return 0;
	}
	s = fuzz_cstr(data + 1, size - 1);
	if (!s)
		return 0;
	switch (data[0] % FUZZ_PARSE_MAX) {
	case FUZZ_MAC: fuzz_mac(s); break;
	case FUZZ_UUID: fuzz_uuid(s); break;
	case FUZZ_U64: fuzz_u64(s); break;
	case FUZZ_DURATION: fuzz_duration(s); break;
	case FUZZ_IPV4: fuzz_ipv4(s); break;
	case FUZZ_COMPRESS: fuzz_compress(s); break;
	case FUZZ_PREDICATES: fuzz_predicates(s); break;
	case FUZZ_SIZE: fuzz_size(s); break;
	default: break;
	}
	free(s);
	return 0;
}
