/* SPDX-License-Identifier: MIT */
/* Issue 14's tgtd requests: the privsep codec's tgt messages (privsep_msg.c), the parent's
 * checks of a target the child asks for (privsep_policy.c privsep_tgt_check,
 * privsep_tgt_backing_open) and the parser of tgtadm's listing (iscsi/tgt_show.c) on
 * outputs captured from tgt 1.0.85 (tests/data/tgt_show/). Vectors carry __LINE__. */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../bootsvc/iscsi/tgt_show.h"
#include "../../bootsvc/privsep/privsep.h"
#include "../../bootsvc/privsep/privsep_msg.h"
#include "../../bootsvc/privsep/privsep_policy.h"
#include "check_r.h"
#include "macro.h"
#include "readfile.h"

#define PREFIX "iqn.2026-12.local.diskless"
#define DISKS "/srv/disks"

static uint8_t buf[MAX_PRIVSEP_MSG + 64];

/* A small file at path (mode 0600). */
static int
put(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

static struct tgt_target
good_target(void)
{
	struct tgt_target t = { .tid = 7 };

	strcpy(t.iqn, PREFIX ":n1");
	strcpy(t.backing, DISKS "/n1/disk.img");
	strcpy(t.initiator_name, PREFIX ":n1.initiator");
	strcpy(t.initiator_addr, "10.75.0.11");
	strcpy(t.chap_user, "n1-in");
	strcpy(t.chap_secret, "Abcdefgh1234");
	strcpy(t.mutual_user, "n1-out");
	strcpy(t.mutual_secret, "Zyxwvuts9876");
	return t;
}

static void
test_codec_roundtrip(void **state)
{
	struct tgt_session s[3] = {
		{ .tid = 7, .initiator_name = PREFIX ":n1.initiator", .addr = "10.75.0.11" },
		{ .tid = 1, .initiator_name = "x", .addr = "1.2.3.4" },
		{ .tid = MAX_TGT_TARGETS, .initiator_name = PREFIX ":n2.initiator",
		  .addr = "255.255.255.254" },
	};
	static struct privsep_msg m, got;
	struct tgt_session out[3];
	struct dl_err e = { 0 };
	size_t len = 0;
	int r;

	(void)state;
	/* a target at every field's limit, and one with no mutual CHAP */
	for (int k = 0; k < 3; k++) {
		memset(&m, 0, sizeof(m));
		m.type = PRIVSEP_TGT_SET;
		m.target = good_target();
		if (k == 1) {
			memset(m.target.mutual_user, 0, sizeof(m.target.mutual_user));
			memset(m.target.mutual_secret, 0, sizeof(m.target.mutual_secret));
		} else if (k == 2) {
			memset(m.target.iqn, 'i', sizeof(m.target.iqn) - 1);
			memset(m.target.backing, 'b', sizeof(m.target.backing) - 1);
			memset(m.target.initiator_name, 'n', sizeof(m.target.initiator_name) - 1);
			memset(m.target.initiator_addr, 'a', sizeof(m.target.initiator_addr) - 1);
			memset(m.target.chap_secret, 's', sizeof(m.target.chap_secret) - 1);
			memset(m.target.mutual_secret, 'm', sizeof(m.target.mutual_secret) - 1);
		}
		r = privsep_msg_encode(&m, buf, sizeof(buf), &len, &e);
		check_r_at(__FILE__, __LINE__, "encode set", r, &e, 0, NULL);
		assert_true(len <= MAX_PRIVSEP_REQUEST);
		r = privsep_msg_decode(buf, len, &got, &e);
		check_r_at(__FILE__, __LINE__, "decode set", r, &e, 0, NULL);
		assert_int_equal(got.type, PRIVSEP_TGT_SET);
		assert_memory_equal(&got.target, &m.target, sizeof(m.target));
	}
	m = (struct privsep_msg){ .type = PRIVSEP_TGT_DEL, .tid = 65535 };
	assert_int_equal(privsep_msg_encode(&m, buf, sizeof(buf), &len, &e), 0);
	assert_int_equal(privsep_msg_decode(buf, len, &got, &e), 0);
	assert_int_equal(got.tid, 65535);
	m = (struct privsep_msg){ .type = PRIVSEP_TGT_STATE, .pid = 42, .restarts = 3,
		.generation = UINT64_MAX };
	assert_int_equal(privsep_msg_encode(&m, buf, sizeof(buf), &len, &e), 0);
	assert_int_equal(privsep_msg_decode(buf, len, &got, &e), 0);
	assert_int_equal(got.pid, 42);
	assert_int_equal(got.restarts, 3);
	assert_true(got.generation == UINT64_MAX);
	for (int type = PRIVSEP_TGT_STATUS; type <= PRIVSEP_TGT_SESSIONS; type++) {
		m = (struct privsep_msg){ .type = type };
		assert_int_equal(privsep_msg_encode(&m, buf, sizeof(buf), &len, &e), 0);
		assert_int_equal(privsep_msg_decode(buf, len, &got, &e), 0);
		assert_true(privsep_type_is_request(got.type));
	}
	for (size_t n = 0; n <= 3; n++) {
		m = (struct privsep_msg){ .type = PRIVSEP_TGT_LIST, .sessions = s, .n_sessions = n };
		assert_int_equal(privsep_msg_encode(&m, buf, sizeof(buf), &len, &e), 0);
		assert_int_equal(privsep_msg_decode(buf, len, &got, &e), 0);
		assert_int_equal(got.n_sessions, n);
		assert_int_equal(privsep_msg_sessions(&got, out, 3), n);
		if (n)
			assert_memory_equal(out, s, n * sizeof(s[0]));
		assert_false(privsep_type_is_request(got.type));
	}
	/* a room smaller than the list takes its first records */
	m = (struct privsep_msg){ .type = PRIVSEP_TGT_LIST, .sessions = s, .n_sessions = 3 };
	assert_int_equal(privsep_msg_encode(&m, buf, sizeof(buf), &len, &e), 0);
	assert_int_equal(privsep_msg_decode(buf, len, &got, &e), 0);
	assert_int_equal(privsep_msg_sessions(&got, out, 1), 1);
	assert_string_equal(out[0].addr, "10.75.0.11");
}

/* A datagram: header (type, length) and payload. */
static size_t
raw(uint32_t type, const void *payload, size_t plen)
{
	uint32_t l = (uint32_t)plen;

	memcpy(buf, &type, 4);
	memcpy(buf + 4, &l, 4);
	if (plen)
		memcpy(buf + 8, payload, plen);
	return 8 + plen;
}

static void
test_codec_refuses(void **state)
{
	static const char set_ok[] = "\7\0\0\0" "a\0b\0c\0d\0e\0f\0g\0h";
	static uint8_t long_field[4 + MAX_ISCSI_NAME + 8];
	const struct {
		int line;
		uint32_t type;
		const char *p;
		size_t plen;
		const char *want;
	} v[] = {
		{ __LINE__, PRIVSEP_TGT_DEL, "\1\0\0", 3, "want 4" },
		{ __LINE__, PRIVSEP_TGT_STATUS, "x", 1, "want 0" },
		{ __LINE__, PRIVSEP_TGT_SESSIONS, "x", 1, "want 0" },
		{ __LINE__, PRIVSEP_TGT_STATE, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16, "want 24" },
		{ __LINE__, PRIVSEP_TGT_SET, "\7\0\0\0", 4, "too short" },
		/* 7 fields, the 8th missing its NUL */
		{ __LINE__, PRIVSEP_TGT_SET, set_ok, sizeof(set_ok) - 1, "field 7" },
		/* bytes after the 8th */
		{ __LINE__, PRIVSEP_TGT_SET, "\7\0\0\0" "a\0b\0c\0d\0e\0f\0g\0h\0x", 21,
		    "after the fields" },
		{ __LINE__, PRIVSEP_TGT_SET, (const char *)long_field, sizeof(long_field),
		    "field 0" },
		{ __LINE__, PRIVSEP_TGT_LIST, "\1\0\0", 3, "want >= 4" },
		{ __LINE__, PRIVSEP_TGT_LIST, "\1\4\0\0", 4, "sessions, at most" },
		{ __LINE__, PRIVSEP_TGT_LIST, "\1\0\0\0", 4, "cut short" },
		{ __LINE__, PRIVSEP_TGT_LIST, "\1\0\0\0\0\0\0\0a\0b\0", 12, "tid 0" },
		{ __LINE__, PRIVSEP_TGT_LIST, "\1\0\0\0\1\0\0\0\0\0b\0", 12, "bad name" },
		{ __LINE__, PRIVSEP_TGT_LIST, "\1\0\0\0\1\0\0\0a\0b", 11, "bad address" },
		{ __LINE__, PRIVSEP_TGT_LIST, "\1\0\0\0\1\0\0\0a\0b\0z", 13, "after the sessions" },
		{ __LINE__, PRIVSEP_TGT_LIST, "\0\0\0\0z", 5, "after the sessions" },
	};

	(void)state;
	memset(long_field, 'x', sizeof(long_field));
	memcpy(long_field, "\7\0\0\0", 4);
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		struct dl_err e = { 0 };
		struct privsep_msg got = { .type = 77 };
		size_t len = raw(v[i].type, v[i].p, v[i].plen);
		int r = privsep_msg_decode(buf, len, &got, &e);

		check_r_at(__FILE__, v[i].line, "decode", r, &e, -EBADMSG, v[i].want);
		_assert_int_equal(got.type, 77, __FILE__, v[i].line);
	}
	/* encode refuses a field without its NUL in its array and too many sessions */
	{
		struct privsep_msg m = { .type = PRIVSEP_TGT_SET };
		struct dl_err e = { 0 };
		size_t len;

		m.target = good_target();
		memset(m.target.chap_user, 'u', sizeof(m.target.chap_user));
		assert_int_equal(privsep_msg_encode(&m, buf, sizeof(buf), &len, &e), -EINVAL);
		m = (struct privsep_msg){ .type = PRIVSEP_TGT_LIST,
			.n_sessions = MAX_TGT_SESSIONS + 1 };
		assert_int_equal(privsep_msg_encode(&m, buf, sizeof(buf), &len, &e), -EMSGSIZE);
	}
}

/* What the parent refuses in a target, field by field. */
static void
test_policy(void **state)
{
	static char long_user[MAX_CHAP_NAME];
	const struct {
		int line;
		int field;
		const char *value;
		uint32_t tid;
		int want;
		const char *msg;
	} v[] = {
		{ __LINE__, -1, NULL, 7, 0, NULL },
		{ __LINE__, -1, NULL, 1, 0, NULL },
		{ __LINE__, -1, NULL, MAX_TGT_TARGETS, 0, NULL },
		{ __LINE__, -1, NULL, 0, -EACCES, "tid 0" },
		{ __LINE__, -1, NULL, MAX_TGT_TARGETS + 1, -EACCES, "not in 1..65535" },
		{ __LINE__, 0, "iqn.2026-12.local.other:n1", 7, -EACCES, "is not" },
		{ __LINE__, 0, PREFIX "x:n1", 7, -EACCES, "is not" },
		{ __LINE__, 0, PREFIX ":", 7, -EACCES, "is not" },
		{ __LINE__, 0, PREFIX ":N1", 7, -EACCES, "[a-z0-9.-]" },
		{ __LINE__, 0, PREFIX ":n1:x", 7, -EACCES, "[a-z0-9.-]" },
		{ __LINE__, 0, PREFIX ":n 1", 7, -EACCES, "[a-z0-9.-]" },
		{ __LINE__, 0, PREFIX ":n2", 7, -EACCES, "initiator" }, /* not n1's initiator */
		{ __LINE__, 2, PREFIX ":n2.initiator", 7, -EACCES, "initiator" },
		{ __LINE__, 2, PREFIX ":n1", 7, -EACCES, "initiator" },
		{ __LINE__, 3, "10.75.0", 7, -EACCES, "not a unicast IPv4" },
		{ __LINE__, 3, "0.0.0.0", 7, -EACCES, "not a unicast IPv4" },
		{ __LINE__, 3, "255.255.255.255", 7, -EACCES, "not a unicast IPv4" },
		{ __LINE__, 3, "fe80::1", 7, -EACCES, "not a unicast IPv4" },
		{ __LINE__, 3, "10.75.0.011", 7, -EACCES, "not a unicast IPv4" },
		{ __LINE__, 4, "", 7, -EACCES, "CHAP user" },
		{ __LINE__, 4, "n1 in", 7, -EACCES, "CHAP user" },
		{ __LINE__, 4, "n1\"in", 7, -EACCES, "CHAP user" },
		{ __LINE__, 4, "n1'in", 7, -EACCES, "CHAP user" },
		{ __LINE__, 4, "n1\\in", 7, -EACCES, "CHAP user" },
		{ __LINE__, 4, "n1\xc3\xa9", 7, -EACCES, "CHAP user" },
		{ __LINE__, 4, long_user, 7, 0, NULL },
		{ __LINE__, 5, "short12345", 7, -EACCES, "CHAP secret" },
		{ __LINE__, 5, "Abcdefgh123", 7, -EACCES, "CHAP secret" },
		{ __LINE__, 5, "Abcdefgh1234", 7, 0, NULL },
		{ __LINE__, 5, "Abcdefgh 1234", 7, -EACCES, "CHAP secret" },
		{ __LINE__, 5, "Abcdefgh\t1234", 7, -EACCES, "CHAP secret" },
		{ __LINE__, 6, "n1-in", 7, -EACCES, "mutual CHAP user" },
		{ __LINE__, 6, "", 7, -EACCES, "mutual CHAP user" }, /* secret without user */
		{ __LINE__, 7, "Abcdefgh1234", 7, -EACCES, "differ" },
		{ __LINE__, 7, "short", 7, -EACCES, "mutual CHAP secret" },
		{ __LINE__, 1, "/srv/disks", 7, -EACCES, "backing store" },
		{ __LINE__, 1, "/srv/disks/", 7, -EACCES, "backing store" },
		{ __LINE__, 1, "/srv/disks/../etc/shadow", 7, -EACCES, "backing store" },
		{ __LINE__, 1, "/srv/disks/n1/../../x", 7, -EACCES, "backing store" },
		{ __LINE__, 1, "/srv/disks//n1", 7, -EACCES, "backing store" },
		{ __LINE__, 1, "/srv/disks/./n1", 7, -EACCES, "backing store" },
		{ __LINE__, 1, "/srv/disksx/n1", 7, -EACCES, "backing store" },
		{ __LINE__, 1, "srv/disks/n1", 7, -EACCES, "backing store" },
		{ __LINE__, 1, "/etc/shadow", 7, -EACCES, "backing store" },
		{ __LINE__, 1, "/srv/disks/n1.img", 7, 0, NULL },
	};

	(void)state;
	memset(long_user, 'u', sizeof(long_user) - 1);
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		struct tgt_target t = good_target();
		char *f[] = { t.iqn, t.backing, t.initiator_name, t.initiator_addr, t.chap_user,
			t.chap_secret, t.mutual_user, t.mutual_secret };
		size_t fs[] = { sizeof(t.iqn), sizeof(t.backing), sizeof(t.initiator_name),
			sizeof(t.initiator_addr), sizeof(t.chap_user), sizeof(t.chap_secret),
			sizeof(t.mutual_user), sizeof(t.mutual_secret) };
		struct dl_err e = { 0 };
		int r;

		t.tid = v[i].tid;
		if (v[i].field >= 0)
			(void)snprintf(f[v[i].field], fs[v[i].field], "%s", v[i].value);
		r = privsep_tgt_check(PREFIX, DISKS, &t, &e);
		check_r_at(__FILE__, v[i].line, "check", r, &e, v[i].want, v[i].msg);
		/* a refusal never prints a secret */
		if (r < 0) {
			_assert_true(!strstr(e.msg, t.chap_secret), "secret in msg", __FILE__,
			    v[i].line);
			_assert_true(!t.mutual_secret[0] || !strstr(e.msg, t.mutual_secret),
			    "mutual secret in msg", __FILE__, v[i].line);
		}
	}
	/* no mutual CHAP at all is fine; a relative or root disk_dir is not */
	{
		struct tgt_target t = good_target();
		struct dl_err e = { 0 };

		t.mutual_user[0] = t.mutual_secret[0] = '\0';
		assert_int_equal(privsep_tgt_check(PREFIX, DISKS, &t, &e), 0);
		assert_int_equal(privsep_tgt_check(PREFIX, DISKS "/", &t, &e), 0);
		assert_int_equal(privsep_tgt_check(PREFIX, "srv/disks", &t, &e), -EACCES);
		assert_int_equal(privsep_tgt_check(PREFIX, "/", &t, &e), -EACCES);
		assert_int_equal(privsep_tgt_check("", DISKS, &t, &e), -EACCES);
	}
}

/* The backing store root opens for tgtd: only the checked file, and the fd stays that
 * file whatever the child does to the path afterwards. */
static void
test_backing_open(void **state)
{
	char dir[] = "/tmp/test_tgt.XXXXXX", disks[64], p[128], q[128], other[128];
	uid_t me = geteuid();
	struct dl_err e = { 0 };
	struct stat st_checked, st_proc;
	int fd = -1, r;

	(void)state;
	assert_non_null(mkdtemp(dir));
	(void)snprintf(disks, sizeof(disks), "%s/disks", dir);
	assert_int_equal(mkdir(disks, 0755), 0);
	(void)snprintf(p, sizeof(p), "%s/n1.img", disks);
	assert_int_equal(put(p, "disk"), 0);
	(void)snprintf(other, sizeof(other), "%s/secret", dir);
	assert_int_equal(put(other, "root's"), 0);

	/* the good case, then the same file for another owner */
	r = privsep_tgt_backing_open(disks, p, me, &fd, &e);
	check_r_at(__FILE__, __LINE__, "open", r, &e, 0, NULL);
	assert_int_equal(privsep_tgt_backing_open(disks, p, me + 1, &fd, &e), -EACCES);
	assert_non_null(strstr(e.msg, "owned by uid"));

	/* the race: after the check, the child swaps the path for a symlink to a file it
	 * may not read; what tgtd opens (/proc/<pid>/fd/<n>) is still the checked file */
	assert_int_equal(fstat(fd, &st_checked), 0);
	(void)snprintf(q, sizeof(q), "%s/n1.img.moved", disks);
	assert_int_equal(rename(p, q), 0);
	assert_int_equal(symlink(other, p), 0);
	{
		char proc[64];
		int pfd;

		(void)snprintf(proc, sizeof(proc), "/proc/%d/fd/%d", (int)getpid(), fd);
		pfd = open(proc, O_RDWR | O_CLOEXEC);
		assert_true(pfd >= 0);
		assert_int_equal(fstat(pfd, &st_proc), 0);
		assert_true(st_proc.st_ino == st_checked.st_ino && st_proc.st_dev == st_checked.st_dev);
		close(pfd);
	}
	close(fd);
	/* and a check after the swap refuses the symlink */
	assert_int_equal(privsep_tgt_backing_open(disks, p, me, &fd, &e), -ELOOP);
	assert_int_equal(unlink(p), 0);
	/* a symlinked directory on the way */
	(void)snprintf(p, sizeof(p), "%s/link", disks);
	assert_int_equal(symlink(dir, p), 0);
	(void)snprintf(p, sizeof(p), "%s/link/secret", disks);
	r = privsep_tgt_backing_open(disks, p, me, &fd, &e);
	assert_true(r == -ELOOP || r == -EXDEV);
	(void)snprintf(p, sizeof(p), "%s/link", disks);
	assert_int_equal(unlink(p), 0);
	/* a hard link to another file */
	(void)snprintf(p, sizeof(p), "%s/hard.img", disks);
	assert_int_equal(link(other, p), 0);
	assert_int_equal(privsep_tgt_backing_open(disks, p, me, &fd, &e), -EACCES);
	assert_non_null(strstr(e.msg, "links"));
	assert_int_equal(unlink(p), 0);
	/* a directory, a FIFO, a missing file, a path outside */
	(void)snprintf(p, sizeof(p), "%s/sub", disks);
	assert_int_equal(mkdir(p, 0755), 0);
	r = privsep_tgt_backing_open(disks, p, me, &fd, &e);
	assert_true(r == -EACCES || r == -EISDIR);
	assert_int_equal(rmdir(p), 0);
	(void)snprintf(p, sizeof(p), "%s/fifo", disks);
	assert_int_equal(mkfifo(p, 0600), 0);
	assert_int_equal(privsep_tgt_backing_open(disks, p, me, &fd, &e), -EACCES);
	assert_int_equal(unlink(p), 0);
	(void)snprintf(p, sizeof(p), "%s/none.img", disks);
	assert_int_equal(privsep_tgt_backing_open(disks, p, me, &fd, &e), -ENOENT);
	assert_int_equal(privsep_tgt_backing_open(disks, other, me, &fd, &e), -EACCES);
	assert_int_equal(privsep_tgt_backing_open(disks, "/etc/shadow", me, &fd, &e), -EACCES);

	assert_int_equal(unlink(q), 0);
	assert_int_equal(unlink(other), 0);
	assert_int_equal(rmdir(disks), 0);
	assert_int_equal(rmdir(dir), 0);
}

static char *
read_data(const char *name, size_t *ret_len)
{
	char path[256];
	struct dl_err e = { 0 };
	char *s = NULL;

	(void)snprintf(path, sizeof(path), "tests/data/tgt_show/%s", name);
	assert_int_equal(read_file(path, MAX_TGT_SHOW, READ_FILE_REGULAR, &s, ret_len, &e), 0);
	return s;
}

/* Real outputs of tgt 1.0.85 (captured with two iscsi-perf sessions on target 7). */
static void
test_show_captured(void **state)
{
	static struct tgt_show_conn c[8];
	uint32_t tids[8];
	size_t nt = 99, nc = 99, len;
	struct dl_err e = { 0 };
	char *s;

	(void)state;
	s = read_data("two_targets_sessions.txt", &len);
	assert_int_equal(tgt_show_parse(s, len, tids, 8, &nt, c, 8, &nc, &e), 0);
	assert_int_equal(nt, 2);
	assert_int_equal(tids[0], 7);
	assert_int_equal(tids[1], 9);
	assert_int_equal(nc, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(c[i].s.tid, 7);
		assert_string_equal(c[i].s.initiator_name, PREFIX ":n1.initiator");
		assert_string_equal(c[i].s.addr, "127.0.0.1");
		assert_int_equal(c[i].cid, 0);
	}
	assert_int_equal(c[0].sid, 6);
	assert_int_equal(c[1].sid, 7);
	/* too little room: -ENOBUFS, counts untouched */
	nt = nc = 99;
	assert_int_equal(tgt_show_parse(s, len, tids, 1, &nt, c, 8, &nc, &e), -ENOBUFS);
	assert_int_equal(tgt_show_parse(s, len, tids, 8, &nt, c, 1, &nc, &e), -ENOBUFS);
	assert_int_equal(nt, 99);
	/* tids not wanted */
	assert_int_equal(tgt_show_parse(s, len, NULL, 0, &nt, c, 8, &nc, &e), 0);
	assert_int_equal(nt, 2);
	/* connections not wanted (the clean stop lists tids while sessions are up) */
	assert_int_equal(tgt_show_parse(s, len, tids, 8, &nt, NULL, 0, &nc, &e), 0);
	assert_int_equal(nt, 2);
	assert_int_equal(nc, 0);
	free(s);
	s = read_data("empty.txt", &len);
	assert_int_equal(tgt_show_parse(s, len, tids, 8, &nt, c, 8, &nc, &e), 0);
	assert_int_equal(nt, 0);
	assert_int_equal(nc, 0);
	free(s);
}

static void
test_show_table(void **state)
{
	const struct {
		int line;
		const char *text;
		int want;
		size_t tids, conns;
		const char *msg;
	} v[] = {
		{ __LINE__, "", 0, 0, 0, NULL },
		{ __LINE__, "Target 1: iqn.x:a\n", 0, 1, 0, NULL },
		{ __LINE__, "Target 1: iqn.x:a", 0, 1, 0, NULL }, /* no final newline */
		/* MC/S: two connections of one nexus are two entries */
		{ __LINE__, "Target 3: t\n    I_T nexus information:\n        I_T nexus: 1\n"
		    "            Initiator: iqn.i alias: none\n            Connection: 0\n"
		    "                IP Address: 10.0.0.1\n            Connection: 1\n"
		    "                IP Address: 10.0.0.2\n", 0, 1, 2, NULL },
		/* sessions after another section are not read as such */
		{ __LINE__, "Target 3: t\n    LUN information:\n        I_T nexus: 1\n"
		    "            Initiator: iqn.i alias: none\n", 0, 1, 0, NULL },
		/* a later tgt's extra nexus field is skipped */
		{ __LINE__, "Target 3: t\n    I_T nexus information:\n        I_T nexus: 1\n"
		    "            Initiator: iqn.i alias: none\n            Transport: x\n"
		    "            Connection: 0\n                IP Address: 10.0.0.1\n", 0, 1, 1,
		    NULL },
		{ __LINE__, "Target 0: t\n", -EBADMSG, 0, 0, "tid out of" },
		{ __LINE__, "Target 65536: t\n", -EBADMSG, 0, 0, "tid out of" },
		{ __LINE__, "Target x: t\n", -EBADMSG, 0, 0, "tid out of" },
		{ __LINE__, "Target 1 t\n", -EBADMSG, 0, 0, "without" },
		{ __LINE__, "Target : t\n", -EBADMSG, 0, 0, "without" },
		{ __LINE__, "Target 3: t\n    I_T nexus information:\n        I_T nexus: x\n",
		    -EBADMSG, 0, 0, "without a number" },
		{ __LINE__, "Target 3: t\n    I_T nexus information:\n"
		    "            Initiator: iqn.i alias: none\n", -EBADMSG, 0, 0, "before any" },
		{ __LINE__, "Target 3: t\n    I_T nexus information:\n        I_T nexus: 1\n"
		    "            Initiator: iqn.i alias: none\n            Connection: 0\n"
		    "                IP Address: fe80::1\n", -EBADMSG, 0, 0, "dotted IPv4" },
		{ __LINE__, "Target 3: t\n    I_T nexus information:\n        I_T nexus: 1\n"
		    "            Initiator: iqn.i alias: none\n            Connection: 0\n"
		    "                IP Address: 10.0.0.1 x\n", -EBADMSG, 0, 0, "dotted IPv4" },
		{ __LINE__, "Target 3: t\n    I_T nexus information:\n        I_T nexus: 1\n"
		    "                IP Address: 10.0.0.1\n", -EBADMSG, 0, 0, "before its" },
		{ __LINE__, "Target 3: t\n\0", -EBADMSG, 0, 0, "NUL" },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		static struct tgt_show_conn c[4];
		uint32_t tids[4];
		size_t nt = 0, nc = 0, len = strlen(v[i].text);
		struct dl_err e = { 0 };
		int r;

		if (v[i].want == -EBADMSG && strstr(v[i].msg, "NUL"))
			len += 1;
		r = tgt_show_parse(v[i].text, len, tids, 4, &nt, c, 4, &nc, &e);
		check_r_at(__FILE__, v[i].line, "parse", r, &e, v[i].want, v[i].msg);
		if (r == 0) {
			_assert_int_equal(nt, v[i].tids, __FILE__, v[i].line);
			_assert_int_equal(nc, v[i].conns, __FILE__, v[i].line);
		}
	}
	/* initiator names the initiator chose badly: the listing parses, the session is
	 * marked (the parent drops it), its name never passed on */
	{
		static const char *const names[] = {
			"", "iqn.\x01", "iqn.a\"b", "iqn.a=b", "iqn.\xc3\xa9",
			/* a space in the name that fakes the alias split */
			"iqn.2026-12.local.diskless:n1.initiator alias: x",
			NULL, /* 223 'a's: one too long */
			NULL, /* a line too long to read at all */
		};
		for (size_t i = 0; i < ELEMENTSOF(names); i++) {
			static char text[2048], name[1100];
			static struct tgt_show_conn c[1];
			size_t nt = 0, nc = 0;
			struct dl_err e = { 0 };
			const char *nm = names[i];

			if (!nm) {
				size_t l = i == ELEMENTSOF(names) - 1 ? 1000 : MAX_ISCSI_NAME;
				memset(name, 'a', l);
				name[l] = '\0';
				nm = name;
			}
			(void)snprintf(text, sizeof(text), "Target 3: t\n    I_T nexus information:\n"
			    "        I_T nexus: 1\n            Initiator: %s alias: none\n"
			    "            Connection: 0\n                IP Address: 10.0.0.1\n", nm);
			assert_int_equal(tgt_show_parse(text, strlen(text), NULL, 0, &nt, c, 1, &nc,
			    &e), 0);
			assert_int_equal(nc, 1);
			assert_true(c[0].bad_name);
			assert_string_equal(c[0].s.initiator_name, "?");
		}
		/* and a good one is not marked */
		{
			static const char text[] = "Target 3: t\n    I_T nexus information:\n"
			    "        I_T nexus: 1\n            Initiator: iqn.1991-05.com.microsoft:"
			    "win_1,x alias: a alias-ish\n            Connection: 0\n"
			    "                IP Address: 10.0.0.1\n";
			static struct tgt_show_conn c[1];
			size_t nt = 0, nc = 0;
			struct dl_err e = { 0 };

			assert_int_equal(tgt_show_parse(text, strlen(text), NULL, 0, &nt, c, 1, &nc,
			    &e), 0);
			assert_false(c[0].bad_name);
			assert_string_equal(c[0].s.initiator_name,
			    "iqn.1991-05.com.microsoft:win_1,x");
		}
	}
}

/* The child's side (privsep_client.c) against a parent played here: what it sends is what
 * the parent decodes, what the parent answers reaches the caller, and workers that ask at
 * once each get their own answer (the lock keeps one request and its answer together). */
#define CLIENT_THREADS 4
#define CLIENT_CALLS 200

struct fake_parent {
	int fd;
	unsigned served;
	struct tgt_target last_set;
	uint32_t last_del;
};

static void *
fake_parent_run(void *arg)
{
	struct fake_parent *fp = arg;
	static uint8_t in[MAX_PRIVSEP_REQUEST + 1], out[MAX_PRIVSEP_MSG];
	static const struct tgt_session s[2] = {
		{ .tid = 7, .initiator_name = PREFIX ":n1.initiator", .addr = "10.75.0.11" },
		{ .tid = 8, .initiator_name = PREFIX ":n2.initiator", .addr = "10.75.0.12" },
	};
	ssize_t n;

	while ((n = recv(fp->fd, in, sizeof(in), 0)) > 0) {
		struct privsep_msg req, rep = { .type = PRIVSEP_RESULT, .data = "" };
		struct dl_err e = { 0 };
		size_t len;

		if (privsep_msg_decode(in, (size_t)n, &req, &e) < 0) {
			rep.rc = -EBADMSG;
			rep.data = "bad";
			rep.data_len = 3;
		} else if (req.type == PRIVSEP_TGT_STATUS) {
			/* the answer names its request: pid = the count served so far */
			rep = (struct privsep_msg){ .type = PRIVSEP_TGT_STATE,
				.pid = (int32_t)fp->served, .restarts = fp->served, .generation = 1 };
		} else if (req.type == PRIVSEP_TGT_SESSIONS) {
			rep = (struct privsep_msg){ .type = PRIVSEP_TGT_LIST, .sessions = s,
				.n_sessions = 2 };
		} else if (req.type == PRIVSEP_TGT_SET) {
			fp->last_set = req.target;
		} else if (req.type == PRIVSEP_TGT_DEL && req.tid >= 100) {
			/* a worker's: the answer names the tid it was asked for */
			static char msg[32];
			(void)snprintf(msg, sizeof(msg), "tid %u", (unsigned)req.tid);
			rep.rc = -ENOENT;
			rep.data = msg;
			rep.data_len = strlen(msg);
		} else if (req.type == PRIVSEP_TGT_DEL) {
			rep.rc = req.tid == 9 ? -ENOTCONN : 0;
			rep.data = req.tid == 9 ? "tgtd is down (restarting)" : "";
			rep.data_len = strlen(rep.data);
			fp->last_del = req.tid;
		}
		fp->served++;
		if (privsep_msg_encode(&rep, out, sizeof(out), &len, &e) < 0 ||
		    send(fp->fd, out, len, MSG_NOSIGNAL) < 0)
			break;
	}
	return NULL;
}

struct worker {
	struct privsep *p;
	unsigned id;
	int failures;
};

/* Each worker asks for its own tids, a status in between: an answer taken by the wrong
 * thread names another tid. */
static void *
worker_run(void *arg)
{
	struct worker *w = arg;

	for (unsigned i = 0; i < CLIENT_CALLS; i++) {
		struct dl_err e = { 0 };
		char want[32];
		pid_t pid = -1;
		uint64_t restarts = 0, gen = 0;
		uint32_t tid = 100 + w->id * 1000 + i;

		(void)snprintf(want, sizeof(want), "tid %u", (unsigned)tid);
		if (privsep_tgt_del(w->p, tid, &e) != -ENOENT || !streq(e.msg, want))
			w->failures++;
		if (privsep_tgt_status(w->p, &pid, &restarts, &gen, &e) < 0 ||
		    (uint64_t)pid != restarts || gen != 1)
			w->failures++;
	}
	return NULL;
}

static void
test_client(void **state)
{
	struct fake_parent fp = { 0 };
	struct worker w[CLIENT_THREADS];
	pthread_t parent, th[CLIENT_THREADS];
	struct tgt_session got[2];
	struct tgt_target t = good_target();
	struct dl_err e = { 0 };
	struct privsep *p;
	size_t n = 0;
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	fp.fd = sv[0];
	p = privsep_new(sv[1]);
	assert_non_null(p);
	assert_int_equal(pthread_create(&parent, NULL, fake_parent_run, &fp), 0);

	assert_int_equal(privsep_tgt_set(p, &t, &e), 0);
	assert_memory_equal(&fp.last_set, &t, sizeof(t));
	assert_int_equal(privsep_tgt_del(p, 7, &e), 0);
	assert_int_equal(fp.last_del, 7);
	assert_int_equal(privsep_tgt_del(p, 9, &e), -ENOTCONN);
	assert_non_null(strstr(e.msg, "restarting"));
	assert_int_equal(privsep_tgt_sessions(p, got, 2, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(got[1].initiator_name, PREFIX ":n2.initiator");
	assert_int_equal(privsep_tgt_sessions(p, got, 1, &n, &e), -ENOBUFS);

	for (int i = 0; i < CLIENT_THREADS; i++) {
		w[i] = (struct worker){ .p = p, .id = (unsigned)i };
		assert_int_equal(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
	}
	for (int i = 0; i < CLIENT_THREADS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(w[i].failures, 0);
	}
	p = privsep_free(p); /* closes sv[1]: the fake parent's recv ends */
	assert_int_equal(pthread_join(parent, NULL), 0);
	assert_int_equal(fp.served, 5 + 2 * CLIENT_THREADS * CLIENT_CALLS);
	close(sv[0]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codec_roundtrip),
		cmocka_unit_test(test_codec_refuses),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_backing_open),
		cmocka_unit_test(test_show_captured),
		cmocka_unit_test(test_show_table),
		cmocka_unit_test(test_client),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
