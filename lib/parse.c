/* SPDX-License-Identifier: MIT */
/* Strict parsers for values from outside (CONVENTIONS §8): whole string consumed, no sign,
 * range-checked, and every error message quotes the rejected value. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "parse.h"

#define Q(buf, s) parse_quote((buf), (s), strlen(s))

const char *
parse_quote(char buf[static QUOTE_BUF_SIZE], const char *s, size_t len)
{
	size_t i, o = 0;

	if (!s) {
		memcpy(buf, "(null)", sizeof("(null)"));
		return buf;
	}
	for (i = 0; i < len && s[i] && o < MAX_QUOTE_VALUE; i++) {
		unsigned char c = (unsigned char)s[i];

		buf[o++] = (c < 0x20 || c >= 0x7f || c == '\'' || c == '"' || c == '\\') ? '?'
		                                                                          : (char)c;
	}
	if (i < len && s[i]) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Digits s[0..len) -> *ret; false on an empty run, a non-digit or overflow. */
static bool
parse_digits(const char *s, size_t len, uint64_t *ret)
{
	uint64_t v = 0;

	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned d;

		if (!is_digit(s[i]))
			return false;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*ret = v;
	return true;
}

int
parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret, struct dl_err *reterr)
{
	char q[QUOTE_BUF_SIZE];
	uint64_t v;

	if (!s || !parse_digits(s, strlen(s), &v)) {
		/* Tell overflow apart from junk: a user who typed 30 digits wants to know. */
		if (s && *s && strspn(s, "0123456789") == strlen(s))
			return dl_err_set(reterr, -EINVAL, "number '%s' is too large", Q(q, s));
		return dl_err_set(reterr, -EINVAL, "'%s' is not an unsigned decimal number",
		    Q(q, s));
	}
	if (v < min || v > max)
		return dl_err_set(reterr, -EINVAL, "number '%s' is out of range %llu..%llu",
		    Q(q, s), (unsigned long long)min, (unsigned long long)max);
	*ret = v;
	return 0;
}

static const struct {
	const char *suffix;
	uint64_t ms;
} duration_units[] = {
	{ "ms", 1 },
	{ "s", 1000 },
	{ "m", 60 * 1000 },
	{ "h", 60 * 60 * 1000 },
	{ "d", 24 * 60 * 60 * 1000 },
	{ "", 1000 }, /* a bare number is seconds, like sleep(1) */
};

/* The decimal digits s starts with, a unit after them for the caller: their count and
 * value, or -EINVAL naming what (a "duration", a "size") was wrong. */
static int
leading_number(const char *what, const char *s, size_t *ret_ndig, uint64_t *ret,
    struct dl_err *reterr)
{
	char q[QUOTE_BUF_SIZE];

	if (!s)
		return dl_err_set(reterr, -EINVAL, "%s '(null)' is not valid", what);
	*ret_ndig = strspn(s, "0123456789");
	if (*ret_ndig == 0)
		return dl_err_set(reterr, -EINVAL, "%s '%s' does not start with a number", what,
		    Q(q, s));
	if (!parse_digits(s, *ret_ndig, ret))
		return dl_err_set(reterr, -EINVAL, "%s '%s' is too large", what, Q(q, s));
	return 0;
}

int
parse_duration_ms(const char *s, uint64_t *ret_ms, struct dl_err *reterr)
{
	char q[QUOTE_BUF_SIZE];
	size_t ndig;
	uint64_t v;
	int r;

	if ((r = leading_number("duration", s, &ndig, &v, reterr)) < 0)
		return r;
	for (size_t i = 0; i < ELEMENTSOF(duration_units); i++) {
		if (!streq(s + ndig, duration_units[i].suffix))
			continue;
		if (v > UINT64_MAX / duration_units[i].ms)
			return dl_err_set(reterr, -EINVAL, "duration '%s' is too large", Q(q, s));
		*ret_ms = v * duration_units[i].ms;
		return 0;
	}
	return dl_err_set(reterr, -EINVAL,
	    "duration '%s' has an unknown unit (use ms, s, m, h or d)", Q(q, s));
}

int
parse_size(const char *s, uint64_t *ret_bytes, struct dl_err *reterr)
{
	static const char units[] = "kmg";
	char q[QUOTE_BUF_SIZE];
	const char *u;
	size_t ndig;
	uint64_t v;
	int r;

	if ((r = leading_number("size", s, &ndig, &v, reterr)) < 0)
		return r;
	if (!s[ndig]) {
		*ret_bytes = v;
		return 0;
	}
	if (s[ndig + 1] || !(u = strchr(units, tolower((unsigned char)s[ndig]))))
		return dl_err_set(reterr, -EINVAL,
		    "size '%s' has an unknown unit (use k, m or g, or none for bytes)", Q(q, s));
	for (const char *p = units; p <= u; p++) {
		if (v > UINT64_MAX / 1024)
			return dl_err_set(reterr, -EINVAL, "size '%s' is too large", Q(q, s));
		v *= 1024;
	}
	*ret_bytes = v;
	return 0;
}

int
parse_bool(const char *s, bool *ret, struct dl_err *reterr)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	char q[QUOTE_BUF_SIZE];

	if (s) {
		for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
			if (strcasecmp(s, yes[i]) == 0) {
				*ret = true;
				return 0;
			}
			if (strcasecmp(s, no[i]) == 0) {
				*ret = false;
				return 0;
			}
		}
	}
	return dl_err_set(reterr, -EINVAL,
	    "'%s' is not a boolean (use yes/no, true/false, on/off, 1/0)", Q(q, s));
}

int
parse_mac(const char *s, struct mac_addr *ret, struct dl_err *reterr)
{
	char q[QUOTE_BUF_SIZE];
	struct mac_addr m;
	char sep;

	/* Exactly "xx?xx?xx?xx?xx?xx" with one separator throughout: "52:54-00..." is a typo,
	 * not a MAC, and single-digit octets are how two addresses get confused. */
	if (!s || strlen(s) != MAC_STR_LEN - 1 || (s[2] != ':' && s[2] != '-'))
		goto bad;
	sep = s[2];
	for (size_t i = 0; i < 6; i++) {
		const char *p = s + i * 3;
		int hi = hex_val(p[0]), lo = hex_val(p[1]);

		if (hi < 0 || lo < 0 || (i < 5 && p[2] != sep))
			goto bad;
		m.b[i] = (uint8_t)(hi << 4 | lo);
	}
	*ret = m;
	return 0;
bad:
	return dl_err_set(reterr, -EINVAL, "MAC '%s' is not six hex octets", Q(q, s));
}

const char *
mac_to_string(const struct mac_addr *m, char buf[static MAC_STR_LEN])
{
	static const char hex[] = "0123456789abcdef";

	/* "%02x:..." by hand: every script request writes its MAC so */
	for (size_t i = 0; i < 6; i++) {
		buf[i * 3] = hex[m->b[i] >> 4];
		buf[i * 3 + 1] = hex[m->b[i] & 15];
		buf[i * 3 + 2] = i < 5 ? ':' : '\0';
	}
	return buf;
}

int
parse_uuid(const char *s, char ret[static UUID_STR_LEN], struct dl_err *reterr)
{
	char q[QUOTE_BUF_SIZE], out[UUID_STR_LEN];

	if (!s || strlen(s) != UUID_STR_LEN - 1)
		goto bad;
	for (size_t i = 0; i < UUID_STR_LEN - 1; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash) {
			if (s[i] != '-')
				goto bad;
			out[i] = '-';
		} else {
			int v = hex_val(s[i]);

			if (v < 0)
				goto bad;
			out[i] = "0123456789abcdef"[v];
		}
	}
	out[UUID_STR_LEN - 1] = '\0';
	memcpy(ret, out, UUID_STR_LEN);
	return 0;
bad:
	return dl_err_set(reterr, -EINVAL, "UUID '%s' is not 8-4-4-4-12 hex digits", Q(q, s));
}

bool
hostname_is_valid(const char *s)
{
	size_t n;

	if (!s)
		return false;
	n = strlen(s);
	if (n == 0 || n > MAX_HOSTNAME || s[0] == '-' || s[n - 1] == '-')
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

bool
image_name_is_valid(const char *s)
{
	size_t n;

	if (!s)
		return false;
	n = strlen(s);
	if (n == 0 || n > 63)
		return false;
	if (strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789") == 0)
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

bool
serial_is_valid(const char *s)
{
	size_t n = 0;

	if (!s)
		return false;
	for (; s[n]; n++) {
		unsigned char c = (unsigned char)s[n];

		if (n >= 64 || c <= 0x20 || c >= 0x7f || strchr("'\"\\&?=/", c))
			return false;
	}
	return n > 0;
}

bool
sha256_hex_is_valid(const char *s)
{
	return s && strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

int
url_decode(const char *s, size_t len, char *buf, size_t size, struct dl_err *reterr)
{
	char q[QUOTE_BUF_SIZE];
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			if (len - i < 3 || hex_val(s[i + 1]) < 0 || hex_val(s[i + 2]) < 0)
				return dl_err_set(reterr, -EINVAL,
				    "value '%s' has a bad %%-escape at offset %zu",
				    parse_quote(q, s, len), i);
			c = hex_val(s[i + 1]) << 4 | hex_val(s[i + 2]);
			if (c == 0)
				return dl_err_set(reterr, -EINVAL,
				    "value '%s' contains %%00 at offset %zu",
				    parse_quote(q, s, len), i);
			i += 2;
		} else if (c == '+') {
			c = ' ';
		} else if (c == '\0') {
			return dl_err_set(reterr, -EINVAL, "value '%s' contains a NUL byte",
			    parse_quote(q, s, len));
		}
		if (o + 1 >= size)
			return dl_err_set(reterr, -E2BIG, "value '%s' is longer than %zu bytes",
			    parse_quote(q, s, len), size ? size - 1 : 0);
		buf[o++] = (char)c;
	}
	if (size == 0)
		return dl_err_set(reterr, -E2BIG, "no room to decode value '%s'",
		    parse_quote(q, s, len));
	buf[o] = '\0';
	return 0;
}

int
parse_ipv4(const char *s, uint32_t *ret_be, struct dl_err *reterr)
{
	char q[QUOTE_BUF_SIZE];
	const char *p = s;
	uint32_t addr = 0;

	if (!s)
		goto bad;
	for (int part = 0; part < 4; part++) {
		size_t n = strspn(p, "0123456789");
		uint64_t v;

		/* "010" would be octal 8 to inet_aton() and 10 to others: refuse to guess. */
		if (n == 0 || n > 3 || (n > 1 && p[0] == '0'))
			goto bad;
		if (!parse_digits(p, n, &v) || v > 255)
			goto bad;
		addr = addr << 8 | (uint32_t)v;
		p += n;
		if (part < 3) {
			if (*p != '.')
				goto bad;
			p++;
		}
	}
	if (*p)
		goto bad;
	*ret_be = htonl(addr);
	return 0;
bad:
	return dl_err_set(reterr, -EINVAL, "IPv4 address '%s' is not a dotted quad", Q(q, s));
}
