/* SPDX-License-Identifier: MIT */
/* Whether a live migration under way should go on, switch to post-copy, or be aborted:
 * a pure decision over successive samples of libvirt's job statistics (no I/O, no clock:
 * each sample carries its time), so its table tests (tests/unit/test_migrate_watch.c)
 * cover every rule, as vm_conn.c's do. The migration job's watcher thread
 * (vm_migrate.c) feeds it a sample every VM_MIGRATE_SAMPLE_MS and does what it says.
 *
 * Rules, in order:
 *   - after a switch to post-copy nothing more is decided: the guest already runs on the
 *     destination with part of its memory still on the source, and aborting now would
 *     lose it (libvirt refuses to), so it can only finish;
 *   - past the deadline (migrate_watch_deadline_ms) -> abort, reason "deadline";
 *   - no progress (data_remaining not below its lowest so far) over
 *     MIGRATE_STALL_SAMPLES samples in a row -> post-copy when the policy allows it,
 *     else keep going (auto-converge throttles the guest harder each iteration; the
 *     deadline ends it if that is not enough);
 *   - else keep going.
 * Samples before the job has data (total 0: the connection and the destination's
 * set-up) count towards the deadline only. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* How often the watcher samples: often enough that a stall is seen within seconds,
 * rarely enough that the statistics RPC costs nothing beside the migration. */
#define VM_MIGRATE_SAMPLE_MS 500
/* Samples without a new low of data_remaining before a migration counts as stalled: 10
 * at 500 ms is 5 s. One pre-copy iteration of a small guest over a LAN takes well under
 * a second, and within an iteration data_remaining only falls; it rises again when the
 * next iteration starts with the pages dirtied meanwhile. Five seconds with no new low
 * is several iterations that each ended no better than the best, with auto-converge
 * throttling the guest's CPU more at each: more waiting only costs the guest. */
#define MIGRATE_STALL_SAMPLES 10
/* The least deadline whatever the guest's size: connecting to the destination, its
 * set-up and a small guest's copy on a busy host take seconds; below a minute those fixed
 * costs, not the guest, would decide. */
#define MIGRATE_MIN_DEADLINE_MS 60000
/* The reasons a decision gives, as the step's reason says them. */
#define MIGRATE_WHY_MAX 160

/* One reading of virDomainGetJobStats (bytes, ms). */
struct migrate_sample {
	int64_t at_ms;           /* when it was read (the caller's clock, monotonic) */
	int64_t data_total, data_processed, data_remaining;
	int64_t downtime_ms;     /* expected or measured, as libvirt says; 0 unknown */
	bool postcopy;           /* libvirt says the job is in post-copy */
};

struct migrate_policy {
	bool postcopy_allowed;   /* vm_postcopy, and the migration was started with POSTCOPY */
	int64_t deadline_ms;     /* from the start (migrate_watch_deadline_ms) */
};

struct migrate_watch {
	int64_t started_ms;
	int64_t best_remaining;  /* lowest data_remaining seen, -1 none yet */
	unsigned stalled;        /* samples since the last new low */
	bool postcopy;           /* switched (asked by us or seen in a sample) */
	bool aborted;            /* an abort was decided: nothing more is */
};

enum migrate_verdict {
	MIGRATE_CONTINUE,
	MIGRATE_POSTCOPY,        /* call virDomainMigrateStartPostCopy */
	MIGRATE_ABORT,           /* call virDomainAbortJob */
	_MIGRATE_VERDICT_MAX,
};

struct migrate_decision {
	enum migrate_verdict verdict;
	bool stalled;                /* the stall rule fired (also when it only goes on) */
	char why[MIGRATE_WHY_MAX];   /* for POSTCOPY and ABORT, and a stall kept going */
};

/* A watch of a migration started at now_ms. */
void migrate_watch_init(struct migrate_watch *w, int64_t now_ms);
/* The deadline of a guest of mem_mib MiB: s_per_gib seconds per GiB (a part GiB counts
 * in proportion), at least MIGRATE_MIN_DEADLINE_MS. */
int64_t migrate_watch_deadline_ms(int64_t mem_mib, unsigned s_per_gib);
/* Take sample s into w and decide. A verdict other than CONTINUE is given once. */
struct migrate_decision migrate_watch_decide(struct migrate_watch *w,
    const struct migrate_sample *s, const struct migrate_policy *p);
const char *migrate_verdict_to_string(enum migrate_verdict v);
