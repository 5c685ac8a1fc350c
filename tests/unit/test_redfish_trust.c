/* SPDX-License-Identifier: MIT */
/* bootsvc/bmc/redfish_trust.c: how a Redfish BMC's certificate is trusted (every input
 * combination as a table, each row with its __LINE__), the pin of a certificate (checked
 * against openssl's: `openssl x509 -pubkey -noout | openssl pkey -pubin -outform der |
 * openssl dgst -sha256 -binary | base64`), and the per-node pin file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../bootsvc/bmc/redfish_trust.h"
#include "tmpdir.h"

/* A self-signed P-256 certificate and its pin as openssl computes it. */
static const char CERT[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBcDCCARegAwIBAgIUWr5ib6NZmxw837eBoVq91nHGA14wCgYIKoZIzj0EAwIw\n"
    "DjEMMAoGA1UEAwwDYm1jMB4XDTI2MTIwNTA5NTcwMVoXDTI2MTIwNzA5NTcwMVow\n"
    "DjEMMAoGA1UEAwwDYm1jMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEW2aQtEZF\n"
    "kq/7nw3TrZKpqi8XA80BXHdHV6AkhTpHIWRgY8KVqeDA93Z2NtJP76t+BHVme+aT\n"
    "Y2KM5MSWDo+A8aNTMFEwHQYDVR0OBBYEFKFwhdpjJ5J9Af1MoUylhJnjcDVZMB8G\n"
    "A1UdIwQYMBaAFKFwhdpjJ5J9Af1MoUylhJnjcDVZMA8GA1UdEwEB/wQFMAMBAf8w\n"
    "CgYIKoZIzj0EAwIDRwAwRAIgMwDKRp/ewy7WplyfCCIGxJDHTHNZ3dCoKy5aQFRb\n"
    "/AUCICwiif6Q3hQC9Ve3LSZ2AY5/IzopjS3YQ33xfgAic+xV\n"
    "-----END CERTIFICATE-----\n";
#define CERT_PIN "sha256//mefyrzQjK1HmQSQ8V/V8fIgsz93SgFQFBY3nPTKx04o="

#define U RF_CA_UNTRIED
#define OK RF_CA_OK
#define F RF_CA_FAILED

static const struct {
	int line;
	bool have_pin, tofu, have_recorded;
	enum rf_ca_result ca;
	enum rf_trust_how want;
} table[] = {
	/* a pin in the credentials file decides alone, whatever else holds */
	{ __LINE__, true, false, false, U, RF_TRUST_PIN },
	{ __LINE__, true, false, false, F, RF_TRUST_PIN },
	{ __LINE__, true, true, false, F, RF_TRUST_PIN },
	{ __LINE__, true, true, true, OK, RF_TRUST_PIN },
	{ __LINE__, true, true, true, F, RF_TRUST_PIN },
	/* tofu off: the CA, and its failure refuses (a recorded file is ignored) */
	{ __LINE__, false, false, false, U, RF_TRUST_CA },
	{ __LINE__, false, false, false, OK, RF_TRUST_CA },
	{ __LINE__, false, false, false, F, RF_TRUST_REFUSE },
	{ __LINE__, false, false, true, U, RF_TRUST_CA },
	{ __LINE__, false, false, true, F, RF_TRUST_REFUSE },
	/* tofu on, nothing recorded: try the CA; it vouches, or the key is recorded */
	{ __LINE__, false, true, false, U, RF_TRUST_CA },
	{ __LINE__, false, true, false, OK, RF_TRUST_CA },
	{ __LINE__, false, true, false, F, RF_TRUST_RECORD },
	/* tofu on, recorded: the recorded pin, even where a CA would vouch */
	{ __LINE__, false, true, true, U, RF_TRUST_RECORDED },
	{ __LINE__, false, true, true, OK, RF_TRUST_RECORDED },
	{ __LINE__, false, true, true, F, RF_TRUST_RECORDED },
};

static void
test_decide(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		struct rf_trust_in in = { table[i].have_pin, table[i].tofu, table[i].have_recorded,
			table[i].ca };
		enum rf_trust_how got = rf_trust_decide(&in);

		if (got != table[i].want)
			fail_msg("line %d: got %s, want %s", table[i].line,
			    rf_trust_how_to_string(got), rf_trust_how_to_string(table[i].want));
	}
}

static void
test_pin_of_pem(void **state)
{
	char pin[MAX_BMC_PIN + 1];

	(void)state;
	assert_int_equal(rf_pin_of_pem(CERT, pin), 0);
	assert_string_equal(pin, CERT_PIN);
	assert_int_equal(rf_pin_of_pem("", pin), -EINVAL);
	assert_int_equal(rf_pin_of_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
			     pin),
	    -EINVAL);
}

static void
test_pin_file(void **state)
{
	char dir[128], path[160], pin[MAX_BMC_PIN + 1];
	struct dl_err e = { 0 };
	struct stat st;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/" BMC_PIN_DIR, tmpdir);
	snprintf(path, sizeof(path), "%s/n01", dir);
	/* none yet: 0, the directory need not exist */
	assert_int_equal(rf_pin_load(path, pin, &e), 0);
	/* recorded: 0600 in a 0700 directory, read back */
	assert_int_equal(rf_pin_store(path, CERT_PIN, &e), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(rf_pin_load(path, pin, &e), 1);
	assert_string_equal(pin, CERT_PIN);
	/* a second first use keeps the first pin */
	assert_int_equal(rf_pin_store(path, "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
			     &e),
	    -EEXIST);
	assert_int_equal(rf_pin_load(path, pin, &e), 1);
	assert_string_equal(pin, CERT_PIN);
	/* not a pin: refused both ways, naming the file */
	assert_int_equal(rf_pin_store(path, "sha256//short", &e), -EINVAL);
	assert_int_equal(unlink(path), 0);
	tmpdir_write(path, "garbage\n", 8, 0600, 0);
	assert_int_equal(rf_pin_load(path, pin, &e), -EINVAL);
	assert_non_null(strstr(e.msg, path));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_pin_of_pem),
		cmocka_unit_test(test_pin_file),
	};

	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
