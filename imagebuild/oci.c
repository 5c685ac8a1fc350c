/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>

#include "fsutil.h"
#include "log.h"
#include "oci.h"
#include "parse.h"
#include "readfile.h"

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"
/* Layers one image may have: Docker caps images at 127. */
#define MAX_OCI_LAYERS 128
/* index.json / manifest.json are small; a larger one is not an image description. */
#define MAX_OCI_JSON (4 * 1024 * 1024)
/* A directory tree deeper than this inside a layer is hostile, not a root file system. */
#define MAX_RM_DEPTH 256

static void
archive_read_freep(struct archive **a)
{
	if (*a)
		(void)archive_read_free(*a);
}

static void
archive_write_freep(struct archive **a)
{
	if (*a)
		(void)archive_write_free(*a);
}

/* Normalise a member name: strip "./" and leading '/', drop "." and empty parts, refuse
 * "..". Writes into buf; returns false for a name we must not touch. The root itself
 * ("./", what `tar -C dir .` writes first) gives "": callers skip it. */
static bool
member_name(const char *name, char *buf, size_t size)
{
	const char *p = name;
	size_t o = 0;

	while (*p == '/' || (p[0] == '.' && p[1] == '/'))
		p += *p == '/' ? 1 : 2;
	for (;;) {
		size_t n = strcspn(p, "/");
		if (n == 0) {
			if (!*p)
				break;
			p++;
			continue;
		}
		if ((n == 1 && p[0] == '.'))
			;
		else if (n == 2 && p[0] == '.' && p[1] == '.')
			return false;
		else {
			if (o + n + 2 > size)
				return false;
			if (o)
				buf[o++] = '/';
			memcpy(buf + o, p, n);
			o += n;
		}
		p += n;
		if (!*p)
			break;
		p++;
	}
	buf[o] = '\0';
	return true;
}

/* openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS): a whiteout must never reach outside the
 * rootfs through a symlink planted by a lower layer. glibc has no wrapper. */
static int
open_beneath(int rootfd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	return fd < 0 ? negative_errno() : fd;
}

static int rm_at(int dfd, const char *name, int depth);

/* Remove every entry of the directory fd (taken over: closed here), each at depth. */
static int
rm_children(int fd, int depth)
{
	struct dirent *de;
	DIR *d;
	int rc = 0;

	d = fdopendir(fd);
	if (!d) {
		rc = negative_errno();
		close(fd);
		return rc;
	}
	while (rc == 0 && (de = readdir(d)))
		if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
			rc = rm_at(dirfd(d), de->d_name, depth);
	closedir(d);
	return rc;
}

/* Remove name inside dirfd, recursively, never following symlinks. */
static int
rm_at(int dfd, const char *name, int depth)
{
	struct stat st;

	if (depth > MAX_RM_DEPTH)
		return -ELOOP;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : negative_errno();
	if (S_ISDIR(st.st_mode)) {
		int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int rc;

		if (fd < 0)
			return negative_errno();
		rc = rm_children(fd, depth + 1);
		if (rc < 0)
			return rc;
		return unlinkat(dfd, name, AT_REMOVEDIR) < 0 ? negative_errno() : 0;
	}
	return unlinkat(dfd, name, 0) < 0 ? negative_errno() : 0;
}

/* Empty the directory dir (relative to rootfd) but keep it: an opaque whiteout. */
static int
empty_dir(int rootfd, const char *dir)
{
	int fd = open_beneath(rootfd, dir, O_RDONLY | O_DIRECTORY);

	if (fd == -ENOENT || fd == -ENOTDIR)
		return 0;
	if (fd < 0)
		return fd;
	return rm_children(fd, 0);
}

static int
whiteout(int rootfd, const char *path, struct dl_err *reterr)
{
	char dir[PATH_MAX], q[MAX_LOG_VALUE + 1];
	const char *base = strrchr(path, '/');
	int rc;

	if (base) {
		memcpy(dir, path, (size_t)(base - path));
		dir[base - path] = '\0';
		base++;
	} else {
		strcpy(dir, ".");
		base = path;
	}
	if (streq(base, WH_OPAQUE)) {
		rc = empty_dir(rootfd, dir);
	} else {
		const char *victim = base + strlen(WH_PREFIX);
		int fd;

		if (!*victim || streq(victim, ".") || streq(victim, ".."))
			return dl_err_set(reterr, -EINVAL, "layer: bad whiteout '%s'",
			    log_safe(q, sizeof(q), path));
		fd = open_beneath(rootfd, dir, O_RDONLY | O_DIRECTORY);
		if (fd == -ENOENT || fd == -ENOTDIR)
			return 0; /* nothing below to hide */
		if (fd < 0)
			rc = fd;
		else {
			rc = rm_at(fd, victim, 0);
			close(fd);
		}
	}
	if (rc < 0)
		return dl_err_set(reterr, rc, "layer: whiteout '%s': %s", log_safe(q, sizeof(q), path),
		    strerror(-rc));
	return 0;
}

/* buf = a + "/" + b, or -ENAMETOOLONG: a truncated path would name another file. */
static int
join(char *buf, size_t size, const char *a, const char *b, struct dl_err *reterr)
{
	if ((size_t)snprintf(buf, size, "%s/%s", a, b) >= size)
		return dl_err_set(reterr, -ENAMETOOLONG, "path '%s/%s' too long", a, b);
	return 0;
}

static struct archive *
open_reader(const char *path)
{
	struct archive *a = archive_read_new();

	if (!a)
		return NULL;
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	(void)archive_read_open_filename(a, path, 1 << 16);
	return a;
}

/* Pass 1: whiteouts only, against the layers below (the rootfs as it is now). */
static int
apply_whiteouts(int rootfd, const char *layer, struct dl_err *reterr)
{
	_cleanup_(archive_read_freep) struct archive *a = open_reader(layer);
	struct archive_entry *e;
	char name[PATH_MAX];
	int r;

	if (!a)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *base;

		if (!member_name(archive_entry_pathname(e), name, sizeof(name)))
			continue; /* refused again, with a message, in pass 2 */
		base = strrchr(name, '/');
		base = base ? base + 1 : name;
		if (strncmp(base, WH_PREFIX, strlen(WH_PREFIX)) == 0) {
			int rc = whiteout(rootfd, name, reterr);
			if (rc < 0)
				return rc;
		}
	}
	if (r != ARCHIVE_EOF)
		return dl_err_set(reterr, -EIO, "%s: %s", layer, archive_error_string(a));
	return 0;
}

/* Pass 2: every other member, extracted with libarchive's confinement flags. */
static int
extract(const char *layer, struct dl_err *reterr)
{
	_cleanup_(archive_read_freep) struct archive *a = open_reader(layer);
	_cleanup_(archive_write_freep) struct archive *w = archive_write_disk_new();
	struct archive_entry *e;
	char name[PATH_MAX], q[MAX_LOG_VALUE + 1];
	int r;

	if (!a || !w)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	archive_write_disk_set_options(w, ARCHIVE_EXTRACT_SECURE_SYMLINKS |
	    ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS |
	    ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_TIME |
	    ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_UNLINK);
	/* Owners are numeric ids of the image, never looked up in the host's passwd. */
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *base, *link;

		if (!member_name(archive_entry_pathname(e), name, sizeof(name)))
			return dl_err_set(reterr, -EINVAL, "%s: member '%s' escapes the rootfs", layer,
			    log_safe(q, sizeof(q), archive_entry_pathname(e)));
		if (!name[0])
			continue; /* the root: it exists already, with the mode we gave it */
		base = strrchr(name, '/');
		base = base ? base + 1 : name;
		if (strncmp(base, WH_PREFIX, strlen(WH_PREFIX)) == 0)
			continue;
		archive_entry_set_pathname(e, name);
		link = archive_entry_hardlink(e);
		if (link) {
			char lname[PATH_MAX];
			if (!member_name(link, lname, sizeof(lname)) || !lname[0])
				return dl_err_set(reterr, -EINVAL, "%s: hard link '%s' escapes the rootfs",
				    layer, log_safe(q, sizeof(q), link));
			archive_entry_set_hardlink(e, lname);
		}
		if (archive_write_header(w, e) != ARCHIVE_OK)
			return dl_err_set(reterr, -EIO, "%s: '%s': %s", layer, log_safe(q, sizeof(q), name),
			    archive_error_string(w));
		if (archive_entry_size(e) > 0) {
			const void *buf;
			size_t len;
			la_int64_t off;

			while ((r = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK)
				if (archive_write_data_block(w, buf, len, off) != ARCHIVE_OK)
					return dl_err_set(reterr, -EIO, "%s: '%s': %s", layer,
					    log_safe(q, sizeof(q), name), archive_error_string(w));
			if (r != ARCHIVE_EOF)
				return dl_err_set(reterr, -EIO, "%s: %s", layer, archive_error_string(a));
		}
		if (archive_write_finish_entry(w) != ARCHIVE_OK)
			return dl_err_set(reterr, -EIO, "%s: '%s': %s", layer, log_safe(q, sizeof(q), name),
			    archive_error_string(w));
	}
	if (r != ARCHIVE_EOF)
		return dl_err_set(reterr, -EIO, "%s: %s", layer, archive_error_string(a));
	if (archive_write_close(w) != ARCHIVE_OK)
		return dl_err_set(reterr, -EIO, "%s: %s", layer, archive_error_string(w));
	return 0;
}

/* libarchive's disk writer resolves names against the working directory, and refuses
 * absolute ones (SECURE_NOABSOLUTEPATHS), so extraction runs with cwd = rootfs and the
 * old cwd is restored after. imagebuild is single-threaded, so nothing else sees it. */
static int
with_cwd(const char *dir, int (*fn)(const char *, struct dl_err *), const char *arg,
    struct dl_err *reterr)
{
	_cleanup_close_ int old = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (old < 0)
		return dl_err_set(reterr, negative_errno(), "open cwd: %s", strerror(errno));
	if (chdir(dir) < 0)
		return dl_err_set(reterr, negative_errno(), "%s: %s", dir, strerror(errno));
	rc = fn(arg, reterr);
	if (fchdir(old) < 0 && rc >= 0)
		rc = dl_err_set(reterr, negative_errno(), "restore cwd: %s", strerror(errno));
	return rc;
}

int
oci_apply_layer(const char *rootfs, const char *layer, struct dl_err *reterr)
{
	_cleanup_close_ int rootfd = -1;
	char abs[PATH_MAX];
	int rc;

	/* The layer path may be relative to the cwd we are about to leave. */
	if (!realpath(layer, abs))
		return dl_err_set(reterr, negative_errno(), "%s: %s", layer, strerror(errno));
	rootfd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return dl_err_set(reterr, negative_errno(), "%s: %s", rootfs, strerror(errno));
	rc = apply_whiteouts(rootfd, abs, reterr);
	if (rc < 0)
		return rc;
	return with_cwd(rootfs, extract, abs, reterr);
}

int
oci_unpack_tarball(const char *rootfs, const char *tarball, struct dl_err *reterr)
{
	return oci_apply_layer(rootfs, tarball, reterr);
}

static int
load_json(const char *path, json_t **ret, struct dl_err *reterr)
{
	_cleanup_free_ char *buf = NULL;
	json_error_t je;
	size_t len;
	int rc;

	rc = read_file(path, MAX_OCI_JSON, READ_FILE_REGULAR, &buf, &len, reterr);
	if (rc < 0)
		return rc;
	*ret = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!*ret)
		return dl_err_set(reterr, -EINVAL, "%s: line %d: %s", path, je.line, je.text);
	return 0;
}

/* "sha256:<64 hex>" -> <dir>/blobs/sha256/<hex>; anything else is refused, so a digest
 * can never name a path outside the layout. */
static int
blob_path(const char *dir, const char *digest, char *buf, size_t size, struct dl_err *reterr)
{
	char q[MAX_LOG_VALUE + 1];

	if (!digest || strncmp(digest, "sha256:", 7) || !sha256_hex_is_valid(digest + 7))
		return dl_err_set(reterr, -EINVAL, "OCI: digest '%s' is not sha256:<64 hex>",
		    log_safe(q, sizeof(q), digest));
	if ((size_t)snprintf(buf, size, "%s/blobs/sha256/%s", dir, digest + 7) >= size)
		return dl_err_set(reterr, -ENAMETOOLONG, "OCI: path too long");
	return 0;
}

static int
import_layout(const char *rootfs, const char *dir, struct dl_err *reterr)
{
	_cleanup_(json_decrefp) json_t *index = NULL, *man = NULL;
	char path[PATH_MAX];
	json_t *layers, *m;
	int rc;

	rc = join(path, sizeof(path), dir, "index.json", reterr);
	if (rc >= 0)
		rc = load_json(path, &index, reterr);
	if (rc < 0)
		return rc;
	m = json_array_get(json_object_get(index, "manifests"), 0);
	rc = blob_path(dir, json_string_value(json_object_get(m, "digest")), path, sizeof(path),
	    reterr);
	if (rc < 0)
		return dl_err_prefix(reterr, "%s/index.json: manifests[0]", dir);
	rc = load_json(path, &man, reterr);
	if (rc < 0)
		return rc;
	/* An index of manifests (multi-arch): take its first entry. */
	if (json_object_get(man, "manifests")) {
		json_t *inner = json_array_get(json_object_get(man, "manifests"), 0);
		rc = blob_path(dir, json_string_value(json_object_get(inner, "digest")), path,
		    sizeof(path), reterr);
		if (rc < 0)
			return rc;
		json_decref(man);
		man = NULL;
		rc = load_json(path, &man, reterr);
		if (rc < 0)
			return rc;
	}
	layers = json_object_get(man, "layers");
	if (!json_is_array(layers) || json_array_size(layers) > MAX_OCI_LAYERS)
		return dl_err_set(reterr, -EINVAL, "%s: 'layers' missing or over %d entries", path,
		    MAX_OCI_LAYERS);
	for (size_t i = 0; i < json_array_size(layers); i++) {
		char lp[PATH_MAX];
		rc = blob_path(dir, json_string_value(json_object_get(json_array_get(layers, i),
		    "digest")), lp, sizeof(lp), reterr);
		if (rc >= 0)
			rc = oci_apply_layer(rootfs, lp, reterr);
		if (rc < 0)
			return dl_err_prefix(reterr, "OCI layer %zu", i);
	}
	return 0;
}

/* docker save: manifest.json = [{"Config": ..., "Layers": ["<id>/layer.tar", ...]}] */
static int
import_docker(const char *rootfs, const char *dir, struct dl_err *reterr)
{
	_cleanup_(json_decrefp) json_t *man = NULL;
	char path[PATH_MAX], q[MAX_LOG_VALUE + 1];
	json_t *layers;
	int rc;

	rc = join(path, sizeof(path), dir, "manifest.json", reterr);
	if (rc >= 0)
		rc = load_json(path, &man, reterr);
	if (rc < 0)
		return rc;
	layers = json_object_get(json_array_get(man, 0), "Layers");
	if (!json_is_array(layers) || json_array_size(layers) > MAX_OCI_LAYERS)
		return dl_err_set(reterr, -EINVAL, "%s: [0].Layers missing or over %d entries", path,
		    MAX_OCI_LAYERS);
	for (size_t i = 0; i < json_array_size(layers); i++) {
		const char *l = json_string_value(json_array_get(layers, i));
		char name[PATH_MAX], lp[PATH_MAX];

		if (!l || !member_name(l, name, sizeof(name)) || !name[0])
			return dl_err_set(reterr, -EINVAL, "%s: Layers[%zu] '%s' is not a relative path",
			    path, i, log_safe(q, sizeof(q), l));
		rc = join(lp, sizeof(lp), dir, name, reterr);
		if (rc >= 0)
			rc = oci_apply_layer(rootfs, lp, reterr);
		if (rc < 0)
			return dl_err_prefix(reterr, "docker layer %zu", i);
	}
	return 0;
}

int
oci_import(const char *rootfs, const char *source, const char *workdir, struct dl_err *reterr)
{
	char dir[PATH_MAX], probe[PATH_MAX];
	struct stat st;
	int rc;

	if (stat(source, &st) < 0)
		return dl_err_set(reterr, negative_errno(), "%s: %s", source, strerror(errno));
	if (S_ISDIR(st.st_mode)) {
		if ((size_t)snprintf(dir, sizeof(dir), "%s", source) >= sizeof(dir))
			return dl_err_set(reterr, -ENAMETOOLONG, "'%s': path too long", source);
	} else {
		/* An archive of a layout or a docker save: unpack it (no whiteouts at this
		 * level, the same confinement) and read it as a directory. */
		rc = join(dir, sizeof(dir), workdir, "oci", reterr);
		if (rc >= 0)
			rc = fsutil_mkdir_p(dir, 0700, reterr);
		if (rc < 0)
			return rc;
		rc = oci_apply_layer(dir, source, reterr);
		if (rc < 0)
			return rc;
	}
	rc = join(probe, sizeof(probe), dir, "index.json", reterr);
	if (rc < 0)
		return rc;
	if (access(probe, F_OK) == 0)
		return import_layout(rootfs, dir, reterr);
	rc = join(probe, sizeof(probe), dir, "manifest.json", reterr);
	if (rc < 0)
		return rc;
	if (access(probe, F_OK) == 0)
		return import_docker(rootfs, dir, reterr);
	return dl_err_set(reterr, -EINVAL,
	    "%s: neither an OCI layout (index.json) nor a docker save (manifest.json)", source);
}
