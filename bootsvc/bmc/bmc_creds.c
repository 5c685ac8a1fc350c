/* SPDX-License-Identifier: MIT */
/* BMC credential files: root-only key=value files naming the BMC user, password, IPMI
 * cipher suite and Redfish key pin (CONVENTIONS §15.1: passwords live in files readable
 * by root only). */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "conf.h"
#include "parse.h"
#include "readfile.h"
#include "bmc/power.h"

/* A credentials file is three short lines; the cap keeps a wrong path (a log, an image)
 * from being read into memory that then has to be scrubbed. */
#define MAX_CREDS_FILE 4096

/* Cipher suite 3 (RAKP-HMAC-SHA1, HMAC-SHA1-96, AES-CBC-128): FreeIPMI's default and
 * the strongest suite ipmi_sim implements (lab pitfall 2). */
#define BMC_CIPHER_DEFAULT 3
/* IPMI 2.0 Table 22-20 defines suites 0..14; 15..17 are later additions that ipmi_sim
 * lacks. power.h documents 0..14, and libfreeipmi implements only some of them. */
#define BMC_CIPHER_MAX 14

struct creds {
	size_t max_user, max_pass; /* by the BMC's protocol */
	const char *limit;         /* which limit that is, for messages */
	char user[MAX_BMC_USER + 1];
	char pass[MAX_BMC_PASS + 1];
	uint8_t cipher;
	char pin[MAX_BMC_PIN + 1];
	bool have_user, have_pass, have_cipher, have_pin;
};

/* The file buffer holds the password: wipe it before it goes back to the allocator. */
struct secret_buf {
	char *p;
	size_t size;
};

static void
secret_buf_done(struct secret_buf *b)
{
	if (b->p) {
		explicit_bzero(b->p, b->size);
		free(b->p);
	}
}

static bool
is_printable_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

/* The suites of 0..14 that libfreeipmi 1.6 implements (its IPMI_CIPHER_SUITE_ID_SUPPORTED). */
static bool
cipher_is_supported(uint64_t id)
{
	return id <= 3 || (id >= 6 && id <= 8) || id == 11 || id == 12;
}

static int
creds_item(const char *key, const char *value, void *userdata, struct dl_err *reterr)
{
	struct creds *c = userdata;
	size_t n = strlen(value);

	if (streq(key, "user")) {
		if (c->have_user)
			return dl_err_set(reterr, -EINVAL, "key 'user' given twice");
		/* Quoting the user name is fine: it is not a secret, and is checked first. */
		if (n == 0 || n > c->max_user || !is_printable_ascii(value))
			return dl_err_set(reterr, -EINVAL,
			    "user must be 1..%zu printable ASCII characters (%s)", c->max_user,
			    c->limit);
		memcpy(c->user, value, n + 1);
		c->have_user = true;
	} else if (streq(key, "password")) {
		/* Never quote the value: the message goes to logs and the API. */
		if (c->have_pass)
			return dl_err_set(reterr, -EINVAL, "key 'password' given twice");
		if (n == 0 || n > c->max_pass)
			return dl_err_set(reterr, -EINVAL, "password must be 1..%zu bytes (%s), got %zu",
			    c->max_pass, c->limit, n);
		if (!is_printable_ascii(value))
			return dl_err_set(reterr, -EINVAL,
			    "password contains a byte outside printable ASCII");
		memcpy(c->pass, value, n + 1);
		c->have_pass = true;
	} else if (streq(key, "cipher")) {
		uint64_t v;
		int r;

		if (c->have_cipher)
			return dl_err_set(reterr, -EINVAL, "key 'cipher' given twice");
		r = parse_u64(value, 0, BMC_CIPHER_MAX, &v, reterr);
		if (r < 0)
			return dl_err_prefix(reterr, "cipher"), r;
		/* Suites libfreeipmi cannot speak would fail at every session open; say so
		 * at load time instead. */
		if (!cipher_is_supported(v))
			return dl_err_set(reterr, -EINVAL,
			    "cipher '%s' is not implemented by libfreeipmi (use 0-3, 6-8, 11 or 12)",
			    value);
		c->cipher = (uint8_t)v;
		c->have_cipher = true;
	} else if (streq(key, "pin")) {
		/* A Redfish BMC's public key (libcurl's CURLOPT_PINNEDPUBLICKEY form): the
		 * SHA-256 of its SubjectPublicKeyInfo in base64, 44 characters with '='. */
		if (c->have_pin)
			return dl_err_set(reterr, -EINVAL, "key 'pin' given twice");
		if (n != MAX_BMC_PIN || strncmp(value, "sha256//", 8) != 0 ||
		    strspn(value + 8, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				      "0123456789+/") != 43 || value[MAX_BMC_PIN - 1] != '=')
			return dl_err_set(reterr, -EINVAL,
			    "pin must be sha256// and the base64 SHA-256 of the BMC's public key");
		memcpy(c->pin, value, n + 1);
		c->have_pin = true;
	} else {
		return dl_err_set(reterr, -EINVAL,
		    "unknown key '%s' (expected user, password, cipher, pin)", key);
	}
	return 0;
}

int
bmc_creds_parse(const char *name, const char *buf, size_t len, struct bmc_target *t,
    struct dl_err *reterr)
{
	struct creds c = { .cipher = BMC_CIPHER_DEFAULT };
	int r;

	assert(name);
	assert(t);
	/* An IPMI BMC cannot take more than IPMI 2.0's 16 and 20 bytes: say so now, naming
	 * the limit, rather than fail every session. Redfish, and auto (which may well be
	 * Redfish), take the longer ones. */
	if (t->proto == BMC_PROTO_IPMI)
		c.max_user = MAX_IPMI_USER, c.max_pass = MAX_IPMI_PASS, c.limit = "IPMI 2.0 limit";
	else
		c.max_user = MAX_BMC_USER, c.max_pass = MAX_BMC_PASS, c.limit = "Redfish limit";
	r = conf_parse_buffer(name, buf, len, creds_item, &c, reterr);
	if (r >= 0 && !c.have_user)
		r = dl_err_set(reterr, -EINVAL, "BMC credentials '%s': no 'user' key", name);
	if (r >= 0 && !c.have_pass)
		r = dl_err_set(reterr, -EINVAL, "BMC credentials '%s': no 'password' key", name);
	if (r >= 0) {
		memcpy(t->user, c.user, sizeof(t->user));
		memcpy(t->pass, c.pass, sizeof(t->pass));
		t->cipher = c.cipher;
		memcpy(t->pin, c.pin, sizeof(t->pin));
		r = 0;
	}
	explicit_bzero(&c, sizeof(c));
	return r;
}

int
bmc_creds_load(const char *path, struct bmc_target *t, struct dl_err *reterr)
{
	_cleanup_(secret_buf_done) struct secret_buf buf = { NULL, 0 };
	size_t len = 0;
	int r;

	assert(path);
	assert(t);

	/* read_file() checks owner and mode on the open fd, not the path, so a file swapped
	 * in between the check and the read cannot slip past. */
	r = read_file(path, MAX_CREDS_FILE, READ_FILE_REGULAR | READ_FILE_SECRET, &buf.p, &len,
	    reterr);
	if (r < 0)
		return dl_err_prefix(reterr, "BMC credentials"), r;
	buf.size = len + 1; /* what holds data: the bytes and their NUL */
	return bmc_creds_parse(path, buf.p, len, t, reterr);
}
