/* SPDX-License-Identifier: MIT */
/* dl.cred=fetch (initramfs/credential.c credential_unwrap): the archive comes from the
 * network, a gzip of one stored block around a cpio. Invariants on success: the token
 * is 16..128 lowercase hex, and the input was exactly gzip header + stored block +
 * trailer. Every failure says why. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../initramfs/credential.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char tok[MAX_TOKEN_LEN + 1];
	struct init_err e = { "" };
	size_t len;

	if (credential_unwrap(data, size, tok, &e) == 0) {
		len = strlen(tok);
		if (len < 16 || len > MAX_TOKEN_LEN || strspn(tok, "0123456789abcdef") != len)
			abort();
		if (size < 23 || data[0] != 0x1f || data[1] != 0x8b || data[10] != 0x01)
			abort();
	} else if (!e.msg[0]) {
		abort();
	}
	return 0;
}
