/* SPDX-License-Identifier: MIT */
/* /api/v1/nodes/<name>/credential (GET), /phase (POST) and /overlay (GET): calls a
 * booting node makes. All are served only to the node's fixed address where it has one;
 * the credential once per arming (boot/trust.h), the others for the node's current token
 * (the credential), which rotates every boot. */
#include <jansson.h>
#include <string.h>
#include <time.h>

#include "http/http_internal.h"
#include "kind.h"
#include "log.h"
#include "boot/nodes.h"
#include "boot/overlay.h"
#include "boot/credential.h"
#include "boot/receipt.h"
#include "action/action.h"
#include "boot/trust.h"
#include "vm/vm.h"

/* Compare in time independent of where the strings differ: tokens are secrets. */
static bool
token_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = la != lb;

	for (size_t i = 0; i < la && i < lb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0 && la > 0;
}

/* 0 when the request carries n's token; else an error already answered. */
static int
authorize(struct MHD_Connection *c, const struct node_rec *n)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);

	if (!h || strncmp(h, "Bearer ", 7) != 0)
		return -EACCES;
	return token_equal(h + 7, n->token) ? 0 : -EPERM;
}

static enum MHD_Result
phase_report(struct bootsvc *bs, struct MHD_Connection *c, struct req *r, struct node_rec *n)
{
	json_error_t jerr;
	json_t *body, *receipt = NULL, *facts = NULL;
	const char *phase = NULL, *reason = NULL;
	char why[MAX_REASON], msg[MAX_REASON + 64];
	struct image_rec img;
	enum MHD_Result ret;

	if (!r->body)
		return http_respond_error(c, r, 400, -EINVAL, "empty body: expected JSON");
	body = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!body) {
		(void)snprintf(msg, sizeof(msg), "malformed JSON: %s", jerr.text);
		return http_respond_error(c, r, 400, -EINVAL, msg);
	}
	if (json_unpack_ex(body, &jerr, JSON_STRICT, "{s:s,s?s,s?o,s?o}", "phase", &phase,
	    "reason", &reason, "receipt", &receipt, "facts", &facts) < 0) {
		(void)snprintf(msg, sizeof(msg), "bad report: %s", jerr.text);
		ret = http_respond_error(c, r, 400, -EINVAL, msg);
		goto out;
	}
	if (!phase_is_reportable(phase)) {
		ret = http_respond_error(c, r, 400, -EINVAL,
		    "phase must be one of pxe, loading, imaging, up, failed");
		goto out;
	}
	if (reason && strlen(reason) >= MAX_REASON) {
		ret = http_respond_error(c, r, 400, -EINVAL, "reason too long");
		goto out;
	}
	if (strcmp(phase, "failed") == 0 && (!reason || !*reason)) {
		ret = http_respond_error(c, r, 400, -EINVAL, "phase failed needs a reason");
		goto out;
	}
	if (facts && strcmp(phase, "up") != 0) {
		ret = http_respond_error(c, r, 400, -EINVAL, "facts come with phase up only");
		goto out;
	}
	bs->metrics.phase_reports++;
	if (strcmp(phase, "up") == 0) {
		/* The receipt holds what the served image's kind says it holds. */
		bool served = n->served_image[0] &&
		    store_image_get(bs->store, n->served_image, &img) >= 0;
		const struct kind *k = served ? kind_find(img.kind) : NULL;
		struct dl_err err = { 0 };
		struct receipt rcpt;
		struct vm_facts vf;

		if (k ? receipt_from_json(k, receipt, &rcpt, &err) < 0 : !json_is_object(receipt)) {
			ret = http_respond_error(c, r, 400, -EINVAL,
			    k ? err.msg : "phase up needs a receipt object");
			goto out;
		}
		/* Up only if it booted exactly what we served it (issue #3 item 4). */
		if (!served) {
			(void)nodes_set_phase(bs, n->name, "failed",
			    "reported up but was never served an image");
		} else if (!k) {
			(void)snprintf(why, sizeof(why), "served image %.12s has unknown kind",
			    img.id);
			(void)nodes_set_phase(bs, n->name, "failed", why);
		} else if (!receipt_check(&img, &rcpt, why, sizeof(why))) {
			(void)nodes_set_phase(bs, n->name, "failed", why);
		} else if (!kind_is_vm_host(k) && facts) {
			ret = http_respond_error(c, r, 400, -EINVAL,
			    "facts come from VM hosts only (this node's kind is not one)");
			goto out;
		} else if (kind_is_vm_host(k) &&
		    vm_facts_from_json(facts, k, n->ip, &vf, &err) < 0) {
			/* Up means usable: a hypervisor without good facts is no VM host. */
			(void)nodes_set_phase(bs, n->name, "failed", err.msg);
		} else {
			strcpy(n->booted_image, img.id);
			(void)store_node_update_ctrl(bs->store, n);
			(void)nodes_set_phase(bs, n->name, "up", "");
			if (kind_is_vm_host(k))
				(void)vm_host_register(bs, bs->vm, n, k, &vf);
		}
	} else
		(void)nodes_set_phase(bs, n->name, phase, reason ? reason : "");
	ret = http_respond(c, r, 204, NULL, "", 0);
out:
	json_decref(body);
	return ret;
}

/* An overlay built on the overlay pool (action.h) while its connection waits suspended,
 * so reading big site files never holds the loop, and other nodes' scripts with it. */
struct overlay_job {
	struct overlay_input in;
	struct MHD_Connection *c;
	struct req *r;
	char *buf;   /* written by the worker */
	size_t len;
};

/* Deadline of one build: a site directory on a hung NFS mount must not keep its
 * connection (and a pool thread's slot) forever. */
#define OVERLAY_DEADLINE_MS 30000

/* A VM host's overlay holds the private key made for its boot (boot/overlay.h): wipe
 * every copy of ours before it is freed. */
static void
overlay_buf_free(char *buf, size_t len)
{
	if (buf)
		explicit_bzero(buf, len);
	free(buf);
}

static int
overlay_job_run(void *payload, const atomic_bool *cancelled, struct dl_err *reterr)
{
	struct overlay_job *j = payload;

	(void)cancelled;
	overlay_buf_free(j->buf, j->len);
	j->buf = NULL;
	return overlay_render(&j->in, &j->buf, &j->len, reterr);
}

static void
overlay_job_done(void *payload, const struct action_result *res)
{
	struct overlay_job *j = payload;

	if (res->outcome == ACTION_OK) {
		(void)http_respond(j->c, j->r, 200, "application/x-cpio", j->buf, j->len);
	} else {
		log_err("event=overlay node=%s msg=\"%s\"", res->node, res->msg);
		(void)http_respond_error(j->c, j->r, res->outcome == ACTION_TIMED_OUT ? 504 :
		    res->outcome == ACTION_CANCELLED ? 503 : 500, res->r, res->msg);
	}
	http_resume(j->c, j->r);
}

static void
overlay_job_free(void *payload)
{
	struct overlay_job *j = payload;

	overlay_input_done(&j->in);
	overlay_buf_free(j->buf, j->len);
	free(j);
}

static const struct action_type overlay_type = {
	.name = "overlay", .pool = ACTION_POOL_OVERLAY, .res = ACTION_RES_OVERLAY,
	.shared = true, .routine = true, .deadline_ms = OVERLAY_DEADLINE_MS,
	.run = overlay_job_run, .done = overlay_job_done, .free = overlay_job_free,
};

static enum MHD_Result
overlay(struct bootsvc *bs, struct MHD_Connection *c, struct req *r, struct node_rec *n)
{
	struct dl_err err = { 0 };
	struct overlay_job *j;
	struct image_rec img;
	char *buf = NULL;
	size_t len = 0;
	enum MHD_Result ret;
	int rc;

	if (!n->served_image[0] || (rc = store_image_get(bs->store, n->served_image, &img)) == -ENOENT)
		return http_respond_error(c, r, 409, -ENOENT, "node was not served an image");
	if (rc < 0)
		return http_respond_lookup_error(c, r, rc, "image id");
	if (bs->action) {
		if (!(j = calloc(1, sizeof(*j))))
			return http_respond_error(c, r, 503, -ENOMEM, "out of memory");
		j->c = c;
		j->r = r;
		if ((rc = overlay_prepare(bs, n, &img, &j->in, &err)) == 0 &&
		    (rc = action_submit(bs->action, n->name, &overlay_type, j, ACTION_WAIT,
		    &err)) == 0) {
			http_suspend(c, r);
			return MHD_YES;
		}
		overlay_job_free(j);
		log_err("event=overlay node=%s msg=\"%s\"", n->name, err.msg);
		return http_respond_error(c, r, rc == -EAGAIN || rc == -ESHUTDOWN ? 503 : 500, rc,
		    err.msg);
	}
	/* No worker pools (tests that run the handlers alone): build it here. */
	rc = overlay_build(bs, n, &img, &buf, &len, &err);
	if (rc < 0) {
		log_err("event=overlay node=%s msg=\"%s\"", n->name, err.msg);
		return http_respond_error(c, r, 500, rc, err.msg);
	}
	ret = http_respond(c, r, 200, "application/x-cpio", buf, len);
	overlay_buf_free(buf, len);
	return ret;
}

static enum MHD_Result
credential(struct bootsvc *bs, struct MHD_Connection *c, struct req *r, struct node_rec *n,
    bool from_registered)
{
	char *buf = NULL;
	size_t len = 0;
	enum MHD_Result ret;
	int rc;

	switch (trust_cred_decide(n->ip[0] != '\0', from_registered, n->armed)) {
	case TC_SERVE:
		break;
	case TC_WRONG_SOURCE:
		http_observe(bs, r, n, "cred-refused", "credential asked for from another address");
		return http_respond_error(c, r, 403, -EPERM,
		    "this node's credential is handed to its own address only");
	case TC_NOT_ARMED:
	default:
		http_observe(bs, r, n, "cred-refused", "credential asked for while not armed "
		    "(handed out already, or no boot armed it)");
		return http_respond_error(c, r, 403, -EPERM, "node is not armed");
	}
	{
		char *cpio = NULL;
		size_t cpio_len = 0;

		rc = credential_cpio_build(n->token, &cpio, &cpio_len);
		if (rc == 0) {
			rc = credential_gzip_stored(cpio, cpio_len, &buf, &len);
			explicit_bzero(cpio, cpio_len);
			free(cpio);
		}
	}
	if (rc < 0)
		return http_respond_error(c, r, 500, rc, "cannot build the credential");
	/* Disarm before answering: if the store cannot record it, nothing is handed out. */
	if (nodes_disarm(bs, n) < 0) {
		explicit_bzero(buf, len);
		free(buf);
		return http_respond_error(c, r, 500, -EIO, "node store failed");
	}
	{
		char why[96];

		(void)snprintf(why, sizeof(why), "handed out to %s",
		    r->client[0] ? r->client : "unknown");
		(void)store_event_add(bs->store, n->name, "credential", why, (int64_t)time(NULL));
		notify(&bs->notify, NOTIFY_HISTORY);
		log_notice("event=credential node=%s client=%s", n->name,
		    r->client[0] ? r->client : "-");
	}
	ret = http_respond(c, r, 200, "application/gzip", buf, len);
	explicit_bzero(buf, len);
	free(buf);
	return ret;
}

enum MHD_Result
api_node(struct bootsvc *bs, struct MHD_Connection *c, struct req *r, const char *url,
    const char *method)
{
	char name[MAX_NODE_NAME], action[16], msg[160];
	struct node_rec n;
	bool from_registered;
	int rc;

	if (http_path_node_api(url, name, action) < 0)
		return http_respond_error(c, r, 404, -ENOENT, "no such API resource");
	strcpy(r->node, name);
	if ((rc = store_node_get(bs->store, name, &n)) < 0)
		return http_respond_lookup_error(c, r, rc, "node");
	from_registered = n.ip[0] && strcmp(r->client, n.ip) == 0;
	if (strcmp(action, "credential") == 0) {
		if (strcmp(method, "GET") != 0)
			return http_respond_error(c, r, 405, -EINVAL, "use GET");
		return credential(bs, c, r, &n, from_registered);
	}
	/* No credential at all: 401 wherever it comes from. With one, the source is checked
	 * before the token, so a wrong address learns nothing about the token. */
	rc = authorize(c, &n);
	if (rc != -EACCES && !trust_source_ok(n.ip[0] != '\0', from_registered)) {
		bs->metrics.phase_rejected++;
		http_observe(bs, r, &n, "api-refused", "node call from another address");
		return http_respond_error(c, r, 403, -EPERM,
		    "this node's calls are taken from its own address only");
	}
	if (rc < 0) {
		bs->metrics.phase_rejected++;
		(void)snprintf(msg, sizeof(msg), rc == -EACCES ? "missing bearer token" :
		    "token does not belong to node '%s'", name);
		log_warning("event=api_auth node=%s client=%s msg=\"%s\"", name,
		    r->client[0] ? r->client : "-", msg);
		return http_respond_error(c, r, rc == -EACCES ? 401 : 403, rc, msg);
	}
	if (strcmp(action, "phase") == 0) {
		if (strcmp(method, "POST") != 0)
			return http_respond_error(c, r, 405, -EINVAL, "use POST");
		return phase_report(bs, c, r, &n);
	}
	if (strcmp(action, "overlay") == 0) {
		if (strcmp(method, "GET") != 0)
			return http_respond_error(c, r, 405, -EINVAL, "use GET");
		return overlay(bs, c, r, &n);
	}
	return http_respond_error(c, r, 404, -ENOENT, "no such API resource");
}

bool
api_node_refused(struct bootsvc *bs, struct MHD_Connection *c, const char *url)
{
	char name[MAX_NODE_NAME], action[16];
	struct node_rec n;

	return http_path_node_api(url, name, action) < 0 ||
	    store_node_get(bs->store, name, &n) < 0 || authorize(c, &n) < 0;
}
