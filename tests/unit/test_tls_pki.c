/* SPDX-License-Identifier: MIT */
/* lib/tls_pki.c in memory (issue 12): a CA parsed from its PEM files, certificates issued
 * from it and checked with GnuTLS as libvirt's peers would (tls_check.h): chain, dates,
 * name and address, purposes, key; then every refusal, each naming what was wrong. The CA
 * itself is made by tls_pki_init(), as 'nodectl tls init' makes it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "check_r.h"
#include "macro.h"
#include "readfile.h"
#include "tls_pki.h"
#include "tmpdir.h"
#include "tls_check.h"

struct pem {
	char *crt, *key;
	size_t crt_len, key_len;
};

static struct pem ca1, ca2;

static void
make_ca(const char *name, struct pem *p)
{
	char dir[128], path[160];
	struct dl_err e = { 0 };

	(void)snprintf(dir, sizeof(dir), "%s/%s", tmpdir, name);
	if (tls_pki_init(dir, 30, &e) < 0)
		fail_msg("tls_pki_init: %s", e.msg);
	(void)snprintf(path, sizeof(path), "%s/ca.crt", dir);
	assert_int_equal(read_file(path, MAX_TLS_PEM, 0, &p->crt, &p->crt_len, &e), 0);
	(void)snprintf(path, sizeof(path), "%s/ca.key", dir);
	assert_int_equal(read_file(path, MAX_TLS_PEM, 0, &p->key, &p->key_len, &e), 0);
	rm_rf(dir);
}

static int
setup(void **state)
{
	if (tmpdir_setup(state) < 0)
		return -1;
	make_ca("ca1", &ca1);
	make_ca("ca2", &ca2);
	return 0;
}

static int
teardown(void **state)
{
	free(ca1.crt);
	free(ca1.key);
	free(ca2.crt);
	free(ca2.key);
	return tmpdir_teardown(state);
}

static struct tls_ca *
load(const struct pem *p)
{
	struct tls_ca *ca = NULL;
	struct dl_err e = { 0 };

	if (tls_ca_new(p->crt, p->crt_len, p->key, p->key_len, &ca, &e) < 0)
		fail_msg("tls_ca_new: %s", e.msg);
	return ca;
}

/* A VM host's certificate and bootsvc's client certificate, as bootsvc asks for them. */
static void
test_issue(void **state)
{
	struct tls_ca *ca = load(&ca1);
	struct tls_issue_req host = { .cn = "n1", .ou = "diskless-vmhost", .dns = { "n1" },
		.n_dns = 1, .ip = { "10.77.0.11" }, .n_ip = 1,
		.purposes = TLS_PURPOSE_SERVER | TLS_PURPOSE_CLIENT, .days = 30 };
	struct tls_issue_req client = { .cn = "bootsvc", .ou = "diskless-libvirt",
		.purposes = TLS_PURPOSE_CLIENT, .days = 30 };
	struct tls_issue_req dns_only = { .cn = "n2", .dns = { "n2", "n2.example.org" },
		.n_dns = 2, .purposes = TLS_PURPOSE_SERVER, .days = 1 };
	struct tls_issued a = { 0 }, b = { 0 }, c = { 0 }, d = { 0 };
	struct dl_err e = { 0 };

	(void)state;
	assert_int_equal(tls_ca_issue(ca, &host, &a, &e), 0);
	tls_check(a.crt, a.crt_len, ca1.crt, ca1.crt_len, (&(struct tls_want){ .cn = "n1",
	    .ou = "diskless-vmhost", .dns = "n1", .ip = "10.77.0.11", .server = true,
	    .client = true, .days = 30 }));
	assert_true(tls_check_key_matches(a.crt, a.crt_len, a.key, a.key_len));
	assert_int_equal(strlen(a.key), a.key_len);

	/* a second issue: a fresh key */
	assert_int_equal(tls_ca_issue(ca, &host, &b, &e), 0);
	assert_true(strcmp(a.key, b.key) != 0);
	assert_false(tls_check_key_matches(a.crt, a.crt_len, b.key, b.key_len));

	assert_int_equal(tls_ca_issue(ca, &client, &c, &e), 0);
	tls_check(c.crt, c.crt_len, ca1.crt, ca1.crt_len, (&(struct tls_want){ .cn = "bootsvc",
	    .ou = "diskless-libvirt", .client = true, .days = 30 }));

	assert_int_equal(tls_ca_issue(ca, &dns_only, &d, &e), 0);
	tls_check(d.crt, d.crt_len, ca1.crt, ca1.crt_len, (&(struct tls_want){ .cn = "n2",
	    .dns = "n2.example.org", .server = true, .days = 1 }));

	/* the other CA does not vouch for it */
	{
		gnutls_x509_crt_t crt = tls_check_crt_import(a.crt, a.crt_len);
		gnutls_x509_crt_t other = tls_check_crt_import(ca2.crt, ca2.crt_len);
		unsigned status = 0;

		assert_int_equal(gnutls_x509_crt_verify(crt, &other, 1, 0, &status), 0);
		assert_true(status & GNUTLS_CERT_INVALID);
		gnutls_x509_crt_deinit(crt);
		gnutls_x509_crt_deinit(other);
	}
	tls_issued_done(&a);
	tls_issued_done(&b);
	tls_issued_done(&c);
	tls_issued_done(&d);
	assert_null(a.key);
	tls_ca_free(ca);
}

/* An injected clock: validity counts from req.now. */
static void
test_issue_now(void **state)
{
	struct tls_ca *ca = load(&ca1);
	struct tls_issue_req r = { .cn = "n1", .purposes = TLS_PURPOSE_SERVER, .days = 2,
		.now = 1700000000 };
	struct tls_issued out = { 0 };
	struct dl_err e = { 0 };

	(void)state;
	assert_int_equal(tls_ca_issue(ca, &r, &out, &e), 0);
	gnutls_x509_crt_t c = tls_check_crt_import(out.crt, out.crt_len);
	time_t from = gnutls_x509_crt_get_activation_time(c);
	assert_true(from < 1700000000 && from >= 1700000000 - 3600);
	assert_int_equal(gnutls_x509_crt_get_expiration_time(c), 1700000000 + 2 * 86400);
	gnutls_x509_crt_deinit(c);
	tls_issued_done(&out);
	tls_ca_free(ca);
}

/* Requests refused, each naming the field and value. */
static void
test_issue_refuses(void **state)
{
	static char long_cn[MAX_TLS_DN_FIELD + 2], long_label[70], long_dns[MAX_TLS_DNS_NAME + 2];
	const struct {
		int line;
		struct tls_issue_req req;
		const char *msg;
	} v[] = {
		{ __LINE__, { .cn = NULL, .purposes = 1, .days = 1 }, "CN ''" },
		{ __LINE__, { .cn = "", .purposes = 1, .days = 1 }, "CN ''" },
		{ __LINE__, { .cn = long_cn, .purposes = 1, .days = 1 }, "must be 1..64" },
		{ __LINE__, { .cn = "a\nb", .purposes = 1, .days = 1 }, "CN 'a?b': must be 1..64 printable" },
		{ __LINE__, { .cn = "n1", .ou = "", .purposes = 1, .days = 1 }, "OU ''" },
		{ __LINE__, { .cn = "n1", .dns = { "" }, .n_dns = 1, .purposes = 1, .days = 1 },
		    "DNS name ''" },
		{ __LINE__, { .cn = "n1", .dns = { NULL }, .n_dns = 1, .purposes = 1, .days = 1 },
		    "DNS name ''" },
		{ __LINE__, { .cn = "n1", .dns = { "a..b" }, .n_dns = 1, .purposes = 1, .days = 1 },
		    "DNS name 'a..b'" },
		{ __LINE__, { .cn = "n1", .dns = { "-a" }, .n_dns = 1, .purposes = 1, .days = 1 },
		    "DNS name '-a'" },
		{ __LINE__, { .cn = "n1", .dns = { "a-" }, .n_dns = 1, .purposes = 1, .days = 1 },
		    "DNS name 'a-'" },
		{ __LINE__, { .cn = "n1", .dns = { "a.b." }, .n_dns = 1, .purposes = 1, .days = 1 },
		    "DNS name 'a.b.'" },
		{ __LINE__, { .cn = "n1", .dns = { "a b" }, .n_dns = 1, .purposes = 1, .days = 1 },
		    "DNS name 'a b'" },
		{ __LINE__, { .cn = "n1", .dns = { long_label }, .n_dns = 1, .purposes = 1,
		    .days = 1 }, "DNS name" },
		{ __LINE__, { .cn = "n1", .dns = { long_dns }, .n_dns = 1, .purposes = 1,
		    .days = 1 }, "DNS name" },
		{ __LINE__, { .cn = "n1", .n_dns = MAX_TLS_ISSUE_SANS + 1, .purposes = 1,
		    .days = 1 }, "at most 8" },
		{ __LINE__, { .cn = "n1", .n_ip = MAX_TLS_ISSUE_SANS + 1, .purposes = 1,
		    .days = 1 }, "at most 8" },
		{ __LINE__, { .cn = "n1", .ip = { "10.0.0.256" }, .n_ip = 1, .purposes = 1,
		    .days = 1 }, "address '10.0.0.256' is not IPv4 or IPv6" },
		{ __LINE__, { .cn = "n1", .ip = { "" }, .n_ip = 1, .purposes = 1, .days = 1 },
		    "address ''" },
		{ __LINE__, { .cn = "n1", .ip = { NULL }, .n_ip = 1, .purposes = 1, .days = 1 },
		    "address ''" },
		{ __LINE__, { .cn = "n1", .purposes = 0, .days = 1 }, "purposes 0x0" },
		{ __LINE__, { .cn = "n1", .purposes = 4, .days = 1 }, "purposes 0x4" },
		{ __LINE__, { .cn = "n1", .purposes = 1, .days = 0 }, "0 days" },
		{ __LINE__, { .cn = "n1", .purposes = 1, .days = MAX_TLS_PKI_DAYS + 1 }, "days" },
	};
	struct tls_ca *ca = load(&ca1);

	(void)state;
	memset(long_cn, 'c', sizeof(long_cn) - 1);
	memset(long_label, 'l', sizeof(long_label) - 1);
	for (size_t i = 0; i < sizeof(long_dns) - 1; i++)
		long_dns[i] = i % 2 ? '.' : 'd';
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		struct tls_issued out = { 0 };
		struct dl_err e = { 0 };
		int r = tls_ca_issue(ca, &v[i].req, &out, &e);

		check_r_at(__FILE__, v[i].line, "tls_ca_issue", r, &e, -EINVAL, v[i].msg);
		assert_null(out.crt);
		assert_null(out.key);
	}
	tls_ca_free(ca);
}

/* A CA refused: not PEM, too large, the other CA's key, a certificate that is no CA. */
static void
test_ca_refuses(void **state)
{
	static char big[MAX_TLS_PEM + 1];
	struct tls_ca *ca = load(&ca1), *got = NULL;
	struct tls_issue_req leaf = { .cn = "leaf", .purposes = TLS_PURPOSE_SERVER, .days = 1 };
	struct tls_issued l = { 0 };
	struct dl_err e = { 0 };
	int r;

	(void)state;
	assert_int_equal(tls_ca_issue(ca, &leaf, &l, &e), 0);
	const struct {
		int line;
		const char *crt, *key;
		size_t crt_len, key_len;
		int want_r;
		const char *msg;
	} v[] = {
		{ __LINE__, ca1.crt, ca2.key, ca1.crt_len, ca2.key_len, -EINVAL,
		    "CA key: not the key of the CA certificate" },
		{ __LINE__, l.crt, l.key, l.crt_len, l.key_len, -EINVAL, "not a CA" },
		{ __LINE__, "junk", ca1.key, 4, ca1.key_len, -EINVAL, "CA certificate: " },
		{ __LINE__, ca1.crt, "junk", ca1.crt_len, 4, -EINVAL, "CA key: " },
		{ __LINE__, ca1.key, ca1.crt, ca1.key_len, ca1.crt_len, -EINVAL, "CA certificate" },
		{ __LINE__, ca1.crt, ca1.key, 0, ca1.key_len, -EINVAL, "CA certificate of 0 bytes" },
		{ __LINE__, ca1.crt, ca1.key, ca1.crt_len, 0, -EINVAL, "CA key of 0 bytes" },
		{ __LINE__, big, ca1.key, sizeof(big), ca1.key_len, -E2BIG, "16384" },
		{ __LINE__, ca1.crt, big, ca1.crt_len, sizeof(big), -E2BIG, "16384" },
	};
	memset(big, 'A', sizeof(big));
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		got = NULL;
		e = (struct dl_err){ 0 };
		r = tls_ca_new(v[i].crt, v[i].crt_len, v[i].key, v[i].key_len, &got, &e);
		check_r_at(__FILE__, v[i].line, "tls_ca_new", r, &e, v[i].want_r, v[i].msg);
		assert_null(got);
	}
	tls_issued_done(&l);
	tls_ca_free(ca);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_issue),
		cmocka_unit_test(test_issue_now),
		cmocka_unit_test(test_issue_refuses),
		cmocka_unit_test(test_ca_refuses),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
