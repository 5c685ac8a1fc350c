/* SPDX-License-Identifier: MIT */
/* lib/sha256.c against the NIST vectors: FIPS 180-4 examples (SHA256.pdf, "abc" and the
 * two-block message) and the CAVS SHA256ShortMsg/LongMsg style edge lengths, plus the
 * one-million-'a' vector of FIPS 180-2 Appendix B.3. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sha256.h"

static const struct {
	const char *in;
	const char *hex;
} vectors[] = {
	/* FIPS 180-2 B.1 / NIST example "abc" */
	{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	/* empty message (CAVS ShortMsg Len = 0) */
	{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
	/* FIPS 180-2 B.2: 448 bits, padding spills into a second block */
	{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	/* NIST example 896-bit message */
	{ "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
	  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
};

static void
hex_of(const void *d, size_t n, char hex[static SHA256_HEX_SIZE])
{
	uint8_t out[SHA256_DIGEST_SIZE];

	sha256_buf(d, n, out);
	sha256_to_hex(out, hex);
}

static void
test_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		char hex[SHA256_HEX_SIZE];
		hex_of(vectors[i].in, strlen(vectors[i].in), hex);
		assert_string_equal(hex, vectors[i].hex);
	}
}

/* Feeding in odd chunk sizes must give the one-shot digest (buffering across blocks). */
static void
test_chunked(void **state)
{
	static const size_t chunks[] = { 1, 3, 63, 64, 65, 127, 1000 };
	const char *msg = vectors[3].in;
	size_t len = strlen(msg);

	(void)state;
	for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
		struct sha256_ctx ctx;
		uint8_t out[SHA256_DIGEST_SIZE];
		char hex[SHA256_HEX_SIZE];

		sha256_init(&ctx);
		for (size_t off = 0; off < len; off += chunks[c])
			sha256_update(&ctx, msg + off, off + chunks[c] > len ? len - off : chunks[c]);
		sha256_final(&ctx, out);
		assert_string_equal(sha256_to_hex(out, hex), vectors[3].hex);
	}
}

/* FIPS 180-2 B.3: one million 'a', hashed through sha256_fd from a pipe. */
static void
test_million_a_fd(void **state)
{
	static char buf[1000];
	uint8_t out[SHA256_DIGEST_SIZE];
	char hex[SHA256_HEX_SIZE];
	uint64_t size = 0;
	int p[2];

	(void)state;
	memset(buf, 'a', sizeof(buf));
	assert_int_equal(pipe(p), 0);
	if (fork() == 0) {
		close(p[0]);
		for (int i = 0; i < 1000; i++)
			if (write(p[1], buf, sizeof(buf)) != (ssize_t)sizeof(buf))
				_exit(1);
		_exit(0);
	}
	close(p[1]);
	assert_int_equal(sha256_fd(p[0], out, &size), 0);
	close(p[0]);
	assert_int_equal(size, 1000000);
	assert_string_equal(sha256_to_hex(out, hex),
	    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_chunked),
		cmocka_unit_test(test_million_a_fd),
	};
	int failed;

	/* Both compression functions: SHA-NI where the CPU has it, then the portable one
	 * (the only one where it has not, e.g. a node under qemu TCG). */
	print_message("sha256: SHA-NI %s\n", sha256_use_portable(false) ? "in use" : "absent");
	failed = cmocka_run_group_tests_name("sha256 (cpu's best)", tests, NULL, NULL);
	if (sha256_use_portable(true))
		return 1; /* could not switch to the portable one */
	return failed + cmocka_run_group_tests_name("sha256 (portable)", tests, NULL, NULL);
}
