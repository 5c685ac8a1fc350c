/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "tls_pki.h"

#define DAY_S (24 * 3600)
/* Certificates start a little in the past, for clocks slightly behind ours. */
#define BACKDATE_S 300

bool
tls_pki_name_is_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > MAX_TLS_NAME || name[0] == '.' || name[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '-'))
			return false;
	}
	return !streq(name, "ca");
}

/* Write data to a new file (never an existing one) with mode. */
static int
pki_write_new(const char *path, const gnutls_datum_t *d, mode_t mode, struct dl_err *reterr)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	size_t off = 0;
	int r;

	if (fd < 0) {
		r = negative_errno();
		return dl_err_set(reterr, r, "cannot create '%s': %s%s", path, strerror(-r),
		    r == -EEXIST ? " (remove it first to replace it)" : "");
	}
	(void)fchmod(fd, mode); /* whatever the umask */
	while (off < d->size) {
		ssize_t w = write(fd, d->data + off, d->size - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			r = negative_errno();
			close(fd);
			(void)unlink(path);
			return dl_err_set(reterr, r, "writing '%s': %s", path, strerror(-r));
		}
		off += (size_t)w;
	}
	if (close(fd) < 0) {
		r = negative_errno();
		(void)unlink(path);
		return dl_err_set(reterr, r, "writing '%s': %s", path, strerror(-r));
	}
	return 0;
}

static int
pki_gnutls(int gr, const char *what, struct dl_err *reterr)
{
	return dl_err_set(reterr, gr == GNUTLS_E_MEMORY_ERROR ? -ENOMEM : -EINVAL, "%s: %s",
	    what, gnutls_strerror(gr));
}

static int
pki_new_key(gnutls_x509_privkey_t *ret, struct dl_err *reterr)
{
	gnutls_x509_privkey_t k;
	int gr = gnutls_x509_privkey_init(&k);

	if (gr < 0)
		return pki_gnutls(gr, "new key", reterr);
	gr = gnutls_x509_privkey_generate(k, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
	if (gr < 0) {
		gnutls_x509_privkey_deinit(k);
		return pki_gnutls(gr, "generating a key", reterr);
	}
	*ret = k;
	return 0;
}

/* A new key and an empty certificate to fill for it; on failure neither. */
static int
pki_new_key_crt(gnutls_x509_privkey_t *ret_key, gnutls_x509_crt_t *ret_crt,
    struct dl_err *reterr)
{
	int r = pki_new_key(ret_key, reterr), gr;

	if (r < 0)
		return r;
	gr = gnutls_x509_crt_init(ret_crt);
	if (gr < 0) {
		gnutls_x509_privkey_deinit(*ret_key);
		return pki_gnutls(gr, "certificate", reterr);
	}
	return 0;
}

/* Version, a random serial, validity and the subject's public key. */
static int
pki_crt_base(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, unsigned days, bool expired,
    struct dl_err *reterr)
{
	unsigned char serial[16];
	time_t now = time(NULL);
	int gr;

	gr = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial));
	if (gr < 0)
		return pki_gnutls(gr, "random serial", reterr);
	serial[0] &= 0x7f; /* a positive integer */
	serial[0] |= 0x01; /* and no leading zero octet */
	if ((gr = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
	    (gr = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial))) < 0 ||
	    (gr = gnutls_x509_crt_set_activation_time(crt, expired ? now - 2 * DAY_S :
	    now - BACKDATE_S)) < 0 ||
	    (gr = gnutls_x509_crt_set_expiration_time(crt, expired ? now - DAY_S :
	    now + (time_t)days * DAY_S)) < 0 ||
	    (gr = gnutls_x509_crt_set_key(crt, key)) < 0)
		return pki_gnutls(gr, "certificate", reterr);
	unsigned char id[64];
	size_t idlen = sizeof(id);
	if ((gr = gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA1, id, &idlen)) < 0 ||
	    (gr = gnutls_x509_crt_set_subject_key_id(crt, id, idlen)) < 0)
		return pki_gnutls(gr, "subject key id", reterr);
	return 0;
}

static int
pki_export(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, const char *crt_path,
    const char *key_path, struct dl_err *reterr)
{
	gnutls_datum_t c = { 0 }, k = { 0 };
	int gr, r;

	gr = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &c);
	if (gr < 0)
		return pki_gnutls(gr, "exporting the certificate", reterr);
	gr = gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &k);
	if (gr < 0) {
		gnutls_free(c.data);
		return pki_gnutls(gr, "exporting the key", reterr);
	}
	r = pki_write_new(key_path, &k, 0600, reterr);
	if (r == 0) {
		r = pki_write_new(crt_path, &c, 0644, reterr);
		if (r < 0)
			(void)unlink(key_path);
	}
	gnutls_free(c.data);
	gnutls_free(k.data);
	return r;
}

static int
pki_paths(const char *dir, const char *name, char *crt, char *key, size_t size,
    struct dl_err *reterr)
{
	if ((size_t)snprintf(crt, size, "%s/%s.crt", dir, name) >= size ||
	    (size_t)snprintf(key, size, "%s/%s.key", dir, name) >= size)
		return dl_err_set(reterr, -ENAMETOOLONG, "directory '%.128s' is too long", dir);
	return 0;
}

int
tls_pki_init(const char *dir, unsigned days, struct dl_err *reterr)
{
	char crt_path[4096], key_path[4096];
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t crt = NULL;
	static const char cn[] = "diskless control CA";
	int gr, r;

	r = pki_paths(dir, "ca", crt_path, key_path, sizeof(crt_path), reterr);
	if (r < 0)
		return r;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		r = negative_errno();
		return dl_err_set(reterr, r, "cannot create '%s': %s", dir, strerror(-r));
	}
	if (access(key_path, F_OK) == 0 || access(crt_path, F_OK) == 0)
		return dl_err_set(reterr, -EEXIST, "'%s' already holds a CA (ca.crt, ca.key); "
		    "remove them first to make a new one", dir);
	r = pki_new_key_crt(&key, &crt, reterr);
	if (r < 0)
		return r;
	r = pki_crt_base(crt, key, days, false, reterr);
	if (r < 0)
		goto out;
	if ((gr = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
	    sizeof(cn) - 1)) < 0 ||
	    (gr = gnutls_x509_crt_set_basic_constraints(crt, 1, 0)) < 0 ||
	    (gr = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_KEY_CERT_SIGN |
	    GNUTLS_KEY_CRL_SIGN)) < 0 ||
	    (gr = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0)) < 0) {
		r = pki_gnutls(gr, "CA certificate", reterr);
		goto out;
	}
	r = pki_export(crt, key, crt_path, key_path, reterr);
out:
	if (crt)
		gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
	return r;
}

static int
pki_load_ca(const char *dir, gnutls_x509_crt_t *ret_crt, gnutls_x509_privkey_t *ret_key,
    struct dl_err *reterr)
{
	char crt_path[4096], key_path[4096];
	gnutls_datum_t c = { 0 }, k = { 0 };
	gnutls_x509_crt_t crt = NULL;
	gnutls_x509_privkey_t key = NULL;
	int gr, r = 0;

	r = pki_paths(dir, "ca", crt_path, key_path, sizeof(crt_path), reterr);
	if (r < 0)
		return r;
	if (gnutls_load_file(crt_path, &c) < 0 || gnutls_load_file(key_path, &k) < 0) {
		gnutls_free(c.data);
		return dl_err_set(reterr, -ENOENT, "cannot read the CA in '%s' (ca.crt and "
		    "ca.key; make them with 'nodectl tls init --dir %s')", dir, dir);
	}
	if ((gr = gnutls_x509_crt_init(&crt)) < 0 ||
	    (gr = gnutls_x509_crt_import(crt, &c, GNUTLS_X509_FMT_PEM)) < 0)
		r = pki_gnutls(gr, crt_path, reterr);
	else if ((gr = gnutls_x509_privkey_init(&key)) < 0 ||
	    (gr = gnutls_x509_privkey_import(key, &k, GNUTLS_X509_FMT_PEM)) < 0)
		r = pki_gnutls(gr, key_path, reterr);
	gnutls_free(c.data);
	gnutls_free(k.data);
	if (r < 0) {
		if (crt)
			gnutls_x509_crt_deinit(crt);
		if (key)
			gnutls_x509_privkey_deinit(key);
		return r;
	}
	*ret_crt = crt;
	*ret_key = key;
	return 0;
}

static int
pki_add_san(gnutls_x509_crt_t crt, const char *san, struct dl_err *reterr)
{
	unsigned char ip[16];
	int gr;

	if (inet_pton(AF_INET, san, ip) == 1)
		gr = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip, 4,
		    GNUTLS_FSAN_APPEND);
	else if (inet_pton(AF_INET6, san, ip) == 1)
		gr = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip, 16,
		    GNUTLS_FSAN_APPEND);
	else
		gr = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, san,
		    (unsigned)strlen(san), GNUTLS_FSAN_APPEND);
	if (gr < 0)
		return dl_err_set(reterr, -EINVAL, "--san '%.128s': %s", san, gnutls_strerror(gr));
	return 0;
}

int
tls_pki_issue(const char *dir, const struct tls_pki_req *req, char *ret_crt, char *ret_key,
    size_t size, struct dl_err *reterr)
{
	char crt_path[4096], key_path[4096], ou[64];
	gnutls_x509_crt_t ca_crt = NULL, crt = NULL;
	gnutls_x509_privkey_t ca_key = NULL, key = NULL;
	unsigned char id[64];
	size_t idlen = sizeof(id);
	int gr, r;

	if (!tls_pki_name_is_valid(req->name))
		return dl_err_set(reterr, -EINVAL, "name '%.80s' is not [A-Za-z0-9._-], at most "
		    "%d, not starting with '.' or '-', not 'ca'", req->name, MAX_TLS_NAME);
	r = pki_paths(dir, req->name, crt_path, key_path, sizeof(crt_path), reterr);
	if (r < 0)
		return r;
	if (access(key_path, F_OK) == 0 || access(crt_path, F_OK) == 0)
		return dl_err_set(reterr, -EEXIST, "'%s' or '%s' already exists; remove them "
		    "first to issue '%s' again", crt_path, key_path, req->name);
	r = pki_load_ca(dir, &ca_crt, &ca_key, reterr);
	if (r < 0)
		return r;
	r = pki_new_key(&key, reterr);
	if (r < 0)
		goto out;
	gr = gnutls_x509_crt_init(&crt);
	if (gr < 0) {
		r = pki_gnutls(gr, "certificate", reterr);
		goto out;
	}
	r = pki_crt_base(crt, key, req->days, req->expired, reterr);
	if (r < 0)
		goto out;
	if ((gr = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, req->name,
	    (unsigned)strlen(req->name))) < 0 ||
	    (gr = gnutls_x509_crt_set_basic_constraints(crt, 0, -1)) < 0 ||
	    /* key encipherment too: libvirt refuses a certificate without it on either
	     * side, and an admin's reaches VM hosts' libvirtd (docs/vm.md) */
	    (gr = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE |
	    GNUTLS_KEY_KEY_ENCIPHERMENT)) < 0 ||
	    (gr = gnutls_x509_crt_set_key_purpose_oid(crt, req->server ?
	    GNUTLS_KP_TLS_WWW_SERVER : GNUTLS_KP_TLS_WWW_CLIENT, 0)) < 0 ||
	    (gr = gnutls_x509_crt_get_subject_key_id(ca_crt, id, &idlen, NULL)) < 0 ||
	    (gr = gnutls_x509_crt_set_authority_key_id(crt, id, idlen)) < 0) {
		r = pki_gnutls(gr, "certificate", reterr);
		goto out;
	}
	if (!req->server) {
		(void)snprintf(ou, sizeof(ou), ROLE_OU_PREFIX "%s", role_to_name(req->role));
		gr = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATIONAL_UNIT_NAME,
		    0, ou, (unsigned)strlen(ou));
		if (gr < 0) {
			r = pki_gnutls(gr, "certificate OU", reterr);
			goto out;
		}
	} else {
		r = pki_add_san(crt, req->name, reterr);
		for (size_t i = 0; r == 0 && i < req->n_sans; i++)
			r = pki_add_san(crt, req->sans[i], reterr);
		if (r < 0)
			goto out;
	}
	gr = gnutls_x509_crt_sign2(crt, ca_crt, ca_key, GNUTLS_DIG_SHA256, 0);
	if (gr < 0) {
		r = pki_gnutls(gr, "signing", reterr);
		goto out;
	}
	r = pki_export(crt, key, crt_path, key_path, reterr);
	if (r == 0) {
		(void)snprintf(ret_crt, size, "%s", crt_path);
		(void)snprintf(ret_key, size, "%s", key_path);
	}
out:
	if (crt)
		gnutls_x509_crt_deinit(crt);
	if (key)
		gnutls_x509_privkey_deinit(key);
	if (ca_crt)
		gnutls_x509_crt_deinit(ca_crt);
	if (ca_key)
		gnutls_x509_privkey_deinit(ca_key);
	return r;
}

struct tls_ca {
	gnutls_x509_crt_t crt;
	gnutls_x509_privkey_t key;
	unsigned char key_id[64]; /* the CA's subject key id, the issued ones' authority id */
	size_t key_id_len;
};

struct tls_ca *
tls_ca_free(struct tls_ca *ca)
{
	if (!ca)
		return NULL;
	if (ca->crt)
		gnutls_x509_crt_deinit(ca->crt);
	if (ca->key)
		gnutls_x509_privkey_deinit(ca->key);
	free(ca);
	return NULL;
}

/* The CA of a certificate and its key in PEM, each followed by a NUL (pem_datum). */
static int
ca_from(const gnutls_datum_t *c, const gnutls_datum_t *k, struct tls_ca **ret,
    struct dl_err *reterr)
{
	unsigned char crt_id[64], key_id[64];
	size_t crt_id_len = sizeof(crt_id), key_id_len = sizeof(key_id);
	unsigned critical = 0, ca_flag = 0, usage = 0;
	int pathlen = 0, gr, r;
	struct tls_ca *ca;

	ca = calloc(1, sizeof(*ca));
	if (!ca)
		return dl_err_set(reterr, -ENOMEM, "loading the CA: out of memory");
	if ((gr = gnutls_x509_crt_init(&ca->crt)) < 0 ||
	    (gr = gnutls_x509_crt_import(ca->crt, c, GNUTLS_X509_FMT_PEM)) < 0) {
		r = pki_gnutls(gr, "CA certificate", reterr);
		goto fail;
	}
	/* A traditional or an unencrypted PKCS#8 key: what 'nodectl tls init' and openssl
	 * write. An encrypted key cannot be used unattended. */
	if ((gr = gnutls_x509_privkey_init(&ca->key)) < 0 ||
	    (gr = gnutls_x509_privkey_import2(ca->key, k, GNUTLS_X509_FMT_PEM, NULL,
	    GNUTLS_PKCS_PLAIN)) < 0) {
		r = pki_gnutls(gr, "CA key", reterr);
		goto fail;
	}
	gr = gnutls_x509_crt_get_basic_constraints(ca->crt, &critical, &ca_flag, &pathlen);
	if (gr < 0 || !ca_flag) {
		r = dl_err_set(reterr, -EINVAL, "CA certificate: not a CA (no basic constraints "
		    "CA:TRUE)");
		goto fail;
	}
	gr = gnutls_x509_crt_get_key_usage(ca->crt, &usage, &critical);
	if (gr >= 0 && !(usage & GNUTLS_KEY_KEY_CERT_SIGN)) {
		r = dl_err_set(reterr, -EINVAL, "CA certificate: its key usage does not allow "
		    "signing certificates");
		goto fail;
	}
	if ((gr = gnutls_x509_crt_get_key_id(ca->crt, GNUTLS_KEYID_USE_SHA256, crt_id,
	    &crt_id_len)) < 0 ||
	    (gr = gnutls_x509_privkey_get_key_id(ca->key, GNUTLS_KEYID_USE_SHA256, key_id,
	    &key_id_len)) < 0) {
		r = pki_gnutls(gr, "CA key id", reterr);
		goto fail;
	}
	if (crt_id_len != key_id_len || memcmp(crt_id, key_id, crt_id_len) != 0) {
		r = dl_err_set(reterr, -EINVAL, "CA key: not the key of the CA certificate");
		goto fail;
	}
	/* The authority key id of what it issues: the CA's own subject key id when it has
	 * one (nodectl's has), else the id of its key. */
	ca->key_id_len = sizeof(ca->key_id);
	if (gnutls_x509_crt_get_subject_key_id(ca->crt, ca->key_id, &ca->key_id_len, NULL) < 0) {
		ca->key_id_len = sizeof(ca->key_id);
		if ((gr = gnutls_x509_crt_get_key_id(ca->crt, GNUTLS_KEYID_USE_SHA1, ca->key_id,
		    &ca->key_id_len)) < 0) {
			r = pki_gnutls(gr, "CA key id", reterr);
			goto fail;
		}
	}
	*ret = ca;
	return 0;
fail:
	tls_ca_free(ca);
	return r;
}

/* len bytes of PEM copied with a NUL after them: GnuTLS's PEM parsers read past a
 * datum's size looking for the end of a line or a header (gnutls_x509_privkey_import2
 * with a key that has no final newline read one byte beyond it: fuzz_tls_ca), and
 * gnutls_load_file's data, which they are used to, ends in one. */
static int
pem_datum(const char *pem, size_t len, gnutls_datum_t *ret)
{
	if (!(ret->data = malloc(len + 1)))
		return -ENOMEM;
	memcpy(ret->data, pem, len);
	ret->data[len] = '\0';
	ret->size = (unsigned)len;
	return 0;
}

static void
pem_datum_wipe(gnutls_datum_t *d)
{
	if (d->data)
		explicit_bzero(d->data, d->size);
	free(d->data);
	d->data = NULL;
}

int
tls_ca_new(const char *crt_pem, size_t crt_len, const char *key_pem, size_t key_len,
    struct tls_ca **ret, struct dl_err *reterr)
{
	gnutls_datum_t c = { 0 }, k = { 0 };
	int r;

	if (crt_len == 0 || crt_len > MAX_TLS_PEM)
		return dl_err_set(reterr, crt_len ? -E2BIG : -EINVAL, "CA certificate of %zu "
		    "bytes: must be 1..%d bytes of PEM", crt_len, MAX_TLS_PEM);
	if (key_len == 0 || key_len > MAX_TLS_PEM)
		return dl_err_set(reterr, key_len ? -E2BIG : -EINVAL, "CA key of %zu bytes: must "
		    "be 1..%d bytes of PEM", key_len, MAX_TLS_PEM);
	if (pem_datum(crt_pem, crt_len, &c) < 0 || pem_datum(key_pem, key_len, &k) < 0)
		r = dl_err_set(reterr, -ENOMEM, "loading the CA: out of memory");
	else
		r = ca_from(&c, &k, ret, reterr);
	pem_datum_wipe(&c);
	pem_datum_wipe(&k);
	return r;
}

/* A CN or OU: 1..MAX_TLS_DN_FIELD printable ASCII bytes, none of RFC 4514's specials
 * (,+"\<>;=#) nor a space: a DN reads back escaped where it has them, and libvirt's
 * tls_allowed_dn_list matches the DN as text (docs/images.md), so a name that needs
 * escaping would never match as written. */
#define DN_SPECIALS ",+\"\\<>;=#"
static bool
dn_field_is_valid(const char *s)
{
	size_t n = strnlen(s, MAX_TLS_DN_FIELD + 1);

	if (n == 0 || n > MAX_TLS_DN_FIELD)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] > 0x7e || strchr(DN_SPECIALS, s[i]))
			return false;
	return true;
}

/* A DNS name: dot-separated labels of [A-Za-z0-9-], 1..63 bytes each, not starting or
 * ending with '-' (RFC 1123 §2.1), at most MAX_TLS_DNS_NAME bytes in all. */
static bool
dns_name_is_valid(const char *s)
{
	size_t n = strnlen(s, MAX_TLS_DNS_NAME + 1), label = 0;

	if (n == 0 || n > MAX_TLS_DNS_NAME)
		return false;
	for (size_t i = 0; i <= n; i++) {
		char ch = s[i];

		if (ch == '.' || ch == '\0') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || (ch == '-' && label > 0)))
			return false;
		label++;
	}
	return true;
}

/* Every field of req checked; the values quoted in messages pass through log_safe(). */
static int
issue_check(const struct tls_issue_req *req, struct dl_err *reterr)
{
	char q[MAX_LOG_VALUE + 8], cn[MAX_LOG_VALUE + 8];
	unsigned a[4];

	if (!req->cn || !dn_field_is_valid(req->cn))
		return dl_err_set(reterr, -EINVAL, "certificate CN '%s': must be 1..%d "
		    "printable ASCII bytes, no space or any of " DN_SPECIALS,
		    log_safe(q, sizeof(q), req->cn ? req->cn : ""), MAX_TLS_DN_FIELD);
	(void)log_safe(cn, sizeof(cn), req->cn);
	if (req->ou && !dn_field_is_valid(req->ou))
		return dl_err_set(reterr, -EINVAL, "certificate '%s': OU '%s': must be 1..%d "
		    "printable ASCII bytes, no space or any of " DN_SPECIALS, cn,
		    log_safe(q, sizeof(q), req->ou), MAX_TLS_DN_FIELD);
	if (req->n_dns > MAX_TLS_ISSUE_SANS || req->n_ip > MAX_TLS_ISSUE_SANS)
		return dl_err_set(reterr, -EINVAL, "certificate '%s': %zu DNS names and %zu "
		    "addresses, at most %d of each", cn, req->n_dns, req->n_ip,
		    MAX_TLS_ISSUE_SANS);
	for (size_t i = 0; i < req->n_dns; i++)
		if (!req->dns[i] || !dns_name_is_valid(req->dns[i]))
			return dl_err_set(reterr, -EINVAL, "certificate '%s': DNS name '%s' is "
			    "not dot-separated [A-Za-z0-9-] labels of at most %d bytes", cn,
			    log_safe(q, sizeof(q), req->dns[i] ? req->dns[i] : ""),
			    MAX_TLS_DNS_NAME);
	for (size_t i = 0; i < req->n_ip; i++)
		if (!req->ip[i] || strnlen(req->ip[i], INET6_ADDRSTRLEN) >= INET6_ADDRSTRLEN ||
		    (inet_pton(AF_INET, req->ip[i], a) != 1 && inet_pton(AF_INET6, req->ip[i], a) != 1))
			return dl_err_set(reterr, -EINVAL, "certificate '%s': address '%s' is not "
			    "IPv4 or IPv6", cn, log_safe(q, sizeof(q), req->ip[i] ? req->ip[i] : ""));
	if (!req->purposes || (req->purposes & ~(unsigned)(TLS_PURPOSE_SERVER | TLS_PURPOSE_CLIENT)))
		return dl_err_set(reterr, -EINVAL, "certificate '%s': purposes 0x%x: server, "
		    "client or both", cn, req->purposes);
	if (req->days < 1 || req->days > MAX_TLS_PKI_DAYS)
		return dl_err_set(reterr, -EINVAL, "certificate '%s': %u days: must be 1..%d",
		    cn, req->days, MAX_TLS_PKI_DAYS);
	return 0;
}

/* An address issue_check() accepted, as a SAN. */
static int
issue_add_ip(gnutls_x509_crt_t crt, const char *ip, struct dl_err *reterr)
{
	unsigned char a[16];
	unsigned len = 4;
	int gr;

	if (inet_pton(AF_INET, ip, a) != 1) {
		if (inet_pton(AF_INET6, ip, a) != 1)
			return dl_err_set(reterr, -EINVAL, "address: not IPv4 or IPv6");
		len = 16;
	}
	gr = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, a, len,
	    GNUTLS_FSAN_APPEND);
	return gr < 0 ? pki_gnutls(gr, "certificate address", reterr) : 0;
}

/* Everything of crt but the signature. */
static int
issue_fill(const struct tls_ca *ca, const struct tls_issue_req *req, gnutls_x509_crt_t crt,
    gnutls_x509_privkey_t key, struct dl_err *reterr)
{
	time_t now = req->now ? (time_t)req->now : time(NULL);
	unsigned char serial[16], id[64];
	size_t idlen = sizeof(id);
	int gr, r;

	gr = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial));
	if (gr < 0)
		return pki_gnutls(gr, "random serial", reterr);
	serial[0] &= 0x7f; /* a positive integer */
	serial[0] |= 0x01; /* and no leading zero octet */
	if ((gr = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
	    (gr = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial))) < 0 ||
	    (gr = gnutls_x509_crt_set_activation_time(crt, now - BACKDATE_S)) < 0 ||
	    (gr = gnutls_x509_crt_set_expiration_time(crt, now + (time_t)req->days * DAY_S)) < 0 ||
	    (gr = gnutls_x509_crt_set_key(crt, key)) < 0 ||
	    (gr = gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA1, id, &idlen)) < 0 ||
	    (gr = gnutls_x509_crt_set_subject_key_id(crt, id, idlen)) < 0 ||
	    (gr = gnutls_x509_crt_set_authority_key_id(crt, ca->key_id, ca->key_id_len)) < 0 ||
	    (gr = gnutls_x509_crt_set_basic_constraints(crt, 0, -1)) < 0 ||
	    (gr = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE |
	    GNUTLS_KEY_KEY_ENCIPHERMENT)) < 0)
		return pki_gnutls(gr, "certificate", reterr);
	if (((req->purposes & TLS_PURPOSE_SERVER) &&
	    (gr = gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0) ||
	    ((req->purposes & TLS_PURPOSE_CLIENT) &&
	    (gr = gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_CLIENT, 0)) < 0))
		return pki_gnutls(gr, "certificate purposes", reterr);
	if ((gr = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, req->cn,
	    (unsigned)strlen(req->cn))) < 0 ||
	    (req->ou && (gr = gnutls_x509_crt_set_dn_by_oid(crt,
	    GNUTLS_OID_X520_ORGANIZATIONAL_UNIT_NAME, 0, req->ou, (unsigned)strlen(req->ou))) < 0))
		return pki_gnutls(gr, "certificate subject", reterr);
	for (size_t i = 0; i < req->n_dns; i++) {
		gr = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, req->dns[i],
		    (unsigned)strlen(req->dns[i]), GNUTLS_FSAN_APPEND);
		if (gr < 0)
			return pki_gnutls(gr, "certificate DNS name", reterr);
	}
	for (size_t i = 0; i < req->n_ip; i++)
		if ((r = issue_add_ip(crt, req->ip[i], reterr)) < 0)
			return r;
	gr = gnutls_x509_crt_sign2(crt, ca->crt, ca->key, GNUTLS_DIG_SHA256, 0);
	return gr < 0 ? pki_gnutls(gr, "signing the certificate", reterr) : 0;
}

/* A GnuTLS datum into a malloc'd NUL-terminated copy (ours to free with free()); the
 * datum is wiped and freed. */
static int
datum_take(gnutls_datum_t *d, char **ret, size_t *ret_len)
{
	char *s = malloc((size_t)d->size + 1);

	if (s) {
		memcpy(s, d->data, d->size);
		s[d->size] = '\0';
		*ret = s;
		*ret_len = d->size;
	}
	explicit_bzero(d->data, d->size);
	gnutls_free(d->data);
	d->data = NULL;
	return s ? 0 : -ENOMEM;
}

int
tls_ca_issue(const struct tls_ca *ca, const struct tls_issue_req *req,
    struct tls_issued *ret, struct dl_err *reterr)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t c = { 0 }, k = { 0 };
	struct tls_issued out = { 0 };
	int gr, r;

	assert(ca);
	r = issue_check(req, reterr);
	if (r < 0)
		return r;
	r = pki_new_key_crt(&key, &crt, reterr);
	if (r < 0)
		return r;
	r = issue_fill(ca, req, crt, key, reterr);
	if (r < 0)
		goto out;
	if ((gr = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &c)) < 0 ||
	    (gr = gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &k)) < 0) {
		r = pki_gnutls(gr, "exporting the certificate", reterr);
		goto out;
	}
	if (datum_take(&c, &out.crt, &out.crt_len) < 0 ||
	    datum_take(&k, &out.key, &out.key_len) < 0) {
		r = dl_err_set(reterr, -ENOMEM, "certificate '%s': out of memory", req->cn);
		goto out;
	}
	*ret = out;
	out = (struct tls_issued){ 0 };
out:
	if (c.data)
		gnutls_free(c.data);
	if (k.data) {
		explicit_bzero(k.data, k.size);
		gnutls_free(k.data);
	}
	tls_issued_done(&out);
	if (crt)
		gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
	return r;
}

void
tls_issued_done(struct tls_issued *c)
{
	if (c->key)
		explicit_bzero(c->key, c->key_len);
	free(c->key);
	free(c->crt);
	*c = (struct tls_issued){ 0 };
}
