/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <stdarg.h>
#include <limits.h>
#include <errno.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "oci.h"
#include "readfile.h"
#include "rootfs.h"
#include "tool.h"

#define DEBOOTSTRAP "/usr/sbin/debootstrap"
#define APT_GET "/usr/bin/apt-get"
#define DPKG_DEB "/usr/bin/dpkg-deb"
#define BUSYBOX "/bin/busybox"
/* debootstrap of minbase + systemd + a kernel takes ~1-2 min here; a slow mirror 10x. */
#define DEBOOTSTRAP_TIMEOUT_MS (30u * 60 * 1000)
#define APT_TIMEOUT_MS (10u * 60 * 1000)
#define SHORT_TIMEOUT_MS (60u * 1000)
/* busybox --list-full is ~400 lines of ~20 bytes. */
#define MAX_APPLET_LIST (64 * 1024)
/* Most packages a busybox recipe unpacks: they come without dependency resolution. */
#define MAX_BUSYBOX_DEBS 256

static const char REPORTER_PATH[] = "usr/lib/diskless/dl-report";

/* The tiny image's PID 1. It mounts what a shell init needs, names the node on the
 * console so a test (or a person at the serial console) sees which node booted, reports
 * up, then holds: PID 1 must never exit. */
static const char BUSYBOX_INIT[] =
	"#!/bin/sh\n"
	"# diskless busybox image init, written by imagebuild (docs/images.md)\n"
	"export PATH=/usr/sbin:/usr/bin:/sbin:/bin\n"
	"mount -t proc proc /proc 2>/dev/null\n"
	"mount -t sysfs sysfs /sys 2>/dev/null\n"
	"mount -t devtmpfs devtmpfs /dev 2>/dev/null\n"
	/* Debian's busybox has no mountpoint applet; /run usually arrives from the
	 * initramfs with the boot receipt in it and must not be covered. */
	"grep -q ' /run ' /proc/mounts || mount -t tmpfs -o mode=0755 tmpfs /run\n"
	"grep -q ' /tmp ' /proc/mounts || mount -t tmpfs -o mode=1777 tmpfs /tmp\n"
	"[ -s /etc/hostname ] && hostname -F /etc/hostname\n"
	"echo\n"
	"echo \"=== diskless image '$(cat /etc/diskless/image-name 2>/dev/null)' up on node $(hostname) ===\"\n"
	"if /usr/lib/diskless/dl-report up; then\n"
	"	echo \"DISKLESS-UP hostname=$(hostname)\"\n"
	"else\n"
	"	echo \"DISKLESS-REPORT-FAILED hostname=$(hostname) rc=$?\"\n"
	"fi\n"
	"while :; do sleep 3600; done\n";

static const char UP_UNIT[] =
	"# Written by imagebuild: report this node up to bootsvc with the boot receipt\n"
	"# (docs/boot-protocol.md \"The up-reporter\").\n"
	"[Unit]\n"
	"Description=diskless: report the node up to bootsvc\n"
	"After=network-online.target basic.target\n"
	"Wants=network-online.target\n"
	"ConditionPathExists=/etc/diskless/node.conf\n"
	"\n"
	"[Service]\n"
	"Type=oneshot\n"
	"RemainAfterExit=yes\n"
	"ExecStart=/usr/lib/diskless/dl-report up\n"
	"\n"
	"[Install]\n"
	"WantedBy=multi-user.target\n";

static int
pathf(char *buf, size_t size, struct dl_err *reterr, const char *fmt, ...) _printf_(4, 5);

static int
pathf(char *buf, size_t size, struct dl_err *reterr, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size)
		return dl_err_set(reterr, -ENAMETOOLONG, "path too long");
	return 0;
}

static int
source_path(const struct recipe *r, char *buf, size_t size, struct dl_err *reterr)
{
	if (r->source[0] == '/')
		return pathf(buf, size, reterr, "%s", r->source);
	return pathf(buf, size, reterr, "%s/%s", r->dir, r->source);
}

static int
make_debootstrap(const struct recipe *r, const struct rootfs_ctx *c, struct dl_err *reterr)
{
	_cleanup_free_ char *include = NULL, *variant = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	rc = tool_require(DEBOOTSTRAP, "debootstrap", reterr);
	if (rc < 0)
		return rc;
	f = open_memstream(&include, &len);
	if (!f)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	fputs("--include=", f);
	for (size_t i = 0; i < r->packages.n; i++)
		fprintf(f, "%s%s", i ? "," : "", r->packages.v[i]);
	/* The image's own kernel, unless the recipe names a kernel tree instead. */
	if (!recipe_kernel_is_path(r))
		fprintf(f, "%s%s", r->packages.n ? "," : "", r->kernel ? r->kernel : "linux-image-amd64");
	if (fclose(f) != 0 || !include)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	if (asprintf(&variant, "--variant=%s", r->variant) < 0)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	const char *argv[] = { DEBOOTSTRAP, variant, include, r->suite, c->rootfs, c->mirror,
		NULL };
	/* No "--" before the suite: debootstrap rejects it; suite and variant were checked
	 * not to start with a dash (recipe.c). INITRD=No makes the kernel package's initramfs-tools hook skip building an
	 * initramfs in the image: it would never be booted (ours is) and costs ~30 s. */
	const char *env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND=noninteractive",
		"INITRD=No", "LC_ALL=C", NULL };
	return tool_run(argv, NULL, env, c->log, DEBOOTSTRAP_TIMEOUT_MS, reterr);
}

/* What debootstrap leaves that a stateless image must not carry: the downloaded .debs
 * (~100 MB), an initramfs nobody boots, and a machine-id every node would share (an
 * empty file makes systemd generate one per boot). */
static int
debootstrap_tidy(const char *rootfs, struct dl_err *reterr)
{
	char p[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int rc;

	rc = pathf(p, sizeof(p), reterr, "%s/var/cache/apt/archives", rootfs);
	if (rc < 0)
		return rc;
	d = opendir(p);
	while (d && (de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (n > 4 && streq(de->d_name + n - 4, ".deb"))
			(void)unlinkat(dirfd(d), de->d_name, 0); /* only space is lost if it stays */
	}
	if (d)
		closedir(d);
	rc = pathf(p, sizeof(p), reterr, "%s/boot", rootfs);
	if (rc < 0)
		return rc;
	d = opendir(p);
	while (d && (de = readdir(d)))
		if (!strncmp(de->d_name, "initrd.img-", 11))
			(void)unlinkat(dirfd(d), de->d_name, 0); /* as above */
	if (d)
		closedir(d);
	rc = pathf(p, sizeof(p), reterr, "%s/etc/machine-id", rootfs);
	if (rc < 0)
		return rc;
	return fsutil_write_file(p, "", 0, 0444, reterr);
}

static int
write_in(const char *rootfs, const char *rel, const char *data, mode_t mode,
    struct dl_err *reterr)
{
	char p[PATH_MAX];
	int rc = pathf(p, sizeof(p), reterr, "%s/%s", rootfs, rel);

	if (rc < 0)
		return rc;
	(void)unlink(p); /* may be a busybox applet symlink; replaced, not written through */
	return fsutil_write_file(p, data, strlen(data), mode, reterr);
}

/* Unpack extra packages into a busybox root: apt-get download, then dpkg-deb -x.
 * No dependencies and no maintainer scripts: meant for static tools (docs/images.md). */
static int
busybox_packages(const struct recipe *r, const struct rootfs_ctx *c, struct dl_err *reterr)
{
	char debs[PATH_MAX];
	struct dirent **ents = NULL;
	const char **argv;
	int n, rc;

	if (!r->packages.n)
		return 0;
	rc = pathf(debs, sizeof(debs), reterr, "%s/debs", c->workdir);
	if (rc >= 0)
		rc = fsutil_mkdir_p(debs, 0755, reterr);
	if (rc < 0)
		return rc;
	/* apt drops privileges to _apt for downloads into the cwd. */
	(void)chmod(debs, 0777);
	argv = calloc(r->packages.n + 4, sizeof(*argv));
	if (!argv)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	argv[0] = APT_GET;
	argv[1] = "download";
	argv[2] = "--";
	for (size_t i = 0; i < r->packages.n; i++)
		argv[3 + i] = r->packages.v[i];
	rc = tool_run(argv, debs, NULL, c->log, APT_TIMEOUT_MS, reterr);
	free(argv);
	if (rc < 0)
		return rc;
	n = scandir(debs, &ents, NULL, alphasort);
	if (n < 0)
		return dl_err_set(reterr, negative_errno(), "%s: %s", debs, strerror(errno));
	if (n > MAX_BUSYBOX_DEBS + 2)
		rc = dl_err_set(reterr, -E2BIG, "%s: more than %d packages", debs, MAX_BUSYBOX_DEBS);
	for (int i = 0; i < n; i++) {
		char deb[PATH_MAX];
		size_t len = strlen(ents[i]->d_name);

		if (rc >= 0 && len > 4 && streq(ents[i]->d_name + len - 4, ".deb")) {
			rc = pathf(deb, sizeof(deb), reterr, "%s/%s", debs, ents[i]->d_name);
			if (rc >= 0) {
				const char *x[] = { DPKG_DEB, "-x", deb, c->rootfs, NULL };
				rc = tool_run(x, NULL, NULL, c->log, SHORT_TIMEOUT_MS, reterr);
			}
		}
		free(ents[i]);
	}
	free(ents);
	return rc;
}

static int
make_busybox(const struct recipe *r, const struct rootfs_ctx *c, struct dl_err *reterr)
{
	static const struct { const char *path; mode_t mode; } dirs[] = {
		{ "bin", 0755 }, { "sbin", 0755 }, { "etc", 0755 }, { "etc/diskless", 0755 },
		{ "proc", 0555 }, { "sys", 0555 }, { "dev", 0755 }, { "run", 0755 },
		{ "tmp", 01777 }, { "root", 0700 }, { "usr", 0755 }, { "usr/bin", 0755 },
		{ "usr/sbin", 0755 }, { "usr/lib", 0755 }, { "usr/lib/diskless", 0755 },
		{ "var", 0755 }, { "var/log", 0755 }, { "lib", 0755 },
	};
	_cleanup_free_ char *list = NULL;
	char p[PATH_MAX], listf[PATH_MAX];
	int rc;

	rc = tool_require(BUSYBOX, "busybox-static", reterr);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
		rc = pathf(p, sizeof(p), reterr, "%s/%s", c->rootfs, dirs[i].path);
		if (rc < 0)
			return rc;
		if (mkdir(p, dirs[i].mode) < 0 && errno != EEXIST)
			return dl_err_set(reterr, negative_errno(), "mkdir %s: %s", p, strerror(errno));
		(void)chmod(p, dirs[i].mode); /* umask must not decide /tmp's sticky bit */
	}
	rc = pathf(p, sizeof(p), reterr, "%s/bin/busybox", c->rootfs);
	if (rc >= 0)
		rc = fsutil_copy_file(BUSYBOX, p, reterr);
	if (rc < 0)
		return rc;
	/* Applet links made now, so the image works read-only and from its first line. */
	rc = pathf(listf, sizeof(listf), reterr, "%s/applets", c->workdir);
	if (rc < 0)
		return rc;
	{
		const char *argv[] = { BUSYBOX, "--list-full", NULL };
		rc = tool_run(argv, NULL, NULL, listf, SHORT_TIMEOUT_MS, reterr);
	}
	if (rc >= 0)
		rc = read_file(listf, MAX_APPLET_LIST, READ_FILE_REGULAR, &list, NULL, reterr);
	if (rc < 0)
		return rc;
	for (char *line = strtok(list, "\n"); line; line = strtok(NULL, "\n")) {
		/* "usr/bin/wget": relative, no "..", from our own busybox. */
		if (strstr(line, "..") || line[0] == '/' || !*line)
			continue;
		rc = pathf(p, sizeof(p), reterr, "%s/%s", c->rootfs, line);
		if (rc < 0)
			return rc;
		if (symlink("/bin/busybox", p) < 0 && errno != EEXIST)
			return dl_err_set(reterr, negative_errno(), "symlink %s: %s", p, strerror(errno));
	}
	rc = write_in(c->rootfs, "sbin/init", BUSYBOX_INIT, 0755, reterr);
	if (rc >= 0)
		rc = write_in(c->rootfs, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n", 0644, reterr);
	if (rc >= 0)
		rc = write_in(c->rootfs, "etc/group", "root:x:0:\n", 0644, reterr);
	if (rc >= 0)
		rc = write_in(c->rootfs, "etc/hosts", "127.0.0.1\tlocalhost\n", 0644, reterr);
	if (rc >= 0) {
		char name[300];
		(void)snprintf(name, sizeof(name), "%s\n", r->name);
		rc = write_in(c->rootfs, "etc/hostname", name, 0644, reterr);
		if (rc >= 0)
			rc = write_in(c->rootfs, "etc/diskless/image-name", name, 0644, reterr);
	}
	if (rc < 0)
		return rc;
	return busybox_packages(r, c, reterr);
}

/* A directory base is not copied: an overlay mount lays the build's own additions
 * (modules, overlay files, reporter) in an upper directory over the untouched source,
 * and mksquashfs reads the merged view. Copying a 650 MiB tree wrote 650 MiB that the
 * kernel then flushed while mksquashfs ran, doubling the build (docs/benchmarks.md).
 * Returns -errno when the mount is not possible (no CAP_SYS_ADMIN, a source path
 * overlayfs options cannot spell, a filesystem overlayfs refuses); the caller copies. */
static int
mount_directory(const char *src, const struct rootfs_ctx *c, struct dl_err *reterr)
{
	char upper[PATH_MAX], work[PATH_MAX], opts[3 * PATH_MAX + 64];
	struct stat st;
	int rc;

	/* overlayfs splits its options at ',' and lowerdir at ':'. */
	if (strpbrk(src, ",:\\") || strpbrk(c->workdir, ",:\\"))
		return -EINVAL;
	if ((rc = pathf(upper, sizeof(upper), reterr, "%s/upper", c->workdir)) < 0 ||
	    (rc = pathf(work, sizeof(work), reterr, "%s/ovlwork", c->workdir)) < 0)
		return rc;
	if ((mkdir(upper, 0755) < 0 && errno != EEXIST) || (mkdir(work, 0700) < 0 &&
	    errno != EEXIST))
		return -errno;
	if ((size_t)snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s", src,
	    upper, work) >= sizeof(opts))
		return -ENAMETOOLONG;
	/* The merged root has the upper directory's mode and owner: give it the source's,
	 * as cp -a would. */
	if (stat(src, &st) < 0 || chown(upper, st.st_uid, st.st_gid) < 0 ||
	    chmod(upper, st.st_mode & 07777) < 0)
		return -errno;
	if (mount("overlay", c->rootfs, "overlay", 0, opts) < 0)
		return -errno;
	if (c->ret_mounted)
		*c->ret_mounted = true;
	return 0;
}

int
rootfs_create(const struct recipe *r, const struct rootfs_ctx *c, struct dl_err *reterr)
{
	char src[PATH_MAX];
	int rc;

	switch (r->base) {
	case RECIPE_BASE_DEBOOTSTRAP:
		rc = make_debootstrap(r, c, reterr);
		return rc < 0 ? rc : debootstrap_tidy(c->rootfs, reterr);
	case RECIPE_BASE_BUSYBOX:
		return make_busybox(r, c, reterr);
	case RECIPE_BASE_TARBALL:
		rc = source_path(r, src, sizeof(src), reterr);
		return rc < 0 ? rc : oci_unpack_tarball(c->rootfs, src, reterr);
	case RECIPE_BASE_OCI:
		rc = source_path(r, src, sizeof(src), reterr);
		return rc < 0 ? rc : oci_import(c->rootfs, src, c->workdir, reterr);
	case RECIPE_BASE_DIRECTORY:
		rc = source_path(r, src, sizeof(src), reterr);
		if (rc < 0)
			return rc;
		if (mount_directory(src, c, reterr) == 0)
			return 0;
		return fsutil_copy_tree(src, c->rootfs, reterr);
	case RECIPE_BASE_DISK: /* imported as a disk (disk.c), never a tree */
	case _RECIPE_BASE_MAX:
	case _RECIPE_BASE_INVALID:
		break;
	}
	return dl_err_set(reterr, -EINVAL, "bad base %d", (int)r->base);
}

int
rootfs_apply_overlay(const struct recipe *r, const char *rootfs, struct dl_err *reterr)
{
	char p[PATH_MAX];
	struct stat st;
	int rc;

	rc = r->overlay[0] == '/' ? pathf(p, sizeof(p), reterr, "%s", r->overlay) :
	    pathf(p, sizeof(p), reterr, "%s/%s", r->dir, r->overlay);
	if (rc < 0)
		return rc;
	if (stat(p, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return dl_err_set(reterr, negative_errno(), "%s: %s", p, strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return dl_err_set(reterr, -ENOTDIR, "overlay '%s' is not a directory", p);
	return fsutil_copy_tree(p, rootfs, reterr);
}

static bool
has_systemd(const char *rootfs)
{
	char p[PATH_MAX];

	(void)snprintf(p, sizeof(p), "%s/usr/lib/systemd/systemd", rootfs);
	if (access(p, X_OK) == 0)
		return true;
	(void)snprintf(p, sizeof(p), "%s/lib/systemd/systemd", rootfs);
	return access(p, X_OK) == 0;
}

int
rootfs_install_reporter(const char *rootfs, const char *init, struct dl_err *reterr)
{
	char p[PATH_MAX];
	int rc;

	rc = pathf(p, sizeof(p), reterr, "%s/usr/lib/diskless", rootfs);
	if (rc >= 0)
		rc = fsutil_mkdir_p(p, 0755, reterr);
	if (rc >= 0)
		rc = pathf(p, sizeof(p), reterr, "%s/etc/diskless", rootfs);
	if (rc >= 0)
		rc = fsutil_mkdir_p(p, 0755, reterr);
	if (rc >= 0)
		rc = pathf(p, sizeof(p), reterr, "%s/%s", rootfs, REPORTER_PATH);
	if (rc >= 0) {
		(void)unlink(p);
		rc = fsutil_copy_file(init, p, reterr);
	}
	if (rc >= 0)
		rc = chmod(p, 0755) < 0 ?
		    dl_err_set(reterr, negative_errno(), "chmod %s: %s", p, strerror(errno)) : 0;
	if (rc < 0 || !has_systemd(rootfs))
		return rc;
	rc = pathf(p, sizeof(p), reterr, "%s/etc/systemd/system/multi-user.target.wants", rootfs);
	if (rc >= 0)
		rc = fsutil_mkdir_p(p, 0755, reterr);
	if (rc >= 0)
		rc = write_in(rootfs, "etc/systemd/system/diskless-up.service", UP_UNIT, 0644, reterr);
	if (rc >= 0)
		rc = pathf(p, sizeof(p), reterr,
		    "%s/etc/systemd/system/multi-user.target.wants/diskless-up.service", rootfs);
	if (rc < 0)
		return rc;
	(void)unlink(p);
	if (symlink("/etc/systemd/system/diskless-up.service", p) < 0)
		return dl_err_set(reterr, negative_errno(), "symlink %s: %s", p, strerror(errno));
	return 0;
}

int
rootfs_install_modules(const char *rootfs, const char *moddir, const char *kver,
    struct dl_err *reterr)
{
	char lib[PATH_MAX], p[PATH_MAX];
	struct stat st;
	int rc;

	/* Never follow a symlink of the image here: an absolute "lib -> /usr/lib" would
	 * resolve on the build machine. A merged-/usr image gets its modules in usr/lib. */
	rc = pathf(lib, sizeof(lib), reterr, "%s/lib", rootfs);
	if (rc < 0)
		return rc;
	if (lstat(lib, &st) == 0 && S_ISLNK(st.st_mode)) {
		rc = pathf(lib, sizeof(lib), reterr, "%s/usr/lib", rootfs);
		if (rc < 0)
			return rc;
		if (lstat(lib, &st) < 0 || !S_ISDIR(st.st_mode))
			return dl_err_set(reterr, -ENOTDIR,
			    "%s/lib is a symlink and usr/lib is not a directory: cannot place modules",
			    rootfs);
	}
	rc = pathf(p, sizeof(p), reterr, "%s/modules", lib);
	if (rc < 0)
		return rc;
	if (lstat(p, &st) == 0 && !S_ISDIR(st.st_mode))
		return dl_err_set(reterr, -ENOTDIR, "%s is not a directory", p);
	rc = pathf(p, sizeof(p), reterr, "%s/modules/%s", lib, kver);
	if (rc < 0)
		return rc;
	if (lstat(p, &st) == 0)
		return 0;
	return fsutil_copy_tree(moddir, p, reterr);
}
