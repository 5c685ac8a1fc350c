/* SPDX-License-Identifier: MIT */
/* The init's boot credential parser (initramfs/credential.c): the file comes over the
 * network, in a cpio iPXE fetched. Invariants on success: the token is 16..128 lowercase
 * hex characters, NUL-terminated, and the parse is stable (same input, same token). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../initramfs/credential.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char tok[MAX_TOKEN_LEN + 1], tok2[MAX_TOKEN_LEN + 1];
	struct init_err e = { "" };
	size_t len;

	if (size > 2 * MAX_CREDENTIAL)
		return 0;
	if (credential_parse((const char *)data, size, tok, &e) == 0) {
		len = strlen(tok);
		if (len < 16 || len > MAX_TOKEN_LEN ||
		    strspn(tok, "0123456789abcdef") != len)
			abort();
		if (credential_parse((const char *)data, size, tok2, &e) != 0 ||
		    strcmp(tok, tok2) != 0)
			abort();
	} else if (!e.msg[0]) {
		abort(); /* every failure says why */
	}
	return 0;
}
