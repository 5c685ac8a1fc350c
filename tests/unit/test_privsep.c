/* SPDX-License-Identifier: MIT */
/* bootsvc/privsep: the codec between the root parent and the unprivileged child
 * (privsep_msg.c; layouts from privsep_msg.h) and the parent's file policy
 * (privsep_policy.c: which credential paths it reads, and how). Vectors carry __LINE__. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../bootsvc/privsep/privsep_msg.h"
#include "../../bootsvc/privsep/privsep_policy.h"
#include "check_r.h"
#include "macro.h"
#include "tmpdir.h"

/* The uid Debian gives "nobody": a credentials file it owns must be refused. */
#define UID_NOBODY 65534

static uint8_t buf[MAX_PRIVSEP_MSG + 64];

/* Encode, decode, compare: every type that has a valid form, at its limits. */
static void
test_roundtrip(void **state)
{
	static char big[MAX_PRIVSEP_FILE];
	static char path[MAX_PRIVSEP_PATH];
	static char text[MAX_PRIVSEP_TEXT + 1];
	const struct {
		int line;
		struct privsep_msg m;
	} v[] = {
		{ __LINE__, { .type = PRIVSEP_DHCP_START } },
		{ __LINE__, { .type = PRIVSEP_DHCP_RELOAD } },
		{ __LINE__, { .type = PRIVSEP_DHCP_STATUS } },
		{ __LINE__, { .type = PRIVSEP_READ_CONFIG } },
		{ __LINE__, { .type = PRIVSEP_READ_CREDS, .data = "/etc/diskless/bmc/n1",
		    .data_len = 20 } },
		{ __LINE__, { .type = PRIVSEP_READ_CREDS, .data = path,
		    .data_len = MAX_PRIVSEP_PATH - 1 } },
		{ __LINE__, { .type = PRIVSEP_RESULT, .rc = 0, .data = "", .data_len = 0 } },
		{ __LINE__, { .type = PRIVSEP_RESULT, .rc = -EACCES, .data = "no", .data_len = 2 } },
		{ __LINE__, { .type = PRIVSEP_RESULT, .rc = -4095, .data = text,
		    .data_len = MAX_PRIVSEP_TEXT } },
		{ __LINE__, { .type = PRIVSEP_STATUS, .pid = 0, .restarts = 0 } },
		{ __LINE__, { .type = PRIVSEP_STATUS, .pid = INT32_MAX, .restarts = UINT64_MAX } },
		{ __LINE__, { .type = PRIVSEP_READ_SITE, .data = "etc/munge/munge.key",
		    .data_len = 19 } },
		{ __LINE__, { .type = PRIVSEP_READ_TLS_CA, .data = "ca.key", .data_len = 6 } },
		{ __LINE__, { .type = PRIVSEP_FILE, .data = NULL, .data_len = 0 } },
		{ __LINE__, { .type = PRIVSEP_FILE, .mode = 0400, .data = "a\0b", .data_len = 3 } },
		{ __LINE__, { .type = PRIVSEP_FILE, .mode = 07777, .data = big,
		    .data_len = MAX_PRIVSEP_FILE } },
	};

	(void)state;
	memset(big, 'x', sizeof(big));
	memset(path, 'p', sizeof(path));
	path[0] = '/';
	memset(text, 't', sizeof(text));
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		struct dl_err e = { 0 };
		struct privsep_msg got;
		size_t len = 0;
		int r;

		r = privsep_msg_encode(&v[i].m, buf, sizeof(buf), &len, &e);
		check_r_at(__FILE__, v[i].line, "encode", r, &e, 0, NULL);
		r = privsep_msg_decode(buf, len, &got, &e);
		check_r_at(__FILE__, v[i].line, "decode", r, &e, 0, NULL);
		_assert_int_equal(got.type, v[i].m.type, __FILE__, v[i].line);
		_assert_int_equal(got.rc, v[i].m.rc, __FILE__, v[i].line);
		_assert_int_equal(got.pid, v[i].m.pid, __FILE__, v[i].line);
		_assert_int_equal(got.mode, v[i].m.mode, __FILE__, v[i].line);
		_assert_int_equal(got.restarts, v[i].m.restarts, __FILE__, v[i].line);
		_assert_int_equal(got.data_len, v[i].m.data_len, __FILE__, v[i].line);
		if (v[i].m.data_len)
			_assert_int_equal(memcmp(got.data, v[i].m.data, got.data_len), 0, __FILE__,
			    v[i].line);
		/* Strings arrive NUL-terminated, within the datagram. */
		if (got.type == PRIVSEP_READ_CREDS || got.type == PRIVSEP_READ_SITE ||
		    got.type == PRIVSEP_RESULT)
			_assert_int_equal(got.data[got.data_len], '\0', __FILE__, v[i].line);
	}
}

/* What encode refuses to send. */
static void
test_encode_refuses(void **state)
{
	static char big[MAX_PRIVSEP_FILE + 1];
	static char path[MAX_PRIVSEP_PATH + 1];
	const struct {
		int line;
		struct privsep_msg m;
		size_t size;
		int want_r;
		const char *want_msg;
	} v[] = {
		{ __LINE__, { .type = 0 }, sizeof(buf), -EINVAL, "unknown message type 0" },
		{ __LINE__, { .type = 0x86 }, sizeof(buf), -EINVAL, "unknown message type 134" },
		{ __LINE__, { .type = PRIVSEP_READ_CREDS, .data = "", .data_len = 0 }, sizeof(buf),
		    -EINVAL, "empty path" },
		{ __LINE__, { .type = PRIVSEP_READ_CREDS, .data = "/a\0b", .data_len = 4 },
		    sizeof(buf), -EINVAL, "NUL inside" },
		{ __LINE__, { .type = PRIVSEP_READ_CREDS, .data = path,
		    .data_len = MAX_PRIVSEP_PATH }, sizeof(buf), -EMSGSIZE, "at most 255" },
		{ __LINE__, { .type = PRIVSEP_RESULT, .rc = 1, .data = "", .data_len = 0 },
		    sizeof(buf), -EINVAL, "rc 1" },
		{ __LINE__, { .type = PRIVSEP_RESULT, .rc = -4096, .data = "", .data_len = 0 },
		    sizeof(buf), -EINVAL, "rc -4096" },
		{ __LINE__, { .type = PRIVSEP_STATUS, .pid = -1 }, sizeof(buf), -EINVAL, "pid -1" },
		{ __LINE__, { .type = PRIVSEP_FILE, .data = big, .data_len = MAX_PRIVSEP_FILE + 1 },
		    sizeof(buf), -EMSGSIZE, "at most 1048576" },
		{ __LINE__, { .type = PRIVSEP_FILE, .mode = 010000 }, sizeof(buf), -EINVAL,
		    "mode 10000" },
		{ __LINE__, { .type = PRIVSEP_READ_SITE, .data = "", .data_len = 0 }, sizeof(buf),
		    -EINVAL, "empty path" },
		{ __LINE__, { .type = PRIVSEP_FILE, .data = "abc", .data_len = 3 },
		    PRIVSEP_HDR_SIZE + 2, -EMSGSIZE, "do not fit" },
		{ __LINE__, { .type = PRIVSEP_DHCP_START }, PRIVSEP_HDR_SIZE - 1, -EMSGSIZE,
		    "do not fit" },
	};

	(void)state;
	memset(big, 'x', sizeof(big));
	memset(path, 'p', sizeof(path));
	path[0] = '/';
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		struct dl_err e = { 0 };
		size_t len = 12345;
		int r = privsep_msg_encode(&v[i].m, buf, v[i].size, &len, &e);

		check_r_at(__FILE__, v[i].line, "encode", r, &e, v[i].want_r, v[i].want_msg);
		_assert_int_equal(len, 12345, __FILE__, v[i].line); /* untouched on failure */
	}
}

/* A datagram as bytes: type, the header's length, then the payload. */
struct raw {
	int line;
	uint32_t type;
	int32_t hdr_len;    /* -1: the payload's real length */
	const char *payload;
	size_t payload_len;
	const char *want_msg;
};

static size_t
raw_build(const struct raw *v)
{
	uint32_t plen = v->hdr_len < 0 ? (uint32_t)v->payload_len : (uint32_t)v->hdr_len;

	memcpy(buf, &v->type, 4);
	memcpy(buf + 4, &plen, 4);
	if (v->payload_len)
		memcpy(buf + PRIVSEP_HDR_SIZE, v->payload, v->payload_len);
	return PRIVSEP_HDR_SIZE + v->payload_len;
}

/* What decode refuses: the peer may be compromised (CONVENTIONS §8). */
static void
test_decode_refuses(void **state)
{
	const struct raw v[] = {
		{ __LINE__, PRIVSEP_DHCP_START, 1, "", 0, "header says 1 payload bytes" },
		{ __LINE__, PRIVSEP_DHCP_START, -1, "x", 1, "1 payload bytes, want 0" },
		{ __LINE__, PRIVSEP_READ_CONFIG, -1, "x", 1, "want 0" },
		{ __LINE__, 0, -1, "", 0, "unknown message type 0" },
		{ __LINE__, 16, -1, "", 0, "unknown message type 16" },
		{ __LINE__, PRIVSEP_READ_SITE, -1, "\0", 1, "empty path" },
		{ __LINE__, PRIVSEP_FILE, -1, "\0\0\0", 3, "want >= 4" },
		{ __LINE__, PRIVSEP_FILE, -1, "\0\x10\0\0", 4, "mode 10000" },
		{ __LINE__, 0xffffffff, -1, "", 0, "unknown message type" },
		{ __LINE__, PRIVSEP_READ_CREDS, -1, "", 0, "not NUL-terminated" },
		{ __LINE__, PRIVSEP_READ_CREDS, -1, "/etc/x", 6, "not NUL-terminated" },
		{ __LINE__, PRIVSEP_READ_CREDS, -1, "\0", 1, "empty path" },
		{ __LINE__, PRIVSEP_READ_CREDS, -1, "/a\0b\0", 5, "NUL inside" },
		{ __LINE__, PRIVSEP_RESULT, -1, "\0\0\0", 3, "want >= 5" },
		{ __LINE__, PRIVSEP_RESULT, -1, "\1\0\0\0\0", 5, "rc 1" },
		{ __LINE__, PRIVSEP_RESULT, -1, "\0\0\0\0x", 5, "not NUL-terminated" },
		{ __LINE__, PRIVSEP_STATUS, -1, "\0\0\0\0\0\0\0\0", 8, "want 16" },
		{ __LINE__, PRIVSEP_STATUS, -1, "\xff\xff\xff\xff\0\0\0\0\0\0\0\0\0\0\0\0", 16,
		    "bad pid" },
		{ __LINE__, PRIVSEP_STATUS, -1, "\1\0\0\0\1\0\0\0\0\0\0\0\0\0\0\0", 16,
		    "padding" },
		{ __LINE__, PRIVSEP_FILE, 0x7fffffff, "", 0, "header says" },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		struct dl_err e = { 0 };
		struct privsep_msg got = { .type = 77 };
		size_t len = raw_build(&v[i]);
		int r = privsep_msg_decode(buf, len, &got, &e);

		check_r_at(__FILE__, v[i].line, "decode", r, &e, -EBADMSG, v[i].want_msg);
		_assert_int_equal(got.type, 77, __FILE__, v[i].line);
	}
	/* Shorter than a header, and a file one byte over its cap. */
	{
		struct dl_err e = { 0 };
		struct privsep_msg got;
		uint32_t t = PRIVSEP_FILE, l = 4 + MAX_PRIVSEP_FILE + 1;

		check_r_at(__FILE__, __LINE__, "decode", privsep_msg_decode(buf, 7, &got, &e), &e,
		    -EBADMSG, "shorter than a header");
		memcpy(buf, &t, 4);
		memcpy(buf + 4, &l, 4);
		memset(buf + 8, 0, 4);
		memset(buf + 12, 'x', l - 4);
		check_r_at(__FILE__, __LINE__, "decode",
		    privsep_msg_decode(buf, PRIVSEP_HDR_SIZE + l, &got, &e), &e, -EBADMSG,
		    "at most 1048576");
	}
	assert_true(privsep_type_is_request(PRIVSEP_READ_CREDS));
	assert_false(privsep_type_is_request(PRIVSEP_FILE));
	assert_false(privsep_type_is_request(0));
	assert_true(privsep_type_is_request(PRIVSEP_READ_SITE));
	assert_true(privsep_type_is_request(PRIVSEP_READ_TLS_CA));
	assert_true(privsep_type_is_request(PRIVSEP_TGT_SET));
	assert_true(privsep_type_is_request(PRIVSEP_TGT_SESSIONS));
	assert_false(privsep_type_is_request(PRIVSEP_TGT_STATE));
	assert_false(privsep_type_is_request(PRIVSEP_TGT_LIST));
	assert_true(privsep_type_is_request(PRIVSEP_QSD_STATUS));
	assert_false(privsep_type_is_request(PRIVSEP_QSD_STATUS + 1));
}

/* Which paths the parent reads as BMC credentials. */
static void
test_creds_path_policy(void **state)
{
	const struct {
		int line;
		const char *dir, *path;
		const char *want_rel; /* NULL: refused with -EACCES */
	} v[] = {
		{ __LINE__, "/etc/diskless/bmc", "/etc/diskless/bmc/n1.creds", "n1.creds" },
		{ __LINE__, "/etc/diskless/bmc/", "/etc/diskless/bmc/rack1/n1", "rack1/n1" },
		{ __LINE__, "/", "/root/x", "root/x" },
		{ __LINE__, "/etc/diskless/bmc", "/etc/diskless/bmc", NULL },
		{ __LINE__, "/etc/diskless/bmc", "/etc/diskless/bmc/", NULL },
		{ __LINE__, "/etc/diskless/bmc", "/etc/diskless/bmcx/n1", NULL },
		{ __LINE__, "/etc/diskless/bmc", "/etc/diskless/bmc/../../shadow", NULL },
		{ __LINE__, "/etc/diskless/bmc", "/etc/diskless/bmc/a/../../../shadow", NULL },
		{ __LINE__, "/etc/diskless/bmc", "/etc/diskless/bmc/./n1", NULL },
		{ __LINE__, "/etc/diskless/bmc", "/etc/diskless/bmc//n1", NULL },
		{ __LINE__, "/etc/diskless/bmc", "/etc/shadow", NULL },
		{ __LINE__, "/etc/diskless/bmc", "etc/diskless/bmc/n1", NULL },
		{ __LINE__, "/etc/diskless/bmc", "", NULL },
		{ __LINE__, "relative", "relative/n1", NULL },
		{ __LINE__, "/", "/../etc/shadow", NULL },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		struct dl_err e = { 0 };
		const char *rel = NULL;
		int r = privsep_creds_path_check(v[i].dir, v[i].path, &rel, &e);

		check_r_at(__FILE__, v[i].line, v[i].path, r, &e, v[i].want_rel ? 0 : -EACCES,
		    NULL);
		if (v[i].want_rel)
			_assert_string_equal(rel, v[i].want_rel, __FILE__, v[i].line);
		else
			_assert_true(rel == NULL, "rel untouched", __FILE__, v[i].line);
	}
}

/* The reads themselves, beneath a real directory: symlinks, owners, modes, sizes. */
static void
test_creds_read(void **state)
{
	char dir[128], outside[128], path[256], target[256], bigpath[256];
	static char big[MAX_PRIVSEP_CREDS_FILE + 1];
	const struct {
		int line;
		const char *name;  /* beneath dir */
		int want_r;
		const char *want_msg;
	} v[] = {
		{ __LINE__, "ok", 0, NULL },
		{ __LINE__, "sub/ok", 0, NULL },
		{ __LINE__, "missing", -ENOENT, "missing" },
		{ __LINE__, "link", -ELOOP, "symlink" },
		{ __LINE__, "sub-link/ok", -ELOOP, "symlink" },
		{ __LINE__, "group", -EPERM, "mode 0640" },
		{ __LINE__, "nobody", -EPERM, "owned by uid 65534" },
		{ __LINE__, "big", -E2BIG, "larger than 4096" },
		{ __LINE__, "sub", -EINVAL, "not a regular file" },
		{ __LINE__, "../outside/ok", -EACCES, "not a plain path" },
	};

	(void)state;
	snprintf(dir, sizeof(dir), "%s/bmc", tmpdir);
	snprintf(outside, sizeof(outside), "%s/outside", tmpdir);
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(mkdir(outside, 0755), 0);
	snprintf(path, sizeof(path), "%s/sub", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/ok", dir);
	tmpdir_write(path, "user=a\n", 7, 0600, 0);
	snprintf(path, sizeof(path), "%s/sub/ok", dir);
	tmpdir_write(path, "user=b\n", 7, 0600, 0);
	snprintf(path, sizeof(path), "%s/ok", outside);
	tmpdir_write(path, "user=c\n", 7, 0600, 0);
	snprintf(path, sizeof(path), "%s/group", dir);
	tmpdir_write(path, "user=d\n", 7, 0640, 0);
	snprintf(path, sizeof(path), "%s/nobody", dir);
	tmpdir_write(path, "user=e\n", 7, 0600, UID_NOBODY);
	memset(big, 'x', sizeof(big));
	snprintf(bigpath, sizeof(bigpath), "%s/big", dir);
	tmpdir_write(bigpath, big, sizeof(big), 0600, 0);
	/* a link to a good file outside, and a directory link on the way */
	snprintf(target, sizeof(target), "%s/ok", outside);
	snprintf(path, sizeof(path), "%s/link", dir);
	assert_int_equal(symlink(target, path), 0);
	snprintf(path, sizeof(path), "%s/sub-link", dir);
	assert_int_equal(symlink(outside, path), 0);

	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		struct dl_err e = { 0 };
		char *got = NULL;
		size_t len = 0;
		int r;

		snprintf(path, sizeof(path), "%s/%s", dir, v[i].name);
		r = privsep_creds_read(dir, path, &got, &len, &e);
		check_r_at(__FILE__, v[i].line, v[i].name, r, &e, v[i].want_r, v[i].want_msg);
		if (r == 0) {
			_assert_int_equal(len, 7, __FILE__, v[i].line);
			_assert_true(strncmp(got, "user=", 5) == 0, "content", __FILE__, v[i].line);
		} else {
			_assert_true(got == NULL, "no buffer on failure", __FILE__, v[i].line);
		}
		free(got);
	}
	{
		const char *rm[] = { "ok", "sub/ok", "group", "nobody", "big", "link", "sub-link" };
		for (size_t i = 0; i < ELEMENTSOF(rm); i++) {
			snprintf(path, sizeof(path), "%s/%s", dir, rm[i]);
			assert_int_equal(unlink(path), 0);
		}
	}
	snprintf(path, sizeof(path), "%s/sub", dir);
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(rmdir(dir), 0);
	snprintf(path, sizeof(path), "%s/ok", outside);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(outside), 0);
}

/* Site files: any owner and mode (they go to every node), read beneath site_overlay only. */
static void
test_site_read(void **state)
{
	char dir[128], path[256];
	const struct {
		int line;
		const char *dir, *rel;
		int want_r;
		unsigned want_mode;
		const char *want_msg;
	} v[] = {
		{ __LINE__, dir, "etc/munge/munge.key", 0, 0400, NULL },
		{ __LINE__, dir, "etc/slurm.conf", 0, 0644, NULL },
		{ __LINE__, dir, "etc/link", -ELOOP, 0, "site file" },
		{ __LINE__, dir, "etc/../etc/slurm.conf", -EACCES, 0, "not a plain path" },
		{ __LINE__, dir, "/etc/shadow", -EACCES, 0, "not a plain path" },
		{ __LINE__, dir, "etc", -EINVAL, 0, "not a regular file" },
		{ __LINE__, dir, "etc/missing", -ENOENT, 0, "missing" },
		{ __LINE__, "", "etc/slurm.conf", -EACCES, 0, "no site_overlay" },
	};

	(void)state;
	snprintf(dir, sizeof(dir), "%s/site", tmpdir);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/etc", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/etc/munge", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/etc/munge/munge.key", dir);
	tmpdir_write(path, "KEYKEYK", 7, 0400, UID_NOBODY);
	snprintf(path, sizeof(path), "%s/etc/slurm.conf", dir);
	tmpdir_write(path, "Cluster", 7, 0644, 0);
	snprintf(path, sizeof(path), "%s/etc/link", dir);
	assert_int_equal(symlink("/etc/passwd", path), 0);
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		struct dl_err e = { 0 };
		char *got = NULL;
		size_t len = 0;
		unsigned mode = 0;
		int r = privsep_site_read(v[i].dir, v[i].rel, &got, &len, &mode, &e);

		check_r_at(__FILE__, v[i].line, v[i].rel, r, &e, v[i].want_r, v[i].want_msg);
		if (r == 0) {
			_assert_int_equal(len, 7, __FILE__, v[i].line);
			_assert_int_equal(mode, v[i].want_mode, __FILE__, v[i].line);
		}
		free(got);
	}
	(void)!system("rm -rf /tmp/test_privsep.*/site");
}

/* The CA in tls_ca_dir: exactly ca.crt and ca.key are read there, nothing else; ca.key
 * must be root's and 0600 or stricter, and no symlink is followed (docs/security.md
 * "Hypervisor TLS"). */
static void
test_tls_ca_read(void **state)
{
	char dir[128], bad[128], path[256];
	const struct {
		int line;
		const char *dir;  /* "ok" or "bad" */
		const char *name;
		int want_r;
		const char *want_msg;
	} v[] = {
		{ __LINE__, "ok", "ca.crt", 0, NULL },
		{ __LINE__, "ok", "ca.key", 0, NULL },
		/* every other name is refused, even of a file that is there */
		{ __LINE__, "ok", "other.key", -EACCES, "only ca.crt and ca.key" },
		{ __LINE__, "ok", "ca.key/", -EACCES, "only ca.crt and ca.key" },
		{ __LINE__, "ok", "./ca.key", -EACCES, "only ca.crt and ca.key" },
		{ __LINE__, "ok", "../bad/ca.key", -EACCES, "only ca.crt and ca.key" },
		{ __LINE__, "ok", "", -EACCES, "only ca.crt and ca.key" },
		{ __LINE__, "ok", "CA.KEY", -EACCES, "only ca.crt and ca.key" },
		/* the files themselves: a key others may read, a key not root's, a symlink */
		{ __LINE__, "bad", "ca.key", -EPERM, "mode 0640" },
		{ __LINE__, "bad", "ca.crt", -ELOOP, "symlink" },
		{ __LINE__, "missing", "ca.key", -ENOENT, "nodectl tls init" },
		{ __LINE__, "relative", "ca.key", -EACCES, "not absolute" },
	};

	(void)state;
	snprintf(dir, sizeof(dir), "%s/tls", tmpdir);
	snprintf(bad, sizeof(bad), "%s/bad", tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(mkdir(bad, 0700), 0);
	snprintf(path, sizeof(path), "%s/ca.crt", dir);
	tmpdir_write(path, "CRT\n", 4, 0644, 0);
	snprintf(path, sizeof(path), "%s/ca.key", dir);
	tmpdir_write(path, "KEY\n", 4, 0600, 0);
	snprintf(path, sizeof(path), "%s/other.key", dir);
	tmpdir_write(path, "OTHER\n", 6, 0600, 0);
	snprintf(path, sizeof(path), "%s/ca.key", bad);
	tmpdir_write(path, "KEY\n", 4, 0640, 0);
	snprintf(path, sizeof(path), "%s/ca.crt", bad);
	assert_int_equal(symlink("../tls/ca.crt", path), 0);

	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		struct dl_err e = { 0 };
		char *got = NULL, d[160];
		size_t len = 0;
		int r;

		if (streq(v[i].dir, "relative"))
			snprintf(d, sizeof(d), "tls");
		else
			snprintf(d, sizeof(d), "%s/%s", tmpdir, streq(v[i].dir, "ok") ? "tls" :
			    v[i].dir);
		r = privsep_tls_ca_read(d, v[i].name, &got, &len, &e);
		check_r_at(__FILE__, v[i].line, v[i].name, r, &e, v[i].want_r, v[i].want_msg);
		if (r == 0) {
			_assert_int_equal(len, 4, __FILE__, v[i].line);
			_assert_string_equal(got, streq(v[i].name, "ca.key") ? "KEY\n" : "CRT\n",
			    __FILE__, v[i].line);
		} else {
			_assert_true(got == NULL, "no buffer on failure", __FILE__, v[i].line);
		}
		free(got);
	}
	/* a key owned by another user is not root's secret */
	snprintf(path, sizeof(path), "%s/ca.key", bad);
	tmpdir_write(path, "KEY\n", 4, 0600, UID_NOBODY);
	{
		struct dl_err e = { 0 };
		char *got = NULL;
		size_t len = 0;

		check_r_at(__FILE__, __LINE__, "nobody's ca.key",
		    privsep_tls_ca_read(bad, "ca.key", &got, &len, &e), &e, -EPERM,
		    "owned by uid 65534");
	}
	assert_true(privsep_tls_ca_name_is_allowed("ca.crt"));
	assert_true(privsep_tls_ca_name_is_allowed("ca.key"));
	assert_false(privsep_tls_ca_name_is_allowed("ca.key2"));
	rm_rf(dir);
	rm_rf(bad);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_encode_refuses),
		cmocka_unit_test(test_decode_refuses),
		cmocka_unit_test(test_creds_path_policy),
		cmocka_unit_test(test_creds_read),
		cmocka_unit_test(test_site_read),
		cmocka_unit_test(test_tls_ca_read),
	};

	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
