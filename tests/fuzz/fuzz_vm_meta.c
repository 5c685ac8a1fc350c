/* SPDX-License-Identifier: MIT */
/* A domain's placement metadata (vm/vm_meta.c): written by whoever defines the domain. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vm/vm_meta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vm_placement pl;
	struct dl_err err = { 0 };
	char *s = malloc(size + 1);

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (vm_meta_parse(s, &pl, &err) == 0 && strlen(pl.group) >= sizeof(pl.group))
		abort();
	free(s);
	return 0;
}
