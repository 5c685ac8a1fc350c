/* SPDX-License-Identifier: MIT */
/* bootsvc's privilege separation (docs/security.md "Privilege separation"). Started as
 * root, bootsvc forks: the parent stays root and only supervises dnsmasq, reads BMC
 * credential files under bmc_creds_dir and the config file it was started with
 * (privsep_parent.c); the child binds the listeners, drops to the configured user with no
 * capabilities and NoNewPrivs, and runs everything else. The child asks the parent over a
 * SOCK_SEQPACKET socketpair (privsep_msg.h), one request at a time, synchronously: every
 * answer is a file read or a signal sent, so it is quick, and the wait has a deadline. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "err.h"
#include "iscsi/tgt.h"

struct privsep;
struct bootsvc;

/* How long the child waits for an answer. The parent answers from memory, a file of a
 * few KiB or a posix_spawn(); a parent that takes longer is stuck, and the caller fails
 * the request rather than the loop. */
#define PRIVSEP_TIMEOUT_MS 5000

/* The child's side over fd (taken over: closed by privsep_free). NULL on ENOMEM. */
struct privsep *privsep_new(int fd);
struct privsep *privsep_free(struct privsep *p);

/* Ask the parent to start dnsmasq (once the host files are written) or to make it re-read
 * its hosts (SIGHUP). 0, or the parent's -errno and message in reterr. */
int privsep_dhcp_start(struct privsep *p, struct dl_err *reterr);
int privsep_dhcp_reload(struct privsep *p, struct dl_err *reterr);
/* dnsmasq's pid (0: down) and restart count. */
int privsep_dhcp_status(struct privsep *p, pid_t *ret_pid, uint64_t *ret_restarts,
    struct dl_err *reterr);
/* The content of a root-only BMC credentials file (the parent checks the path against
 * bmc_creds_dir and the file's owner and mode). *ret is NUL-terminated, *ret_len without
 * the NUL; the caller wipes (explicit_bzero) and frees it. */
int privsep_read_creds(struct privsep *p, const char *path, char **ret, size_t *ret_len,
    struct dl_err *reterr);
/* A site overlay file the child may not read itself (a munge key, 0400 root), rel
 * beneath site_overlay; *ret_mode its permission bits. Caller wipes and frees *ret. */
int privsep_read_site(struct privsep *p, const char *rel, char **ret, size_t *ret_len,
    unsigned *ret_mode, struct dl_err *reterr);
/* One of the two CA files in tls_ca_dir (name "ca.crt" or "ca.key": the parent reads
 * nothing else there; ca.key must be root's and 0600 or stricter). *ret NUL-terminated,
 * the caller wipes (explicit_bzero) and frees it. */
int privsep_read_tls_ca(struct privsep *p, const char *name, char **ret, size_t *ret_len,
    struct dl_err *reterr);
/* The content of the config file bootsvc was started with (it may be root-only), for a
 * SIGHUP reload. *ret NUL-terminated, caller frees. */
int privsep_read_config(struct privsep *p, char **ret, size_t *ret_len, struct dl_err *reterr);

/* iSCSI targets (iscsi/tgt.h, docs/iscsi.md "tgtd"): tgtd is the root parent's, so the
 * child asks it. Each call runs tgtadm in the parent (milliseconds, each run bounded by
 * TGTADM_TIMEOUT_MS) and waits up to PRIVSEP_TGT_TIMEOUT_MS; safe from several worker
 * threads at once (one request at a time under the lock), never from the loop. The parent
 * checks everything (privsep_policy.h privsep_tgt_check, privsep_tgt_backing_open) and
 * answers -EACCES for what fails; -ENOTSUP when iscsi is off; -ENOTCONN while tgtd is
 * restarting (then the generation changes and every target must be set again). */
/* The longest request, a set: the old target deleted (offline, then up to 2 s of
 * retries: iscsi/tgtd.h TGTD_DELETE_MS), its 2 accounts, 7 steps, a rollback (another
 * delete and 2 accounts); each tgtadm bounded by 2 s (TGTADM_TIMEOUT_MS) but taking
 * milliseconds. A stuck tgtd fails the request here rather than holding a worker. */
#define PRIVSEP_TGT_TIMEOUT_MS 30000
/* Create or replace target t->tid (its old sessions and accounts go with it). */
int privsep_tgt_set(struct privsep *p, const struct tgt_target *t, struct dl_err *reterr);
/* Delete target tid and its accounts; 0 if tgtd does not hold it. */
int privsep_tgt_del(struct privsep *p, uint32_t tid, struct dl_err *reterr);
/* tgtd's pid (0: down), restarts and generation (+1 at each start: the targets are gone). */
int privsep_tgt_status(struct privsep *p, pid_t *ret_pid, uint64_t *ret_restarts,
    uint64_t *ret_generation, struct dl_err *reterr);
/* Every initiator logged in (one entry per connection) into ret[0..max), *ret_n of them;
 * -ENOBUFS when there are more than max. Connections the parent found to be of another
 * initiator name or address than their target's are dropped there, never listed. */
int privsep_tgt_sessions(struct privsep *p, struct tgt_session *ret, size_t max,
    size_t *ret_n, struct dl_err *reterr);

/* qcow2 clones (docs/iscsi.md "qcow2 exports"): the root parent runs one
 * qemu-storage-daemon (iscsi/qsd.h) and keeps each node's overlay itself, in
 * <state_dir>/qsd/overlays/<node>.qcow2 (root's: the child never writes a byte qsd
 * parses). Same threading and deadline as the tgt calls above.
 * Export node's overlay over the golden image (golden: an absolute path to a regular file
 * the child may read but not write; the parent opens it itself, following no symlink),
 * making the overlay first if node has none. ret_path[0..size) gets the export's path
 * (<state_dir>/qsd/exports/<node>.raw), the backing to set the target on. -EACCES for
 * what the policy refuses, -ENOTSUP when iscsi is off or qsd cannot run, -ENOTCONN while
 * qsd is restarting (then its generation changes: export again). */
int privsep_disk_export(struct privsep *p, const char *node, const char *golden,
    char ret_path[], size_t size, struct dl_err *reterr);
/* End node's export (0 if there is none); remove: delete its overlay too (reset, drop). */
int privsep_disk_unexport(struct privsep *p, const char *node, bool remove,
    struct dl_err *reterr);
/* qemu-storage-daemon's pid (0: down), restarts and generation (+1 at each start: every
 * export is gone and must be made again, and its target set again on the new file). */
int privsep_qsd_status(struct privsep *p, pid_t *ret_pid, uint64_t *ret_restarts,
    uint64_t *ret_generation, struct dl_err *reterr);

/* What the root side needs, filled by privsep_prepare() before the fork. */
struct privsep_user {
	char name[64];
	uid_t uid;
	gid_t gid;
};

/* As root, before the fork: look up cfg->user, make the state dir root:<group> 01771 (the
 * child creates its files there; the sticky bit keeps it from renaming root's dnsmasq
 * directory), hand the store's existing files to the user (0600), and create the empty
 * store file 0600 if there is none. -errno with reterr naming the user or the path. */
int privsep_prepare(const struct config *cfg, struct privsep_user *ret,
    struct dl_err *reterr);

/* In the child, still root, after the listeners are bound: drop to u for good (setgroups
 * to none, setresgid, setresuid; no capability survives a uid change from 0 without
 * keep-caps), PR_SET_NO_NEW_PRIVS, then check it took (root cannot be regained) and set
 * PR_SET_PDEATHSIG so the child ends with its parent (the uid change cleared it; parent_pid
 * checks the parent did not die in between). */
int privsep_drop(const struct privsep_user *u, pid_t parent_pid, struct dl_err *reterr);

/* The parent's whole life after the fork: a small loop over the socket (fd, taken over),
 * the child's pidfd, dnsmasq's supervision (bs->dnsmasq, prepared before the fork; bs->loop
 * is set here) and the signals (SIGTERM, SIGINT and SIGHUP are passed on to the child).
 * With iscsi = on it also supervises tgtd (iscsi/tgtd.h; u: the child's user, who must own
 * every backing store). Returns when the child has exited, after stopping dnsmasq and
 * tgtd: the exit status to end with
 * (the child's, or EXIT_FAILURE if it was killed). */
int privsep_parent_run(struct bootsvc *bs, const struct privsep_user *u, pid_t child, int fd);
