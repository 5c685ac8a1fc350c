/* SPDX-License-Identifier: MIT */
/* nodectl tls: a small certificate authority for bootsvc's control_tcp, so an admin
 * needs no openssl recipe (docs/security.md "Remote control over mutual TLS"). Keys are
 * ECDSA P-256, certificates X.509 v3 signed with SHA-256; keys are written 0600 and no
 * file is ever overwritten. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* In memory (issue 12): a CA loaded once, and certificates issued from it without
 * touching disk: bootsvc's libvirt client certificate and each VM host's certificate for
 * one boot (docs/security.md "Hypervisor TLS"). Keys are ECDSA P-256, certificates X.509
 * v3 signed with SHA-256, as above. No global state: a struct tls_ca may be used by one
 * thread at a time; two threads each make their own from the PEM texts. */

/* Largest ca.crt or ca.key accepted: a CA certificate and its key are a few KiB in PEM
 * (an RSA-4096 key is ~3.3 KiB); more is not a CA file. */
#define MAX_TLS_PEM 16384
/* Most DNS names and most IP addresses in one issued certificate: a host's name and
 * address, with room for aliases. */
#define MAX_TLS_ISSUE_SANS 8
/* Longest CN and OU (RFC 5280 ub-common-name and ub-organizational-unit-name: 64). */
#define MAX_TLS_DN_FIELD 64
/* Longest DNS name (RFC 1035 §2.3.4: 255 octets on the wire, 253 as text). */
#define MAX_TLS_DNS_NAME 253

/* Key purposes of an issued certificate (extended key usage), or'ed. */
enum {
	TLS_PURPOSE_SERVER = 1 << 0, /* TLS WWW server authentication */
	TLS_PURPOSE_CLIENT = 1 << 1, /* TLS WWW client authentication */
};

struct tls_ca;

/* Parse a CA from its certificate and private key, both PEM (ca.crt, ca.key), each at
 * most MAX_TLS_PEM bytes. The certificate must be a CA (basic constraints CA:TRUE) whose
 * key usage allows signing certificates, and the key must be the certificate's.
 * -EINVAL with reterr naming which of the two is wrong and why, -E2BIG, -ENOMEM.
 * @ret *ret a new CA, owned by the caller: tls_ca_free() it. The inputs are borrowed and
 * may be wiped as soon as this returns. */
int tls_ca_new(const char *crt_pem, size_t crt_len, const char *key_pem, size_t key_len,
    struct tls_ca **ret, struct dl_err *reterr);
/* Free ca (NULL is fine), its key wiped by GnuTLS. Returns NULL. */
struct tls_ca *tls_ca_free(struct tls_ca *ca);

struct tls_issue_req {
	const char *cn;                          /* 1..MAX_TLS_DN_FIELD bytes, printable */
	const char *ou;                          /* the same, or NULL: none */
	const char *dns[MAX_TLS_ISSUE_SANS];     /* DNS names: [A-Za-z0-9.-], labels */
	size_t n_dns;
	const char *ip[MAX_TLS_ISSUE_SANS];      /* IPv4 or IPv6 addresses as text */
	size_t n_ip;
	unsigned purposes;                       /* TLS_PURPOSE_*, at least one */
	unsigned days;                           /* 1..MAX_TLS_PKI_DAYS */
	int64_t now;                             /* unix seconds it counts from; 0: now */
};

/* What tls_ca_issue() makes: both PEM, NUL-terminated (the lengths leave the NUL out).
 * Owned; the key is a secret: tls_issued_done() wipes it. */
struct tls_issued {
	char *crt;
	size_t crt_len;
	char *key;
	size_t key_len;
};

/* Issue a fresh key and an end-entity certificate for req signed by ca: valid from a few
 * minutes before req->now (clocks a little behind ours) to req->days after it, a random
 * serial, the subject and authority key ids, key usage digital signature and key
 * encipherment (libvirt refuses a critical key usage without either, whatever the key
 * type), the purposes asked for, subject CN (and OU), the DNS and IP SANs. -EINVAL with
 * reterr naming the field and value that is wrong, -ENOMEM. ret is written on success
 * only; the caller owns it (tls_issued_done). */
int tls_ca_issue(const struct tls_ca *ca, const struct tls_issue_req *req,
    struct tls_issued *ret, struct dl_err *reterr);
/* Wipe and free what ret holds; it may be zeroed or half-filled. */
void tls_issued_done(struct tls_issued *c);
