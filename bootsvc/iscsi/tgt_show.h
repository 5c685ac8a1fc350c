/* SPDX-License-Identifier: MIT */
/* The parser of `tgtadm --lld iscsi --mode target --op show` (tgt 1.0.85's text; captured
 * samples in tests/data/tgt_show/). Pure: the root parent runs tgtadm and hands the output
 * here, so the parser is table-tested and fuzzed (tests/fuzz/fuzz_tgt_show.c). tgtd is
 * root's, but what it prints comes partly from the network (the initiator's name), so the
 * text is treated as hostile: every field is checked, a bad one fails the parse. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "iscsi/tgt.h"

/* tgtadm's whole answer: MAX_TGT_SESSIONS sessions and every target's LUN and ACL blocks
 * (about 1 KiB per target) fit many times over; more is not tgtd's output. */
#define MAX_TGT_SHOW (8 * 1024 * 1024)

/* One connection of an I_T nexus (a session): what the child is told (s) and what the
 * parent needs to drop it (sid, cid: `--mode conn --op delete`). A session with several
 * connections gives one entry per connection. */
struct tgt_show_conn {
	struct tgt_session s;
	uint32_t sid;
	uint32_t cid;
	/* The initiator's name is not an iSCSI name (characters, length) or its line is
	 * ambiguous; s.initiator_name is then "?". Such a session is dropped, never shown:
	 * the listing itself does not fail, or one node could break it for all. */
	bool bad_name;
};

/* Parse text[0..len) (no NUL needed). Every target's tid into ret_tids (at most max_tids;
 * NULL with max_tids 0 to skip), every logged-in connection into ret_conns (at most
 * max_conns; NULL to skip them: *ret_nconns is then 0). -ENOBUFS when either list is longer than its room, -EBADMSG naming the
 * line that is wrong (a tid out of range, an address that is not dotted IPv4, a nexus line
 * outside a target; a bad initiator name only marks its connection); the
 * counts are written only on success (the arrays may hold a partial parse). */
int tgt_show_parse(const char *text, size_t len, uint32_t *ret_tids, size_t max_tids,
    size_t *ret_ntids, struct tgt_show_conn *ret_conns, size_t max_conns, size_t *ret_nconns,
    struct dl_err *reterr);
