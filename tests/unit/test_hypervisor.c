/* SPDX-License-Identifier: MIT */
/* imagebuild/hypervisor.c: the GNU build id out of a Xen multiboot ELF and the upstream
 * version out of dpkg's status. The ELF vectors are built here byte by byte in the
 * layout of Debian's xen-4.17-amd64.gz gunzipped (ELF32, two program headers, the build
 * id in a PT_NOTE; `readelf -n` prints 151b373f...), and an ELF64 with the note only in
 * a section, as a linker without a note segment leaves it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../imagebuild/hypervisor.h"

static const uint8_t bid[20] = { 0x15, 0x1b, 0x37, 0x3f, 0xd6, 0x4b, 0x32, 0x15, 0x93, 0xbf,
	0x98, 0x7f, 0xd9, 0x23, 0xcd, 0x10, 0xda, 0xba, 0xda, 0xc4 };
#define BID_HEX "151b373fd64b321593bf987fd923cd10dabadac4"

static void
put(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* a GNU build-id note at off: namesz 4, descsz 20, type 3, "GNU\0", the id */
static size_t
note(uint8_t *p, uint32_t type)
{
	put(p, 4, 4);
	put(p + 4, sizeof(bid), 4);
	put(p + 8, type, 4);
	memcpy(p + 12, "GNU", 4);
	memcpy(p + 16, bid, sizeof(bid));
	return 36;
}

static size_t
elf32(uint8_t *b)
{
	memset(b, 0, 512);
	memcpy(b, "\177ELF", 4);
	b[4] = 1; /* ELFCLASS32 */
	b[5] = 1; /* LSB */
	put(b + 28, 52, 4);  /* e_phoff */
	put(b + 42, 32, 2);  /* e_phentsize */
	put(b + 44, 2, 2);   /* e_phnum */
	/* ph[0] LOAD, ph[1] NOTE at 200 size 36 */
	put(b + 52, 1, 4);
	put(b + 84, 4, 4);
	put(b + 84 + 4, 200, 4);
	put(b + 84 + 16, 36, 4);
	note(b + 200, 3);
	return 236; /* ends with the note */
}

static size_t
elf64_section(uint8_t *b)
{
	memset(b, 0, 512);
	memcpy(b, "\177ELF", 4);
	b[4] = 2;
	b[5] = 1;
	put(b + 40, 64, 8);  /* e_shoff */
	put(b + 58, 64, 2);  /* e_shentsize */
	put(b + 60, 2, 2);   /* e_shnum */
	put(b + 128 + 4, 7, 4);     /* sh[1] SHT_NOTE */
	put(b + 128 + 24, 300, 8);  /* sh_offset */
	put(b + 128 + 32, 36, 8);   /* sh_size */
	note(b + 300, 3);
	return 340;
}

static void
test_build_id(void **state)
{
	uint8_t b[512];
	char hex[MAX_HYPERVISOR_BUILD_ID + 1];
	struct dl_err e = {};
	size_t n;

	(void)state;
	n = elf32(b);
	assert_int_equal(hypervisor_elf_build_id(b, n, hex, sizeof(hex), &e), 0);
	assert_string_equal(hex, BID_HEX);
	n = elf64_section(b);
	assert_int_equal(hypervisor_elf_build_id(b, n, hex, sizeof(hex), &e), 0);
	assert_string_equal(hex, BID_HEX);
	/* another note type only: none */
	n = elf32(b);
	put(b + 208, 1, 4);
	assert_int_equal(hypervisor_elf_build_id(b, n, hex, sizeof(hex), &e), -ENOENT);
	assert_non_null(strstr(e.msg, "NT_GNU_BUILD_ID"));
	/* the note segment past the end of the file */
	n = elf32(b);
	put(b + 84 + 16, 4096, 4);
	assert_int_equal(hypervisor_elf_build_id(b, n, hex, sizeof(hex), &e), -EINVAL);
	/* descsz running past the note */
	n = elf32(b);
	put(b + 204, 0xfffffff0u, 4);
	assert_int_equal(hypervisor_elf_build_id(b, n, hex, sizeof(hex), &e), -EINVAL);
	/* program headers past the end */
	n = elf32(b);
	put(b + 44, 60000, 2);
	assert_true(hypervisor_elf_build_id(b, n, hex, sizeof(hex), &e) < 0);
	/* not an ELF, cut short at every length */
	assert_int_equal(hypervisor_elf_build_id((const uint8_t *)"MZ\x90", 3, hex, sizeof(hex),
	    &e), -EINVAL);
	n = elf32(b);
	for (size_t cut = 0; cut < n; cut++)
		assert_true(hypervisor_elf_build_id(b, cut, hex, sizeof(hex), &e) < 0);
}

/* A PE image laid out as Debian's xen-4.17-amd64.efi (objdump -h: a .buildid section of
 * 0x35 bytes holding a CodeView debug entry and "RSDS" + GUID + age), built here. */
static size_t
pe(uint8_t *b, bool with_rsds)
{
	static const uint8_t rsds[24] = { 'R', 'S', 'D', 'S', 0x06, 0xd4, 0x48, 0x21, 0xda, 0x0a,
		0xd7, 0x67, 0x1f, 0xd7, 0x2b, 0xb9, 0x91, 0xf3, 0x19, 0xeb, 0x01, 0, 0, 0 };

	memset(b, 0, 512);
	b[0] = 'M';
	b[1] = 'Z';
	put(b + 0x3c, 0x80, 4);
	memcpy(b + 0x80, "PE\0\0", 4);
	put(b + 0x80 + 6, 2, 2);    /* NumberOfSections */
	put(b + 0x80 + 20, 0x10, 2); /* SizeOfOptionalHeader */
	/* sections at 0x80 + 24 + 0x10 = 0xa8: .text, then .buildid at raw 0x180 size 0x35 */
	memcpy(b + 0xa8, ".text\0\0\0", 8);
	memcpy(b + 0xa8 + 40, ".buildid", 8);
	put(b + 0xa8 + 40 + 16, 0x35, 4);
	put(b + 0xa8 + 40 + 20, 0x180, 4);
	put(b + 0x180 + 12, 2, 4);  /* IMAGE_DEBUG_TYPE_CODEVIEW */
	if (with_rsds)
		memcpy(b + 0x180 + 28, rsds, sizeof(rsds));
	return 0x180 + 0x35;
}

static void
test_pe_build_id(void **state)
{
	uint8_t b[512];
	char hex[MAX_HYPERVISOR_BUILD_ID + 1];
	struct dl_err e = {};
	size_t n;

	(void)state;
	n = pe(b, true);
	assert_int_equal(hypervisor_pe_build_id(b, n, hex, sizeof(hex), &e), 0);
	assert_string_equal(hex, "06d44821da0ad7671fd72bb991f319eb");
	n = pe(b, false);
	assert_int_equal(hypervisor_pe_build_id(b, n, hex, sizeof(hex), &e), -ENOENT);
	n = pe(b, true);
	put(b + 0xa8 + 40 + 20, 0x1000, 4);
	assert_int_equal(hypervisor_pe_build_id(b, n, hex, sizeof(hex), &e), -EINVAL);
	n = pe(b, true);
	put(b + 0x80 + 6, 60000, 2);
	assert_int_equal(hypervisor_pe_build_id(b, n, hex, sizeof(hex), &e), -EINVAL);
	n = pe(b, true);
	for (size_t cut = 0; cut < n; cut++)
		assert_true(hypervisor_pe_build_id(b, cut, hex, sizeof(hex), &e) < 0);
}

static const char status[] =
	"Package: xen-utils-4.17\nStatus: install ok installed\nVersion: 4.17.7+13-g2445b30a44-0+deb12u1\n\n"
	"Package: xen-hypervisor-4.17-amd64\nStatus: install ok installed\nPriority: optional\n"
	"Version: 4.17.7+13-g2445b30a44-0+deb12u1\nDescription: Xen Hypervisor on AMD64\n multi\n\n"
	"Package: xen-hypervisor-4.16-amd64\nStatus: deinstall ok config-files\nVersion: 4.16.2-1\n";

static void
test_dpkg(void **state)
{
	struct hypervisor_info hi = {};
	struct dl_err e = {};
	char buf[1024];

	(void)state;
	assert_int_equal(hypervisor_dpkg_version(status, strlen(status), "xen-hypervisor-", &hi,
	    &e), 0);
	assert_string_equal(hi.package, "xen-hypervisor-4.17-amd64");
	assert_string_equal(hi.version, "4.17.7");
	/* an epoch is dropped */
	(void)snprintf(buf, sizeof(buf), "Package: xen-hypervisor-x\nStatus: install ok installed\n"
	    "Version: 1:4.18.0~rc1-1\n");
	assert_int_equal(hypervisor_dpkg_version(buf, strlen(buf), "xen-hypervisor-", &hi, &e), 0);
	assert_string_equal(hi.version, "4.18.0");
	/* none installed, two installed, no release number */
	assert_int_equal(hypervisor_dpkg_version(status, strlen(status), "nope-", &hi, &e), -ENOENT);
	(void)snprintf(buf, sizeof(buf), "%s\nPackage: xen-hypervisor-4.18-amd64\nStatus: install ok "
	    "installed\nVersion: 4.18.0-1\n", status);
	assert_int_equal(hypervisor_dpkg_version(buf, strlen(buf), "xen-hypervisor-", &hi, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "two installed"));
	(void)snprintf(buf, sizeof(buf), "Package: xen-hypervisor-x\nStatus: install ok installed\n"
	    "Version: git20240101\n");
	assert_int_equal(hypervisor_dpkg_version(buf, strlen(buf), "xen-hypervisor-", &hi, &e), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_id),
		cmocka_unit_test(test_dpkg),
		cmocka_unit_test(test_pe_build_id),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
