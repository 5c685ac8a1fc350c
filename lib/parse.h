/* SPDX-License-Identifier: MIT */
/* Parsers for small values that come from outside: numbers, MACs, UUIDs, names, durations,
 * sizes.
 * Each consumes the whole string, range-checks, and on error returns -EINVAL (unless said
 * otherwise) and fills reterr quoting the value; ret is written only on success. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

struct mac_addr {
	uint8_t b[6];
};

/* "xx:xx:xx:xx:xx:xx" (also '-' separated, any case) -> 17 chars lowercase with ':' */
#define MAC_STR_LEN 18
/* RFC 4122 text form, 36 chars */
#define UUID_STR_LEN 37
/* RFC 1123 label: 63 chars */
#define MAX_HOSTNAME 63

/* Unsigned decimal, whole string, no sign, no leading '+', value in [min, max]. */
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret, struct dl_err *reterr);
/* Duration "250ms", "10s", "5m", "2h", "1d" or a bare number of seconds -> milliseconds. */
int parse_duration_ms(const char *s, uint64_t *ret_ms, struct dl_err *reterr);
/* Size "256k", "4m", "1g" (binary: KiB, MiB, GiB; either case) or a bare number of
 * bytes -> bytes. */
int parse_size(const char *s, uint64_t *ret_bytes, struct dl_err *reterr);
/* "yes/no/true/false/on/off/1/0" */
int parse_bool(const char *s, bool *ret, struct dl_err *reterr);

int parse_mac(const char *s, struct mac_addr *ret, struct dl_err *reterr);
/* Writes "52:54:00:00:00:01" into buf (MAC_STR_LEN bytes). Returns buf. */
const char *mac_to_string(const struct mac_addr *m, char buf[static MAC_STR_LEN]);

/* UUID: 8-4-4-4-12 hex, normalised to lowercase into ret (UUID_STR_LEN bytes). */
int parse_uuid(const char *s, char ret[static UUID_STR_LEN], struct dl_err *reterr);

/* A node/host name: RFC 1123 label, [a-z0-9-], not starting/ending with '-', 1..63 chars.
 * Uppercase is rejected rather than folded, so a name means one thing everywhere. */
bool hostname_is_valid(const char *s);
/* An image name: [a-z0-9][a-z0-9._-]{0,62} */
bool image_name_is_valid(const char *s);
/* The fewest hex digits of a content id that name a version (name@idprefix), even when
 * fewer are unique today: a reference written in a script must not turn ambiguous when
 * the next version is added, and 4 digits (65,536 values) keep that unlikely among the
 * few versions an image keeps (docs/images.md "Versions"). */
#define IMAGE_ID_PREFIX_MIN 4
/* A serial number or other token from firmware: printable ASCII without space, quote,
 * backslash, '&', '?', '=', '/' and at most 64 chars. */
bool serial_is_valid(const char *s);
/* 64 lowercase hex chars. */
bool sha256_hex_is_valid(const char *s);

/* Decode %XX and '+' of a URL query value into buf (size bytes incl. NUL). Rejects %00,
 * raw NUL bytes and bad escapes (-EINVAL) and results that do not fit (-E2BIG). */
int url_decode(const char *s, size_t len, char *buf, size_t size, struct dl_err *reterr);

/* IPv4 dotted quad, strict (no leading zeros surprises, 4 parts each 0..255). */
int parse_ipv4(const char *s, uint32_t *ret_be, struct dl_err *reterr);

/* Size of a buffer for parse_quote(): MAX_QUOTE_VALUE chars, "..." and the NUL. */
#define MAX_QUOTE_VALUE 64
#define QUOTE_BUF_SIZE (MAX_QUOTE_VALUE + 4)

/* Copy untrusted bytes s[0..len) into buf (QUOTE_BUF_SIZE bytes) for quoting in an error
 * message: control characters, bytes >= 0x80, quotes and backslashes become '?', a NUL
 * ends the copy, and more than MAX_QUOTE_VALUE chars are cut and marked "...". Returns buf. */
const char *parse_quote(char buf[static QUOTE_BUF_SIZE], const char *s, size_t len);
