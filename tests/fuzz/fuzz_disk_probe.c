/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the first bytes of an admin's disk (imagebuild/disk.c disk_probe):
 * never a crash, and an accepted qcow2 never has a backing file. The input's length
 * stands for the file size too, so short and odd-sized files are covered. */
#include <stdint.h>
#include <string.h>

#include "../../imagebuild/disk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum disk_format f;
	struct dl_err e = {};
	size_t len = size < DISK_PROBE_BYTES ? size : DISK_PROBE_BYTES;

	if (disk_probe(data, len, size, &f, &e) < 0)
		return 0;
	if (f == DISK_FORMAT_QCOW2) {
		uint64_t backing = 0;
		for (int i = 8; i < 16; i++)
			backing = backing << 8 | data[i];
		if (backing || memcmp(data, "QFI\xfb", 4))
			__builtin_trap();
	} else if (size == 0 || size % DISK_SECTOR) {
		__builtin_trap();
	}
	return 0;
}
