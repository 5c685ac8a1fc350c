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
	assert_int_equal(manifest_file(&m, "rootfs")->size, 300);
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

/* Ids of versions built before kinds were a table must not move (issue #10): the
 * manifests imagebuild wrote for images/tiny, as kept in tests/fuzz/corpus/manifest/
 * (tiny.json, tiny_tree.json), with the ids the parser of that time gave them (each file
 * is its own canonical form, so the id is also `sha256sum` of the file). */
static const struct {
	int line;
	const char *json;
	const char *id;
} frozen[] = {
	{ __LINE__,
	    "{\"built\":\"2026-11-25T02:47:48Z\",\"cmdline\":\"console=ttyS0 quiet panic=10\""
	    ",\"files\":{\"initrd\":{\"path\":\"initrd\",\"sha256\":\"070b5ce262f851fc14a5185"
	    "92c310c3782e0e3cc90dddf4ad5beb7dd0e4e1c89\",\"size\":2336117},\"kernel\":{\"path"
	    "\":\"vmlinuz\",\"sha256\":\"26f2e57c99338feaf71c46fa4babdc7e1a6c115943002d109fdb"
	    "746667104f5f\",\"size\":8247232},\"rootfs\":{\"path\":\"rootfs.squashfs\",\"sha2"
	    "56\":\"2da2c53f085b06cb1d49c102c47abd0495d3f7d3820c68e4cdbd64c87143eea3\",\"size"
	    "\":1282048}},\"format\":1,\"kernel_banner\":\"6.1.0-56-amd64 (debian-kernel@list"
	    "s.debian.org) #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2 (2026-11-16)\",\"kernel_ve"
	    "rsion\":\"6.1.0-56-amd64\",\"kind\":\"linux\",\"name\":\"tiny\",\"recipe_sha256\""
	    ":\"2f7695cf1ad8b103b8da59b54dc0d269ec83f57e194653405d8e4fb26deb6ee9\"}",
	    "17b14777430f42384802b09d218af2ed474f705685be7a741c71aec678315c5d" },
	{ __LINE__,
	    "{\"built\":\"2026-11-25T02:47:48Z\",\"cmdline\":\"console=ttyS0 quiet panic=10\""
	    ",\"files\":{\"initrd\":{\"path\":\"initrd\",\"sha256\":\"070b5ce262f851fc14a5185"
	    "92c310c3782e0e3cc90dddf4ad5beb7dd0e4e1c89\",\"size\":2336117},\"kernel\":{\"path"
	    "\":\"vmlinuz\",\"sha256\":\"26f2e57c99338feaf71c46fa4babdc7e1a6c115943002d109fdb"
	    "746667104f5f\",\"size\":8247232},\"rootfs\":{\"path\":\"rootfs.squashfs\",\"sha2"
	    "56\":\"2da2c53f085b06cb1d49c102c47abd0495d3f7d3820c68e4cdbd64c87143eea3\",\"size"
	    "\":1282048}},\"format\":1,\"initrd_tree\":\"5f0c7b1e0a3e2d4c6b8a9f1e2d3c4b5a6978"
	    "8796a5b4c3d2e1f0a9b8c7d6e5f4\",\"kernel_banner\":\"6.1.0-56-amd64 (debian-kernel"
	    "@lists.debian.org) #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2 (2026-11-16)\",\"kern"
	    "el_version\":\"6.1.0-56-amd64\",\"kind\":\"linux\",\"name\":\"tiny\",\"recipe_sh"
	    "a256\":\"2f7695cf1ad8b103b8da59b54dc0d269ec83f57e194653405d8e4fb26deb6ee9\"}",
	    "cf03c5c29056e0c23fd3d7059f4c6396f3afe2222be8d06d339cf954b4d8b370" },
};

static void
test_frozen_ids(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(frozen) / sizeof(frozen[0]); i++) {
		struct manifest m;
		struct dl_err e = {};
		char *canon = NULL, id[SHA256_HEX_SIZE];
		int line = frozen[i].line;

		_assert_int_equal(manifest_parse(frozen[i].json, strlen(frozen[i].json), &m, &e), 0,
		    __FILE__, line);
		_assert_true(m.kind == kind_find("linux"), "kind", __FILE__, line);
		_assert_int_equal(m.n_files, 3, __FILE__, line);
		_assert_int_equal(manifest_canonical(&m, &canon, &e), 0, __FILE__, line);
		_assert_string_equal(canon, frozen[i].json, __FILE__, line);
		_assert_int_equal(manifest_id(&m, id, &e), 0, __FILE__, line);
		_assert_string_equal(id, frozen[i].id, __FILE__, line);
		free(canon);
		manifest_done(&m);
	}
}

/* files is held to the kind's roles: the linux row's kernel, initrd and rootfs, each at
 * its fixed path; any other role, a bad role name or too many entries is refused. */
#define FILE_ENTRY(role, path, h) "\"" role "\": {\"path\": \"" path "\", \"sha256\": \"" h "\", \"size\": 1}"
#define LINUX_FILES FILE_ENTRY("kernel", "vmlinuz", HA) ", " FILE_ENTRY("initrd", "initrd", HB) \
	", " FILE_ENTRY("rootfs", "rootfs.squashfs", HC)
static const struct {
	int line;
	const char *files; /* the object's members */
	const char *msg;   /* NULL: parses */
} role_vectors[] = {
	{ __LINE__, LINUX_FILES, NULL },
	/* key order does not matter */
	{ __LINE__, FILE_ENTRY("rootfs", "rootfs.squashfs", HC) ", " FILE_ENTRY("kernel", "vmlinuz", HA)
	    ", " FILE_ENTRY("initrd", "initrd", HB), NULL },
	/* a role linux does not have: refused, not skipped */
	{ __LINE__, LINUX_FILES ", " FILE_ENTRY("disk", "disk.img", HD),
	    "files of a linux image must be exactly kernel, initrd and rootfs: 'disk' is not one of them" },
	{ __LINE__, LINUX_FILES ", " FILE_ENTRY("manifest", "manifest.json", HD),
	    "'manifest' is not one of them" },
	/* a missing required role */
	{ __LINE__, FILE_ENTRY("kernel", "vmlinuz", HA) ", " FILE_ENTRY("rootfs", "rootfs.squashfs", HC),
	    "files of a linux image must be exactly kernel, initrd and rootfs: 'initrd' is missing" },
	{ __LINE__, "", "'kernel' is missing" },
	/* role names: [a-z][a-z0-9_]*, under 16 bytes */
	{ __LINE__, LINUX_FILES ", " FILE_ENTRY("Kernel", "vmlinuz", HA), "files key 'Kernel' is not a role name" },
	{ __LINE__, LINUX_FILES ", " FILE_ENTRY("../kernel", "vmlinuz", HA), "files key '../kernel'" },
	{ __LINE__, LINUX_FILES ", " FILE_ENTRY("", "vmlinuz", HA), "files key ''" },
	{ __LINE__, LINUX_FILES ", " FILE_ENTRY("a234567890123456", "x", HA), "files key 'a234567890123456'" },
	/* the path is the kind's, never the manifest's choice */
	{ __LINE__, FILE_ENTRY("kernel", "initrd", HA) ", " FILE_ENTRY("initrd", "initrd", HB)
	    ", " FILE_ENTRY("rootfs", "rootfs.squashfs", HC), "files.kernel.path 'initrd' is not 'vmlinuz'" },
	/* at most MAX_MANIFEST_FILES entries, before anything else is looked at */
	{ __LINE__, LINUX_FILES ", " FILE_ENTRY("a", "a", HD) ", " FILE_ENTRY("b", "b", HD) ", "
	    FILE_ENTRY("c", "c", HD) ", " FILE_ENTRY("d", "d", HD) ", " FILE_ENTRY("e", "e", HD) ", "
	    FILE_ENTRY("f", "f", HD), "files has 9 entries, at most 8" },
};

static void
test_kind_roles(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(role_vectors) / sizeof(role_vectors[0]); i++) {
		char json[4096];
		struct manifest m = {};
		struct dl_err e = {};
		int line = role_vectors[i].line, r;

		(void)snprintf(json, sizeof(json), "%s\"files\": {%s}}", GOOD_HEAD, role_vectors[i].files);
		r = manifest_parse(json, strlen(json), &m, &e);
		if ((r == 0) != !role_vectors[i].msg ||
		    (role_vectors[i].msg && !strstr(e.msg, role_vectors[i].msg)))
			print_error("%s:%d: r=%d msg='%s'\n", __FILE__, line, r, e.msg);
		if (!role_vectors[i].msg) {
			_assert_int_equal(r, 0, __FILE__, line);
			/* in the kind's role order, whatever the key order */
			_assert_int_equal(m.n_files, 3, __FILE__, line);
			_assert_string_equal(m.files[0].role, "kernel", __FILE__, line);
			_assert_string_equal(m.files[1].role, "initrd", __FILE__, line);
			_assert_string_equal(m.files[2].role, "rootfs", __FILE__, line);
			manifest_done(&m);
			continue;
		}
		_assert_true(r < 0, "refused", __FILE__, line);
		_assert_true(strstr(e.msg, role_vectors[i].msg) != NULL, "message", __FILE__, line);
		_assert_true(m.name == NULL, "untouched", __FILE__, line);
	}
}

/* A manifest struct built in code (imagebuild) is held to its kind the same way. */
static void
test_built_in_code(void **state)
{
	struct manifest m;
	struct dl_err e = {};
	char *canon = NULL;

	(void)state;
	assert_int_equal(manifest_parse(good, strlen(good), &m, &e), 0);
	assert_int_equal(manifest_file_set(&m, "Bad", HA, 1), -EINVAL);
	assert_int_equal(manifest_file_set(&m, "kernel", HE, 7), 0); /* replaces */
	assert_int_equal(m.n_files, 3);
	assert_int_equal(manifest_file(&m, "kernel")->size, 7);
	assert_null(manifest_file(&m, "disk"));
	assert_int_equal(manifest_file_set(&m, "disk", HA, 1), 0);
	assert_int_equal(manifest_canonical(&m, &canon, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "'disk' is not one of them"));
	m.n_files = 2; /* drops disk and rootfs */
	assert_int_equal(manifest_canonical(&m, &canon, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "'rootfs' is missing"));
	m.n_files = 3;
	memcpy(&m.files[2], &m.files[0], sizeof(m.files[0]));
	assert_int_equal(manifest_canonical(&m, &canon, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "files.kernel appears twice"));
	m.kind = NULL;
	assert_int_equal(manifest_canonical(&m, &canon, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "kind is not set"));
	assert_null(canon);
	manifest_done(&m);
	/* an unknown kind names itself */
	{
		char json[4096];

		(void)snprintf(json, sizeof(json), "%s", good);
		memcpy(strstr(json, "\"linux\""), "\"fooxx\"", 7);
		assert_int_equal(manifest_parse(json, strlen(json), &m, &e), -EINVAL);
		assert_non_null(strstr(e.msg, "manifest: unknown image kind 'fooxx'"));
	}
}

/* A xen manifest: five files and the hypervisor fields; the canonical form has them in
 * key order, and a linux manifest may carry them too (optional there). */
#define BID "4f1bc2a2c0ed0c3e5d3f2e6a7c9b0a1d2e3f4a5b"
#define XEN_FILES                                                                            \
	"\"files\": {\"rootfs\": {\"size\": 300, \"path\": \"rootfs.squashfs\", \"sha256\": \"" HC "\"},\n" \
	"  \"kernel\": {\"path\": \"vmlinuz\", \"sha256\": \"" HA "\", \"size\": 100},\n"            \
	"  \"hypervisor\": {\"path\": \"xen\", \"sha256\": \"" HD "\", \"size\": 400},\n"             \
	"  \"hypervisor_efi\": {\"path\": \"xen.efi\", \"sha256\": \"" HE "\", \"size\": 500},\n"     \
	"  \"initrd\": {\"path\": \"initrd\", \"sha256\": \"" HB "\", \"size\": 200}}"
#define XEN_HEAD                                                                             \
	"{\"name\": \"xen\", \"format\": 1, \"kind\": \"xen\",\n"                                   \
	" \"built\": \"2026-11-25T03:00:00Z\", \"recipe_sha256\": \"" HD "\",\n"                   \
	" \"kernel_version\": \"6.1.0-56-amd64\", \"kernel_banner\": \"6.1.0-56-amd64 (x) #1 SMP\",\n" \
	" \"cmdline\": \"console=hvc0\",\n"
#define XEN_HV ", \"hypervisor_version\": \"4.17.7\", \"hypervisor_build_id\": \"" BID "\""
#define XEN_CMD ", \"hypervisor_cmdline\": \"dom0_mem=1024M,max:1024M dom0_max_vcpus=1 console=com1\""
static const char good_xen[] = XEN_HEAD XEN_FILES XEN_HV XEN_CMD "}";

static void
test_hypervisor(void **state)
{
	struct manifest m, m2;
	struct dl_err e = {};
	char *canon = NULL, id[SHA256_HEX_SIZE], id2[SHA256_HEX_SIZE];

	(void)state;
	assert_int_equal(manifest_parse(good_xen, strlen(good_xen), &m, &e), 0);
	assert_string_equal(m.kind->name, "xen");
	assert_int_equal(m.n_files, 5);
	assert_string_equal(m.hypervisor_version, "4.17.7");
	assert_string_equal(m.hypervisor_build_id, BID);
	assert_string_equal(m.hypervisor_cmdline,
	    "dom0_mem=1024M,max:1024M dom0_max_vcpus=1 console=com1");
	assert_int_equal(manifest_canonical(&m, &canon, &e), 0);
	assert_non_null(strstr(canon, "\"hypervisor_build_id\":\"" BID "\",\"hypervisor_cmdline\":"
	    "\"dom0_mem=1024M,max:1024M dom0_max_vcpus=1 console=com1\",\"hypervisor_version\":"
	    "\"4.17.7\",\"kernel_banner\""));
	/* round trip keeps the id; each field changes it */
	assert_int_equal(manifest_id(&m, id, &e), 0);
	assert_int_equal(manifest_parse(canon, strlen(canon), &m2, &e), 0);
	assert_int_equal(manifest_id(&m2, id2, &e), 0);
	assert_string_equal(id, id2);
	free(m2.hypervisor_cmdline);
	m2.hypervisor_cmdline = NULL; /* absent: left out of the canonical form */
	assert_int_equal(manifest_id(&m2, id2, &e), 0);
	assert_string_not_equal(id, id2);
	m2.hypervisor_build_id[0] = '5';
	assert_int_equal(manifest_id(&m2, id, &e), 0);
	assert_string_not_equal(id, id2);
	/* a xen manifest must say what its hypervisor is */
	free(m2.hypervisor_build_id);
	m2.hypervisor_build_id = strdup("");
	assert_int_equal(manifest_id(&m2, id, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "a xen image needs hypervisor_build_id"));
	manifest_done(&m2);
	free(canon);
	manifest_done(&m);

	/* the UEFI binary's id: optional, in the id when set, hex like the other */
	assert_int_equal(manifest_parse(good_xen, strlen(good_xen), &m, &e), 0);
	assert_int_equal(manifest_id(&m, id, &e), 0);
	m.hypervisor_efi_build_id = strdup("06d44821da0ad7671fd72bb991f319eb01000000");
	assert_int_equal(manifest_canonical(&m, &canon, &e), 0);
	assert_non_null(strstr(canon, "\"hypervisor_efi_build_id\":\"06d44821"));
	assert_int_equal(manifest_parse(canon, strlen(canon), &m2, &e), 0);
	assert_string_equal(m2.hypervisor_efi_build_id, m.hypervisor_efi_build_id);
	assert_int_equal(manifest_id(&m2, id2, &e), 0);
	assert_string_not_equal(id, id2);
	manifest_done(&m2);
	free(canon);
	free(m.hypervisor_efi_build_id);
	m.hypervisor_efi_build_id = strdup("06D4");
	assert_int_equal(manifest_id(&m, id, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "hypervisor_efi_build_id '06D4'"));
	manifest_done(&m);
	/* what a dom0 reads: up to the first zero byte */
	{
		char seen[MAX_HYPERVISOR_BUILD_ID + 1];

		manifest_build_id_as_seen("06d44821da0ad7671fd72bb991f319eb01000000", seen,
		    sizeof(seen));
		assert_string_equal(seen, "06d44821da0ad7671fd72bb991f319eb01");
		manifest_build_id_as_seen(BID, seen, sizeof(seen));
		assert_string_equal(seen, BID);
		manifest_build_id_as_seen("00ab", seen, sizeof(seen));
		assert_string_equal(seen, "");
		manifest_build_id_as_seen("a00b", seen, sizeof(seen)); /* "a0" "0b": no zero byte */
		assert_string_equal(seen, "a00b");
	}

	/* optional on linux: good carries none and keeps its frozen id (test_frozen_ids);
	 * with them, they are in the id */
	{
		static const char linux_hv[] = GOOD_HEAD GOOD_FILES XEN_HV "}";

		assert_int_equal(manifest_parse(linux_hv, strlen(linux_hv), &m, &e), 0);
		assert_int_equal(manifest_canonical(&m, &canon, &e), 0);
		assert_non_null(strstr(canon, "\"hypervisor_version\":\"4.17.7\""));
		assert_null(strstr(canon, "hypervisor_cmdline"));
		free(canon);
		manifest_done(&m);
	}
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
	{ "{\"format\": 1, \"name\": \"compute\", \"kind\": \"windows\", \"built\": \"2026-11-25T03:00:00Z\", "
	  "\"recipe_sha256\": \"" HD "\", \"kernel_version\": \"6.1\", \"kernel_banner\": \"b\", "
	  "\"cmdline\": \"\", " GOOD_FILES "}", "kind 'windows'" },
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
	/* the hypervisor fields */
	{ XEN_HEAD XEN_FILES XEN_CMD "}", "a xen image needs hypervisor_version" },
	{ XEN_HEAD XEN_FILES ", \"hypervisor_version\": \"4.17.7\"}", "a xen image needs hypervisor_build_id" },
	{ XEN_HEAD XEN_FILES ", \"hypervisor_version\": \"\", \"hypervisor_build_id\": \"" BID "\"}",
	  "never \"\"" },
	{ XEN_HEAD XEN_FILES XEN_HV ", \"hypervisor_cmdline\": \"\"}", "never \"\"" },
	{ XEN_HEAD XEN_FILES ", \"hypervisor_version\": \"v4.17\", \"hypervisor_build_id\": \"" BID "\"}",
	  "hypervisor_version 'v4.17'" },
	{ XEN_HEAD XEN_FILES ", \"hypervisor_version\": \"4.17 7\", \"hypervisor_build_id\": \"" BID "\"}",
	  "hypervisor_version '4.17 7'" },
	{ XEN_HEAD XEN_FILES ", \"hypervisor_version\": \"4.17.7\", \"hypervisor_build_id\": \"ABCD\"}",
	  "hypervisor_build_id 'ABCD'" },
	{ XEN_HEAD XEN_FILES ", \"hypervisor_version\": \"4.17.7\", \"hypervisor_build_id\": \"abc\"}",
	  "hypervisor_build_id 'abc'" },
	{ XEN_HEAD XEN_FILES ", \"hypervisor_version\": \"4.17.7\", \"hypervisor_build_id\": \""
	  H("abc") "\"}", "hypervisor_build_id" },
	{ XEN_HEAD XEN_FILES XEN_HV ", \"hypervisor_cmdline\": \"a\\nb\"}", "hypervisor_cmdline" },
	{ XEN_HEAD XEN_FILES XEN_HV ", \"hypervisor_cmdline\": 1}", "hypervisor_cmdline" },
	{ XEN_HEAD XEN_FILES XEN_HV ", \"hypervisor_version\": \"4.17.7\"}", "duplicate" },
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

/* The roles of a linux manifest and their file names are the kind table's (lib/kind.h). */
static void
test_roles(void **state)
{
	const struct kind *linux_kind = kind_find("linux");

	(void)state;
	assert_string_equal(kind_role(linux_kind, "rootfs")->file, "rootfs.squashfs");
	assert_string_equal(kind_role(linux_kind, "initrd")->name, "initrd");
	assert_null(kind_role(linux_kind, "vmlinuz"));
	assert_null(kind_role(linux_kind, NULL));
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
		cmocka_unit_test(test_frozen_ids),
		cmocka_unit_test(test_kind_roles),
		cmocka_unit_test(test_built_in_code),
		cmocka_unit_test(test_hypervisor),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
