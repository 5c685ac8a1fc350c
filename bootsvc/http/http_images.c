/* SPDX-License-Identifier: MIT */
/* GET /images/<id>/<role>: a file of an image version (linux: kernel, initrd, rootfs),
 * named by content id and role only (or GET /images/n/<node>/<role>: of the version last
 * served that node, to its own address: short URLs for Xen's BIOS multiboot); which roles are served and their file names come
 * from the version's kind (lib/kind.c), the version directory from the store, never
 * anything from the request. Whole files go out with sendfile (MHD fd responses); Range,
 * ETag and If-None-Match let the node's init resume a cut transfer and let caches
 * revalidate. GET /images/<id>/manifest: the version's manifest.json, so a peer can fetch a
 * version by id (sync/), and GET /images/<id>/templates/<path>: a template file, opened
 * beneath the version's templates/ (openat2, no symlinks). A version whose files are not here (whole and in place: sync/sync.h)
 * is 404, never a partial copy. */
#include <fcntl.h>
#include <inttypes.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "http/http_internal.h"
#include "kind.h"
#include "log.h"
#include "boot/nodes.h"
#include "boot/trust.h"
#include "sync/sync.h"
#include "store/store_rows.h"

/* "<kernel|initrd|rootfs>": the roles some kind serves, for the 404 message. */
static const char *
roles_hint(char *buf, size_t size)
{
	const char *seen[MAX_KINDS * MAX_KIND_ROLES];
	size_t n = 0, used;

	for (size_t i = 0; i < kind_count(); i++) {
		const struct kind *k = kind_at(i);

		for (size_t j = 0; j < kind_n_roles(k); j++) {
			size_t s = 0;

			while (s < n && strcmp(seen[s], k->roles[j].name) != 0)
				s++;
			if (s == n && (k->roles[j].flags & KIND_ROLE_SERVED))
				seen[n++] = k->roles[j].name;
		}
	}
	(void)snprintf(buf, size, "<");
	for (size_t s = 0; s < n; s++) {
		used = strlen(buf);
		(void)snprintf(buf + used, size - used, "%s%s", s ? "|" : "", seen[s]);
	}
	used = strlen(buf);
	(void)snprintf(buf + used, size - used, ">");
	return buf;
}

/* A template file of the version at dir, beneath its templates/ whatever the path's
 * links say (rel is plain already: http_path.c). Returns an fd or -errno. */
static int
open_template(const char *dir, const char *rel)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	char tdir[MAX_STORE_PATH + 16];
	int dfd, fd;

	(void)snprintf(tdir, sizeof(tdir), "%s/templates", dir);
	dfd = open(tdir, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dfd < 0)
		return -errno;
	/* glibc has no openat2() wrapper (CONVENTIONS §8). */
	fd = (int)syscall(SYS_openat2, dfd, rel, &how, sizeof(how));
	fd = fd < 0 ? -errno : fd;
	(void)close(dfd);
	return fd;
}

/* The file a request names, as its rows say; nothing written, nothing opened yet. */
struct wanted {
	struct image_rec img;
	const struct kind *k;
	const struct kind_role *kr; /* NULL for the manifest and a template */
	const char *role;
	bool by_node, manifest, tmpl;
	char tpath[MAX_TEMPLATE_PATH + 1];
};

/* What a request for an image file comes to (image_find). */
enum image_verdict {
	IMAGE_SERVE,       /* fd is open on the file */
	IMAGE_REFUSED,     /* answered with status, rc and msg */
	IMAGE_LOOKUP,      /* the store's lookup of `lookup` failed with rc */
	IMAGE_NOT_HERE,    /* registered, but its files are not on this server */
	IMAGE_MISSING,     /* registered and here, but its file did not open (rc): the
	                    * loop logs it and forgets the version */
};

struct image_answer {
	enum image_verdict verdict;
	struct wanted f;
	unsigned status;
	int rc;
	const char *lookup;
	char msg[160];
	/* IMAGE_SERVE */
	int fd;
	struct stat st;
	char path[MAX_STORE_PATH + MAX_TEMPLATE_PATH + 32];
	int moves;           /* fetch_moves(): 1 moves n to phase, 0 nothing, < 0 unknown */
	struct node_rec n;
	const char *phase;
};

static enum image_verdict
refused(struct image_answer *a, unsigned status, int rc, const char *msg)
{
	a->status = status;
	a->rc = rc;
	if (msg) /* NULL: a->msg is written already */
		(void)snprintf(a->msg, sizeof(a->msg), "%s", msg);
	return IMAGE_REFUSED;
}

static enum image_verdict
lookup_failed(struct image_answer *a, int rc, const char *what)
{
	a->rc = rc;
	a->lookup = what;
	return IMAGE_LOOKUP;
}

/* The file url names, looked up in w: IMAGE_SERVE (nothing opened yet) or why not. */
static enum image_verdict
image_file_resolve(struct bootsvc *bs, const struct rows *w, struct req *r, const char *url,
    struct image_answer *a)
{
	char id[SHA256_HEX_SIZE], name[MAX_NODE_NAME], roles[96];
	struct wanted *f = &a->f;
	int rc;

	if (http_path_node_image(url, name, &f->role) == 0) {
		/* By node: the version bootsvc last served it, to its own address only. The
		 * same name names other bytes after a reimage, so no cache may keep it. */
		struct node_rec n;

		if ((rc = rows_node(w, name, &n)) < 0)
			return lookup_failed(a, rc, "node");
		strcpy(r->node, n.name);
		if (!trust_source_ok(n.ip[0] != '\0', strcmp(r->client, n.ip) == 0))
			return refused(a, 403, -EPERM,
			    "this node's files are served to its own address only");
		if (!n.served_image[0])
			return refused(a, 409, -ENOENT, "node was not served an image");
		strcpy(id, n.served_image);
		f->by_node = true;
	} else if (http_path_image_manifest(url, id) == 0) {
		f->manifest = true;
		f->role = "manifest";
	} else if (http_path_image_template(url, id, f->tpath) == 0) {
		f->tmpl = f->manifest = true; /* served as the manifest is: no role, no phase */
		f->role = "template";
	} else if (http_path_image(url, id, &f->role) < 0) {
		(void)snprintf(a->msg, sizeof(a->msg),
		    "not an image file: use /images/<64-hex id>/%s", roles_hint(roles, sizeof(roles)));
		return refused(a, 404, -ENOENT, NULL);
	}
	if ((rc = rows_image(w, id, &f->img)) < 0)
		return lookup_failed(a, rc, "image id");
	f->k = kind_find(f->img.kind);
	f->kr = f->k && !f->manifest ? kind_role(f->k, f->role) : NULL;
	if (!f->manifest && (!f->kr || !(f->kr->flags & KIND_ROLE_SERVED) ||
	    !image_rec_file(&f->img, f->role))) {
		(void)snprintf(a->msg, sizeof(a->msg), "image %.12s has no file '%s' to serve", id,
		    f->role);
		return refused(a, 404, -ENOENT, NULL);
	}
	/* Registered (a shared store) but not here, or still being fetched: answered as a
	 * missing version. Only the script path starts a sync (it knows the node): a peer's
	 * request must not make two servers that both lack a version ask each other. */
	return sync_have(bs->sync, &f->img) ? IMAGE_SERVE : IMAGE_NOT_HERE;
}

/* The file opened, its path in path for the log: an fd on a regular file, -EBADFD for
 * anything else, or open's -errno. */
static int
image_file_open(const struct wanted *f, char *path, size_t size, struct stat *st)
{
	int fd;

	(void)snprintf(path, size, "%s/%s", f->img.path, f->tmpl ? f->tpath : f->manifest ?
	    "manifest.json" : f->kr->file);
	fd = f->tmpl ? open_template(f->img.path, f->tpath) :
	    open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return f->tmpl ? fd : -errno;
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return -EBADFD;
	}
	return fd;
}

/* A fetch that marks a phase of the kind (linux: the kernel, pxe -> loading) moves the
 * node on from the phase before it; it is known by the fixed address dnsmasq gave it.
 * 1 with *n and *phase when this fetch moves n, 0 when it moves nothing, or a lookup's
 * -errno other than -ENOENT. */
static int
fetch_moves(const struct rows *w, struct req *r, const struct wanted *f,
    struct node_rec *n, const char **phase)
{
	const char *from;
	int rc;

	*phase = f->manifest ? NULL : kind_fetch_phase(f->k, f->role);
	if (!*phase || !r->client[0])
		return 0;
	rc = rows_node_by_ip(w, r->client, n);
	if (rc < 0)
		return rc == -ENOENT ? 0 : rc;
	strcpy(r->node, n->name);
	from = kind_phase_prev(f->k, *phase);
	return from && strcmp(n->phase, from) == 0;
}

/* The file's answer: 304 for a tag the client has, 416 for a range past it, else the
 * file or its range, sent from fd (MHD takes it). */
static enum MHD_Result
serve(struct MHD_Connection *c, struct req *r, const struct wanted *f, int fd,
    const struct stat *st, const char *method)
{
	char etag[SHA256_HEX_SIZE + 2], crange[96];
	uint64_t start = 0, end = 0, size = (uint64_t)st->st_size;
	struct MHD_Response *resp;
	int rc;

	/* The manifest's sha256 is the id (docs/boot-protocol.md); a template's is in the
	 * manifest only, which is not read here: no tag. */
	etag[0] = '\0';
	if (!f->tmpl)
		(void)snprintf(etag, sizeof(etag), "\"%s\"", f->manifest ? f->img.id :
		    image_rec_sha256(&f->img, f->role));
	if (etag[0] && http_etag_matches(MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_IF_NONE_MATCH), etag)) {
		close(fd);
		resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
		if (resp)
			(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
		return http_queue(c, r, 304, resp);
	}

	rc = http_parse_range(MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_RANGE), size, &start, &end);
	if (rc == -ERANGE) {
		close(fd);
		resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
		(void)snprintf(crange, sizeof(crange), "bytes */%" PRIu64, size);
		if (resp)
			(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, crange);
		return http_queue(c, r, 416, resp);
	}
	if (rc == 0) {
		start = 0;
		end = size ? size - 1 : 0;
	}
	/* MHD takes the fd and closes it when the response is destroyed. */
	resp = MHD_create_response_from_fd_at_offset64(size ? end - start + 1 : 0, fd,
	    (uint64_t)start);
	if (!resp) {
		close(fd);
		return MHD_NO;
	}
	if (etag[0])
		(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    f->manifest && !f->tmpl ? "application/json" : "application/octet-stream");
	/* Immutable: a version id never names other bytes. */
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, f->by_node ?
	    "no-cache" : "public, max-age=31536000, immutable");
	if (strcmp(method, "GET") == 0)
		r->bytes += size ? end - start + 1 : 0;
	if (rc == 1) {
		(void)snprintf(crange, sizeof(crange), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64,
		    start, end, size);
		(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, crange);
		return http_queue(c, r, 206, resp);
	}
	return http_queue(c, r, 200, resp);
}

/* A request for an image file, looked up in w, as far as it can go without writing: the
 * file opened with whether fetching it moves a node, or why it is not served. The loop
 * and the readers both start here; each says what it does with the verdict. */
static void
image_find(struct bootsvc *bs, const struct rows *w, struct req *r, const char *url,
    const char *method, struct image_answer *a)
{
	memset(a, 0, sizeof(*a));
	a->fd = -1;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		a->verdict = refused(a, 405, -EINVAL, "method not allowed");
		return;
	}
	if ((a->verdict = image_file_resolve(bs, w, r, url, a)) != IMAGE_SERVE)
		return;
	a->fd = image_file_open(&a->f, a->path, sizeof(a->path), &a->st);
	if (a->fd == -EBADFD)
		a->verdict = refused(a, 500, -EIO, "image file is not a regular file");
	else if (a->fd < 0 && a->f.tmpl)
		a->verdict = refused(a, 404, -ENOENT, "no such template");
	else if (a->fd < 0) {
		a->rc = a->fd;
		a->verdict = IMAGE_MISSING;
	}
	if (a->verdict == IMAGE_SERVE)
		a->moves = fetch_moves(w, r, &a->f, &a->n, &a->phase);
	else
		a->fd = -1;
}

enum MHD_Result
http_images(struct bootsvc *bs, struct MHD_Connection *c, struct req *r, const char *url,
    const char *method)
{
	const struct rows w = { .s = bs->store };
	struct image_answer a;
	char msg[160];

	image_find(bs, &w, r, url, method, &a);
	/* a fetch that may move a node is decided after that node's boot records */
	if (r->node[0] && http_records_before(bs, r->node)) {
		if (a.fd >= 0)
			close(a.fd);
		r->node[0] = '\0';
		image_find(bs, &w, r, url, method, &a);
	}
	switch (a.verdict) {
	case IMAGE_REFUSED:
		return http_respond_error(c, r, a.status, a.rc, a.msg);
	case IMAGE_LOOKUP:
		return http_respond_lookup_error(c, r, a.rc, a.lookup);
	case IMAGE_NOT_HERE:
		(void)snprintf(msg, sizeof(msg), "image %.12s is not on this server (%s)",
		    a.f.img.id, sync_state_of(bs->sync, &a.f.img) == SYNC_STATE_SYNCING ?
		    "being fetched from a peer" : "missing");
		return http_respond_error(c, r, 404, -ENOENT, msg);
	case IMAGE_MISSING:
		log_err("event=image_open image=%s file=%s err=%s", a.f.img.id, a.path,
		    dl_errno_name(a.rc));
		sync_forget(bs->sync, a.f.img.id);
		return http_respond_error(c, r, 500, -EIO, "image file missing on the server");
	case IMAGE_SERVE:
	default:
		break;
	}
	if (a.moves == 1)
		(void)nodes_set_phase(bs, a.n.name, a.phase, "");
	return serve(c, r, &a.f, a.fd, &a.st, method);
}

bool
http_images_read(struct bootsvc *bs, struct http_view *v, struct MHD_Connection *c,
    struct req *r, const char *url, const char *method, enum MHD_Result *ret)
{
	const struct rows w = { .rd = v->rd };
	uint64_t e0 = http_view_fresh(v);
	struct image_answer a;

	image_find(bs, &w, r, url, method, &a);
	/* Anything but a file to serve that moves no node is the loop's: it answers
	 * refusals, logs and forgets a missing version, and writes a phase; and so is a
	 * fetch decided on a node's phase that a boot record may have moved since (this
	 * view's rows older than the loop's: http_view_stands). */
	if (a.verdict != IMAGE_SERVE || a.moves != 0 ||
	    (r->node[0] && !http_view_stands(v, r->node, e0))) {
		if (a.fd >= 0)
			close(a.fd);
		return false;
	}
	*ret = serve(c, r, &a.f, a.fd, &a.st, method);
	return true;
}
