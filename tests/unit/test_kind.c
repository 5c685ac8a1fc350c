/* SPDX-License-Identifier: MIT */
/* lib/kind.c, the kind table (issue #10). The linux row's expectations are
 * docs/boot-protocol.md's. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kind.h"
#include "../../bootsvc/boot/nodes.h"

/* A name that is safe as one path component. */
static bool
file_name_is_safe(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n < 64 && !streq(s, ".") && !streq(s, "..") &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

/* Every row: a unique valid name, a template name, roles with unique valid names and
 * unique safe file names (none the version directory's own manifest.json or templates/),
 * phases bootsvc knows in boot order with a reporter each, a receipt over its roles. */
static void
test_table(void **state)
{
	(void)state;
	assert_true(kind_count() >= 1);
	assert_true(kind_count() <= MAX_KINDS);
	assert_null(kind_at(kind_count()));
	for (size_t i = 0; i < kind_count(); i++) {
		const struct kind *k = kind_at(i);
		size_t n_roles = kind_n_roles(k), n_phases = 0;

		print_message("kind %s\n", k->name);
		assert_non_null(k->name);
		assert_true(strlen(k->name) > 0 && strlen(k->name) < MAX_KIND_NAME);
		assert_true(strspn(k->name, "abcdefghijklmnopqrstuvwxyz0123456789-") ==
		    strlen(k->name));
		assert_ptr_equal(kind_find(k->name), k);
		assert_int_equal(kind_index(k), i);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(kind_at(j)->name, k->name);
		/* every kind has a template, loaded from <template_dir>/<tmpl>.ipxe */
		assert_non_null(k->tmpl);
		assert_true(file_name_is_safe(k->tmpl));

		assert_true(n_roles >= 1);
		for (size_t r = 0; r < n_roles; r++) {
			const struct kind_role *role = &k->roles[r];

			assert_true(kind_role_name_is_valid(role->name));
			assert_non_null(role->file);
			assert_true(file_name_is_safe(role->file));
			assert_string_not_equal(role->file, "manifest.json");
			assert_string_not_equal(role->file, "templates");
			assert_int_equal(role->flags & ~(unsigned)(KIND_ROLE_REQUIRED | KIND_ROLE_SERVED), 0);
			assert_ptr_equal(kind_role(k, role->name), role);
			for (size_t q = 0; q < r; q++) {
				assert_string_not_equal(k->roles[q].name, role->name);
				assert_string_not_equal(k->roles[q].file, role->file);
			}
		}

		while (n_phases < MAX_KIND_PHASES && k->phases[n_phases].name)
			n_phases++;
		assert_true(n_phases >= 1);
		/* every boot ends up, reported by something on the node */
		assert_string_equal(k->phases[n_phases - 1].name, "up");
		for (size_t p = 0; p < n_phases; p++) {
			const struct kind_phase *ph = &k->phases[p];

			assert_true(phase_is_valid(ph->name));
			assert_true(phase_is_reportable(ph->name));
			assert_non_null(kind_reporter_to_string(ph->by));
			assert_ptr_equal(kind_phase(k, ph->name), ph);
			if (ph->by == KIND_BY_FETCH) {
				const struct kind_role *role = kind_role(k, ph->fetch_role);

				assert_non_null(role);
				assert_true(role->flags & KIND_ROLE_SERVED);
			} else {
				assert_null(ph->fetch_role);
			}
			for (size_t q = 0; q < p; q++)
				assert_string_not_equal(k->phases[q].name, ph->name);
		}

		assert_true(kind_n_receipt(k) >= 1);
		for (size_t f = 0; f < kind_n_receipt(k); f++) {
			const struct kind_receipt *rc = &k->receipt[f];

			assert_non_null(kind_role(k, rc->role));
			assert_true(rc->measure >= 0 && rc->measure < _KIND_MEASURE_MAX);
			assert_int_equal(kind_receipt_index(k, rc->field), (int)f);
		}
	}
}

/* The linux row is what docs/boot-protocol.md describes. */
static void
test_linux(void **state)
{
	static const struct {
		const char *name, *file;
	} roles[] = { { "kernel", "vmlinuz" }, { "initrd", "initrd" }, { "rootfs", "rootfs.squashfs" } };
	const struct kind *k = kind_find("linux");
	char buf[128];

	(void)state;
	assert_non_null(k);
	assert_string_equal(k->tmpl, "linux");
	/* exactly kernel, initrd, rootfs; all required, all served */
	assert_int_equal(kind_n_roles(k), ELEMENTSOF(roles));
	for (size_t i = 0; i < ELEMENTSOF(roles); i++) {
		assert_string_equal(k->roles[i].name, roles[i].name);
		assert_string_equal(k->roles[i].file, roles[i].file);
		assert_int_equal(k->roles[i].flags, KIND_ROLE_REQUIRED | KIND_ROLE_SERVED);
	}
	kind_roles_describe(k, buf, sizeof(buf));
	assert_string_equal(buf, "exactly kernel, initrd and rootfs");

	/* pxe by bootsvc on the script, loading by bootsvc on the kernel fetch, imaging by
	 * our init, up by dl-report */
	assert_string_equal(k->phases[0].name, "pxe");
	assert_int_equal(k->phases[0].by, KIND_BY_SCRIPT);
	assert_string_equal(k->phases[1].name, "loading");
	assert_int_equal(k->phases[1].by, KIND_BY_FETCH);
	assert_string_equal(k->phases[1].fetch_role, "kernel");
	assert_string_equal(k->phases[2].name, "imaging");
	assert_int_equal(k->phases[2].by, KIND_BY_INIT);
	assert_string_equal(k->phases[3].name, "up");
	assert_int_equal(k->phases[3].by, KIND_BY_IMAGE);
	assert_null(k->phases[4].name);
	assert_string_equal(kind_script_phase(k), "pxe");
	assert_string_equal(kind_fetch_phase(k, "kernel"), "loading");
	assert_null(kind_fetch_phase(k, "initrd"));
	assert_null(kind_fetch_phase(k, "rootfs"));
	assert_null(kind_fetch_phase(k, NULL));
	assert_true(kind_passes_phase(k, "imaging"));
	assert_false(kind_passes_phase(k, "discovered"));
	assert_false(kind_passes_phase(k, "failed"));
	assert_null(kind_phase_prev(k, "pxe"));
	assert_string_equal(kind_phase_prev(k, "loading"), "pxe");
	assert_string_equal(kind_phase_next(k, "loading"), "imaging");
	assert_null(kind_phase_next(k, "up"));
	assert_null(kind_phase_next(k, "hold"));

	/* the receipt: rootfs by sha256, initrd by tree hash, kernel by banner; rootfs first */
	assert_int_equal(kind_n_receipt(k), 3);
	assert_string_equal(k->receipt[0].field, "rootfs");
	assert_int_equal(k->receipt[0].measure, KIND_MEASURE_SHA256);
	assert_string_equal(k->receipt[1].field, "initrd");
	assert_int_equal(k->receipt[1].measure, KIND_MEASURE_INITRD_TREE);
	assert_string_equal(k->receipt[2].field, "kernel");
	assert_int_equal(k->receipt[2].measure, KIND_MEASURE_KERNEL);
	assert_int_equal(kind_receipt_index(k, "disk"), -ENOENT);
	kind_receipt_describe(k, buf, sizeof(buf));
	assert_string_equal(buf, "kernel, initrd, rootfs");
}

/* A kind shaped like the iSCSI one to come (not in the table): a disk it sanboots, an
 * optional file, no init, so no imaging. The lookups work on any row. */
static const struct kind sanboot = {
	.name = "sanboot",
	.tmpl = "sanboot",
	.roles = {
		{ "disk", "disk.img", KIND_ROLE_REQUIRED },
		{ "config", "config.xml", KIND_ROLE_REQUIRED | KIND_ROLE_SERVED },
		{ "drivers", "drivers.iso", KIND_ROLE_SERVED },
	},
	.phases = {
		{ "pxe", KIND_BY_SCRIPT, NULL },
		{ "loading", KIND_BY_FETCH, "config" },
		{ "up", KIND_BY_IMAGE, NULL },
	},
	.receipt = { { "disk", "disk", KIND_MEASURE_SHA256 } },
};

static void
test_other_shapes(void **state)
{
	char buf[128], small[12];

	(void)state;
	assert_false(kind_passes_phase(&sanboot, "imaging"));
	assert_string_equal(kind_phase_next(&sanboot, "loading"), "up");
	assert_string_equal(kind_fetch_phase(&sanboot, "config"), "loading");
	kind_roles_describe(&sanboot, buf, sizeof(buf));
	assert_string_equal(buf, "disk and config, optionally drivers");
	kind_roles_describe(&sanboot, small, sizeof(small));
	assert_string_equal(small, "disk and co"); /* truncated, terminated */
	kind_receipt_describe(&sanboot, buf, sizeof(buf));
	assert_string_equal(buf, "disk");
}

static void
test_unknown_kind(void **state)
{
	const struct kind *k = &sanboot;
	struct dl_err e = { 0 };

	(void)state;
	assert_null(kind_find("foo"));
	assert_null(kind_find(""));
	assert_null(kind_find("Linux"));
	assert_null(kind_find(NULL));
	assert_int_equal(kind_lookup("foo", &k, &e), -EINVAL);
	assert_string_equal(e.msg, "unknown image kind 'foo'");
	assert_ptr_equal(k, &sanboot); /* untouched */
	/* a name from outside is quoted safely */
	assert_int_equal(kind_lookup("a\nlevel=err", &k, &e), -EINVAL);
	assert_null(strchr(e.msg, '\n'));
	assert_int_equal(kind_lookup("linux", &k, &e), 0);
	assert_ptr_equal(k, kind_find("linux"));
}

static void
test_role_names(void **state)
{
	static const struct {
		const char *s;
		bool ok;
	} v[] = {
		{ "kernel", true }, { "a", true }, { "root_fs2", true },
		{ "a23456789012345", true }, /* 15 */
		{ "a234567890123456", false }, /* 16 */
		{ "", false }, { NULL, false }, { "Kernel", false }, { "2nd", false },
		{ "_x", false }, { "root-fs", false }, { "a/b", false }, { "..", false },
		{ "rootfs.squashfs", false }, { "kernel ", false },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		if (kind_role_name_is_valid(v[i].s) != v[i].ok)
			print_error("'%s'\n", v[i].s ? v[i].s : "(null)");
		assert_int_equal(kind_role_name_is_valid(v[i].s), v[i].ok);
	}
	/* what an image URL may name: a role of some kind, as the table's own string */
	assert_ptr_equal(kind_any_role("kernel"), kind_role(kind_find("linux"), "kernel")->name);
	assert_null(kind_any_role("vmlinuz"));
	assert_null(kind_any_role("manifest.json"));
	assert_null(kind_any_role(""));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_linux),
		cmocka_unit_test(test_other_shapes),
		cmocka_unit_test(test_unknown_kind),
		cmocka_unit_test(test_role_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
