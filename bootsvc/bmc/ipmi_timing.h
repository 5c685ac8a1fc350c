/* SPDX-License-Identifier: MIT */
/* The retransmission interval given to libfreeipmi (power_ipmi.c) and libipmimonitoring
 * (health_ipmi.c, which runs libfreeipmi's session code) for a session timeout. Pure, so
 * the schedule it makes is table-tested (tests/unit/test_ipmi_timing.c).
 *
 * libfreeipmi waits for an answer rt, rt, 2rt, 2rt, 3rt, 3rt, ... (the wait grows every
 * IPMI_LAN_BACKOFF_COUNT = 2 retransmissions) and checks the session timeout only when a
 * wait ends. A wait ending exactly at the timeout (rt = timeout / 4 ends the third there)
 * makes "did the timeout pass?" a race of microseconds between the session's start and its
 * first send, and losing it costs the whole next wait: a dead BMC then took 3 s instead of
 * 2 s one time in six (make bench's power row, issue 17). The interval chosen here ends a
 * wait a margin after the timeout and none within the margin before it. */
#pragma once

#include <stdint.h>

/* The interval for a session timeout of timeout_ms (> 0): at least three sends before the
 * timeout, never more than max_ms apart. */
unsigned ipmi_retransmit_ms(unsigned timeout_ms, unsigned max_ms);

/* When wait k (0: the one after the first send) ends, in ms after the first send, under
 * libfreeipmi's backoff: for tests and for the sends a dead BMC gets. */
uint64_t ipmi_wait_end_ms(unsigned retransmit_ms, unsigned k);

/* How many requests a BMC that never answers receives before libfreeipmi gives up on a
 * session of timeout_ms: the first, and one at the end of each wait up to the first that
 * ends past the timeout (libfreeipmi resends before it checks the timeout). */
unsigned ipmi_sends_until_timeout(unsigned retransmit_ms, unsigned timeout_ms);

/* The margin ipmi_retransmit_ms() keeps between the timeout and any wait's end. */
unsigned ipmi_timeout_margin_ms(unsigned timeout_ms);
