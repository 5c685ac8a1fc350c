/* SPDX-License-Identifier: MIT */
/* bootsvc/bmc_creds.c: BMC credential files in a temp dir. Contents, modes and owners
 * are written per vector; vectors come from power.h's contract (user <= 16, password
 * <= 20 bytes per IPMI 2.0 §13.31, cipher 0..14 and implemented by libfreeipmi, root
 * owner, no group/other bits) and each carries its __LINE__. Every failure is also
 * checked for the password leaking into the message. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../bootsvc/bmc/power.h"
#include "check_r.h"
#include "tmpdir.h"

/* The uid Debian gives "nobody": a file owned by it must be refused. */
#define UID_NOBODY 65534

/* Every vector's password contains this, so a leak is one strstr away. */
#define SECRET "Zq9-secret"

/* A Redfish key pin's base64 (44 characters, '=' last), and one character short of it. */
#define PIN43 "bU0Zbw3Sw0k2m6v8JdY1bQ0iY9p3xq3xZK4k2m6v8Jd"
#define PIN44 PIN43 "="

/* A credentials file with content, mode and owner. */
static void
write_file(const char *path, const char *content, mode_t mode, uid_t uid)
{
	tmpdir_write(path, content, strlen(content), mode, uid);
}

static const struct {
	int line;
	const char *content;
	mode_t mode;
	bool nobody;          /* chown to nobody (root only) */
	int want_r;
	const char *want_user, *want_pass;
	int want_cipher;
	const char *want_msg; /* failures: substring of the message */
} vectors[] = {
	/* good files */
	{ __LINE__, "user=admin\npassword=" SECRET "\n", 0600, false, 0, "admin", SECRET, 3, NULL },
	{ __LINE__, "# lab BMCs\n  user = admin  \n\npassword=" SECRET "\ncipher=0\n", 0400, false, 0,
	  "admin", SECRET, 0, NULL },
	{ __LINE__, "cipher=12\npassword=" SECRET "\nuser=ADMIN\n", 0600, false, 0, "ADMIN", SECRET, 12,
	  NULL },
	{ __LINE__, "user=abcdefghijklmnop\npassword=" SECRET "0123456789\n", 0600, false, 0,
	  "abcdefghijklmnop", SECRET "0123456789", 3, NULL },
	{ __LINE__, "user=admin\npassword=" SECRET, 0600, false, 0, "admin", SECRET, 3, NULL },
	/* owner and mode */
	{ __LINE__, "user=admin\npassword=" SECRET "\n", 0640, false, -EPERM, NULL, NULL, 0,
	  "mode 0640 gives group or others access" },
	{ __LINE__, "user=admin\npassword=" SECRET "\n", 0604, false, -EPERM, NULL, NULL, 0,
	  "mode 0604" },
	{ __LINE__, "user=admin\npassword=" SECRET "\n", 0601, false, -EPERM, NULL, NULL, 0,
	  "mode 0601" },
	{ __LINE__, "user=admin\npassword=" SECRET "\n", 0600, true, -EPERM, NULL, NULL, 0,
	  "owned by uid 65534, must be owned by root" },
	/* keys */
	{ __LINE__, "usr=admin\npassword=" SECRET "\n", 0600, false, -EINVAL, NULL, NULL, 0,
	  ":1: unknown key 'usr'" },
	{ __LINE__, "user=admin\npassword=" SECRET "\nkg=00\n", 0600, false, -EINVAL, NULL, NULL, 0,
	  ":3: unknown key 'kg'" },
	{ __LINE__, "user=admin\n", 0600, false, -EINVAL, NULL, NULL, 0, "no 'password' key" },
	{ __LINE__, "password=" SECRET "\n", 0600, false, -EINVAL, NULL, NULL, 0, "no 'user' key" },
	{ __LINE__, "", 0600, false, -EINVAL, NULL, NULL, 0, "no 'user' key" },
	{ __LINE__, "user=a\nuser=b\npassword=" SECRET "\n", 0600, false, -EINVAL, NULL, NULL, 0,
	  ":2: key 'user' given twice" },
	{ __LINE__, "user=a\npassword=" SECRET "\npassword=" SECRET "x\n", 0600, false, -EINVAL, NULL,
	  NULL, 0, ":3: key 'password' given twice" },
	{ __LINE__, "user=admin\npassword " SECRET "\n", 0600, false, -EINVAL, NULL, NULL, 0,
	  ":2: expected key=value" },
	/* values */
	{ __LINE__, "user=abcdefghijklmnopq\npassword=" SECRET "\n", 0600, false, -EINVAL, NULL, NULL,
	  0, "user must be 1..16" },
	{ __LINE__, "user=\npassword=" SECRET "\n", 0600, false, -EINVAL, NULL, NULL, 0,
	  "user must be 1..16" },
	{ __LINE__, "user=admin\npassword=" SECRET "0123456789X\n", 0600, false, -EINVAL, NULL, NULL,
	  0, "password must be 1..20 bytes (IPMI 2.0 limit), got 21" },
	{ __LINE__, "user=admin\npassword=" SECRET "0123456789" SECRET "\n", 0600, false, -EINVAL, NULL,
	  NULL, 0, "got 30" },
	{ __LINE__, "user=admin\npassword=\n", 0600, false, -EINVAL, NULL, NULL, 0,
	  "password must be 1..20" },
	{ __LINE__, "user=admin\npassword=" SECRET "\x01x\n", 0600, false, -EINVAL, NULL, NULL, 0,
	  "password contains a byte outside printable ASCII" },
	{ __LINE__, "user=admin\npassword=" SECRET "\xc3\xa9\n", 0600, false, -EINVAL, NULL, NULL, 0,
	  "outside printable ASCII" },
	/* pin: a Redfish BMC's key, libcurl's sha256//BASE64 form, 44 base64 characters */
	{ __LINE__, "user=admin\npassword=" SECRET "\npin=sha256//" PIN44 "\n", 0600, false, 0,
	  "admin", SECRET, 3, NULL },
	{ __LINE__, "user=admin\npassword=" SECRET "\npin=" PIN44 "\n", 0600, false, -EINVAL, NULL,
	  NULL, 0, "pin must be sha256//" },
	{ __LINE__, "user=admin\npassword=" SECRET "\npin=sha256//" PIN44 "A\n", 0600, false,
	  -EINVAL, NULL, NULL, 0, "pin must be" },
	{ __LINE__, "user=admin\npassword=" SECRET "\npin=sha256//" PIN43 "!\n", 0600, false,
	  -EINVAL, NULL, NULL, 0, "pin must be" },
	{ __LINE__, "user=admin\npassword=" SECRET "\npin=sha256//" PIN44 "\npin=sha256//" PIN44
	  "\n", 0600, false, -EINVAL, NULL, NULL, 0, ":4: key 'pin' given twice" },
	/* cipher: 17 is what real BMCs like but ipmi_sim lacks; 4 is in range but not in
	 * libfreeipmi */
	{ __LINE__, "user=admin\npassword=" SECRET "\ncipher=17\n", 0600, false, -EINVAL, NULL, NULL,
	  0, "cipher: number '17' is out of range" },
	{ __LINE__, "user=admin\npassword=" SECRET "\ncipher=4\n", 0600, false, -EINVAL, NULL, NULL, 0,
	  "cipher '4' is not implemented by libfreeipmi" },
	{ __LINE__, "user=admin\npassword=" SECRET "\ncipher=3x\n", 0600, false, -EINVAL, NULL, NULL,
	  0, "'3x'" },
	{ __LINE__, "user=admin\npassword=" SECRET "\ncipher=-1\n", 0600, false, -EINVAL, NULL, NULL,
	  0, "'-1'" },
	{ __LINE__, "user=admin\npassword=" SECRET "\ncipher=\n", 0600, false, -EINVAL, NULL, NULL, 0,
	  "cipher" },
	{ __LINE__, "user=admin\npassword=" SECRET "\ncipher=3\ncipher=3\n", 0600, false, -EINVAL, NULL,
	  NULL, 0, "key 'cipher' given twice" },
};

static void
test_vectors(void **state)
{
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/bmc.creds", tmpdir);
	for (size_t i = 0; i < ELEMENTSOF(vectors); i++) {
		/* IPMI's limits: the vectors below are the IPMI 2.0 ones (test_proto_limits
		 * has Redfish's) */
		struct bmc_target t = { .host = "10.0.0.1", .port = 623, .user = "before",
					.pass = "before", .cipher = 99, .timeout_ms = 1234,
					.proto = BMC_PROTO_IPMI };
		struct dl_err e = { 0 };
		int r;

		/* Every vector runs: one owned by nobody needs root to chown it. */
		if (vectors[i].nobody && geteuid() != 0)
			fail_msg("%s:%d: needs root (chown to nobody); run the tests as root",
			    __FILE__, vectors[i].line);
		write_file(path, vectors[i].content, vectors[i].mode,
		    vectors[i].nobody ? UID_NOBODY : 0);
		r = bmc_creds_load(path, &t, &e);
		check_r_at(__FILE__, vectors[i].line, NULL, r, &e, vectors[i].want_r,
		    vectors[i].want_msg);
		/* the target's own fields are never touched */
		_assert_true(streq(t.host, "10.0.0.1") && t.port == 623 && t.timeout_ms == 1234,
		    "target untouched", __FILE__, vectors[i].line);
		if (r == 0) {
			_assert_true(streq(t.user, vectors[i].want_user), "user", __FILE__,
			    vectors[i].line);
			_assert_true(streq(t.pass, vectors[i].want_pass), "password", __FILE__,
			    vectors[i].line);
			_assert_int_equal(t.cipher, vectors[i].want_cipher, __FILE__,
			    vectors[i].line);
			continue;
		}
		/* ret_ fields written only on success */
		_assert_true(streq(t.user, "before") && streq(t.pass, "before") && t.cipher == 99,
		    "target unchanged on error", __FILE__, vectors[i].line);
		_assert_int_equal(e.code, r, __FILE__, vectors[i].line);
		_assert_true(strstr(e.msg, vectors[i].want_msg) != NULL, "message", __FILE__,
		    vectors[i].line);
		_assert_true(strstr(e.msg, SECRET) == NULL, "password in message", __FILE__,
		    vectors[i].line);
		/* the file is named in every message */
		_assert_true(strstr(e.msg, path) != NULL, "path in message", __FILE__,
		    vectors[i].line);
	}
	(void)unlink(path);
}

static void
test_not_a_file(void **state)
{
	struct bmc_target t = { .cipher = 99 };
	struct dl_err e = { 0 };
	char path[128];
	int r;

	(void)state;
	snprintf(path, sizeof(path), "%s/missing.creds", tmpdir);
	r = bmc_creds_load(path, &t, &e);
	assert_int_equal(r, -ENOENT);
	assert_non_null(strstr(e.msg, "missing.creds"));

	/* a directory is root-owned and 0700 here: refused for its type, not its mode */
	snprintf(path, sizeof(path), "%s/dir.creds", tmpdir);
	assert_int_equal(mkdir(path, 0700), 0);
	r = bmc_creds_load(path, &t, &e);
	assert_int_equal(r, -EINVAL);
	assert_non_null(strstr(e.msg, "not a regular file"));
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(t.cipher, 99);
}

static void
test_too_big(void **state)
{
	char path[128], *big;
	struct bmc_target t = { 0 };
	struct dl_err e = { 0 };

	(void)state;
	/* a credentials file is tiny; 5000 bytes of comments is a wrong path */
	big = malloc(5001);
	assert_non_null(big);
	memset(big, '#', 5000);
	big[5000] = '\0';
	snprintf(path, sizeof(path), "%s/big.creds", tmpdir);
	write_file(path, big, 0600, 0);
	free(big);
	assert_int_equal(bmc_creds_load(path, &t, &e), -E2BIG);
	assert_non_null(strstr(e.msg, "larger than 4096 bytes"));
	(void)unlink(path);
}

/* The user and password limits follow the BMC's protocol (power.h): IPMI 2.0's 16 and 20
 * bytes for an ipmi:// (or bare, bmc_protocol = ipmi) BMC, MAX_BMC_USER and MAX_BMC_PASS
 * (64, 128) for redfish:// and auto; bmc_target_hostport() then holds an auto BMC that
 * turns out to speak IPMI to IPMI's, naming the limit. */
static void
test_proto_limits(void **state)
{
	static const struct {
		int line;
		enum bmc_proto proto;
		size_t user_len, pass_len;
		int want_r;
		const char *want_msg;
	} v[] = {
		{ __LINE__, BMC_PROTO_IPMI, 16, 20, 0, NULL },
		{ __LINE__, BMC_PROTO_IPMI, 16, 21, -EINVAL,
		  "password must be 1..20 bytes (IPMI 2.0 limit), got 21" },
		{ __LINE__, BMC_PROTO_IPMI, 17, 20, -EINVAL,
		  "user must be 1..16 printable ASCII characters (IPMI 2.0 limit)" },
		{ __LINE__, BMC_PROTO_IPMI, 5, 128, -EINVAL, "(IPMI 2.0 limit), got 128" },
		{ __LINE__, BMC_PROTO_REDFISH, 64, 128, 0, NULL },
		{ __LINE__, BMC_PROTO_REDFISH, 5, 21, 0, NULL },
		{ __LINE__, BMC_PROTO_REDFISH, 5, 129, -EINVAL,
		  "password must be 1..128 bytes (Redfish limit), got 129" },
		{ __LINE__, BMC_PROTO_REDFISH, 65, 10, -EINVAL, "user must be 1..64" },
		{ __LINE__, BMC_PROTO_AUTO, 64, 128, 0, NULL },
		{ __LINE__, BMC_PROTO_AUTO, 5, 129, -EINVAL, "1..128 bytes (Redfish limit)" },
	};
	char path[128], content[512], user[MAX_BMC_USER + 8], pass[MAX_BMC_PASS + 8];

	(void)state;
	snprintf(path, sizeof(path), "%s/limits.creds", tmpdir);
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		struct bmc_target t = { .host = "10.0.0.9", .proto = v[i].proto };
		char hostport[BMC_HOSTPORT_SIZE];
		struct dl_err e = { 0 };
		int r;

		/* the password starts with SECRET, so a leak into a message shows */
		memset(user, 'u', v[i].user_len);
		user[v[i].user_len] = '\0';
		memcpy(pass, SECRET, strlen(SECRET));
		memset(pass + strlen(SECRET), 'p', v[i].pass_len - strlen(SECRET));
		pass[v[i].pass_len] = '\0';
		snprintf(content, sizeof(content), "user=%s\npassword=%s\n", user, pass);
		write_file(path, content, 0600, 0);
		r = bmc_creds_load(path, &t, &e);
		check_r_at(__FILE__, v[i].line, NULL, r, &e, v[i].want_r, v[i].want_msg);
		_assert_true(strstr(e.msg, SECRET) == NULL, "password in message", __FILE__,
		    v[i].line);
		if (r < 0)
			continue;
		_assert_true(streq(t.user, user) && streq(t.pass, pass), "credentials kept whole",
		    __FILE__, v[i].line);
		/* spoken as IPMI (auto found no Redfish): only IPMI's lengths pass */
		t.proto = BMC_PROTO_IPMI;
		memset(&e, 0, sizeof(e));
		r = bmc_target_hostport(&t, hostport, &e);
		if (v[i].user_len <= MAX_IPMI_USER && v[i].pass_len <= MAX_IPMI_PASS) {
			_assert_int_equal(r, 0, __FILE__, v[i].line);
			continue;
		}
		_assert_int_equal(r, -EINVAL, __FILE__, v[i].line);
		_assert_true(strstr(e.msg, "over IPMI 2.0's limit of") != NULL &&
		    strstr(e.msg, "10.0.0.9") != NULL && strstr(e.msg, SECRET) == NULL,
		    e.msg, __FILE__, v[i].line);
	}
	(void)unlink(path);
}

/* Several nodes may name one group file; loading it twice gives the same answer. */
static void
test_shared_file(void **state)
{
	struct bmc_target a = { .host = "10.0.0.1" }, b = { .host = "10.0.0.2" };
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/group.creds", tmpdir);
	write_file(path, "user=ops\npassword=" SECRET "\ncipher=1\n", 0600, 0);
	assert_int_equal(bmc_creds_load(path, &a, NULL), 0);
	assert_int_equal(bmc_creds_load(path, &b, NULL), 0);
	assert_string_equal(a.user, b.user);
	assert_string_equal(a.pass, b.pass);
	assert_int_equal(b.cipher, 1);
	assert_string_equal(b.host, "10.0.0.2");
	(void)unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_not_a_file),
		cmocka_unit_test(test_too_big),
		cmocka_unit_test(test_shared_file),
		cmocka_unit_test(test_proto_limits),
	};

	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
