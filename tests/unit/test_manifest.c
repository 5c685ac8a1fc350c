/* SPDX-License-Identifier: MIT */
/* lib/manifest.c: the canonical form and content id of docs/boot-protocol.md, and the
 * strict parser's rejections. Vectors are written here by hand from that document. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "manifest.h"

#define H(c) c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c
#define HA H("a")
#define HB H("b")
#define HC H("c")
#define HD H("d")
#define HE H("e")

/* A valid manifest, pretty-printed and in a key order unlike the canonical one. */
#define GOOD_FILES                                                                           \
	"\"files\": {\"rootfs\": {\"size\": 300, \"path\": \"rootfs.squashfs\", \"sha256\": \"" HC "\"},\n" \
	"  \"kernel\": {\"path\": \"vmlinuz\", \"sha256\": \"" HA "\", \"size\": 100},\n"            \
	"  \"initrd\": {\"path\": \"initrd\", \"sha256\": \"" HB "\", \"size\": 200}}"
#define GOOD_HEAD                                                                            \
	"{\"name\": \"compute\", \"format\": 1, \"kind\": \"linux\",\n"                           \
	" \"built\": \"2026-11-25T03:00:00Z\", \"recipe_sha256\": \"" HD "\",\n"                   \
	" \"kernel_version\": \"6.1.0-56-amd64\", \"kernel_banner\": \"6.1.0-56-amd64 (x) #1 SMP\",\n" \
	" \"cmdline\": \"console=ttyS0 quiet\",\n"
static const char good[] = GOOD_HEAD GOOD_FILES "}";
static const char good_tpl[] = GOOD_HEAD GOOD_FILES
	", \"templates\": [{\"path\": \"etc/motd\", \"sha256\": \"" HA "\", \"size\": 12}]}";
static const char good_tree[] = GOOD_HEAD GOOD_FILES ", \"initrd_tree\": \"" HE "\"}";

/* The canonical form of `good`: sorted keys, no whitespace (checked byte for byte). */
static const char good_canonical[] =
	"{\"built\":\"2026-11-25T03:00:00Z\",\"cmdline\":\"console=ttyS0 quiet\",\"files\":{"
	"\"initrd\":{\"path\":\"initrd\",\"sha256\":\"" HB "\",\"size\":200},"
	"\"kernel\":{\"path\":\"vmlinuz\",\"sha256\":\"" HA "\",\"size\":100},"
	"\"rootfs\":{\"path\":\"rootfs.squashfs\",\"sha256\":\"" HC "\",\"size\":300}},"
	"\"format\":1,\"kernel_banner\":\"6.1.0-56-amd64 (x) #1 SMP\","
	"\"kernel_version\":\"6.1.0-56-amd64\",\"kind\":\"linux\",\"name\":\"compute\","
	"\"recipe_sha256\":\"" HD "\"}";

static void
test_canonical(void **state)
{
	struct manifest m;
	struct dl_err e = {};
	char *canon = NULL, id[SHA256_HEX_SIZE], want[SHA256_HEX_SIZE];
	uint8_t d[SHA256_DIGEST_SIZE];

	(void)state;
	assert_int_equal(manifest_parse(good, strlen(good), &m, &e), 0);
	assert_string_equal(m.name, "compute");
	assert_int_equal(m.files[MANIFEST_ROOTFS].size, 300);
	assert_int_equal(manifest_canonical(&m, &canon, &e), 0);
	assert_string_equal(canon, good_canonical);
	assert_int_equal(manifest_id(&m, id, &e), 0);
	sha256_buf(good_canonical, strlen(good_canonical), d);
	assert_string_equal(id, sha256_to_hex(d, want));
	/* The canonical form parses back to the same id. */
	struct manifest m2;
	char id2[SHA256_HEX_SIZE];
	assert_int_equal(manifest_parse(canon, strlen(canon), &m2, &e), 0);
	assert_int_equal(manifest_id(&m2, id2, &e), 0);
	assert_string_equal(id, id2);
	manifest_done(&m2);
	free(canon);
	manifest_done(&m);
}

/* initrd_tree is optional: present, it sits in the canonical form in key order and
 * changes the id; absent (good), the id is what it was before the field existed. */
static const char good_tree_canonical[] =
	"{\"built\":\"2026-11-25T03:00:00Z\",\"cmdline\":\"console=ttyS0 quiet\",\"files\":{"
	"\"initrd\":{\"path\":\"initrd\",\"sha256\":\"" HB "\",\"size\":200},"
	"\"kernel\":{\"path\":\"vmlinuz\",\"sha256\":\"" HA "\",\"size\":100},"
	"\"rootfs\":{\"path\":\"rootfs.squashfs\",\"sha256\":\"" HC "\",\"size\":300}},"
	"\"format\":1,\"initrd_tree\":\"" HE "\",\"kernel_banner\":\"6.1.0-56-amd64 (x) #1 SMP\","
	"\"kernel_version\":\"6.1.0-56-amd64\",\"kind\":\"linux\",\"name\":\"compute\","
	"\"recipe_sha256\":\"" HD "\"}";

static void
test_initrd_tree(void **state)
{
	struct manifest m, m2;
	struct dl_err e = {};
	char *canon = NULL, id[SHA256_HEX_SIZE], id2[SHA256_HEX_SIZE], id_old[SHA256_HEX_SIZE];

	(void)state;
	assert_int_equal(manifest_parse(good_tree, strlen(good_tree), &m, &e), 0);
	assert_string_equal(m.initrd_tree, HE);
	assert_int_equal(manifest_canonical(&m, &canon, &e), 0);
	assert_string_equal(canon, good_tree_canonical);
	assert_int_equal(manifest_id(&m, id, &e), 0);
	assert_int_equal(manifest_parse(canon, strlen(canon), &m2, &e), 0);
	assert_int_equal(manifest_id(&m2, id2, &e), 0);
	assert_string_equal(id, id2);
	manifest_done(&m2);
	free(canon);
	manifest_done(&m);

	assert_int_equal(manifest_parse(good, strlen(good), &m, &e), 0);
	assert_string_equal(m.initrd_tree, "");
	assert_int_equal(manifest_id(&m, id_old, &e), 0);
	assert_string_not_equal(id, id_old);
	/* A struct built in code is validated the same way. */
	memcpy(m.initrd_tree, H("E"), SHA256_HEX_SIZE);
	assert_int_equal(manifest_canonical(&m, &canon, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "initrd_tree"));
	manifest_done(&m);
}

static void
test_templates(void **state)
{
	struct manifest m;
	struct dl_err e = {};
	char id1[SHA256_HEX_SIZE], id2[SHA256_HEX_SIZE];

	(void)state;
	assert_int_equal(manifest_parse(good_tpl, strlen(good_tpl), &m, &e), 0);
	assert_int_equal(m.n_templates, 1);
	assert_string_equal(m.templates[0].path, "etc/motd");
	assert_int_equal(manifest_id(&m, id1, &e), 0);
	manifest_done(&m);
	assert_int_equal(manifest_parse(good, strlen(good), &m, &e), 0);
	assert_int_equal(manifest_id(&m, id2, &e), 0);
	assert_string_not_equal(id1, id2);
	manifest_done(&m);
}

/* Each bad manifest and a fragment the error message must contain. */
static const struct {
	const char *json;
	const char *msg;
} bad[] = {
	{ "", "manifest: line" },
	{ "[]", "manifest:" },
	{ GOOD_HEAD GOOD_FILES ", \"extra\": 1}", "extra" },
	{ GOOD_HEAD GOOD_FILES ", \"name\": \"x\"}", "duplicate" },
	{ "{\"format\": 2, \"name\": \"compute\", \"kind\": \"linux\", \"built\": \"2026-11-25T03:00:00Z\", "
	  "\"recipe_sha256\": \"" HD "\", \"kernel_version\": \"6.1\", \"kernel_banner\": \"b\", "
	  "\"cmdline\": \"\", " GOOD_FILES "}", "format 2" },
	{ "{\"format\": 1, \"name\": \"Compute\", \"kind\": \"linux\", \"built\": \"2026-11-25T03:00:00Z\", "
	  "\"recipe_sha256\": \"" HD "\", \"kernel_version\": \"6.1\", \"kernel_banner\": \"b\", "
	  "\"cmdline\": \"\", " GOOD_FILES "}", "name 'Compute'" },
	{ "{\"format\": 1, \"name\": \"compute\", \"kind\": \"xen\", \"built\": \"2026-11-25T03:00:00Z\", "
	  "\"recipe_sha256\": \"" HD "\", \"kernel_version\": \"6.1\", \"kernel_banner\": \"b\", "
	  "\"cmdline\": \"\", " GOOD_FILES "}", "kind 'xen'" },
	{ "{\"format\": 1, \"name\": \"compute\", \"kind\": \"linux\", \"built\": \"yesterday\", "
	  "\"recipe_sha256\": \"" HD "\", \"kernel_version\": \"6.1\", \"kernel_banner\": \"b\", "
	  "\"cmdline\": \"\", " GOOD_FILES "}", "built 'yesterday'" },
	{ "{\"format\": 1, \"name\": \"compute\", \"kind\": \"linux\", \"built\": \"2026-11-25T03:00:00Z\", "
	  "\"recipe_sha256\": \"" H("A") "\", \"kernel_version\": \"6.1\", \"kernel_banner\": \"b\", "
	  "\"cmdline\": \"\", " GOOD_FILES "}", "recipe_sha256" },
	{ "{\"format\": 1, \"name\": \"compute\", \"kind\": \"linux\", \"built\": \"2026-11-25T03:00:00Z\", "
	  "\"recipe_sha256\": \"" HD "\", \"kernel_version\": \"6.1 x\", \"kernel_banner\": \"b\", "
	  "\"cmdline\": \"\", " GOOD_FILES "}", "kernel_version" },
	{ GOOD_HEAD "\"files\": {\"kernel\": {\"path\": \"../etc/shadow\", \"sha256\": \"" HA "\", \"size\": 1},"
	  "\"initrd\": {\"path\": \"initrd\", \"sha256\": \"" HB "\", \"size\": 2},"
	  "\"rootfs\": {\"path\": \"rootfs.squashfs\", \"sha256\": \"" HC "\", \"size\": 3}}}", "files.kernel.path" },
	{ GOOD_HEAD "\"files\": {\"kernel\": {\"path\": \"vmlinuz\", \"sha256\": \"" HA "\", \"size\": -1},"
	  "\"initrd\": {\"path\": \"initrd\", \"sha256\": \"" HB "\", \"size\": 2},"
	  "\"rootfs\": {\"path\": \"rootfs.squashfs\", \"sha256\": \"" HC "\", \"size\": 3}}}", "size -1" },
	{ GOOD_HEAD "\"files\": {\"kernel\": {\"path\": \"vmlinuz\", \"sha256\": \"abc\", \"size\": 1},"
	  "\"initrd\": {\"path\": \"initrd\", \"sha256\": \"" HB "\", \"size\": 2},"
	  "\"rootfs\": {\"path\": \"rootfs.squashfs\", \"sha256\": \"" HC "\", \"size\": 3}}}", "files.kernel.sha256" },
	{ GOOD_HEAD "\"files\": {\"kernel\": {\"path\": \"vmlinuz\", \"sha256\": \"" HA "\", \"size\": 1},"
	  "\"initrd\": {\"path\": \"initrd\", \"sha256\": \"" HB "\", \"size\": 2}}}", "exactly kernel, initrd and rootfs" },
	{ GOOD_HEAD GOOD_FILES ", \"templates\": [{\"path\": \"../x\", \"sha256\": \"" HA "\", \"size\": 1}]}",
	  "templates[0].path" },
	{ GOOD_HEAD GOOD_FILES ", \"templates\": [{\"path\": \"/etc/x\", \"sha256\": \"" HA "\", \"size\": 1}]}",
	  "templates[0].path" },
	{ GOOD_HEAD GOOD_FILES ", \"templates\": [{\"path\": \"a\", \"sha256\": \"" HA "\", \"size\": 1},"
	  "{\"path\": \"a\", \"sha256\": \"" HA "\", \"size\": 1}]}", "appears twice" },
	{ GOOD_HEAD GOOD_FILES ", \"templates\": {}}", "templates" },
	{ GOOD_HEAD GOOD_FILES ", \"initrd_tree\": \"\"}", "initrd_tree ''" },
	{ GOOD_HEAD GOOD_FILES ", \"initrd_tree\": \"" H("E") "\"}", "initrd_tree" },
	{ GOOD_HEAD GOOD_FILES ", \"initrd_tree\": \"" HE "0\"}", "initrd_tree" },
	{ GOOD_HEAD GOOD_FILES ", \"initrd_tree\": 1}", "initrd_tree" },
	{ GOOD_HEAD GOOD_FILES ", \"initrd_tree\": null}", "initrd_tree" },
	{ GOOD_HEAD GOOD_FILES ", \"initrd_tree\": \"" HE "\", \"initrd_tree\": \"" HE "\"}",
	  "duplicate" },
};

static void
test_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct manifest m = {};
		struct dl_err e = {};
		int r = manifest_parse(bad[i].json, strlen(bad[i].json), &m, &e);

		if (r >= 0 || !strstr(e.msg, bad[i].msg))
			print_error("bad[%zu]: r=%d msg='%s', want '%s'\n", i, r, e.msg, bad[i].msg);
		assert_true(r < 0);
		assert_non_null(strstr(e.msg, bad[i].msg));
		assert_null(m.name); /* *ret untouched on failure */
	}
}

static void
test_roles(void **state)
{
	(void)state;
	assert_string_equal(manifest_role_path(MANIFEST_ROOTFS), "rootfs.squashfs");
	assert_int_equal(manifest_role_from_string("initrd"), MANIFEST_INITRD);
	assert_int_equal(manifest_role_from_string("vmlinuz"), _MANIFEST_ROLE_INVALID);
	assert_null(manifest_role_to_string(_MANIFEST_ROLE_MAX));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canonical),
		cmocka_unit_test(test_initrd_tree),
		cmocka_unit_test(test_templates),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_roles),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
