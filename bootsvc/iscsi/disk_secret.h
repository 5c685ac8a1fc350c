/* SPDX-License-Identifier: MIT */
/* A node disk's CHAP secrets, made with each new clone (docs/iscsi.md "Secrets"), and the
 * stamp that says which armed boot a clone was made for. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Random bytes per secret: 12 give 96 bits, what RFC 3720 asks at least, as 16 base64url
 * characters: the longest secret Windows' initiator takes (12-16; iPXE and tgt take up
 * to 255, tgt.h). A multiple of 3: no padding. */
#define DISK_SECRET_BYTES 12
#define DISK_SECRET_LEN (DISK_SECRET_BYTES / 3 * 4)
/* Hex digits of the boot stamp kept: 64 bits tell one node's boots apart. */
#define DISK_BOOT_STAMP_LEN 16

/* base64url of n bytes (n a multiple of 3) into buf. -EINVAL if it does not fit. */
int disk_secret_encode(const uint8_t *b, size_t n, char *buf, size_t size);
/* A new random secret from getrandom(2). 0 or -errno. */
int disk_secret_new(char buf[static DISK_SECRET_LEN + 1]);
/* The stamp of the boot whose token is token (sha256 of it, cut): one-way, so the
 * stamp in the store and in node.show reveals nothing of the token. */
void disk_boot_stamp(const char *token, char out[static DISK_BOOT_STAMP_LEN + 1]);
