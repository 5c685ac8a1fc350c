/* SPDX-License-Identifier: MIT */
/* Trust on first use for Redfish BMCs (redfish_trust.h). */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "bmc/redfish_trust.h"
#include "readfile.h"

/* A pin file holds one pin and a newline; anything larger is not ours. */
#define PIN_FILE_MAX 128

enum rf_trust_how
rf_trust_decide(const struct rf_trust_in *in)
{
	assert(in);
	if (in->have_pin)
		return RF_TRUST_PIN;
	/* What the admin accepted once stays the BMC's identity, whatever a CA says later:
	 * a CA-signed certificate on the address is no reason to drop the recorded key. */
	if (in->tofu && in->have_recorded)
		return RF_TRUST_RECORDED;
	switch (in->ca) {
	case RF_CA_UNTRIED:
	case RF_CA_OK:
		return RF_TRUST_CA;
	case RF_CA_FAILED:
	default:
		return in->tofu ? RF_TRUST_RECORD : RF_TRUST_REFUSE;
	}
}

const char *
rf_trust_how_to_string(enum rf_trust_how h)
{
	switch (h) {
	case RF_TRUST_PIN: return "pin";
	case RF_TRUST_RECORDED: return "recorded";
	case RF_TRUST_CA: return "ca";
	case RF_TRUST_RECORD: return "record";
	case RF_TRUST_REFUSE: return "refuse";
	}
	return "?";
}

static void
base64(const unsigned char *in, size_t n, char *out)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		*out++ = tab[in[i] >> 2];
		*out++ = tab[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		*out++ = tab[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)];
		*out++ = tab[in[i + 2] & 63];
	}
	if (n - i == 1) {
		*out++ = tab[in[i] >> 2];
		*out++ = tab[(in[i] & 3) << 4];
		*out++ = '=';
		*out++ = '=';
	} else if (n - i == 2) {
		*out++ = tab[in[i] >> 2];
		*out++ = tab[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		*out++ = tab[(in[i + 1] & 15) << 2];
		*out++ = '=';
	}
	*out = '\0';
}

int
rf_pin_of_pem(const char *pem, char ret[static MAX_BMC_PIN + 1])
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_pubkey_t key = NULL;
	gnutls_datum_t in = { (unsigned char *)(uintptr_t)pem, 0 }, spki = { NULL, 0 };
	unsigned char dig[32];
	int r = -EINVAL;

	assert(pem);
	in.size = (unsigned)strnlen(pem, 64 * 1024);
	if (gnutls_x509_crt_init(&crt) < 0 || gnutls_pubkey_init(&key) < 0) {
		r = -ENOMEM;
		goto out;
	}
	if (gnutls_x509_crt_import(crt, &in, GNUTLS_X509_FMT_PEM) < 0 ||
	    gnutls_pubkey_import_x509(key, crt, 0) < 0 ||
	    gnutls_pubkey_export2(key, GNUTLS_X509_FMT_DER, &spki) < 0 ||
	    gnutls_hash_fast(GNUTLS_DIG_SHA256, spki.data, spki.size, dig) < 0)
		goto out;
	memcpy(ret, "sha256//", 8);
	base64(dig, sizeof(dig), ret + 8);
	r = 0;
out:
	gnutls_free(spki.data);
	if (key)
		gnutls_pubkey_deinit(key);
	if (crt)
		gnutls_x509_crt_deinit(crt);
	return r;
}

static bool
pin_valid(const char *s, size_t n)
{
	return n == MAX_BMC_PIN && strncmp(s, "sha256//", 8) == 0 &&
	    strspn(s + 8, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") ==
		43 &&
	    s[MAX_BMC_PIN - 1] == '=';
}

int
rf_pin_load(const char *path, char ret[static MAX_BMC_PIN + 1], struct dl_err *reterr)
{
	char *buf = NULL;
	size_t len = 0;
	int r;

	assert(path);
	r = read_file(path, PIN_FILE_MAX, READ_FILE_REGULAR | READ_FILE_NOFOLLOW, &buf, &len,
	    reterr);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return dl_err_prefix(reterr, "recorded BMC pin"), r;
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	if (!pin_valid(buf, len)) {
		free(buf);
		return dl_err_set(reterr, -EINVAL,
		    "recorded BMC pin '%s' holds no sha256// pin (delete it to trust anew)", path);
	}
	memcpy(ret, buf, MAX_BMC_PIN + 1);
	free(buf);
	return 1;
}

int
rf_pin_store(const char *path, const char *pin, struct dl_err *reterr)
{
	char dir[MAX_BMC_PIN_FILE], tmp[MAX_BMC_PIN_FILE + 16], line[MAX_BMC_PIN + 2];
	char *slash;
	size_t n;
	int fd, r = 0;

	assert(path && pin);
	if (!pin_valid(pin, strlen(pin)))
		return dl_err_set(reterr, -EINVAL, "not a pin");
	if (strlen(path) >= sizeof(dir))
		return dl_err_set(reterr, -ENAMETOOLONG, "pin file path too long");
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		/* 0700: which key each BMC holds is the operator's business only */
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			return dl_err_set(reterr, -errno, "'%s': %s", dir, strerror(errno));
	}
	/* per thread: a power and a health job of one node may both be first */
	(void)snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)gettid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return dl_err_set(reterr, -errno, "'%s': %s", tmp, strerror(errno));
	n = (size_t)snprintf(line, sizeof(line), "%s\n", pin);
	if (write(fd, line, n) != (ssize_t)n || fsync(fd) < 0)
		r = dl_err_set(reterr, errno ? -errno : -EIO, "'%s': %s", tmp, strerror(errno));
	if (close(fd) < 0 && r == 0)
		r = dl_err_set(reterr, -errno, "'%s': %s", tmp, strerror(errno));
	/* link(), not rename(): it fails when a pin is there, so the first one recorded
	 * stays (two jobs on one BMC may race on first use), and the name appears whole. */
	if (r == 0 && link(tmp, path) < 0)
		r = errno == EEXIST ? -EEXIST :
				      dl_err_set(reterr, -errno, "'%s': %s", path, strerror(errno));
	(void)unlink(tmp);
	return r;
}
