/* SPDX-License-Identifier: MIT */
/* Queueing a request's answer: to libmicrohttpd, or, for a reader thread's request the
 * loop holds, into the request for its thread to queue (http_reader.c), or, for the
 * direct path's, into the request for it to send (http_direct.c). */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>

#include "http/http_head.h"
#include "http/http_internal.h"
#include "proto.h"

enum MHD_Result
http_queue(struct MHD_Connection *c, struct req *r, unsigned status, struct MHD_Response *resp)
{
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO;
	r->status = status;
	if (r->handed) {
		/* The loop answers a reader thread's connection: its own thread queues it. */
		if (r->resp)
			MHD_destroy_response(r->resp);
		r->resp = resp;
		r->resp_status = status;
		return MHD_YES;
	}
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

void
http_suspend(struct MHD_Connection *c, struct req *r)
{
	if (r->handed)
		r->deferred = true;
	else
		MHD_suspend_connection(c);
}

void
http_resume(struct MHD_Connection *c, struct req *r)
{
	MHD_resume_connection(c);
	if (r->wake_fd >= 0)
		(void)eventfd_write(r->wake_fd, 1);
}

/* resp, a body of len bytes, with content_type (NULL: none), queued; NULL resp: MHD_NO. */
static enum MHD_Result
respond_body(struct MHD_Connection *c, struct req *r, unsigned status,
    const char *content_type, struct MHD_Response *resp, size_t len)
{
	if (!resp)
		return MHD_NO;
	if (content_type)
		(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	r->bytes += len;
	return http_queue(c, r, status, resp);
}

const char *
http_arg(struct MHD_Connection *c, const struct req *r, const char *key)
{
	if (r->head)
		return http_head_arg(r->head, key);
	return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, key);
}

/* The direct path's answer, body (owned) taken into r; a second answer replaces it. */
static enum MHD_Result
answer_keep(struct req *r, unsigned status, const char *content_type, char *body, size_t len)
{
	free(r->answer);
	r->answer = body;
	r->answer_len = len;
	r->answer_type = content_type;
	r->status = status;
	r->bytes = len;
	return MHD_YES;
}

enum MHD_Result
http_respond(struct MHD_Connection *c, struct req *r, unsigned status, const char *content_type,
    const char *body, size_t len)
{
	if (r->head) {
		char *copy = malloc(len ? len : 1);

		if (!copy)
			return MHD_NO;
		memcpy(copy, body, len);
		return answer_keep(r, status, content_type, copy, len);
	}
	return respond_body(c, r, status, content_type,
	    MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY), len);
}

enum MHD_Result
http_respond_owned(struct MHD_Connection *c, struct req *r, unsigned status,
    const char *content_type, char *body, size_t len)
{
	struct MHD_Response *resp;

	if (r->head)
		return answer_keep(r, status, content_type, body, len);
	resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!resp)
		free(body); /* not taken: still ours */
	return respond_body(c, r, status, content_type, resp, len);
}

enum MHD_Result
http_respond_error(struct MHD_Connection *c, struct req *r, unsigned status, int code,
    const char *message)
{
	char msg[MAX_ERR_MSG];
	json_t *o;
	char *s;

	/* The message may quote the request's bytes: invalid UTF-8 would fail json_pack
	 * and leave the client without an answer. */
	(void)snprintf(msg, sizeof(msg), "%s", message ? message : "");
	proto_utf8_clean(msg);
	o = json_pack("{s:{s:s,s:s}}", "error", "code", dl_errno_name(code), "message", msg);
	s = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	if (!s)
		return MHD_NO;
	/* jansson allocates with malloc (no json_set_alloc_funcs here): s is taken as it is */
	return http_respond_owned(c, r, status, "application/json", s, strlen(s));
}

enum MHD_Result
http_respond_lookup_error(struct MHD_Connection *c, struct req *r, int rc, const char *what)
{
	char msg[64];

	if (rc == -ENOENT) {
		(void)snprintf(msg, sizeof(msg), "unknown %s", what);
		return http_respond_error(c, r, 404, rc, msg);
	}
	return http_respond_error(c, r, 503, rc, "node store unavailable, try again");
}
