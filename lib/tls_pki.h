/* SPDX-License-Identifier: MIT */
/* nodectl tls: a small certificate authority for bootsvc's control_tcp, so an admin
 * needs no openssl recipe (docs/security.md "Remote control over mutual TLS"). Keys are
 * ECDSA P-256, certificates X.509 v3 signed with SHA-256; keys are written 0600 and no
 * file is ever overwritten. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "role.h"

#define TLS_PKI_DEFAULT_DIR "/etc/diskless/tls"
/* Default lifetimes: the CA outlives the certificates it signs. */
#define TLS_PKI_CA_DAYS 3650
#define TLS_PKI_CERT_DAYS 365
/* Longest lifetime asked for (a typo like --days 36500 is refused). */
#define MAX_TLS_PKI_DAYS (20 * 365)
/* Most --san values of one server certificate. */
#define MAX_TLS_SANS 16
/* Longest certificate name: it is also the file name NAME.crt. */
#define MAX_TLS_NAME 64

struct tls_pki_req {
	const char *name;               /* CN, and DIR/NAME.crt, DIR/NAME.key */
	bool server;                    /* a server certificate (bootsvc's) */
	enum role role;                 /* !server: OU=diskless-<role> */
	const char *sans[MAX_TLS_SANS]; /* server: DNS names or IP addresses */
	size_t n_sans;
	unsigned days;
	bool expired;                   /* tests: valid from 2 days ago until yesterday */
};

/* Is name usable as a certificate name and file name: [A-Za-z0-9._-], not starting
 * with '.', at most MAX_TLS_NAME bytes? */
bool tls_pki_name_is_valid(const char *name);

/* Make DIR (0700 when created), DIR/ca.key (0600) and the self-signed DIR/ca.crt.
 * -EEXIST when either exists; -errno with reterr naming the file. */
int tls_pki_init(const char *dir, unsigned days, struct dl_err *reterr);
/* Make DIR/NAME.key (0600) and DIR/NAME.crt signed by DIR/ca.{crt,key}. On success,
 * the paths written go to ret_crt/ret_key (size bytes each). */
int tls_pki_issue(const char *dir, const struct tls_pki_req *req, char *ret_crt,
    char *ret_key, size_t size, struct dl_err *reterr);
