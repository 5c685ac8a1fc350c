/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fsutil.h"
#include "manifest.h"
#include "parse.h"
#include "readfile.h"
#include "store.h"

int
store_mktemp(const char *store, char **ret, struct dl_err *reterr)
{
	char *p;
	int rc;

	rc = fsutil_mkdir_p(store, 0755, reterr);
	if (rc < 0)
		return rc;
	if (asprintf(&p, "%s/.tmp-XXXXXX", store) < 0)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	if (!mkdtemp(p)) {
		rc = dl_err_set(reterr, negative_errno(), "mkdtemp in %s: %s", store, strerror(errno));
		free(p);
		return rc;
	}
	/* mkdtemp makes 0700; bootsvc may run unprivileged and must read the version. */
	(void)chmod(p, 0755);
	*ret = p;
	return 0;
}

int
store_find_latest(const char *store, const char *name, char id[static SHA256_HEX_SIZE],
    char recipe[static SHA256_HEX_SIZE], struct dl_err *reterr)
{
	char best_built[32] = "";
	struct dirent *de;
	DIR *d;
	int found = 0;

	d = opendir(store);
	if (!d)
		return errno == ENOENT ? 0 :
		    dl_err_set(reterr, negative_errno(), "%s: %s", store, strerror(errno));
	while ((de = readdir(d))) {
		_cleanup_free_ char *path = NULL, *buf = NULL;
		struct manifest m = {};
		struct dl_err ignored = {};
		size_t len;

		if (!sha256_hex_is_valid(de->d_name))
			continue;
		if (asprintf(&path, "%s/%s/manifest.json", store, de->d_name) < 0) {
			closedir(d);
			return dl_err_set(reterr, -ENOMEM, "out of memory");
		}
		if (read_file(path, MAX_MANIFEST_SIZE, READ_FILE_REGULAR, &buf, &len,
			&ignored) < 0 ||
		    manifest_parse(buf, len, &m, &ignored) < 0)
			continue;
		/* "built" is fixed-width UTC, so string order is time order; ties go to the
		 * larger id only to make the answer independent of readdir order. */
		if (streq(m.name, name) && (strcmp(m.built, best_built) > 0 ||
		    (streq(m.built, best_built) && strcmp(de->d_name, id) > 0))) {
			memcpy(best_built, m.built, sizeof(m.built));
			memcpy(id, de->d_name, SHA256_HEX_SIZE);
			memcpy(recipe, m.recipe_sha256, SHA256_HEX_SIZE);
			found = 1;
		}
		manifest_done(&m);
	}
	closedir(d);
	return found;
}

int
store_publish(const char *store, const char *tmp, const char *id, struct dl_err *reterr)
{
	_cleanup_close_ int dfd = -1;
	char dst[PATH_MAX];

	if ((size_t)snprintf(dst, sizeof(dst), "%s/%s", store, id) >= sizeof(dst))
		return dl_err_set(reterr, -ENAMETOOLONG, "%s: path too long", store);
	/* RENAME_NOREPLACE: two builds racing to the same id must not swap a directory that
	 * a node may be reading; the loser drops its copy. */
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dst, RENAME_NOREPLACE) < 0) {
		if (errno == EEXIST || errno == ENOTEMPTY) {
			(void)fsutil_rm_tree(tmp, NULL); /* only disk space is lost if this fails */
			return 1;
		}
		return dl_err_set(reterr, negative_errno(), "rename %s to %s: %s", tmp, dst,
		    strerror(errno));
	}
	/* The rename is durable only once the store directory itself is synced. */
	dfd = open(store, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		(void)fsync(dfd); /* best effort: the version is complete either way */
	return 0;
}
