/* SPDX-License-Identifier: MIT */
/* Control verbs on image versions: image.list, image.show, image.add, image.remove,
 * image.sync (fetch versions whose files this server lacks from its peers: sync/sync.h). */
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "control/control.h"
#include "log.h"
#include "manifest.h"
#include "proto.h"
#include "readfile.h"
#include "sync/sync.h"
#include "sync/sync_limits.h"

/* What a manifest may hold fits an image record. */
_Static_assert(MAX_MANIFEST_FILES <= MAX_IMAGE_FILES, "a kind has more roles than the store keeps");
_Static_assert(MAX_KIND_ROLE_NAME <= MAX_ROLE_NAME, "a role name longer than the store keeps");
_Static_assert(MAX_KIND_NAME <= sizeof(((struct image_rec *)0)->kind), "a kind name too long");

static json_t *
image_to_json(struct bootsvc *bs, const struct image_rec *i)
{
	json_t *o, *sha = json_object();
	uint64_t size = 0;

	if (!sha)
		return NULL;
	for (unsigned k = 0; k < i->n_files; k++) {
		size += i->files[k].size;
		if (json_object_set_new(sha, i->files[k].role, json_string(i->files[k].sha256)) < 0) {
			json_decref(sha);
			return NULL;
		}
	}
	o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:b,s:s,s:o}", "id", i->id, "name", i->name,
	    "kind", i->kind, "kernel_version", i->kernel_version, "built", i->built, "path",
	    i->path, "size", (json_int_t)size, "current", i->current, "cmdline", i->cmdline,
	    "sha256", sha);
	/* A hypervisor image says what its hypervisor is (the receipt holds a dom0 to it). */
	if (o && i->hypervisor_version[0] &&
	    json_object_set_new(o, "hypervisor", json_pack("{s:s,s:s,s:s,s:s}", "version",
	    i->hypervisor_version, "build_id", i->hypervisor_build_id, "efi_build_id",
	    i->hypervisor_efi_build_id, "cmdline", i->hypervisor_cmdline)) < 0) {
		json_decref(o);
		return NULL;
	}
	/* Whether this server has its files (a shared store lists versions other servers
	 * added): present, syncing (with the last failed round's reason) or missing. */
	if (o) {
		enum sync_state st = sync_state_of(bs->sync, i);
		const char *last = sync_last_error(bs->sync, i->id);

		if (json_object_set_new(o, "here", json_string(sync_state_to_string(st))) < 0 ||
		    (last[0] && json_object_set_new(o, "sync_error", json_string(last)) < 0)) {
			json_decref(o);
			return NULL;
		}
	}
	/* How bootsvc sees such an image's OS up (kind iscsi, issue 14). */
	if (o && i->up_probe[0] &&
	    json_object_set_new(o, "up_probe", json_string(i->up_probe)) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

struct list_ctx {
	struct bootsvc *bs;
	json_t *arr;
};

static int
list_one(const struct image_rec *i, void *userdata)
{
	struct list_ctx *x = userdata;
	json_t *o = image_to_json(x->bs, i);

	if (!o || json_array_append_new(x->arr, o) < 0)
		return -ENOMEM;
	return 0;
}

static int
image_list(struct bootsvc *bs, const json_t *args, json_t **ret, struct dl_err *reterr)
{
	static const char *const allowed[] = { NULL };
	json_t *arr;
	int r;

	if ((r = proto_args_check(args, allowed, reterr)) < 0)
		return r;
	arr = json_array();
	r = arr ? store_image_foreach(bs->store, list_one, &(struct list_ctx){ bs, arr }) :
	    -ENOMEM;
	if (r < 0) {
		json_decref(arr);
		return r;
	}
	*ret = json_pack("{s:o}", "images", arr);
	return *ret ? 0 : -ENOMEM;
}

static int
image_show(struct bootsvc *bs, const json_t *args, json_t **ret, struct dl_err *reterr)
{
	static const char *const allowed[] = { "image", NULL };
	struct image_rec img;
	const char *ref;
	int r;

	if ((r = proto_args_check(args, allowed, reterr)) < 0 ||
	    (r = proto_arg_str(args, "image", true, 200, &ref, reterr)) < 0 ||
	    (r = store_image_resolve(bs->store, ref, &img, reterr)) < 0)
		return r;
	*ret = json_pack("{s:o}", "image", image_to_json(bs, &img));
	return *ret ? 0 : -ENOMEM;
}

static int
read_manifest(const char *dir, char **ret, size_t *ret_len, struct dl_err *reterr)
{
	char path[PATH_MAX + 16];

	(void)snprintf(path, sizeof(path), "%s/manifest.json", dir);
	return read_file(path, MAX_MANIFEST_SIZE, READ_FILE_NOFOLLOW | READ_FILE_REGULAR, ret,
	    ret_len, reterr);
}

static int
image_add(struct bootsvc *bs, const json_t *args, json_t **ret, struct dl_err *reterr)
{
	static const char *const allowed[] = { "path", NULL };
	_cleanup_free_ char *buf = NULL;
	struct manifest m = { 0 };
	struct image_rec img = { 0 };
	char real[PATH_MAX], id[SHA256_HEX_SIZE];
	const char *path, *base;
	size_t len = 0;
	int r;

	if ((r = proto_args_check(args, allowed, reterr)) < 0 ||
	    (r = proto_arg_str(args, "path", true, MAX_STORE_PATH - 1, &path, reterr)) < 0)
		return r;
	if (path[0] != '/')
		return dl_err_set(reterr, -EINVAL, "path '%s' is not absolute", path);
	if (!realpath(path, real))
		return dl_err_set(reterr, negative_errno(), "path '%s': %s", path,
		    strerror(errno));
	if (strlen(real) >= sizeof(img.path))
		return dl_err_set(reterr, -ENAMETOOLONG, "path '%s' too long", real);
	if ((r = read_manifest(real, &buf, &len, reterr)) < 0)
		return r;
	if ((r = manifest_parse(buf, len, &m, reterr)) < 0)
		return dl_err_prefix(reterr, "'%s/manifest.json'", real), r;
	/* Without tgtd nothing could export its disks: refuse it now, not at boot. */
	if (kind_is_sanboot(m.kind) && !bs->cfg.iscsi) {
		r = dl_err_set(reterr, -EOPNOTSUPP, "image '%s' is of kind %s, and bootsvc.conf "
		    "has iscsi = off: set iscsi = on to serve it", real, m.kind->name);
		log_notice("event=image_add_refused path=%s kind=%s why=iscsi_off", real,
		    m.kind->name);
		goto out;
	}
	if ((r = manifest_id(&m, id, reterr)) < 0)
		goto out;
	/* A version directory is named by its id: a renamed or edited one is not ours. */
	base = strrchr(real, '/') + 1;
	if (strcmp(base, id) != 0) {
		r = dl_err_set(reterr, -EINVAL,
		    "'%s' is not an image version: its manifest's id is %s", real, id);
		goto out;
	}
	/* Sizes are checked here; hashes are checked by the node that boots it (and a
	 * full hash of a large rootfs would stall the loop). The files are the kind's roles
	 * the manifest lists (manifest_parse held them to the kind), at the kind's names. */
	for (size_t k = 0; k < m.n_files; k++) {
		const struct manifest_file *mf = &m.files[k];
		char f[PATH_MAX + 32];
		struct stat st;

		(void)snprintf(f, sizeof(f), "%s/%s", real, kind_role(m.kind, mf->role)->file);
		if (stat(f, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != mf->size) {
			r = dl_err_set(reterr, -EINVAL, "'%s' is missing or not %llu bytes", f,
			    (unsigned long long)mf->size);
			goto out;
		}
		if ((r = image_rec_file_set(&img, mf->role, mf->sha256, mf->size)) < 0) {
			r = dl_err_set(reterr, r, "image '%s' has too many files", real);
			goto out;
		}
	}
	/* "" for a manifest from before the tree hash: receipt_check falls back to sha256 */
	memcpy(img.initrd_tree, m.initrd_tree, sizeof(img.initrd_tree));
	strcpy(img.id, id);
	(void)snprintf(img.name, sizeof(img.name), "%s", m.name);
	(void)snprintf(img.kind, sizeof(img.kind), "%s", m.kind->name);
	strcpy(img.path, real);
	(void)snprintf(img.kernel_version, sizeof(img.kernel_version), "%s", m.kernel_version);
	(void)snprintf(img.kernel_banner, sizeof(img.kernel_banner), "%s", m.kernel_banner);
	(void)snprintf(img.built, sizeof(img.built), "%s", m.built);
	(void)snprintf(img.cmdline, sizeof(img.cmdline), "%s", m.cmdline);
	/* NULL for a kind without a hypervisor of its own; manifest_parse bounds them to
	 * what the store keeps. */
	(void)snprintf(img.hypervisor_version, sizeof(img.hypervisor_version), "%s",
	    m.hypervisor_version ? m.hypervisor_version : "");
	(void)snprintf(img.hypervisor_build_id, sizeof(img.hypervisor_build_id), "%s",
	    m.hypervisor_build_id ? m.hypervisor_build_id : "");
	(void)snprintf(img.hypervisor_efi_build_id, sizeof(img.hypervisor_efi_build_id), "%s",
	    m.hypervisor_efi_build_id ? m.hypervisor_efi_build_id : "");
	(void)snprintf(img.hypervisor_cmdline, sizeof(img.hypervisor_cmdline), "%s",
	    m.hypervisor_cmdline ? m.hypervisor_cmdline : "");
	(void)snprintf(img.up_probe, sizeof(img.up_probe), "%s", m.up_probe ? m.up_probe : "");
	img.added = (int64_t)time(NULL);
	if ((r = store_image_insert(bs->store, &img, reterr)) < 0)
		goto out;
	log_notice("event=image_add image=%s id=%s path=%s", img.name, img.id, img.path);
	if ((r = store_image_get(bs->store, img.id, &img)) < 0)
		goto out;
	*ret = json_pack("{s:o}", "image", image_to_json(bs, &img));
	r = *ret ? 0 : -ENOMEM;
out:
	manifest_done(&m);
	return r;
}

static int
image_remove(struct bootsvc *bs, const json_t *args, json_t **ret, struct dl_err *reterr)
{
	static const char *const allowed[] = { "image", NULL };
	struct image_rec img;
	const char *ref;
	int64_t users;
	int r;

	if ((r = proto_args_check(args, allowed, reterr)) < 0 ||
	    (r = proto_arg_str(args, "image", true, 200, &ref, reterr)) < 0 ||
	    (r = store_image_resolve(bs->store, ref, &img, reterr)) < 0)
		return r;
	users = store_image_users(bs->store, img.id);
	if (users != 0)
		return dl_err_set(reterr, -EBUSY, "image %s@%.12s is pinned by %lld node(s)",
		    img.name, img.id, (long long)users);
	if ((r = store_image_delete(bs->store, img.id)) < 0)
		return dl_err_set(reterr, r, "removing image %s failed", img.id);
	/* The files stay: a node booting it right now keeps a consistent image. */
	log_notice("event=image_remove image=%s id=%s", img.name, img.id);
	*ret = json_pack("{s:s}", "removed", img.id);
	return *ret ? 0 : -ENOMEM;
}

/* image.sync: the answer owed for the versions one request asked for. */
struct sync_batch {
	struct control_pending *pending;
	json_t *results;        /* one object per version */
	unsigned remaining;     /* rounds not ended yet, +1 while they are being started */
	unsigned failed;
	char first_error[MAX_ERR_MSG + MAX_NODE_NAME + 16];
	int first_code;
};

static json_t *
result_json(const struct sync_result *res, const char *what)
{
	json_t *o = json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:I}", "id", res->id, "name", res->name,
	    "result", what, "bytes", (json_int_t)res->bytes, "kept", (json_int_t)res->kept,
	    "refetched", (json_int_t)res->refetched, "ms", (json_int_t)res->ms);

	if (o && res->peer[0] && json_object_set_new(o, "peer", json_string(res->peer)) < 0)
		o = (json_decref(o), NULL);
	if (o && res->r < 0 && (json_object_set_new(o, "error", json_string(res->error)) < 0 ||
	    json_object_set_new(o, "retry_ms", json_integer((json_int_t)res->retry_ms)) < 0))
		o = (json_decref(o), NULL);
	return o;
}

static void
batch_release(struct bootsvc *bs, struct sync_batch *b)
{
	json_t *res;

	if (--b->remaining)
		return;
	res = json_pack("{s:o}", "synced", b->results);
	if (b->failed) {
		char msg[MAX_ERR_MSG + MAX_NODE_NAME + 96];

		(void)snprintf(msg, sizeof(msg), "%u of %zu version(s) failed to sync (retried "
		    "in the background): %s", b->failed, json_array_size(b->results),
		    b->first_error);
		control_complete(bs, b->pending, res, b->first_code, msg);
	} else {
		control_complete(bs, b->pending, res, res ? 0 : -ENOMEM, "out of memory");
	}
	free(b);
}

static void
batch_note(struct sync_batch *b, const struct sync_result *res, const char *what)
{
	if (res->r < 0 && !b->failed++) {
		b->first_code = res->r;
		(void)snprintf(b->first_error, sizeof(b->first_error), "%s@%.12s: %s", res->name,
		    res->id, res->error);
	}
	(void)json_array_append_new(b->results, result_json(res, what));
}

static void
batch_one(struct bootsvc *bs, const struct sync_result *res, void *userdata)
{
	struct sync_batch *b = userdata;

	batch_note(b, res, res->r == 0 ? "synced" : "failed");
	batch_release(bs, b);
}

struct missing_ctx {
	struct bootsvc *bs;
	struct image_rec *imgs;
	size_t n;
};

static int
missing_one(const struct image_rec *i, void *userdata)
{
	struct missing_ctx *x = userdata;

	if (sync_state_of(x->bs->sync, i) == SYNC_STATE_PRESENT)
		return 0;
	if (x->n == MAX_SYNC_ACTIVE)
		return -E2BIG;
	x->imgs[x->n++] = *i;
	return 0;
}

static int
image_sync(struct bootsvc *bs, const json_t *args, json_t **ret, struct dl_err *reterr)
{
	static const char *const allowed[] = { "image", "all", NULL };
	_cleanup_free_ struct image_rec *imgs = NULL;
	struct missing_ctx x = { .bs = bs };
	struct sync_batch *b;
	const char *ref = NULL;
	bool all = false;
	int r;

	if ((r = proto_args_check(args, allowed, reterr)) < 0 ||
	    (r = proto_arg_str(args, "image", false, 200, &ref, reterr)) < 0 ||
	    (r = proto_arg_bool(args, "all", false, &all, reterr)) < 0)
		return r;
	if (!ref == !all)
		return dl_err_set(reterr, -EINVAL, "name one image, or all");
	x.imgs = imgs = calloc(MAX_SYNC_ACTIVE, sizeof(*imgs));
	if (!imgs)
		return -ENOMEM;
	if (ref) {
		if ((r = store_image_resolve(bs->store, ref, &imgs[0], reterr)) < 0)
			return r;
		x.n = 1;
	} else if ((r = store_image_foreach(bs->store, missing_one, &x)) < 0) {
		return r == -E2BIG ? dl_err_set(reterr, r, "more than %d versions are missing "
		    "here: sync them by name", MAX_SYNC_ACTIVE) : r;
	}
	b = calloc(1, sizeof(*b));
	if (!b || !(b->results = json_array())) {
		free(b);
		return -ENOMEM;
	}
	b->pending = control_defer(bs);
	b->remaining = 1; /* held until every round is started */
	for (size_t i = 0; i < x.n; i++) {
		struct sync_result res = { 0 };
		struct dl_err err = { 0 };

		(void)snprintf(res.id, sizeof(res.id), "%s", imgs[i].id);
		(void)snprintf(res.name, sizeof(res.name), "%s", imgs[i].name);
		b->remaining++;
		r = sync_start(bs->sync, &imgs[i], "admin", b->pending ? batch_one : NULL, b, &err);
		if (r == 0 && b->pending)
			continue;
		b->remaining--;
		if (r < 0) {
			res.r = r;
			(void)snprintf(res.error, sizeof(res.error), "%s", err.msg);
		}
		batch_note(b, &res, r < 0 ? "failed" : r == 1 ? "present" : "started");
	}
	if (!b->pending) {
		/* No socket client to answer later (tests, fuzzing): what was started. */
		*ret = json_pack("{s:O}", "synced", b->results);
		json_decref(b->results);
		free(b);
		return *ret ? 0 : -ENOMEM;
	}
	batch_release(bs, b);
	return CONTROL_DEFERRED;
}

const struct control_verb verbs_image[] = {
	{ .name = "image.list", .fn = image_list },
	{ .name = "image.show", .fn = image_show },
	{ .name = "image.add", .fn = image_add },
	{ .name = "image.remove", .fn = image_remove },
	{ .name = "image.sync", .fn = image_sync },
	{ .name = NULL },
};
