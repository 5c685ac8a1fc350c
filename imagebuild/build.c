/* SPDX-License-Identifier: MIT */
#include <assert.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>

#include "aptsrc.h"
#include "build.h"
#include "disk.h"
#include "fsutil.h"
#include "hypervisor.h"
#include "initramfs.h"
#include "kernel.h"
#include "kind.h"
#include "kmod.h"
#include "log.h"
#include "manifest.h"
#include "recipe.h"
#include "recipehash.h"
#include "rootfs.h"
#include "squashfs.h"
#include "store.h"
#include "vmhost.h"

enum step {
	STEP_RECIPE, STEP_ROOTFS, STEP_KERNEL, STEP_OVERLAY, STEP_REPORTER, STEP_SQUASHFS,
	STEP_INITRD, STEP_TEMPLATES, STEP_MANIFEST, _STEP_MAX,
};

static const char *const step_names[_STEP_MAX] = {
	[STEP_RECIPE] = "recipe", [STEP_ROOTFS] = "rootfs", [STEP_KERNEL] = "kernel",
	[STEP_OVERLAY] = "overlay", [STEP_REPORTER] = "reporter", [STEP_SQUASHFS] = "squashfs",
	[STEP_INITRD] = "initrd", [STEP_TEMPLATES] = "templates", [STEP_MANIFEST] = "publish",
};

struct build {
	const struct build_opts *o;
	struct recipe r;
	struct kernel k;
	struct kmod_set mods;
	struct manifest m;
	char *work, *rootfs, *log, *tmp, *mirror;
	bool rootfs_mounted;        /* rootfs is an overlay mount over a directory base */
	/* With --force the recipe hash decides nothing until the manifest: it is computed on
	 * a thread while the rootfs is made and squashed (both read the same tree, the
	 * second time from the page cache). */
	pthread_t hash_thread;
	bool hash_running;
	int hash_rc;
	char hash_hex[SHA256_HEX_SIZE];
	struct dl_err hash_err;
	time_t t0;
};

static void
step_show(const struct build *b, enum step s, const char *what)
{
	/* An iSCSI disk is written where other kinds squash their rootfs. */
	const char *name = s == STEP_SQUASHFS && b->m.kind && kind_is_sanboot(b->m.kind) ?
	    "disk" : step_names[s];

	(void)fprintf(stderr, "imagebuild: [%d/%d] %-9s %s (%lds)\n", (int)s + 1, _STEP_MAX,
	    name, what, (long)(time(NULL) - b->t0));
}


/* Every failure names its step; the tool and output come from tool_run's message. */
static int
step_fail(enum step s, int rc, struct dl_err *reterr)
{
	(void)dl_err_prefix(reterr, "step %s failed", step_names[s]);
	return rc;
}

static char *
path_join(const char *a, const char *b)
{
	char *s;

	return asprintf(&s, "%s/%s", a, b) < 0 ? NULL : s;
}

/* Templates: regular files under the recipe's templates dir, copied into the version and
 * listed in the manifest in byte order of their paths. */
static struct manifest *tpl_m;
static const char *tpl_root;
static const char *tpl_dst;
static struct dl_err *tpl_err;

static int
tpl_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	struct manifest_template *t;
	const char *rel = path + strlen(tpl_root) + 1;
	_cleanup_free_ char *dst = NULL;
	int rc;

	(void)ftw;
	if (flag == FTW_D || flag == FTW_DP)
		return 0;
	if (flag != FTW_F || !S_ISREG(st->st_mode))
		return dl_err_set(tpl_err, -EINVAL, "template '%s' is not a regular file", path);
	if (tpl_m->n_templates >= MAX_MANIFEST_TEMPLATES)
		return dl_err_set(tpl_err, -E2BIG, "more than %d templates", MAX_MANIFEST_TEMPLATES);
	t = reallocarray(tpl_m->templates, tpl_m->n_templates + 1, sizeof(*t));
	if (!t)
		return dl_err_set(tpl_err, -ENOMEM, "out of memory");
	tpl_m->templates = t;
	t = &t[tpl_m->n_templates];
	memset(t, 0, sizeof(*t));
	t->path = strdup(rel);
	dst = path_join(tpl_dst, rel);
	if (!t->path || !dst) {
		free(t->path);
		return dl_err_set(tpl_err, -ENOMEM, "out of memory");
	}
	tpl_m->n_templates++;
	{
		_cleanup_free_ char *dir = strdup(dst);
		char *slash = dir ? strrchr(dir, '/') : NULL;
		if (!dir)
			return dl_err_set(tpl_err, -ENOMEM, "out of memory");
		if (slash)
			*slash = '\0';
		rc = fsutil_mkdir_p(dir, 0755, tpl_err);
	}
	if (rc >= 0)
		rc = fsutil_copy_file(path, dst, tpl_err);
	if (rc >= 0)
		rc = fsutil_sha256_file(dst, t->sha256, &t->size, tpl_err);
	return rc;
}

static int
tpl_cmp(const void *a, const void *b)
{
	return strcmp(((const struct manifest_template *)a)->path,
	    ((const struct manifest_template *)b)->path);
}

static int
copy_templates(struct build *b, struct dl_err *reterr)
{
	_cleanup_free_ char *src = NULL, *dst = NULL;
	struct stat st;
	int rc;

	src = b->r.templates[0] == '/' ? strdup(b->r.templates) : path_join(b->r.dir, b->r.templates);
	dst = path_join(b->tmp, "templates");
	if (!src || !dst)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	if (stat(src, &st) < 0 && errno == ENOENT)
		return 0;
	tpl_m = &b->m;
	tpl_root = src;
	tpl_dst = dst;
	tpl_err = reterr;
	/* nftw returns our callback's -errno unchanged; -1 is its own failure. */
	rc = nftw(src, tpl_one, 32, FTW_PHYS);
	if (rc == -1)
		return dl_err_set(reterr, negative_errno(), "%s: %s", src, strerror(errno));
	if (rc < 0)
		return rc;
	qsort(b->m.templates, b->m.n_templates, sizeof(*b->m.templates), tpl_cmp);
	return 0;
}

/* The path of role's file in the version being built: the name the kind table gives it
 * (every role imagebuild writes is one of its kind's, so the row has it). */
static char *
role_path(const struct build *b, const char *role)
{
	const struct kind_role *r = kind_role(b->m.kind, role);

	assert(r);
	return path_join(b->tmp, r->file);
}

/* Hash every file of the kind's roles into the manifest; an optional role whose file the
 * build did not write is left out. */
static int
hash_roles(struct build *b, struct dl_err *reterr)
{
	for (size_t i = 0; i < kind_n_roles(b->m.kind); i++) {
		const struct kind_role *r = &b->m.kind->roles[i];
		_cleanup_free_ char *p = path_join(b->tmp, r->file);
		char sha[SHA256_HEX_SIZE];
		uint64_t size;
		int rc;

		if (!p)
			return dl_err_set(reterr, -ENOMEM, "out of memory");
		if (!(r->flags & KIND_ROLE_REQUIRED) && access(p, F_OK) < 0 && errno == ENOENT)
			continue;
		rc = fsutil_sha256_file(p, sha, &size, reterr);
		if (rc < 0)
			return rc;
		rc = manifest_file_set(&b->m, r->name, sha, size);
		if (rc < 0)
			return dl_err_set(reterr, rc, "manifest: cannot list role '%s'", r->name);
	}
	return 0;
}

static int
choose_kernel(struct build *b, struct dl_err *reterr, enum build_exit *ex)
{
	_cleanup_free_ char *tree = NULL;
	int rc;

	if (b->r.base == RECIPE_BASE_DEBOOTSTRAP && !recipe_kernel_is_path(&b->r))
		return kernel_find(b->rootfs, &b->k, reterr);
	if (recipe_kernel_is_path(&b->r))
		tree = b->r.kernel[0] == '/' ? strdup(b->r.kernel) : path_join(b->r.dir, b->r.kernel);
	else
		tree = strdup(b->o->kernel_dir);
	if (!tree)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	rc = kernel_find(tree, &b->k, reterr);
	if (rc == -ENOENT) {
		*ex = BUILD_EXIT_PREREQ;
		(void)dl_err_prefix(reterr, "kernel tree '%s' (run mk/fetch-kernel.sh or make deps)",
		    tree);
	}
	return rc;
}

static void *
recipe_hash_thread(void *userdata)
{
	struct build *b = userdata;

	b->hash_rc = recipehash_compute(&b->r, b->o->init, b->hash_hex, &b->hash_err);
	return NULL;
}

/* Wait for the recipe hash thread (if one runs) and take its result. */
static int
recipe_hash_join(struct build *b, char hex[static SHA256_HEX_SIZE], struct dl_err *reterr)
{
	if (!b->hash_running)
		return 0;
	(void)pthread_join(b->hash_thread, NULL);
	b->hash_running = false;
	if (b->hash_rc < 0) {
		if (reterr)
			*reterr = b->hash_err;
		return b->hash_rc;
	}
	memcpy(hex, b->hash_hex, SHA256_HEX_SIZE);
	return 0;
}

static int publish(struct build *b, struct build_result *ret, struct dl_err *reterr);
static int build_disk_make(struct build *b, struct build_result *ret, struct dl_err *reterr);

/* base=disk: the admin's golden disk into the version as it is (raw, holes kept). */
static int
build_disk_import(struct build *b, struct build_result *ret, struct dl_err *reterr)
{
	_cleanup_free_ char *src = NULL, *out = NULL;
	int rc;

	src = b->r.source[0] == '/' ? strdup(b->r.source) : path_join(b->r.dir, b->r.source);
	if (!src)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	rc = store_mktemp(b->o->store, &b->tmp, reterr);
	if (rc < 0)
		return step_fail(STEP_SQUASHFS, rc, reterr);
	out = role_path(b, "disk");
	if (!out)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	step_show(b, STEP_SQUASHFS, src);
	/* The tool log goes next to the version being built: no work dir for an import. */
	if (asprintf(&b->log, "%s/import.log", b->tmp) < 0) {
		b->log = NULL;
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	}
	rc = disk_import(src, out, b->log, reterr);
	(void)unlink(b->log);
	if (rc < 0)
		return step_fail(STEP_SQUASHFS, rc, reterr);
	/* The disk holds its own kernel and command line; the manifest names none. */
	b->m.kernel_version = strdup("");
	b->m.kernel_banner = strdup("");
	free(b->r.cmdline);
	b->r.cmdline = strdup("");
	if (!b->m.kernel_version || !b->m.kernel_banner || !b->r.cmdline)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	return publish(b, ret, reterr);
}

/* 8. templates, 9. manifest and publish: the same for every kind. */
static int
publish(struct build *b, struct build_result *ret, struct dl_err *reterr)
{
	char recipe_hash[SHA256_HEX_SIZE];
	int rc;

	/* Computed already, or by the thread that recipe_hash_join() waits for. */
	memcpy(recipe_hash, b->hash_hex, sizeof(recipe_hash));
	/* 8. templates */
	step_show(b, STEP_TEMPLATES, b->r.templates);
	rc = copy_templates(b, reterr);
	if (rc < 0)
		return step_fail(STEP_TEMPLATES, rc, reterr);

	/* 9. manifest and publish */
	{
		_cleanup_free_ char *canon = NULL, *mpath = NULL;
		time_t now = time(NULL);
		struct tm tm;

		b->m.name = strdup(b->r.name);
		if (!b->m.kernel_version)
			b->m.kernel_version = strdup(b->k.kver);
		if (!b->m.kernel_banner)
			b->m.kernel_banner = strdup(b->k.banner);
		if (b->r.up_probe && !(b->m.up_probe = strdup(b->r.up_probe)))
			return dl_err_set(reterr, -ENOMEM, "out of memory");
		b->m.cmdline = strdup(b->r.cmdline);
		if (!b->m.name || !b->m.kernel_version || !b->m.kernel_banner || !b->m.cmdline ||
		    !gmtime_r(&now, &tm))
			return dl_err_set(reterr, -ENOMEM, "out of memory");
		(void)strftime(b->m.built, sizeof(b->m.built), "%Y-%m-%dT%H:%M:%SZ", &tm);
		rc = recipe_hash_join(b, recipe_hash, reterr);
		if (rc < 0)
			return step_fail(STEP_RECIPE, rc, reterr);
		memcpy(b->m.recipe_sha256, recipe_hash, sizeof(recipe_hash));
		rc = hash_roles(b, reterr);
		if (rc < 0)
			return step_fail(STEP_MANIFEST, rc, reterr);
		rc = manifest_canonical(&b->m, &canon, reterr);
		if (rc >= 0)
			rc = manifest_id(&b->m, ret->id, reterr);
		if (rc < 0)
			return step_fail(STEP_MANIFEST, rc, reterr);
		/* The file is the canonical form itself, so `sha256sum manifest.json` is the id. */
		mpath = path_join(b->tmp, "manifest.json");
		if (!mpath)
			return dl_err_set(reterr, -ENOMEM, "out of memory");
		rc = fsutil_write_file(mpath, canon, strlen(canon), 0644, reterr);
		if (rc < 0)
			return step_fail(STEP_MANIFEST, rc, reterr);
		step_show(b, STEP_MANIFEST, ret->id);
		rc = store_publish(b->o->store, b->tmp, ret->id, reterr);
		if (rc < 0)
			return step_fail(STEP_MANIFEST, rc, reterr);
		if (rc > 0)
			(void)fprintf(stderr, "imagebuild: version %s already existed, kept as is\n",
			    ret->id);
		free(b->tmp);
		b->tmp = NULL;
	}
	return 0;
}

/* debootstrap with kind iscsi: the rootfs, kernel and overlay are done; the disk
 * replaces squashfs and initrd. */
static int
build_disk_make(struct build *b, struct build_result *ret, struct dl_err *reterr)
{
	_cleanup_free_ char *out = NULL;
	char what[128];
	int rc;

	rc = store_mktemp(b->o->store, &b->tmp, reterr);
	if (rc < 0)
		return step_fail(STEP_SQUASHFS, rc, reterr);
	out = role_path(b, "disk");
	if (!out)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	(void)snprintf(what, sizeof(what), "disk.img %llu MiB, %zu initrd modules",
	    (unsigned long long)(b->r.disk_size >> 20), b->mods.n);
	step_show(b, STEP_SQUASHFS, what);
	struct disk_make_spec spec = { .rootfs = b->rootfs, .work = b->work, .log = b->log,
		.out = out, .size = b->r.disk_size, .k = &b->k, .mods = &b->mods,
		.cmdline = b->r.cmdline };
	rc = disk_make(&spec, reterr);
	if (rc < 0)
		return step_fail(STEP_SQUASHFS, rc, reterr);
	return publish(b, ret, reterr);
}

static void
build_done(struct build *b, bool keep_work)
{
	char unused[SHA256_HEX_SIZE];

	(void)recipe_hash_join(b, unused, NULL); /* it reads b->r: before recipe_done() */
	/* Before any removal: through the mount, rm would reach into the source. */
	if (b->rootfs_mounted && umount2(b->rootfs, MNT_DETACH) < 0)
		(void)fprintf(stderr, "imagebuild: umount %s: %s\n", b->rootfs, strerror(errno));
	b->rootfs_mounted = false;
	if (b->tmp)
		(void)fsutil_rm_tree(b->tmp, NULL); /* a leftover .tmp-* is ignored by readers */
	if (b->work && !keep_work)
		(void)fsutil_rm_tree(b->work, NULL); /* as above: scratch space only */
	else if (b->work)
		(void)fprintf(stderr, "imagebuild: work directory kept for inspection: %s\n", b->work);
	free(b->work);
	free(b->rootfs);
	free(b->log);
	free(b->tmp);
	free(b->mirror);
	recipe_done(&b->r);
	kernel_done(&b->k);
	kmod_set_done(&b->mods);
	manifest_done(&b->m);
}

static int
build_steps(struct build *b, struct build_result *ret, enum build_exit *ex, struct dl_err *reterr)
{
	const struct build_opts *o = b->o;
	char recipe_hash[SHA256_HEX_SIZE], old_id[SHA256_HEX_SIZE], old_recipe[SHA256_HEX_SIZE];
	int rc;

	/* 1. recipe; its kind (default linux) decides the files and steps */
	*ex = BUILD_EXIT_USAGE;
	rc = recipe_load(o->recipe_dir, &b->r, reterr);
	if (rc < 0)
		return rc;
	b->m.kind = b->r.kind;
	assert(b->m.kind);
	step_show(b, STEP_RECIPE, o->recipe_dir);
	*ex = BUILD_EXIT_PREREQ;
	if (!kind_is_sanboot(b->m.kind) && access(o->init, R_OK) < 0)
		return dl_err_set(reterr, -ENOENT,
		    "the node init '%s' is missing: build it with 'make build/init' (initramfs/), or pass --init",
		    o->init);
	*ex = BUILD_EXIT_FAILED;
	if (o->force) {
		rc = -pthread_create(&b->hash_thread, NULL, recipe_hash_thread, b);
		if (rc < 0)
			return step_fail(STEP_RECIPE, dl_err_set(reterr, rc, "starting the recipe "
			    "hash: %s", strerror(-rc)), reterr);
		b->hash_running = true;
		rc = 0;
	} else {
		rc = recipehash_compute(&b->r, o->init, recipe_hash, reterr);
		if (rc < 0)
			return step_fail(STEP_RECIPE, rc, reterr);
		memcpy(b->hash_hex, recipe_hash, sizeof(recipe_hash)); /* for publish() */
		rc = store_find_latest(o->store, b->r.name, old_id, old_recipe, reterr);
		if (rc < 0)
			return step_fail(STEP_RECIPE, rc, reterr);
	}
	if (rc > 0 && streq(old_recipe, recipe_hash) && !o->force) {
		(void)fprintf(stderr,
		    "imagebuild: image '%s' is up to date (recipe %.12s unchanged), not rebuilt; --force rebuilds\n",
		    b->r.name, recipe_hash);
		memcpy(ret->id, old_id, sizeof(ret->id));
		ret->up_to_date = true;
		*ex = BUILD_EXIT_OK;
		return 0;
	}
	if (b->r.base == RECIPE_BASE_DISK)
		return build_disk_import(b, ret, reterr);
	if (b->r.base == RECIPE_BASE_DEBOOTSTRAP) {
		if (b->r.mirror)
			b->mirror = strdup(b->r.mirror);
		else if ((rc = aptsrc_default_mirror(o->etc_apt, b->r.suite, &b->mirror, reterr)) < 0)
			return step_fail(STEP_RECIPE, rc, reterr);
		if (!b->mirror)
			return dl_err_set(reterr, -ENOMEM, "out of memory");
	}

	/* 2. rootfs, in a scratch dir */
	rc = fsutil_mkdir_p(o->work, 0755, reterr);
	if (rc < 0)
		return step_fail(STEP_ROOTFS, rc, reterr);
	if (asprintf(&b->work, "%s/imagebuild-%s-XXXXXX", o->work, b->r.name) < 0)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	if (!mkdtemp(b->work)) {
		free(b->work);
		b->work = NULL;
		return step_fail(STEP_ROOTFS, dl_err_set(reterr, negative_errno(), "mkdtemp in %s: %s",
		    o->work, strerror(errno)), reterr);
	}
	b->rootfs = path_join(b->work, "rootfs");
	b->log = path_join(b->work, "build.log");
	if (!b->rootfs || !b->log)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	if (mkdir(b->rootfs, 0755) < 0)
		return step_fail(STEP_ROOTFS, dl_err_set(reterr, negative_errno(), "mkdir %s: %s",
		    b->rootfs, strerror(errno)), reterr);
	{
		char what[PATH_MAX + 64];
		(void)snprintf(what, sizeof(what), "base=%s%s%s (log %s)",
		    recipe_base_to_string(b->r.base), b->mirror ? " mirror=" : "",
		    b->mirror ? b->mirror : "", b->log);
		step_show(b, STEP_ROOTFS, what);
	}
	struct rootfs_ctx rc_ctx = { .rootfs = b->rootfs, .workdir = b->work, .log = b->log,
		.mirror = b->mirror, .ret_mounted = &b->rootfs_mounted };
	rc = rootfs_create(&b->r, &rc_ctx, reterr);
	if (rc < 0)
		return step_fail(STEP_ROOTFS, rc, reterr);

	/* 3. kernel and the initrd's modules */
	rc = choose_kernel(b, reterr, ex);
	if (rc < 0)
		return step_fail(STEP_KERNEL, rc, reterr);
	*ex = BUILD_EXIT_FAILED;
	step_show(b, STEP_KERNEL, b->k.kver);
	{
		static const char *const nics[] = { KMOD_NIC_MODULES };
		static const char *const root[] = { KMOD_ROOT_MODULES };

		static const char *const iscsi[] = { KMOD_ISCSI_MODULES };
		static const char *const iscsi_opt[] = { KMOD_ISCSI_OPTIONAL };
		bool san = kind_is_sanboot(b->m.kind);

		rc = kmod_resolve(b->k.moddir, nics, ELEMENTSOF(nics), true, &b->mods, reterr);
		if (rc >= 0 && !san)
			rc = kmod_resolve(b->k.moddir, root, ELEMENTSOF(root), false, &b->mods, reterr);
		if (rc >= 0 && san)
			rc = kmod_resolve(b->k.moddir, iscsi, ELEMENTSOF(iscsi), false, &b->mods, reterr);
		if (rc >= 0 && san)
			rc = kmod_resolve(b->k.moddir, iscsi_opt, ELEMENTSOF(iscsi_opt), true, &b->mods,
			    reterr);
		if (rc >= 0)
			rc = kmod_resolve(b->k.moddir, (const char *const *)b->r.modules.v,
			    b->r.modules.n, false, &b->mods, reterr);
		if (rc < 0)
			return step_fail(STEP_KERNEL, rc, reterr);
	}
	if (b->r.base != RECIPE_BASE_DEBOOTSTRAP && b->r.base != RECIPE_BASE_BUSYBOX) {
		rc = rootfs_install_modules(b->rootfs, b->k.moddir, b->k.kver, reterr);
		if (rc < 0)
			return step_fail(STEP_KERNEL, rc, reterr);
	}

	/* 4. overlay, 5. reporter */
	step_show(b, STEP_OVERLAY, b->r.overlay);
	rc = rootfs_apply_overlay(&b->r, b->rootfs, reterr);
	if (rc < 0)
		return step_fail(STEP_OVERLAY, rc, reterr);
	if (kind_is_sanboot(b->m.kind))
		return build_disk_make(b, ret, reterr); /* nothing of ours runs on the node */
	step_show(b, STEP_REPORTER, "/usr/lib/diskless/dl-report");
	rc = rootfs_install_reporter(b->rootfs, o->init, reterr);
	if (rc >= 0 && kind_is_vm_host(b->m.kind))
		rc = vmhost_install(b->rootfs, &b->r, reterr);
	if (rc < 0)
		return step_fail(STEP_REPORTER, rc, reterr);

	/* 6. squashfs, into the temporary version dir */
	rc = store_mktemp(o->store, &b->tmp, reterr);
	if (rc < 0)
		return step_fail(STEP_SQUASHFS, rc, reterr);
	step_show(b, STEP_SQUASHFS, "mksquashfs -comp zstd");
	{
		_cleanup_free_ char *out = role_path(b, "rootfs");
		if (!out)
			return dl_err_set(reterr, -ENOMEM, "out of memory");
		rc = squashfs_make(b->rootfs, out, b->log, reterr);
		if (rc < 0)
			return step_fail(STEP_SQUASHFS, rc, reterr);
	}

	/* 7. kernel file and initrd */
	{
		_cleanup_free_ char *kout = role_path(b, "kernel");
		_cleanup_free_ char *iout = role_path(b, "initrd");
		char what[128];
		struct initramfs_spec spec = { .init = o->init, .kver = b->k.kver, .mods = &b->mods,
			.zstd = b->k.rd_zstd };

		if (!kout || !iout)
			return dl_err_set(reterr, -ENOMEM, "out of memory");
		(void)snprintf(what, sizeof(what), "%zu modules, %s", b->mods.n,
		    spec.zstd ? "zstd" : "gzip");
		step_show(b, STEP_INITRD, what);
		rc = fsutil_copy_file(b->k.vmlinuz, kout, reterr);
		if (rc >= 0)
			rc = initramfs_write(iout, &spec, b->m.initrd_tree, reterr);
		if (rc < 0)
			return step_fail(STEP_INITRD, rc, reterr);
	}
	if (kind_role(b->m.kind, "hypervisor")) {
		_cleanup_free_ char *xout = role_path(b, "hypervisor");
		_cleanup_free_ char *eout = role_path(b, "hypervisor_efi");
		struct hypervisor_info hi;
		char what[640];

		if (!xout || !eout)
			return dl_err_set(reterr, -ENOMEM, "out of memory");
		rc = hypervisor_xen_extract(b->rootfs, xout, eout, &hi, reterr);
		if (rc < 0)
			return step_fail(STEP_INITRD, rc, reterr);
		b->m.hypervisor_version = strdup(hi.version);
		b->m.hypervisor_build_id = strdup(hi.build_id);
		b->m.hypervisor_efi_build_id = strdup(hi.efi_build_id);
		if (!b->m.hypervisor_version || !b->m.hypervisor_build_id ||
		    !b->m.hypervisor_efi_build_id ||
		    recipe_hypervisor_cmdline(&b->r, &b->m.hypervisor_cmdline) < 0)
			return dl_err_set(reterr, -ENOMEM, "out of memory");
		(void)snprintf(what, sizeof(what), "hypervisor %s %s (efi %s) from %s", hi.version,
		    hi.build_id, hi.efi_build_id, hi.package);
		step_show(b, STEP_INITRD, what);
	}

	return publish(b, ret, reterr);
}

int
build_run(const struct build_opts *o, struct build_result *ret, enum build_exit *ret_exit,
    struct dl_err *reterr)
{
	struct build b = { .o = o, .t0 = time(NULL) };
	enum build_exit ex = BUILD_EXIT_FAILED;
	int rc;

	memset(ret, 0, sizeof(*ret));
	rc = build_steps(&b, ret, &ex, reterr);
	/* A failed build keeps its work dir to look at; an interrupted one does not. */
	build_done(&b, rc < 0 && rc != -EINTR);
	*ret_exit = rc < 0 ? ex : BUILD_EXIT_OK;
	return rc;
}
