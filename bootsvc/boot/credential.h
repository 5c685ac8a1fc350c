/* SPDX-License-Identifier: MIT */
/* A node's boot credential as iPXE fetches it (GET /api/v1/nodes/<name>/credential, a
 * second initrd; docs/boot-protocol.md "The credential"): a newc cpio, gzip-wrapped, holding one file,
 * CREDENTIAL_PATH, mode 0400, "token=<hex>\n". The kernel unpacks it over the image's
 * initrd; the init reads it, removes it (so the initrd tree hash in the receipt is the
 * image's own) and keeps the token for its reports and the overlay. */
#pragma once

#include <stddef.h>

/* Relative to the initramfs root; initramfs/credential.h names the same file. */
#define CREDENTIAL_PATH "dl-credential"

/* The archive for token into a new malloc'd buffer. */
int credential_cpio_build(const char *token, char **ret, size_t *ret_len);

/* data (at most 64 KiB) as one gzip member of a single stored deflate block, into a new
 * malloc'd buffer. The kernel takes an uncompressed cpio only at a 4-byte offset in the
 * concatenated initrds; firmware that loads initrds back to back (the EFI stub's
 * initrd= files) puts the credential wherever the image's initrd ended. A compressed
 * archive is taken at any offset, so the credential goes out gzip-wrapped: no
 * compression library, and the bytes stay as they are. */
int credential_gzip_stored(const void *data, size_t len, char **ret, size_t *ret_len);
