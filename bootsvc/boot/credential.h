/* SPDX-License-Identifier: MIT */
/* A node's boot credential as iPXE fetches it (GET /api/v1/nodes/<name>/credential, a
 * second initrd; docs/boot-protocol.md "The credential"): a newc cpio holding one file,
 * CREDENTIAL_PATH, mode 0400, "token=<hex>\n". The kernel unpacks it over the image's
 * initrd; the init reads it, removes it (so the initrd tree hash in the receipt is the
 * image's own) and keeps the token for its reports and the overlay. */
#pragma once

#include <stddef.h>

/* Relative to the initramfs root; initramfs/credential.h names the same file. */
#define CREDENTIAL_PATH "dl-credential"

/* The archive for token into a new malloc'd buffer. */
int credential_cpio_build(const char *token, char **ret, size_t *ret_len);
