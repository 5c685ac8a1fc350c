/* SPDX-License-Identifier: MIT */
/* GET /ipxe/start and /ipxe/boot?mac=..&uuid=..&serial=..: the node's iPXE script. */
#include <string.h>

#include "http/http_internal.h"
#include "log.h"
#include "boot/nodes.h"
#include "template.h"
#include "boot/templates.h"

/* Template variables for one render. Values are borrowed. */
struct vars {
	const char *names[24];
	const char *values[24];
	size_t n;
};

static void
vars_add(struct vars *v, const char *name, const char *value)
{
	if (v->n < ELEMENTSOF(v->names)) {
		v->names[v->n] = name;
		v->values[v->n] = value;
		v->n++;
	}
}

static const char *
vars_lookup(const char *name, void *userdata)
{
	struct vars *v = userdata;

	for (size_t i = 0; i < v->n; i++)
		if (strcmp(v->names[i], name) == 0)
			return v->values[i];
	return NULL;
}

/* Text that lands in an iPXE script must not be able to start a new command or expand
 * a setting: keep a conservative set of characters. */
static const char *
script_safe(char *buf, size_t size, const char *s)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < size; i++) {
		char c = s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr(" .,:_-=/@+", c);
		buf[i] = ok ? c : '_';
	}
	buf[i] = '\0';
	return buf;
}

static enum MHD_Result
render(struct bootsvc *bs, struct MHD_Connection *c, struct req *r, enum tmpl_id id,
    struct vars *v)
{
	struct dl_err err = { 0 };
	char *out = NULL;
	size_t len = 0;
	enum MHD_Result ret;
	int rc;

	rc = template_render(bs->tmpl.text[id], bs->tmpl.len[id], vars_lookup, v, &out, &len,
	    &err);
	if (rc < 0) {
		log_err("event=template_render template=%s msg=\"%s\"", templates_name(id),
		    err.msg);
		return http_respond_error(c, r, 500, rc, "cannot render the boot script");
	}
	ret = http_respond(c, r, 200, "text/plain", out, len);
	free(out);
	return ret;
}

static enum MHD_Result
boot_node(struct bootsvc *bs, struct MHD_Connection *c, struct req *r, struct node_rec *n)
{
	char poll[24], image_short[13], rootfs_size[24], reason[MAX_REASON + 64], safe[MAX_REASON];
	struct image_rec img;
	struct vars v = { 0 };
	int rc;

	(void)snprintf(poll, sizeof(poll), "%llu",
	    (unsigned long long)(bs->cfg.hold_poll_ms / 1000));
	vars_add(&v, "server", bs->cfg.boot_url);
	vars_add(&v, "node", n->name);
	vars_add(&v, "poll", poll);
	strcpy(r->node, n->name);

	if (strcmp(n->phase, "discovered") == 0 && !n->image[0])
		return render(bs, c, r, TMPL_DISCOVER, &v);
	if (n->hold) {
		(void)snprintf(reason, sizeof(reason), "admin hold: %s",
		    script_safe(safe, sizeof(safe), n->hold_reason));
		vars_add(&v, "reason", reason);
		return render(bs, c, r, TMPL_HOLD, &v);
	}
	rc = nodes_boot_image(bs, n, &img);
	if (rc < 0) {
		if (n->image[0])
			(void)snprintf(reason, sizeof(reason), "image %s has no version",
			    script_safe(safe, sizeof(safe), n->image));
		else
			strcpy(reason, "no image assigned");
		vars_add(&v, "reason", reason);
		return render(bs, c, r, TMPL_HOLD, &v);
	}
	memcpy(image_short, img.id, 12);
	image_short[12] = '\0';
	(void)snprintf(rootfs_size, sizeof(rootfs_size), "%llu",
	    (unsigned long long)(image_rec_file(&img, "rootfs") ? image_rec_file(&img, "rootfs")->size : 0));
	vars_add(&v, "token", n->token);
	vars_add(&v, "image_id", img.id);
	vars_add(&v, "image_name", img.name);
	vars_add(&v, "image_short", image_short);
	vars_add(&v, "cmdline", img.cmdline);
	vars_add(&v, "rootfs_sha256", image_rec_sha256(&img, "rootfs"));
	vars_add(&v, "rootfs_size", rootfs_size);
	vars_add(&v, "initrd_sha256", image_rec_sha256(&img, "initrd"));
	vars_add(&v, "kernel_sha256", image_rec_sha256(&img, "kernel"));

	/* Remember what we served: the node's receipt is checked against it. */
	if (strcmp(n->served_image, img.id) != 0) {
		strcpy(n->served_image, img.id);
		(void)store_node_update(bs->store, n);
	}
	/* Only a change is written: iPXE retrying its script (a failed fetch, a boot loop)
	 * keeps the phase and its start, so the pxe timeout counts from the first request,
	 * and the request path does no store write (docs/benchmarks.md, per-node scripts). */
	if (strcmp(n->phase, "pxe") != 0)
		(void)nodes_set_phase(bs, n->name, "pxe", "");
	return render(bs, c, r, TMPL_LINUX, &v);
}

enum MHD_Result
http_ipxe(struct bootsvc *bs, struct MHD_Connection *c, struct req *r, const char *url)
{
	struct dl_err err = { 0 };
	struct boot_query q;
	struct node_rec n;
	int rc;

	if (strcmp(url, "/ipxe/start") == 0) {
		struct vars v = { 0 };
		vars_add(&v, "server", bs->cfg.boot_url);
		return render(bs, c, r, TMPL_START, &v);
	}
	if (strcmp(url, "/ipxe/boot") != 0)
		return http_respond_error(c, r, 404, -ENOENT, "no such script");

	rc = boot_query_parse(MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "mac"),
	    MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "uuid"),
	    MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "serial"), &q, &err);
	if (rc < 0)
		return http_respond_error(c, r, 400, rc, err.msg);

	rc = store_node_get_by_mac(bs->store, q.mac_str, &n);
	if (rc == -ENOENT) {
		if (!bs->cfg.discover)
			return http_respond_error(c, r, 404, -ENOENT, "unknown node");
		rc = nodes_discover(bs, &q, &n);
	}
	if (rc < 0)
		return http_respond_error(c, r, 500, rc, "node store failed");
	return boot_node(bs, c, r, &n);
}
