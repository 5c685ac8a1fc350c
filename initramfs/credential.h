/* SPDX-License-Identifier: MIT */
/* The node's boot credential (docs/boot-protocol.md "The credential"): iPXE fetches it
 * from the boot server once per boot as a second initrd, a cpio the kernel unpacks over
 * the image's initrd, holding CREDENTIAL_FILE ("token=<hex>\n", 0400). It is never on the
 * kernel command line, which every user of the booted node reads in /proc/cmdline.
 *
 * The init takes it first thing: reads it, removes the file (so the initrd tree hash in
 * the receipt is the image's own, and nothing of it stays in the initramfs), and keeps
 * the token in memory for its reports and the overlay; the booted system gets it in
 * /etc/diskless/node.conf (0600, from the overlay). */
#pragma once

#include "cmdline.h"
#include "util.h"

/* Where the credential archive puts its file (bootsvc/boot/credential.h agrees). */
#define CREDENTIAL_FILE "/dl-credential"
/* "token=" + MAX_TOKEN_LEN hex + newline, with room for a comment line or two. */
#define MAX_CREDENTIAL 512

/* The archive as bootsvc serves it (bootsvc/boot/credential.c), at most this: a cpio of
 * one short file in a gzip of one stored block is well under 1 KiB; a stored deflate
 * block holds at most 65535 bytes. */
#define MAX_CREDENTIAL_ARCHIVE 65536

/* dl.cred=fetch (Xen: dom0 gets one initrd, so the credential cannot be a second one):
 * unwrap the archive GET /api/v1/nodes/<node>/credential answered (buf, len bytes,
 * untrusted): a gzip member with no optional header fields (FLG 0) holding exactly one
 * final stored deflate block (BTYPE 00, LEN = ~NLEN), CRC-32 and ISIZE checked, nothing
 * after it; inside, a newc cpio (cpio_walk) whose only member is CREDENTIAL_FILE
 * (without its '/'), a regular file, parsed by credential_parse() into ret.
 * -EINVAL/-EBADMSG with reterr naming what was wrong; ret written only on success. */
int credential_unwrap(const uint8_t *buf, size_t len, char ret[static MAX_TOKEN_LEN + 1],
    struct init_err *reterr);

/* Parse the credential file's text (len bytes, not NUL-terminated): exactly one
 * "token=<16..128 lowercase hex>" line, blank lines and '#' comments allowed. */
int credential_parse(const char *s, size_t len, char ret[static MAX_TOKEN_LEN + 1],
    struct init_err *reterr);

/* Read the credential at path, remove it whether or not it parses, and parse it into ret.
 * -ENOENT (reterr set) when there is none. Refuses anything but a regular file of at most
 * MAX_CREDENTIAL bytes (a symlink is not followed). */
int credential_take(const char *path, char ret[static MAX_TOKEN_LEN + 1],
    struct init_err *reterr);
