/* SPDX-License-Identifier: MIT */
/* Before and at the fork: the state dir made ready for the user, and the drop. */
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "privsep/privsep.h"

/* getpwnam_r's buffer: a passwd entry is a few short strings. */
#define MAX_PW_BUF 4096

/* The store's files the child opens after the drop: SQLite's database, its WAL and its
 * shared memory index (store_sqlite.c uses WAL). */
static const char *const store_files[] = { "diskless.db", "diskless.db-wal", "diskless.db-shm" };

/* Hand one existing state file to the user, 0600; create it if create is set. O_NOFOLLOW:
 * a link left in the state dir by an earlier (compromised) child must not make root
 * chown something else. */
static int
own_file(int dfd, const char *dir, const char *name, bool create, const struct privsep_user *u,
    struct dl_err *reterr)
{
	_cleanup_close_ int fd = -1;
	struct stat st;

	fd = openat(dfd, name, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
	    (create ? O_CREAT : 0), 0600);
	if (fd < 0 && errno == ENOENT && !create)
		return 0;
	if (fd < 0)
		return dl_err_set(reterr, negative_errno(), "state file '%s/%s': %s", dir, name,
		    strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return dl_err_set(reterr, -EINVAL, "state file '%s/%s' is not a regular file",
		    dir, name);
	if (fchown(fd, u->uid, u->gid) < 0 || fchmod(fd, 0600) < 0)
		return dl_err_set(reterr, negative_errno(), "state file '%s/%s': %s", dir, name,
		    strerror(errno));
	return 0;
}

/* disk_dir (iscsi = on) handed to the user, 0700: the child makes the nodes' clones there,
 * and an admin typically mounts a file system of its own there (XFS for reflinks), whose
 * root is root's. Created if missing; the directory itself, never through a link. Only
 * the child and root (tgtd opens the clones through the parent's checked fd) go in. */
static int
own_disk_dir(const struct config *cfg, const struct privsep_user *u, struct dl_err *reterr)
{
	_cleanup_close_ int fd = -1;
	struct stat st;

	if (mkdir(cfg->disk_dir, 0700) < 0 && errno != EEXIST)
		return dl_err_set(reterr, negative_errno(), "disk_dir '%s': %s", cfg->disk_dir,
		    strerror(errno));
	fd = open(cfg->disk_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) < 0)
		return dl_err_set(reterr, negative_errno(), "disk_dir '%s': %s", cfg->disk_dir,
		    strerror(errno));
	if (fchown(fd, u->uid, u->gid) < 0 || fchmod(fd, 0700) < 0)
		return dl_err_set(reterr, negative_errno(), "disk_dir '%s': %s", cfg->disk_dir,
		    strerror(errno));
	return 0;
}

int
privsep_prepare(const struct config *cfg, struct privsep_user *ret, struct dl_err *reterr)
{
	struct privsep_user u = { 0 };
	struct passwd pw, *pwp = NULL;
	char pwbuf[MAX_PW_BUF];
	_cleanup_close_ int dfd = -1;
	struct stat st;
	int r;

	if (!cfg->user[0])
		return dl_err_set(reterr, -EINVAL, "user is empty (bootsvc does not run as root)");
	r = getpwnam_r(cfg->user, &pw, pwbuf, sizeof(pwbuf), &pwp);
	if (r != 0 || !pwp)
		return dl_err_set(reterr, r ? -r : -ENOENT,
		    "user '%s' does not exist (mk/add-user.sh %s creates it; make deps creates "
		    "diskless)", cfg->user, cfg->user);
	if (pw.pw_uid == 0 || pw.pw_gid == 0)
		return dl_err_set(reterr, -EINVAL, "user '%s' has uid or gid 0, not unprivileged",
		    cfg->user);
	(void)snprintf(u.name, sizeof(u.name), "%s", cfg->user);
	u.uid = pw.pw_uid;
	u.gid = pw.pw_gid;

	if (mkdir(cfg->state_dir, 0755) < 0 && errno != EEXIST)
		return dl_err_set(reterr, negative_errno(), "state_dir '%s': %s", cfg->state_dir,
		    strerror(errno));
	dfd = open(cfg->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dfd < 0 || fstat(dfd, &st) < 0)
		return dl_err_set(reterr, negative_errno(), "state_dir '%s': %s", cfg->state_dir,
		    strerror(errno));
	/* root:<group> 01771: the child (in the group) creates the store and its journal
	 * files there; the sticky bit keeps it from renaming or replacing what root put
	 * there (dnsmasq's directory and the config dnsmasq reads as root); others may only
	 * pass through, as dnsmasq does as nobody to reach its TFTP root and hosts. */
	if (fchown(dfd, 0, u.gid) < 0 || fchmod(dfd, 01771) < 0)
		return dl_err_set(reterr, negative_errno(), "state_dir '%s': %s", cfg->state_dir,
		    strerror(errno));
	for (size_t i = 0; i < ELEMENTSOF(store_files); i++)
		if ((r = own_file(dfd, cfg->state_dir, store_files[i], i == 0, &u, reterr)) < 0)
			return r;
	if (cfg->iscsi && (r = own_disk_dir(cfg, &u, reterr)) < 0)
		return r;
	*ret = u;
	return 0;
}

int
privsep_drop(const struct privsep_user *u, pid_t parent_pid, struct dl_err *reterr)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (setgroups(0, NULL) < 0 || setresgid(u->gid, u->gid, u->gid) < 0 ||
	    setresuid(u->uid, u->uid, u->uid) < 0)
		return dl_err_set(reterr, negative_errno(), "dropping to user '%s': %s", u->name,
		    strerror(errno));
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return dl_err_set(reterr, negative_errno(), "PR_SET_NO_NEW_PRIVS: %s",
		    strerror(errno));
	/* Belt and braces: every id is the user's, and root cannot be had back. */
	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0 || ru != u->uid ||
	    eu != u->uid || su != u->uid || rg != u->gid || eg != u->gid || sg != u->gid ||
	    setuid(0) == 0)
		return dl_err_set(reterr, -EPERM, "dropping to user '%s' did not take", u->name);
	/* The uid change cleared any earlier death signal (prctl(2)): set it now, then check
	 * the parent did not die before it was set. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) < 0)
		return dl_err_set(reterr, negative_errno(), "PR_SET_PDEATHSIG: %s", strerror(errno));
	if (getppid() != parent_pid)
		return dl_err_set(reterr, -ESRCH, "the privileged parent is gone");
	return 0;
}
