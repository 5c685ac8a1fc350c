/* SPDX-License-Identifier: MIT */
/* SHA-256 per FIPS 180-4 §6.2: a plain C compression function, and on x86-64 CPUs with
 * the SHA extensions (SHA-NI: every AMD Zen, Intel since Ice Lake) the same function in
 * those instructions, picked at run time. The C one runs at ~260 MB/s here, which made
 * hashing the rootfs a visible part of imagebuild (docs/benchmarks.md); SHA-NI is ~4x. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>
#define HAVE_SHANI_CODE 1
#endif

#include "sha256.h"

/* FIPS 180-4 §4.2.2: first 32 bits of the fractional parts of the cube roots of the
 * first 64 primes. */
static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
	0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
	0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
	0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
	0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
	0xc67178f2,
};

static inline uint32_t
ror(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

/* §4.1.2's functions; Ch and Maj in forms with one operation fewer. */
#define BSIG0(x) (ror(x, 2) ^ ror(x, 13) ^ ror(x, 22))
#define BSIG1(x) (ror(x, 6) ^ ror(x, 11) ^ ror(x, 25))
#define SSIG0(x) (ror(x, 7) ^ ror(x, 18) ^ ((x) >> 3))
#define SSIG1(x) (ror(x, 17) ^ ror(x, 19) ^ ((x) >> 10))
#define CH(e, f, g) ((g) ^ ((e) & ((f) ^ (g))))
#define MAJ(a, b, c) (((a) & (b)) | ((c) & ((a) | (b))))
/* Word i of the message schedule: the block's own for i < 16, then §6.2.2 step 1 computed
 * in place in a ring of the last 16. */
#define W_BLOCK(i) (w[i])
#define W_NEXT(i) (w[(i) & 15] += SSIG1(w[((i) - 2) & 15]) + w[((i) - 7) & 15] + \
	SSIG0(w[((i) - 15) & 15]))
/* One round, §6.2.2 step 3, with the eight working variables renamed rather than moved:
 * the caller passes them rotated by one each round. */
#define ROUND(a, b, c, d, e, f, g, h, i, W) do {                                  \
		uint32_t t1 = (h) + BSIG1(e) + CH(e, f, g) + K[i] + W(i);             \
		(d) += t1;                                                            \
		(h) = t1 + BSIG0(a) + MAJ(a, b, c);                                   \
	} while (0)
#define ROUNDS8(i, W) do {                                                        \
		ROUND(a, b, cc, d, e, f, g, h, (i), W);                               \
		ROUND(h, a, b, cc, d, e, f, g, (i) + 1, W);                           \
		ROUND(g, h, a, b, cc, d, e, f, (i) + 2, W);                           \
		ROUND(f, g, h, a, b, cc, d, e, (i) + 3, W);                           \
		ROUND(e, f, g, h, a, b, cc, d, (i) + 4, W);                           \
		ROUND(d, e, f, g, h, a, b, cc, (i) + 5, W);                           \
		ROUND(cc, d, e, f, g, h, a, b, (i) + 6, W);                           \
		ROUND(b, cc, d, e, f, g, h, a, (i) + 7, W);                           \
	} while (0)

/* Eight rounds unrolled with the variables renamed and the schedule kept to 16 words: no
 * moving all eight variables each round, no 64-word schedule written and read back. That
 * matters most where no SHA-NI is, above all a node's init under qemu's TCG, which hashes
 * the whole rootfs as it arrives (71 -> 86 MB/s there, 222 -> 262 natively;
 * docs/benchmarks.md, power-on to up). */
static void
sha256_block(struct sha256_ctx *c, const uint8_t *p)
{
	uint32_t w[16], a, b, cc, d, e, f, g, h;

	for (int i = 0; i < 16; i++) {
		uint32_t x;

		memcpy(&x, p + 4 * i, 4);
		w[i] = __builtin_bswap32(x); /* big-endian words, §3.1 */
	}
	a = c->h[0]; b = c->h[1]; cc = c->h[2]; d = c->h[3];
	e = c->h[4]; f = c->h[5]; g = c->h[6]; h = c->h[7];
	ROUNDS8(0, W_BLOCK);
	ROUNDS8(8, W_BLOCK);
	for (int i = 16; i < 64; i += 16) {
		ROUNDS8(i, W_NEXT);
		ROUNDS8(i + 8, W_NEXT);
	}
	c->h[0] += a; c->h[1] += b; c->h[2] += cc; c->h[3] += d;
	c->h[4] += e; c->h[5] += f; c->h[6] += g; c->h[7] += h;
}

#ifdef HAVE_SHANI_CODE
/* The message schedule and rounds of §6.2.2 in SHA-NI, four rounds per step. The state
 * lives as ABEF and CDGH halves, the layout sha256rnds2 works on. */
__attribute__((target("sha,sse4.1,ssse3"))) static void
blocks_shani(uint32_t h[8], const uint8_t *p, size_t n)
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
	__m128i st0, st1, tmp, msg, w[4], abef, cdgh;

	tmp = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[0]), 0xB1); /* CDAB */
	st1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[4]), 0x1B); /* EFGH */
	st0 = _mm_alignr_epi8(tmp, st1, 8);                                    /* ABEF */
	st1 = _mm_blend_epi16(st1, tmp, 0xF0);                                 /* CDGH */
	for (; n > 0; n--, p += 64) {
		abef = st0;
		cdgh = st1;
		for (int g = 0; g < 16; g++) {
			if (g < 4)
				w[g] = _mm_shuffle_epi8(
				    _mm_loadu_si128((const __m128i *)(p + 16 * g)), bswap);
			else /* W[t] from W[t-16], W[t-15], W[t-7], W[t-2] (§6.2.2 step 1) */
				w[g & 3] = _mm_sha256msg2_epu32(
				    _mm_add_epi32(_mm_sha256msg1_epu32(w[g & 3], w[(g + 1) & 3]),
					_mm_alignr_epi8(w[(g + 3) & 3], w[(g + 2) & 3], 4)),
				    w[(g + 3) & 3]);
			msg = _mm_add_epi32(w[g & 3], _mm_loadu_si128((const __m128i *)&K[4 * g]));
			st1 = _mm_sha256rnds2_epu32(st1, st0, msg);
			st0 = _mm_sha256rnds2_epu32(st0, st1, _mm_shuffle_epi32(msg, 0x0E));
		}
		st0 = _mm_add_epi32(st0, abef);
		st1 = _mm_add_epi32(st1, cdgh);
	}
	tmp = _mm_shuffle_epi32(st0, 0x1B);       /* FEBA */
	st1 = _mm_shuffle_epi32(st1, 0xB1);       /* DCHG */
	st0 = _mm_blend_epi16(tmp, st1, 0xF0);    /* DCBA */
	st1 = _mm_alignr_epi8(st1, tmp, 8);       /* HGFE */
	_mm_storeu_si128((__m128i *)&h[0], st0);
	_mm_storeu_si128((__m128i *)&h[4], st1);
}

/* 0 unknown, 1 yes, 2 no; a race only repeats the same cpuid. */
static int shani_state;

static bool
have_shani(void)
{
	int cached = shani_state;
	unsigned a, b, c, d;

	if (!cached) {
		bool ok = __get_cpuid(1, &a, &b, &c, &d) && (c & bit_SSSE3) && (c & bit_SSE4_1) &&
		    __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_SHA);
		cached = ok ? 1 : 2;
		shani_state = cached;
	}
	return cached == 1;
}
#endif

bool
sha256_use_portable(bool portable)
{
#ifdef HAVE_SHANI_CODE
	shani_state = 0;
	if (portable)
		shani_state = 2;
	return have_shani();
#else
	(void)portable;
	return false;
#endif
}

static void
blocks(struct sha256_ctx *c, const uint8_t *p, size_t n)
{
#ifdef HAVE_SHANI_CODE
	if (have_shani()) {
		blocks_shani(c->h, p, n);
		return;
	}
#endif
	for (; n > 0; n--, p += 64)
		sha256_block(c, p);
}

void
sha256_init(struct sha256_ctx *c)
{
	/* FIPS 180-4 §5.3.3 */
	static const uint32_t iv[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};
	memcpy(c->h, iv, sizeof(iv));
	c->len = 0;
	c->buf_len = 0;
}

void
sha256_update(struct sha256_ctx *c, const void *data, size_t len)
{
	const uint8_t *p = data;

	c->len += len;
	if (c->buf_len) {
		size_t n = 64 - c->buf_len < len ? 64 - c->buf_len : len;
		memcpy(c->buf + c->buf_len, p, n);
		c->buf_len += n;
		p += n;
		len -= n;
		if (c->buf_len < 64)
			return;
		blocks(c, c->buf, 1);
		c->buf_len = 0;
	}
	if (len >= 64) {
		blocks(c, p, len / 64);
		p += len / 64 * 64;
		len %= 64;
	}
	if (len) {
		memcpy(c->buf, p, len);
		c->buf_len = len;
	}
}

void
sha256_final(struct sha256_ctx *c, uint8_t out[static SHA256_DIGEST_SIZE])
{
	uint64_t bits = c->len * 8;
	int i;

	/* §5.1.1: a 1 bit, zeros to 56 mod 64, then the length in bits, big-endian. */
	c->buf[c->buf_len++] = 0x80;
	if (c->buf_len > 56) {
		memset(c->buf + c->buf_len, 0, 64 - c->buf_len);
		sha256_block(c, c->buf);
		c->buf_len = 0;
	}
	memset(c->buf + c->buf_len, 0, 56 - c->buf_len);
	for (i = 0; i < 8; i++)
		c->buf[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
	sha256_block(c, c->buf);
	for (i = 0; i < 8; i++) {
		out[4 * i] = (uint8_t)(c->h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(c->h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(c->h[i] >> 8);
		out[4 * i + 3] = (uint8_t)c->h[i];
	}
}

void
sha256_buf(const void *data, size_t len, uint8_t out[static SHA256_DIGEST_SIZE])
{
	struct sha256_ctx c;

	sha256_init(&c);
	sha256_update(&c, data, len);
	sha256_final(&c, out);
}

char *
sha256_to_hex(const uint8_t d[static SHA256_DIGEST_SIZE], char hex[static SHA256_HEX_SIZE])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < SHA256_DIGEST_SIZE; i++) {
		hex[2 * i] = digits[d[i] >> 4];
		hex[2 * i + 1] = digits[d[i] & 15];
	}
	hex[64] = '\0';
	return hex;
}

int
sha256_fd(int fd, uint8_t out[static SHA256_DIGEST_SIZE], uint64_t *ret_size)
{
	/* 64 KiB: large enough to amortise the syscall, small enough for the init's stack. */
	uint8_t buf[65536];
	struct sha256_ctx c;
	uint64_t total = 0;

	sha256_init(&c);
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno > 0 ? -errno : -EIO;
		}
		if (n == 0)
			break;
		sha256_update(&c, buf, (size_t)n);
		total += (uint64_t)n;
	}
	sha256_final(&c, out);
	if (ret_size)
		*ret_size = total;
	return 0;
}
