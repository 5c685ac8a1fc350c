/* SPDX-License-Identifier: MIT */
/* Checks of an issued certificate with GnuTLS itself, as a peer would make them: the chain
 * to the CA, the dates, the host name and address, the key purposes, and that the key is
 * the certificate's. Shared by the tests of lib/tls_pki.c and of the places bootsvc writes
 * certificates. Include after <cmocka.h>. */
#pragma once

#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

struct tls_want {
	const char *cn, *ou;  /* ou NULL: none */
	const char *dns;      /* a name check_hostname must accept (NULL: none) */
	const char *ip;       /* an address check_ip must accept (NULL: the cert has none) */
	bool server, client;  /* key purposes it must have, and no others */
	unsigned days;        /* expiry about this far from now */
};

static inline gnutls_x509_crt_t
tls_check_crt_import(const char *pem, size_t len)
{
	gnutls_datum_t d = { .data = (unsigned char *)pem, .size = (unsigned)len };
	gnutls_x509_crt_t c;

	assert_int_equal(gnutls_x509_crt_init(&c), 0);
	assert_int_equal(gnutls_x509_crt_import(c, &d, GNUTLS_X509_FMT_PEM), 0);
	return c;
}

/* Does the PEM key belong to the PEM certificate (the same public key id)? */
static inline bool
tls_check_key_matches(const char *crt_pem, size_t crt_len, const char *key_pem,
    size_t key_len)
{
	gnutls_datum_t k = { .data = (unsigned char *)key_pem, .size = (unsigned)key_len };
	gnutls_x509_crt_t c = tls_check_crt_import(crt_pem, crt_len);
	gnutls_x509_privkey_t key;
	unsigned char a[64], b[64];
	size_t alen = sizeof(a), blen = sizeof(b);
	bool same;

	assert_int_equal(gnutls_x509_privkey_init(&key), 0);
	assert_int_equal(gnutls_x509_privkey_import(key, &k, GNUTLS_X509_FMT_PEM), 0);
	assert_int_equal(gnutls_x509_crt_get_key_id(c, GNUTLS_KEYID_USE_SHA256, a, &alen), 0);
	assert_int_equal(gnutls_x509_privkey_get_key_id(key, GNUTLS_KEYID_USE_SHA256, b, &blen), 0);
	same = alen == blen && memcmp(a, b, alen) == 0;
	gnutls_x509_privkey_deinit(key);
	gnutls_x509_crt_deinit(c);
	return same;
}

static inline void
tls_check_at(const char *file, int line, const char *crt_pem, size_t crt_len,
    const char *ca_pem, size_t ca_len, const struct tls_want *w)
{
	gnutls_x509_crt_t c = tls_check_crt_import(crt_pem, crt_len);
	gnutls_x509_crt_t ca = tls_check_crt_import(ca_pem, ca_len);
	unsigned status = ~0u, crit = 0;
	time_t now = time(NULL), from, until;
	bool server = false, client = false;
	char buf[256];
	size_t size;

	/* the chain, at the current time (GnuTLS checks the dates too) */
	if (gnutls_x509_crt_verify(c, &ca, 1, 0, &status) < 0 || status != 0)
		fail_msg("%s:%d: certificate does not verify against the CA: status 0x%x", file,
		    line, status);
	from = gnutls_x509_crt_get_activation_time(c);
	until = gnutls_x509_crt_get_expiration_time(c);
	if (!(from <= now && from >= now - 3600 && until > now + (time_t)w->days * 86400 - 3600 &&
	    until <= now + (time_t)w->days * 86400 + 60))
		fail_msg("%s:%d: validity %lld..%lld for %u days from %lld", file, line,
		    (long long)from, (long long)until, w->days, (long long)now);
	size = sizeof(buf);
	_assert_int_equal(gnutls_x509_crt_get_dn_by_oid(c, GNUTLS_OID_X520_COMMON_NAME, 0, 0,
	    buf, &size), 0, file, line);
	_assert_string_equal(buf, w->cn, file, line);
	size = sizeof(buf);
	if (w->ou) {
		_assert_int_equal(gnutls_x509_crt_get_dn_by_oid(c,
		    GNUTLS_OID_X520_ORGANIZATIONAL_UNIT_NAME, 0, 0, buf, &size), 0, file, line);
		_assert_string_equal(buf, w->ou, file, line);
	}
	if (w->dns) {
		_assert_true(gnutls_x509_crt_check_hostname(c, w->dns), "check_hostname", file,
		    line);
		_assert_true(!gnutls_x509_crt_check_hostname(c, "not-this-host"),
		    "check_hostname(other)", file, line);
	}
	if (w->ip) {
		unsigned char a[4], other[4] = { 192, 0, 2, 254 };

		_assert_int_equal(inet_pton(AF_INET, w->ip, a), 1, file, line);
		_assert_true(gnutls_x509_crt_check_ip(c, a, 4, 0), "check_ip", file, line);
		_assert_true(!gnutls_x509_crt_check_ip(c, other, 4, 0), "check_ip(other)", file,
		    line);
	} else {
		/* no address: no IP SAN at all */
		for (unsigned i = 0;; i++) {
			unsigned type = 0;
			size = sizeof(buf);
			int gr = gnutls_x509_crt_get_subject_alt_name2(c, i, buf, &size, &type, NULL);
			if (gr < 0)
				break;
			_assert_true(type != GNUTLS_SAN_IPADDRESS, "no IP SAN", file, line);
		}
	}
	for (unsigned i = 0;; i++) {
		size = sizeof(buf);
		if (gnutls_x509_crt_get_key_purpose_oid(c, i, buf, &size, &crit) < 0)
			break;
		if (strcmp(buf, GNUTLS_KP_TLS_WWW_SERVER) == 0)
			server = true;
		else if (strcmp(buf, GNUTLS_KP_TLS_WWW_CLIENT) == 0)
			client = true;
		else
			fail_msg("%s:%d: unexpected key purpose %s", file, line, buf);
	}
	_assert_int_equal(server, w->server, file, line);
	_assert_int_equal(client, w->client, file, line);
	gnutls_x509_crt_deinit(c);
	gnutls_x509_crt_deinit(ca);
}
#define tls_check(crt, crt_len, ca, ca_len, w) \
	tls_check_at(__FILE__, __LINE__, crt, crt_len, ca, ca_len, w)
