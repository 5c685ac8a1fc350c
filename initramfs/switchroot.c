/* SPDX-License-Identifier: MIT */
/* switch_root; see switchroot.h. Same steps as util-linux switch_root(8) and busybox's:
 * the initramfs (rootfs) cannot be unmounted, so we empty it and mount over it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "switchroot.h"

/* Depth of the initramfs tree we delete: lib/modules/<kver>/kernel/drivers/net/... */
#define MAX_DELETE_DEPTH 32

int
switchroot_check(const char *newroot, struct init_err *reterr)
{
	struct stat st;
	int fd, r = 0;

	fd = open(newroot, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return init_err_set(reterr, -errno, "open %s: %s", newroot, strerror(errno));
	/* NOFOLLOW: sbin/init is often an absolute symlink that only resolves after chroot */
	if (fstatat(fd, "sbin/init", &st, AT_SYMLINK_NOFOLLOW) < 0)
		r = init_err_set(reterr, -errno, "image has no /sbin/init: %s", strerror(errno));
	(void)close(fd);
	return r;
}

/* Remove everything below dirfd that lives on dev; dirfd is consumed. */
static void
delete_contents(int dirfd, dev_t dev, int depth)
{
	DIR *d;
	struct dirent *de;

	d = fdopendir(dirfd);
	if (!d) {
		(void)close(dirfd);
		return;
	}
	while ((de = readdir(d))) {
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_dev != dev)
			continue; /* another mount (the new root itself): never touch it */
		if (S_ISDIR(st.st_mode)) {
			int sub;

			if (depth < MAX_DELETE_DEPTH) {
				sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
				    O_CLOEXEC);
				if (sub >= 0)
					delete_contents(sub, dev, depth + 1);
			}
			(void)unlinkat(dirfd, de->d_name, AT_REMOVEDIR); /* mount points stay */
		} else {
			(void)unlinkat(dirfd, de->d_name, 0);
		}
	}
	(void)closedir(d);
}

int
switchroot_exec(const char *newroot, char *const envp[], struct init_err *reterr)
{
	static const char *const moves[] = { "/dev", "/proc", "/sys", "/run" };
	char dst[64];
	struct stat root_st, new_st;
	sigset_t all;
	size_t i;
	int rootfd, r;

	if (stat("/", &root_st) < 0 || stat(newroot, &new_st) < 0)
		return init_err_set(reterr, -errno, "stat: %s", strerror(errno));
	if (root_st.st_dev == new_st.st_dev)
		return init_err_set(reterr, -EINVAL, "%s is not a mount point", newroot);
	for (i = 0; i < sizeof(moves) / sizeof(moves[0]); i++) {
		(void)snprintf(dst, sizeof(dst), "%s%s", newroot, moves[i]);
		(void)mkdir(dst, 0755); /* most images have it; EEXIST is the normal case */
		if (mount(moves[i], dst, NULL, MS_MOVE, NULL) < 0)
			return init_err_set(reterr, -errno, "move %s to %s: %s", moves[i], dst,
			    strerror(errno));
	}
	if (chdir(newroot) < 0)
		return init_err_set(reterr, -errno, "chdir %s: %s", newroot, strerror(errno));
	/* Free the initramfs RAM: the files are in rootfs, which can never be unmounted. */
	rootfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd >= 0)
		delete_contents(rootfd, root_st.st_dev, 0);
	if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
		return init_err_set(reterr, -errno, "move %s to /: %s", newroot, strerror(errno));
	if (chroot(".") < 0 || chdir("/") < 0)
		return init_err_set(reterr, -errno, "chroot: %s", strerror(errno));
	/* the signal mask survives exec: the image's init must start with none blocked */
	sigemptyset(&all);
	(void)sigprocmask(SIG_SETMASK, &all, NULL);
	execve("/sbin/init", (char *const[]){ "/sbin/init", NULL }, envp);
	r = init_err_set(reterr, -errno, "exec /sbin/init: %s", strerror(errno));
	sigfillset(&all);
	(void)sigprocmask(SIG_SETMASK, &all, NULL);
	return r;
}
