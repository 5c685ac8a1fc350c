/* SPDX-License-Identifier: MIT */
/* bootsvc/http_path.c: what a request may name. Attack vectors come from issue #2 ("GET
 * /images/../../etc/passwd and encoded variants"); Range vectors from RFC 9110 §14.1.2
 * and §14.2 examples; ETag vectors from RFC 9110 §13.1.2 and §8.8.3. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../bootsvc/http/http_path.h"

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID63 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde"
#define ID_UPPER "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"
#define NAME63 "n23456789012345678901234567890123456789012345678901234567890123"

static void
test_route(void **state)
{
	(void)state;
	assert_int_equal(http_route_of("/ipxe/boot"), ROUTE_IPXE);
	assert_int_equal(http_route_of("/images/" ID "/kernel"), ROUTE_IMAGES);
	assert_int_equal(http_route_of("/api/v1/nodes/n1/phase"), ROUTE_API);
	assert_int_equal(http_route_of("/metrics"), ROUTE_METRICS);
	assert_int_equal(http_route_of("/metrics/x"), ROUTE_OTHER);
	assert_int_equal(http_route_of("/ipxe"), ROUTE_OTHER);
	assert_int_equal(http_route_of(""), ROUTE_OTHER);
	assert_string_equal(http_route_name(ROUTE_IMAGES), "images");
	assert_string_equal(http_route_name(_ROUTE_MAX), "other");
}

/* http_path_image: the id and role or -ENOENT, never anything path-like. */
static const struct {
	int line;
	const char *url;
	const char *want_role; /* NULL: -ENOENT */
} image_vectors[] = {
	{ __LINE__, "/images/" ID "/kernel", "kernel" },
	{ __LINE__, "/images/" ID "/initrd", "initrd" },
	{ __LINE__, "/images/" ID "/rootfs", "rootfs" },
	/* issue #2's traversal and its encodings */
	{ __LINE__, "/images/../../etc/passwd", NULL },
	{ __LINE__, "/images/%2e%2e/%2e%2e/etc/passwd", NULL },
	{ __LINE__, "/images/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", NULL },
	{ __LINE__, "/images/..%2f..%2fetc%2fpasswd", NULL },
	{ __LINE__, "/images/" ID "/../../../etc/passwd", NULL },
	{ __LINE__, "/images/" ID "/../" ID "/kernel", NULL },
	{ __LINE__, "/images/" ID "/%6bernel", NULL },
	{ __LINE__, "/images/" ID "/kernel%00", NULL },
	{ __LINE__, "/images//" ID "/kernel", NULL },
	{ __LINE__, "/images/" ID "//kernel", NULL },
	{ __LINE__, "/images/./" ID "/kernel", NULL },
	/* the id: exactly 64 lowercase hex */
	{ __LINE__, "/images/" ID63 "/kernel", NULL },
	{ __LINE__, "/images/" ID "0/kernel", NULL },
	{ __LINE__, "/images/" ID_UPPER "/kernel", NULL },
	{ __LINE__, "/images/" ID63 "g/kernel", NULL },
	{ __LINE__, "/images/" ID63 "\xff/kernel", NULL },
	{ __LINE__, "/images//kernel", NULL },
	{ __LINE__, "/images/kernel", NULL },
	{ __LINE__, "/images/", NULL },
	{ __LINE__, "/images", NULL },
	{ __LINE__, "", NULL },
	/* the role: one of three fixed words, not a file name */
	{ __LINE__, "/images/" ID "/vmlinuz", NULL },
	{ __LINE__, "/images/" ID "/rootfs.squashfs", NULL },
	{ __LINE__, "/images/" ID "/manifest.json", NULL },
	{ __LINE__, "/images/" ID "/KERNEL", NULL },
	{ __LINE__, "/images/" ID "/kernel/", NULL },
	{ __LINE__, "/images/" ID "/kernel ", NULL },
	{ __LINE__, "/images/" ID "/kernel?x=1", NULL },
	{ __LINE__, "/images/" ID "/", NULL },
	{ __LINE__, "/images/" ID, NULL },
	{ __LINE__, "/Images/" ID "/kernel", NULL },
	{ __LINE__, "//images/" ID "/kernel", NULL },
};

static void
test_path_image(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(image_vectors); i++) {
		char id[SHA256_HEX_SIZE] = "untouched";
		const char *role = NULL;
		int r = http_path_image(image_vectors[i].url, id, &role);
		const char *want = image_vectors[i].want_role;

		if ((!want && r != -ENOENT) || (want && r != 0))
			print_error("%s:%d: '%s' gave %d\n", __FILE__, image_vectors[i].line,
			    image_vectors[i].url, r);
		_assert_int_equal(r, !want ? -ENOENT : 0, __FILE__, image_vectors[i].line);
		if (!want) {
			_assert_string_equal(id, "untouched", __FILE__, image_vectors[i].line);
			continue;
		}
		_assert_string_equal(role, want, __FILE__, image_vectors[i].line);
		_assert_string_equal(id, ID, __FILE__, image_vectors[i].line);
	}
}

/* http_path_image_manifest and http_path_image_template: what a peer's sync asks for
 * (sync/sync_fetch.c); the rest of the URL is the same strict id as a role's. */
static const struct {
	int line;
	const char *url;
	bool manifest;
	const char *template; /* NULL: -ENOENT from http_path_image_template */
} sync_vectors[] = {
	{ __LINE__, "/images/" ID "/manifest", true, NULL },
	{ __LINE__, "/images/" ID "/manifest.json", false, NULL },
	{ __LINE__, "/images/" ID "/manifest/", false, NULL },
	{ __LINE__, "/images/" ID_UPPER "/manifest", false, NULL },
	{ __LINE__, "/images/" ID63 "/manifest", false, NULL },
	{ __LINE__, "/images/" ID "/templates/etc/motd", false, "etc/motd" },
	{ __LINE__, "/images/" ID "/templates/a", false, "a" },
	{ __LINE__, "/images/" ID "/templates/x_y-z.1+2~3@4=5,6", false, "x_y-z.1+2~3@4=5,6" },
	{ __LINE__, "/images/" ID "/templates/", false, NULL },
	{ __LINE__, "/images/" ID "/templates", false, NULL },
	{ __LINE__, "/images/" ID "/templates/../manifest.json", false, NULL },
	{ __LINE__, "/images/" ID "/templates/etc/../../x", false, NULL },
	{ __LINE__, "/images/" ID "/templates/./etc", false, NULL },
	{ __LINE__, "/images/" ID "/templates//etc", false, NULL },
	{ __LINE__, "/images/" ID "/templates/etc/", false, NULL },
	{ __LINE__, "/images/" ID "/templates/a b", false, NULL },
	{ __LINE__, "/images/" ID "/templates/a%2e", false, NULL },
	{ __LINE__, "/images/" ID "/templates/a?b", false, NULL },
	{ __LINE__, "/images/" ID63 "/templates/a", false, NULL },
};

static void
test_path_sync(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(sync_vectors); i++) {
		char id[SHA256_HEX_SIZE] = "untouched", id2[SHA256_HEX_SIZE] = "untouched";
		char path[MAX_TEMPLATE_PATH + 1] = "untouched";
		int m = http_path_image_manifest(sync_vectors[i].url, id);
		int t = http_path_image_template(sync_vectors[i].url, id2, path);
		const char *want = sync_vectors[i].template;

		_assert_int_equal(m, sync_vectors[i].manifest ? 0 : -ENOENT, __FILE__,
		    sync_vectors[i].line);
		_assert_string_equal(id, sync_vectors[i].manifest ? ID : "untouched", __FILE__,
		    sync_vectors[i].line);
		_assert_int_equal(t, want ? 0 : -ENOENT, __FILE__, sync_vectors[i].line);
		_assert_string_equal(path, want ? want : "untouched", __FILE__,
		    sync_vectors[i].line);
		_assert_string_equal(id2, want ? ID : "untouched", __FILE__, sync_vectors[i].line);
	}
	/* longest path taken, one byte more refused */
	{
		char url[8 + 64 + 11 + MAX_TEMPLATE_PATH + 2], id[SHA256_HEX_SIZE];
		char path[MAX_TEMPLATE_PATH + 1];
		size_t n = (size_t)snprintf(url, sizeof(url), "/images/" ID "/templates/");

		memset(url + n, 'a', MAX_TEMPLATE_PATH);
		url[n + MAX_TEMPLATE_PATH] = '\0';
		assert_int_equal(http_path_image_template(url, id, path), 0);
		url[n + MAX_TEMPLATE_PATH] = 'a';
		url[n + MAX_TEMPLATE_PATH + 1] = '\0';
		assert_int_equal(http_path_image_template(url, id, path), -ENOENT);
	}
}

/* http_path_node_api: a valid node name and an action [a-z]{1,15}. */
static const struct {
	int line;
	const char *url;
	const char *name, *action; /* NULL: -ENOENT */
} api_vectors[] = {
	{ __LINE__, "/api/v1/nodes/n01/phase", "n01", "phase" },
	{ __LINE__, "/api/v1/nodes/rack1-n001/overlay", "rack1-n001", "overlay" },
	{ __LINE__, "/api/v1/nodes/d-525400000001/phase", "d-525400000001", "phase" },
	{ __LINE__, "/api/v1/nodes/" NAME63 "/phase", NAME63, "phase" },
	{ __LINE__, "/api/v1/nodes/n1/abcdefghijklmno", "n1", "abcdefghijklmno" }, /* 15 */
	{ __LINE__, "/api/v1/nodes/n1/abcdefghijklmnop", NULL, NULL },            /* 16 */
	{ __LINE__, "/api/v1/nodes/" NAME63 "4/phase", NULL, NULL },              /* 64 */
	{ __LINE__, "/api/v1/nodes/" NAME63 NAME63 "/phase", NULL, NULL },
	{ __LINE__, "/api/v1/nodes//phase", NULL, NULL },
	{ __LINE__, "/api/v1/nodes/n01/", NULL, NULL },
	{ __LINE__, "/api/v1/nodes/n01", NULL, NULL },
	{ __LINE__, "/api/v1/nodes/", NULL, NULL },
	{ __LINE__, "/api/v1/nodes/N01/phase", NULL, NULL },
	{ __LINE__, "/api/v1/nodes/-n01/phase", NULL, NULL },
	{ __LINE__, "/api/v1/nodes/n01-/phase", NULL, NULL },
	{ __LINE__, "/api/v1/nodes/n_01/phase", NULL, NULL },
	{ __LINE__, "/api/v1/nodes/../phase", NULL, NULL },
	{ __LINE__, "/api/v1/nodes/%2e%2e/phase", NULL, NULL },
	{ __LINE__, "/api/v1/nodes/n01/phase/x", NULL, NULL },
	{ __LINE__, "/api/v1/nodes/n01/Phase", NULL, NULL },
	{ __LINE__, "/api/v1/nodes/n01/phase?x", NULL, NULL },
	{ __LINE__, "/api/v1/nodes/n01/ph-ase", NULL, NULL },
	{ __LINE__, "/api/v1/node/n01/phase", NULL, NULL },
	{ __LINE__, "/api/v2/nodes/n01/phase", NULL, NULL },
};

static void
test_path_node_api(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(api_vectors); i++) {
		char name[MAX_NODE_NAME] = "", action[16] = "";
		int r = http_path_node_api(api_vectors[i].url, name, action);

		if ((r == 0) != (api_vectors[i].name != NULL))
			print_error("%s:%d: '%s' gave %d\n", __FILE__, api_vectors[i].line,
			    api_vectors[i].url, r);
		_assert_int_equal(r, api_vectors[i].name ? 0 : -ENOENT, __FILE__,
		    api_vectors[i].line);
		if (!api_vectors[i].name)
			continue;
		_assert_string_equal(name, api_vectors[i].name, __FILE__, api_vectors[i].line);
		_assert_string_equal(action, api_vectors[i].action, __FILE__, api_vectors[i].line);
	}
}

/* boot_query_parse: what iPXE sends for ${mac}, ${uuid}, ${serial} (an unset setting
 * expands to ""). UUID/serial from a QEMU -smbios type=1 line. */
static const struct {
	int line;
	const char *mac, *uuid, *serial;
	const char *want_mac, *want_uuid, *want_serial; /* on success */
	const char *err;                                /* NULL: success */
} query_vectors[] = {
	{ __LINE__, "52:54:00:12:34:56", NULL, NULL, "52:54:00:12:34:56", "", "", NULL },
	{ __LINE__, "52:54:00:AB:cd:EF", "", "", "52:54:00:ab:cd:ef", "", "", NULL },
	{ __LINE__, "52-54-00-12-34-56", "", "", "52:54:00:12:34:56", "", "", NULL },
	{ __LINE__, "52:54:00:12:34:56", "5D6E7F80-1A2B-4C3D-8E9F-0A1B2C3D4E5F", "QEMU-0001",
	    "52:54:00:12:34:56", "5d6e7f80-1a2b-4c3d-8e9f-0a1b2c3d4e5f", "QEMU-0001", NULL },
	{ __LINE__, "52:54:00:12:34:56", NULL,
	    "S234567890123456789012345678901234567890123456789012345678901234", /* 64 */
	    "52:54:00:12:34:56", "", "S234567890123456789012345678901234567890123456789012345678901234", NULL },
	{ __LINE__, NULL, NULL, NULL, NULL, NULL, NULL, "query argument mac is required" },
	{ __LINE__, "", "5d6e7f80-1a2b-4c3d-8e9f-0a1b2c3d4e5f", "X1", NULL, NULL, NULL,
	    "query argument mac is required" },
	{ __LINE__, "52:54:00:12:34", NULL, NULL, NULL, NULL, NULL,
	    "query argument mac: MAC '52:54:00:12:34'" },
	{ __LINE__, "52:54:00:12:34:5g", NULL, NULL, NULL, NULL, NULL, "'52:54:00:12:34:5g'" },
	{ __LINE__, "${net0/mac}", NULL, NULL, NULL, NULL, NULL, "query argument mac" },
	{ __LINE__, "52:54:00:12:34:56", "not-a-uuid", NULL, NULL, NULL, NULL,
	    "query argument uuid: " },
	{ __LINE__, "52:54:00:12:34:56", "5d6e7f801a2b4c3d8e9f0a1b2c3d4e5f", NULL, NULL, NULL, NULL,
	    "query argument uuid" },
	{ __LINE__, "52:54:00:12:34:56", NULL, "a b", NULL, NULL, NULL, "query argument serial" },
	{ __LINE__, "52:54:00:12:34:56", NULL, "a&mac=x", NULL, NULL, NULL, "query argument serial" },
	{ __LINE__, "52:54:00:12:34:56", NULL, "../x", NULL, NULL, NULL, "query argument serial" },
	{ __LINE__, "52:54:00:12:34:56", NULL, "\"x", NULL, NULL, NULL, "query argument serial" },
	{ __LINE__, "52:54:00:12:34:56", NULL, "caf\xc3\xa9", NULL, NULL, NULL, "query argument serial" },
	{ __LINE__, "52:54:00:12:34:56", NULL,
	    "S2345678901234567890123456789012345678901234567890123456789012345", /* 65 */
	    NULL, NULL, NULL, "query argument serial" },
};

static void
test_boot_query(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(query_vectors); i++) {
		struct boot_query q = { .has_mac = true, .mac_str = "untouched" };
		struct dl_err e = { 0 };
		int line = query_vectors[i].line;
		int r = boot_query_parse(query_vectors[i].mac, query_vectors[i].uuid,
		    query_vectors[i].serial, &q, &e);

		if (query_vectors[i].err) {
			if (r != -EINVAL || !strstr(e.msg, query_vectors[i].err))
				print_error("%s:%d: r=%d msg='%s' want '%s'\n", __FILE__, line, r,
				    e.msg, query_vectors[i].err);
			_assert_int_equal(r, -EINVAL, __FILE__, line);
			_assert_true(strstr(e.msg, query_vectors[i].err) != NULL, "msg", __FILE__,
			    line);
			_assert_string_equal(q.mac_str, "untouched", __FILE__, line);
			continue;
		}
		if (r != 0)
			print_error("%s:%d: r=%d msg='%s'\n", __FILE__, line, r, e.msg);
		_assert_int_equal(r, 0, __FILE__, line);
		_assert_true(q.has_mac, "has_mac", __FILE__, line);
		_assert_string_equal(q.mac_str, query_vectors[i].want_mac, __FILE__, line);
		_assert_string_equal(q.uuid, query_vectors[i].want_uuid, __FILE__, line);
		_assert_int_equal(q.has_uuid, query_vectors[i].want_uuid[0] != '\0', __FILE__, line);
		_assert_string_equal(q.serial, query_vectors[i].want_serial, __FILE__, line);
		_assert_int_equal(q.has_serial, query_vectors[i].want_serial[0] != '\0', __FILE__,
		    line);
	}
}

/* http_parse_range against size bytes: 1 and [start,end], 0 (ignore), -ERANGE (416). */
static const struct {
	int line;
	const char *h;
	uint64_t size;
	int want;
	uint64_t start, end;
} range_vectors[] = {
	{ __LINE__, NULL, 10, 0, 0, 0 },
	{ __LINE__, "", 10, 0, 0, 0 },
	{ __LINE__, "bytes=0-0", 10, 1, 0, 0 },
	{ __LINE__, "bytes=0-9", 10, 1, 0, 9 },
	{ __LINE__, "bytes=2-5", 10, 1, 2, 5 },
	{ __LINE__, "bytes=9-9", 10, 1, 9, 9 },
	{ __LINE__, "bytes=0-499", 10000, 1, 0, 499 },     /* RFC 9110 §14.1.2 */
	{ __LINE__, "bytes=500-999", 10000, 1, 500, 999 }, /* RFC 9110 §14.1.2 */
	{ __LINE__, "bytes=9500-", 10000, 1, 9500, 9999 }, /* RFC 9110 §14.1.2 */
	{ __LINE__, "bytes=-500", 10000, 1, 9500, 9999 },  /* RFC 9110 §14.1.2 */
	{ __LINE__, "bytes=0-100", 10, 1, 0, 9 },          /* last-pos clamped to size-1 */
	{ __LINE__, "bytes=0-1 ", 10, 1, 0, 1 },           /* trailing OWS */
	/* open-ended and suffix */
	{ __LINE__, "bytes=5-", 10, 1, 5, 9 },
	{ __LINE__, "bytes=0-", 10, 1, 0, 9 },
	{ __LINE__, "bytes=-3", 10, 1, 7, 9 },
	{ __LINE__, "bytes=-10", 10, 1, 0, 9 },
	{ __LINE__, "bytes=-20", 10, 1, 0, 9 },            /* longer than the file: all of it */
	{ __LINE__, "bytes=-0", 10, -ERANGE, 0, 0 },       /* zero suffix: unsatisfiable */
	/* unsatisfiable: first-pos at or past the end */
	{ __LINE__, "bytes=10-", 10, -ERANGE, 0, 0 },
	{ __LINE__, "bytes=10-20", 10, -ERANGE, 0, 0 },
	{ __LINE__, "bytes=0-0", 0, -ERANGE, 0, 0 },
	/* an empty file cannot express a suffix range as [start,end]: 416 */
	{ __LINE__, "bytes=-5", 0, -ERANGE, 0, 0 },
	/* ignored: answer the whole file */
	{ __LINE__, "bytes=0-1,3-4", 10, 0, 0, 0 },        /* multi-range (RFC 9110 §14.2) */
	{ __LINE__, "bytes=0-1, 3-4", 10, 0, 0, 0 },
	{ __LINE__, "bytes=-1,0-0", 10, 0, 0, 0 },
	{ __LINE__, "bytes=5-4", 10, 0, 0, 0 },            /* last < first: invalid, ignore */
	{ __LINE__, "bytes=-", 10, 0, 0, 0 },
	{ __LINE__, "bytes=", 10, 0, 0, 0 },
	{ __LINE__, "bytes=a-b", 10, 0, 0, 0 },
	{ __LINE__, "bytes=1-2-3", 10, 0, 0, 0 },
	{ __LINE__, "bytes=--5", 10, 0, 0, 0 },
	{ __LINE__, "bytes=+1-2", 10, 0, 0, 0 },
	{ __LINE__, "bytes= 0-1", 10, 0, 0, 0 },
	{ __LINE__, "bytes=0x1-2", 10, 0, 0, 0 },
	{ __LINE__, "items=0-1", 10, 0, 0, 0 },
	{ __LINE__, "bytes 0-1", 10, 0, 0, 0 },
	/* overflow: numbers past 2^64 are not wrapped into a small range */
	{ __LINE__, "bytes=18446744073709551616-", 10, 0, 0, 0 },
	{ __LINE__, "bytes=0-18446744073709551616", 10, 0, 0, 0 },
	{ __LINE__, "bytes=-18446744073709551616", 10, 0, 0, 0 },
	{ __LINE__, "bytes=99999999999999999999999999-1", 10, 0, 0, 0 },
	{ __LINE__, "bytes=1000000000000-", 10, -ERANGE, 0, 0 },
	{ __LINE__, "bytes=1099511627775-", 1099511627776ULL, 1, 1099511627775ULL, 1099511627775ULL },
	{ __LINE__, "bytes=-1", UINT64_MAX, 1, UINT64_MAX - 1, UINT64_MAX - 1 },
};

static void
test_range(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(range_vectors); i++) {
		uint64_t s = 12345, e = 12345;
		int line = range_vectors[i].line;
		int r = http_parse_range(range_vectors[i].h, range_vectors[i].size, &s, &e);

		if (r != range_vectors[i].want ||
		    (r == 1 && (s != range_vectors[i].start || e != range_vectors[i].end)))
			print_error("%s:%d: '%s' size %llu: r=%d [%llu,%llu]\n", __FILE__, line,
			    range_vectors[i].h ? range_vectors[i].h : "(null)",
			    (unsigned long long)range_vectors[i].size, r, (unsigned long long)s,
			    (unsigned long long)e);
		_assert_int_equal(r, range_vectors[i].want, __FILE__, line);
		if (r != 1)
			continue;
		_assert_int_equal(s, range_vectors[i].start, __FILE__, line);
		_assert_int_equal(e, range_vectors[i].end, __FILE__, line);
		_assert_true(s <= e && e < range_vectors[i].size, "inside the file", __FILE__, line);
	}
}

/* http_etag_matches(If-None-Match, "\"<hex>\""): weak comparison (RFC 9110 §13.1.2). */
static const struct {
	int line;
	const char *inm;
	bool want;
} etag_vectors[] = {
	{ __LINE__, NULL, false },
	{ __LINE__, "", false },
	{ __LINE__, "\"abc\"", true },
	{ __LINE__, "W/\"abc\"", true },
	{ __LINE__, "*", true },
	{ __LINE__, "  *", true },
	{ __LINE__, "\"xyzzy\", \"abc\"", true },        /* RFC 9110 §13.1.2 example shape */
	{ __LINE__, "\"xyzzy\",\"abc\"", true },
	{ __LINE__, "\"xyzzy\", W/\"abc\"", true },
	{ __LINE__, "\"xyzzy\",\t\"abc\"\t", true },
	{ __LINE__, " \"abc\" ", true },
	{ __LINE__, "\"abc\", \"xyzzy\"", true },
	{ __LINE__, ",,\"abc\"", true },
	{ __LINE__, "\"abcd\"", false },
	{ __LINE__, "\"ab\"", false },
	{ __LINE__, "abc", false },                        /* unquoted */
	{ __LINE__, "\"ABC\"", false },                    /* opaque: case matters */
	{ __LINE__, "w/\"abc\"", false },                  /* W/ is case-sensitive */
	{ __LINE__, "W/ \"abc\"", false },
	{ __LINE__, "\"xyzzy\", \"r2d2xxxx\"", false },
	{ __LINE__, "\"xyzzy\"", false },
	{ __LINE__, ",,,", false },
	{ __LINE__, "W/", false },
	{ __LINE__, "\"abc", false },
	{ __LINE__, "\"abc\"\"abc\"", false },
};

static void
test_etag(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(etag_vectors); i++) {
		bool got = http_etag_matches(etag_vectors[i].inm, "\"abc\"");

		if (got != etag_vectors[i].want)
			print_error("%s:%d: '%s' gave %d\n", __FILE__, etag_vectors[i].line,
			    etag_vectors[i].inm ? etag_vectors[i].inm : "(null)", got);
		_assert_int_equal(got, etag_vectors[i].want, __FILE__, etag_vectors[i].line);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route),
		cmocka_unit_test(test_path_image),
		cmocka_unit_test(test_path_sync),
		cmocka_unit_test(test_path_node_api),
		cmocka_unit_test(test_boot_query),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_etag),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
