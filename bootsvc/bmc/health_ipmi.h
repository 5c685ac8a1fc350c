/* SPDX-License-Identifier: MIT */
/* A BMC's sensors and event log over IPMI (libipmimonitoring), as a health reading
 * (health/health.h). Blocking, for worker threads only (CONVENTIONS §6). */
#pragma once

#include "bmc/power.h"
#include "health/health.h"

/* Read all sensors and the SEL records with a record id above sel_after (0: all) of the
 * BMC t, on the calling thread (blocks up to about twice t->timeout_ms: one session for
 * the sensors, one for the SEL). Uses t->host, port, user, pass, cipher and timeout_ms;
 * pxe_first is ignored. User privilege is enough.
 *
 * sdr_cache_dir: the directory where libipmimonitoring caches this BMC's SDR (one file per
 * host name inside). It is created (mode 0700, last component only) when missing. Use one
 * directory per daemon state dir: a simulator or BMC replaced under the same host name
 * makes the cache stale, which libipmimonitoring detects and refreshes by itself.
 *
 * SEL record ids: IPMI ids are 16-bit and a BMC hands them out in increasing order until
 * its SEL is cleared; records with an id above sel_after are new. When every id is below
 * sel_after the SEL was cleared in between: all records are returned and sel_reset is set.
 * XXX(#5): a SEL cleared and refilled to the same highest id between two reads is missed.
 *
 * On success fills *ret (caller owns it, health_reading_done()) and returns 0. Errors:
 * -ETIMEDOUT (no answer), -EACCES (credentials or privilege), -ENOTSUP (cipher suite or
 * IPMI 2.0 unavailable), -EIO (anything else, including the SDR cache directory), -ENOMEM,
 * -EINVAL (t malformed). reterr names the host and the step; never the password. */
int health_read(const struct bmc_target *t, const char *sdr_cache_dir, uint32_t sel_after,
    struct health_reading *ret, struct dl_err *reterr);
