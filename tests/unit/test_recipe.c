/* SPDX-License-Identifier: MIT */
/* imagebuild/recipe.c: image.conf as documented in docs/images.md, good and bad. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../imagebuild/recipe.h"

static void
test_tiny(void **state)
{
	static const char conf[] = "# comment\n\nname = tiny\nbase=busybox\n"
	    "cmdline = console=ttyS0 quiet panic=10\nmodules = e1000e, virtio_blk\n";
	struct recipe r;
	struct dl_err e = {};

	(void)state;
	assert_int_equal(recipe_parse("image.conf", conf, strlen(conf), &r, &e), 0);
	assert_string_equal(r.name, "tiny");
	assert_int_equal(r.base, RECIPE_BASE_BUSYBOX);
	assert_string_equal(r.cmdline, "console=ttyS0 quiet panic=10");
	assert_int_equal(r.modules.n, 2);
	assert_string_equal(r.modules.v[1], "virtio_blk");
	assert_string_equal(r.overlay, "overlay");
	assert_null(r.suite); /* debootstrap defaults stay out of other bases */
	recipe_done(&r);
}

static void
test_debootstrap(void **state)
{
	static const char conf[] = "name=compute\nbase=debootstrap\npackages = systemd openssh-server\n"
	    "packages=linux-image-amd64\nmirror=http://deb.debian.org/debian\n";
	struct recipe r;
	struct dl_err e = {};

	(void)state;
	assert_int_equal(recipe_parse("image.conf", conf, strlen(conf), &r, &e), 0);
	assert_int_equal(r.packages.n, 3);
	assert_string_equal(r.packages.v[2], "linux-image-amd64");
	assert_string_equal(r.suite, "bookworm");
	assert_string_equal(r.variant, "minbase");
	assert_string_equal(r.cmdline, "console=ttyS0 quiet");
	assert_false(recipe_kernel_is_path(&r));
	recipe_done(&r);
}

/* Bad recipes and what the message must say (with the line where there is one). */
static const struct {
	const char *conf;
	const char *msg;
} bad[] = {
	{ "name=x1\nbase=busybox\nflavour=vanilla\n", "image.conf:3: unknown key 'flavour'" },
	{ "name=x1\nname=x2\nbase=busybox\n", "image.conf:2: duplicate key 'name'" },
	{ "base=busybox\n", "missing key 'name'" },
	{ "name=x1\n", "missing key 'base'" },
	{ "name=X1\nbase=busybox\n", "image.conf:1: name: invalid value 'X1'" },
	{ "name=x1\nbase=rpm\n", "image.conf:2: base: 'rpm'" },
	{ "name=x1\nbase=busybox\nsuite=bookworm\n", "'suite' applies only to base=debootstrap" },
	{ "name=x1\nbase=tarball\n", "base=tarball needs 'source'" },
	{ "name=x1\nbase=busybox\nsource=x.tar\n", "'source' does not apply" },
	{ "name=x1\nbase=directory\nsource=/srv/root\npackages=vim\n", "'packages' applies only" },
	{ "name=x1\nbase=debootstrap\npackages=ok -rf\n", "packages: '-rf' is not a valid name" },
	{ "name=x1\nbase=debootstrap\nsuite=--foreign\n", "suite: invalid value '--foreign'" },
	{ "name=x1\nbase=debootstrap\nmirror=ftp://x\n", "mirror: invalid value 'ftp://x'" },
	{ "name=x1\nbase=busybox\nkernel=linux-image-amd64\n", "kernel: a package name needs base=debootstrap" },
	{ "name=x1\nbase=busybox\nmodules=a/b\n", "modules: 'a/b' is not a valid name" },
	{ "name=x1\nbase=busybox\njust words\n", "image.conf:3: expected key=value" },
	{ "name=x1\nbase=busybox\nName=x\n", "image.conf:3: bad character in key" },
	/* kinds and their keys */
	{ "name=x1\nbase=busybox\nkind=windows\n", "image.conf:3: kind: 'windows' is not linux, kvm, xen or iscsi" },
	/* iSCSI disks: base=disk, disk_size, up_probe */
	{ "name=x1\nbase=disk\n", "base=disk needs 'source'" },
	{ "name=x1\nbase=disk\nsource=w.img\nkind=linux\n", "base=disk makes kind=iscsi, not kind=linux" },
	{ "name=x1\nbase=disk\nsource=w.img\ndisk_size=1G\n", "'disk_size' does not apply to base=disk" },
	{ "name=x1\nbase=disk\nsource=w.img\npackages=vim\n", "'packages' applies only" },
	{ "name=x1\nbase=disk\nsource=w.img\nmodules=e1000\n", "'modules' does not apply to base=disk" },
	{ "name=x1\nbase=disk\nsource=w.img\nkernel=/k\n", "'kernel' does not apply to base=disk" },
	{ "name=x1\nbase=disk\nsource=w.img\nup_probe=udp:53\n", "image.conf:4: up_probe: invalid value 'udp:53'" },
	{ "name=x1\nbase=disk\nsource=w.img\nup_probe=tcp:0\n", "up_probe: invalid value 'tcp:0'" },
	{ "name=x1\nbase=disk\nsource=w.img\nup_probe=tcp:65536\n", "up_probe: invalid value 'tcp:65536'" },
	{ "name=x1\nbase=disk\nsource=w.img\nup_probe=tcp:22\nup_probe=tcp:22\n", "image.conf:5: duplicate key 'up_probe'" },
	{ "name=x1\nbase=debootstrap\nkind=iscsi\n", "kind=iscsi with base=debootstrap needs 'disk_size'" },
	{ "name=x1\nbase=busybox\nkind=iscsi\n", "kind=iscsi needs base=disk or debootstrap, not base=busybox" },
	{ "name=x1\nbase=debootstrap\nup_probe=tcp:22\n", "'up_probe' applies only to kind=iscsi, not kind=linux" },
	{ "name=x1\nbase=debootstrap\ndisk_size=1G\n", "'disk_size' applies only to kind=iscsi" },
	{ "name=x1\nbase=debootstrap\nkind=iscsi\ndisk_size=1G\ndisk_size=2G\n", "image.conf:5: duplicate key 'disk_size'" },
	{ "name=x1\nbase=debootstrap\nkind=iscsi\ndisk_size=100M\n", "disk_size: '100M' is not a size" },
	{ "name=x1\nbase=debootstrap\nkind=iscsi\ndisk_size=3T\n", "disk_size: '3T' is not a size" },
	{ "name=x1\nbase=debootstrap\nkind=iscsi\ndisk_size=1G5\n", "disk_size: '1G5'" },
	{ "name=x1\nbase=debootstrap\nkind=iscsi\ndisk_size=1000000001\n", "disk_size: '1000000001'" },
	{ "name=x1\nbase=debootstrap\nkind=iscsi\ndisk_size=99999999999999999999G\n", "disk_size: '9999" },
	{ "name=x1\nbase=debootstrap\nkind=iscsi\ndisk_size=-1G\n", "disk_size: '-1G'" },
	{ "name=x1\nbase=busybox\nkind=kvm\nkind=kvm\n", "image.conf:4: duplicate key 'kind'" },
	{ "name=x1\nbase=busybox\nkind=xen\ndom0_vcpus=1\n", "kind=xen needs 'dom0_mem'" },
	{ "name=x1\nbase=busybox\nkind=xen\ndom0_mem=1G\n", "kind=xen needs 'dom0_vcpus'" },
	{ "name=x1\nbase=busybox\nkind=kvm\ndom0_mem=1G\n", "'dom0_mem' applies only to kind=xen, not kind=kvm" },
	{ "name=x1\nbase=busybox\nxen_cmdline=loglvl=all\n", "'xen_cmdline' applies only to kind=xen, not kind=linux" },
	{ "name=x1\nbase=busybox\nguest_reserve_mib=512\n", "'guest_reserve_mib' applies only to VM hosts" },
	{ "name=x1\nbase=busybox\nkind=xen\ndom0_mem=1024MB\ndom0_vcpus=1\n", "image.conf:4: dom0_mem: invalid value '1024MB'" },
	{ "name=x1\nbase=busybox\nkind=xen\ndom0_mem=0M\ndom0_vcpus=1\n", "dom0_mem: invalid value '0M'" },
	{ "name=x1\nbase=busybox\nkind=xen\ndom0_mem=1G\ndom0_vcpus=0\n", "image.conf:5: dom0_vcpus: number '0' is out of range" },
	{ "name=x1\nbase=busybox\nkind=xen\ndom0_mem=1G\ndom0_vcpus=-1\n", "dom0_vcpus: '-1' is not an unsigned" },
	{ "name=x1\nbase=busybox\nkind=kvm\nguest_reserve_cpus=99999\n", "guest_reserve_cpus: number '99999' is out of range" },
	{ "name=x1\nbase=busybox\nkind=kvm\nguest_reserve_mib=1\nguest_reserve_mib=2\n", "image.conf:5: duplicate key 'guest_reserve_mib'" },
};

static void
test_kinds(void **state)
{
	static const char xen[] = "name=xen\nbase=debootstrap\nkind = xen\ndom0_mem = 1024M\n"
	    "dom0_vcpus = 1\nxen_cmdline = console=com1 com1=115200,8n1 loglvl=info\n"
	    "guest_reserve_mib = 256\nguest_reserve_cpus = 0\n";
	static const char kvm[] = "name=kvm\nbase=debootstrap\nkind=kvm\n";
	struct recipe r;
	struct dl_err e = {};
	char *cmd = NULL;

	(void)state;
	assert_int_equal(recipe_parse("image.conf", xen, strlen(xen), &r, &e), 0);
	assert_string_equal(r.kind->name, "xen");
	assert_int_equal(r.dom0_vcpus, 1);
	assert_int_equal(r.guest_reserve_mib, 256);
	assert_int_equal(recipe_hypervisor_cmdline(&r, &cmd), 0);
	assert_string_equal(cmd, "dom0_mem=1024M,max:1024M dom0_max_vcpus=1 "
	    "console=com1 com1=115200,8n1 loglvl=info");
	free(cmd);
	recipe_done(&r);
	assert_int_equal(recipe_parse("image.conf", kvm, strlen(kvm), &r, &e), 0);
	assert_string_equal(r.kind->name, "kvm");
	assert_int_equal(r.guest_reserve_mib, 0);
	assert_int_equal(recipe_hypervisor_cmdline(&r, &cmd), -EINVAL);
	recipe_done(&r);
	/* iSCSI disks: base=disk implies kind iscsi; debootstrap makes one with disk_size */
	{
		static const char win[] = "name=win\nbase=disk\nsource=win.img\nup_probe = tcp:3389\n";
		static const char deb[] = "name=disk-debian\nbase=debootstrap\nkind=iscsi\n"
		    "disk_size=1G\nup_probe=tcp:22\npackages=open-iscsi\n";

		assert_int_equal(recipe_parse("image.conf", win, strlen(win), &r, &e), 0);
		assert_string_equal(r.kind->name, "iscsi");
		assert_int_equal(r.base, RECIPE_BASE_DISK);
		assert_string_equal(r.source, "win.img");
		assert_string_equal(r.up_probe, "tcp:3389");
		assert_int_equal(r.disk_size, 0);
		assert_null(r.suite);
		recipe_done(&r);
		assert_int_equal(recipe_parse("image.conf", deb, strlen(deb), &r, &e), 0);
		assert_string_equal(r.kind->name, "iscsi");
		assert_int_equal(r.disk_size, 1ULL << 30);
		assert_string_equal(r.up_probe, "tcp:22");
		recipe_done(&r);
	}
	/* no kind: linux, as every recipe before kinds */
	assert_int_equal(recipe_parse("image.conf", "name=a1\nbase=busybox\n", 21, &r, &e), 0);
	assert_string_equal(r.kind->name, "linux");
	recipe_done(&r);
}

static void
test_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct recipe r = {};
		struct dl_err e = {};
		int rc = recipe_parse("image.conf", bad[i].conf, strlen(bad[i].conf), &r, &e);

		if (rc >= 0 || !strstr(e.msg, bad[i].msg))
			print_error("bad[%zu]: rc=%d msg='%s', want '%s'\n", i, rc, e.msg, bad[i].msg);
		assert_true(rc < 0);
		assert_non_null(strstr(e.msg, bad[i].msg));
		assert_null(r.name);
	}
}

static void
test_disk_size(void **state)
{
	static const struct {
		const char *s;
		uint64_t v; /* 0: refused */
	} cases[] = {
		{ "256M", 256ULL << 20 }, { "1G", 1ULL << 30 }, { "2T", 2ULL << 40 },
		{ "268435456", 256ULL << 20 }, { "262144K", 256ULL << 20 }, { "1025M", 1025ULL << 20 },
		{ "255M", 0 }, { "3T", 0 }, { "2049G", 0 }, { "262145K", 0 }, { "", 0 }, { "G", 0 },
		{ "1g", 0 }, { "1GB", 0 }, { " 1G", 0 }, { "999999999999999T", 0 },
		{ "9999999999999999", 0 }, { "0", 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dl_err e = {};
		uint64_t v = 7;
		int rc = recipe_parse_disk_size(cases[i].s, &v, &e);

		if (cases[i].v) {
			assert_int_equal(rc, 0);
			assert_int_equal(v, cases[i].v);
		} else {
			if (rc >= 0)
				print_error("disk_size '%s' accepted\n", cases[i].s);
			assert_int_equal(rc, -EINVAL);
			assert_int_equal(v, 7);
			assert_non_null(strstr(e.msg, "disk_size"));
		}
	}
}

static void
test_nul(void **state)
{
	static const char conf[] = "name=x1\0\nbase=busybox\n";
	struct recipe r;
	struct dl_err e = {};

	(void)state;
	assert_true(recipe_parse("image.conf", conf, sizeof(conf) - 1, &r, &e) < 0);
	assert_non_null(strstr(e.msg, "NUL"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tiny),
		cmocka_unit_test(test_debootstrap),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_nul),
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_disk_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
