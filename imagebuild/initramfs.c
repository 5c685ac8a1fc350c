/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <archive.h>
#include <archive_entry.h>

#include "fsutil.h"
#include "initramfs.h"
#include "initrd_tree.h"
#include "readfile.h"

/* The largest module file accepted (amdgpu, the biggest in-tree module, is ~15 MB). */
#define MAX_MODULE_SIZE (64u * 1024 * 1024)
/* Longest /etc/diskless/modules text: a few hundred modules with paths. */
#define MAX_MODULE_LIST (256 * 1024)

static void
archive_write_freep(struct archive **a)
{
	if (*a)
		(void)archive_write_free(*a); /* error paths only; success closes first */
}

static void
archive_read_freep(struct archive **a)
{
	if (*a)
		(void)archive_read_free(*a);
}

static int
ar_err(struct archive *a, const char *what, struct dl_err *reterr)
{
	return dl_err_set(reterr, -EIO, "initrd: %s: %s", what, archive_error_string(a));
}

/* Write one member and record it in tree, so the tree hash covers exactly what the
 * archive holds, byte for byte and mode for mode. */
static int
add_entry(struct archive *a, struct initrd_tree *tree, const char *path, mode_t mode,
    dev_t rdev, const void *data, size_t len, struct dl_err *reterr)
{
	struct archive_entry *e = archive_entry_new();
	int rc = 0;

	if (!e)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	archive_entry_set_pathname(e, path);
	archive_entry_set_mode(e, mode);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_mtime(e, 0, 0);
	archive_entry_set_nlink(e, S_ISDIR(mode) ? 2 : 1);
	if (S_ISCHR(mode) || S_ISBLK(mode))
		archive_entry_set_rdev(e, rdev);
	archive_entry_set_size(e, S_ISREG(mode) ? (la_int64_t)len : 0);
	if (archive_write_header(a, e) != ARCHIVE_OK)
		rc = ar_err(a, path, reterr);
	else if (S_ISREG(mode) && len && archive_write_data(a, data, len) != (la_ssize_t)len)
		rc = ar_err(a, path, reterr);
	archive_entry_free(e);
	if (rc == 0)
		rc = initrd_tree_add(tree, path, mode, data, S_ISREG(mode) ? len : 0, reterr);
	return rc;
}

/* Read a module, decompressing .ko.xz/.ko.zst/.ko.gz: the init then needs no
 * decompressor, only finit_module(). libarchive's "raw" format applies any filter. */
static int
read_module(const char *path, char **ret, size_t *ret_len, struct dl_err *reterr)
{
	_cleanup_(archive_read_freep) struct archive *a = NULL;
	_cleanup_free_ char *buf = NULL;
	struct archive_entry *e;
	size_t len = 0, cap = 0;

	if (!strstr(path, ".ko.")) {
		return read_file(path, MAX_MODULE_SIZE, READ_FILE_REGULAR, ret, ret_len, reterr);
	}
	a = archive_read_new();
	if (!a)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	archive_read_support_filter_all(a);
	archive_read_support_format_raw(a);
	if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK ||
	    archive_read_next_header(a, &e) != ARCHIVE_OK)
		return dl_err_set(reterr, -EIO, "%s: %s", path, archive_error_string(a));
	for (;;) {
		la_ssize_t n;

		if (len == cap) {
			char *nb;
			cap = cap ? cap * 2 : 1 << 20;
			if (cap > MAX_MODULE_SIZE)
				return dl_err_set(reterr, -E2BIG, "%s: larger than %u bytes", path,
				    MAX_MODULE_SIZE);
			nb = realloc(buf, cap);
			if (!nb)
				return dl_err_set(reterr, -ENOMEM, "out of memory");
			buf = nb;
		}
		n = archive_read_data(a, buf + len, cap - len);
		if (n < 0)
			return dl_err_set(reterr, -EIO, "%s: %s", path, archive_error_string(a));
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

/* "kernel/fs/squashfs/squashfs.ko.xz" -> "kernel/fs/squashfs/squashfs.ko" */
static char *
module_dest(const char *kver, const char *rel)
{
	char *s;
	const char *ko = strstr(rel, ".ko.");
	int n = ko ? (int)(ko - rel) + 3 : (int)strlen(rel);

	if (asprintf(&s, "lib/modules/%s/%.*s", kver, n, rel) < 0)
		return NULL;
	return s;
}

/* Emit every parent directory of path not emitted yet (cpio needs them before files). */
static int
add_parents(struct archive *a, struct initrd_tree *tree, const char *path, char ***dirs,
    size_t *n_dirs, struct dl_err *reterr)
{
	for (const char *p = strchr(path, '/'); p; p = strchr(p + 1, '/')) {
		_cleanup_free_ char *d = strndup(path, (size_t)(p - path));
		bool seen = false;
		char **nd;
		int rc;

		if (!d)
			return dl_err_set(reterr, -ENOMEM, "out of memory");
		for (size_t i = 0; i < *n_dirs && !seen; i++)
			seen = streq((*dirs)[i], d);
		if (seen)
			continue;
		rc = add_entry(a, tree, d, S_IFDIR | 0755, 0, NULL, 0, reterr);
		if (rc < 0)
			return rc;
		nd = reallocarray(*dirs, *n_dirs + 1, sizeof(*nd));
		if (!nd)
			return dl_err_set(reterr, -ENOMEM, "out of memory");
		*dirs = nd;
		(*dirs)[(*n_dirs)++] = TAKE_PTR(d);
	}
	return 0;
}

int
initramfs_write(const char *out, const struct initramfs_spec *s,
    char ret_tree[static SHA256_HEX_SIZE], struct dl_err *reterr)
{
	static const char *const base_dirs[] = { "dev", "proc", "sys", "run", "newroot", "tmp" };
	_cleanup_(archive_write_freep) struct archive *a = NULL;
	_cleanup_free_ char *init = NULL, *list = NULL;
	struct initrd_tree tree = {};
	char **dirs = NULL;
	size_t n_dirs = 0, init_len, list_len = 0;
	int rc;

	rc = read_file(s->init, 16u * 1024 * 1024, READ_FILE_REGULAR, &init, &init_len, reterr);
	if (rc < 0)
		return rc;
	list = calloc(1, MAX_MODULE_LIST);
	if (!list)
		return dl_err_set(reterr, -ENOMEM, "out of memory");

	a = archive_write_new();
	if (!a)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	if (archive_write_set_format_cpio_newc(a) != ARCHIVE_OK)
		return ar_err(a, "newc format", reterr);
	if (s->zstd) {
		if (archive_write_add_filter_zstd(a) != ARCHIVE_OK)
			return ar_err(a, "zstd filter", reterr);
	} else {
		if (archive_write_add_filter_gzip(a) != ARCHIVE_OK)
			return ar_err(a, "gzip filter", reterr);
		/* No timestamp in the gzip header: equal inputs, equal initrd. */
		(void)archive_write_set_filter_option(a, "gzip", "timestamp", NULL);
	}
	if (archive_write_open_filename(a, out) != ARCHIVE_OK)
		return ar_err(a, out, reterr);

	for (size_t i = 0; i < ELEMENTSOF(base_dirs); i++) {
		rc = add_entry(a, &tree, base_dirs[i], S_IFDIR | 0755, 0, NULL, 0, reterr);
		if (rc < 0)
			goto out_dirs;
	}
	/* The kernel opens /dev/console for PID 1 before anything mounts devtmpfs. */
	rc = add_entry(a, &tree, "dev/console", S_IFCHR | 0600, makedev(5, 1), NULL, 0, reterr);
	if (rc < 0)
		goto out_dirs;
	rc = add_entry(a, &tree, "init", S_IFREG | 0755, 0, init, init_len, reterr);
	if (rc < 0)
		goto out_dirs;
	for (size_t i = 0; i < s->mods->n; i++) {
		_cleanup_free_ char *dest = module_dest(s->kver, s->mods->m[i].rel), *data = NULL;
		size_t len;
		int w;

		if (!dest) {
			rc = dl_err_set(reterr, -ENOMEM, "out of memory");
			goto out_dirs;
		}
		rc = add_parents(a, &tree, dest, &dirs, &n_dirs, reterr);
		if (rc < 0)
			goto out_dirs;
		rc = read_module(s->mods->m[i].path, &data, &len, reterr);
		if (rc < 0)
			goto out_dirs;
		rc = add_entry(a, &tree, dest, S_IFREG | 0644, 0, data, len, reterr);
		if (rc < 0)
			goto out_dirs;
		w = snprintf(list + list_len, MAX_MODULE_LIST - list_len, "/%s\n", dest);
		if (w < 0 || (size_t)w >= MAX_MODULE_LIST - list_len) {
			rc = dl_err_set(reterr, -E2BIG, "initrd: module list over %d bytes",
			    MAX_MODULE_LIST);
			goto out_dirs;
		}
		list_len += (size_t)w;
	}
	for (size_t i = 0; i < s->n_files; i++) {
		const struct initramfs_file *f = &s->files[i];
		_cleanup_free_ char *data = NULL;
		size_t len;

		rc = add_parents(a, &tree, f->dest, &dirs, &n_dirs, reterr);
		if (rc >= 0)
			rc = read_file(f->src, MAX_INITRAMFS_FILE, READ_FILE_REGULAR, &data, &len,
			    reterr);
		if (rc >= 0)
			rc = add_entry(a, &tree, f->dest, S_IFREG | (f->mode & 07777), 0, data, len,
			    reterr);
		if (rc < 0)
			goto out_dirs;
	}
	rc = add_parents(a, &tree, "etc/diskless/modules", &dirs, &n_dirs, reterr);
	if (rc < 0)
		goto out_dirs;
	rc = add_entry(a, &tree, "etc/diskless/modules", S_IFREG | 0644, 0, list, list_len, reterr);
	if (rc < 0)
		goto out_dirs;
	if (archive_write_close(a) != ARCHIVE_OK) {
		rc = ar_err(a, out, reterr);
		goto out_dirs;
	}
	rc = initrd_tree_hash(&tree, ret_tree, reterr);
out_dirs:
	initrd_tree_done(&tree);
	for (size_t i = 0; i < n_dirs; i++)
		free(dirs[i]);
	free(dirs);
	return rc;
}
