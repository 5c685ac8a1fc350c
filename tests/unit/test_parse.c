/* SPDX-License-Identifier: MIT */
/* lib/parse.c: table-driven, every vector carries its __LINE__ so a failure points at it. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "check_r.h"
#include "parse.h"

/* r and the message against the vector: want_r, and want_msg as a substring. */
static void
check_result_at(const char *file, int line, const char *what, int r, const struct dl_err *e,
    int want_r, const char *want_msg)
{
	check_r_at(file, line, what, r, e, want_r, want_msg);
	if (want_msg)
		_assert_true(strstr(e->msg, want_msg) != NULL, "message names the input", file,
		    line);
	if (r < 0) {
		_assert_int_equal(e->code, r, file, line);
		_assert_true(e->file != NULL && e->line > 0, "error site recorded", file, line);
	}
}

/* parse_u64: decimal only (CONVENTIONS §8: no sign surprises, whole string). */
static const struct {
	int line;
	const char *s;
	uint64_t min, max, want;
	const char *err; /* NULL: success */
} u64_vectors[] = {
	{ __LINE__, "0", 0, 10, 0, NULL },
	{ __LINE__, "10", 0, 10, 10, NULL },
	{ __LINE__, "007", 0, 10, 7, NULL },
	{ __LINE__, "18446744073709551615", 0, UINT64_MAX, UINT64_MAX, NULL }, /* 2^64-1 */
	{ __LINE__, "18446744073709551616", 0, UINT64_MAX, 0, "number '18446744073709551616' is too large" },
	{ __LINE__, "99999999999999999999999", 0, UINT64_MAX, 0, "too large" },
	{ __LINE__, "11", 0, 10, 0, "number '11' is out of range 0..10" },
	{ __LINE__, "4", 5, 10, 0, "number '4' is out of range 5..10" },
	{ __LINE__, "", 0, 10, 0, "'' is not an unsigned decimal number" },
	{ __LINE__, "-1", 0, 10, 0, "'-1' is not an unsigned decimal number" },
	{ __LINE__, "+1", 0, 10, 0, "'+1' is not" },
	{ __LINE__, " 1", 0, 10, 0, "' 1' is not" },
	{ __LINE__, "1 ", 0, 10, 0, "'1 ' is not" },
	{ __LINE__, "0x10", 0, 100, 0, "'0x10' is not" },
	{ __LINE__, "1e3", 0, 10000, 0, "'1e3' is not" },
	{ __LINE__, "1\n", 0, 10, 0, "'1?' is not" }, /* control chars never reach a log raw */
};

static void
test_u64(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(u64_vectors); i++) {
		struct dl_err e = { 0 };
		uint64_t v = 12345;
		int r = parse_u64(u64_vectors[i].s, u64_vectors[i].min, u64_vectors[i].max, &v, &e);

		check_result_at(__FILE__, u64_vectors[i].line, "parse_u64", r,
		    &e, u64_vectors[i].err ? -EINVAL : 0, u64_vectors[i].err);
		/* ret is written only on success */
		_assert_int_equal(v, u64_vectors[i].err ? 12345 : u64_vectors[i].want, __FILE__,
		    u64_vectors[i].line);
	}
	/* NULL reterr is allowed: callers that only want the code. */
	assert_int_equal(parse_u64("x", 0, 1, &(uint64_t){ 0 }, NULL), -EINVAL);
}

/* parse_duration_ms: units from lib/parse.h; a bare number is seconds. */
static const struct {
	int line;
	const char *s;
	uint64_t want;
	const char *err;
} duration_vectors[] = {
	{ __LINE__, "250ms", 250, NULL },
	{ __LINE__, "10s", 10000, NULL },
	{ __LINE__, "5m", 300000, NULL },
	{ __LINE__, "2h", 7200000, NULL },
	{ __LINE__, "1d", 86400000, NULL },
	{ __LINE__, "30", 30000, NULL },
	{ __LINE__, "0", 0, NULL },
	{ __LINE__, "0ms", 0, NULL },
	{ __LINE__, "18446744073709551615ms", UINT64_MAX, NULL },
	{ __LINE__, "18446744073709551615s", 0, "duration '18446744073709551615s' is too large" },
	{ __LINE__, "213503982334602d", 0, "is too large" }, /* > 2^64 ms */
	{ __LINE__, "", 0, "duration '' does not start with a number" },
	{ __LINE__, "ms", 0, "duration 'ms' does not start with a number" },
	{ __LINE__, "-5s", 0, "duration '-5s' does not start" },
	{ __LINE__, "1.5s", 0, "duration '1.5s' has an unknown unit" },
	{ __LINE__, "10 s", 0, "duration '10 s' has an unknown unit" },
	{ __LINE__, "10S", 0, "unknown unit" },
	{ __LINE__, "10sec", 0, "unknown unit" },
	{ __LINE__, "5y", 0, "duration '5y' has an unknown unit" },
};

static void
test_duration(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(duration_vectors); i++) {
		struct dl_err e = { 0 };
		uint64_t v = 1;
		int r = parse_duration_ms(duration_vectors[i].s, &v, &e);

		check_result_at(__FILE__, duration_vectors[i].line, "parse_duration_ms", r, &e,
		    duration_vectors[i].err ? -EINVAL : 0, duration_vectors[i].err);
		_assert_int_equal(v, duration_vectors[i].err ? 1 : duration_vectors[i].want,
		    __FILE__, duration_vectors[i].line);
	}
}

/* parse_size: binary units k, m, g in either case; a bare number is bytes. */
static const struct {
	int line;
	const char *s;
	uint64_t want;
	const char *err;
} size_vectors[] = {
	{ __LINE__, "256k", 262144, NULL },
	{ __LINE__, "256K", 262144, NULL },
	{ __LINE__, "4m", 4194304, NULL },
	{ __LINE__, "1G", 1073741824, NULL },
	{ __LINE__, "4096", 4096, NULL },
	{ __LINE__, "0", 0, NULL },
	{ __LINE__, "0k", 0, NULL },
	{ __LINE__, "18446744073709551615", UINT64_MAX, NULL },
	{ __LINE__, "18014398509481983k", 18014398509481983ULL * 1024, NULL },
	{ __LINE__, "18014398509481984k", 0, "size '18014398509481984k' is too large" },
	{ __LINE__, "17179869184g", 0, "is too large" },
	{ __LINE__, "18446744073709551616", 0, "is too large" },
	{ __LINE__, "", 0, "size '' does not start with a number" },
	{ __LINE__, "k", 0, "size 'k' does not start with a number" },
	{ __LINE__, "-1k", 0, "does not start with a number" },
	{ __LINE__, "1.5m", 0, "size '1.5m' has an unknown unit" },
	{ __LINE__, "256kb", 0, "unknown unit" },
	{ __LINE__, "256 k", 0, "unknown unit" },
	{ __LINE__, "256t", 0, "unknown unit" },
};

static void
test_size(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(size_vectors); i++) {
		struct dl_err e = { 0 };
		uint64_t v = 1;
		int r = parse_size(size_vectors[i].s, &v, &e);

		check_result_at(__FILE__, size_vectors[i].line, "parse_size", r, &e,
		    size_vectors[i].err ? -EINVAL : 0, size_vectors[i].err);
		_assert_int_equal(v, size_vectors[i].err ? 1 : size_vectors[i].want,
		    __FILE__, size_vectors[i].line);
	}
}

/* parse_bool: the spellings listed in lib/parse.h, any case (config files write "Yes"). */
static const struct {
	int line;
	const char *s;
	int want; /* -1: error */
} bool_vectors[] = {
	{ __LINE__, "yes", 1 }, { __LINE__, "true", 1 }, { __LINE__, "on", 1 },
	{ __LINE__, "1", 1 },   { __LINE__, "YES", 1 },  { __LINE__, "no", 0 },
	{ __LINE__, "false", 0 }, { __LINE__, "off", 0 }, { __LINE__, "0", 0 },
	{ __LINE__, "Off", 0 },  { __LINE__, "", -1 },    { __LINE__, "y", -1 },
	{ __LINE__, "2", -1 },   { __LINE__, "yes ", -1 }, { __LINE__, "enable", -1 },
};

static void
test_bool(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(bool_vectors); i++) {
		struct dl_err e = { 0 };
		bool v = false;
		char want[64];
		int r = parse_bool(bool_vectors[i].s, &v, &e);

		(void)snprintf(want, sizeof(want), "'%s' is not a boolean", bool_vectors[i].s);
		check_result_at(__FILE__, bool_vectors[i].line, "parse_bool", r, &e,
		    bool_vectors[i].want < 0 ? -EINVAL : 0,
		    bool_vectors[i].want < 0 ? want : NULL);
		if (bool_vectors[i].want >= 0)
			_assert_int_equal(v, bool_vectors[i].want, __FILE__, bool_vectors[i].line);
	}
}

/* parse_mac: ':' or '-' separated, any case (what iPXE's ${mac} and `ip link` print);
 * the error text is the one CONVENTIONS §4 uses as its example. */
static const struct {
	int line;
	const char *s;
	const char *want; /* normalised, or NULL for an error */
} mac_vectors[] = {
	{ __LINE__, "52:54:00:00:00:01", "52:54:00:00:00:01" },
	{ __LINE__, "52:54:00:AB:cd:Ef", "52:54:00:ab:cd:ef" },
	{ __LINE__, "52-54-00-12-34-56", "52:54:00:12:34:56" },
	{ __LINE__, "ff:ff:ff:ff:ff:ff", "ff:ff:ff:ff:ff:ff" },
	{ __LINE__, "52:54:00:zz:00:01", NULL },
	{ __LINE__, "52:54:00:00:00", NULL },
	{ __LINE__, "52:54:00:00:00:01:02", NULL },
	{ __LINE__, "52:54-00:00:00:01", NULL }, /* mixed separators */
	{ __LINE__, "5254.0000.0001", NULL },     /* Cisco dotted form: not accepted */
	{ __LINE__, "525400000001", NULL },
	{ __LINE__, "2:54:00:00:00:01:", NULL },
	{ __LINE__, "52:54:00:00:00:1", NULL },
	{ __LINE__, "", NULL },
	{ __LINE__, " 52:54:00:00:00:01", NULL },
};

static void
test_mac(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(mac_vectors); i++) {
		struct dl_err e = { 0 };
		struct mac_addr m = { { 9, 9, 9, 9, 9, 9 } };
		char buf[MAC_STR_LEN], want[96];
		int r = parse_mac(mac_vectors[i].s, &m, &e);

		(void)snprintf(want, sizeof(want), "MAC '%s' is not six hex octets",
		    mac_vectors[i].s);
		check_result_at(__FILE__, mac_vectors[i].line, "parse_mac", r, &e,
		    mac_vectors[i].want ? 0 : -EINVAL, mac_vectors[i].want ? NULL : want);
		if (mac_vectors[i].want)
			_assert_string_equal(mac_to_string(&m, buf), mac_vectors[i].want, __FILE__,
			    mac_vectors[i].line);
		else
			_assert_int_equal(m.b[0], 9, __FILE__, mac_vectors[i].line);
	}
}

/* parse_uuid: RFC 4122 §3 text form; SMBIOS UUIDs from iPXE's ${uuid} come uppercase. */
static const struct {
	int line;
	const char *s;
	const char *want;
} uuid_vectors[] = {
	{ __LINE__, "123e4567-e89b-12d3-a456-426614174000", "123e4567-e89b-12d3-a456-426614174000" },
	{ __LINE__, "123E4567-E89B-12D3-A456-426614174ABC", "123e4567-e89b-12d3-a456-426614174abc" },
	{ __LINE__, "00000000-0000-0000-0000-000000000000", "00000000-0000-0000-0000-000000000000" },
	{ __LINE__, "123e4567e89b12d3a456426614174000", NULL },
	{ __LINE__, "123e4567-e89b-12d3-a456-42661417400", NULL },
	{ __LINE__, "123e4567-e89b-12d3-a456-4266141740000", NULL },
	{ __LINE__, "{123e4567-e89b-12d3-a456-426614174000}", NULL },
	{ __LINE__, "123e4567-e89b-12d3-a456_426614174000", NULL },
	{ __LINE__, "g23e4567-e89b-12d3-a456-426614174000", NULL },
	{ __LINE__, "", NULL },
};

static void
test_uuid(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(uuid_vectors); i++) {
		struct dl_err e = { 0 };
		char out[UUID_STR_LEN] = "untouched", want[96];
		int r = parse_uuid(uuid_vectors[i].s, out, &e);

		(void)snprintf(want, sizeof(want), "UUID '%s' is not", uuid_vectors[i].s);
		check_result_at(__FILE__, uuid_vectors[i].line, "parse_uuid", r, &e,
		    uuid_vectors[i].want ? 0 : -EINVAL, uuid_vectors[i].want ? NULL : want);
		_assert_string_equal(out, uuid_vectors[i].want ? uuid_vectors[i].want : "untouched",
		    __FILE__, uuid_vectors[i].line);
	}
}

/* The predicates: RFC 1123 §2.1 labels, our image names, firmware serials, sha256 hex. */
static const struct {
	int line;
	bool (*fn)(const char *);
	const char *s;
	bool want;
} pred_vectors[] = {
	{ __LINE__, hostname_is_valid, "n001", true },
	{ __LINE__, hostname_is_valid, "0n", true },
	{ __LINE__, hostname_is_valid, "a-b", true },
	{ __LINE__, hostname_is_valid, "a", true },
	{ __LINE__, hostname_is_valid, "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij123", true },
	{ __LINE__, hostname_is_valid, "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij1234", false },
	{ __LINE__, hostname_is_valid, "", false },
	{ __LINE__, hostname_is_valid, "-n1", false },
	{ __LINE__, hostname_is_valid, "n1-", false },
	{ __LINE__, hostname_is_valid, "N1", false }, /* uppercase rejected, not folded */
	{ __LINE__, hostname_is_valid, "n1.example", false },
	{ __LINE__, hostname_is_valid, "n_1", false },
	{ __LINE__, hostname_is_valid, NULL, false },
	{ __LINE__, image_name_is_valid, "compute", true },
	{ __LINE__, image_name_is_valid, "compute-2.1_x", true },
	{ __LINE__, image_name_is_valid, "0", true },
	{ __LINE__, image_name_is_valid, ".hidden", false },
	{ __LINE__, image_name_is_valid, "-x", false },
	{ __LINE__, image_name_is_valid, "a/b", false },
	{ __LINE__, image_name_is_valid, "Compute", false },
	{ __LINE__, image_name_is_valid, "", false },
	{ __LINE__, image_name_is_valid, "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij123", true },
	{ __LINE__, image_name_is_valid, "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij1234", false },
	{ __LINE__, serial_is_valid, "CZ1234ABCD", true },
	{ __LINE__, serial_is_valid, "To.Be.Filled-By.O.E.M.", true },
	{ __LINE__, serial_is_valid, "a b", false },
	{ __LINE__, serial_is_valid, "a&b=c", false },
	{ __LINE__, serial_is_valid, "a/b", false },
	{ __LINE__, serial_is_valid, "a'b", false },
	{ __LINE__, serial_is_valid, "a\x01", false },
	{ __LINE__, serial_is_valid, "\xc3\xa9", false },
	{ __LINE__, serial_is_valid, "", false },
	{ __LINE__, serial_is_valid, "0123456789012345678901234567890123456789012345678901234567890123", true },
	{ __LINE__, serial_is_valid, "01234567890123456789012345678901234567890123456789012345678901234", false },
	/* sha256("") from FIPS 180-4 examples */
	{ __LINE__, sha256_hex_is_valid, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", true },
	{ __LINE__, sha256_hex_is_valid, "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", false },
	{ __LINE__, sha256_hex_is_valid, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85", false },
	{ __LINE__, sha256_hex_is_valid, "", false },
};

static void
test_predicates(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(pred_vectors); i++)
		_assert_int_equal(pred_vectors[i].fn(pred_vectors[i].s), pred_vectors[i].want,
		    __FILE__, pred_vectors[i].line);
}

/* url_decode: application/x-www-form-urlencoded (WHATWG URL §5.1), as iPXE sends
 * ${serial} and friends; %00 refused since the result is a C string. */
static const struct {
	int line;
	const char *s;
	size_t size;
	const char *want;
	int err;
	const char *msg;
} url_vectors[] = {
	{ __LINE__, "abc", 16, "abc", 0, NULL },
	{ __LINE__, "", 16, "", 0, NULL },
	{ __LINE__, "a+b", 16, "a b", 0, NULL },
	{ __LINE__, "a%20b", 16, "a b", 0, NULL },
	{ __LINE__, "%2f%2F", 16, "//", 0, NULL },
	{ __LINE__, "%41%42%43", 4, "ABC", 0, NULL },    /* exactly fits with NUL */
	{ __LINE__, "%41%42%43", 3, NULL, -E2BIG, "value '%41%42%43' is longer than 2 bytes" },
	{ __LINE__, "abc", 0, NULL, -E2BIG, "value 'abc'" },
	{ __LINE__, "a%00b", 16, NULL, -EINVAL, "value 'a%00b' contains %00 at offset 1" },
	{ __LINE__, "a%2", 16, NULL, -EINVAL, "value 'a%2' has a bad %-escape at offset 1" },
	{ __LINE__, "a%", 16, NULL, -EINVAL, "bad %-escape at offset 1" },
	{ __LINE__, "%zz", 16, NULL, -EINVAL, "value '%zz' has a bad %-escape at offset 0" },
	{ __LINE__, "%+1", 16, NULL, -EINVAL, "bad %-escape" },
};

static void
test_url_decode(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(url_vectors); i++) {
		struct dl_err e = { 0 };
		char buf[16] = "";
		int r = url_decode(url_vectors[i].s, strlen(url_vectors[i].s), buf,
		    url_vectors[i].size, &e);

		check_result_at(__FILE__, url_vectors[i].line, "url_decode", r, &e,
		    url_vectors[i].err, url_vectors[i].msg);
		if (!url_vectors[i].err)
			_assert_string_equal(buf, url_vectors[i].want, __FILE__, url_vectors[i].line);
	}
	/* len bounds the input: bytes after it are never read. */
	{
		char buf[8];

		assert_int_equal(url_decode("ab%41zzz", 5, buf, sizeof(buf), NULL), 0);
		assert_string_equal(buf, "abA");
		/* a raw NUL inside len would cut the string short */
		assert_int_equal(url_decode("a\0b", 3, buf, sizeof(buf), NULL), -EINVAL);
	}
}

/* parse_ipv4: inet_pton(3) rules (4 parts, decimal, no leading zeros). */
static const struct {
	int line;
	const char *s;
	uint32_t want; /* host order */
	bool ok;
} ipv4_vectors[] = {
	{ __LINE__, "10.0.0.17", 0x0a000011, true },
	{ __LINE__, "0.0.0.0", 0, true },
	{ __LINE__, "255.255.255.255", 0xffffffff, true },
	{ __LINE__, "192.168.100.1", 0xc0a86401, true },
	{ __LINE__, "256.0.0.1", 0, false },
	{ __LINE__, "10.0.0", 0, false },
	{ __LINE__, "10.0.0.1.2", 0, false },
	{ __LINE__, "010.0.0.1", 0, false }, /* octal to inet_aton() */
	{ __LINE__, "10.0.0.01", 0, false },
	{ __LINE__, "10..0.1", 0, false },
	{ __LINE__, "10.0.0.1 ", 0, false },
	{ __LINE__, "0x0a.0.0.1", 0, false },
	{ __LINE__, "1000.0.0.1", 0, false },
	{ __LINE__, "", 0, false },
	{ __LINE__, "10.0.0.", 0, false },
};

static void
test_ipv4(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(ipv4_vectors); i++) {
		struct dl_err e = { 0 };
		uint32_t v = 7;
		char want[96];
		int r = parse_ipv4(ipv4_vectors[i].s, &v, &e);

		(void)snprintf(want, sizeof(want), "IPv4 address '%s' is not a dotted quad",
		    ipv4_vectors[i].s);
		check_result_at(__FILE__, ipv4_vectors[i].line, "parse_ipv4", r, &e,
		    ipv4_vectors[i].ok ? 0 : -EINVAL, ipv4_vectors[i].ok ? NULL : want);
		_assert_int_equal(v, ipv4_vectors[i].ok ? htonl(ipv4_vectors[i].want) : 7, __FILE__,
		    ipv4_vectors[i].line);
	}
}

/* parse_quote: what reaches a message from outside is printable and short. */
static void
test_quote(void **state)
{
	char buf[QUOTE_BUF_SIZE], big[200];

	(void)state;
	assert_string_equal(parse_quote(buf, "n1", 2), "n1");
	assert_string_equal(parse_quote(buf, "a'b\"c\\d\n\x7f\xff", 10), "a?b?c?d???");
	assert_string_equal(parse_quote(buf, "abc", 2), "ab"); /* len bounds the input */
	assert_string_equal(parse_quote(buf, "ab\0cd", 5), "ab");
	assert_string_equal(parse_quote(buf, NULL, 0), "(null)");
	memset(big, 'x', sizeof(big));
	parse_quote(buf, big, sizeof(big));
	assert_int_equal(strlen(buf), MAX_QUOTE_VALUE + 3);
	assert_string_equal(buf + MAX_QUOTE_VALUE, "...");
	/* the same cap applies to every parser's message */
	big[sizeof(big) - 1] = '\0';
	{
		struct dl_err e = { 0 };

		assert_int_equal(parse_mac(big, &(struct mac_addr){ { 0 } }, &e), -EINVAL);
		assert_non_null(strstr(e.msg, "xxx...' is not six hex octets"));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u64),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_bool),
		cmocka_unit_test(test_mac),
		cmocka_unit_test(test_uuid),
		cmocka_unit_test(test_predicates),
		cmocka_unit_test(test_url_decode),
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_quote),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
