/* SPDX-License-Identifier: MIT */
/* bootsvc/pki.c: the CA read at start (and SIGHUP), and bootsvc's libvirt client
 * certificate written from it to libvirt_pki_dir: the directory 0700, the files with
 * their modes, a certificate a libvirtd holding the CA accepts (tls_check.h), a fresh
 * key at every load; no CA (or a key others may read) keeps bootsvc going with the
 * reason and the client files gone. Started unprivileged here: the files are read by
 * this process (the root parent's part is test_privsep's and tests/integ/privsep.sh). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "bootsvc.h"
#include "macro.h"
#include "pki.h"
#include "readfile.h"
#include "tls_pki.h"
#include "tmpdir.h"
#include "tls_check.h"

#define UID_NOBODY 65534

static char ca_dir[128], lv_dir[128], state_dir[128];

static void
mode_is(const char *dir, const char *name, unsigned want)
{
	char path[256];
	struct stat st;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (stat(path, &st) < 0)
		fail_msg("%s: %s", path, strerror(errno));
	if ((st.st_mode & 07777) != want)
		fail_msg("%s: mode %04o, want %04o", path, st.st_mode & 07777, want);
}

static bool
exists(const char *dir, const char *name)
{
	char path[256];

	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

static char *
slurp(const char *dir, const char *name, size_t *len)
{
	char path[256], *s = NULL;
	struct dl_err e = { 0 };

	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (read_file(path, 65536, 0, &s, len, &e) < 0)
		fail_msg("%s", e.msg);
	return s;
}

static void
bs_init(struct bootsvc *bs)
{
	struct dl_err e = { 0 };

	memset(bs, 0, sizeof(*bs));
	config_init(&bs->cfg);
	/* every path in the temp dir: nothing here may name a default like /var/lib/diskless */
	assert_int_equal(config_set(&bs->cfg, "state_dir", state_dir, &e), 0);
	assert_int_equal(config_set(&bs->cfg, "tls_ca_dir", ca_dir, &e), 0);
	assert_int_equal(config_set(&bs->cfg, "libvirt_pki_dir", lv_dir, &e), 0);
}

static void
test_client_cert(void **state)
{
	struct bootsvc bs;
	struct dl_err e = { 0 };
	char *ca, *crt1, *key1, *crt2, *key2, *cacert;
	size_t ca_len, crt1_len, key1_len, crt2_len, key2_len, cacert_len;

	(void)state;
	(void)snprintf(ca_dir, sizeof(ca_dir), "%s/tls", tmpdir);
	(void)snprintf(lv_dir, sizeof(lv_dir), "%s/state/libvirt-pki", tmpdir);
	(void)snprintf(state_dir, sizeof(state_dir), "%s/state", tmpdir);
	assert_int_equal(mkdir(state_dir, 0755), 0);
	bs_init(&bs);

	/* no CA yet: bootsvc goes on, saying why, and a stale client key is removed */
	assert_int_equal(mkdir(lv_dir, 0755), 0);
	{
		char path[256];
		(void)snprintf(path, sizeof(path), "%s/%s", lv_dir, PKI_CLIENTKEY);
		tmpdir_write(path, "old", 3, 0600, 0);
	}
	assert_int_equal(pki_load(&bs, &e), 0);
	assert_false(pki_has_ca(&bs));
	assert_non_null(strstr(bs.pki.why, "nodectl tls init --dir"));
	assert_non_null(strstr(bs.pki.why, ca_dir));
	assert_false(exists(lv_dir, PKI_CLIENTKEY));

	/* the CA made as an admin makes it: the client certificate is written */
	if (tls_pki_init(ca_dir, 30, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(pki_load(&bs, &e), 0);
	assert_true(pki_has_ca(&bs));
	mode_is(lv_dir, "", 0700); /* the existing 0755 directory tightened */
	mode_is(lv_dir, PKI_CACERT, 0644);
	mode_is(lv_dir, PKI_CLIENTCERT, 0644);
	mode_is(lv_dir, PKI_CLIENTKEY, 0600);
	assert_false(exists(lv_dir, "." PKI_CLIENTKEY ".tmp"));
	ca = slurp(ca_dir, "ca.crt", &ca_len);
	cacert = slurp(lv_dir, PKI_CACERT, &cacert_len);
	assert_int_equal(cacert_len, ca_len);
	assert_memory_equal(cacert, ca, ca_len);
	crt1 = slurp(lv_dir, PKI_CLIENTCERT, &crt1_len);
	key1 = slurp(lv_dir, PKI_CLIENTKEY, &key1_len);
	tls_check(crt1, crt1_len, ca, ca_len, (&(struct tls_want){ .cn = "bootsvc",
	    .ou = "diskless-libvirt", .client = true, .days = PKI_CLIENT_DAYS }));
	assert_true(tls_check_key_matches(crt1, crt1_len, key1, key1_len));

	/* SIGHUP: a fresh key and certificate */
	assert_int_equal(pki_load(&bs, &e), 0);
	crt2 = slurp(lv_dir, PKI_CLIENTCERT, &crt2_len);
	key2 = slurp(lv_dir, PKI_CLIENTKEY, &key2_len);
	assert_true(strcmp(key1, key2) != 0);
	assert_true(tls_check_key_matches(crt2, crt2_len, key2, key2_len));

	/* a CA key others may read is no CA: the client files go */
	{
		char path[256];
		(void)snprintf(path, sizeof(path), "%s/ca.key", ca_dir);
		assert_int_equal(chmod(path, 0644), 0);
		assert_int_equal(pki_load(&bs, &e), 0);
		assert_false(pki_has_ca(&bs));
		assert_non_null(strstr(bs.pki.why, "chmod 0600"));
		assert_false(exists(lv_dir, PKI_CLIENTKEY));
		assert_false(exists(lv_dir, PKI_CLIENTCERT));
		assert_false(exists(lv_dir, PKI_CACERT));
		assert_int_equal(chmod(path, 0600), 0);
	}

	/* a client directory that is another user's is refused, naming it */
	assert_int_equal(chown(lv_dir, UID_NOBODY, (gid_t)-1), 0);
	assert_int_equal(pki_load(&bs, &e), -EPERM);
	assert_true(pki_has_ca(&bs)); /* the CA itself is fine: overlays still work */
	assert_non_null(strstr(e.msg, "owned by uid 65534"));

	free(ca);
	free(cacert);
	free(crt1);
	free(key1);
	free(crt2);
	free(key2);
	pki_done(&bs.pki);
	rm_rf(ca_dir);
	rm_rf(state_dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_client_cert),
	};
	if (geteuid() != 0) {
		fprintf(stderr, "test_pki: run as root (a directory is given to another user)\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
