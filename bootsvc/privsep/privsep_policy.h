/* SPDX-License-Identifier: MIT */
/* What the root parent will do for the child: which files it reads. The child may be
 * compromised, so a path it sends is a request, not a decision. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

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
