/* SPDX-License-Identifier: MIT */
/* The admin listener: MHD with TLS in external epoll mode on the loop (like http/), who
 * the browser is, the routes, and the event stream. Pages are static files; everything
 * they show comes from /api/<verb>, which is control_call_as(). */
#include <arpa/inet.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "action/work.h"
#include "control/control.h"
#include "control/control_tls.h"
#include "body.h"
#include "log.h"
#include "macro.h"
#include "proto.h"
#include "parse.h"
#include "readfile.h"
#include "web/web.h"
#include "web/web_auth.h"
#include "web/web_form.h"

/* Browsers at once: a few admins' tabs, each with a page, its API calls and one event
 * stream. Far below the boot network's limit, and on its own daemon, so a crowd of tabs
 * cannot take a connection a booting node needs. */
#define MAX_WEB_CONNECTIONS 64
#define MAX_WEB_PER_IP 16
/* Event streams at once (each holds a connection and a buffer). */
#define MAX_WEB_SSE 32
/* A silent connection is closed after this; event streams send a comment line every
 * WEB_SSE_PING_MS, so a live one is never silent that long and a gone one is found. */
#define WEB_CONN_TIMEOUT_S 30
#define WEB_SSE_PING_MS 15000
/* Events per refill of one stream's buffer, and the buffer: one event is at most a few
 * hundred bytes (names and a reason of bounded length). */
#define WEB_SSE_BATCH 64
#define WEB_SSE_BUF (64 * 1024)
/* Largest POST body: the args of one verb (a hostlist, an image name). */
#define MAX_WEB_BODY (64 * 1024)
/* Logins checked at once: crypt(3) is slow on purpose; more wait get 503. */
#define MAX_WEB_LOGIN_QUEUE 8
/* Largest static file served (the page's script and style). */
#define MAX_WEB_FILE (4 * 1024 * 1024)
/* Largest PEM file read (a certificate chain, a key, a CA bundle). */
#define MAX_WEB_PEM (256 * 1024)
/* Per-request memory of MHD: requests are a line and a few headers (the cookie). */
#define WEB_CONN_MEMORY (32 * 1024)
/* Refusals and failed logins: a few lines per interval, then a count. */
#define WEB_LOG_INTERVAL_MS 10000
#define WEB_LOG_BURST 10

/* TLS 1.2 and 1.3 only, as for control_tcp. */
#define WEB_TLS_PRIORITY "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

struct sse;

struct web {
	struct bootsvc *bs;
	struct MHD_Daemon *d;
	int epfd;
	int64_t timer, kick_timer, ping_timer;
	char *cert, *key, *ca; /* PEM, owned; MHD borrows them */
	struct web_passwd pw;
	struct web_sessions *sessions;
	struct work *login_pool;
	char cert_csrf[WEB_TOKEN_HEX + 1]; /* the CSRF token of certificate clients */
	struct sse *streams;
	unsigned n_streams;
	struct log_ratelimit rl_refuse, rl_mhd;
};

/* Who made a request. */
struct auth {
	bool ok;
	bool by_cert;
	enum role role;
	char who[MAX_TLS_WHO + 4];
	const char *csrf; /* the token its POSTs must carry */
	struct web_session *session; /* by password, else NULL */
};

enum login_state { LOGIN_NONE, LOGIN_RUNNING, LOGIN_DONE };

struct wreq {
	struct web *w;
	uint64_t start_ms;
	unsigned status;
	char client[48];
	char who[MAX_TLS_WHO + 4];
	char *body;
	size_t body_len;
	bool body_too_big;
	enum login_state login;
	bool login_ok;
	char user[MAX_WEB_USER + 1];
	enum role login_role;
	struct MHD_Connection *c;
};

struct login_job {
	struct work_item item;
	struct wreq *r; /* suspended until done: MHD keeps it */
	char hash[MAX_WEB_HASH + 1];
	char password[MAX_WEB_PASSWORD + 1];
	bool ok;
};

struct sse {
	struct web *w;
	struct MHD_Connection *c;
	int64_t last_seq;
	bool suspended, ping, hello;
	char token[WEB_TOKEN_HEX + 1]; /* its session's, "" for a certificate's stream */
	char buf[WEB_SSE_BUF];
	size_t len, off;
	struct sse *next;
};

static void web_run(struct web *w);

static void
on_kick(struct loop *l, void *userdata)
{
	struct web *w = userdata;

	(void)l;
	w->kick_timer = 0;
	web_run(w);
}

/* Run MHD soon, from the loop, not from inside whatever called us. */
static void
web_kick(struct web *w)
{
	if (w->kick_timer <= 0)
		w->kick_timer = loop_add_timer(w->bs->loop, loop_now_ms(), on_kick, w);
}

static void
on_timeout(struct loop *l, void *userdata)
{
	struct web *w = userdata;

	(void)l;
	w->timer = 0;
	web_run(w);
}

static void
web_run(struct web *w)
{
	MHD_UNSIGNED_LONG_LONG t;

	(void)MHD_run(w->d);
	if (w->timer > 0) {
		loop_cancel_timer(w->bs->loop, w->timer);
		w->timer = 0;
	}
	if (MHD_get_timeout(w->d, &t) == MHD_YES)
		w->timer = loop_add_timer(w->bs->loop, loop_now_ms() + (t > 60000 ? 60000 : t),
		    on_timeout, w);
}

static void
on_epoll(struct loop *l, int fd, uint32_t events, void *userdata)
{
	(void)l;
	(void)fd;
	(void)events;
	web_run(userdata);
}

/* Common headers: nothing of this origin may be framed, sniffed or sent over plain HTTP. */
static void
add_headers(struct MHD_Response *resp, const char *content_type)
{
	if (content_type)
		(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	(void)MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	(void)MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	(void)MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	(void)MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
	(void)MHD_add_response_header(resp, "Content-Security-Policy",
	    "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
	    "form-action 'self'; base-uri 'none'");
}

static enum MHD_Result
queue(struct MHD_Connection *c, struct wreq *r, unsigned status, struct MHD_Response *resp)
{
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO;
	r->status = status;
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* A JSON body (a control protocol line: it ends with '\n'), freed. */
static enum MHD_Result
respond_json(struct MHD_Connection *c, struct wreq *r, unsigned status, char *line,
    const char *set_cookie)
{
	struct MHD_Response *resp;

	if (!line)
		return MHD_NO;
	resp = MHD_create_response_from_buffer(strlen(line), line, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(line);
		return MHD_NO;
	}
	add_headers(resp, "application/json");
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (set_cookie)
		(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, set_cookie);
	return queue(c, r, status, resp);
}

static enum MHD_Result
respond_error(struct MHD_Connection *c, struct wreq *r, unsigned status, int code,
    const char *msg)
{
	return respond_json(c, r, status, proto_error(NULL, code, msg), NULL);
}

/* Log a refusal once (rate-limited), naming who and why. */
static void
log_refusal(struct web *w, const struct wreq *r, const char *what, const char *why)
{
	char safe[MAX_LOG_VALUE + 1];
	uint64_t suppressed;

	if (!log_ratelimit_pass(&w->rl_refuse, loop_now_ms(), &suppressed))
		return;
	log_warning("event=web_refused client=%s who=\"%s\" what=%s why=\"%s\" suppressed=%llu",
	    r->client[0] ? r->client : "-", r->who, what, log_safe(safe, sizeof(safe), why),
	    (unsigned long long)suppressed);
}

/* The client certificate, if one was sent and verifies against admin_ca for TLS client
 * use, and the role its subject names. */
static bool
auth_cert(struct MHD_Connection *c, struct auth *a)
{
	gnutls_typed_vdata_st purpose = { .type = GNUTLS_DT_KEY_PURPOSE_OID,
		.data = (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT };
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	const gnutls_datum_t *peers;
	gnutls_session_t s;
	struct dl_err err = { 0 };
	unsigned n = 0, status = 0;

	if (!ci || !ci->tls_session)
		return false;
	s = ci->tls_session;
	peers = gnutls_certificate_get_peers(s, &n);
	if (!peers || n == 0)
		return false;
	if (gnutls_certificate_verify_peers(s, &purpose, 1, &status) < 0 || status)
		return false;
	if (control_tls_cert_role(peers[0].data, peers[0].size, &a->role, a->who, &err) < 0)
		return false;
	a->ok = a->by_cert = true;
	return true;
}

static void
auth_of(struct web *w, struct MHD_Connection *c, struct auth *a)
{
	const char *cookie;
	char token[WEB_TOKEN_HEX + 1];

	memset(a, 0, sizeof(*a));
	if (auth_cert(c, a)) {
		a->csrf = w->cert_csrf;
		return;
	}
	cookie = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_COOKIE);
	if (web_cookie_token(cookie, token) < 0)
		return;
	a->session = web_session_find(w->sessions, token, loop_now_ms());
	if (!a->session)
		return;
	a->ok = true;
	a->role = a->session->role;
	(void)snprintf(a->who, sizeof(a->who), "%s", a->session->user);
	a->csrf = a->session->csrf;
}

/* A POST that changes something must carry the CSRF token (a header no other site can
 * make a browser send without our CORS consent, which we never give) and, if the
 * browser names its origin, come from this one. */
static bool
csrf_ok(struct MHD_Connection *c, const struct auth *a)
{
	const char *tok = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-CSRF-Token");
	const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
	const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);

	if (!tok || !a->csrf || !web_secret_eq(tok, a->csrf))
		return false;
	if (origin) {
		char want[300];

		(void)snprintf(want, sizeof(want), "https://%s", host ? host : "");
		if (strcmp(origin, want) != 0)
			return false;
	}
	return true;
}

/* --- static files --- */

static const char *
content_type_of(const char *name)
{
	const char *dot = strrchr(name, '.');

	if (!dot)
		return "application/octet-stream";
	if (streq(dot, ".html"))
		return "text/html; charset=utf-8";
	if (streq(dot, ".js"))
		return "text/javascript; charset=utf-8";
	if (streq(dot, ".css"))
		return "text/css; charset=utf-8";
	if (streq(dot, ".png"))
		return "image/png";
	if (streq(dot, ".svg"))
		return "image/svg+xml";
	return "application/octet-stream";
}

/* One file of web_dir, named by a single path component of [a-z0-9._-], not starting
 * with '.': nothing outside web_dir can be named. */
static enum MHD_Result
serve_file(struct web *w, struct MHD_Connection *c, struct wreq *r, const char *url)
{
	const char *name = streq(url, "/") ? "index.html" : url + 1;
	char path[MAX_CONF_PATH + 64];
	struct MHD_Response *resp;
	struct stat st;
	int fd;

	if (!name[0] || name[0] == '.' || strlen(name) > 48)
		return respond_error(c, r, 404, -ENOENT, "no such page");
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' ||
		    *p == '-' || *p == '_'))
			return respond_error(c, r, 404, -ENOENT, "no such page");
	(void)snprintf(path, sizeof(path), "%s/%s", w->bs->cfg.web_dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return respond_error(c, r, 404, -ENOENT, "no such page");
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > MAX_WEB_FILE) {
		close(fd);
		return respond_error(c, r, 404, -ENOENT, "no such page");
	}
	resp = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
	if (!resp) {
		close(fd);
		return MHD_NO;
	}
	add_headers(resp, content_type_of(name));
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	return queue(c, r, 200, resp);
}

/* --- the event stream --- */

static int
sse_append(const struct event_rec *e, void *userdata)
{
	struct sse *s = userdata;
	json_t *o = control_event_json(e);
	char *j = o ? json_dumps(json_object_get(o, "event"), JSON_COMPACT) : NULL;
	int n;

	json_decref(o);
	if (!j)
		return -ENOMEM;
	n = snprintf(s->buf + s->len, sizeof(s->buf) - s->len, "id: %lld\ndata: %s\n\n",
	    (long long)e->seq, j);
	free(j);
	if (n < 0 || (size_t)n >= sizeof(s->buf) - s->len)
		return -ENOBUFS; /* the rest comes with the next refill */
	s->len += (size_t)n;
	s->last_seq = e->seq;
	return 0;
}

static ssize_t
sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct sse *s = cls;
	size_t n;

	(void)pos;
	if (s->off == s->len) {
		s->off = s->len = 0;
		/* A stream lives as long as its session: logged out or expired, it ends (the
		 * page's EventSource then asks again and is told 401). */
		if (s->token[0] && !web_session_find(s->w->sessions, s->token, loop_now_ms()))
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (!s->hello) {
			/* Where the stream starts, so the page knows which events its first
			 * node.list may already reflect. */
			s->len = (size_t)snprintf(s->buf, sizeof(s->buf),
			    "event: hello\ndata: {\"seq\":%lld}\n\n", (long long)s->last_seq);
			s->hello = true;
		} else
			(void)store_events_since(s->w->bs->store, s->last_seq, WEB_SSE_BATCH,
			    sse_append, s);
		if (s->len == 0 && s->ping) {
			s->len = (size_t)snprintf(s->buf, sizeof(s->buf), ": ping\n\n");
			s->ping = false;
		}
		if (s->len == 0) {
			/* Nothing new: wait for the next events (web_on_events) or ping. */
			s->suspended = true;
			MHD_suspend_connection(s->c);
			return 0;
		}
	}
	n = s->len - s->off < max ? s->len - s->off : max;
	memcpy(buf, s->buf + s->off, n);
	s->off += n;
	return (ssize_t)n;
}

static void
sse_free(void *cls)
{
	struct sse *s = cls;
	struct web *w = s->w;

	for (struct sse **pp = &w->streams; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	w->n_streams--;
	free(s);
}

static void
sse_wake(struct web *w, bool ping)
{
	bool any = false;

	for (struct sse *s = w->streams; s; s = s->next) {
		if (ping)
			s->ping = true;
		if (s->suspended) {
			s->suspended = false;
			MHD_resume_connection(s->c);
			any = true;
		}
	}
	if (any)
		web_kick(w);
}

/* control_events_hook: new events were stored. */
static void
web_on_events(void *userdata)
{
	sse_wake(userdata, false);
}

static void
on_ping(struct loop *l, void *userdata)
{
	struct web *w = userdata;

	w->ping_timer = loop_add_timer(l, loop_now_ms() + WEB_SSE_PING_MS, on_ping, w);
	sse_wake(w, true);
}

static enum MHD_Result
serve_events(struct web *w, struct MHD_Connection *c, struct wreq *r, const struct auth *a)
{
	const char *last = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Last-Event-ID");
	const char *since = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "since");
	struct MHD_Response *resp;
	struct dl_err err = { 0 };
	uint64_t seq = 0;
	struct sse *s;

	if (w->n_streams >= MAX_WEB_SSE) {
		log_refusal(w, r, "events", "too many event streams");
		return respond_error(c, r, 503, -EBUSY, "too many event streams: close a tab");
	}
	/* A reconnecting EventSource resumes after the last event it saw. */
	if (last && last[0] && parse_u64(last, 0, INT64_MAX, &seq, &err) < 0)
		return respond_error(c, r, 400, -EINVAL, "Last-Event-ID: not an event seq");
	else if (!(last && last[0]) && since && parse_u64(since, 0, INT64_MAX, &seq, &err) < 0)
		return respond_error(c, r, 400, -EINVAL, "since: not an event seq");
	else if (!(last && last[0]) && !since)
		seq = (uint64_t)store_event_last_seq(w->bs->store);
	s = calloc(1, sizeof(*s));
	if (!s)
		return MHD_NO;
	s->w = w;
	s->c = c;
	s->last_seq = (int64_t)seq;
	if (a->session)
		memcpy(s->token, a->session->token, sizeof(s->token));
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, sse_read, s, sse_free);
	if (!resp) {
		free(s);
		return MHD_NO;
	}
	s->next = w->streams;
	w->streams = s;
	w->n_streams++;
	add_headers(resp, "text/event-stream");
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	return queue(c, r, 200, resp);
}

/* --- login --- */

static void
login_run(struct work_item *item)
{
	struct login_job *j = (struct login_job *)item;

	j->ok = !atomic_load(&item->cancelled) && web_passwd_check(j->hash, j->password);
	explicit_bzero(j->password, sizeof(j->password));
}

static void
login_done(struct work_item *item)
{
	struct login_job *j = (struct login_job *)item;
	struct wreq *r = j->r;

	r->login = LOGIN_DONE;
	r->login_ok = j->ok;
	explicit_bzero(j, sizeof(*j));
	free(j);
	MHD_resume_connection(r->c);
	web_kick(r->w);
}

/* A hash to check against when the user is unknown, so the answer takes as long as for
 * a known user: which user names exist is not told by timing. */
static const char dummy_hash[] =
    "$6$dummysaltdummysa$.YyK8/PacERLHjvoYsPahbs84qAYUaqIA0t/gMO/pJjDqJA8iVQNJgF4UfpAB8"
    "VEaJ96GELcq2JBBtR4tZGNS0";

static enum MHD_Result
login_start(struct web *w, struct MHD_Connection *c, struct wreq *r)
{
	const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE);
	char password[MAX_WEB_PASSWORD + 1];
	const struct web_user *u;
	struct dl_err err = { 0 };
	struct login_job *j;
	int rc;

	if (!w->pw.n)
		return respond_error(c, r, 404, -ENOENT, "no password logins here "
		    "(admin_passwords is not set): use a client certificate");
	if (!ct || strncmp(ct, "application/x-www-form-urlencoded", 33) != 0)
		return respond_error(c, r, 415, -EINVAL, "login: a form, please");
	if ((rc = web_form_field(r->body ? r->body : "", r->body_len, "user", r->user,
	    sizeof(r->user), &err)) < 0 ||
	    (rc = web_form_field(r->body ? r->body : "", r->body_len, "password", password,
	    sizeof(password), &err)) < 0)
		return respond_error(c, r, 400, rc, err.msg);
	(void)snprintf(r->who, sizeof(r->who), "%s", r->user);
	u = web_passwd_find(&w->pw, r->user);
	j = calloc(1, sizeof(*j));
	if (!j) {
		explicit_bzero(password, sizeof(password));
		return MHD_NO;
	}
	j->item.run = login_run;
	j->item.done = login_done;
	j->r = r;
	(void)snprintf(j->hash, sizeof(j->hash), "%s", u ? u->hash : dummy_hash);
	(void)snprintf(j->password, sizeof(j->password), "%s", password);
	explicit_bzero(password, sizeof(password));
	r->login_role = u ? u->role : ROLE_READ_ONLY;
	if (!u)
		r->user[0] = '\0'; /* fails whatever the check says */
	r->c = c;
	r->login = LOGIN_RUNNING;
	/* The worker starts with the first login: web_start() runs before privileges are
	 * dropped, when no thread may exist yet. */
	if (!w->login_pool &&
	    (rc = work_new(w->bs->loop, "web-login", 1, MAX_WEB_LOGIN_QUEUE, &w->login_pool)) < 0)
		w->login_pool = NULL;
	if (!w->login_pool || work_submit(w->login_pool, &j->item) < 0) {
		explicit_bzero(j, sizeof(*j));
		free(j);
		r->login = LOGIN_NONE;
		log_refusal(w, r, "login", "too many logins at once");
		return respond_error(c, r, 503, -EBUSY, "too many logins at once: try again");
	}
	MHD_suspend_connection(c);
	return MHD_YES;
}

static enum MHD_Result
login_finish(struct web *w, struct MHD_Connection *c, struct wreq *r)
{
	struct web_session *s;
	char cookie[160];
	json_t *o;
	int rc;

	if (!r->login_ok || !r->user[0]) {
		log_refusal(w, r, "login", "wrong user or password");
		return respond_error(c, r, 401, -EACCES, "wrong user or password");
	}
	rc = web_session_new(w->sessions, r->user, r->login_role, loop_now_ms(), &s);
	if (rc < 0)
		return respond_error(c, r, 500, rc, "no session could be made");
	log_notice("event=web_login client=%s user=%s role=%s", r->client, r->user,
	    role_to_name(r->login_role));
	/* HttpOnly: no script reads it; Secure: never over plain HTTP; SameSite=Strict: no
	 * other site's page sends it. The browser forgets it when the session would end. */
	(void)snprintf(cookie, sizeof(cookie), WEB_COOKIE "=%s; Path=/; Max-Age=%llu; "
	    "HttpOnly; Secure; SameSite=Strict", s->token,
	    (unsigned long long)(WEB_SESSION_TTL_MS / 1000));
	o = json_pack("{s:s,s:s,s:s}", "user", s->user, "role", role_to_name(s->role), "csrf",
	    s->csrf);
	return respond_json(c, r, 200, proto_ok(NULL, o), cookie);
}

/* --- the API --- */

static unsigned
status_of(int code)
{
	switch (code) {
	case -EPERM:
	case -EACCES:
		return 403;
	case -ENOENT:
		return 404;
	case -EBUSY:
	case -EAGAIN:
		return 503;
	case -ENOMEM:
	case -EIO:
		return 500;
	default:
		return 400;
	}
}

struct query_ctx {
	json_t *args;
	struct dl_err *err;
	int r;
};

static enum MHD_Result
on_query(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct query_ctx *q = cls;

	(void)kind;
	if (q->r == 0)
		q->r = web_query_arg(q->args, key, value, q->err);
	return q->r == 0 ? MHD_YES : MHD_NO;
}

static enum MHD_Result
api_call(struct web *w, struct MHD_Connection *c, struct wreq *r, const char *method,
    const char *verb, const struct auth *a)
{
	struct dl_err err = { 0 };
	json_t *args = NULL, *result = NULL;
	char *text = NULL;
	int rc;

	if (streq(method, "GET")) {
		struct query_ctx q = { .err = &err };

		/* A GET changes nothing: only the verbs every role may use. */
		if (role_needed(verb) != ROLE_READ_ONLY)
			return respond_error(c, r, 405, -EINVAL, "this verb needs a POST");
		if (streq(verb, "events"))
			return serve_events(w, c, r, a);
		q.args = args = json_object();
		if (!args)
			return MHD_NO;
		(void)MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, on_query, &q);
		if (q.r < 0) {
			json_decref(args);
			return respond_error(c, r, 400, q.r, err.msg);
		}
	} else if (streq(method, "POST")) {
		const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_TYPE);
		json_error_t je;

		if (!csrf_ok(c, a)) {
			log_refusal(w, r, verb, "no or a wrong CSRF token, or another origin");
			return respond_error(c, r, 403, -EACCES,
			    "CSRF check failed: reload the page");
		}
		if (!ct || strncmp(ct, "application/json", 16) != 0)
			return respond_error(c, r, 415, -EINVAL, "a POST's body is JSON");
		if (streq(verb, "events"))
			return respond_error(c, r, 405, -EINVAL, "events: GET /api/events");
		args = json_loadb(r->body ? r->body : "{}", r->body ? r->body_len : 2,
		    JSON_REJECT_DUPLICATES, &je);
		if (!args || !json_is_object(args)) {
			json_decref(args);
			return respond_error(c, r, 400, -EINVAL, "the body is not a JSON object");
		}
	} else
		return respond_error(c, r, 405, -EINVAL, "GET or POST");
	rc = control_call_as(w->bs, a->role, a->who, verb, args, &result, &text, &err);
	json_decref(args);
	if (rc < 0) {
		if (rc == -EPERM)
			log_refusal(w, r, verb, err.msg);
		return respond_error(c, r, status_of(rc), rc, err.msg);
	}
	if (text) {
		char *line = proto_ok_text(NULL, text);

		free(text);
		return respond_json(c, r, 200, line, NULL);
	}
	return respond_json(c, r, 200, proto_ok(NULL, result), NULL);
}

static enum MHD_Result
route(struct web *w, struct MHD_Connection *c, struct wreq *r, const char *url,
    const char *method)
{
	char verb[MAX_WEB_VERB + 1];
	struct dl_err err = { 0 };
	struct auth a;
	int rc;

	if (streq(url, "/login")) {
		if (!streq(method, "POST"))
			return respond_error(c, r, 405, -EINVAL, "POST a form to /login");
		return login_start(w, c, r);
	}
	if (streq(method, "GET") && strncmp(url, "/api/", 5) != 0)
		return serve_file(w, c, r, url);
	auth_of(w, c, &a);
	if (a.ok)
		(void)snprintf(r->who, sizeof(r->who), "%s", a.who);
	if (streq(url, "/logout")) {
		if (!streq(method, "POST"))
			return respond_error(c, r, 405, -EINVAL, "POST /logout");
		if (a.session && csrf_ok(c, &a))
			web_session_end(w->sessions, a.session->token);
		return respond_json(c, r, 200, proto_ok(NULL, json_object()), WEB_COOKIE
		    "=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict");
	}
	rc = web_api_verb(url, verb, &err);
	if (rc == -ENOENT)
		return respond_error(c, r, 404, -ENOENT, "no such resource");
	if (rc < 0)
		return respond_error(c, r, 404, rc, err.msg);
	if (!a.ok) {
		log_refusal(w, r, verb, "not logged in");
		return respond_error(c, r, 401, -EACCES, "log in first (a client certificate of "
		    "the control CA, or a user of admin_passwords)");
	}
	if (streq(verb, "whoami")) {
		json_t *o = json_pack("{s:s,s:s,s:s,s:s}", "user", a.who, "role",
		    role_to_name(a.role), "csrf", a.csrf, "via", a.by_cert ? "certificate" :
		    "password");
		return respond_json(c, r, 200, proto_ok(NULL, o), NULL);
	}
	return api_call(w, c, r, method, verb, &a);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size, void **req_cls)
{
	struct web *w = cls;
	struct wreq *r = *req_cls;

	(void)version;
	if (!r) {
		const union MHD_ConnectionInfo *ci;

		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		r->w = w;
		r->start_ms = loop_now_ms();
		ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr,
			    r->client, sizeof(r->client));
		*req_cls = r;
		/* Refuse on the headers, before MHD reads a body nobody authorised: a response
		 * queued now makes MHD skip the body. */
		if (streq(method, "POST") && strncmp(url, "/api/", 5) == 0) {
			struct auth a;

			auth_of(w, c, &a);
			if (!a.ok) {
				log_refusal(w, r, "post", "not logged in");
				return respond_error(c, r, 401, -EACCES, "log in first");
			}
		}
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (body_append(&r->body, &r->body_len, &r->body_too_big, upload_data,
		    *upload_data_size, MAX_WEB_BODY) < 0)
			return MHD_NO;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (r->login == LOGIN_RUNNING)
		return MHD_YES; /* resumed early: wait for the check */
	if (r->login == LOGIN_DONE)
		return login_finish(w, c, r);
	if (r->body_too_big)
		return respond_error(c, r, 413, -E2BIG, "request body too large");
	return route(w, c, r, url, method);
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct wreq *r = *req_cls;

	(void)cls;
	(void)c;
	if (!r)
		return;
	log_info("event=web_request status=%u ms=%llu client=%s who=\"%s\"%s", r->status,
	    (unsigned long long)(loop_now_ms() - r->start_ms), r->client[0] ? r->client : "-",
	    r->who, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted=1");
	if (r->body)
		explicit_bzero(r->body, r->body_len); /* a login form holds a password */
	free(r->body);
	free(r);
	*req_cls = NULL;
}

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct web *w = cls;
	char msg[256], safe[MAX_LOG_VALUE + 1];
	uint64_t suppressed;

	if (!log_ratelimit_pass(&w->rl_mhd, loop_now_ms(), &suppressed))
		return;
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_warning("event=web_internal msg=\"%s\" suppressed=%llu",
	    log_safe(safe, sizeof(safe), msg), (unsigned long long)suppressed);
}

static int
read_pem(const char *key, const char *path, char **ret, struct dl_err *reterr)
{
	size_t len;
	int r = read_file(path, MAX_WEB_PEM, READ_FILE_REGULAR, ret, &len, reterr);

	if (r < 0)
		return dl_err_prefix(reterr, "%s", key);
	return 0;
}

static void
free_pem(char **p)
{
	if (*p) {
		explicit_bzero(*p, strlen(*p));
		free(*p);
		*p = NULL;
	}
}

int
web_start(struct bootsvc *bs, struct web **ret, struct dl_err *reterr)
{
	const struct config *cfg = &bs->cfg;
	const char *ca = cfg->admin_ca[0] ? cfg->admin_ca : cfg->control_tls_ca;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(cfg->admin_port) };
	const union MHD_DaemonInfo *info;
	struct web *w;
	int r;

	*ret = NULL;
	if (!cfg->admin_addr[0])
		return 0;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->bs = bs;
	w->epfd = -1;
	w->rl_refuse = (struct log_ratelimit){ .interval_ms = WEB_LOG_INTERVAL_MS,
		.burst = WEB_LOG_BURST };
	w->rl_mhd = w->rl_refuse;
	w->sessions = calloc(1, sizeof(*w->sessions));
	if (!w->sessions) {
		r = -ENOMEM;
		goto fail;
	}
	if ((r = read_pem("admin_cert", cfg->admin_cert, &w->cert, reterr)) < 0 ||
	    (r = read_pem("admin_key", cfg->admin_key, &w->key, reterr)) < 0 ||
	    (ca[0] && (r = read_pem("admin_ca", ca, &w->ca, reterr)) < 0))
		goto fail;
	if (cfg->admin_passwords[0] &&
	    (r = web_passwd_load(cfg->admin_passwords, &w->pw, reterr)) < 0)
		goto fail;
	if ((r = web_random_token(w->cert_csrf)) < 0) {
		dl_err_set(reterr, r, "admin listener: no random bytes");
		goto fail;
	}
	(void)inet_pton(AF_INET, cfg->admin_addr, &sa.sin_addr); /* validated by config */
	w->d = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_TLS | MHD_USE_ERROR_LOG |
	    MHD_ALLOW_SUSPEND_RESUME, cfg->admin_port, NULL, NULL, on_request, w,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, w,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_HTTPS_MEM_CERT, w->cert,
	    MHD_OPTION_HTTPS_MEM_KEY, w->key,
	    /* A CA makes MHD ask for (not require) a client certificate: browsers of
	     * password users send none. */
	    w->ca ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, w->ca,
	    MHD_OPTION_HTTPS_PRIORITIES, WEB_TLS_PRIORITY,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_WEB_CONNECTIONS,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)MAX_WEB_PER_IP,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)WEB_CONN_TIMEOUT_S,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)WEB_CONN_MEMORY,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, w,
	    MHD_OPTION_LISTENING_ADDRESS_REUSE, 1U,
	    MHD_OPTION_SIGPIPE_HANDLED_BY_APP, 1,
	    MHD_OPTION_END);
	if (!w->d) {
		r = dl_err_set(reterr, -EADDRINUSE, "admin_listen: cannot listen on %s:%u with "
		    "admin_cert '%s' and admin_key '%s' (in use, or not a certificate and its "
		    "key?)", cfg->admin_addr, cfg->admin_port, cfg->admin_cert, cfg->admin_key);
		goto fail;
	}
	info = MHD_get_daemon_info(w->d, MHD_DAEMON_INFO_EPOLL_FD);
	w->epfd = info ? info->epoll_fd : -1;
	r = w->epfd < 0 ? -EIO : loop_add_fd(bs->loop, w->epfd, EPOLLIN, on_epoll, w);
	if (r < 0) {
		w->epfd = -1;
		dl_err_set(reterr, r, "admin listener: cannot watch MHD's epoll fd");
		goto fail;
	}
	control_events_hook(bs, web_on_events, w);
	w->ping_timer = loop_add_timer(bs->loop, loop_now_ms() + WEB_SSE_PING_MS, on_ping, w);
	web_run(w);
	log_info("event=web_listen addr=%s port=%u web_dir=%s client_ca=%s passwords=%zu",
	    cfg->admin_addr, cfg->admin_port, cfg->web_dir, ca[0] ? ca : "-", w->pw.n);
	*ret = w;
	return 0;
fail:
	(void)web_stop(w);
	return r;
}

struct web *
web_stop(struct web *w)
{
	if (!w)
		return NULL;
	control_events_hook(w->bs, NULL, NULL);
	/* Logins in flight come back (cancelled) and resume their connections. */
	w->login_pool = work_free(w->login_pool);
	for (struct sse *s = w->streams; s; s = s->next)
		if (s->suspended) {
			s->suspended = false;
			MHD_resume_connection(s->c);
		}
	if (w->epfd >= 0)
		loop_del_fd(w->bs->loop, w->epfd);
	if (w->d)
		MHD_stop_daemon(w->d);
	if (w->timer > 0)
		loop_cancel_timer(w->bs->loop, w->timer);
	if (w->kick_timer > 0)
		loop_cancel_timer(w->bs->loop, w->kick_timer);
	if (w->ping_timer > 0)
		loop_cancel_timer(w->bs->loop, w->ping_timer);
	free_pem(&w->cert);
	free_pem(&w->key);
	free(w->ca);
	web_passwd_done(&w->pw);
	if (w->sessions)
		explicit_bzero(w->sessions, sizeof(*w->sessions));
	free(w->sessions);
	free(w);
	return NULL;
}
