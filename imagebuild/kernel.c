/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "fsutil.h"
#include "kernel.h"
#include "readfile.h"

/* x86 boot protocol (Documentation/arch/x86/boot.rst): "HdrS" at 0x202; the u16 at 0x20e
 * points at the version string, relative to 0x200. */
#define BZ_MAGIC_OFF 0x202
#define BZ_VERSION_PTR_OFF 0x20e
#define BZ_SETUP_BASE 0x200
/* The string lies within the setup sectors, at most 64 sectors of 512 bytes. */
#define BZ_HEADER_READ (64 * 512)
/* A kernel config is a few hundred KB; this bounds a wrong path. */
#define MAX_KERNEL_CONFIG (4 * 1024 * 1024)

void
kernel_done(struct kernel *k)
{
	if (!k)
		return;
	free(k->kver);
	free(k->vmlinuz);
	free(k->moddir);
	free(k->config);
	memset(k, 0, sizeof(*k));
}

static int
read_banner(const char *path, char *out, size_t size, struct dl_err *reterr)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ uint8_t *buf = NULL;
	ssize_t n;
	size_t off, i;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return dl_err_set(reterr, negative_errno(), "%s: %s", path, strerror(errno));
	buf = malloc(BZ_HEADER_READ);
	if (!buf)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	n = pread(fd, buf, BZ_HEADER_READ, 0);
	if (n < 0)
		return dl_err_set(reterr, negative_errno(), "%s: %s", path, strerror(errno));
	if (n < BZ_VERSION_PTR_OFF + 2 || memcmp(buf + BZ_MAGIC_OFF, "HdrS", 4))
		return dl_err_set(reterr, -EINVAL, "%s: not a bzImage (no HdrS header)", path);
	off = BZ_SETUP_BASE + (size_t)(buf[BZ_VERSION_PTR_OFF] | buf[BZ_VERSION_PTR_OFF + 1] << 8);
	if (off >= (size_t)n)
		return dl_err_set(reterr, -EINVAL, "%s: version string outside the setup header", path);
	for (i = 0; off + i < (size_t)n && buf[off + i] && i < size - 1; i++) {
		if (buf[off + i] < 0x20 || buf[off + i] >= 0x7f)
			return dl_err_set(reterr, -EINVAL, "%s: version string is not printable", path);
		out[i] = (char)buf[off + i];
	}
	out[i] = '\0';
	if (i == 0)
		return dl_err_set(reterr, -EINVAL, "%s: empty version string", path);
	return 0;
}

static bool
config_has(const char *buf, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = buf; (p = strstr(p, line)); p += n)
		if ((p == buf || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

int
kernel_find(const char *root, struct kernel *ret, struct dl_err *reterr)
{
	_cleanup_free_ char *bootdir = NULL, *best = NULL;
	struct kernel k = {};
	struct dirent *de;
	DIR *d;
	int rc;

	if (asprintf(&bootdir, "%s/boot", root) < 0)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	d = opendir(bootdir);
	if (!d)
		return dl_err_set(reterr, -ENOENT, "no kernel: %s: %s", bootdir, strerror(errno));
	while ((de = readdir(d))) {
		_cleanup_free_ char *moddir = NULL;
		const char *v;
		struct stat st;

		if (strncmp(de->d_name, "vmlinuz-", 8))
			continue;
		v = de->d_name + 8;
		if (asprintf(&moddir, "%s/lib/modules/%s", root, v) < 0) {
			closedir(d);
			return dl_err_set(reterr, -ENOMEM, "out of memory");
		}
		if (stat(moddir, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		if (!best || strverscmp(v, best) > 0) {
			free(best);
			best = strdup(v);
			if (!best) {
				closedir(d);
				return dl_err_set(reterr, -ENOMEM, "out of memory");
			}
		}
	}
	closedir(d);
	if (!best)
		return dl_err_set(reterr, -ENOENT,
		    "no kernel in %s: need boot/vmlinuz-<kver> and lib/modules/<kver>/", root);
	if (asprintf(&k.vmlinuz, "%s/boot/vmlinuz-%s", root, best) < 0 ||
	    asprintf(&k.moddir, "%s/lib/modules/%s", root, best) < 0) {
		kernel_done(&k);
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	}
	k.kver = TAKE_PTR(best);
	rc = read_banner(k.vmlinuz, k.banner, sizeof(k.banner), reterr);
	if (rc < 0) {
		kernel_done(&k);
		return rc;
	}
	if (asprintf(&k.config, "%s/boot/config-%s", root, k.kver) < 0) {
		k.config = NULL;
		kernel_done(&k);
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	}
	{
		_cleanup_free_ char *cfg = NULL;
		struct dl_err ignored = {};

		/* Without a config we cannot know; gzip is what every kernel unpacks. */
		if (read_file(k.config, MAX_KERNEL_CONFIG, READ_FILE_REGULAR, &cfg, NULL,
		    &ignored) < 0) {
			free(k.config);
			k.config = NULL;
		} else {
			k.rd_zstd = config_has(cfg, "CONFIG_RD_ZSTD=y");
		}
	}
	*ret = k;
	return 0;
}
