/* SPDX-License-Identifier: MIT */
/* Roles of the control protocol's remote clients (docs/security.md "Remote control over
 * mutual TLS"): which role a client certificate names, and which verbs each role may
 * use. Plain data and lookups, no TLS library: bootsvc reads a certificate's subject
 * with GnuTLS and asks here; nodectl's `tls issue --role` writes the subject this file
 * reads. The Unix socket's clients (root or control_group) are admin.
 *
 * A certificate names its role in its subject's organizational unit: OU=diskless-admin,
 * OU=diskless-scheduler or OU=diskless-read-only. Other OU values are ignored (a site
 * may use its own); two role OUs, or a diskless-* OU that names no role, are refused. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

/* Ordered: each role may do everything the roles before it may. */
enum role {
	ROLE_READ_ONLY,  /* reads: ping, node/image list and show, energy, events */
	ROLE_SCHEDULER,  /* and provision, power, allocate, release, expect */
	ROLE_ADMIN,      /* everything */
	_ROLE_MAX,
	_ROLE_INVALID = -EINVAL,
};

/* The prefix of a role OU: OU=diskless-<role name>. */
#define ROLE_OU_PREFIX "diskless-"
/* Most OU values of one subject looked at: a real subject has one or two; a
 * certificate with more is refused rather than searched without bound. */
#define MAX_ROLE_OUS 16

/* "admin", "scheduler", "read-only"; "?" for a value out of range. */
const char *role_to_name(enum role r);
/* The role named s (exactly as role_to_name() spells it), or _ROLE_INVALID. */
enum role role_from_name(const char *s);

/* The role named by a subject's OU values (ous[0..n), borrowed, each NUL-terminated).
 * Returns 0 and *ret_role, or -EACCES with reterr saying what is wrong: no role OU, two
 * of them, an unknown role, more than MAX_ROLE_OUS values. Values are quoted cleaned
 * (control characters replaced) and cut. */
int role_from_ous(const char *const *ous, size_t n, enum role *ret_role,
    struct dl_err *reterr);

/* The least role that may use verb; ROLE_ADMIN for a verb the table does not list, so
 * a new verb is admin-only until someone decides otherwise. */
enum role role_needed(const char *verb);
/* Is verb listed in the table (tests check every verb of bootsvc is)? */
bool role_lists(const char *verb);
/* May a client of role r use verb? */
bool role_allows(enum role r, const char *verb);
/* role_allows(), or -EPERM with reterr "role 'read-only' of 'who' may not use 'power'
 * (it needs the scheduler role)"; who names the client (a certificate's CN), may be
 * NULL, and is quoted cleaned. */
int role_check(enum role r, const char *who, const char *verb, struct dl_err *reterr);
