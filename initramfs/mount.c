/* SPDX-License-Identifier: MIT */
/* See mount.h. */
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mount.h"

/* The modules list is one absolute path per line; a few hundred NIC drivers at most. */
#define MAX_MODULES_LIST (64u << 10)
/* A freshly added loop device may be briefly busy or not yet in devtmpfs. */
#define LOOP_TRIES 5

static int
mount_one(const char *src, const char *dst, const char *type, unsigned long flags,
    const char *opts, struct init_err *reterr)
{
	if (mkdir(dst, 0755) < 0 && errno != EEXIST)
		return init_err_set(reterr, -errno, "mkdir %s: %s", dst, strerror(errno));
	if (mount(src, dst, type, flags, opts) < 0)
		return init_err_set(reterr, -errno, "mount %s on %s: %s", type, dst, strerror(errno));
	return 0;
}

int
mount_api_filesystems(struct init_err *reterr)
{
	const unsigned long nosx = MS_NOSUID | MS_NOEXEC | MS_NODEV;
	int r, fd;

	r = mount_one("proc", "/proc", "proc", nosx, NULL, reterr);
	if (r == 0)
		r = mount_one("sysfs", "/sys", "sysfs", nosx, NULL, reterr);
	if (r == 0)
		r = mount_one("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755", reterr);
	/* If the initrd had no dev/console the kernel started us without fds 0-2. */
	if (r == 0 && fcntl(STDERR_FILENO, F_GETFD) < 0) {
		fd = open("/dev/console", O_RDWR | O_NOCTTY);
		if (fd >= 0) {
			(void)dup2(fd, 0);
			(void)dup2(fd, 1);
			(void)dup2(fd, 2);
			if (fd > 2)
				(void)close(fd);
		}
	}
	if (r == 0)
		r = mount_one("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755", reterr);
	if (r == 0 && mkdir(DL_RUN_DIR, 0755) < 0 && errno != EEXIST)
		r = init_err_set(reterr, -errno, "mkdir %s: %s", DL_RUN_DIR, strerror(errno));
	return r;
}

int
mount_load_modules(void)
{
	static char list[MAX_MODULES_LIST + 1];
	char *line, *save = NULL;
	int n, loaded = 0;

	n = init_read_file(DL_MODULES_LIST, list, MAX_MODULES_LIST);
	if (n == -ENOENT)
		return 0;
	if (n < 0) {
		init_log("warning: %s: %s, loading no modules", DL_MODULES_LIST, strerror(-n));
		return 0;
	}
	for (line = strtok_r(list, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int fd;

		if (line[0] != '/') {
			if (line[0] && line[0] != '#')
				init_log("warning: %s: '%.100s' is not an absolute path, ignoring",
				    DL_MODULES_LIST, line);
			continue;
		}
		fd = open(line, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			init_log("warning: module %.200s: %s, ignoring", line, strerror(errno));
			continue;
		}
		if (syscall(SYS_finit_module, fd, "", 0) == 0 || errno == EEXIST)
			loaded++;
		else
			init_log("warning: module %.200s: %s, ignoring", line, strerror(errno));
		(void)close(fd); /* read-only */
	}
	return loaded;
}

/* Returns the open loop device fd: with autoclear, closing the last fd before the mount
 * holds the device would detach it again, so the caller closes it after mounting. */
static int
loop_attach(const char *file, char *ret_dev, size_t size, struct init_err *reterr)
{
	struct loop_config cfg = { 0 };
	int ctl, ffd, lfd = -1, num, tries, r;

	ffd = open(file, O_RDONLY | O_CLOEXEC);
	if (ffd < 0)
		return init_err_set(reterr, -errno, "open %s: %s", file, strerror(errno));
	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0) {
		r = init_err_set(reterr, -errno, "/dev/loop-control: %s (loop module missing?)",
		    strerror(errno));
		goto out_close_file;
	}
	cfg.fd = (uint32_t)ffd;
	cfg.info.lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR;
	for (tries = 0;; tries++) {
		num = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (num < 0) {
			r = init_err_set(reterr, -errno, "LOOP_CTL_GET_FREE: %s", strerror(errno));
			goto out_close_ctl;
		}
		(void)snprintf(ret_dev, size, "/dev/loop%d", num);
		lfd = open(ret_dev, O_RDONLY | O_CLOEXEC);
		/* LOOP_CONFIGURE (5.8+) attaches and sets flags in one step; EBUSY means another
		 * process took the device between GET_FREE and here: take the next one. */
		if (lfd >= 0 && ioctl(lfd, LOOP_CONFIGURE, &cfg) == 0)
			break;
		r = -errno;
		if (lfd >= 0)
			(void)close(lfd);
		lfd = -1;
		if (tries + 1 >= LOOP_TRIES || (r != -EBUSY && r != -ENOENT)) {
			r = init_err_set(reterr, r, "attach %s to %s: %s", file, ret_dev, strerror(-r));
			goto out_close_ctl;
		}
		init_sleep_ms(100);
	}
	r = lfd;
out_close_ctl:
	(void)close(ctl);
out_close_file:
	(void)close(ffd);
	return r;
}

int
mount_image(struct init_err *reterr)
{
	char dev[32];
	int lfd, r;

	lfd = loop_attach(DL_ROOTFS_FILE, dev, sizeof(dev), reterr);
	if (lfd < 0)
		return lfd;
	r = mount_one(dev, DL_LOWER_DIR, "squashfs", MS_RDONLY | MS_NODEV, NULL, reterr);
	(void)close(lfd); /* the mount holds the device now; autoclear frees it at umount */
	if (r < 0)
		return r;
	/* upper and work must be on one file system; a separate tmpfs lets a retry drop it */
	r = mount_one("tmpfs", DL_RW_DIR, "tmpfs", MS_NODEV, "mode=0755", reterr);
	if (r < 0)
		return r;
	if ((mkdir(DL_RW_DIR "/upper", 0755) < 0 && errno != EEXIST) ||
	    (mkdir(DL_RW_DIR "/work", 0755) < 0 && errno != EEXIST))
		return init_err_set(reterr, -errno, "mkdir in %s: %s", DL_RW_DIR, strerror(errno));
	return mount_one("overlay", DL_NEWROOT, "overlay", 0,
	    "lowerdir=" DL_LOWER_DIR ",upperdir=" DL_RW_DIR "/upper,workdir=" DL_RW_DIR "/work",
	    reterr);
}

void
mount_image_teardown(void)
{
	/* each may not be mounted yet; detach so a busy one cannot block the retry */
	(void)umount2(DL_NEWROOT, MNT_DETACH);
	(void)umount2(DL_RW_DIR, MNT_DETACH);
	(void)umount2(DL_LOWER_DIR, MNT_DETACH);
	(void)unlink(DL_ROOTFS_FILE);
}
