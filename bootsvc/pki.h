/* SPDX-License-Identifier: MIT */
/* bootsvc's CA for VM hosts (docs/security.md "Hypervisor TLS", issue 12): ca.crt and
 * ca.key of tls_ca_dir read at start and on SIGHUP (through the root parent under privsep:
 * ca.key is root's), kept in memory as PEM for the overlay jobs to copy (boot/overlay.c
 * issues each VM host's certificate for one boot from them), and bootsvc's own libvirt
 * client certificate written to libvirt_pki_dir in libvirt's ?pkipath= layout. No CA is
 * a state bootsvc runs in: VM hosts cannot be trusted then, and their overlays fail
 * saying why. Loop thread only. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

struct bootsvc;

/* The files of libvirt_pki_dir, libvirt's names for a client (virt-pki-query-dn(1),
 * libvirt's "TLS x509 certificate" docs). */
#define PKI_CACERT "cacert.pem"
#define PKI_CLIENTCERT "clientcert.pem"
#define PKI_CLIENTKEY "clientkey.pem"
/* bootsvc's client certificate: its subject, and its life (re-issued at every start and
 * SIGHUP, so a month is plenty and a stolen copy ages out). */
#define PKI_CLIENT_CN "bootsvc"
#define PKI_CLIENT_OU "diskless-libvirt"
#define PKI_CLIENT_DAYS 30

struct pki {
	char *crt;             /* ca.crt, PEM; NULL: no CA */
	size_t crt_len;
	char *key;             /* ca.key, PEM, secret: wiped before it is freed */
	size_t key_len;
	char why[MAX_ERR_MSG]; /* no CA: why, for the overlay's error and the log */
	bool loaded;           /* pki_load() ran at least once */
};

/* Read the CA of bs->cfg.tls_ca_dir (bs->privsep: asked of the root parent), check it
 * (lib/tls_pki.h tls_ca_new) and keep it in bs->pki, the previous one wiped; then write
 * bootsvc's client certificate to bs->cfg.libvirt_pki_dir (0700, made if missing; each
 * file written to a temporary name and renamed over the old one). Without a usable CA,
 * bs->pki holds none, its why says so (naming 'nodectl tls init'), the client files are
 * removed, and that is logged once per change, not at every SIGHUP. Returns 0 with or
 * without a CA; -errno (reterr naming the file) only when the client certificate could
 * not be written: the caller logs it. */
int pki_load(struct bootsvc *bs, struct dl_err *reterr);

/* Does bs have a CA? */
bool pki_has_ca(const struct bootsvc *bs);

/* Wipe and free what bs->pki holds. */
void pki_done(struct pki *p);

/* Write bootsvc's client certificate, issued from the CA crt/key (PEM), into dir: exposed
 * for tests. */
int pki_write_client(const char *dir, const char *crt, size_t crt_len, const char *key,
    size_t key_len, struct dl_err *reterr);
