/* SPDX-License-Identifier: MIT */
/* The parent's file policy (privsep_policy.h). */
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "macro.h"
#include "parse.h"
#include "readfile.h"
#include "relpath.h"
#include "privsep/privsep_msg.h"
#include "privsep/privsep_policy.h"
#include "tls_pki.h"

int
privsep_creds_path_check(const char *dir, const char *path, const char **ret_rel,
    struct dl_err *reterr)
{
	size_t dlen = strlen(dir), plen = strlen(path);
	const char *rel;

	while (dlen > 1 && dir[dlen - 1] == '/')
		dlen--;
	if (dir[0] != '/')
		return dl_err_set(reterr, -EACCES, "bmc_creds_dir '%s' is not absolute", dir);
	if (plen >= MAX_PRIVSEP_PATH)
		return dl_err_set(reterr, -EACCES, "BMC credentials path of %zu bytes, at most %d",
		    plen, MAX_PRIVSEP_PATH - 1);
	/* dir "/" takes every absolute path; else path must continue dir with a '/'. */
	if (dlen == 1)
		rel = path[0] == '/' ? path + 1 : NULL;
	else
		rel = strncmp(path, dir, dlen) == 0 && path[dlen] == '/' ? path + dlen + 1 : NULL;
	if (!rel || !relpath_is_plain(rel))
		return dl_err_set(reterr, -EACCES,
		    "BMC credentials '%s' are not a plain path under bmc_creds_dir '%.*s'", path,
		    (int)dlen, dir);
	*ret_rel = rel;
	return 0;
}

int
privsep_creds_read(const char *dir, const char *path, char **ret, size_t *ret_len,
    struct dl_err *reterr)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	_cleanup_close_ int dfd = -1, fd = -1;
	const char *rel;
	int r;

	r = privsep_creds_path_check(dir, path, &rel, reterr);
	if (r < 0)
		return r;
	dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return dl_err_set(reterr, negative_errno(), "bmc_creds_dir '%s': %s", dir,
		    strerror(errno));
	fd = (int)syscall(SYS_openat2, dfd, rel, &how, sizeof(how));
	if (fd < 0)
		return dl_err_set(reterr, negative_errno(), "BMC credentials '%s': %s%s", path,
		    strerror(errno), errno == ELOOP || errno == EXDEV ?
		    " (a symlink, or leaves bmc_creds_dir)" : "");
	return read_file_fd(fd, path, MAX_PRIVSEP_CREDS_FILE, READ_FILE_REGULAR | READ_FILE_SECRET,
	    ret, ret_len, reterr);
}

int
privsep_site_read(const char *dir, const char *rel, char **ret, size_t *ret_len,
    unsigned *ret_mode, struct dl_err *reterr)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	_cleanup_close_ int dfd = -1, fd = -1;
	struct stat st;
	int r;

	if (!dir[0])
		return dl_err_set(reterr, -EACCES, "site file '%s': no site_overlay is configured",
		    rel);
	if (strlen(rel) >= MAX_PRIVSEP_PATH || !relpath_is_plain(rel))
		return dl_err_set(reterr, -EACCES, "site file '%s' is not a plain path under '%s'",
		    rel, dir);
	dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return dl_err_set(reterr, negative_errno(), "site_overlay '%s': %s", dir,
		    strerror(errno));
	fd = (int)syscall(SYS_openat2, dfd, rel, &how, sizeof(how));
	if (fd < 0)
		return dl_err_set(reterr, negative_errno(), "site file '%s/%s': %s", dir, rel,
		    strerror(errno));
	if (fstat(fd, &st) < 0)
		return dl_err_set(reterr, negative_errno(), "site file '%s/%s': %s", dir, rel,
		    strerror(errno));
	r = read_file_fd(fd, rel, MAX_PRIVSEP_FILE, READ_FILE_REGULAR, ret, ret_len, reterr);
	if (r < 0)
		return r;
	*ret_mode = st.st_mode & 07777;
	return 0;
}

bool
privsep_tls_ca_name_is_allowed(const char *name)
{
	return streq(name, "ca.crt") || streq(name, "ca.key");
}

int
privsep_tls_ca_read(const char *dir, const char *name, char **ret, size_t *ret_len,
    struct dl_err *reterr)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	_cleanup_close_ int dfd = -1, fd = -1;
	bool key;

	if (!privsep_tls_ca_name_is_allowed(name))
		return dl_err_set(reterr, -EACCES, "tls_ca_dir file '%.64s': only ca.crt and "
		    "ca.key are read there", name);
	if (dir[0] != '/')
		return dl_err_set(reterr, -EACCES, "tls_ca_dir '%s' is not absolute", dir);
	key = streq(name, "ca.key");
	dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return dl_err_set(reterr, negative_errno(), "tls_ca_dir '%s': %s%s", dir,
		    strerror(errno), errno == ENOENT ? " (make the CA with 'nodectl tls init')" :
		    "");
	fd = (int)syscall(SYS_openat2, dfd, name, &how, sizeof(how));
	if (fd < 0)
		return dl_err_set(reterr, negative_errno(), "'%s/%s': %s%s", dir, name,
		    strerror(errno), errno == ENOENT ? " (make the CA with 'nodectl tls init')" :
		    errno == ELOOP ? " (a symlink)" : "");
	return read_file_fd(fd, key ? "ca.key" : "ca.crt", MAX_TLS_PEM,
	    READ_FILE_REGULAR | (key ? READ_FILE_SECRET : 0), ret, ret_len, reterr);
}

/* The node part of an iSCSI name bootsvc makes: what nodes are named (lowercase letters,
 * digits, '-', '.'). */
static bool
iqn_node_is_sane(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' ||
		    *s == '.'))
			return false;
	return true;
}

/* A CHAP name or secret: printable ASCII with no space, quote or backslash (tgtadm's
 * argv takes anything, but iPXE's settings and Windows' dialogs do not). */
static bool
chap_is_sane(const char *s, size_t min, size_t max)
{
	size_t n = strnlen(s, max + 1);

	if (n < min || n > max)
		return false;
	for (; *s; s++)
		if (*s <= ' ' || *s > '~' || *s == '"' || *s == '\'' || *s == '\\')
			return false;
	return true;
}

/* Everything of t but its backing store; *ret_node the node part of its name. */
static int
tgt_check_names(const char *prefix, const struct tgt_target *t, const char **ret_node,
    struct dl_err *reterr)
{
	char want[MAX_ISCSI_NAME];
	size_t pl = strlen(prefix);
	struct dl_err e = { 0 };
	const char *node;
	uint32_t be;

	if (t->tid < 1 || t->tid > MAX_TGT_TARGETS)
		return dl_err_set(reterr, -EACCES, "target tid %u is not in 1..%d", (unsigned)t->tid,
		    MAX_TGT_TARGETS);
	if (!pl || strnlen(t->iqn, sizeof(t->iqn)) >= sizeof(t->iqn) ||
	    strncmp(t->iqn, prefix, pl) != 0 || t->iqn[pl] != ':' ||
	    !iqn_node_is_sane(node = t->iqn + pl + 1))
		return dl_err_set(reterr, -EACCES, "target %u: name '%.*s' is not '%s:<node>' "
		    "with a node of [a-z0-9.-]", (unsigned)t->tid, MAX_ISCSI_NAME - 1, t->iqn,
		    prefix);
	if (tgt_initiator_name(prefix, node, want, sizeof(want)) < 0 ||
	    strncmp(t->initiator_name, want, sizeof(t->initiator_name)) != 0)
		return dl_err_set(reterr, -EACCES, "target %u: initiator '%.*s' is not '%s'",
		    (unsigned)t->tid, MAX_ISCSI_NAME - 1, t->initiator_name, want);
	if (strnlen(t->initiator_addr, sizeof(t->initiator_addr)) >= sizeof(t->initiator_addr) ||
	    parse_ipv4(t->initiator_addr, &be, &e) < 0 || be == 0 || be == 0xffffffffu)
		return dl_err_set(reterr, -EACCES, "target %u: initiator address '%.15s' is not "
		    "a unicast IPv4 address", (unsigned)t->tid, t->initiator_addr);
	if (!chap_is_sane(t->chap_user, 1, MAX_CHAP_NAME - 1))
		return dl_err_set(reterr, -EACCES, "target %u: CHAP user '%.63s' is empty, too "
		    "long, or has a space, quote or non-ASCII byte", (unsigned)t->tid, t->chap_user);
	if (!chap_is_sane(t->chap_secret, MIN_CHAP_SECRET, MAX_CHAP_SECRET - 1))
		return dl_err_set(reterr, -EACCES, "target %u: CHAP secret must be %d..%d printable "
		    "bytes without spaces or quotes", (unsigned)t->tid, MIN_CHAP_SECRET,
		    MAX_CHAP_SECRET - 1);
	if (t->mutual_user[0] || t->mutual_secret[0]) {
		if (!chap_is_sane(t->mutual_user, 1, MAX_CHAP_NAME - 1) ||
		    streq(t->mutual_user, t->chap_user))
			return dl_err_set(reterr, -EACCES, "target %u: mutual CHAP user '%.63s' is "
			    "not sane or is the incoming one", (unsigned)t->tid, t->mutual_user);
		if (!chap_is_sane(t->mutual_secret, MIN_CHAP_SECRET, MAX_CHAP_SECRET - 1) ||
		    streq(t->mutual_secret, t->chap_secret))
			return dl_err_set(reterr, -EACCES, "target %u: mutual CHAP secret must be "
			    "%d..%d printable bytes and differ from the incoming one",
			    (unsigned)t->tid, MIN_CHAP_SECRET, MAX_CHAP_SECRET - 1);
	}
	*ret_node = node;
	return 0;
}

/* The backing store t names is a plain path below dir (absolute). */
static int
tgt_check_backing(const char *disk_dir, const struct tgt_target *t, const char **ret_rel,
    struct dl_err *reterr)
{
	size_t dl = strlen(disk_dir);
	const char *rel;

	while (dl > 1 && disk_dir[dl - 1] == '/')
		dl--;
	if (disk_dir[0] != '/' || dl <= 1)
		return dl_err_set(reterr, -EACCES, "disk_dir '%s' is not an absolute directory",
		    disk_dir);
	rel = strnlen(t->backing, sizeof(t->backing)) < sizeof(t->backing) &&
	    strncmp(t->backing, disk_dir, dl) == 0 && t->backing[dl] == '/' ?
	    t->backing + dl + 1 : NULL;
	if (!rel || !relpath_is_plain(rel))
		return dl_err_set(reterr, -EACCES, "target %u: backing store '%.*s' is not a plain "
		    "path under disk_dir '%.*s'", (unsigned)t->tid, MAX_STORE_PATH - 1, t->backing,
		    (int)dl, disk_dir);
	*ret_rel = rel;
	return 0;
}

int
privsep_tgt_check(const char *prefix, const char *disk_dir, const struct tgt_target *t,
    struct dl_err *reterr)
{
	const char *node, *rel;
	int r = tgt_check_names(prefix, t, &node, reterr);

	return r < 0 ? r : tgt_check_backing(disk_dir, t, &rel, reterr);
}

int
privsep_tgt_check_export(const char *prefix, const char *exports_dir,
    const struct tgt_target *t, struct dl_err *reterr)
{
	const char *node, *rel;
	size_t nl;
	int r = tgt_check_names(prefix, t, &node, reterr);

	if (r >= 0)
		r = tgt_check_backing(exports_dir, t, &rel, reterr);
	if (r < 0)
		return r;
	/* A target is set on its own node's export only. */
	nl = strlen(node);
	if (strncmp(rel, node, nl) != 0 || !streq(rel + nl, ".raw"))
		return dl_err_set(reterr, -EACCES, "target %u: backing store '%s' is not node "
		    "'%s''s export", (unsigned)t->tid, t->backing, node);
	return 0;
}

int
privsep_disk_golden_open(const char *path, uid_t uid, gid_t gid, int *ret_fd,
    struct dl_err *reterr)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW,
		.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	_cleanup_close_ int fd = -1;
	size_t len = strnlen(path, MAX_PRIVSEP_PATH);
	struct stat st;
	bool readable, writable;

	if (len >= MAX_PRIVSEP_PATH || path[0] != '/' || !relpath_is_plain(path + 1))
		return dl_err_set(reterr, -EACCES, "golden image '%.*s' is not a plain absolute "
		    "path", MAX_PRIVSEP_PATH - 1, path);
	fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
	if (fd < 0)
		return dl_err_set(reterr, errno == ELOOP ? -EACCES : negative_errno(),
		    "golden image '%s': %s%s", path, strerror(errno),
		    errno == ELOOP ? " (a symlink on the way)" : "");
	if (fstat(fd, &st) < 0)
		return dl_err_set(reterr, negative_errno(), "golden image '%s': %s", path,
		    strerror(errno));
	if (!S_ISREG(st.st_mode))
		return dl_err_set(reterr, -EACCES, "golden image '%s' is not a regular file", path);
	/* What the child could do with the file itself, by its mode bits (it has no
	 * capabilities, so no ACL or override widens that): read it, or the parent would
	 * hand a node bytes the child may not see (/etc/shadow); not write it, or the
	 * golden every node's disk reads through could change under them. */
	if (st.st_uid == uid) {
		readable = st.st_mode & S_IRUSR;
		writable = st.st_mode & S_IWUSR;
	} else if (st.st_gid == gid) {
		readable = st.st_mode & S_IRGRP;
		writable = st.st_mode & S_IWGRP;
	} else {
		readable = st.st_mode & S_IROTH;
		writable = st.st_mode & S_IWOTH;
	}
	if (!readable)
		return dl_err_set(reterr, -EACCES, "golden image '%s' (uid %u, mode %04o) is not "
		    "readable by bootsvc's user (uid %u)", path, (unsigned)st.st_uid,
		    (unsigned)(st.st_mode & 07777), (unsigned)uid);
	if (writable)
		return dl_err_set(reterr, -EACCES, "golden image '%s' (uid %u, mode %04o) is "
		    "writable by bootsvc's user (uid %u): make it root's and not group- or "
		    "world-writable", path, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777),
		    (unsigned)uid);
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int
privsep_tgt_backing_open(const char *disk_dir, const char *path, uid_t owner, int *ret_fd,
    struct dl_err *reterr)
{
	struct open_how how = {
		.flags = O_RDWR | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	_cleanup_close_ int dfd = -1, fd = -1;
	size_t dl = strlen(disk_dir);
	struct stat st;

	while (dl > 1 && disk_dir[dl - 1] == '/')
		dl--;
	if (disk_dir[0] != '/' || dl <= 1 || strncmp(path, disk_dir, dl) != 0 ||
	    path[dl] != '/' || !relpath_is_plain(path + dl + 1))
		return dl_err_set(reterr, -EACCES, "backing store '%s' is not a plain path under "
		    "disk_dir '%.*s'", path, (int)dl, disk_dir);
	dfd = open(disk_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return dl_err_set(reterr, negative_errno(), "disk_dir '%s': %s", disk_dir,
		    strerror(errno));
	fd = (int)syscall(SYS_openat2, dfd, path + dl + 1, &how, sizeof(how));
	if (fd < 0)
		return dl_err_set(reterr, negative_errno(), "backing store '%s': %s%s", path,
		    strerror(errno), errno == ELOOP || errno == EXDEV ?
		    " (a symlink, or leaves disk_dir)" : "");
	if (fstat(fd, &st) < 0)
		return dl_err_set(reterr, negative_errno(), "backing store '%s': %s", path,
		    strerror(errno));
	if (!S_ISREG(st.st_mode))
		return dl_err_set(reterr, -EACCES, "backing store '%s' is not a regular file",
		    path);
	if (st.st_uid != owner)
		return dl_err_set(reterr, -EACCES, "backing store '%s' is owned by uid %u, not "
		    "bootsvc's user (uid %u)", path, (unsigned)st.st_uid, (unsigned)owner);
	if (st.st_nlink != 1)
		return dl_err_set(reterr, -EACCES, "backing store '%s' has %lu links, not 1", path,
		    (unsigned long)st.st_nlink);
	*ret_fd = TAKE_FD(fd);
	return 0;
}
