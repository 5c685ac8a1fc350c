/* SPDX-License-Identifier: MIT */
/* imagebuild/kmod.c against a real Debian kernel's modules.dep: the tree printed by
 * mk/fetch-kernel.sh (DISKLESS_KERNEL_DIR overrides). Expectations come from that
 * kernel's own modules.dep (checked with `modprobe -d <tree> --show-depends`). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../imagebuild/kernel.h"
#include "../../imagebuild/kmod.h"

static struct kernel k;

static int
setup(void **state)
{
	const char *tree = getenv("DISKLESS_KERNEL_DIR");
	struct dl_err e = {};

	(void)state;
	if (!tree)
		tree = "/var/cache/diskless/kernel/kroot";
	if (kernel_find(tree, &k, &e) < 0) {
		fprintf(stderr, "no kernel tree: %s (run mk/fetch-kernel.sh)\n", e.msg);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	kernel_done(&k);
	return 0;
}

static ssize_t
index_of(const struct kmod_set *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->m[i].name, name))
			return (ssize_t)i;
	return -1;
}

static void
test_default_set(void **state)
{
	static const char *const nics[] = { KMOD_NIC_MODULES };
	static const char *const root[] = { KMOD_ROOT_MODULES };
	/* Pairs (a, b): b depends on a, so a must come first. */
	static const char *const before[][2] = {
		{ "virtio_ring", "virtio_net" }, { "virtio", "virtio_net" },
		{ "failover", "net_failover" }, { "net_failover", "virtio_net" },
		{ "virtio_pci_modern_dev", "virtio_pci" }, { "dca", "igb" },
		{ "mdio", "ixgbe" }, { "mlxfw", "mlx5_core" },
	};
	struct kmod_set s = {};
	struct dl_err e = {};

	(void)state;
	assert_int_equal(kmod_resolve(k.moddir, nics, sizeof(nics) / sizeof(*nics), true, &s, &e), 0);
	assert_int_equal(kmod_resolve(k.moddir, root, sizeof(root) / sizeof(*root), false, &s, &e), 0);
	for (size_t i = 0; i < sizeof(before) / sizeof(*before); i++) {
		ssize_t a = index_of(&s, before[i][0]), b = index_of(&s, before[i][1]);
		if (a < 0 || b < 0 || a > b)
			print_error("%s (%zd) must precede %s (%zd)\n", before[i][0], a, before[i][1], b);
		assert_true(a >= 0 && b >= 0 && a < b);
	}
	for (size_t i = 0; i < sizeof(root) / sizeof(*root); i++)
		assert_true(index_of(&s, root[i]) >= 0);
	for (size_t i = 0; i < s.n; i++) {
		assert_non_null(strstr(s.m[i].path, k.moddir));
		assert_int_equal(strncmp(s.m[i].rel, "kernel/", 7), 0);
		for (size_t j = 0; j < i; j++) /* no duplicates */
			assert_string_not_equal(s.m[i].name, s.m[j].name);
	}
	/* Asking again adds nothing. */
	size_t n = s.n;
	assert_int_equal(kmod_resolve(k.moddir, root, sizeof(root) / sizeof(*root), false, &s, &e), 0);
	assert_int_equal(s.n, n);
	kmod_set_done(&s);
}

static void
test_missing(void **state)
{
	static const char *const bogus[] = { "no_such_module_xyz" };
	struct kmod_set s = {};
	struct dl_err e = {};

	(void)state;
	assert_int_equal(kmod_resolve(k.moddir, bogus, 1, true, &s, &e), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(kmod_resolve(k.moddir, bogus, 1, false, &s, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "'no_such_module_xyz'"));
	assert_true(kmod_resolve("/nonexistent/lib/modules/1", bogus, 1, true, &s, &e) < 0);
	kmod_set_done(&s);
}

static void
test_kernel(void **state)
{
	(void)state;
	/* The banner from the bzImage header starts with the release. */
	assert_int_equal(strncmp(k.banner, k.kver, strlen(k.kver)), 0);
	assert_true(k.rd_zstd); /* Debian 12 kernels have CONFIG_RD_ZSTD=y */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_set),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_kernel),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
