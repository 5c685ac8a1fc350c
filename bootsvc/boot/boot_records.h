/* SPDX-License-Identifier: MIT */
/* Boot records a reader thread leaves for the loop (issue 15, docs/architecture.md "Reader
 * threads"). A boot's first script request records the version served and moves the
 * node's phase: writes, which only the loop does. Handing the whole request to the loop
 * put every first script of a storm (every script after a reimage) behind the loop's
 * writes; now a reader answers it from its view and queues the record, which the loop
 * writes in its next batch.
 *
 * The rule that keeps answers the loop's own: a node with a record queued or written but
 * not yet committed is pending, and a reader hands every request that decides on that
 * node's rows to the loop (boot_records_pending); the loop writes a node's records before
 * it decides on that node (http_records_before), so it decides on them. A node's next
 * request comes after the answer, so after the record was queued: whichever thread takes
 * it sees the record. A reader's read transaction may have begun before the commit that
 * ended a node's pending: each commit of records counts one (boot_records_epoch), before
 * their nodes stop being pending, and a reader begins a new read transaction when the
 * count moved, and hands the request over when it moves while it decides.
 *
 * Thread-safe: any thread pushes and asks; one thread (the loop) takes and commits.
 * Bounded: at most cap records queued and cap taken and not committed; a push past it
 * fails and the reader hands the request over as before. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sha256.h"
#include "store/store.h"

/* Queued records (and, apart, taken ones): a storm's round of first scripts in flight
 * (the bench's largest is 1,000 at once), about 150 bytes each. */
#define BOOT_RECORDS_CAP 2048

/* When the loop writes what is queued (boot_records_wait_ms): once no record was pushed
 * for BOOT_RECORDS_QUIET_MS, or the oldest has waited BOOT_RECORDS_WAIT_MS, or the queue
 * is half full. The records are bookkeeping and the scripts are the nodes' boots: written
 * while a storm's scripts still come in, they took the CPU the scripts were answered on
 * (docs/architecture.md "Boot records after the burst"). Nobody decides on stale rows
 * meanwhile: a request that decides on a pending node writes the records first
 * (http_records_before), and so do the node API, every control verb and the
 * controller's tick. */
#define BOOT_RECORDS_QUIET_MS 5
#define BOOT_RECORDS_WAIT_MS 100

struct boot_record {
	char node[MAX_NODE_NAME];
	char served[SHA256_HEX_SIZE]; /* the version served; "" = unchanged */
	const char *phase;            /* the phase the script marks (a kind's static
	                               * string), NULL = none */
	int64_t at;                   /* when the script was asked for (s) */
	uint64_t queued_ms;           /* set by boot_records_push: loop_now_ms() */
};

struct boot_records;

/* cap records (0: BOOT_RECORDS_CAP). -ENOMEM, or eventfd()'s -errno. */
int boot_records_new(size_t cap, struct boot_records **ret);
/* NULL-safe; returns NULL. Records still queued are dropped. */
struct boot_records *boot_records_free(struct boot_records *q);
/* Readable when a push found the queue empty or made it half full: the loop watches it. */
int boot_records_fd(const struct boot_records *q);

/* Queue rec, dated now, and mark its node pending. false when the queue is full. */
bool boot_records_push(struct boot_records *q, const struct boot_record *rec);
/* The loop: ms until the queue is due to be written (the rule at BOOT_RECORDS_QUIET_MS),
 * 0 when it is due now, -1 when nothing is queued. now_ms is loop_now_ms(). */
int64_t boot_records_due(struct boot_records *q, uint64_t now_ms);
/* That rule, pure: n of cap queued, the oldest pushed at oldest_ms, the newest at
 * newest_ms. */
int64_t boot_records_wait_ms(size_t n, size_t cap, uint64_t oldest_ms, uint64_t newest_ms,
    uint64_t now_ms);
/* Whether node has a record queued, or taken and not yet committed. Lock-free while no
 * node has one. */
bool boot_records_pending(struct boot_records *q, const char *node);
/* Whether any record is queued (a relaxed look, for the loop's fast path). */
bool boot_records_queued(const struct boot_records *q);
/* Whether no node is pending: every record pushed is written and committed. */
bool boot_records_idle(const struct boot_records *q);

/* The loop: up to max queued records, oldest first, into out; they stay pending until
 * boot_records_committed(). 0 when none are queued or cap are taken already. */
size_t boot_records_take(struct boot_records *q, struct boot_record *out, size_t max);
/* The loop, after the commit (or failure) of the batch that wrote the taken records:
 * counts one commit, then their nodes are no longer pending for them. Wakes the loop
 * again (the fd) when records were left queued. */
void boot_records_committed(struct boot_records *q);
/* Commits of records so far (above). */
uint64_t boot_records_epoch(const struct boot_records *q);
