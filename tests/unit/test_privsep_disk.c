/* SPDX-License-Identifier: MIT */
/* bootsvc/privsep, the qcow2 exports (docs/iscsi.md "qcow2 exports"): the codec of the
 * disk_export, disk_unexport, disk_remove and qsd_status requests, and the parent's
 * policy for what the child names: the golden image (privsep_disk_golden_open) and a
 * target on an export (privsep_tgt_check_export). Vectors carry __LINE__. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../bootsvc/privsep/privsep_msg.h"
#include "../../bootsvc/privsep/privsep_policy.h"
#include "check_r.h"
#include "macro.h"
#include "tmpdir.h"

/* The child's user in these tests: Debian's "nobody" (not root, the tests' user). */
#define UID_CHILD 65534
#define GID_CHILD 65534

static uint8_t buf[MAX_PRIVSEP_MSG + 64];

static void
put_u32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static void
test_codec(void **state)
{
	static char longp[MAX_PRIVSEP_PATH];
	const struct {
		int line;
		struct privsep_msg m;
	} v[] = {
		{ __LINE__, { .type = PRIVSEP_DISK_EXPORT, .node = "n1",
		    .golden = "/srv/images/abc/disk.img" } },
		{ __LINE__, { .type = PRIVSEP_DISK_EXPORT, .node = "n1", .golden = longp } },
		{ __LINE__, { .type = PRIVSEP_DISK_UNEXPORT, .data = "n1", .data_len = 2 } },
		{ __LINE__, { .type = PRIVSEP_DISK_REMOVE, .data = "node-7", .data_len = 6 } },
		{ __LINE__, { .type = PRIVSEP_QSD_STATUS } },
	};

	(void)state;
	memset(longp, 'p', sizeof(longp) - 1);
	longp[0] = '/';
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		struct dl_err e = { 0 };
		struct privsep_msg got;
		size_t len = 0;

		check_r_at(__FILE__, v[i].line, "encode",
		    privsep_msg_encode(&v[i].m, buf, sizeof(buf), &len, &e), &e, 0, NULL);
		check_r_at(__FILE__, v[i].line, "decode", privsep_msg_decode(buf, len, &got, &e),
		    &e, 0, NULL);
		_assert_int_equal(got.type, v[i].m.type, __FILE__, v[i].line);
		_assert_true(privsep_type_is_request(got.type), "a request", __FILE__, v[i].line);
		if (got.type == PRIVSEP_DISK_EXPORT) {
			_assert_string_equal(got.node, v[i].m.node, __FILE__, v[i].line);
			_assert_string_equal(got.golden, v[i].m.golden, __FILE__, v[i].line);
		} else if (v[i].m.data_len) {
			_assert_int_equal(got.data_len, v[i].m.data_len, __FILE__, v[i].line);
			_assert_string_equal(got.data, v[i].m.data, __FILE__, v[i].line);
		}
	}
	/* what encode refuses: an empty or missing field, a path at the limit */
	{
		static char toolong[MAX_PRIVSEP_PATH + 1];
		struct privsep_msg m = { .type = PRIVSEP_DISK_EXPORT, .node = "", .golden = "/g" };
		struct dl_err e = { 0 };
		size_t len;

		memset(toolong, 'x', MAX_PRIVSEP_PATH);
		check_r_at(__FILE__, __LINE__, "empty node",
		    privsep_msg_encode(&m, buf, sizeof(buf), &len, &e), &e, -EMSGSIZE, "field 0");
		m.node = "n1";
		m.golden = NULL;
		check_r_at(__FILE__, __LINE__, "no golden",
		    privsep_msg_encode(&m, buf, sizeof(buf), &len, &e), &e, -EMSGSIZE, "field 1");
		m.golden = toolong;
		check_r_at(__FILE__, __LINE__, "long golden",
		    privsep_msg_encode(&m, buf, sizeof(buf), &len, &e), &e, -EMSGSIZE, "field 1");
	}
	/* what decode refuses: hand-made datagrams */
	{
		const struct {
			int line;
			uint32_t type;
			const char *payload;
			size_t plen;
			const char *want;
		} d[] = {
			{ __LINE__, PRIVSEP_DISK_EXPORT, "n1\0/g\0", 6, NULL },
			{ __LINE__, PRIVSEP_DISK_EXPORT, "n1\0/g", 5, "field 1" },
			{ __LINE__, PRIVSEP_DISK_EXPORT, "n1\0", 3, "field 1" },
			{ __LINE__, PRIVSEP_DISK_EXPORT, "\0/g\0", 4, "field 0" },
			{ __LINE__, PRIVSEP_DISK_EXPORT, "n1\0/g\0x", 7, "after the fields" },
			{ __LINE__, PRIVSEP_DISK_EXPORT, "", 0, "field 0" },
			{ __LINE__, PRIVSEP_DISK_UNEXPORT, "n1", 2, "not NUL-terminated" },
			{ __LINE__, PRIVSEP_DISK_REMOVE, "\0", 1, "empty" },
			{ __LINE__, PRIVSEP_DISK_REMOVE, "n\0x\0", 4, "a NUL inside" },
			{ __LINE__, PRIVSEP_QSD_STATUS, "x", 1, "want 0" },
		};

		for (size_t i = 0; i < ELEMENTSOF(d); i++) {
			struct dl_err e = { 0 };
			struct privsep_msg got;

			put_u32(buf, d[i].type);
			put_u32(buf + 4, (uint32_t)d[i].plen);
			memcpy(buf + PRIVSEP_HDR_SIZE, d[i].payload, d[i].plen);
			check_r_at(__FILE__, d[i].line, "decode",
			    privsep_msg_decode(buf, PRIVSEP_HDR_SIZE + d[i].plen, &got, &e), &e,
			    d[i].want ? -EBADMSG : 0, d[i].want);
		}
	}
	/* a path field that fills the whole limit has no room for its NUL */
	{
		struct dl_err e = { 0 };
		struct privsep_msg got;
		size_t plen = 3 + MAX_PRIVSEP_PATH + 1;

		put_u32(buf, PRIVSEP_DISK_EXPORT);
		put_u32(buf + 4, (uint32_t)plen);
		memcpy(buf + PRIVSEP_HDR_SIZE, "n1", 3);
		memset(buf + PRIVSEP_HDR_SIZE + 3, 'g', MAX_PRIVSEP_PATH);
		buf[PRIVSEP_HDR_SIZE + plen - 1] = '\0';
		check_r_at(__FILE__, __LINE__, "golden of MAX_PRIVSEP_PATH bytes",
		    privsep_msg_decode(buf, PRIVSEP_HDR_SIZE + plen, &got, &e), &e, -EBADMSG,
		    "field 1");
	}
}

/* The golden the child names: only a file it could read itself, and not change. */
static void
test_golden_open(void **state)
{
	char g[200], p[200], d[128];
	const struct {
		int line;
		const char *path;  /* relative to tmpdir unless absolute */
		int want_r;
		const char *want_msg;
	} v[] = {
		{ __LINE__, "img/disk.img", 0, NULL },
		{ __LINE__, "img/group.img", 0, NULL },          /* 0640 root:<child's group> */
		{ __LINE__, "img/link.img", -EACCES, "symlink" }, /* -> disk.img */
		{ __LINE__, "lnk/disk.img", -EACCES, "symlink" }, /* a symlinked directory */
		{ __LINE__, "img/secret.img", -EACCES, "not readable" },  /* 0600 root */
		{ __LINE__, "img/child.img", -EACCES, "writable" },       /* the child's own */
		{ __LINE__, "img/world.img", -EACCES, "writable" },       /* 0666 */
		{ __LINE__, "img/groupw.img", -EACCES, "writable" },      /* 0660 :<child's group> */
		{ __LINE__, "img", -EACCES, "not a regular file" },
		{ __LINE__, "img/none.img", -ENOENT, NULL },
		{ __LINE__, "img/../img/disk.img", -EACCES, "plain" },
		{ __LINE__, "img//disk.img", -EACCES, "plain" },
		{ __LINE__, "/etc/shadow", -EACCES, "not readable" },
		{ __LINE__, "/proc/self/fd/0", -EACCES, NULL },
		{ __LINE__, "relative/disk.img", -EACCES, "absolute" },
		{ __LINE__, "", -EACCES, "absolute" },
	};
	int fd;

	(void)state;
	snprintf(d, sizeof(d), "%s/img", tmpdir);
	assert_int_equal(mkdir(d, 0755), 0);
	snprintf(g, sizeof(g), "%s/disk.img", d);
	tmpdir_write(g, "GOLDEN", 6, 0644, 0);
	snprintf(p, sizeof(p), "%s/group.img", d);
	tmpdir_write(p, "G", 1, 0640, 0);
	assert_int_equal(chown(p, 0, GID_CHILD), 0);
	snprintf(p, sizeof(p), "%s/groupw.img", d);
	tmpdir_write(p, "G", 1, 0660, 0);
	assert_int_equal(chown(p, 0, GID_CHILD), 0);
	snprintf(p, sizeof(p), "%s/secret.img", d);
	tmpdir_write(p, "S", 1, 0600, 0);
	snprintf(p, sizeof(p), "%s/child.img", d);
	tmpdir_write(p, "C", 1, 0644, UID_CHILD);
	snprintf(p, sizeof(p), "%s/world.img", d);
	tmpdir_write(p, "W", 1, 0666, 0);
	snprintf(p, sizeof(p), "%s/link.img", d);
	assert_int_equal(symlink("disk.img", p), 0);
	snprintf(p, sizeof(p), "%s/lnk", tmpdir);
	assert_int_equal(symlink("img", p), 0);

	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		struct dl_err e = { 0 };
		char path[300];
		int r;

		fd = -1;
		if (v[i].path[0] == '/' || !v[i].path[0] || !strncmp(v[i].path, "relative", 8))
			snprintf(path, sizeof(path), "%s", v[i].path);
		else
			snprintf(path, sizeof(path), "%s/%s", tmpdir, v[i].path);
		r = privsep_disk_golden_open(path, UID_CHILD, GID_CHILD, &fd, &e);
		check_r_at(__FILE__, v[i].line, v[i].path, r, &e, v[i].want_r, v[i].want_msg);
		if (r == 0) {
			int fl = fcntl(fd, F_GETFL);
			_assert_true((fl & O_ACCMODE) == O_RDONLY, "read-only", __FILE__, v[i].line);
			_assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC, "cloexec", __FILE__, v[i].line);
			close(fd);
		} else {
			_assert_int_equal(fd, -1, __FILE__, v[i].line);
		}
	}
	/* the fd is the file checked: its bytes */
	{
		struct dl_err e = { 0 };
		char got[8] = "";

		assert_int_equal(privsep_disk_golden_open(g, UID_CHILD, GID_CHILD, &fd, &e), 0);
		assert_int_equal(read(fd, got, sizeof(got)), 6);
		assert_memory_equal(got, "GOLDEN", 6);
		close(fd);
	}
	snprintf(p, sizeof(p), "%s/lnk", tmpdir);
	assert_int_equal(unlink(p), 0);
	rm_rf(d);
}

/* A target on an export: everything of privsep_tgt_check, and the backing is exactly the
 * target's own node's export in the parent's exports dir. */
static void
test_tgt_check_export(void **state)
{
	static const char prefix[] = "iqn.2026-12.local.diskless";
	static const char ex[] = "/var/lib/diskless/qsd/exports";
	const struct {
		int line;
		const char *node;
		const char *backing;
		int want_r;
		const char *want_msg;
	} v[] = {
		{ __LINE__, "n1", "/var/lib/diskless/qsd/exports/n1.raw", 0, NULL },
		{ __LINE__, "n1", "/var/lib/diskless/qsd/exports/n2.raw", -EACCES, "not node 'n1'" },
		{ __LINE__, "n1", "/var/lib/diskless/qsd/exports/n1.raw2", -EACCES, "not node" },
		{ __LINE__, "n1", "/var/lib/diskless/qsd/exports/n10.raw", -EACCES, "not node" },
		{ __LINE__, "n1", "/var/lib/diskless/qsd/exports/../exports/n1.raw", -EACCES,
		    "plain path" },
		{ __LINE__, "n1", "/var/lib/diskless/disks/n1.img", -EACCES, "plain path" },
		{ __LINE__, "n1", "/etc/shadow", -EACCES, "plain path" },
		{ __LINE__, "n1", "/var/lib/diskless/qsd/exports/sub/n1.raw", -EACCES, "not node" },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		struct tgt_target t = { .tid = 1 };
		struct dl_err e = { 0 };

		snprintf(t.iqn, sizeof(t.iqn), "%s:%s", prefix, v[i].node);
		snprintf(t.initiator_name, sizeof(t.initiator_name), "%s:%s.initiator", prefix,
		    v[i].node);
		snprintf(t.initiator_addr, sizeof(t.initiator_addr), "10.0.0.5");
		snprintf(t.chap_user, sizeof(t.chap_user), "%s", v[i].node);
		snprintf(t.chap_secret, sizeof(t.chap_secret), "abcdefghijklmnop");
		snprintf(t.backing, sizeof(t.backing), "%s", v[i].backing);
		check_r_at(__FILE__, v[i].line, v[i].backing,
		    privsep_tgt_check_export(prefix, ex, &t, &e), &e, v[i].want_r, v[i].want_msg);
		/* never accepted as a plain backing store: disk_dir is elsewhere */
		_assert_int_equal(privsep_tgt_check(prefix, "/var/lib/diskless/disks", &t, &e) ==
		    0, strstr(v[i].backing, "/disks/") != NULL, __FILE__, v[i].line);
	}
	/* the rest of the target is checked as for a plain one */
	{
		struct tgt_target t = { .tid = 1 };
		struct dl_err e = { 0 };

		snprintf(t.iqn, sizeof(t.iqn), "%s:n1", prefix);
		snprintf(t.initiator_name, sizeof(t.initiator_name), "%s:n2.initiator", prefix);
		snprintf(t.initiator_addr, sizeof(t.initiator_addr), "10.0.0.5");
		snprintf(t.chap_user, sizeof(t.chap_user), "n1");
		snprintf(t.chap_secret, sizeof(t.chap_secret), "abcdefghijklmnop");
		snprintf(t.backing, sizeof(t.backing), "%s/n1.raw", ex);
		check_r_at(__FILE__, __LINE__, "another node's initiator",
		    privsep_tgt_check_export(prefix, ex, &t, &e), &e, -EACCES, "initiator");
	}
}

/* The parent opens an export with privsep_tgt_backing_open(exports, path, 0): a root
 * file; a child's file there (it cannot put one, but if) is refused. */
static void
test_export_open(void **state)
{
	char d[128], p[200];
	struct dl_err e = { 0 };
	int fd = -1;

	(void)state;
	snprintf(d, sizeof(d), "%s/exports", tmpdir);
	assert_int_equal(mkdir(d, 0700), 0);
	snprintf(p, sizeof(p), "%s/n1.raw", d);
	tmpdir_write(p, "", 0, 0600, 0);
	check_r_at(__FILE__, __LINE__, "root's export",
	    privsep_tgt_backing_open(d, p, 0, &fd, &e), &e, 0, NULL);
	close(fd);
	tmpdir_write(p, "", 0, 0600, UID_CHILD);
	check_r_at(__FILE__, __LINE__, "the child's file",
	    privsep_tgt_backing_open(d, p, 0, &fd, &e), &e, -EACCES, "owned by uid 65534");
	rm_rf(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codec),
		cmocka_unit_test(test_golden_open),
		cmocka_unit_test(test_tgt_check_export),
		cmocka_unit_test(test_export_open),
	};

	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
