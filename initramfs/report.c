/* SPDX-License-Identifier: MIT */
/* Phase reports and the receipt; see report.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpc.h"
#include "report.h"

/* An error answer is {"error": {"code", "message"}}; we only quote its start. */
#define MAX_ERR_BODY 512
/* phase + reason + receipt with escaping headroom */
#define MAX_REPORT_BODY (MAX_RECEIPT + 3 * MAX_INIT_ERR + 128)

int
report_phase(const struct http_server *srv, const char *node, const char *token,
    const char *phase, const char *reason, const char *receipt_json, struct init_err *reterr)
{
	char body[MAX_REPORT_BODY], path[128], q[160];
	struct httpc_conn c = { .fd = -1 };
	struct httpc_req req = { .method = "POST", .path = path, .token = token,
		.content_type = "application/json", .body = body };
	char *answer = NULL;
	size_t n;
	int r;

	(void)snprintf(path, sizeof(path), "/api/v1/nodes/%s/phase", node);
	n = (size_t)snprintf(body, sizeof(body), "{\"phase\":");
	r = init_json_str(body + n, sizeof(body) - n, phase);
	if (r < 0)
		goto out_nospc;
	n += (size_t)r;
	if (reason) {
		n += (size_t)snprintf(body + n, sizeof(body) - n, ",\"reason\":");
		r = init_json_str(body + n, sizeof(body) - n, reason);
		if (r < 0)
			goto out_nospc;
		n += (size_t)r;
	}
	if (receipt_json) {
		r = snprintf(body + n, sizeof(body) - n, ",\"receipt\":%s", receipt_json);
		if (r < 0 || (size_t)r >= sizeof(body) - n)
			goto out_nospc;
		n += (size_t)r;
	}
	if (n + 2 > sizeof(body))
		goto out_nospc;
	body[n++] = '}';
	body[n] = '\0';
	req.body_len = n;

	r = httpc_begin(&c, srv, &req, reterr);
	if (r < 0)
		goto out_close;
	if (c.resp.status / 100 == 2) {
		r = 0;
		goto out_close;
	}
	q[0] = '\0';
	if (httpc_read_all(&c, MAX_ERR_BODY, &answer, NULL) > 0)
		init_sanitize(q, sizeof(q), answer, strlen(answer));
	r = init_err_set(reterr, -EPROTO, "HTTP %d %s", c.resp.status, q);
	free(answer);
out_close:
	httpc_close(&c);
	return r;
out_nospc:
	return init_err_set(reterr, -ENOSPC, "report body too long");
}

int
report_receipt_build(char *buf, size_t size, const char *kernel, const char *initrd, const char *rootfs)
{
	const char *names[] = { "{\"kernel\":", ",\"initrd\":", ",\"rootfs\":" };
	const char *vals[] = { kernel, initrd, rootfs };
	size_t n = 0, i;
	int r;

	for (i = 0; i < 3; i++) {
		size_t l = strlen(names[i]);

		if (n + l >= size)
			return -ENOSPC;
		memcpy(buf + n, names[i], l);
		n += l;
		r = init_json_str(buf + n, size - n, vals[i]);
		if (r < 0)
			return r;
		n += (size_t)r;
	}
	if (n + 2 >= size)
		return -ENOSPC;
	buf[n++] = '}';
	buf[n++] = '\n';
	buf[n] = '\0';
	return (int)n;
}

int
report_receipt_check(char *s, struct init_err *reterr)
{
	size_t len = strlen(s), i;

	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == ' ' || s[len - 1] == '\r' ||
	    s[len - 1] == '\t'))
		s[--len] = '\0';
	if (len < 2 || len > MAX_RECEIPT || s[0] != '{' || s[len - 1] != '}')
		return init_err_set(reterr, -EINVAL, "receipt is not a JSON object of at most %d bytes",
		    MAX_RECEIPT);
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return init_err_set(reterr, -EINVAL, "receipt has a control character at byte %zu",
			    i);
	return 0;
}
