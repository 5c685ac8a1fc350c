/* SPDX-License-Identifier: MIT */
/* Every bound of the sync room (docs/scale-out.md "Images across servers"), in one place
 * so the worker, the room and the tests agree. */
#pragma once

#include "manifest.h"

/* A peer is another service node on the site's network: a connect that takes longer is a
 * dead server or route, and the next peer is tried. */
#define SYNC_CONNECT_TIMEOUT_MS 5000
/* No byte for this long and the transfer is cut (kept bytes stay for the resume): as the
 * init's HTTP_IO_TIMEOUT_MS, a server that stalls this long is not coming back soon. */
#define SYNC_STALL_S 15
/* Per file: a floor for the connection and the response head, plus the size at the slowest
 * rate worth waiting for (1 MiB/s: a 2 GiB rootfs gets ~35 min), capped at 2 h so a
 * trickling peer cannot hold a worker forever. */
#define SYNC_FILE_FLOOR_MS 30000
#define SYNC_MIN_RATE_BPS (1024 * 1024)
#define SYNC_MAX_FILE_MS (2 * 3600 * 1000)
/* The manifest: the parser's own bound (a canonical manifest of 256 templates is far below). */
#define SYNC_MAX_MANIFEST MAX_MANIFEST_SIZE
/* One file of a version: an iscsi golden disk may be 2 TiB (images.md disk_size); nothing
 * bigger is an image file, and a manifest claiming more is refused before a byte is asked. */
#define SYNC_MAX_FILE_SIZE (UINT64_C(2) << 40)
/* Versions being synced (or waiting for their retry) at once: each holds a table entry and
 * at most one worker; more than this are refused with -EAGAIN and asked again later. */
#define MAX_SYNC_ACTIVE 16
/* Worker threads: the transfers are network- and disk-bound; two at once fill a link
 * without letting many versions thrash one disk. */
#define SYNC_WORKERS 2
/* Who waits for one version's round (nodectl image sync callers); more just get no answer
 * for it (their batch still answers when the others do). */
#define MAX_SYNC_WAITERS 8
/* Retries of a failed round: 2 s doubling to 5 min (a version no peer has costs one round
 * of requests per peer every 5 minutes). */
#define SYNC_RETRY_MIN_MS 2000
#define SYNC_RETRY_MAX_MS (5 * 60 * 1000)
/* Versions this server knows are present, remembered so the script and image paths stat
 * nothing per request (versions are immutable; a miss just stats again), for a while: files
 * an admin removed by hand are seen missing within 10 s (or at the first failed open). */
#define MAX_SYNC_PRESENT_CACHE 64
#define SYNC_PRESENT_TTL_MS 10000
