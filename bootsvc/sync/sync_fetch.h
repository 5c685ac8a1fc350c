/* SPDX-License-Identifier: MIT */
/* One round of a version's sync, on a worker thread (sync.c submits it): ask the peers in
 * order for the version by id over HTTP, the manifest first (its sha256 must be the id),
 * then each file into <parent>/.partial/<id>/, resuming a kept file with Range, each whole
 * file hashed against the manifest, fsynced; only when every file verified, the directory
 * is renamed to the version's path (rename(2): atomic, same file system). A peer that
 * fails (refused, 404, a cut, a stall, a wrong hash) is logged with the reason and the
 * next one is asked; what was fetched is kept for the next round. */
#pragma once

#include <stdatomic.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "sha256.h"
#include "store/store.h"

struct sync_fetch_in {
	char id[SHA256_HEX_SIZE];
	char final_dir[MAX_STORE_PATH]; /* the version's path in the store */
	char peers[MAX_PEERS][128];     /* base URLs, in the order they are asked */
	unsigned n_peers;
};

struct sync_fetch_out {
	int r;                 /* 0: the version is in place */
	struct dl_err err;     /* r < 0: the round's last failure (every one is logged) */
	char peer[128];        /* r == 0: the peer the last byte came from ("" if none needed) */
	uint64_t bytes;        /* fetched in this round, from every peer */
	uint64_t kept;         /* bytes already on disk when the round began (resumed) */
	uint64_t refetched;    /* bytes fetched again after a copy was refused */
	unsigned files;        /* files of the version */
	uint64_t ms;           /* the round's duration */
};

/* Run one round; blocking, for a worker thread. cancelled (borrowed) is checked between
 * and during transfers: a cancelled round stops with -ECANCELED, its bytes kept. */
void sync_fetch_run(const struct sync_fetch_in *in, const atomic_bool *cancelled,
    struct sync_fetch_out *out);

/* Once per process before any worker starts (libcurl's global state is not thread-safe
 * to set up). Returns 0 or -EIO. */
int sync_fetch_global_init(void);
