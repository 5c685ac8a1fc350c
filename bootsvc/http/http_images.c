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

/* A fetch that marks a phase of the kind (linux: the kernel, pxe -> loading) moves the
 * node on from the phase before it; it is known by the fixed address dnsmasq gave it. */
static void
note_fetch(struct bootsvc *bs, struct req *r, const struct kind *k, const char *role)
{
	const char *phase = kind_fetch_phase(k, role), *from;
	struct node_rec n;

	if (!phase || !r->client[0])
		return;
	if (store_node_get_by_ip(bs->store, r->client, &n) < 0)
		return;
	strcpy(r->node, n.name);
	from = kind_phase_prev(k, phase);
	if (from && strcmp(n.phase, from) == 0)
		(void)nodes_set_phase(bs, n.name, phase, "");
}

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

enum MHD_Result
http_images(struct bootsvc *bs, struct MHD_Connection *c, struct req *r, const char *url,
    const char *method)
{
	char id[SHA256_HEX_SIZE], path[MAX_STORE_PATH + MAX_TEMPLATE_PATH + 32];
	char etag[SHA256_HEX_SIZE + 2];
	char crange[96], msg[160], name[MAX_NODE_NAME], tpath[MAX_TEMPLATE_PATH + 1];
	bool by_node = false, manifest = false, tmpl = false;
	const struct kind_role *kr;
	const struct kind *k;
	const char *role;
	struct image_rec img;
	struct MHD_Response *resp;
	struct stat st;
	uint64_t start = 0, end = 0, size;
	int fd, rc;

	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return http_respond_error(c, r, 405, -EINVAL, "method not allowed");
	if (http_path_node_image(url, name, &role) == 0) {
		/* By node: the version bootsvc last served it, to its own address only. The
		 * same name names other bytes after a reimage, so no cache may keep it. */
		struct node_rec n;

		if ((rc = store_node_get(bs->store, name, &n)) < 0)
			return http_respond_lookup_error(c, r, rc, "node");
		strcpy(r->node, n.name);
		if (!trust_source_ok(n.ip[0] != '\0', strcmp(r->client, n.ip) == 0))
			return http_respond_error(c, r, 403, -EPERM,
			    "this node's files are served to its own address only");
		if (!n.served_image[0])
			return http_respond_error(c, r, 409, -ENOENT,
			    "node was not served an image");
		strcpy(id, n.served_image);
		by_node = true;
	} else if (http_path_image_manifest(url, id) == 0) {
		manifest = true;
		role = "manifest";
	} else if (http_path_image_template(url, id, tpath) == 0) {
		tmpl = manifest = true; /* served as the manifest is: no role, no phase */
		role = "template";
	} else if (http_path_image(url, id, &role) < 0) {
		char roles[96];

		(void)snprintf(msg, sizeof(msg), "not an image file: use /images/<64-hex id>/%s",
		    roles_hint(roles, sizeof(roles)));
		return http_respond_error(c, r, 404, -ENOENT, msg);
	}
	if ((rc = store_image_get(bs->store, id, &img)) < 0)
		return http_respond_lookup_error(c, r, rc, "image id");
	k = kind_find(img.kind);
	kr = k && !manifest ? kind_role(k, role) : NULL;
	if (!manifest && (!kr || !(kr->flags & KIND_ROLE_SERVED) ||
	    !image_rec_file(&img, role))) {
		(void)snprintf(msg, sizeof(msg), "image %.12s has no file '%s' to serve", id, role);
		return http_respond_error(c, r, 404, -ENOENT, msg);
	}
	/* Registered (a shared store) but not here, or still being fetched: answered as a
	 * missing version. Only the script path starts a sync (it knows the node): a peer's
	 * request must not make two servers that both lack a version ask each other. */
	if (!sync_have(bs->sync, &img)) {
		(void)snprintf(msg, sizeof(msg), "image %.12s is not on this server (%s)", id,
		    sync_state_of(bs->sync, &img) == SYNC_STATE_SYNCING ?
		    "being fetched from a peer" : "missing");
		return http_respond_error(c, r, 404, -ENOENT, msg);
	}

	(void)snprintf(path, sizeof(path), "%s/%s", img.path, tmpl ? tpath : manifest ?
	    "manifest.json" : kr->file);
	if (tmpl) {
		fd = open_template(img.path, tpath);
		if (fd < 0)
			return http_respond_error(c, r, 404, -ENOENT, "no such template");
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	}
	if (fd < 0) {
		log_err("event=image_open image=%s file=%s err=%s", id, path,
		    dl_errno_name(-errno));
		sync_forget(bs->sync, id);
		return http_respond_error(c, r, 500, -EIO, "image file missing on the server");
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return http_respond_error(c, r, 500, -EIO, "image file is not a regular file");
	}
	size = (uint64_t)st.st_size;
	/* The manifest's sha256 is the id (docs/boot-protocol.md); a template's is in the
	 * manifest only, which is not read here: no tag. */
	etag[0] = '\0';
	if (!tmpl)
		(void)snprintf(etag, sizeof(etag), "\"%s\"", manifest ? img.id :
		    image_rec_sha256(&img, role));
	if (!manifest)
		note_fetch(bs, r, k, role);

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
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, manifest && !tmpl ?
	    "application/json" : "application/octet-stream");
	/* Immutable: a version id never names other bytes. */
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, by_node ? "no-cache" :
	    "public, max-age=31536000, immutable");
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
