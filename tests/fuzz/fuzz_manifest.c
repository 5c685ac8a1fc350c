/* SPDX-License-Identifier: MIT */
/* libFuzzer target: manifest.json parsing (lib/manifest.c). An accepted manifest must
 * round-trip: its canonical form parses again to the same content id. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct manifest m, m2;
	struct dl_err e = {};
	char *canon = NULL, id[SHA256_HEX_SIZE], id2[SHA256_HEX_SIZE];

	if (manifest_parse((const char *)data, size, &m, &e) < 0)
		return 0;
	if (manifest_canonical(&m, &canon, &e) < 0 || manifest_id(&m, id, &e) < 0)
		__builtin_trap();
	if (manifest_parse(canon, strlen(canon), &m2, &e) < 0 || manifest_id(&m2, id2, &e) < 0 ||
	    strcmp(id, id2) != 0)
		__builtin_trap();
	free(canon);
	manifest_done(&m2);
	manifest_done(&m);
	return 0;
}
