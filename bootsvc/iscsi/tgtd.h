/* SPDX-License-Identifier: MIT */
/* tgtd supervised by bootsvc's root parent (issue 14, docs/iscsi.md "tgtd"): started with
 * argv (`tgtd -f -C 0 --iscsi portal=<iscsi_portal>:<iscsi_port>`) in bootsvc's own network
 * namespace, its control socket under <state_dir>/tgt/ (TGT_IPC_SOCKET, for tgtd and every
 * tgtadm), restarted with backoff when it dies (lib/backoff.h, as dnsmasq), each (re)start
 * a new generation, stopped cleanly at the end (tgtd ignores SIGTERM: every target deleted,
 * then `--mode system --op delete`; SIGKILL only after a bounded wait).
 *
 * Runs in the root parent only, on its loop. Each call runs tgtadm to completion with a
 * deadline (TGTADM_TIMEOUT_MS): the parent answers one request at a time and has nothing
 * else to do meanwhile. The inputs were checked by the caller (privsep_policy.c). */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "err.h"
#include "iscsi/tgt.h"
#include "loop.h"

struct tgtd;

/* One tgtadm run: tgtadm answers from tgtd's memory in milliseconds; one that takes
 * seconds has a tgtd that is stuck, and the request fails rather than the parent. */
#define TGTADM_TIMEOUT_MS 2000
/* tgtd's start-up until its control socket answers: ~50 ms here; a bound, not a wait. */
#define TGTD_READY_MS 5000
/* tgtd's exit after `--mode system --op delete`: at once here; then SIGKILL. */
#define TGTD_STOP_MS 3000
/* A target's delete while its last commands drain (at once here, once offline). */
#define TGTD_DELETE_MS 2000
/* Restart backoff: as dnsmasq, 1 s doubling to 30 s; a run of a minute resets it. */
#define TGTD_BACKOFF_MIN_MS 1000
#define TGTD_BACKOFF_MAX_MS 30000
#define TGTD_STABLE_MS 60000
/* Connections dropped by one sessions call (each a tgtadm run): the rest go next call,
 * so a flood of bad logins cannot hold the parent past the child's deadline. */
#define MAX_TGT_DROPS 4

/* Prepare <state_dir>/tgt (root's, 0700) and start tgtd; a start that fails is logged and
 * retried with the backoff. cfg and l are borrowed and outlive the handle; owner is the
 * uid bootsvc's child runs as (the owner every backing store must have). -errno only for
 * what a retry cannot mend (the directory, a socket path too long, ENOMEM). */
int tgtd_new(struct loop *l, const struct config *cfg, uid_t owner, struct tgtd **ret,
    struct dl_err *reterr);
/* Stop tgtd cleanly (above), remove its socket files, free. NULL-safe; returns NULL. */
struct tgtd *tgtd_free(struct tgtd *t);

/* pid (0: down), restarts (deaths followed by a new start) and generation (1 after the
 * first start, +1 each start after it; the child sets its targets again on a change). */
void tgtd_status(const struct tgtd *t, pid_t *ret_pid, uint64_t *ret_restarts,
    uint64_t *ret_generation);

/* Create or replace target tt->tid with backing_fd as LUN 1 (tgtd opens
 * /proc/<our pid>/fd/<backing_fd>, so what it opens is the file the caller checked; the
 * caller closes backing_fd after the call). Only tt->initiator_addr may log in (tgtd's
 * address ACL); the initiator name is checked on every tgtd_sessions() (tgt 1.0.85 admits
 * a login that matches either ACL, so a name ACL beside the address one would let any
 * address in). Incoming CHAP tt->chap_user, outgoing tt->mutual_user if set: accounts are
 * global in tgtd, so a name another target holds is refused (-EEXIST), and the old
 * target's accounts are deleted. On failure nothing of the new target is left. -ENOTCONN
 * while tgtd is down. */
int tgtd_target_set(struct tgtd *t, const struct tgt_target *tt, int backing_fd,
    struct dl_err *reterr);
/* Delete target tid and its accounts; 0 for a tid tgtd does not hold. */
int tgtd_target_del(struct tgtd *t, uint32_t tid, struct dl_err *reterr);
/* Every initiator logged in (one entry per connection), at most max: -ENOBUFS past it.
 * A connection whose initiator name or address is not its target's is dropped (at most
 * MAX_TGT_DROPS a call), logged, and not listed. */
int tgtd_sessions(struct tgtd *t, struct tgt_session *ret, size_t max, size_t *ret_n,
    struct dl_err *reterr);
