/* SPDX-License-Identifier: MIT */
/* SHA-256 (FIPS 180-4), libc only: the node's static init links this file too, so it
 * must not pull in anything beyond <stdint.h>/<string.h>. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_SIZE 32
/* 64 hex characters plus the NUL. */
#define SHA256_HEX_SIZE 65

struct sha256_ctx {
	uint32_t h[8];
	uint64_t len;      /* bytes hashed so far */
	uint8_t buf[64];
	size_t buf_len;
};

/* Use only the portable C compression function (true), or let the CPU decide again
 * (false). For tests, so both implementations meet the vectors. Returns whether the
 * SHA-NI one is now in use. Not thread-safe: call before hashing starts. */
bool sha256_use_portable(bool portable);

void sha256_init(struct sha256_ctx *c);
void sha256_update(struct sha256_ctx *c, const void *data, size_t len);
/* Write the digest into out; c must be sha256_init()ed again before reuse. */
void sha256_final(struct sha256_ctx *c, uint8_t out[static SHA256_DIGEST_SIZE]);

/* One-shot digest of data. */
void sha256_buf(const void *data, size_t len, uint8_t out[static SHA256_DIGEST_SIZE]);

/* Lowercase hex of a digest into hex (SHA256_HEX_SIZE bytes, NUL-terminated). Returns hex. */
char *sha256_to_hex(const uint8_t d[static SHA256_DIGEST_SIZE], char hex[static SHA256_HEX_SIZE]);

/* Hash everything readable from fd until EOF; *ret_size gets the byte count if not NULL.
 * Returns 0 or -errno from read(2). */
int sha256_fd(int fd, uint8_t out[static SHA256_DIGEST_SIZE], uint64_t *ret_size);
