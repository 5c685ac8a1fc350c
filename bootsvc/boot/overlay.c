/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "kind.h"
#include "log.h"
#include "manifest.h"
#include "readfile.h"
#include "boot/overlay.h"
#include "loop.h"
#include "privsep/privsep.h"
#include "template.h"
#include "tls_pki.h"

/* Largest overlay: /etc/hosts of a big cluster plus a few templates. */
#define MAX_OVERLAY (8 * 1024 * 1024)

/* Room for n more bytes. A private key goes in after a buf_grow() for all of it, so no
 * realloc() lets go of a block holding (part of) it. */
static int
buf_grow(struct cpio_buf *b, size_t n)
{
	if (b->len + n > MAX_OVERLAY)
		return -E2BIG;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		char *d = realloc(b->data, cap);
		if (!d)
			return -ENOMEM;
		b->data = d;
		b->cap = cap;
	}
	return 0;
}

static int
buf_put(struct cpio_buf *b, const void *p, size_t n)
{
	int r;

	if (n == 0)
		return 0; /* p may be NULL then, and memcpy(.., NULL, 0) is undefined */
	if ((r = buf_grow(b, n)) < 0)
		return r;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

static int
buf_pad4(struct cpio_buf *b)
{
	static const char zeros[4] = { 0 };
	size_t pad = (4 - (b->len & 3)) & 3;
	return pad ? buf_put(b, zeros, pad) : 0;
}

/* newc: "070701" + 13 eight-hex-digit fields, then name + NUL padded to 4, then data
 * padded to 4 (the kernel's Documentation/driver-api/early-userspace/buffer-format.rst). */
int
cpio_add(struct cpio_buf *b, const char *name, unsigned mode, const void *data, size_t len)
{
	char hdr[160];
	size_t nlen = strlen(name) + 1;
	int r;

	(void)snprintf(hdr, sizeof(hdr),
	    "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X",
	    ++b->ino, mode, 0u, 0u, 1u, 0u, len, 0u, 0u, 0u, 0u, nlen, 0u);
	if ((r = buf_put(b, hdr, 110)) < 0 || (r = buf_put(b, name, nlen)) < 0 ||
	    (r = buf_pad4(b)) < 0 || (r = buf_put(b, data, len)) < 0 || (r = buf_pad4(b)) < 0)
		return r;
	return 0;
}

int
cpio_finish(struct cpio_buf *b)
{
	b->ino = 0;
	return cpio_add(b, "TRAILER!!!", 0, NULL, 0);
}

struct hosts_ctx {
	struct cpio_buf text;
	int r;
};

static int
hosts_line(const struct node_rec *n, void *userdata)
{
	struct hosts_ctx *h = userdata;
	char line[128];
	int len;

	if (!n->ip[0])
		return 0;
	len = snprintf(line, sizeof(line), "%s\t%s\n", n->ip, n->name);
	h->r = buf_put(&h->text, line, (size_t)len);
	return h->r;
}

struct tvars {
	const struct node_rec *n;
	const struct image_rec *img;
	const char *server;
};

static const char *
tvars_lookup(const char *name, void *userdata)
{
	struct tvars *v = userdata;

	if (strcmp(name, "node") == 0 || strcmp(name, "hostname") == 0)
		return v->n->name;
	if (strcmp(name, "ip") == 0)
		return v->n->ip;
	if (strcmp(name, "mac") == 0)
		return v->n->mac;
	if (strcmp(name, "server") == 0)
		return v->server;
	if (strcmp(name, "image") == 0)
		return v->img->name;
	if (strcmp(name, "image_id") == 0)
		return v->img->id;
	return NULL;
}

/* A directory tree walked into the archive at paths relative to its root: the walker
 * reads the directories, visit() decides what every other entry becomes. */
struct walk {
	const char *what; /* for messages: "templates", "site overlay" */
	const char *root;
	bool skip_hidden; /* dot files are not templates (editor swap files, .git) */
	bool add_dirs;    /* put the directories in the archive too */
	int (*visit)(struct cpio_buf *b, const struct walk *w, const char *full, const char *rel,
	    const struct stat *st, struct dl_err *reterr);
	void *userdata;
};

static int
walk_tree(struct cpio_buf *b, const struct walk *w, const char *rel, int depth,
    struct dl_err *reterr)
{
	_cleanup_free_ char *path = NULL;
	DIR *d;
	struct dirent *de;
	int r = 0;

	if (depth > 8)
		return dl_err_set(reterr, -ELOOP, "%s nested deeper than 8 levels", w->what);
	if (asprintf(&path, "%s%s%s", w->root, *rel ? "/" : "", rel) < 0)
		return -ENOMEM;
	d = opendir(path);
	if (!d) /* a missing root adds nothing */
		return errno == ENOENT && depth == 0 ? 0 : dl_err_set(reterr, negative_errno(),
		    "%s '%s': %s", w->what, path, strerror(errno));
	while (r == 0 && (de = readdir(d))) {
		_cleanup_free_ char *sub = NULL, *full = NULL;
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    (w->skip_hidden && de->d_name[0] == '.'))
			continue;
		if (asprintf(&sub, "%s%s%s", rel, *rel ? "/" : "", de->d_name) < 0 ||
		    asprintf(&full, "%s/%s", w->root, sub) < 0) {
			r = -ENOMEM;
			break;
		}
		if (lstat(full, &st) < 0)
			continue; /* removed meanwhile */
		if (S_ISDIR(st.st_mode)) {
			if (w->add_dirs)
				r = cpio_add(b, sub, S_IFDIR | 0755, NULL, 0);
			if (r == 0)
				r = walk_tree(b, w, sub, depth + 1, reterr);
		} else
			r = w->visit(b, w, full, sub, &st, reterr);
	}
	closedir(d);
	return r;
}

/* The whole regular file at full into *ret (NUL-terminated), opened without following a
 * symlink and checked on the fd: if it is no longer a regular file since the walk's
 * lstat, *ret stays NULL (skip it, as then). Larger than max: -EFBIG. */
static int
read_regular(const struct walk *w, const char *full, size_t max, char **ret, size_t *ret_len,
    mode_t *ret_mode, struct dl_err *reterr)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	int r;

	*ret = NULL;
	fd = open(full, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0)
		return dl_err_set(reterr, negative_errno(), "%s '%s': %s", w->what, full,
		    strerror(errno));
	if (!S_ISREG(st.st_mode))
		return 0;
	if ((uint64_t)st.st_size > max)
		return dl_err_set(reterr, -EFBIG, "%s '%s': larger than %zu bytes", w->what, full,
		    max);
	r = read_file_fd(fd, full, max, 0, ret, ret_len, reterr);
	if (r < 0)
		return dl_err_prefix(reterr, "%s", w->what), r;
	*ret_mode = st.st_mode;
	return 0;
}

/* Largest template, and largest site file: config files and keys, not data. */
#define MAX_TEMPLATE (1024 * 1024)
#define MAX_SITE_FILE (1024 * 1024)

/* A template: a regular file under <image>/templates/, rendered for the node. Other
 * entries, and files too large to be templates, are not sent. */
static int
visit_template(struct cpio_buf *b, const struct walk *w, const char *full, const char *rel,
    const struct stat *st, struct dl_err *reterr)
{
	_cleanup_free_ char *text = NULL, *out = NULL;
	size_t len = 0, outlen = 0;
	mode_t mode = 0;
	int r;

	if (!S_ISREG(st->st_mode) || st->st_size > MAX_TEMPLATE)
		return 0;
	r = read_regular(w, full, MAX_TEMPLATE, &text, &len, &mode, reterr);
	if (r < 0 || !text)
		return r;
	r = template_render(text, len, tvars_lookup, w->userdata, &out, &outlen, reterr);
	if (r < 0)
		return dl_err_prefix(reterr, "template '%s'", rel), r;
	return cpio_add(b, rel, S_IFREG | (mode & 0777), out, outlen);
}

/* A site file as it is (a symlink as a symlink); sockets, fifos and devices are nothing
 * a node should get from a config dir. */
static int
visit_site(struct cpio_buf *b, const struct walk *w, const char *full, const char *rel,
    const struct stat *st, struct dl_err *reterr)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	mode_t mode = 0;
	int r;

	if (S_ISLNK(st->st_mode)) {
		char target[1024];
		ssize_t n = readlink(full, target, sizeof(target));

		if (n <= 0 || (size_t)n >= sizeof(target))
			return dl_err_set(reterr, n < 0 ? negative_errno() : -ENAMETOOLONG,
			    "%s '%s': bad symlink", w->what, full);
		return cpio_add(b, rel, S_IFLNK | 0777, target, (size_t)n);
	}
	if (!S_ISREG(st->st_mode))
		return 0;
	r = read_regular(w, full, MAX_SITE_FILE, &data, &len, &mode, reterr);
	if (r == -EACCES && w->userdata) {
		/* Unprivileged (privsep): a file only root may read (a munge key, 0400) is read
		 * by the root parent, beneath the same site_overlay. */
		unsigned m = 0;

		dl_err_clear(reterr);
		r = privsep_read_site(w->userdata, rel, &data, &len, &m, reterr);
		if (r < 0)
			return dl_err_prefix(reterr, "%s", w->what), r;
		if (len > MAX_SITE_FILE) {
			explicit_bzero(data, len);
			return dl_err_set(reterr, -EFBIG, "%s '%s': larger than %d bytes", w->what,
			    full, MAX_SITE_FILE);
		}
		mode = (mode_t)m;
	}
	if (r < 0 || !data)
		return r;
	r = cpio_add(b, rel, S_IFREG | (mode & 0777), data, len);
	explicit_bzero(data, len); /* may be a key: not left in freed memory */
	return r;
}

int
overlay_add_site(struct cpio_buf *b, const char *dir, struct dl_err *reterr)
{
	return overlay_add_site_via(b, dir, NULL, reterr);
}

int
overlay_add_site_via(struct cpio_buf *b, const char *dir, struct privsep *p,
    struct dl_err *reterr)
{
	const struct walk w = { .what = "site overlay", .root = dir, .visit = visit_site,
		.userdata = p };

	return walk_tree(b, &w, "", 0, reterr);
}

static int
add_dirs(struct cpio_buf *b)
{
	static const char *const dirs[] = { "etc", "etc/diskless" };
	int r = 0;

	for (size_t i = 0; r == 0 && i < ELEMENTSOF(dirs); i++)
		r = cpio_add(b, dirs[i], S_IFDIR | 0755, NULL, 0);
	return r;
}

/* A VM host's libvirt certificate and key for this boot, issued from the CA prepare
 * copied, at libvirt's default paths (libvirtd.conf's key_file, cert_file, ca_file; the
 * client pair for peer-to-peer migration): one key for both roles. The key exists
 * nowhere but in this archive, which api_node.c hands only to the node, with its token. */
static int
add_vmhost_pki(struct cpio_buf *b, const struct overlay_input *in, struct dl_err *reterr)
{
	static const struct {
		const char *name;
		unsigned mode;
	} dirs[] = {
		{ "etc/pki", 0755 }, { "etc/pki/CA", 0755 }, { "etc/pki/libvirt", 0755 },
		{ "etc/pki/libvirt/private", 0700 },
	};
	const struct node_rec *n = &in->n;
	struct tls_issue_req req = { .cn = n->name, .ou = OVERLAY_VMHOST_OU,
		.dns = { n->name }, .n_dns = 1, .ip = { n->ip }, .n_ip = n->ip[0] ? 1 : 0,
		.purposes = TLS_PURPOSE_SERVER | TLS_PURPOSE_CLIENT,
		.days = OVERLAY_VMHOST_DAYS };
	struct tls_issued out = { 0 };
	struct tls_ca *ca = NULL;
	int r;

	if (!in->ca_crt || !in->ca_key)
		return dl_err_set(reterr, -ENOKEY, "node '%s' boots '%s', a VM host image (kind "
		    "%s), and bootsvc has no CA to issue its libvirt certificate", n->name,
		    in->img.name, in->img.kind);
	r = tls_ca_new(in->ca_crt, in->ca_crt_len, in->ca_key, in->ca_key_len, &ca, reterr);
	if (r == 0) {
		r = tls_ca_issue(ca, &req, &out, reterr);
		ca = tls_ca_free(ca);
	}
	if (r < 0)
		return dl_err_prefix(reterr, "node '%s': libvirt certificate", n->name), r;
	/* Room for all of it and the trailer up front (headers and names: 256 a member). */
	r = buf_grow(b, in->ca_crt_len + 2 * (out.crt_len + out.key_len) + 16 * 256);
	for (size_t i = 0; r == 0 && i < ELEMENTSOF(dirs); i++)
		r = cpio_add(b, dirs[i].name, S_IFDIR | dirs[i].mode, NULL, 0);
	if (r == 0)
		r = cpio_add(b, OVERLAY_PKI_CACERT, S_IFREG | 0644, in->ca_crt, in->ca_crt_len);
	if (r == 0)
		r = cpio_add(b, OVERLAY_PKI_SERVERCERT, S_IFREG | 0644, out.crt, out.crt_len);
	if (r == 0)
		r = cpio_add(b, OVERLAY_PKI_SERVERKEY, S_IFREG | 0600, out.key, out.key_len);
	if (r == 0)
		r = cpio_add(b, OVERLAY_PKI_CLIENTCERT, S_IFREG | 0644, out.crt, out.crt_len);
	if (r == 0)
		r = cpio_add(b, OVERLAY_PKI_CLIENTKEY, S_IFREG | 0600, out.key, out.key_len);
	tls_issued_done(&out);
	return r;
}

/* The CA copied for the render job: a VM host's boot only. Without a CA the overlay
 * fails now, on the loop, with the reason pki.c recorded. */
static int
prepare_vmhost(struct bootsvc *bs, const struct node_rec *n, const struct image_rec *img,
    struct overlay_input *in, struct dl_err *reterr)
{
	if (!kind_is_vm_host(kind_find(img->kind)))
		return 0;
	in->vm_host = true;
	if (!pki_has_ca(bs))
		return dl_err_set(reterr, -ENOKEY, "node '%s' boots '%s', a VM host image (kind "
		    "%s), and cannot be trusted: %s", n->name, img->name, img->kind,
		    bs->pki.why[0] ? bs->pki.why : "no CA for VM hosts' TLS is loaded");
	in->ca_crt = malloc(bs->pki.crt_len + 1);
	in->ca_key = malloc(bs->pki.key_len + 1);
	if (!in->ca_crt || !in->ca_key)
		return dl_err_set(reterr, -ENOMEM, "building overlay: out of memory");
	memcpy(in->ca_crt, bs->pki.crt, bs->pki.crt_len + 1);
	memcpy(in->ca_key, bs->pki.key, bs->pki.key_len + 1);
	in->ca_crt_len = bs->pki.crt_len;
	in->ca_key_len = bs->pki.key_len;
	return 0;
}

void
overlay_hosts_done(struct overlay_hosts *h)
{
	free(h->text);
	*h = (struct overlay_hosts){ 0 };
}

/* bs's cached /etc/hosts, rebuilt when older than OVERLAY_HOSTS_MS. */
static int
hosts_fresh(struct bootsvc *bs, const struct overlay_hosts **ret)
{
	uint64_t now = loop_now_ms();
	struct hosts_ctx h = { 0 };
	char line[128];
	int r, len;

	if (bs->hosts.text && now - bs->hosts.built_ms < OVERLAY_HOSTS_MS) {
		*ret = &bs->hosts;
		return 0;
	}
	len = snprintf(line, sizeof(line), "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n");
	if ((r = buf_put(&h.text, line, (size_t)len)) < 0)
		goto fail;
	r = store_node_foreach(bs->store, hosts_line, &h);
	if (r < 0 || h.r < 0) {
		r = r < 0 ? r : h.r;
		goto fail;
	}
	overlay_hosts_done(&bs->hosts);
	bs->hosts = (struct overlay_hosts){ h.text.data, h.text.len, now };
	*ret = &bs->hosts;
	return 0;
fail:
	free(h.text.data);
	return r;
}

int
overlay_prepare(struct bootsvc *bs, const struct node_rec *n, const struct image_rec *img,
    struct overlay_input *ret, struct dl_err *reterr)
{
	const struct overlay_hosts *hosts;
	int r;

	memset(ret, 0, sizeof(*ret));
	if ((r = hosts_fresh(bs, &hosts)) < 0)
		goto fail;
	if (!(ret->hosts = malloc(hosts->len))) {
		r = -ENOMEM;
		goto fail;
	}
	memcpy(ret->hosts, hosts->text, hosts->len);
	ret->hosts_len = hosts->len;
	ret->n = *n;
	ret->img = *img;
	(void)snprintf(ret->boot_url, sizeof(ret->boot_url), "%s", bs->cfg.boot_url);
	(void)snprintf(ret->site_overlay, sizeof(ret->site_overlay), "%s", bs->cfg.site_overlay);
	ret->privsep = bs->privsep;
	r = prepare_vmhost(bs, n, img, ret, reterr);
	if (r < 0)
		overlay_input_done(ret);
	return r;
fail:
	if (r == -E2BIG)
		return dl_err_set(reterr, r, "overlay larger than %d bytes", MAX_OVERLAY);
	return dl_err_set(reterr, r, "building overlay: /etc/hosts: %s", strerror(-r));
}

void
overlay_input_done(struct overlay_input *in)
{
	free(in->hosts);
	in->hosts = NULL;
	in->hosts_len = 0;
	if (in->ca_key)
		explicit_bzero(in->ca_key, in->ca_key_len);
	free(in->ca_key);
	free(in->ca_crt);
	in->ca_key = in->ca_crt = NULL;
	in->ca_key_len = in->ca_crt_len = 0;
}

int
overlay_render(const struct overlay_input *in, char **ret, size_t *ret_len,
    struct dl_err *reterr)
{
	const struct node_rec *n = &in->n;
	const struct image_rec *img = &in->img;
	struct cpio_buf b = { 0 };
	struct tvars v = { .n = n, .img = img, .server = in->boot_url };
	char line[1024];
	int r, len;

	r = add_dirs(&b);
	if (r < 0)
		goto fail;
	/* Site files first: what bootsvc writes for the node (hostname, hosts, node.conf) and
	 * the image's templates come later and win, since the init replaces earlier members. */
	if (in->site_overlay[0] &&
	    (r = overlay_add_site_via(&b, in->site_overlay, in->privsep, reterr)) < 0)
		goto fail;
	len = snprintf(line, sizeof(line), "%s\n", n->name);
	if ((r = cpio_add(&b, "etc/hostname", S_IFREG | 0644, line, (size_t)len)) < 0)
		goto fail;
	if ((r = cpio_add(&b, "etc/hosts", S_IFREG | 0644, in->hosts, in->hosts_len)) < 0)
		goto fail;

	/* node.conf holds the token: readable by root only. */
	len = snprintf(line, sizeof(line),
	    "server=%s\nnode=%s\ntoken=%s\nimage=%s\nimage_name=%s\nkernel=%s\ninitrd=%s\n"
	    "rootfs=%s\n", in->boot_url, n->name, n->token, img->id, img->name,
	    image_rec_sha256(img, "kernel"), image_rec_sha256(img, "initrd"),
	    image_rec_sha256(img, "rootfs"));
	if ((r = cpio_add(&b, "etc/diskless/node.conf", S_IFREG | 0600, line, (size_t)len)) < 0)
		goto fail;
	{
		char tdir[MAX_STORE_PATH + 16];
		(void)snprintf(tdir, sizeof(tdir), "%s/templates", img->path);
		const struct walk w = { .what = "templates", .root = tdir, .skip_hidden = true,
			.add_dirs = true, .visit = visit_template, .userdata = &v };

		r = walk_tree(&b, &w, "", 0, reterr);
		if (r < 0)
			goto fail;
	}
	/* Last, so nothing of the image's templates replaces them. */
	if (in->vm_host && (r = add_vmhost_pki(&b, in, reterr)) < 0)
		goto fail;
	if ((r = cpio_finish(&b)) < 0)
		goto fail;
	*ret = b.data;
	*ret_len = b.len;
	return 0;
fail:
	if (b.data)
		explicit_bzero(b.data, b.len); /* the token, perhaps a key */
	free(b.data);
	if (r == -E2BIG)
		return dl_err_set(reterr, r, "overlay larger than %d bytes", MAX_OVERLAY);
	if (!reterr || !reterr->code)
		dl_err_set(reterr, r, "building overlay: %s", strerror(-r));
	return r;
}

int
overlay_build(struct bootsvc *bs, const struct node_rec *n, const struct image_rec *img,
    char **ret, size_t *ret_len, struct dl_err *reterr)
{
	struct overlay_input *in = malloc(sizeof(*in));
	int r;

	if (!in)
		return dl_err_set(reterr, -ENOMEM, "building overlay: out of memory");
	if ((r = overlay_prepare(bs, n, img, in, reterr)) == 0) {
		r = overlay_render(in, ret, ret_len, reterr);
		overlay_input_done(in);
	}
	free(in);
	return r;
}
