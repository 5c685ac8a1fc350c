/* SPDX-License-Identifier: MIT */
/* What a known node's script request comes to, as pure functions of what the request
 * found (ctrl_fsm.h's style: no I/O, no clock, no store). The loop acts on them
 * (boot_node(), http/http_ipxe.c) and a reader thread answers only what they call read-only
 * (http_ipxe_read()), so the two paths cannot drift apart; tests/unit/test_boot_decide.c
 * checks every row.
 *
 * The steps, in order, each ending the request when it applies:
 *   1. a fixed-address node asked for from another address: refused (403, evented);
 *   2. a discovered node with no image yet: the discover script;
 *   3. an admin hold: the hold script, with the admin's reason;
 *   4. no image, or an image with no version: the hold script;
 *   5. a kind this bootsvc does not know (a newer one's shared store): the hold script;
 *   6. the version's files not on this server: the hold script while a peer's copy is
 *      fetched (sync/sync.h);
 *   7. then the trust decision (boot/trust.h) says hold or boot, and what the boot writes. */
#pragma once

#include <stdbool.h>

#include "boot/trust.h"

struct boot_gate_in {
	bool source_ok;             /* trust_source_ok(): no fixed address, or asked from it */
	bool discovered_unassigned; /* phase discovered and no image assigned */
	bool hold;                  /* an admin's hold */
	bool have_version;          /* the node's image (or pin) resolves to a version */
	bool kind_known;            /* that version's kind is one this bootsvc knows */
	bool files_here;            /* its files are whole on this server (sync_have) */
};

enum boot_gate {
	BG_REFUSE,            /* 1 */
	BG_DISCOVER,          /* 2 */
	BG_HOLD_ADMIN,        /* 3 */
	BG_HOLD_NO_VERSION,   /* 4 */
	BG_HOLD_UNKNOWN_KIND, /* 5 */
	BG_HOLD_NOT_HERE,     /* 6 */
	BG_TRUST,             /* 7: ask trust_script_decide() */
};

enum boot_gate boot_gate_decide(const struct boot_gate_in *in);

/* Whether a boot verdict moves the node's phase: the kind's script phase (pxe for linux;
 * NULL for a kind whose script marks none) when the verdict sets it and the node is not
 * there already. Only a change is written, so iPXE retrying keeps the phase's start and
 * the pxe timeout counts from the first request. */
bool boot_moves_phase(const struct trust_script_verdict *v, const char *script_phase,
    const char *phase_now);

/* Whether the answer to a BG_TRUST request writes nothing and needs nothing but the rows:
 * a boot that arms no one, events nothing, starts no op, moves no phase, records no new
 * version served, and is not a sanboot kind's (its script hands out secrets and disarms).
 * Only such an answer may come from a reader thread's read-only view. */
bool boot_read_only(const struct trust_script_verdict *v, bool sanboot, bool served_same,
    bool moves_phase);

/* Whether the answer's only writes are the record of the boot: the version served and
 * the phase the script marks, both facts of the request that decide nothing about the
 * answer. A boot that arms, events, starts an op or is a sanboot kind's (secrets, a
 * disarm) writes what the answer depends on. A reader thread may answer a record-only
 * boot itself and leave the record to the loop (boot/boot_records.h). */
bool boot_record_only(const struct trust_script_verdict *v, bool sanboot);
