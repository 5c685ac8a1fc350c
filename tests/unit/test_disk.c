/* SPDX-License-Identifier: MIT */
/* imagebuild/disk.c, its pure parts: the layout of a made disk, its sfdisk script, and
 * what the first bytes of an imported disk say (raw MBR/GPT, qcow2 and its refusals). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../imagebuild/disk.h"
#include "../../imagebuild/recipe.h"

static void
test_layout(void **state)
{
	struct disk_layout l;
	struct dl_err e = {};
	char buf[512];
	int n;

	(void)state;
	assert_int_equal(disk_layout_make(1ULL << 30, &l, &e), 0);
	assert_int_equal(l.boot_start, 1 << 20);
	assert_int_equal(l.boot_size, 128 << 20);
	assert_int_equal(l.root_start, 129 << 20);
	assert_int_equal(l.root_size, (1ULL << 30) - (129 << 20));
	assert_int_equal(l.root_start + l.root_size, l.size);
	n = disk_sfdisk_script(&l, buf, sizeof(buf));
	assert_true(n > 0);
	assert_string_equal(buf, "label: dos\nlabel-id: 0x646c6b31\nunit: sectors\n"
	    "start=2048, size=262144, type=6, bootable\n"
	    "start=264192, size=1832960, type=83\n");
	assert_int_equal(disk_sfdisk_script(&l, buf, 20), -E2BIG);
	/* the limits of disk_size hold here too */
	assert_int_equal(disk_layout_make(MIN_RECIPE_DISK_SIZE, &l, &e), 0);
	assert_int_equal(l.root_size, 127ULL << 20); /* 256M minus 1M and the 128M boot partition */
	assert_int_equal(disk_layout_make(MAX_RECIPE_DISK_SIZE, &l, &e), 0);
	assert_int_equal(disk_layout_make(MIN_RECIPE_DISK_SIZE - (1 << 20), &l, &e), -EINVAL);
	assert_int_equal(disk_layout_make((1ULL << 30) + 512, &l, &e), -EINVAL);
	assert_int_equal(disk_layout_make(MAX_RECIPE_DISK_SIZE + (1 << 20), &l, &e), -EINVAL);
}

static void
be32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static void
be64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

/* A qcow2 v3 header of a 1 GiB disk with nothing special. */
static void
qcow2(uint8_t *b)
{
	memset(b, 0, DISK_PROBE_BYTES);
	memcpy(b, "QFI\xfb", 4);
	be32(b + 4, 3);
	be32(b + 20, 16);
	be64(b + 24, 1ULL << 30);
	be32(b + 100, 104);
}

static void
expect_bad(const uint8_t *b, size_t len, uint64_t size, const char *msg)
{
	enum disk_format f = DISK_FORMAT_RAW;
	struct dl_err e = {};
	int rc = disk_probe(b, len, size, &f, &e);

	if (rc >= 0 || !strstr(e.msg, msg))
		print_error("rc=%d msg='%s', want '%s'\n", rc, e.msg, msg);
	assert_int_equal(rc, -EINVAL);
	assert_non_null(strstr(e.msg, msg));
}

static void
test_probe(void **state)
{
	uint8_t b[DISK_PROBE_BYTES];
	enum disk_format f;
	struct dl_err e = {};

	(void)state;
	/* raw: an MBR (also GPT's protective one), or a GPT header alone */
	memset(b, 0, sizeof(b));
	b[510] = 0x55;
	b[511] = 0xaa;
	assert_int_equal(disk_probe(b, sizeof(b), 1 << 30, &f, &e), 0);
	assert_int_equal(f, DISK_FORMAT_RAW);
	memset(b, 0, sizeof(b));
	memcpy(b + 512, "EFI PART", 8);
	assert_int_equal(disk_probe(b, sizeof(b), 1 << 30, &f, &e), 0);
	assert_int_equal(f, DISK_FORMAT_RAW);
	memset(b, 0, sizeof(b));
	expect_bad(b, sizeof(b), 1 << 30, "not a disk: no MBR boot signature");
	memcpy(b, "\x53\xef", 2); /* a bare file system is not a disk either */
	expect_bad(b, sizeof(b), 1 << 30, "not a disk");
	expect_bad(b, 0, 0, "size 0");
	b[510] = 0x55;
	b[511] = 0xaa;
	expect_bad(b, 511, 511, "not whole 512-byte sectors");
	expect_bad(b, sizeof(b), (1 << 30) + 1, "not whole 512-byte sectors");
	/* qcow2 */
	qcow2(b);
	assert_int_equal(disk_probe(b, sizeof(b), 196616, &f, &e), 0);
	assert_int_equal(f, DISK_FORMAT_QCOW2);
	be32(b + 4, 2);
	assert_int_equal(disk_probe(b, 72, 196616, &f, &e), 0);
	qcow2(b);
	be64(b + 8, 0x200);
	be32(b + 16, 10);
	expect_bad(b, sizeof(b), 196616, "a qcow2 with a backing file");
	qcow2(b);
	be64(b + 24, 0);
	expect_bad(b, sizeof(b), 196616, "virtual size 0");
	qcow2(b);
	be32(b + 32, 2);
	expect_bad(b, sizeof(b), 196616, "encrypted");
	qcow2(b);
	be64(b + 72, 1 << 2);
	expect_bad(b, sizeof(b), 196616, "external data file");
	qcow2(b);
	be32(b + 4, 4);
	expect_bad(b, sizeof(b), 196616, "qcow2 version 4");
	qcow2(b);
	expect_bad(b, 80, 80, "cut short");
	expect_bad(b, 4, 4, "cut short");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_probe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
