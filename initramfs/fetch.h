/* SPDX-License-Identifier: MIT */
/* Download the rootfs (Range-resumable, hashed as it arrives) and the node overlay. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "cmdline.h"
#include "util.h"

/* Connections per rootfs download: a cut transfer resumes from the bytes kept, so a
 * handful covers a flapping link without hiding a server that is really down. */
#define FETCH_MAX_TRIES 6
/* Backoff between resumes: 1, 2, 4, 8 s ... capped. */
#define FETCH_BACKOFF_MAX_MS 8000
/* Overlays hold a few config files and templates; more is a server bug. */
#define MAX_OVERLAY_SIZE (16u << 20)

/* Fetch <server>/images/<image>/rootfs into path (created, truncated), resuming with
 * "Range: bytes=<have>-" after a cut connection (a 206 must name exactly that start and
 * the same total; a 200 restarts from zero). Checks the size against dl.rootfs_size when
 * given and against the free space of the file system. The sha256 of the bytes written is
 * computed as they arrive and put in ret_hex (65 bytes) on success. */
/* The rootfs's path on the server: by content id (dl.image), or else by node, the version
 * bootsvc served it (docs/boot-protocol.md); either is checked against dl.rootfs. */
void rootfs_path(const struct dl_cmdline *c, char *buf, size_t size);

int fetch_rootfs(const struct dl_cmdline *c, const char *path, char *ret_hex,
    struct init_err *reterr);

/* dl.cred=fetch: GET <server>/api/v1/nodes/<node>/credential (no token: bootsvc hands it
 * once per arming to the node's own address) and unwrap it (credential_unwrap) into ret.
 * A non-200 answer is -EPROTO naming the status and the server's message. */
int fetch_credential(const struct dl_cmdline *c, char ret[static MAX_TOKEN_LEN + 1],
    struct init_err *reterr);

/* GET <server>/api/v1/nodes/<node>/overlay with the token into a malloc()ed buffer owned
 * by the caller. Returns the length or -errno. */
ssize_t fetch_overlay(const struct dl_cmdline *c, uint8_t **ret_buf, struct init_err *reterr);
