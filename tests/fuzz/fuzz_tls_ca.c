/* SPDX-License-Identifier: MIT */
/* lib/tls_pki.c's in-memory CA on arbitrary input. Byte 0 chooses:
 *   0: the rest split at its first NUL into a certificate and a key (PEM), given to
 *      tls_ca_new() as ca.crt and ca.key are;
 *   else: the rest is "cn\nou\ndns dns..\nip ip..\ndays\npurposes", a request issued from
 *      the fixed test CA below.
 * A failure is -EINVAL, -E2BIG or -ENOMEM with a message free of control characters; an
 * issued certificate parses back with the CN asked for. */
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "parse.h"
#include "tls_pki.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A CA made once with 'nodectl tls init' for this target: a test key, trusted by nothing. */
static const char test_ca_crt[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBfzCCASWgAwIBAgIQR+uPsitG5QFdLFWKSSCwOzAKBggqhkjOPQQDAjAeMRww\n"
	"GgYDVQQDExNkaXNrbGVzcyBjb250cm9sIENBMB4XDTI2MTIwNDE5MDg0MFoXDTM2\n"
	"MTIwMTE5MTM0MFowHjEcMBoGA1UEAxMTZGlza2xlc3MgY29udHJvbCBDQTBZMBMG\n"
	"ByqGSM49AgEGCCqGSM49AwEHA0IABPJQhbLvukkdtrok8eja1yrdrnSJKyltu7gu\n"
	"yb+6Ujqqn7UrZVt1RJGMY2rMfU4RBlIDP9EQtM7ExgBghKIMPEmjRTBDMB0GA1Ud\n"
	"DgQWBBRusPah1HJklRT9sjjVKHfototWYzASBgNVHRMBAf8ECDAGAQH/AgEAMA4G\n"
	"A1UdDwEB/wQEAwIBBjAKBggqhkjOPQQDAgNIADBFAiBx7K81YDfs28SDVwKOrqES\n"
	"OBwmz4gY4fi7UqFHDEjuLAIhAPimekV56wMA+Qb3M4muD3CUwx/te/jaic/5wui7\n"
	"d3xo\n"
	"-----END CERTIFICATE-----\n";
static const char test_ca_key[] =
	"-----BEGIN EC PRIVATE KEY-----\n"
	"MHcCAQEEIHqAm3pXfViICaq06A7wkK/V7J31LWm96Cn7RjI42kp3oAoGCCqGSM49\n"
	"AwEHoUQDQgAE8lCFsu+6SR22uiTx6NrXKt2udIkrKW27uC7Jv7pSOqqftStlW3VE\n"
	"kYxjasx9ThEGUgM/0RC0zsTGAGCEogw8SQ==\n"
	"-----END EC PRIVATE KEY-----\n";

static void
check_err(const struct dl_err *e, int r)
{
	if ((r != -EINVAL && r != -E2BIG && r != -ENOMEM) || e->code != r || !e->msg[0])
		abort();
	for (const char *p = e->msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			abort();
}

static void
fuzz_ca(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	struct dl_err e = { 0 };
	struct tls_ca *ca = NULL;
	int r;

	if (!nul)
		return;
	r = tls_ca_new((const char *)data, (size_t)(nul - data), (const char *)nul + 1,
	    size - (size_t)(nul - data) - 1, &ca, &e);
	if (r < 0) {
		check_err(&e, r);
		if (ca)
			abort();
		return;
	}
	tls_ca_free(ca);
}

/* Split s at each of seps into at most max pieces; the count. */
static size_t
split(char *s, char sep, const char **ret, size_t max)
{
	size_t n = 0;

	while (s && *s && n < max) {
		char *p = strchr(s, sep);

		if (p)
			*p++ = '\0';
		ret[n++] = s;
		s = p;
	}
	return n;
}

static void
fuzz_issue(const uint8_t *data, size_t size)
{
	static struct tls_ca *ca;
	struct tls_issue_req req = { 0 };
	struct tls_issued out = { 0 };
	struct dl_err e = { 0 };
	const char *f[6] = { NULL };
	char *s = fuzz_cstr(data, size);
	uint64_t v;
	int r;

	if (!s)
		return;
	if (!ca && tls_ca_new(test_ca_crt, sizeof(test_ca_crt) - 1, test_ca_key,
	    sizeof(test_ca_key) - 1, &ca, &e) < 0)
		abort();
	(void)split(s, '\n', f, 6);
	req.cn = f[0];
	req.ou = f[1] && *f[1] ? f[1] : NULL;
	if (f[2])
		req.n_dns = split((char *)f[2], ' ', req.dns, MAX_TLS_ISSUE_SANS);
	if (f[3])
		req.n_ip = split((char *)f[3], ' ', req.ip, MAX_TLS_ISSUE_SANS);
	req.days = f[4] && parse_u64(f[4], 0, 100000, &v, NULL) == 0 ? (unsigned)v : 1;
	req.purposes = f[5] && parse_u64(f[5], 0, 15, &v, NULL) == 0 ? (unsigned)v : 1;
	r = tls_ca_issue(ca, &req, &out, &e);
	if (r < 0) {
		check_err(&e, r);
		if (out.crt || out.key)
			abort();
	} else {
		gnutls_datum_t d = { .data = (unsigned char *)out.crt, .size = (unsigned)out.crt_len };
		gnutls_x509_crt_t c;
		char cn[128];
		size_t cn_len = sizeof(cn);

		if (gnutls_x509_crt_init(&c) < 0)
			abort();
		if (gnutls_x509_crt_import(c, &d, GNUTLS_X509_FMT_PEM) < 0 ||
		    gnutls_x509_crt_get_dn_by_oid(c, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn,
		    &cn_len) < 0 || strcmp(cn, req.cn) != 0 || strlen(out.key) != out.key_len)
			abort();
		gnutls_x509_crt_deinit(c);
		tls_issued_done(&out);
	}
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] == 0)
		fuzz_ca(data + 1, size - 1);
	else
		fuzz_issue(data + 1, size - 1);
	return 0;
}
