/* SPDX-License-Identifier: MIT */
/* What the fuzz targets share: most parsers take a C string, and libFuzzer's input is
 * bytes without a NUL. */
#pragma once

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A new NUL-terminated copy of data[0..size) (caller frees; NULs inside stay and end the
 * string early, which is input too), or NULL on ENOMEM: the target then skips the
 * input. */
static inline char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		return NULL;
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}
