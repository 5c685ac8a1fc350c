/* SPDX-License-Identifier: MIT */
/* Phase reports and the receipt; see report.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "httpc.h"
#include "report.h"

/* An error answer is {"error": {"code", "message"}}; we only quote its start. */
#define MAX_ERR_BODY 512
/* phase + reason + receipt + facts with escaping headroom */
#define MAX_REPORT_BODY (MAX_RECEIPT + MAX_FACTS + 3 * MAX_INIT_ERR + 128)

int
report_phase(const struct http_server *srv, const char *node, const char *token,
    const char *phase, const char *reason, const char *receipt_json, struct init_err *reterr)
{
	return report_phase_facts(srv, node, token, phase, reason, receipt_json, NULL, NULL,
	    reterr);
}

int
report_phase_facts(const struct http_server *srv, const char *node, const char *token,
    const char *phase, const char *reason, const char *receipt_json, const char *facts_json,
    int *ret_status, struct init_err *reterr)
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
	if (facts_json) {
		r = snprintf(body + n, sizeof(body) - n, ",\"facts\":%s", facts_json);
		if (r < 0 || (size_t)r >= sizeof(body) - n)
			goto out_nospc;
		n += (size_t)r;
	}
	if (n + 2 > sizeof(body))
		goto out_nospc;
	body[n++] = '}';
	body[n] = '\0';
	req.body_len = n;

	if (ret_status)
		*ret_status = 0;
	r = httpc_begin(&c, srv, &req, reterr);
	if (r < 0)
		goto out_close;
	if (ret_status)
		*ret_status = c.resp.status;
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

/* What a down, restarting or overloaded bootsvc looks like from here. */
static bool
is_transient(int rc, int http_status)
{
	switch (-rc) {
	case EPROTO:
		/* no HTTP answer at all (a cut head), or the server says "not now" */
		return http_status == 0 || http_status >= 500 || http_status == 408 ||
		    http_status == 429;
	case ECONNREFUSED:
	case ECONNRESET:
	case ECONNABORTED:
	case ETIMEDOUT:
	case EHOSTUNREACH:
	case ENETUNREACH:
	case ENETDOWN:
	case EPIPE:
		return true;
	default:
		return false;
	}
}

enum report_next
report_retry_next(int rc, int http_status, unsigned tries, uint64_t spent_ms,
    uint64_t budget_ms, unsigned *ret_delay_ms)
{
	uint64_t delay = REPORT_BACKOFF_MIN_MS;

	if (rc == 0)
		return REPORT_NEXT_DONE;
	if (!is_transient(rc, http_status) || spent_ms >= budget_ms)
		return REPORT_NEXT_GIVE_UP;
	for (unsigned i = 1; i < tries && delay < REPORT_BACKOFF_MAX_MS; i++)
		delay *= 2;
	if (delay > REPORT_BACKOFF_MAX_MS)
		delay = REPORT_BACKOFF_MAX_MS;
	if (delay > budget_ms - spent_ms)
		delay = budget_ms - spent_ms;
	*ret_delay_ms = (unsigned)delay;
	return REPORT_NEXT_RETRY;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int
report_phase_retry(const struct http_server *srv, const char *node, const char *token,
    const char *phase, const char *reason, const char *receipt_json, const char *facts_json,
    uint64_t budget_ms, struct init_err *reterr)
{
	uint64_t start = now_ms();
	unsigned delay = 0;

	for (unsigned tries = 1;; tries++) {
		int status = 0;
		int r = report_phase_facts(srv, node, token, phase, reason, receipt_json,
		    facts_json, &status, reterr);

		switch (report_retry_next(r, status, tries, now_ms() - start, budget_ms, &delay)) {
		case REPORT_NEXT_DONE:
			return 0;
		case REPORT_NEXT_GIVE_UP:
			return is_transient(r, status) ? -ETIME : r;
		case REPORT_NEXT_RETRY:
			break;
		}
		init_log("warning: report %s to %s: %s (try %u), will retry in %u ms", phase,
		    srv->host, reterr ? reterr->msg : "", tries, delay);
		init_sleep_ms(delay);
	}
}

int
report_receipt_build(char *buf, size_t size, const char *kernel, const char *initrd,
    const char *rootfs, const char *hypervisor)
{
	const char *names[] = { "{\"kernel\":", ",\"initrd\":", ",\"rootfs\":", ",\"hypervisor\":" };
	const char *vals[] = { kernel, initrd, rootfs, hypervisor };
	size_t n = 0, i, nf = hypervisor && *hypervisor ? 4 : 3;
	int r;

	for (i = 0; i < nf; i++) {
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

/* A small recursive-descent JSON checker: the facts are spliced into the body as they
 * are, so they must be exactly one well-formed value. */
struct jcur {
	const char *p, *end;
};

static void
jws(struct jcur *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

static bool jvalue(struct jcur *c, int depth);

static bool
jstring(struct jcur *c)
{
	if (c->p >= c->end || *c->p != '"')
		return false;
	for (c->p++; c->p < c->end; c->p++) {
		unsigned char ch = (unsigned char)*c->p;

		if (ch == '"') {
			c->p++;
			return true;
		}
		if (ch < 0x20)
			return false;
		if (ch == '\\') {
			if (++c->p >= c->end)
				return false;
			if (*c->p == 'u') {
				for (int i = 0; i < 4; i++)
					if (++c->p >= c->end || !strchr("0123456789abcdefABCDEF", *c->p) ||
					    *c->p == '\0')
						return false;
			} else if (!strchr("\"\\/bfnrt", *c->p) || *c->p == '\0') {
				return false;
			}
		}
	}
	return false;
}

static bool
jnumber(struct jcur *c)
{
	const char *s = c->p;

	if (c->p < c->end && *c->p == '-')
		c->p++;
	if (c->p >= c->end || *c->p < '0' || *c->p > '9')
		return false;
	if (*c->p == '0')
		c->p++;
	else
		while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
			c->p++;
	if (c->p < c->end && *c->p == '.') {
		c->p++;
		if (c->p >= c->end || *c->p < '0' || *c->p > '9')
			return false;
		while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
			c->p++;
	}
	if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
		c->p++;
		if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
			c->p++;
		if (c->p >= c->end || *c->p < '0' || *c->p > '9')
			return false;
		while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
			c->p++;
	}
	return c->p > s;
}

static bool
jword(struct jcur *c, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n) != 0)
		return false;
	c->p += n;
	return true;
}

static bool
jcontainer(struct jcur *c, int depth, char close, bool object)
{
	if (depth > MAX_FACTS_DEPTH)
		return false;
	c->p++;
	jws(c);
	if (c->p < c->end && *c->p == close) {
		c->p++;
		return true;
	}
	for (;;) {
		jws(c);
		if (object) {
			if (!jstring(c))
				return false;
			jws(c);
			if (c->p >= c->end || *c->p != ':')
				return false;
			c->p++;
		}
		if (!jvalue(c, depth + 1))
			return false;
		jws(c);
		if (c->p < c->end && *c->p == ',') {
			c->p++;
			continue;
		}
		if (c->p < c->end && *c->p == close) {
			c->p++;
			return true;
		}
		return false;
	}
}

static bool
jvalue(struct jcur *c, int depth)
{
	jws(c);
	if (c->p >= c->end)
		return false;
	switch (*c->p) {
	case '{':
		return jcontainer(c, depth, '}', true);
	case '[':
		return jcontainer(c, depth, ']', false);
	case '"':
		return jstring(c);
	case 't':
		return jword(c, "true");
	case 'f':
		return jword(c, "false");
	case 'n':
		return jword(c, "null");
	default:
		return jnumber(c);
	}
}

int
report_facts_check(char *s, struct init_err *reterr)
{
	size_t len = strlen(s);
	struct jcur c;

	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == ' ' || s[len - 1] == '\r' ||
	    s[len - 1] == '\t'))
		s[--len] = '\0';
	if (len > MAX_FACTS)
		return init_err_set(reterr, -EFBIG, "facts are larger than %d bytes", MAX_FACTS);
	c.p = s;
	c.end = s + len;
	jws(&c);
	if (c.p >= c.end || *c.p != '{')
		return init_err_set(reterr, -EINVAL, "facts are not a JSON object");
	if (!jvalue(&c, 0))
		return init_err_set(reterr, -EINVAL, "facts are not well-formed JSON (at byte %zu)",
		    (size_t)(c.p - s));
	jws(&c);
	if (c.p != c.end)
		return init_err_set(reterr, -EINVAL, "facts have text after the object (byte %zu)",
		    (size_t)(c.p - s));
	return 0;
}
