/* SPDX-License-Identifier: MIT */
/* The boot credential end to end, without a network: bootsvc's archive
 * (bootsvc/boot/credential.c, built on overlay.c's cpio writer) read back by the init's
 * cpio reader as the kernel would unpack it, then the init's credential_take()
 * (initramfs/credential.c): parsed, removed from the tree, bad ones refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tmpdir.h"
#include "../../bootsvc/boot/credential.h"
#include "../../initramfs/cpio.h"
#include "../../initramfs/credential.h"

#define TOK "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

struct seen {
	int n;
	char name[64];
	enum cpio_type type;
	uint32_t perm, uid;
	char data[256];
	size_t size;
};

static int
on_entry(const struct cpio_entry *e, void *userdata, struct init_err *reterr)
{
	struct seen *s = userdata;

	(void)reterr;
	s->n++;
	(void)snprintf(s->name, sizeof(s->name), "%s", e->name);
	s->type = e->type;
	s->perm = e->perm;
	s->uid = e->uid;
	assert_true(e->size < sizeof(s->data));
	memcpy(s->data, e->data, e->size);
	s->size = e->size;
	return 0;
}

/* The archive holds one root-owned 0400 file at the path the init takes it from. */
static void
test_archive(void **state)
{
	struct init_err e = { "" };
	struct seen s = { 0 };
	char tok[MAX_TOKEN_LEN + 1];
	char *buf = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(credential_cpio_build(TOK, &buf, &len), 0);
	assert_int_equal(len % 4, 0);  /* newc: members padded to 4, so archives concatenate */
	assert_int_equal(cpio_walk((const uint8_t *)buf, len, on_entry, &s, &e), 1);
	assert_int_equal(s.n, 1);
	assert_string_equal("/" CREDENTIAL_PATH, CREDENTIAL_FILE);
	assert_string_equal(s.name, CREDENTIAL_PATH);
	assert_int_equal(s.type, CPIO_FILE);
	assert_int_equal(s.perm, 0400);
	assert_int_equal(s.uid, 0);
	assert_int_equal(s.size, strlen("token=" TOK "\n"));
	assert_memory_equal(s.data, "token=" TOK "\n", s.size);
	assert_int_equal(credential_parse(s.data, s.size, tok, &e), 0);
	assert_string_equal(tok, TOK);
	free(buf);

	/* a token that cannot be one is not packed */
	char big[200];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(credential_cpio_build(big, &buf, &len), -EINVAL);
}

/* The gzip wrapper: one member, one stored block, the bytes unchanged, CRC-32 and size
 * in the trailer (RFC 1952, RFC 1951 §3.2.4). "123456789" has the CRC-32 check value
 * cbf43926. The kernel's gunzip and gzip(1) read it (tests/integ/init_boot.sh boots one
 * appended at an odd offset). */
static void
test_gzip(void **state)
{
	static const uint8_t want[] = {
		0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, /* header: deflate, no flags, Unix */
		0x01, 9, 0, 0xf6, 0xff,             /* final stored block, LEN 9, NLEN ~9 */
		'1', '2', '3', '4', '5', '6', '7', '8', '9',
		0x26, 0x39, 0xf4, 0xcb,             /* CRC-32 LE */
		9, 0, 0, 0,                         /* ISIZE */
	};
	char *out = NULL, *cpio = NULL;
	size_t len = 0, cpio_len = 0;

	(void)state;
	assert_int_equal(credential_gzip_stored("123456789", 9, &out, &len), 0);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(out, want, sizeof(want));
	free(out);
	/* empty, and the 64 KiB cap of one stored block */
	assert_int_equal(credential_gzip_stored("", 0, &out, &len), 0);
	assert_int_equal(len, 10 + 5 + 8);
	free(out);
	assert_int_equal(credential_gzip_stored(want, 0x10000, &out, &len), -E2BIG);
	/* the credential archive inside: bytes unchanged */
	assert_int_equal(credential_cpio_build(TOK, &cpio, &cpio_len), 0);
	assert_int_equal(credential_gzip_stored(cpio, cpio_len, &out, &len), 0);
	assert_int_equal(len, cpio_len + 23);
	assert_memory_equal(out + 15, cpio, cpio_len);
	free(out);
	free(cpio);
}

static const struct {
	int line;
	const char *s;
	int r;
	const char *msg;
} parse_rows[] = {
	{ __LINE__, "token=" TOK "\n", 0, NULL },
	{ __LINE__, "token=" TOK, 0, NULL },
	{ __LINE__, "# boot credential\n\ntoken=" TOK "\n\n", 0, NULL },
	{ __LINE__, "token=0123456789abcdef\n", 0, NULL },
	{ __LINE__, "", -EINVAL, "no token" },
	{ __LINE__, "\n# nothing\n", -EINVAL, "no token" },
	{ __LINE__, "token=" TOK "\ntoken=" TOK "\n", -EINVAL, "twice" },
	{ __LINE__, "token=0123456789ABCDEF\n", -EINVAL, "lowercase hex" },
	{ __LINE__, "token=0123456789abcde\n", -EINVAL, "16..128" },
	{ __LINE__, "token= " TOK "\n", -EINVAL, "lowercase hex" },
	{ __LINE__, "token=" TOK " \n", -EINVAL, "lowercase hex" },
	{ __LINE__, "tok=" TOK "\n", -EINVAL, "not token=" },
	{ __LINE__, "server=http://1.2.3.4\n", -EINVAL, "line 1" },
	{ __LINE__, "\ntoken=" TOK "\nx\n", -EINVAL, "line 3" },
};

static void
test_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(parse_rows) / sizeof(parse_rows[0]); i++) {
		struct init_err e = { "" };
		char tok[MAX_TOKEN_LEN + 1] = "";
		int r = credential_parse(parse_rows[i].s, strlen(parse_rows[i].s), tok, &e);

		_assert_int_equal(r, parse_rows[i].r, __FILE__, parse_rows[i].line);
		if (parse_rows[i].msg)
			_assert_true(strstr(e.msg, parse_rows[i].msg) != NULL, e.msg, __FILE__,
			    parse_rows[i].line);
		else
			_assert_true(strlen(tok) >= 16, "token", __FILE__, parse_rows[i].line);
	}
	/* a NUL inside, and more than the cap */
	{
		static const char nul[] = "token=0123456789abcdef\0ff\n";
		char big[MAX_CREDENTIAL + 2], tok[MAX_TOKEN_LEN + 1];
		struct init_err e = { "" };

		assert_int_equal(credential_parse(nul, sizeof(nul) - 1, tok, &e), -EINVAL);
		assert_non_null(strstr(e.msg, "NUL"));
		memset(big, '\n', sizeof(big));
		assert_int_equal(credential_parse(big, sizeof(big), tok, &e), -EFBIG);
	}
}

/* As the init takes it: read, and gone from the tree whatever it held. */
static void
test_take(void **state)
{
	char path[128], other[128], tok[MAX_TOKEN_LEN + 1];
	struct init_err e = { "" };
	struct stat st;

	(void)state;
	(void)snprintf(path, sizeof(path), "%s/dl-credential", tmpdir);
	(void)snprintf(other, sizeof(other), "%s/target", tmpdir);

	tmpdir_write(path, "token=" TOK "\n", strlen("token=" TOK "\n"), 0400, 0);
	assert_int_equal(credential_take(path, tok, &e), 0);
	assert_string_equal(tok, TOK);
	assert_int_equal(lstat(path, &st), -1);
	assert_int_equal(errno, ENOENT);

	/* none: -ENOENT, said so */
	assert_int_equal(credential_take(path, tok, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "dl-credential"));

	/* a bad one is refused and still removed */
	tmpdir_write(path, "token=XYZ\n", 10, 0400, 0);
	assert_int_equal(credential_take(path, tok, &e), -EINVAL);
	assert_int_equal(lstat(path, &st), -1);

	/* too big */
	{
		char big[MAX_CREDENTIAL + 100];

		memset(big, '#', sizeof(big));
		tmpdir_write(path, big, sizeof(big), 0400, 0);
		assert_int_equal(credential_take(path, tok, &e), -EINVAL);
		assert_int_equal(lstat(path, &st), -1);
	}

	/* a symlink is not followed, and removed (its target stays) */
	tmpdir_write(other, "token=" TOK "\n", strlen("token=" TOK "\n"), 0400, 0);
	assert_int_equal(symlink(other, path), 0);
	assert_true(credential_take(path, tok, &e) < 0);
	assert_int_equal(lstat(path, &st), -1);
	assert_int_equal(lstat(other, &st), 0);
	assert_int_equal(unlink(other), 0);

	/* a directory is no credential */
	assert_int_equal(mkdir(path, 0700), 0);
	assert_true(credential_take(path, tok, &e) < 0);
	(void)rmdir(path);
}

/* dl.cred=fetch: the init unwraps what GET .../credential answers, built here by
 * bootsvc's own builder; every damaged copy of it is refused with a reason. */
static void
test_unwrap(void **state)
{
	char *cpio = NULL, *gz = NULL, tok[MAX_TOKEN_LEN + 1];
	size_t cpio_len = 0, gz_len = 0;
	struct init_err e = { "" };
	uint8_t bad[1024];

	(void)state;
	assert_int_equal(credential_cpio_build(TOK, &cpio, &cpio_len), 0);
	assert_int_equal(credential_gzip_stored(cpio, cpio_len, &gz, &gz_len), 0);
	assert_int_equal(credential_unwrap((const uint8_t *)gz, gz_len, tok, &e), 0);
	assert_string_equal(tok, TOK);
	assert_true(gz_len <= sizeof(bad));

	/* each single-byte change anywhere is refused, never crashes */
	for (size_t i = 0; i < gz_len; i++) {
		memcpy(bad, gz, gz_len);
		bad[i] ^= 0x01;
		e.msg[0] = '\0';
		if (credential_unwrap(bad, gz_len, tok, &e) == 0) {
			/* only bytes the format does not cover: gzip MTIME/XFL/OS, cpio
			 * fields the reader does not hold against us (mtime, ino...) */
			assert_true((i >= 4 && i < 10) || (i >= 15 && i < gz_len - 8));
		} else {
			assert_true(e.msg[0] != '\0');
		}
	}
	/* cut short at every length */
	for (size_t n = 0; n < gz_len; n++)
		assert_true(credential_unwrap((const uint8_t *)gz, n, tok, &e) < 0);
	/* a trailing byte */
	memcpy(bad, gz, gz_len);
	bad[gz_len] = 0;
	assert_true(credential_unwrap(bad, gz_len + 1, tok, &e) < 0);
	/* a FNAME header flag */
	memcpy(bad, gz, gz_len);
	bad[3] = 0x08;
	assert_true(credential_unwrap(bad, gz_len, tok, &e) < 0);
	assert_non_null(strstr(e.msg, "optional header"));
	/* a CRC that does not match */
	memcpy(bad, gz, gz_len);
	bad[gz_len - 8] ^= 0xff;
	assert_true(credential_unwrap(bad, gz_len, tok, &e) < 0);
	assert_non_null(strstr(e.msg, "CRC-32"));
	free(gz);
	free(cpio);

	/* an archive with another member than the credential: the name changed */
	{
		char *p;

		assert_int_equal(credential_cpio_build(TOK, &cpio, &cpio_len), 0);
		p = memmem(cpio, cpio_len, "dl-credential", 13);
		assert_non_null(p);
		p[12] = 'X';
		assert_int_equal(credential_gzip_stored(cpio, cpio_len, &gz, &gz_len), 0);
		assert_true(credential_unwrap((const uint8_t *)gz, gz_len, tok, &e) < 0);
		assert_non_null(strstr(e.msg, "something other than"));
		free(gz);
		free(cpio);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_archive),
		cmocka_unit_test(test_gzip),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_take),
		cmocka_unit_test(test_unwrap),
	};
	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
