/* SPDX-License-Identifier: MIT */
/* The sync room's decisions, pure and table-tested (tests/unit/test_sync_plan.c): what to
 * do with a file given the bytes already kept of it, what a finished file's hash means,
 * which peer is asked next, and how a version looks from this server. No I/O here; the
 * worker (sync_fetch.c) does what these say. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* What to do next with one file of the version being fetched. */
enum sync_step {
	SYNC_STEP_FETCH,   /* GET it from *ret_from: 0 = whole, > 0 = Range: bytes=<from>- */
	SYNC_STEP_VERIFY,  /* every byte is here: hash the whole file against the manifest */
	SYNC_STEP_DISCARD, /* more bytes than the manifest's size: not this file, start over */
	SYNC_STEP_DONE,    /* already verified in this round */
	_SYNC_STEP_MAX,
};

/* have: bytes kept of the file (its partial copy's size; 0 when there is none), size: the
 * manifest's, verified: whether it was hashed already in this round. *ret_from is written
 * for SYNC_STEP_FETCH only. */
enum sync_step sync_plan_file(uint64_t have, uint64_t size, bool verified, uint64_t *ret_from);

/* The verdict on a whole file once hashed. */
enum sync_verdict {
	SYNC_VERDICT_KEEP,    /* the manifest's sha256 and size: it may go into place */
	SYNC_VERDICT_REFUSE,  /* wrong bytes: the copy is dropped (which byte is wrong is
	                       * unknown, so no byte of it is kept) and the peer that sent the
	                       * last of it is failed for this round */
	_SYNC_VERDICT_MAX,
};
enum sync_verdict sync_plan_verdict(const char *want_sha256, const char *got_sha256,
    uint64_t want_size, uint64_t got_size);

/* Peers are tried in their configured order, each at most once per round; the next to ask
 * after peer index `last` (-1 before the first), skipping those in failed (a bit per
 * peer). -1 when every peer was tried: the round failed and the whole sync is retried
 * after a backoff. */
int sync_plan_next_peer(int last, unsigned n_peers, uint32_t failed);

/* How a registered version looks from this server, for image list and the HTTP paths. */
enum sync_state {
	SYNC_STATE_PRESENT, /* its files are at its path, every one of the manifest's size */
	SYNC_STATE_SYNCING, /* absent, and a sync is running or waiting for its retry */
	SYNC_STATE_MISSING, /* absent, and no sync is under way (no peers, or never asked) */
	_SYNC_STATE_MAX,
};
enum sync_state sync_plan_state(bool files_present, bool sync_active);
const char *sync_state_to_string(enum sync_state s);

/* The deadline for one file's transfer: a floor for the round trips plus the time the
 * size takes at the slowest rate still worth waiting for (a stall is cut sooner, by the
 * stall timeout). In ms. */
uint64_t sync_plan_file_deadline_ms(uint64_t size);
