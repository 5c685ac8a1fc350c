/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "client.h"
#include "macro.h"
#include "proto.h"
#include "tls_client.h"

/* Keys a response may carry (docs/control-protocol.md); anything else means we are not
 * talking to the daemon we think we are. */
static const char *const response_keys[] = { "id", "ok", "result", "error", NULL };
static const char *const error_keys[] = { "code", "message", NULL };

/* An event read by client_call() and kept for client_next_event(). */
struct client_queued {
	struct client_queued *next;
	struct client_event ev;
};

static int64_t
client_now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts); /* cannot fail for CLOCK_MONOTONIC */
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Copy s into dst (size bytes), control characters replaced by '?': the text ends up on
 * the admin's terminal. */
static void
client_copy_text(char *dst, size_t size, const char *s)
{
	size_t i = 0;

	for (; s[i] && i + 1 < size; i++) {
		unsigned char c = (unsigned char)s[i];

		dst[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	dst[i] = '\0';
}

void
client_reply_done(struct client_reply *r)
{
	if (!r)
		return;
	json_decref(r->result);
	memset(r, 0, sizeof(*r));
}

struct client *
client_new_fd(int fd)
{
	struct client *c = calloc(1, sizeof(*c));

	if (!c) {
		closep(&fd);
		return NULL;
	}
	c->fd = fd;
	c->next_id = 1;
	c->timeout_ms = CLIENT_TIMEOUT_MS;
	c->max_line = MAX_RESPONSE_LINE;
	c->wake_fd = -1;
	return c;
}

void
client_event_done(struct client_event *e)
{
	if (!e)
		return;
	json_decref(e->raw);
	memset(e, 0, sizeof(*e));
}

struct client *
client_free(struct client *c)
{
	if (!c)
		return NULL;
	if (c->tls) {
		c->tls = tls_client_free(c->tls);
		c->fd = -1;
	}
	closep(&c->fd);
	free(c->buf);
	while (c->queue_head) {
		struct client_queued *q = c->queue_head;

		c->queue_head = q->next;
		client_event_done(&q->ev);
		free(q);
	}
	free(c);
	return NULL;
}

static const char *
client_connect_hint(int code)
{
	switch (-code) {
	case ENOENT:
	case ECONNREFUSED:
		return " (is bootsvc running? --socket or DISKLESS_SOCKET choose another socket)";
	case EACCES:
	case EPERM:
		return " (nodectl needs root or membership of bootsvc's control_group)";
	default:
		return "";
	}
}

int
client_connect(const char *path, struct client **ret, struct dl_err *reterr)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;
	struct client *c;
	int r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return dl_err_set(reterr, -ENAMETOOLONG,
		    "cannot connect to bootsvc at '%s': a socket path has at most %zu bytes",
		    path, sizeof(sa.sun_path) - 1);
	memcpy(sa.sun_path, path, strlen(path) + 1);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = negative_errno();
		return dl_err_set(reterr, r, "cannot create a socket for '%s': %s", path,
		    strerror(-r));
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = negative_errno();
		return dl_err_set(reterr, r, "cannot connect to bootsvc at '%s': %s%s", path,
		    strerror(-r), client_connect_hint(r));
	}
	c = client_new_fd(TAKE_FD(fd));
	if (!c)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	*ret = c;
	return 0;
}

int
client_connect_tls(const char *server, const char *cert, const char *key, const char *ca,
    struct client **ret, struct dl_err *reterr)
{
	struct tls_client *t = NULL;
	struct client *c;
	int fd = -1, r;

	r = tls_client_connect(server, cert, key, ca, CLIENT_TIMEOUT_MS, &t, &fd, reterr);
	if (r < 0)
		return r;
	c = calloc(1, sizeof(*c));
	if (!c) {
		tls_client_free(t);
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	}
	c->fd = fd;
	c->tls = t;
	c->next_id = 1;
	c->timeout_ms = CLIENT_TIMEOUT_MS;
	c->max_line = MAX_RESPONSE_LINE;
	c->wake_fd = -1;
	*ret = c;
	return 0;
}

/* Wait until fd is ready for events or the deadline passes; a deadline already passed
 * still looks once, so a zero timeout means "only what is ready now". */
static int
client_wait(struct client *c, short events, int64_t deadline, struct dl_err *reterr)
{
	for (;;) {
		struct pollfd p[2] = { { .fd = c->fd, .events = events },
			{ .fd = c->wake_fd, .events = POLLIN } };
		int64_t left = deadline - client_now_ms();
		int n;

		if (left < 0)
			left = 0;
		n = poll(p, c->wake_fd >= 0 ? 2 : 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (n > 0 && c->wake_fd >= 0 && p[1].revents)
			return dl_err_set(reterr, -EINTR, "interrupted");
		if (n > 0)
			return 0;
		if (n == 0)
			return dl_err_set(reterr, -ETIMEDOUT,
			    "bootsvc did not answer within %d s", c->timeout_ms / 1000);
		if (errno != EINTR) {
			int r = negative_errno();

			return dl_err_set(reterr, r, "waiting for bootsvc: %s", strerror(-r));
		}
	}
}

static int
client_write_all(struct client *c, const char *p, size_t n, int64_t deadline,
    struct dl_err *reterr)
{
	while (n > 0) {
		ssize_t w;
		int r = client_wait(c, POLLOUT, deadline, reterr);

		if (r < 0)
			return r;
		if (c->tls) {
			w = tls_client_send(c->tls, p, n, reterr);
			if (w == -EAGAIN)
				continue;
			if (w < 0)
				return (int)w;
			p += w;
			n -= (size_t)w;
			continue;
		}
		/* MSG_NOSIGNAL: a daemon that went away is an error to report, not SIGPIPE. */
		w = send(c->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			r = negative_errno();
			return dl_err_set(reterr, r, "sending the request to bootsvc: %s",
			    strerror(-r));
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read until c->buf holds a '\n'; *ret_len is the line's length without it. */
static int
client_read_line(struct client *c, int64_t deadline, size_t *ret_len, struct dl_err *reterr)
{
	size_t scanned = 0;

	for (;;) {
		char *nl = c->len > scanned ? memchr(c->buf + scanned, '\n', c->len - scanned)
		    : NULL;
		ssize_t n;
		int r;

		if (nl) {
			*ret_len = (size_t)(nl - c->buf);
			return 0;
		}
		scanned = c->len;
		if (c->len > c->max_line)
			return dl_err_set(reterr, -EMSGSIZE,
			    "bootsvc's answer is longer than %zu bytes", c->max_line);
		if (c->cap - c->len < 4096) {
			/* Grow geometrically, but never past the cap plus one read. */
			size_t cap = c->cap ? c->cap * 2 : 64 * 1024;
			char *p;

			if (cap > c->max_line + 64 * 1024)
				cap = c->max_line + 64 * 1024;
			if (cap <= c->cap)
				cap = c->cap + 64 * 1024;
			p = realloc(c->buf, cap);
			if (!p)
				return dl_err_set(reterr, -ENOMEM, "out of memory reading the answer");
			c->buf = p;
			c->cap = cap;
		}
		/* Bytes the TLS session already decrypted are not seen by poll(). */
		if (!c->tls || !tls_client_pending(c->tls)) {
			r = client_wait(c, POLLIN, deadline, reterr);
			if (r < 0)
				return r;
		}
		if (c->tls) {
			n = tls_client_recv(c->tls, c->buf + c->len, c->cap - c->len, reterr);
			if (n == -EAGAIN)
				continue;
			if (n < 0)
				return (int)n;
		} else
			n = recv(c->fd, c->buf + c->len, c->cap - c->len, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			r = negative_errno();
			return dl_err_set(reterr, r, "reading bootsvc's answer: %s", strerror(-r));
		}
		if (n == 0)
			return dl_err_set(reterr, -ECONNRESET, c->len
			    ? "bootsvc closed the connection in the middle of its answer"
			    : "bootsvc closed the connection without answering");
		c->len += (size_t)n;
	}
}

static int
client_check_keys(const json_t *o, const char *const *allowed, const char *what,
    struct dl_err *reterr)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)o, key, v) {
		bool known = false;

		for (size_t i = 0; allowed[i]; i++)
			known |= streq(key, allowed[i]);
		if (!known) {
			char q[64];

			client_copy_text(q, sizeof(q), key);
			return dl_err_set(reterr, -EPROTO, "%s has an unknown key '%s'", what, q);
		}
	}
	return 0;
}

/* One line as a JSON object: both envelopes are objects. */
static int
client_load_line(const char *line, size_t len, json_t **ret, struct dl_err *reterr)
{
	json_error_t jerr;
	json_t *o;

	o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!o) {
		char q[128];

		client_copy_text(q, sizeof(q), jerr.text);
		return dl_err_set(reterr, -EPROTO, "bootsvc's answer is not JSON: %s at byte %d",
		    q, jerr.position);
	}
	if (!json_is_object(o)) {
		json_decref(o);
		return dl_err_set(reterr, -EPROTO, "bootsvc's answer is not a JSON object");
	}
	*ret = o;
	return 0;
}

/* Copy string member key of o into dst; absent is "" unless required. A string longer
 * than size is cut when cut is set, else it is -EPROTO. */
static int
client_event_str(const json_t *o, const char *key, bool required, bool cut, char *dst,
    size_t size, struct dl_err *reterr)
{
	const json_t *v = json_object_get(o, key);

	if (!v && !required) {
		dst[0] = '\0';
		return 0;
	}
	if (!json_is_string(v))
		return dl_err_set(reterr, -EPROTO, "bootsvc's event has no string '%s'", key);
	if (!cut && json_string_length(v) >= size)
		return dl_err_set(reterr, -EPROTO,
		    "bootsvc's event has a '%s' longer than %zu bytes", key, size - 1);
	client_copy_text(dst, size, json_string_value(v));
	return 0;
}

static int
client_event_from_json(const json_t *o, struct client_event *ret, struct dl_err *reterr)
{
	struct client_event e = { 0 };
	const json_t *ev, *seq, *at;
	const char *key;
	json_t *v;
	int r;

	/* The envelope is exactly {"event": {...}}, as strict as a response's. */
	json_object_foreach((json_t *)o, key, v)
		if (!streq(key, "event"))
			return dl_err_set(reterr, -EPROTO,
			    "bootsvc's event line has a key besides 'event'");
	ev = json_object_get(o, "event");
	if (!json_is_object(ev))
		return dl_err_set(reterr, -EPROTO, "bootsvc's event is not an object");
	seq = json_object_get(ev, "seq");
	if (!json_is_integer(seq) || json_integer_value(seq) < 0)
		return dl_err_set(reterr, -EPROTO, "bootsvc's event has no seq >= 0");
	e.seq = json_integer_value(seq);
	at = json_object_get(ev, "at");
	if (at && !json_is_integer(at))
		return dl_err_set(reterr, -EPROTO, "bootsvc's event %lld has a non-integer 'at'",
		    (long long)e.seq);
	e.at = at ? json_integer_value(at) : 0;
	if ((r = client_event_str(ev, "node", true, false, e.node, sizeof(e.node), reterr)) < 0 ||
	    (r = client_event_str(ev, "kind", true, false, e.kind, sizeof(e.kind), reterr)) < 0 ||
	    (r = client_event_str(ev, "reason", false, true, e.reason, sizeof(e.reason),
	    reterr)) < 0)
		return r;
	/* "phase" events carry "phase"; every other kind carries "action". */
	key = streq(e.kind, "phase") ? "phase" : "action";
	if ((r = client_event_str(ev, key, true, true, e.what, sizeof(e.what), reterr)) < 0)
		return r;
	e.raw = json_incref((json_t *)ev);
	*ret = e;
	return 0;
}

int
client_parse_event(const char *line, size_t len, struct client_event *ret,
    struct dl_err *reterr)
{
	_cleanup_(json_decrefp) json_t *o = NULL;
	int r;

	r = client_load_line(line, len, &o, reterr);
	if (r < 0)
		return r;
	if (!json_object_get(o, "event"))
		return -ENOMSG;
	return client_event_from_json(o, ret, reterr);
}

static int
client_response_from_json(const json_t *o, int64_t expect_id, struct client_reply *ret,
    struct dl_err *reterr)
{
	json_t *id, *ok, *result, *error, *code, *message;
	int r;

	r = client_check_keys(o, response_keys, "bootsvc's answer", reterr);
	if (r < 0)
		return r;

	ok = json_object_get(o, "ok");
	if (!json_is_boolean(ok))
		return dl_err_set(reterr, -EPROTO, "bootsvc's answer has no boolean 'ok'");
	id = json_object_get(o, "id");
	if (!id)
		return dl_err_set(reterr, -EPROTO, "bootsvc's answer has no 'id'");
	if (json_is_null(id)) {
		if (json_is_true(ok))
			return dl_err_set(reterr, -EPROTO,
			    "bootsvc's answer has id null but says ok");
	} else if (!json_is_integer(id) || json_integer_value(id) != expect_id) {
		_cleanup_free_ char *got = json_dumps(id, JSON_ENCODE_ANY | JSON_COMPACT);
		char q[64];

		client_copy_text(q, sizeof(q), got ? got : "?");
		return dl_err_set(reterr, -EPROTO,
		    "bootsvc's answer has id %s, the request had id %lld", q,
		    (long long)expect_id);
	}

	result = json_object_get(o, "result");
	error = json_object_get(o, "error");
	if (json_is_true(ok)) {
		if (error)
			return dl_err_set(reterr, -EPROTO,
			    "bootsvc's answer says ok but carries an error");
		if (!json_is_object(result))
			return dl_err_set(reterr, -EPROTO,
			    "bootsvc's answer says ok but has no result object");
		memset(ret, 0, sizeof(*ret));
		ret->ok = true;
		ret->result = json_incref(result);
		return 0;
	}

	if (result)
		return dl_err_set(reterr, -EPROTO,
		    "bootsvc's answer says not ok but carries a result");
	if (!json_is_object(error))
		return dl_err_set(reterr, -EPROTO,
		    "bootsvc's answer says not ok but has no error object");
	r = client_check_keys(error, error_keys, "bootsvc's error", reterr);
	if (r < 0)
		return r;
	code = json_object_get(error, "code");
	message = json_object_get(error, "message");
	if (!json_is_string(code) || !json_is_string(message))
		return dl_err_set(reterr, -EPROTO,
		    "bootsvc's error lacks a string 'code' or 'message'");
	memset(ret, 0, sizeof(*ret));
	client_copy_text(ret->code, sizeof(ret->code), json_string_value(code));
	client_copy_text(ret->message, sizeof(ret->message), json_string_value(message));
	return 0;
}

int
client_parse_response(const char *line, size_t len, int64_t expect_id,
    struct client_reply *ret, struct dl_err *reterr)
{
	_cleanup_(json_decrefp) json_t *o = NULL;
	int r;

	r = client_load_line(line, len, &o, reterr);
	if (r < 0)
		return r;
	return client_response_from_json(o, expect_id, ret, reterr);
}

/* Drop the first line (linelen bytes and its '\n'); keep what followed for later. */
static void
client_drop_line(struct client *c, size_t linelen)
{
	c->len -= linelen + 1;
	memmove(c->buf, c->buf + linelen + 1, c->len);
}

static int
client_queue_event(struct client *c, struct client_event *e, struct dl_err *reterr)
{
	struct client_queued *q;

	if (c->queued >= MAX_QUEUED_EVENTS)
		return dl_err_set(reterr, -ENOBUFS,
		    "bootsvc sent over %d events while nodectl waited for one answer",
		    MAX_QUEUED_EVENTS);
	q = calloc(1, sizeof(*q));
	if (!q)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	q->ev = *e;
	memset(e, 0, sizeof(*e));
	if (c->queue_tail)
		c->queue_tail->next = q;
	else
		c->queue_head = q;
	c->queue_tail = q;
	c->queued++;
	return 0;
}

/* Read one line and parse it as an event or as the response to expect_id (< 0: no
 * request outstanding, so a response is an error). Returns 1 with *ret_ev, 0 with
 * *ret_reply, or -errno. */
static int
client_read_message(struct client *c, int64_t deadline, int64_t expect_id,
    struct client_event *ret_ev, struct client_reply *ret_reply, struct dl_err *reterr)
{
	_cleanup_(json_decrefp) json_t *o = NULL;
	size_t linelen = 0;
	int r;

	r = client_read_line(c, deadline, &linelen, reterr);
	if (r < 0)
		return r;
	r = client_load_line(c->buf, linelen, &o, reterr);
	client_drop_line(c, linelen);
	if (r < 0)
		return r;
	if (json_object_get(o, "event")) {
		r = client_event_from_json(o, ret_ev, reterr);
		return r < 0 ? r : 1;
	}
	if (expect_id < 0)
		return dl_err_set(reterr, -EPROTO,
		    "bootsvc sent a response where only events were expected");
	return client_response_from_json(o, expect_id, ret_reply, reterr);
}

int
client_next_event(struct client *c, int timeout_ms, struct client_event *ret,
    struct dl_err *reterr)
{
	int64_t deadline = client_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	struct client_queued *q = c->queue_head;
	int r;

	if (q) {
		c->queue_head = q->next;
		if (!c->queue_head)
			c->queue_tail = NULL;
		c->queued--;
		*ret = q->ev;
		free(q);
		return 0;
	}
	r = client_read_message(c, deadline, -1, ret, NULL, reterr);
	return r < 0 ? r : 0;
}

int
client_call(struct client *c, const char *verb, const json_t *args,
    struct client_reply *ret, struct dl_err *reterr)
{
	_cleanup_(json_decrefp) json_t *id = NULL;
	_cleanup_free_ char *req = NULL;
	int64_t deadline = client_now_ms() + c->timeout_ms;
	size_t n;
	int r;

	id = json_integer(c->next_id);
	if (!id)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	/* proto_request() steals args; we only borrowed them. */
	req = proto_request(id, verb, args ? json_incref((json_t *)args) : NULL);
	if (!req)
		return dl_err_set(reterr, -ENOMEM, "out of memory building the request");
	n = strlen(req);
	if (n > MAX_CONTROL_LINE)
		return dl_err_set(reterr, -EMSGSIZE,
		    "the request is %zu bytes, over the control protocol's limit of %d; "
		    "split it into several commands", n, MAX_CONTROL_LINE);

	r = client_write_all(c, req, n, deadline, reterr);
	if (r < 0)
		return r;
	/* On a subscribed connection events may come before the response: keep them for
	 * client_next_event(), in order. */
	for (;;) {
		struct client_event ev = { 0 };

		r = client_read_message(c, deadline, c->next_id, &ev, ret, reterr);
		if (r != 1)
			break;
		r = client_queue_event(c, &ev, reterr);
		client_event_done(&ev);
		if (r < 0)
			break;
	}
	c->next_id++;
	return r;
}
