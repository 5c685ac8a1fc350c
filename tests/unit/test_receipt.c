/* SPDX-License-Identifier: MIT */
/* bootsvc/receipt.c: a node's boot receipt against the image version it was served.
 * BANNER is the real kernel_version string of Debian 12's vmlinuz-6.1.0-56-amd64 bzImage
 * header (setup header field at 0x20e, read from /var/cache/diskless/kernel); PROC is
 * the /proc/version that kernel prints: init/version-timestamp.c's linux_proc_banner, i.e.
 * "Linux version " UTS_RELEASE " (" LINUX_COMPILE_BY "@" LINUX_COMPILE_HOST ") ("
 * LINUX_COMPILER ") " UTS_VERSION "\n", with the compiler string of Debian's gcc-12. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../bootsvc/boot/receipt.h"
#include "kind.h"

#define BANNER "6.1.0-56-amd64 (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC " \
	"Debian 6.1.192-2 (2026-11-16)"
#define PROC "Linux version 6.1.0-56-amd64 (debian-kernel@lists.debian.org) " \
	"(gcc-12 (Debian 12.2.0-14) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP " \
	"PREEMPT_DYNAMIC Debian 6.1.192-2 (2026-11-16)\n"
#define KSHA "1111111111111111111111111111111111111111111111111111111111111111"
#define ISHA "2222222222222222222222222222222222222222222222222222222222222222"
#define RSHA "3333333333333333333333333333333333333333333333333333333333333333"
#define XSHA "abcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcd"

static const struct {
	int line;
	const char *banner, *sha, *reported;
	bool want;
} kernel_vectors[] = {
	{ __LINE__, BANNER, KSHA, PROC, true },
	{ __LINE__, BANNER, KSHA, PROC "  ", true }, /* trailing blanks after the newline */
	{ __LINE__, BANNER, KSHA, "Linux version 6.1.0-56-amd64 (debian-kernel@lists.debian.org) "
	    "(gcc-12 (Debian 12.2.0-14) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP "
	    "PREEMPT_DYNAMIC Debian 6.1.192-2 (2026-11-16)", true }, /* no newline */
	{ __LINE__, BANNER, KSHA, BANNER, true }, /* the banner itself */
	{ __LINE__, BANNER, KSHA, KSHA, true },   /* a measured kernel hash */
	{ __LINE__, "", KSHA, KSHA, true },
	{ __LINE__, BANNER, KSHA, XSHA, false },
	{ __LINE__, BANNER, NULL, KSHA, false },
	{ __LINE__, NULL, NULL, PROC, false },
	{ __LINE__, BANNER, KSHA, NULL, false },
	{ __LINE__, BANNER, KSHA, "", false },
	/* another build of the same release: the tail from '#' differs */
	{ __LINE__, BANNER, KSHA, "Linux version 6.1.0-56-amd64 (debian-kernel@lists.debian.org) "
	    "(gcc-12 (Debian 12.2.0-14) 12.2.0) #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-1 "
	    "(2026-11-01)\n", false },
	/* another release with the same tail */
	{ __LINE__, BANNER, KSHA, "Linux version 6.1.0-55-amd64 (debian-kernel@lists.debian.org) "
	    "(gcc-12) #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2 (2026-11-16)\n", false },
	/* a release that only starts with the expected one */
	{ __LINE__, BANNER, KSHA, "Linux version 6.1.0-56-amd64-rt (x) (gcc) #1 SMP "
	    "PREEMPT_DYNAMIC Debian 6.1.192-2 (2026-11-16)\n", false },
	{ __LINE__, BANNER, KSHA, "Linux version 6.1.0-56-amd64", false }, /* no build tail */
	{ __LINE__, BANNER, KSHA, "Linux version 6.1.0-56-amd64 #1 SMP PREEMPT_DYNAMIC Debian "
	    "6.1.192-2 (2026-11-16) extra\n", false },
	{ __LINE__, "6.1.0-56-amd64", KSHA, PROC, false }, /* a banner without '#' */
	{ __LINE__, BANNER, KSHA, "Linux version ", false },
};

static void
test_kernel_matches(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(kernel_vectors); i++) {
		bool got = receipt_kernel_matches(kernel_vectors[i].banner, kernel_vectors[i].sha,
		    kernel_vectors[i].reported);

		if (got != kernel_vectors[i].want)
			print_error("%s:%d: got %d\n", __FILE__, kernel_vectors[i].line, got);
		_assert_int_equal(got, kernel_vectors[i].want, __FILE__, kernel_vectors[i].line);
	}
}

/* A linux receipt as the node's init writes it: {kernel, initrd, rootfs}. */
static bool
receipt_check_linux(const struct image_rec *img, const char *kernel, const char *initrd,
    const char *rootfs, char *buf, size_t size)
{
	struct receipt r;

	receipt_init(&r, kind_find("linux"));
	assert_int_equal(receipt_set(&r, "kernel", kernel), 0);
	assert_int_equal(receipt_set(&r, "initrd", initrd), 0);
	assert_int_equal(receipt_set(&r, "rootfs", rootfs), 0);
	return receipt_check(img, &r, buf, size);
}

static const struct {
	int line;
	const char *kernel, *initrd, *rootfs;
	const char *err; /* NULL: matches */
} check_vectors[] = {
	{ __LINE__, PROC, ISHA, RSHA, NULL },
	{ __LINE__, KSHA, ISHA, RSHA, NULL },
	{ __LINE__, PROC, ISHA, XSHA, "booted rootfs abcdefabcdefabcd, expected 3333333333333333" },
	{ __LINE__, PROC, ISHA, NULL, "booted rootfs (none), expected 3333333333333333" },
	{ __LINE__, PROC, ISHA, "", "booted rootfs (none), expected" },
	{ __LINE__, PROC, XSHA, RSHA, "booted initrd abcdefabcdefabcd, expected 2222222222222222" },
	{ __LINE__, PROC, NULL, RSHA, "booted initrd (none)" },
	{ __LINE__, XSHA, ISHA, RSHA, "booted kernel '" XSHA "', expected '6.1.0-56-amd64" },
	{ __LINE__, NULL, ISHA, RSHA, "booted kernel '(none)'" },
	/* every field wrong: rootfs is named first (it is what the node runs) */
	{ __LINE__, XSHA, XSHA, XSHA, "booted rootfs" },
};

static void
test_check(void **state)
{
	struct image_rec img = { 0 };

	(void)state;
	strcpy(img.kernel_banner, BANNER);
	(void)image_rec_file_set(&img, "kernel", KSHA, 0);
	(void)image_rec_file_set(&img, "initrd", ISHA, 0);
	(void)image_rec_file_set(&img, "rootfs", RSHA, 0);
	for (size_t i = 0; i < ELEMENTSOF(check_vectors); i++) {
		char buf[256] = "";
		int line = check_vectors[i].line;
		bool ok = receipt_check_linux(&img, check_vectors[i].kernel, check_vectors[i].initrd,
		    check_vectors[i].rootfs, buf, sizeof(buf));

		if (ok != !check_vectors[i].err ||
		    (check_vectors[i].err && !strstr(buf, check_vectors[i].err)))
			print_error("%s:%d: ok=%d reason='%s'\n", __FILE__, line, ok, buf);
		_assert_int_equal(ok, !check_vectors[i].err, __FILE__, line);
		if (check_vectors[i].err)
			_assert_true(strstr(buf, check_vectors[i].err) != NULL, "reason", __FILE__,
			    line);
	}
	/* a small buffer truncates, never overflows */
	{
		char small[8];

		assert_false(receipt_check_linux(&img, PROC, ISHA, XSHA, small, sizeof(small)));
		assert_string_equal(small, "booted ");
	}
}

/* An image with an initrd tree hash (docs/boot-protocol.md "The initrd tree hash")
 * wants that hash in the receipt, not the initrd file's sha256. */
static void
test_initrd_tree(void **state)
{
	struct image_rec img = { 0 };
	char buf[256] = "";

	(void)state;
	strcpy(img.kernel_banner, BANNER);
	(void)image_rec_file_set(&img, "kernel", KSHA, 0);
	(void)image_rec_file_set(&img, "initrd", ISHA, 0);
	(void)image_rec_file_set(&img, "rootfs", RSHA, 0);
	strcpy(img.initrd_tree, XSHA);
	assert_true(receipt_check_linux(&img, PROC, XSHA, RSHA, buf, sizeof(buf)));
	assert_false(receipt_check_linux(&img, PROC, ISHA, RSHA, buf, sizeof(buf)));
	assert_non_null(strstr(buf, "booted initrd 2222222222222222, expected abcdefabcdefabcd"));
}

/* A xen receipt adds the hypervisor as dom0 reads it: "<version> <build id>", both
 * held exactly against the manifest's, and checked first (it is what runs under all). */
#define XVER "4.17.7"
#define XBID "5b1c2a0f0d0e7e86c0a3f5a3c6f6d44b8e2d9c11"
#define XBID2 "5b1c2a0f0d0e7e86c0a3f5a3c6f6d44b8e2d9c12"

static void
test_hypervisor(void **state)
{
	static const struct {
		int line;
		const char *got;
		bool ok;
	} v[] = {
		{ __LINE__, XVER " " XBID, true },
		{ __LINE__, XVER " " XBID2, false },     /* another build of the same version */
		{ __LINE__, "4.17.6 " XBID, false },     /* another version */
		{ __LINE__, "4.17.7", false },           /* no build id */
		{ __LINE__, XVER "  " XBID, false },     /* not the exact form */
		{ __LINE__, XVER " " XBID " ", false },
		{ __LINE__, "", false },
		{ __LINE__, NULL, false },
	};
	struct image_rec img = { 0 };
	struct receipt r;
	char buf[512];

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(v); i++)
		_assert_int_equal(receipt_hypervisor_matches(XVER, XBID, v[i].got), v[i].ok,
		    __FILE__, v[i].line);
	/* an image that does not say what hypervisor it has matches nothing */
	assert_false(receipt_hypervisor_matches("", XBID, XVER " " XBID));
	assert_false(receipt_hypervisor_matches(XVER, "", XVER " "));

	strcpy(img.kernel_banner, BANNER);
	(void)image_rec_file_set(&img, "kernel", KSHA, 0);
	(void)image_rec_file_set(&img, "initrd", ISHA, 0);
	(void)image_rec_file_set(&img, "rootfs", RSHA, 0);
	strcpy(img.hypervisor_version, XVER);
	strcpy(img.hypervisor_build_id, XBID);
	receipt_init(&r, kind_find("xen"));
	assert_int_equal(receipt_set(&r, "kernel", PROC), 0);
	assert_int_equal(receipt_set(&r, "initrd", ISHA), 0);
	assert_int_equal(receipt_set(&r, "rootfs", RSHA), 0);
	assert_int_equal(receipt_set(&r, "hypervisor", XVER " " XBID), 0);
	assert_true(receipt_check(&img, &r, buf, sizeof(buf)));
	/* another hypervisor fails the receipt, naming both ids whole; even with another
	 * rootfs too, the hypervisor is named first */
	assert_int_equal(receipt_set(&r, "hypervisor", XVER " " XBID2), 0);
	assert_int_equal(receipt_set(&r, "rootfs", XSHA), 0);
	assert_false(receipt_check(&img, &r, buf, sizeof(buf)));
	assert_string_equal(buf, "booted hypervisor '" XVER " " XBID2 "', expected '" XVER " "
	    XBID "'");
	/* the image's UEFI build (xen.efi) has an id of its own: either is the image's */
	strcpy(img.hypervisor_efi_build_id, "06d44821da0a4c55");
	assert_int_equal(receipt_set(&r, "rootfs", RSHA), 0);
	assert_int_equal(receipt_set(&r, "hypervisor", XVER " 06d44821da0a4c55"), 0);
	assert_true(receipt_check(&img, &r, buf, sizeof(buf)));
	assert_int_equal(receipt_set(&r, "hypervisor", XVER " " XBID), 0);
	assert_true(receipt_check(&img, &r, buf, sizeof(buf)));
	assert_int_equal(receipt_set(&r, "hypervisor", XVER " " XBID2), 0);
	assert_false(receipt_check(&img, &r, buf, sizeof(buf)));
	assert_string_equal(buf, "booted hypervisor '" XVER " " XBID2 "', expected '" XVER " "
	    XBID "' or UEFI's 06d44821da0a4c55");
	/* dom0 reads an id up to its first zero byte (Linux prints it with %.*s) */
	assert_true(receipt_hypervisor_matches(XVER, "ab12007f", XVER " ab12"));
	assert_false(receipt_hypervisor_matches(XVER, "ab12007f", XVER " ab12007f"));
	assert_false(receipt_hypervisor_matches(XVER, "00ab", XVER " "));
	/* a linux receipt has no hypervisor field */
	receipt_init(&r, kind_find("linux"));
	assert_int_equal(receipt_set(&r, "hypervisor", XVER " " XBID), -ENOENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernel_matches),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_initrd_tree),
		cmocka_unit_test(test_hypervisor),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
