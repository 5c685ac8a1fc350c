/* SPDX-License-Identifier: MIT */
/* bootsvc/overlay.c overlay_add_site (the site_overlay key, docs/bootsvc.conf.md): every
 * regular file and symlink under the directory, at its relative path, permission bits
 * kept and owner root; no directory entries; a missing directory adds nothing; a file
 * too large is an error naming it. And overlay_build around it: the node's files, the
 * site's, then the image's templates rendered for the node. The archive is parsed back
 * as newc. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../bootsvc/bootsvc.h"
#include "../../bootsvc/config.h"
#include "../../bootsvc/boot/overlay.h"
#include "../../bootsvc/store/store.h"

struct entry {
	char name[256];
	unsigned mode, uid, gid, size;
	const char *data;
};

static unsigned
hex8(const char *p)
{
	char s[9];

	memcpy(s, p, 8);
	s[8] = '\0';
	return (unsigned)strtoul(s, NULL, 16);
}

/* Parse the archive (trailer excluded) into entries; returns the count. */
static size_t
parse(const struct cpio_buf *b, struct entry *ret, size_t max)
{
	size_t off = 0, n = 0;

	for (;;) {
		struct entry e = { 0 };
		unsigned namesize;

		assert_true(off + 110 <= b->len);
		assert_memory_equal(b->data + off, "070701", 6);
		e.mode = hex8(b->data + off + 14);
		e.uid = hex8(b->data + off + 22);
		e.gid = hex8(b->data + off + 30);
		e.size = hex8(b->data + off + 54);
		namesize = hex8(b->data + off + 94);
		off += 110;
		assert_true(namesize >= 1 && namesize <= sizeof(e.name) && off + namesize <= b->len);
		memcpy(e.name, b->data + off, namesize);
		off = (off + namesize + 3) & ~(size_t)3;
		assert_true(off + e.size <= b->len);
		e.data = b->data + off;
		off = (off + e.size + 3) & ~(size_t)3;
		if (strcmp(e.name, "TRAILER!!!") == 0)
			break;
		assert_true(n < max);
		ret[n++] = e;
	}
	assert_int_equal(off, b->len);
	return n;
}

static const struct entry *
find(const struct entry *e, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(e[i].name, name) == 0)
			return &e[i];
	return NULL;
}

static void
write_file(const char *dir, const char *rel, const char *text, mode_t mode)
{
	char path[512];
	int fd;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

static void
sub(char *out, size_t size, const char *dir, const char *rel)
{
	(void)snprintf(out, size, "%s/%s", dir, rel);
}

static void
rm_rf(const char *dir)
{
	char cmd[600];

	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void
test_site_tree(void **state)
{
	char dir[] = "/tmp/dl-test-site.XXXXXX", p[512];
	struct cpio_buf b = { 0 };
	struct dl_err err = { 0 };
	struct entry e[16];
	const struct entry *x;
	size_t n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	sub(p, sizeof(p), dir, "etc");
	assert_int_equal(mkdir(p, 0755), 0);
	sub(p, sizeof(p), dir, "etc/slurm");
	assert_int_equal(mkdir(p, 0700), 0);
	sub(p, sizeof(p), dir, "etc/munge");
	assert_int_equal(mkdir(p, 0700), 0);
	write_file(dir, "etc/slurm/slurm.conf", "ClusterName=dl\n", 0644);
	write_file(dir, "etc/munge/munge.key", "secret-key-bytes", 0400);
	write_file(dir, "etc/slurm/empty", "", 0640);
	write_file(dir, ".hidden", "dot files are sent too\n", 0600);
	sub(p, sizeof(p), dir, "etc/slurm/link");
	assert_int_equal(symlink("slurm.conf", p), 0);
	sub(p, sizeof(p), dir, "fifo");
	assert_int_equal(mkfifo(p, 0644), 0); /* skipped: not a file */

	assert_int_equal(overlay_add_site(&b, dir, &err), 0);
	assert_int_equal(cpio_finish(&b), 0);
	n = parse(&b, e, 16);
	assert_int_equal(n, 5); /* 4 files + 1 symlink, no directories, no fifo */
	for (size_t i = 0; i < n; i++) {
		assert_false(S_ISDIR(e[i].mode));
		assert_int_equal(e[i].uid, 0);
		assert_int_equal(e[i].gid, 0);
		assert_true(e[i].name[0] != '/');
	}
	x = find(e, n, "etc/slurm/slurm.conf");
	assert_non_null(x);
	assert_int_equal(x->mode, S_IFREG | 0644);
	assert_int_equal(x->size, strlen("ClusterName=dl\n"));
	assert_memory_equal(x->data, "ClusterName=dl\n", x->size);
	x = find(e, n, "etc/munge/munge.key");
	assert_non_null(x);
	assert_int_equal(x->mode, S_IFREG | 0400); /* a key stays unreadable to others */
	assert_memory_equal(x->data, "secret-key-bytes", 16);
	x = find(e, n, "etc/slurm/empty");
	assert_non_null(x);
	assert_int_equal(x->mode, S_IFREG | 0640);
	assert_int_equal(x->size, 0);
	x = find(e, n, "etc/slurm/link");
	assert_non_null(x);
	assert_int_equal(x->mode, S_IFLNK | 0777);
	assert_int_equal(x->size, strlen("slurm.conf"));
	assert_memory_equal(x->data, "slurm.conf", x->size);
	assert_non_null(find(e, n, ".hidden"));
	free(b.data);
	rm_rf(dir);
}

/* A site overlay that is not there (yet) adds nothing and is no error. */
static void
test_site_missing(void **state)
{
	struct cpio_buf b = { 0 };
	struct dl_err err = { 0 };

	(void)state;
	assert_int_equal(overlay_add_site(&b, "/nonexistent/dl-site-overlay", &err), 0);
	assert_int_equal(b.len, 0);
	free(b.data);
}

/* A file over the 1 MiB cap: an error naming it, not a silently missing file. */
static void
test_site_too_large(void **state)
{
	char dir[] = "/tmp/dl-test-site.XXXXXX", p[512];
	struct cpio_buf b = { 0 };
	struct dl_err err = { 0 };
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	sub(p, sizeof(p), dir, "big");
	fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 1024 * 1024 + 1), 0);
	assert_int_equal(close(fd), 0);
	assert_int_equal(overlay_add_site(&b, dir, &err), -EFBIG);
	assert_non_null(strstr(err.msg, "big"));
	free(b.data);
	rm_rf(dir);
}

/* The key: an absolute path, unset by default. */
static void
test_site_config(void **state)
{
	struct config c;
	struct dl_err err = { 0 };

	(void)state;
	config_init(&c);
	assert_string_equal(c.site_overlay, "");
	assert_int_equal(config_set(&c, "site_overlay", "/etc/diskless/site", &err), 0);
	assert_string_equal(c.site_overlay, "/etc/diskless/site");
	assert_int_equal(config_set(&c, "site_overlay", "site", &err), -EINVAL);
	assert_non_null(strstr(err.msg, "absolute"));
	assert_string_equal(c.site_overlay, "/etc/diskless/site");
}

/* The last entry of that name: the node's init lays members in order, so a later one
 * wins (the image's templates over the site's files). */
static const struct entry *
find_last(const struct entry *e, size_t n, const char *name)
{
	const struct entry *x = NULL;

	for (size_t i = 0; i < n; i++)
		if (strcmp(e[i].name, name) == 0)
			x = &e[i];
	return x;
}

static void
mkdir_at(const char *dir, const char *rel, mode_t mode)
{
	char p[512];

	sub(p, sizeof(p), dir, rel);
	assert_int_equal(mkdir(p, mode), 0);
}

/* overlay_build: the node's own files, the site's, and the image's templates rendered for
 * the node with their directories and modes; dot files, symlinks and a template that
 * names an unknown variable as the docs say (docs/images.md). */
static void
test_overlay_templates(void **state)
{
	char dir[] = "/tmp/dl-test-ovl.XXXXXX", p[600], want[512];
	struct bootsvc bs = { 0 };
	struct node_rec n = { .name = "n01", .ip = "10.0.0.10", .mac = "52:54:00:00:00:01",
		.token = "t0k" };
	struct image_rec img = { .name = "tiny", .id = "0123abcd" };
	struct dl_err err = { 0 };
	struct cpio_buf b = { 0 };
	struct entry e[32];
	const struct entry *x;
	size_t n_e;

	(void)state;
	assert_non_null(mkdtemp(dir));
	sub(p, sizeof(p), dir, "diskless.db");
	assert_int_equal(store_open(p, &bs.store, &err), 0);
	strcpy(bs.cfg.boot_url, "http://10.0.0.1:8080");
	sub(bs.cfg.site_overlay, sizeof(bs.cfg.site_overlay), dir, "site");
	mkdir_at(dir, "site", 0755);
	mkdir_at(dir, "site/etc", 0755);
	write_file(dir, "site/etc/motd", "from the site\n", 0644);
	write_file(dir, "site/etc/keep", "kept\n", 0640);
	sub(img.path, sizeof(img.path), dir, "img");
	mkdir_at(dir, "img", 0755);
	mkdir_at(dir, "img/templates", 0755);
	mkdir_at(dir, "img/templates/etc", 0755);
	mkdir_at(dir, "img/templates/etc/sub", 0700);
	write_file(dir, "img/templates/etc/motd",
	    "{{node}} boots {{image}}@{{image_id}} from {{server}}\n", 0644);
	write_file(dir, "img/templates/etc/sub/deep.conf", "ip={{ip}} mac={{mac}}", 0600);
	write_file(dir, "img/templates/etc/.motd.swp", "{{nonsense", 0644);
	sub(p, sizeof(p), dir, "img/templates/etc/link");
	assert_int_equal(symlink("/etc/passwd", p), 0);

	assert_int_equal(overlay_build(&bs, &n, &img, &b.data, &b.len, &err), 0);
	n_e = parse(&b, e, ELEMENTSOF(e));
	x = find(e, n_e, "etc/hostname");
	assert_non_null(x);
	assert_memory_equal(x->data, "n01\n", 4);
	x = find(e, n_e, "etc/diskless/node.conf");
	assert_non_null(x);
	assert_int_equal(x->mode, S_IFREG | 0600);
	x = find(e, n_e, "etc/keep");
	assert_non_null(x);
	assert_int_equal(x->mode, S_IFREG | 0640);
	x = find_last(e, n_e, "etc/motd");
	assert_non_null(x);
	(void)snprintf(want, sizeof(want), "n01 boots tiny@0123abcd from http://10.0.0.1:8080\n");
	assert_int_equal(x->size, strlen(want));
	assert_memory_equal(x->data, want, strlen(want));
	x = find(e, n_e, "etc/sub");
	assert_non_null(x);
	assert_int_equal(x->mode, S_IFDIR | 0755);
	x = find(e, n_e, "etc/sub/deep.conf");
	assert_non_null(x);
	assert_int_equal(x->mode, S_IFREG | 0600);
	assert_int_equal(x->size, strlen("ip=10.0.0.10 mac=52:54:00:00:00:01"));
	assert_memory_equal(x->data, "ip=10.0.0.10 mac=52:54:00:00:00:01", x->size);
	assert_null(find(e, n_e, "etc/.motd.swp"));
	assert_null(find(e, n_e, "etc/link"));
	free(b.data);

	/* a template naming an unknown variable fails the overlay, naming the file */
	write_file(dir, "img/templates/etc/bad", "x={{nosuch}}\n", 0644);
	b = (struct cpio_buf){ 0 };
	dl_err_clear(&err);
	assert_int_equal(overlay_build(&bs, &n, &img, &b.data, &b.len, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "template 'etc/bad'"));
	assert_null(b.data);

	overlay_hosts_done(&bs.hosts);
	store_close(bs.store);
	rm_rf(dir);
}

/* The /etc/hosts every overlay carries is read from the store at most once per
 * OVERLAY_HOSTS_MS (a reimage of N nodes asks N overlays): within that a node added since
 * is not in it yet, after it is. The cache is aged by hand: no test waits on a clock. */
static bool
hosts_has(const struct cpio_buf *b, const char *line)
{
	struct entry e[32];
	size_t n_e = parse(b, e, ELEMENTSOF(e));
	const struct entry *x = find(e, n_e, "etc/hosts");

	return x && memmem(x->data, x->size, line, strlen(line));
}

static void
test_overlay_hosts_cached(void **state)
{
	char dir[] = "/tmp/dl-test-ovl.XXXXXX", p[600];
	struct bootsvc bs = { 0 };
	struct node_rec n = { .name = "n01", .ip = "10.0.0.10", .mac = "52:54:00:00:00:01",
		.token = "t0k", .phase = "off" };
	struct node_rec m = { .name = "n02", .ip = "10.0.0.11", .mac = "52:54:00:00:00:02",
		.token = "t0k", .phase = "off" };
	struct image_rec img = { .name = "tiny", .id = "0123abcd" };
	struct dl_err err = { 0 };
	struct cpio_buf b = { 0 };

	(void)state;
	assert_non_null(mkdtemp(dir));
	sub(p, sizeof(p), dir, "diskless.db");
	assert_int_equal(store_open(p, &bs.store, &err), 0);
	strcpy(bs.cfg.boot_url, "http://10.0.0.1:8080");
	sub(img.path, sizeof(img.path), dir, "img");
	mkdir_at(dir, "img", 0755);
	assert_int_equal(store_node_insert(bs.store, &n, &err), 0);

	assert_int_equal(overlay_build(&bs, &n, &img, &b.data, &b.len, &err), 0);
	assert_true(hosts_has(&b, "10.0.0.10\tn01\n"));
	free(b.data);
	assert_int_equal(store_node_insert(bs.store, &m, &err), 0);
	b = (struct cpio_buf){ 0 };
	assert_int_equal(overlay_build(&bs, &n, &img, &b.data, &b.len, &err), 0);
	assert_true(hosts_has(&b, "10.0.0.10\tn01\n"));
	assert_false(hosts_has(&b, "10.0.0.11\tn02\n")); /* cached: not read again */
	free(b.data);
	bs.hosts.built_ms -= OVERLAY_HOSTS_MS;              /* a second later */
	b = (struct cpio_buf){ 0 };
	assert_int_equal(overlay_build(&bs, &n, &img, &b.data, &b.len, &err), 0);
	assert_true(hosts_has(&b, "10.0.0.11\tn02\n"));
	free(b.data);

	overlay_hosts_done(&bs.hosts);
	store_close(bs.store);
	rm_rf(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_site_tree),
		cmocka_unit_test(test_site_missing),
		cmocka_unit_test(test_site_too_large),
		cmocka_unit_test(test_site_config),
		cmocka_unit_test(test_overlay_templates),
		cmocka_unit_test(test_overlay_hosts_cached),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
