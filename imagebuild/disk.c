/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "disk.h"
#include "fsutil.h"
#include "initramfs.h"
#include "log.h"
#include "readfile.h"
#include "recipe.h"
#include "tool.h"

#define QEMU_IMG "/usr/bin/qemu-img"
#define CP "/usr/bin/cp"
#define SFDISK "/usr/sbin/sfdisk"
#define MKFS_VFAT "/usr/sbin/mkfs.vfat"
#define SYSLINUX "/usr/bin/syslinux"
#define SYSLINUX_MBR "/usr/lib/syslinux/mbr/mbr.bin"
#define MCOPY "/usr/bin/mcopy"
#define MMD "/usr/bin/mmd"
#define MKFS_EXT4 "/usr/sbin/mkfs.ext4"
#define CHROOT "/usr/sbin/chroot"
/* The boot code area of an MBR, before the disk id and the partition table. */
#define MBR_CODE_BYTES 440
/* Deadline of one disk tool: a multi-GB qemu-img convert or mkfs.ext4 -d of a large
 * rootfs on a slow disk takes minutes, never an hour. */
#define DISK_TOOL_TIMEOUT_MS (60u * 60 * 1000)
/* Chunk of the sparse copy: all-zero chunks of this size become holes. */
#define COPY_CHUNK (1u << 20)
/* Most libraries iscsistart may need (it has five on bookworm). */
#define MAX_INITRD_LIBS 32
/* Largest ldd output read. */
#define MAX_LDD_OUTPUT (64 * 1024)
/* iscsistart's replacement timeout in the initramfs (seconds): how long the root disk's
 * I/O waits for the session to come back (a tgtd restart, a bootsvc upgrade) before it
 * fails. A day: a node without its root disk is no use, and waiting costs nothing. */
#define DISK_REPLACEMENT_TIMEOUT "86400"

static const char MTOOLS_ENV0[] = "MTOOLS_SKIP_CHECK=1";
static const char *const mtools_env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", MTOOLS_ENV0,
	NULL };

/* The initramfs's /init (busybox sh). The steps follow what the sanboot lab proved:
 * modules (crc32c_generic before iscsi_tcp logs in), iBFT, iscsistart -N (the NIC from
 * iBFT), iscsistart -b (the session from iBFT, CHAP included), root = partition 2.
 * Without iBFT it boots the local disk that has the root label (virtio, SATA), so the
 * same disk boots as a plain VM disk. */
static const char DISK_INIT[] =
    "#!/bin/busybox sh\n"
    "# initramfs of an iSCSI disk made by imagebuild (docs/images.md)\n"
    "/bin/busybox --install -s /bin\n"
    "mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev\n"
    "for m in $(cat /etc/diskless/modules); do insmod $m 2>/dev/null; done\n"
    "I=/sys/firmware/ibft\n"
    "if [ -d $I/target0 ]; then\n"
    "  mac=$(cat $I/ethernet0/mac)\n"
    "  echo \"DISKLESS-DISK: iBFT initiator=$(cat $I/initiator/initiator-name) target=$(cat $I/target0/target-name) portal=$(cat $I/target0/ip-addr):$(cat $I/target0/port)\"\n"
    "  ip link set lo up\n"
    "  ifname=\n"
    "  for n in /sys/class/net/*; do [ \"$(cat $n/address)\" = \"$mac\" ] && ifname=${n##*/}; done\n"
    "  if ! iscsistart -N >/dev/null 2>&1; then\n"
    "    ip link set $ifname up\n"
    "    ip addr add $(cat $I/ethernet0/ip-addr)/$(cat $I/ethernet0/prefix-len) dev $ifname\n"
    "  fi\n"
    "  iscsistart -b -P node.session.timeo.replacement_timeout=" DISK_REPLACEMENT_TIMEOUT " 2>&1 | tail -3\n"
    "else\n"
    "  echo 'DISKLESS-DISK: no iBFT, looking for a local disk'\n"
    "fi\n"
    "root=\n"
    "i=0\n"
    "while [ -z \"$root\" ] && [ $i -lt 300 ]; do\n"
    "  root=$(findfs LABEL=" DISK_ROOT_LABEL " 2>/dev/null)\n"
    "  [ -n \"$root\" ] || { sleep 0.1; i=$((i+1)); }\n"
    "done\n"
    "if [ -z \"$root\" ] || ! mount -t ext4 -o rw \"$root\" /newroot; then\n"
    "  echo \"DISKLESS-DISK-ROOT-FAILED root='$root'\"; ls /dev/sd* /dev/vd* 2>&1\n"
    "  exec sh\n"
    "fi\n"
    "echo \"DISKLESS-DISK: root $root\"\n"
    "mount --move /dev /newroot/dev\n"
    "umount /proc /sys\n"
    "exec switch_root /newroot /sbin/init\n";

const char *
disk_init_text(void)
{
	return DISK_INIT;
}

static int
run(const char *const *argv, const char *const *env, const char *log, struct dl_err *reterr)
{
	return tool_run(argv, NULL, env, log, DISK_TOOL_TIMEOUT_MS, reterr);
}

int
disk_layout_make(uint64_t size, struct disk_layout *ret, struct dl_err *reterr)
{
	if (size < MIN_RECIPE_DISK_SIZE || size > MAX_RECIPE_DISK_SIZE || size % (1ULL << 20))
		return dl_err_set(reterr, -EINVAL, "disk size %llu is not whole MiB from %llu to %llu",
		    (unsigned long long)size, (unsigned long long)MIN_RECIPE_DISK_SIZE,
		    (unsigned long long)MAX_RECIPE_DISK_SIZE);
	ret->size = size;
	ret->boot_start = (uint64_t)DISK_FIRST_LBA * DISK_SECTOR;
	ret->boot_size = (uint64_t)DISK_BOOT_MIB << 20;
	ret->root_start = ret->boot_start + ret->boot_size;
	ret->root_size = size - ret->root_start;
	return 0;
}

int
disk_sfdisk_script(const struct disk_layout *l, char *buf, size_t size)
{
	int n = snprintf(buf, size,
	    "label: dos\nlabel-id: %s\nunit: sectors\n"
	    "start=%llu, size=%llu, type=6, bootable\n"
	    "start=%llu, size=%llu, type=83\n",
	    DISK_MBR_ID, (unsigned long long)(l->boot_start / DISK_SECTOR),
	    (unsigned long long)(l->boot_size / DISK_SECTOR),
	    (unsigned long long)(l->root_start / DISK_SECTOR),
	    (unsigned long long)(l->root_size / DISK_SECTOR));

	return n < 0 || (size_t)n >= size ? -E2BIG : n;
}

static uint64_t
be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* qcow2 header fields (docs/interop/qcow2.txt in qemu): big-endian. */
#define QCOW2_MAGIC "QFI\xfb"
#define QCOW2_V2_HEADER 72
#define QCOW2_V3_HEADER 104
#define QCOW2_INCOMPAT_DATA_FILE (1ULL << 2)

int
disk_probe(const uint8_t *buf, size_t len, uint64_t file_size, enum disk_format *ret,
    struct dl_err *reterr)
{
	if (file_size == 0 || len == 0)
		return dl_err_set(reterr, -EINVAL, "the disk is empty (size 0)");
	if (len >= 4 && !memcmp(buf, QCOW2_MAGIC, 4)) {
		uint32_t version;

		if (len < QCOW2_V2_HEADER)
			return dl_err_set(reterr, -EINVAL, "qcow2 header cut short (%zu bytes)", len);
		version = be32(buf + 4);
		if (version != 2 && version != 3)
			return dl_err_set(reterr, -EINVAL, "qcow2 version %u is not 2 or 3", version);
		if (be64(buf + 8) != 0)
			return dl_err_set(reterr, -EINVAL, "a qcow2 with a backing file: give the "
			    "whole disk (qemu-img convert -O qcow2 flattens it)");
		if (be32(buf + 32) != 0)
			return dl_err_set(reterr, -EINVAL, "an encrypted qcow2 (crypt_method %u)",
			    be32(buf + 32));
		if (be64(buf + 24) == 0)
			return dl_err_set(reterr, -EINVAL, "a qcow2 of virtual size 0");
		if (version == 3) {
			if (len < QCOW2_V3_HEADER)
				return dl_err_set(reterr, -EINVAL, "qcow2 header cut short (%zu bytes)",
				    len);
			if (be64(buf + 72) & QCOW2_INCOMPAT_DATA_FILE)
				return dl_err_set(reterr, -EINVAL, "a qcow2 with an external data file");
		}
		*ret = DISK_FORMAT_QCOW2;
		return 0;
	}
	if (file_size % DISK_SECTOR)
		return dl_err_set(reterr, -EINVAL, "the disk is %llu bytes, not whole %d-byte "
		    "sectors", (unsigned long long)file_size, DISK_SECTOR);
	if ((len >= 512 && buf[510] == 0x55 && buf[511] == 0xaa) ||
	    (len >= 520 && !memcmp(buf + 512, "EFI PART", 8))) {
		*ret = DISK_FORMAT_RAW;
		return 0;
	}
	return dl_err_set(reterr, -EINVAL, "not a disk: no MBR boot signature (0x55AA at byte "
	    "510) and no GPT header; a partition or a file system alone cannot boot");
}

static int
probe_file(const char *path, enum disk_format *ret, struct dl_err *reterr)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint8_t buf[DISK_PROBE_BYTES];
	struct stat st;
	ssize_t n;

	if (fd < 0)
		return dl_err_set(reterr, negative_errno(), "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0)
		return dl_err_set(reterr, negative_errno(), "%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return dl_err_set(reterr, -EINVAL, "%s: not a regular file", path);
	n = pread(fd, buf, sizeof(buf), 0);
	if (n < 0)
		return dl_err_set(reterr, negative_errno(), "%s: %s", path, strerror(errno));
	if (disk_probe(buf, (size_t)n, (uint64_t)st.st_size, ret, reterr) < 0)
		return dl_err_prefix(reterr, "%s", path);
	return 0;
}

int
disk_import(const char *src, const char *dst, const char *log, struct dl_err *reterr)
{
	enum disk_format f, f2;
	int rc;

	rc = probe_file(src, &f, reterr);
	if (rc < 0)
		return rc;
	if (f == DISK_FORMAT_QCOW2) {
		/* -f: never let qemu-img guess; convert writes holes for zeroes (-S 4k). */
		const char *argv[] = { QEMU_IMG, "convert", "-q", "-f", "qcow2", "-O", "raw", src,
			dst, NULL };
		rc = tool_require(QEMU_IMG, "qemu-utils", reterr);
		if (rc >= 0)
			rc = run(argv, NULL, log, reterr);
	} else {
		/* A reflink where the store's file system has them: O(1) and shared blocks. */
		const char *argv[] = { CP, "--reflink=auto", "--sparse=always", "--", src, dst,
			NULL };
		rc = run(argv, NULL, log, reterr);
	}
	if (rc < 0)
		return rc;
	rc = probe_file(dst, &f2, reterr);
	if (rc >= 0 && f2 != DISK_FORMAT_RAW)
		rc = dl_err_set(reterr, -EINVAL, "%s: the converted disk is a qcow2 itself", src);
	if (rc < 0)
		return dl_err_prefix(reterr, "%s", f == DISK_FORMAT_QCOW2 ? "after qemu-img convert" :
		    "after the copy");
	(void)chmod(dst, 0644); /* bootsvc reads it to clone; never writes it */
	return 0;
}

/* Open rel inside root as if root were / (absolute symlinks of the image stay in it). */
static int
open_in_root(const char *root, const char *rel, struct dl_err *reterr)
{
	_cleanup_close_ int rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct open_how how = { .flags = O_RDONLY | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	int fd;

	if (rfd < 0)
		return dl_err_set(reterr, negative_errno(), "%s: %s", root, strerror(errno));
	fd = (int)syscall(SYS_openat2, rfd, rel, &how, sizeof(how));
	if (fd < 0)
		return dl_err_set(reterr, negative_errno(), "%s in the image: %s", rel,
		    strerror(errno));
	return fd;
}

/* Copy [off, off+len) of in to the same offset of out, leaving zero chunks as holes. */
static int
copy_range_sparse(int in, off_t in_off, int out, off_t out_off, uint64_t len, char *buf,
    struct dl_err *reterr)
{
	while (len) {
		size_t n = len < COPY_CHUNK ? (size_t)len : COPY_CHUNK;
		ssize_t r = pread(in, buf, n, in_off);
		bool zero = true;

		if (r <= 0)
			return dl_err_set(reterr, r < 0 ? negative_errno() : -EIO, "read: %s",
			    r < 0 ? strerror(errno) : "short file");
		for (ssize_t i = 0; i < r && zero; i++)
			zero = buf[i] == 0;
		if (!zero && pwrite(out, buf, (size_t)r, out_off) != r)
			return dl_err_set(reterr, negative_errno(), "write: %s", strerror(errno));
		in_off += r;
		out_off += r;
		len -= (uint64_t)r;
	}
	return 0;
}

/* The whole of src into dst at offset, only its data extents (SEEK_DATA/SEEK_HOLE). */
static int
copy_into_sparse(const char *src, const char *dst, uint64_t offset, struct dl_err *reterr)
{
	_cleanup_close_ int in = open(src, O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int out = open(dst, O_WRONLY | O_CLOEXEC);
	_cleanup_free_ char *buf = malloc(COPY_CHUNK);
	struct stat st;
	off_t pos = 0;

	if (!buf)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	if (in < 0 || out < 0 || fstat(in, &st) < 0)
		return dl_err_set(reterr, negative_errno(), "%s: %s", in < 0 ? src : dst,
		    strerror(errno));
	while (pos < st.st_size) {
		off_t data = lseek(in, pos, SEEK_DATA), hole;
		int rc;

		if (data < 0 && errno == ENXIO)
			break; /* a hole to the end */
		if (data < 0)
			return dl_err_set(reterr, negative_errno(), "%s: %s", src, strerror(errno));
		hole = lseek(in, data, SEEK_HOLE);
		if (hole < 0)
			return dl_err_set(reterr, negative_errno(), "%s: %s", src, strerror(errno));
		rc = copy_range_sparse(in, data, out, (off_t)offset + data, (uint64_t)(hole - data),
		    buf, reterr);
		if (rc < 0)
			return dl_err_prefix(reterr, "%s into %s", src, dst);
		pos = hole;
	}
	return fsync(out) < 0 ? dl_err_set(reterr, negative_errno(), "%s: %s", dst,
	    strerror(errno)) : 0;
}

/* Copy rel of the image root to dst (a host path). */
static int
copy_out(const char *root, const char *rel, const char *dst, struct dl_err *reterr)
{
	_cleanup_close_ int in = open_in_root(root, rel, reterr);
	_cleanup_close_ int out = -1;
	_cleanup_free_ char *buf = NULL;
	struct stat st;

	if (in < 0)
		return in;
	if (fstat(in, &st) < 0 || !S_ISREG(st.st_mode))
		return dl_err_set(reterr, -EINVAL, "%s in the image: not a regular file", rel);
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	buf = malloc(COPY_CHUNK);
	if (out < 0 || !buf)
		return dl_err_set(reterr, out < 0 ? negative_errno() : -ENOMEM, "%s: %s", dst,
		    out < 0 ? strerror(errno) : "out of memory");
	for (;;) {
		ssize_t n = read(in, buf, COPY_CHUNK);
		if (n < 0)
			return dl_err_set(reterr, negative_errno(), "%s: %s", rel, strerror(errno));
		if (n == 0)
			return 0;
		if (write(out, buf, (size_t)n) != n)
			return dl_err_set(reterr, negative_errno(), "%s: %s", dst, strerror(errno));
	}
}

/* The libraries ldd names for iscsistart, run inside the image: "/lib/x86_64-linux-gnu/
 * libc.so.6" and the loader. */
static int
iscsistart_libs(const struct disk_make_spec *s, char ***ret, size_t *ret_n,
    struct dl_err *reterr)
{
	_cleanup_free_ char *out = NULL, *buf = NULL;
	const char *argv[] = { CHROOT, s->rootfs, "/usr/bin/ldd", "/usr/sbin/iscsistart", NULL };
	char **v = NULL;
	size_t n = 0, len;
	int rc;

	if (asprintf(&out, "%s/ldd.out", s->work) < 0)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	rc = run(argv, NULL, out, reterr);
	if (rc >= 0)
		rc = read_file(out, MAX_LDD_OUTPUT, READ_FILE_REGULAR, &buf, &len, reterr);
	if (rc < 0)
		return dl_err_prefix(reterr, "iscsistart's libraries (is open-iscsi in packages?)");
	v = calloc(MAX_INITRD_LIBS, sizeof(*v));
	if (!v)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	char *save = NULL;

	/* strtok_r: the recipe hash may run on another thread during the build. */
	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *p = strchr(line, '/'), *e;

		if (!p || strstr(line, "not found")) {
			if (strstr(line, "not found")) {
				rc = dl_err_set(reterr, -ENOENT, "iscsistart: %s", line);
				break;
			}
			continue; /* linux-vdso.so.1 */
		}
		e = p + strcspn(p, " \t");
		*e = '\0';
		if (n >= MAX_INITRD_LIBS) {
			rc = dl_err_set(reterr, -E2BIG, "iscsistart needs more than %d libraries",
			    MAX_INITRD_LIBS);
			break;
		}
		if (strstr(p, "..") || !(v[n] = strdup(p))) {
			rc = dl_err_set(reterr, -EINVAL, "ldd: odd library path");
			break;
		}
		n++;
	}
	if (rc < 0) {
		for (size_t i = 0; i < n; i++)
			free(v[i]);
		free(v);
		return rc;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

/* The initramfs: our init script, busybox and iscsistart with its libraries from the
 * image, the resolved modules. */
static int
make_initrd(const struct disk_make_spec *s, const char *out, struct dl_err *reterr)
{
	struct initramfs_file files[2 + MAX_INITRD_LIBS];
	char *srcs[2 + MAX_INITRD_LIBS] = {};
	char **libs = NULL;
	size_t n_libs = 0, n = 0;
	_cleanup_free_ char *init = NULL;
	char tree[SHA256_HEX_SIZE];
	int rc;

	if (asprintf(&init, "%s/disk-init", s->work) < 0)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	rc = fsutil_write_file(init, DISK_INIT, strlen(DISK_INIT), 0755, reterr);
	if (rc >= 0)
		rc = iscsistart_libs(s, &libs, &n_libs, reterr);
	if (rc < 0)
		return rc;
	{
		static const char *const tools[][2] = { { "bin/busybox", "bin/busybox" },
			{ "usr/sbin/iscsistart", "sbin/iscsistart" } };
		for (size_t i = 0; i < 2 + n_libs && rc >= 0; i++) {
			const char *rel = i < 2 ? tools[i][0] : libs[i - 2] + 1;
			const char *dest = i < 2 ? tools[i][1] : libs[i - 2] + 1;

			if (asprintf(&srcs[n], "%s/initrd-file-%zu", s->work, i) < 0) {
				srcs[n] = NULL;
				rc = dl_err_set(reterr, -ENOMEM, "out of memory");
				break;
			}
			rc = copy_out(s->rootfs, rel, srcs[n], reterr);
			if (rc < 0 && i == 0)
				(void)dl_err_prefix(reterr, "busybox for the initramfs (is busybox-static "
				    "in packages?)");
			files[n] = (struct initramfs_file){ .src = srcs[n], .dest = dest, .mode = 0755 };
			n++;
		}
	}
	if (rc >= 0) {
		struct initramfs_spec spec = { .init = init, .kver = s->k->kver, .mods = s->mods,
			.zstd = s->k->rd_zstd, .files = files, .n_files = n };
		rc = initramfs_write(out, &spec, tree, reterr);
	}
	for (size_t i = 0; i < n; i++)
		free(srcs[i]);
	for (size_t i = 0; i < n_libs; i++)
		free(libs[i]);
	free(libs);
	return rc;
}

static int
write_mbr_code(const char *disk, struct dl_err *reterr)
{
	_cleanup_free_ char *code = NULL;
	_cleanup_close_ int fd = -1;
	size_t len;
	int rc;

	rc = read_file(SYSLINUX_MBR, 4096, READ_FILE_REGULAR, &code, &len, reterr);
	if (rc < 0)
		return dl_err_prefix(reterr, "syslinux's MBR code (apt-get install syslinux-common)");
	if (len > MBR_CODE_BYTES)
		return dl_err_set(reterr, -EINVAL, "%s: %zu bytes, more than the %d of an MBR's code",
		    SYSLINUX_MBR, len, MBR_CODE_BYTES);
	fd = open(disk, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || pwrite(fd, code, len, 0) != (ssize_t)len)
		return dl_err_set(reterr, negative_errno(), "%s: %s", disk, strerror(errno));
	return 0;
}

static int
make_file(const char *path, uint64_t size, struct dl_err *reterr)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || ftruncate(fd, (off_t)size) < 0)
		return dl_err_set(reterr, negative_errno(), "%s: %s", path, strerror(errno));
	return 0;
}

int
disk_make(const struct disk_make_spec *s, struct dl_err *reterr)
{
	static const struct { const char *prog, *pkg; } need[] = {
		{ SFDISK, "fdisk" }, { MKFS_VFAT, "dosfstools" }, { SYSLINUX, "syslinux" },
		{ MCOPY, "mtools" }, { MMD, "mtools" }, { MKFS_EXT4, "e2fsprogs" },
	};
	_cleanup_free_ char *script = NULL, *initrd = NULL, *sdboot = NULL, *root = NULL,
	    *img = NULL, *blocks = NULL, *offs = NULL, *boff = NULL, *scfg = NULL,
	    *lconf = NULL, *entry = NULL;
	char sf[512];
	struct disk_layout l;
	int rc, n;

	for (size_t i = 0; i < ELEMENTSOF(need); i++)
		if ((rc = tool_require(need[i].prog, need[i].pkg, reterr)) < 0)
			return rc;
	rc = disk_layout_make(s->size, &l, reterr);
	if (rc < 0)
		return rc;
	n = disk_sfdisk_script(&l, sf, sizeof(sf));
	if (n < 0)
		return dl_err_set(reterr, n, "sfdisk script too long");
	if (asprintf(&script, "%s/sfdisk.in", s->work) < 0 ||
	    asprintf(&initrd, "%s/initrd", s->work) < 0 ||
	    asprintf(&sdboot, "%s/BOOTX64.EFI", s->work) < 0 ||
	    asprintf(&root, "%s/root.ext4", s->work) < 0 ||
	    asprintf(&scfg, "%s/syslinux.cfg", s->work) < 0 ||
	    asprintf(&lconf, "%s/loader.conf", s->work) < 0 ||
	    asprintf(&entry, "%s/disk.conf", s->work) < 0 ||
	    asprintf(&img, "%s@@%llu", s->out, (unsigned long long)l.boot_start) < 0 ||
	    asprintf(&blocks, "%llu", (unsigned long long)(l.boot_size / 1024)) < 0 ||
	    asprintf(&offs, "%llu", (unsigned long long)(l.boot_start / DISK_SECTOR)) < 0 ||
	    asprintf(&boff, "%llu", (unsigned long long)l.boot_start) < 0)
		return dl_err_set(reterr, -ENOMEM, "out of memory");

	/* The initramfs and the UEFI loader, both from the image. */
	rc = make_initrd(s, initrd, reterr);
	if (rc < 0)
		return rc;
	rc = copy_out(s->rootfs, "usr/lib/systemd/boot/efi/systemd-bootx64.efi", sdboot, reterr);
	if (rc < 0)
		return dl_err_prefix(reterr, "systemd-boot (is systemd-boot-efi in packages?)");

	/* Partition table and the boot partition, in place in the sparse disk file. */
	rc = make_file(s->out, l.size, reterr);
	if (rc >= 0)
		rc = fsutil_write_file(script, sf, (size_t)n, 0644, reterr);
	if (rc >= 0) {
		const char *argv[] = { SFDISK, "-q", "--no-reread", "--no-tell-kernel", s->out, NULL };
		rc = tool_run_stdin(argv, NULL, NULL, script, s->log, DISK_TOOL_TIMEOUT_MS, reterr);
	}
	if (rc >= 0) {
		/* -h: the hidden sectors before the partition, which a BIOS loader needs. */
		const char *argv[] = { MKFS_VFAT, "-F", "16", "-n", "DLBOOT", "-i", "646c6b31",
			"--offset", offs, "-h", offs, s->out, blocks, NULL };
		rc = run(argv, NULL, s->log, reterr);
	}
	if (rc >= 0) {
		const char *argv[] = { SYSLINUX, "--install", "--offset", boff, s->out, NULL };
		rc = run(argv, NULL, s->log, reterr);
	}
	if (rc >= 0)
		rc = write_mbr_code(s->out, reterr);
	if (rc < 0)
		return rc;
	{
		static const char loader[] = "timeout 0\ndefault disk.conf\n";
		char *c1 = NULL, *c2 = NULL;
		int n1 = asprintf(&c1, "DEFAULT disk\nPROMPT 0\nTIMEOUT 0\nLABEL disk\n  KERNEL /vmlinuz\n"
		    "  INITRD /initrd\n  APPEND %s\n", s->cmdline);
		int n2 = asprintf(&c2, "title disk\nlinux /vmlinuz\ninitrd /initrd\noptions %s\n",
		    s->cmdline);

		if (n1 < 0)
			c1 = NULL;
		if (n2 < 0)
			c2 = NULL;
		rc = n1 < 0 || n2 < 0 ? dl_err_set(reterr, -ENOMEM, "out of memory") : 0;
		if (rc >= 0)
			rc = fsutil_write_file(scfg, c1, (size_t)n1, 0644, reterr);
		if (rc >= 0)
			rc = fsutil_write_file(entry, c2, (size_t)n2, 0644, reterr);
		if (rc >= 0)
			rc = fsutil_write_file(lconf, loader, strlen(loader), 0644, reterr);
		free(c1);
		free(c2);
		if (rc < 0)
			return rc;
	}
	{
		const char *mk[] = { MMD, "-i", img, "::/EFI", "::/EFI/BOOT", "::/loader",
			"::/loader/entries", NULL };
		const char *cp[][7] = {
			{ MCOPY, "-i", img, s->k->vmlinuz, "::/vmlinuz", NULL },
			{ MCOPY, "-i", img, initrd, "::/initrd", NULL },
			{ MCOPY, "-i", img, scfg, "::/syslinux.cfg", NULL },
			{ MCOPY, "-i", img, sdboot, "::/EFI/BOOT/BOOTX64.EFI", NULL },
			{ MCOPY, "-i", img, lconf, "::/loader/loader.conf", NULL },
			{ MCOPY, "-i", img, entry, "::/loader/entries/disk.conf", NULL },
		};
		rc = run(mk, mtools_env, s->log, reterr);
		for (size_t i = 0; i < ELEMENTSOF(cp) && rc >= 0; i++)
			rc = run(cp[i], mtools_env, s->log, reterr);
		if (rc < 0)
			return rc;
	}

	/* The root: ext4 made from the tree on its own file, then copied in, holes kept. */
	rc = make_file(root, l.root_size, reterr);
	if (rc >= 0) {
		const char *argv[] = { MKFS_EXT4, "-F", "-q", "-L", DISK_ROOT_LABEL, "-d", s->rootfs,
			root, NULL };
		rc = run(argv, NULL, s->log, reterr);
	}
	if (rc >= 0)
		rc = copy_into_sparse(root, s->out, l.root_start, reterr);
	(void)unlink(root); /* scratch; the work dir goes anyway */
	return rc;
}
