/* SPDX-License-Identifier: MIT */
/* imagebuild/hypervisor.c: the ELF of a hypervisor package (outside input to imagebuild)
 * for its GNU build id, and a dpkg status for the version. Invariants on success: the id
 * is whole bytes of lowercase hex within MAX_HYPERVISOR_BUILD_ID; the version starts with
 * a digit. Every failure says why. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../imagebuild/hypervisor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char hex[MAX_HYPERVISOR_BUILD_ID + 1];
	struct hypervisor_info hi;
	struct dl_err e = {};
	size_t n;

	if (hypervisor_elf_build_id(data, size, hex, sizeof(hex), &e) == 0) {
		n = strlen(hex);
		if (n < 2 || n % 2 || n > MAX_HYPERVISOR_BUILD_ID ||
		    strspn(hex, "0123456789abcdef") != n)
			abort();
	} else if (!e.msg[0]) {
		abort();
	}
	memset(&e, 0, sizeof(e));
	if (hypervisor_pe_build_id(data, size, hex, sizeof(hex), &e) == 0) {
		if (strlen(hex) != 32 || strspn(hex, "0123456789abcdef") != 32)
			abort();
	} else if (!e.msg[0]) {
		abort();
	}
	memset(&e, 0, sizeof(e));
	if (hypervisor_dpkg_version((const char *)data, size, "xen-hypervisor-", &hi, &e) == 0) {
		if (hi.version[0] < '0' || hi.version[0] > '9' ||
		    strncmp(hi.package, "xen-hypervisor-", 15) != 0)
			abort();
	} else if (!e.msg[0]) {
		abort();
	}
	return 0;
}
