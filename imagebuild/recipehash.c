/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "disk.h"
#include "recipehash.h"
#include "vmhost.h"

/* Deeper trees than this in an overlay are a symlink loop or a mistake. */
#define MAX_TREE_DEPTH 64

static void
feed_str(struct sha256_ctx *c, const char *tag, const char *s)
{
	/* Tag and NUL separators: "ab"+"c" and "a"+"bc" must hash differently. */
	sha256_update(c, tag, strlen(tag) + 1);
	sha256_update(c, s, strlen(s) + 1);
}

static int
feed_file(struct sha256_ctx *c, const char *path, struct dl_err *reterr)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	char buf[65536];
	ssize_t n;

	if (fd < 0)
		return dl_err_set(reterr, negative_errno(), "%s: %s", path, strerror(errno));
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return dl_err_set(reterr, negative_errno(), "%s: %s", path, strerror(errno));
		sha256_update(c, buf, (size_t)n);
	}
	return 0;
}

static int
byte_order(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int
feed_tree(struct sha256_ctx *c, const char *root, const char *rel, int depth,
    struct dl_err *reterr)
{
	char dir[PATH_MAX];
	struct dirent **ents = NULL;
	int n, rc = 0;

	if (depth > MAX_TREE_DEPTH)
		return dl_err_set(reterr, -ELOOP, "%s/%s: deeper than %d", root, rel, MAX_TREE_DEPTH);
	if ((size_t)snprintf(dir, sizeof(dir), "%s%s%s", root, *rel ? "/" : "", rel) >= sizeof(dir))
		return dl_err_set(reterr, -ENAMETOOLONG, "%s/%s: path too long", root, rel);
	n = scandir(dir, &ents, NULL, byte_order);
	if (n < 0)
		return errno == ENOENT && depth == 0 ? 0 :
		    dl_err_set(reterr, negative_errno(), "%s: %s", dir, strerror(errno));
	for (int i = 0; i < n; i++) {
		char path[PATH_MAX], sub[PATH_MAX], meta[64];
		const char *name = ents[i]->d_name;
		struct stat st;

		if (rc < 0 || streq(name, ".") || streq(name, ".."))
			goto next;
		if ((size_t)snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", name) >= sizeof(sub) ||
		    (size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path)) {
			rc = dl_err_set(reterr, -ENAMETOOLONG, "%s/%s: path too long", dir, name);
			goto next;
		}
		if (lstat(path, &st) < 0) {
			rc = dl_err_set(reterr, negative_errno(), "%s: %s", path, strerror(errno));
			goto next;
		}
		(void)snprintf(meta, sizeof(meta), "%o %u %u", (unsigned)st.st_mode,
		    (unsigned)st.st_uid, (unsigned)st.st_gid);
		feed_str(c, "path", sub);
		feed_str(c, "meta", meta);
		if (S_ISREG(st.st_mode)) {
			rc = feed_file(c, path, reterr);
		} else if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX];
			ssize_t tl = readlink(path, target, sizeof(target) - 1);
			if (tl < 0) {
				rc = dl_err_set(reterr, negative_errno(), "%s: %s", path, strerror(errno));
				goto next;
			}
			target[tl] = '\0';
			feed_str(c, "link", target);
		} else if (S_ISDIR(st.st_mode)) {
			rc = feed_tree(c, root, sub, depth + 1, reterr);
		}
next:
		free(ents[i]);
	}
	free(ents);
	return rc;
}

static int
feed_path(struct sha256_ctx *c, const char *tag, const char *path, struct dl_err *reterr)
{
	struct stat st;

	feed_str(c, "section", tag);
	if (stat(path, &st) < 0)
		return errno == ENOENT ? 0 :
		    dl_err_set(reterr, negative_errno(), "%s: %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode))
		return feed_tree(c, path, "", 0, reterr);
	return feed_file(c, path, reterr);
}

static char *
resolve(const struct recipe *r, const char *p)
{
	char *s;

	if (p[0] == '/')
		return strdup(p);
	return asprintf(&s, "%s/%s", r->dir, p) < 0 ? NULL : s;
}

int
recipehash_compute(const struct recipe *r, const char *init_path,
    char hex[static SHA256_HEX_SIZE], struct dl_err *reterr)
{
	_cleanup_free_ char *conf = NULL, *overlay = NULL, *templates = NULL, *source = NULL;
	uint8_t d[SHA256_DIGEST_SIZE];
	struct sha256_ctx c;
	int rc;

	if (asprintf(&conf, "%s/image.conf", r->dir) < 0)
		conf = NULL;
	overlay = resolve(r, r->overlay);
	templates = resolve(r, r->templates);
	if (r->source)
		source = resolve(r, r->source);
	if (!conf || !overlay || !templates || (r->source && !source))
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	sha256_init(&c);
	feed_str(&c, "diskless-recipe", "1");
	rc = feed_path(&c, "image.conf", conf, reterr);
	if (rc >= 0)
		rc = feed_path(&c, "overlay", overlay, reterr);
	if (rc >= 0)
		rc = feed_path(&c, "templates", templates, reterr);
	if (rc >= 0 && source)
		rc = feed_path(&c, "source", source, reterr);
	/* Our init is not in an iSCSI disk (nothing of ours runs on such a node): the disk's
	 * own initramfs script is, and it is imagebuild's, so a new one is a new image. */
	if (rc >= 0 && r->kind && kind_is_sanboot(r->kind))
		feed_str(&c, "disk-init", disk_init_text());
	else if (rc >= 0)
		rc = feed_path(&c, "init", init_path, reterr);
	/* a VM host's up script is imagebuild's, not the recipe's: a new one is a new image */
	for (size_t i = 0; rc >= 0 && r->kind && kind_is_vm_host(r->kind) && vmhost_file_text(i); i++)
		feed_str(&c, "vmhost", vmhost_file_text(i));
	if (rc < 0)
		return rc;
	sha256_final(&c, d);
	sha256_to_hex(d, hex);
	return 0;
}
