/* SPDX-License-Identifier: MIT */
/* What the root parent will do for the child: which files it reads. The child may be
 * compromised, so a path it sends is a request, not a decision. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "err.h"
#include "iscsi/tgt.h"

/* BMC credential files are a few short lines (bmc_creds.c reads at most 4 KiB). */
#define MAX_PRIVSEP_CREDS_FILE 4096

/* Is path one the parent reads as BMC credentials: absolute, dir + '/' + a plain relative
 * path (relpath_is_plain: no "..", ".", "//"), shorter than MAX_PRIVSEP_PATH? dir is the
 * configured bmc_creds_dir (absolute; a trailing '/' is ignored). On success *ret_rel
 * points into path at the part beneath dir. -EACCES naming path and dir. Pure. */
int privsep_creds_path_check(const char *dir, const char *path, const char **ret_rel,
    struct dl_err *reterr);

/* Read the credentials file path for the child: the check above, then an open beneath
 * dir that follows no symlink (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) and
 * read_file_fd()'s secret checks (a regular file owned by root, mode 0600 or stricter),
 * at most MAX_PRIVSEP_CREDS_FILE bytes. *ret (caller wipes and frees) and *ret_len on
 * success; -EACCES, -ENOENT, -ELOOP, -EPERM, -E2BIG, ... with reterr naming the file. */
int privsep_creds_read(const char *dir, const char *path, char **ret, size_t *ret_len,
    struct dl_err *reterr);

/* Read one of the CA's two files in tls_ca_dir for the child (docs/security.md "Hypervisor
 * TLS"): name must be exactly "ca.crt" or "ca.key", nothing else in dir is ever read;
 * opened beneath dir without following a symlink, a regular file of at most MAX_TLS_PEM
 * bytes; ca.key with read_file_fd()'s secret checks (owned by root, mode 0600 or
 * stricter). *ret (caller wipes and frees) and *ret_len on success; -EACCES (another
 * name, dir not absolute), -ENOENT, -ELOOP, -EPERM, -E2BIG, ... with reterr naming the
 * file and, for a missing one, 'nodectl tls init'. */
int privsep_tls_ca_read(const char *dir, const char *name, char **ret, size_t *ret_len,
    struct dl_err *reterr);
/* Is name one of the files privsep_tls_ca_read() reads ("ca.crt", "ca.key")? Pure. */
bool privsep_tls_ca_name_is_allowed(const char *name);

/* Read a site overlay file for the child (docs/bootsvc.conf.md site_overlay): rel is a
 * plain relative path (relpath_is_plain, shorter than MAX_PRIVSEP_PATH) opened beneath dir
 * without following any symlink, a regular file of at most MAX_PRIVSEP_FILE bytes. The
 * overlay serves these files to every node, so unlike credentials they may have any owner
 * and mode; *ret_mode gets the permission bits. *ret (caller wipes and frees: a munge key)
 * and *ret_len on success; -EACCES (not plain, no dir), -ENOENT, -ELOOP, -EINVAL (not
 * regular), -E2BIG, ... with reterr naming the file. */
int privsep_site_read(const char *dir, const char *rel, char **ret, size_t *ret_len,
    unsigned *ret_mode, struct dl_err *reterr);

/* iSCSI (docs/iscsi.md "tgtd", docs/security.md "iSCSI"). */

/* A CHAP secret: Windows' initiator takes 12 to 16 bytes, RFC 3720 asks for 96 bits. */
#define MIN_CHAP_SECRET 12

/* Is t a target the parent sets up for the child? Pure. tid in 1..MAX_TGT_TARGETS; iqn is
 * "<prefix>:<node>" with node of [a-z0-9.-] (the names tgt_target_name() makes) and the
 * initiator exactly tgt_initiator_name(prefix, node), so a target admits only its own
 * node's initiator; initiator_addr a dotted IPv4 unicast address (not 0.0.0.0, not
 * 255.255.255.255); CHAP user and secret printable ASCII without spaces, quotes or
 * backslashes, user 1..MAX_CHAP_NAME-1 bytes, secret MIN_CHAP_SECRET..MAX_CHAP_SECRET-1;
 * mutual user and secret both empty or both set, the mutual user other than the incoming
 * one and the mutual secret other than the incoming (RFC 3720 5.1, Windows refuses
 * equal ones); backing absolute, shorter than MAX_STORE_PATH and a plain path below
 * disk_dir. -EACCES naming the field (never a secret's value). */
int privsep_tgt_check(const char *prefix, const char *disk_dir, const struct tgt_target *t,
    struct dl_err *reterr);

/* Open t's backing store for tgtd, as root, so the file tgtd opens is the one checked:
 * opened beneath disk_dir without following any symlink (openat2 RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS), read-write, then fstat-checked: a regular
 * file owned by owner (bootsvc's user) with one link (a hard link to another user's file
 * is not the node's clone). *ret_fd (O_CLOEXEC; the caller closes it) on success; tgtd is
 * given /proc/<pid>/fd/<n> of it. -EACCES, -ENOENT, -ELOOP, -EPERM with reterr naming
 * the path. */
int privsep_tgt_backing_open(const char *disk_dir, const char *path, uid_t owner,
    int *ret_fd, struct dl_err *reterr);

/* qcow2 exports (docs/iscsi.md "qcow2 exports"). */

/* privsep_tgt_check() for a target on a qcow2 export: the same checks of everything but
 * the backing store, which must be exactly <exports_dir>/<the target's node>.raw (the
 * parent's own file; opened then with privsep_tgt_backing_open(exports_dir, ..., 0)).
 * Pure. -EACCES naming the field. */
int privsep_tgt_check_export(const char *prefix, const char *exports_dir,
    const struct tgt_target *t, struct dl_err *reterr);

/* Open the golden image the child names for a qcow2 export, as root: path absolute and
 * plain, no symlink followed on the way (openat2 RESOLVE_NO_SYMLINKS), read-only; a
 * regular file that the child's user (uid, gid; it has no capabilities) may read but not
 * write by its mode bits. *ret_fd (O_CLOEXEC, caller closes). -EACCES naming why,
 * -ENOENT. */
int privsep_disk_golden_open(const char *path, uid_t uid, gid_t gid, int *ret_fd,
    struct dl_err *reterr);
