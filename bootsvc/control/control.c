/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <grp.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "control/control.h"
#include "control/control_tls.h"
#include "log.h"
#include "proto.h"
#include "version.h"

/* Largest reply queued for one client: a node.list of ~100,000 nodes. A bigger one is
 * answered with an error instead. */
#define MAX_CONTROL_OUTBUF (64 * 1024 * 1024)
/* A client's next request is read only while less than this is queued for it: a client
 * that pipelines requests but reads slowly is served at its own pace, and one that never
 * reads holds at most this plus one reply (issue 11: 65 MB per such client before). */
#define CONTROL_OUT_LOW (256 * 1024)
/* Requests served per client per loop pass, so one pipelining client cannot keep the loop
 * from HTTP and the other clients (issue 11: 1,000 node.list stalled scripts 29.9 s). */
#define MAX_REQUESTS_PER_PASS 4
/* How often idle and stalled clients are looked for. */
#define CONTROL_SWEEP_MS 1000
/* accept() failed for lack of fds or memory: try again after this, instead of spinning on
 * a level-triggered listener that stays readable (issue 11: 96% CPU at EMFILE). */
#define CONTROL_ACCEPT_BACKOFF_MS 200
/* Refusals and drops under a flood: a few lines per interval, then a count. */
#define CONTROL_LOG_INTERVAL_MS 10000
#define CONTROL_LOG_BURST 5

/* Why a client is closed: each reason is rate-limited on its own, so a crowd of idle
 * clients closed at once does not hide the one that stopped reading. */
enum close_reason {
	CLOSE_NONE = -1,
	CLOSE_IDLE,
	CLOSE_NOT_READING,
	CLOSE_NO_QUEUE,
	_CLOSE_MAX,
};

static const char *const close_msg[_CLOSE_MAX] = {
	[CLOSE_IDLE] = "idle for control_idle_timeout",
	[CLOSE_NOT_READING] = "not reading its replies",
	[CLOSE_NO_QUEUE] = "cannot queue a response",
};

struct client {
	struct control *ctl;
	uint64_t id;
	bool subscribed;
	bool events_behind;    /* an event flush skipped it while its queue was full */
	int64_t last_seq;      /* events sent up to here */
	int fd;
	uid_t uid;
	struct control_tls_conn *tls; /* NULL: a Unix socket client */
	enum role role;               /* what the client may do (lib/role.h) */
	int64_t hs_timer;             /* TLS: the handshake deadline until it is done */
	char in[MAX_CONTROL_LINE + 1];
	size_t in_len;
	bool discarding; /* skipping the rest of an oversized line */
	bool read_closed;      /* the peer shut down its side: answer what came, then close */
	unsigned n_deferred;   /* answers owed by control_complete() */
	uint64_t last_active;  /* ms: last request read or reply byte taken */
	enum close_reason close_why; /* not CLOSE_NONE: close it after this pass, saying why */
	bool kick;             /* serve it in the next pass (an answer came mid-dispatch) */
	bool mid_line;         /* the bytes sent so far end inside a reply */
	char *out;
	size_t out_len, out_off;
	struct client *next;
};

/* The request being dispatched, so control_defer() can refer back to it. */
static json_t *current_req_id;

struct control {
	struct bootsvc *bs;
	uint64_t next_client_id;
	struct client *current;  /* the client whose request is being dispatched */
	int64_t flush_timer;
	int fd;
	gid_t gid; /* control_group's gid, or (gid_t)-1 */
	struct control_tls *tls; /* control_tcp's listener, or NULL */
	struct client *clients;
	size_t n_clients;
	int64_t sweep_timer, resume_timer, accept_timer, accept_timer_tcp;
	struct log_ratelimit rl_refuse, rl_accept, rl_close[_CLOSE_MAX];
};

static int
verb_ping(struct bootsvc *bs, const json_t *args, json_t **ret, struct dl_err *reterr)
{
	static const char *const allowed[] = { NULL };
	int r = proto_args_check(args, allowed, reterr);

	(void)bs;
	if (r < 0)
		return r;
	*ret = json_pack("{s:s}", "version", DISKLESS_VERSION);
	return *ret ? 0 : -ENOMEM;
}

static const struct control_verb misc_verbs[] = {
	{ .name = "ping", .fn = verb_ping },
	{ .name = NULL },
};

static const struct control_verb *
find_verb(const char *name)
{
	const struct control_verb *tables[] = { misc_verbs, verbs_node, verbs_image,
		verbs_ctrl };

	for (size_t t = 0; t < ELEMENTSOF(tables); t++)
		for (const struct control_verb *v = tables[t]; v->name; v++)
			if (strcmp(v->name, name) == 0)
				return v;
	return NULL;
}

char *
control_handle_line(struct bootsvc *bs, const char *line, size_t len)
{
	struct dl_err err = { 0 };
	struct proto_req req;
	json_t *result = NULL;
	char *text = NULL;
	const struct control_verb *v;
	char *out;
	int r;

	bs->metrics.control_requests++;
	r = proto_req_parse(line, len, &req, &err);
	if (r == 0) {
		v = find_verb(req.verb);
		if (!v)
			r = dl_err_set(&err, -EINVAL, "unknown verb '%s'", req.verb);
		else if (bs->control && bs->control->current &&
		    (r = role_check(bs->control->current->role, bs->control->current->tls ?
		    control_tls_conn_who(bs->control->current->tls) : NULL, req.verb,
		    &err)) < 0)
			; /* refused: the message names the role and the verb */
		else {
			current_req_id = req.id;
			r = v->text_fn ? v->text_fn(bs, req.args, &text, &err) :
			    v->fn(bs, req.args, &result, &err);
			current_req_id = NULL;
		}
	}
	if (r == CONTROL_DEFERRED) {
		log_info("event=control verb=%s ok=deferred", req.verb);
		proto_req_done(&req);
		return NULL;
	}
	if (r < 0) {
		bs->metrics.control_errors++;
		if (!err.msg[0])
			dl_err_set(&err, r, "%s", strerror(-r));
		out = proto_error(req.id, r, err.msg);
		/* The message may quote what the client sent: clean it before logging. */
		char safe[MAX_LOG_VALUE + 1];
		log_info("event=control verb=%s ok=0 err=%s msg=\"%s\"",
		    req.verb[0] ? req.verb : "-", dl_errno_name(r), log_safe(safe, sizeof(safe),
		    err.msg));
	} else {
		out = text ? proto_ok_text(req.id, text) : proto_ok(req.id, result);
		free(text);
		log_info("event=control verb=%s ok=1", req.verb);
	}
	proto_req_done(&req);
	return out;
}

static void client_free(struct client *cl);
static int client_queue(struct client *cl, const char *s);
static int client_flush(struct client *cl);
static void respond(struct client *cl, char *line);
static void client_service(struct client *cl);
static void client_kick(struct client *cl);


struct control_pending {
	uint64_t client_id;
	json_t *id;
};

static struct client *
client_by_id(struct control *ctl, uint64_t id)
{
	for (struct client *c = ctl->clients; c; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

struct control_pending *
control_defer(struct bootsvc *bs)
{
	struct control_pending *p;

	if (!bs->control || !bs->control->current)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->client_id = bs->control->current->id;
	bs->control->current->n_deferred++;
	p->id = json_incref(current_req_id ? current_req_id : json_null());
	return p;
}

void
control_complete(struct bootsvc *bs, struct control_pending *p, json_t *result, int code,
    const char *message)
{
	struct client *cl;
	char *line;

	if (!p) {
		json_decref(result);
		return;
	}
	line = code < 0 ? proto_error(p->id, code, message) : proto_ok(p->id, result);
	if (code < 0)
		json_decref(result);
	cl = bs->control ? client_by_id(bs->control, p->client_id) : NULL;
	if (cl) {
		cl->n_deferred--;
		respond(cl, line);
		/* Inside a dispatch (a batch whose every job failed to queue answers at once):
		 * serving now would dispatch within the dispatch; the next pass sends it. */
		if (bs->control->current)
			client_kick(cl);
		else
			client_service(cl);
	} else
		free(line);
	json_decref(p->id);
	free(p);
}

int
control_subscribe(struct bootsvc *bs, int64_t since)
{
	if (!bs->control || !bs->control->current)
		return -ENOTSUP;
	bs->control->current->subscribed = true;
	bs->control->current->last_seq = since;
	control_events_notify(bs);
	return 0;
}

/* Events per flush and client: a subscriber far behind catches up over several rounds
 * instead of one huge buffer. */
#define MAX_EVENTS_PER_FLUSH 1000

static int
send_event(const struct event_rec *e, void *userdata)
{
	struct client *cl = userdata;
	json_t *o = json_pack("{s:{s:I,s:s,s:s,s:s,s:s,s:I}}", "event", "seq", (json_int_t)e->seq,
	    "node", e->node, "kind", e->kind, strcmp(e->kind, "phase") == 0 ? "phase" : "action",
	    e->what, "reason", e->reason, "at", (json_int_t)e->at);
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	int r = -ENOMEM;

	json_decref(o);
	if (s) {
		r = client_queue(cl, s);
		if (r == 0)
			r = client_queue(cl, "\n");
		free(s);
	}
	if (r == 0)
		cl->last_seq = e->seq;
	return r;
}

static void
events_flush(struct loop *l, void *userdata)
{
	struct control *ctl = userdata;
	bool more = false;

	(void)l;
	ctl->flush_timer = 0;
	for (struct client *cl = ctl->clients; cl; cl = cl->next) {
		int64_t before;
		if (!cl->subscribed)
			continue;
		if (cl->out_len - cl->out_off >= CONTROL_OUT_LOW) {
			/* Sent when it has read what is queued (client_flush). */
			cl->events_behind = true;
			continue;
		}
		before = cl->last_seq;
		(void)store_events_since(ctl->bs->store, cl->last_seq, MAX_EVENTS_PER_FLUSH,
		    send_event, cl);
		if (cl->last_seq - before >= MAX_EVENTS_PER_FLUSH)
			more = true;
		(void)client_flush(cl);
	}
	if (more)
		control_events_notify(ctl->bs);
}

void
control_events_notify(struct bootsvc *bs)
{
	struct control *ctl = bs->control;

	if (!ctl || ctl->flush_timer > 0)
		return;
	ctl->flush_timer = loop_add_timer(bs->loop, loop_now_ms(), events_flush, ctl);
}

static size_t
client_pending(const struct client *cl)
{
	return cl->out_len - cl->out_off;
}

/* A complete request line waits in the input buffer. */
static bool
client_has_line(const struct client *cl)
{
	return memchr(cl->in, '\n', cl->in_len) != NULL;
}

/* Requests are taken only while its replies are read: input waits otherwise. */
static bool
client_may_serve(const struct client *cl)
{
	return client_pending(cl) < CONTROL_OUT_LOW;
}

/* Whether the client may send more now: its buffered lines are served, there is room,
 * and its replies are being read. */
static bool
client_may_read(const struct client *cl)
{
	return !cl->read_closed && !client_has_line(cl) && cl->in_len < MAX_CONTROL_LINE &&
	    client_may_serve(cl);
}

static void
client_update_events(struct client *cl)
{
	uint32_t ev = 0;

	/* Read more only when the buffered lines are served and there is room: a client's
	 * unread pipeline stays in its socket, not in our memory. */
	if (client_may_read(cl) || (cl->tls && !control_tls_conn_ready(cl->tls)))
		ev |= EPOLLIN | EPOLLRDHUP;
	if (client_pending(cl) || (cl->tls && control_tls_conn_wants_write(cl->tls)))
		ev |= EPOLLOUT;
	(void)loop_mod_fd(cl->ctl->bs->loop, cl->fd, ev);
}

static int
client_queue(struct client *cl, const char *s)
{
	size_t n = strlen(s);

	if (cl->out_off == cl->out_len)
		cl->out_off = cl->out_len = 0;
	if (cl->out_off > 0 && cl->out_off >= cl->out_len / 2) {
		/* Reclaim what was sent before growing. */
		memmove(cl->out, cl->out + cl->out_off, cl->out_len - cl->out_off);
		cl->out_len -= cl->out_off;
		cl->out_off = 0;
	}
	if (cl->out_len + n > MAX_CONTROL_OUTBUF)
		return -ENOBUFS;
	char *o = realloc(cl->out, cl->out_len + n);
	if (!o)
		return -ENOMEM;
	memcpy(o + cl->out_len, s, n);
	cl->out = o;
	cl->out_len += n;
	return 0;
}

/* The transport: the Unix socket, or the client's TLS session. */
static ssize_t
client_send(struct client *cl, const char *p, size_t n)
{
	ssize_t r;

	if (cl->tls) {
		if (!control_tls_conn_ready(cl->tls))
			return 0; /* nothing goes out before the handshake is done */
		r = control_tls_conn_send(cl->tls, p, n);
		if (r < 0)
			errno = (int)-r;
		return r < 0 ? -1 : r;
	}
	return send(cl->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static ssize_t
client_recv(struct client *cl, char *p, size_t n)
{
	ssize_t r;

	if (cl->tls) {
		r = control_tls_conn_recv(cl->tls, p, n);
		if (r < 0)
			errno = (int)-r;
		return r < 0 ? -1 : r;
	}
	return recv(cl->fd, p, n, MSG_DONTWAIT);
}

/* The write path, the only place that sends to a client. */
static int
client_flush(struct client *cl)
{
	size_t before = client_pending(cl);

	while (cl->out_off < cl->out_len) {
		ssize_t n = client_send(cl, cl->out + cl->out_off, cl->out_len - cl->out_off);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			return negative_errno();
		}
		cl->out_off += (size_t)n;
		cl->mid_line = cl->out[cl->out_off - 1] != '\n';
	}
	if (client_pending(cl) < before)
		cl->last_active = loop_now_ms();
	if (cl->out_off == cl->out_len) {
		free(cl->out);
		cl->out = NULL;
		cl->out_off = cl->out_len = 0;
	}
	if (cl->events_behind && client_may_serve(cl)) {
		cl->events_behind = false;
		control_events_notify(cl->ctl->bs);
	}
	return 0;
}

/* The read path, the only place that reads from a client: one recv() per pass into the
 * room left. 0 at the peer's end of stream, -EAGAIN when nothing is there. */
static ssize_t
client_read(struct client *cl)
{
	for (;;) {
		ssize_t n = client_recv(cl, cl->in + cl->in_len, MAX_CONTROL_LINE - cl->in_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return negative_errno();
		cl->in_len += (size_t)n;
		return n;
	}
}

/* A TLS client's session holds decrypted bytes we may read now. */
static bool
client_tls_pending(const struct client *cl)
{
	return cl->tls && control_tls_conn_ready(cl->tls) && client_may_read(cl) &&
	    control_tls_conn_pending(cl->tls);
}

/* One read, if the client may send more now. false when the client is gone (freed). */
static bool
client_pull(struct client *cl)
{
	ssize_t n;

	if (!client_may_read(cl))
		return true;
	n = client_read(cl);
	if (n == 0)
		cl->read_closed = true; /* answer what came, then close (shutdown(SHUT_WR)) */
	else if (n > 0)
		cl->last_active = loop_now_ms();
	else if (n != -EAGAIN) {
		client_free(cl);
		return false;
	}
	return true;
}

static void
respond(struct client *cl, char *line)
{
	int r = line ? client_queue(cl, line) : -ENOMEM;

	if (r == -ENOBUFS) {
		char msg[128];
		char *err;
		(void)snprintf(msg, sizeof(msg), "reply of %zu bytes is over the %d byte limit: "
		    "ask for fewer nodes", strlen(line), MAX_CONTROL_OUTBUF);
		err = proto_error(NULL, -E2BIG, msg);
		r = err ? client_queue(cl, err) : -ENOMEM;
		free(err);
	}
	if (r < 0 && cl->close_why == CLOSE_NONE)
		cl->close_why = CLOSE_NO_QUEUE;
	free(line);
}

/* Serve up to MAX_REQUESTS_PER_PASS complete lines, while its replies are being read. */
static void
client_process(struct client *cl)
{
	struct bootsvc *bs = cl->ctl->bs;
	size_t start = 0;

	for (unsigned served = 0; served < MAX_REQUESTS_PER_PASS && client_may_serve(cl) &&
	     cl->close_why == CLOSE_NONE;) {
		char *nl = memchr(cl->in + start, '\n', cl->in_len - start);
		if (!nl)
			break;
		size_t len = (size_t)(nl - (cl->in + start));
		if (cl->discarding) {
			/* The tail of an oversized line ends here: the client may go on. */
			cl->discarding = false;
		} else if (len > 0) {
			char *out;
			cl->ctl->current = cl;
			out = control_handle_line(bs, cl->in + start, len);
			cl->ctl->current = NULL;
			if (out)
				respond(cl, out);
			served++;
		}
		start += len + 1;
	}
	memmove(cl->in, cl->in + start, cl->in_len - start);
	cl->in_len -= start;
	if (cl->in_len == MAX_CONTROL_LINE && !client_has_line(cl)) {
		/* A line longer than the limit: answer once, then skip to its end. */
		if (!cl->discarding) {
			char msg[96];
			(void)snprintf(msg, sizeof(msg), "request line longer than %d bytes",
			    MAX_CONTROL_LINE);
			respond(cl, proto_error(NULL, -E2BIG, msg));
			bs->metrics.control_errors++;
			log_warning("event=control msg=\"%s, discarding it\"", msg);
		}
		cl->discarding = true;
		cl->in_len = 0;
	}
}

/* Say why before closing, if the reply stream is at a line boundary (a half-sent reply
 * cannot be followed by a line the client would parse). Best effort: it may not read. */
static void
client_close(struct client *cl, enum close_reason reason)
{
	struct log_ratelimit *rl = &cl->ctl->rl_close[reason];
	const char *why = close_msg[reason];
	uint64_t suppressed;
	char *line;

	/* A TLS session that may be in the middle of a record must be given the same bytes
	 * again (GnuTLS), so it is told only when nothing waits. */
	if (!cl->mid_line && (!cl->tls || !client_pending(cl))) {
		line = proto_error(NULL, -ECONNABORTED, why);
		if (line)
			(void)client_send(cl, line, strlen(line));
		free(line);
	}
	if (log_ratelimit_pass(rl, loop_now_ms(), &suppressed))
		log_warning("event=control_drop client=%llu uid=%d unsent=%zu msg=\"%s, "
		    "closing\" suppressed=%llu", (unsigned long long)cl->id, (int)cl->uid,
		    client_pending(cl), why, (unsigned long long)suppressed);
	client_free(cl);
}

static void
on_resume(struct loop *l, void *userdata)
{
	struct control *ctl = userdata;
	struct client *next;

	(void)l;
	ctl->resume_timer = 0;
	for (struct client *cl = ctl->clients; cl; cl = next) {
		next = cl->next;
		if (cl->kick || (client_has_line(cl) && client_may_serve(cl))) {
			cl->kick = false;
			if (client_tls_pending(cl) && !client_pull(cl))
				continue;
			client_service(cl);
		}
	}
}

static void
client_kick(struct client *cl)
{
	struct control *ctl = cl->ctl;

	cl->kick = true;
	/* Due 1 ms on: timers_run() runs a timer added for "now" in the same round, and this
	 * one must wait for a round of the other fds. */
	if (ctl->resume_timer <= 0)
		ctl->resume_timer = loop_add_timer(ctl->bs->loop, loop_now_ms() + 1, on_resume,
		    ctl);
}

/* Serve what is buffered, send what is queued, then close it or wait for it. May free cl. */
static void
client_service(struct client *cl)
{
	client_process(cl);
	if (client_flush(cl) < 0 && cl->close_why == CLOSE_NONE) {
		client_free(cl); /* the peer is gone: nobody to tell */
		return;
	}
	if (cl->close_why != CLOSE_NONE) {
		client_close(cl, cl->close_why);
		return;
	}
	/* A half-closed client is done when everything it asked for has been sent. */
	if (cl->read_closed && !client_has_line(cl) && !client_pending(cl) && !cl->n_deferred) {
		client_free(cl);
		return;
	}
	/* More lines than one pass serves, or requests GnuTLS decrypted but we did not read
	 * (no epoll event will tell of those): the next pass comes after the other fds'. */
	if ((client_has_line(cl) && client_may_serve(cl)) || client_tls_pending(cl))
		client_kick(cl);
	client_update_events(cl);
}

static void
on_client(struct loop *l, int fd, uint32_t events, void *userdata)
{
	struct client *cl = userdata;

	(void)l;
	(void)fd;
	if (cl->tls && !control_tls_conn_ready(cl->tls)) {
		int r = control_tls_conn_handshake(cl->tls);

		if (r == -EAGAIN) {
			client_update_events(cl);
			return;
		}
		if (r < 0) {
			client_free(cl);
			return;
		}
		cl->role = control_tls_conn_role(cl->tls);
		loop_cancel_timer(cl->ctl->bs->loop, cl->hs_timer);
		cl->hs_timer = 0;
		events |= EPOLLIN; /* the session may hold a request read with the handshake */
	}
	if ((events & (EPOLLIN | EPOLLRDHUP)) && !client_pull(cl))
		return;
	if (events & EPOLLERR) {
		client_free(cl);
		return;
	}
	/* EPOLLHUP: both directions are shut; nothing queued can arrive any more. */
	if ((events & EPOLLHUP) && !(events & EPOLLIN)) {
		client_free(cl);
		return;
	}
	client_service(cl);
}

/* Close clients idle for control_idle_timeout, and those that stopped reading what they
 * asked for for as long. Subscribers and clients owed a deferred answer wait by design. */
static void
on_sweep(struct loop *l, void *userdata)
{
	struct control *ctl = userdata;
	uint64_t now = loop_now_ms(), idle = ctl->bs->cfg.control_idle_timeout_ms;
	struct client *next;

	for (struct client *cl = ctl->clients; cl; cl = next) {
		next = cl->next;
		if (now - cl->last_active < idle)
			continue;
		if (client_pending(cl))
			client_close(cl, CLOSE_NOT_READING);
		else if (!cl->subscribed && !cl->n_deferred && !client_has_line(cl))
			client_close(cl, CLOSE_IDLE);
	}
	ctl->sweep_timer = loop_add_timer(l, now + CONTROL_SWEEP_MS, on_sweep, ctl);
}

static bool
peer_authorized(struct control *ctl, int fd, uid_t *ret_uid)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	gid_t groups[256];
	socklen_t glen = sizeof(groups);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return false;
	*ret_uid = cred.uid;
	if (cred.uid == 0)
		return true;
	if (ctl->gid == (gid_t)-1)
		return false;
	if (cred.gid == ctl->gid)
		return true;
	/* Supplementary groups of the peer (Linux 4.13+). */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &glen) == 0)
		for (size_t i = 0; i < glen / sizeof(gid_t); i++)
			if (groups[i] == ctl->gid)
				return true;
	return false;
}

static void
on_accept_again(struct loop *l, void *userdata)
{
	struct control *ctl = userdata;

	ctl->accept_timer = 0;
	(void)loop_mod_fd(l, ctl->fd, EPOLLIN);
}

static void
on_accept_again_tcp(struct loop *l, void *userdata)
{
	struct control *ctl = userdata;

	ctl->accept_timer_tcp = 0;
	(void)loop_mod_fd(l, control_tls_fd(ctl->tls), EPOLLIN);
}

/* accept() on listener fd failed with errno. Returns true to try the next one (a
 * connection that went away), false to stop: nothing more is waiting, or fds or memory
 * ran out (EMFILE, ENFILE, ENOBUFS, ENOMEM), when the listener, which stays readable
 * (level-triggered), is not watched for a while rather than spun on. */
static bool
accept_failed(struct control *ctl, int fd, int64_t *timer, loop_timer_fn again)
{
	struct loop *l = ctl->bs->loop;
	uint64_t suppressed;
	int e = errno;

	if (e == EINTR || e == ECONNABORTED)
		return true;
	if (e == EAGAIN)
		return false;
	if (log_ratelimit_pass(&ctl->rl_accept, loop_now_ms(), &suppressed))
		log_warning("event=control_accept err=%s msg=\"cannot accept, will retry in %d ms\" "
		    "suppressed=%llu", dl_errno_name(-e), CONTROL_ACCEPT_BACKOFF_MS,
		    (unsigned long long)suppressed);
	(void)loop_mod_fd(l, fd, 0);
	if (*timer <= 0)
		*timer = loop_add_timer(l, loop_now_ms() + CONTROL_ACCEPT_BACKOFF_MS, again, ctl);
	return false;
}

/* Refuse a connection with one line saying why. */
static void
refuse(struct control *ctl, int cfd, uid_t uid, const char *code, const char *why)
{
	char line[256];
	uint64_t suppressed;
	int n = snprintf(line, sizeof(line), "{\"id\":null,\"ok\":false,\"error\":{\"code\":"
	    "\"%s\",\"message\":\"%s\"}}\n", code, why);

	if (n > 0 && n < (int)sizeof(line))
		(void)!send(cfd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (log_ratelimit_pass(&ctl->rl_refuse, loop_now_ms(), &suppressed))
		log_warning("event=control_denied uid=%d msg=\"%s\" suppressed=%llu", (int)uid, why,
		    (unsigned long long)suppressed);
	close(cfd);
}

static void
on_accept(struct loop *l, int fd, uint32_t events, void *userdata)
{
	struct control *ctl = userdata;

	(void)events;
	for (;;) {
		int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		struct client *cl;
		uid_t uid = (uid_t)-1;

		if (cfd < 0) {
			if (accept_failed(ctl, fd, &ctl->accept_timer, on_accept_again))
				continue;
			return;
		}
		if (!peer_authorized(ctl, cfd, &uid)) {
			refuse(ctl, cfd, uid, "EPERM", "not authorised: root or the control group only");
			continue;
		}
		if (ctl->n_clients >= CONTROL_MAX_CLIENTS) {
			refuse(ctl, cfd, uid, "EBUSY", "too many control clients, try again later");
			continue;
		}
		if (uid != 0 && ctl->n_clients >= CONTROL_MAX_CLIENTS - CONTROL_ROOT_RESERVED) {
			refuse(ctl, cfd, uid, "EBUSY", "too many control clients (the last slots "
			    "are kept for root), try again later");
			continue;
		}
		if (!(cl = calloc(1, sizeof(*cl)))) {
			refuse(ctl, cfd, uid, "ENOMEM", "out of memory");
			continue;
		}
		cl->ctl = ctl;
		cl->id = ++ctl->next_client_id;
		cl->fd = cfd;
		cl->uid = uid;
		cl->close_why = CLOSE_NONE;
		cl->last_active = loop_now_ms();
		cl->role = ROLE_ADMIN; /* root or the control group: as before roles existed */
		if (loop_add_fd(l, cfd, EPOLLIN | EPOLLRDHUP, on_client, cl) < 0) {
			close(cfd);
			free(cl);
			continue;
		}
		cl->next = ctl->clients;
		ctl->clients = cl;
		ctl->n_clients++;
	}
}

/* A TLS client that has not finished its handshake (or reading its refusal) in time. */
static void
on_handshake_deadline(struct loop *l, void *userdata)
{
	struct client *cl = userdata;

	(void)l;
	cl->hs_timer = 0;
	if (!control_tls_conn_ready(cl->tls))
		log_warning("event=control_tls_refused peer=%s why=\"no handshake within %d s\"",
		    control_tls_conn_peer(cl->tls), MAX_TLS_HANDSHAKE_MS / 1000);
	client_free(cl);
}

/* control_tcp: every client is a TLS session; its role comes from its certificate. */
static void
on_accept_tcp(struct loop *l, int fd, uint32_t events, void *userdata)
{
	struct control *ctl = userdata;

	(void)events;
	for (;;) {
		struct sockaddr_in sa;
		socklen_t salen = sizeof(sa);
		int cfd = accept4(fd, (struct sockaddr *)&sa, &salen, SOCK_CLOEXEC | SOCK_NONBLOCK);
		char peer[INET_ADDRSTRLEN + 8];
		struct client *cl;

		uint64_t suppressed;

		if (cfd < 0) {
			if (accept_failed(ctl, fd, &ctl->accept_timer_tcp, on_accept_again_tcp))
				continue;
			return;
		}
		(void)snprintf(peer, sizeof(peer), "%s:%u", inet_ntop(AF_INET, &sa.sin_addr,
		    peer + 8, INET_ADDRSTRLEN) ? peer + 8 : "?", ntohs(sa.sin_port));
		/* Never root: the reserved slots are not for it. No line before the handshake
		 * (the client speaks TLS), so only the log says why. */
		if (ctl->n_clients >= CONTROL_MAX_CLIENTS - CONTROL_ROOT_RESERVED ||
		    !(cl = calloc(1, sizeof(*cl)))) {
			if (log_ratelimit_pass(&ctl->rl_refuse, loop_now_ms(), &suppressed))
				log_warning("event=control_denied peer=%s msg=\"too many control "
				    "clients (the last slots are kept for root)\" suppressed=%llu", peer,
				    (unsigned long long)suppressed);
			close(cfd);
			continue;
		}
		cl->ctl = ctl;
		cl->id = ++ctl->next_client_id;
		cl->fd = cfd;
		cl->uid = (uid_t)-1;
		cl->close_why = CLOSE_NONE;
		cl->last_active = loop_now_ms();
		cl->role = _ROLE_INVALID; /* until its certificate says */
		cl->tls = control_tls_conn_new(ctl->tls, cfd, peer);
		cl->hs_timer = cl->tls ? loop_add_timer(l, loop_now_ms() + MAX_TLS_HANDSHAKE_MS,
		    on_handshake_deadline, cl) : -ENOMEM;
		if (cl->hs_timer < 0 || loop_add_fd(l, cfd, EPOLLIN | EPOLLRDHUP, on_client,
		    cl) < 0) {
			if (cl->hs_timer > 0)
				loop_cancel_timer(l, cl->hs_timer);
			control_tls_conn_free(cl->tls);
			close(cfd);
			free(cl);
			continue;
		}
		cl->next = ctl->clients;
		ctl->clients = cl;
		ctl->n_clients++;
	}
}

static void
client_free(struct client *cl)
{
	struct control *ctl = cl->ctl;

	for (struct client **pp = &ctl->clients; *pp; pp = &(*pp)->next)
		if (*pp == cl) {
			*pp = cl->next;
			break;
		}
	ctl->n_clients--;
	loop_del_fd(ctl->bs->loop, cl->fd);
	if (cl->hs_timer > 0)
		loop_cancel_timer(ctl->bs->loop, cl->hs_timer);
	cl->tls = control_tls_conn_free(cl->tls);
	close(cl->fd);
	free(cl->out);
	free(cl);
}

/* History rows were appended (boot, the controller, the action path): stream them. */
static void
on_history(void *userdata)
{
	struct control *ctl = userdata;

	control_events_notify(ctl->bs);
}

int
control_start(struct bootsvc *bs, struct control **ret, struct dl_err *reterr)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct control *ctl;
	char dir[sizeof(sa.sun_path)];
	char *slash;
	int r;

	if (strlen(bs->cfg.control_socket) >= sizeof(sa.sun_path))
		return dl_err_set(reterr, -ENAMETOOLONG, "control_socket '%s' is too long",
		    bs->cfg.control_socket);
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return -ENOMEM;
	ctl->bs = bs;
	ctl->gid = (gid_t)-1;
	if (bs->cfg.control_group[0]) {
		struct group *g = getgrnam(bs->cfg.control_group);
		if (!g) {
			free(ctl);
			return dl_err_set(reterr, -ENOENT, "control_group '%s' does not exist",
			    bs->cfg.control_group);
		}
		ctl->gid = g->gr_gid;
	}
	strcpy(sa.sun_path, bs->cfg.control_socket);
	strcpy(dir, sa.sun_path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		(void)mkdir(dir, 0755); /* may exist; bind reports real problems */
	}
	ctl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (ctl->fd < 0) {
		r = negative_errno();
		free(ctl);
		return dl_err_set(reterr, r, "control socket: %s", strerror(-r));
	}
	(void)unlink(sa.sun_path); /* a stale socket of a previous run */
	if (bind(ctl->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ctl->fd, 64) < 0) {
		r = negative_errno();
		close(ctl->fd);
		free(ctl);
		return dl_err_set(reterr, r, "control socket '%s': %s", sa.sun_path,
		    strerror(-r));
	}
	/* Peer credentials decide; the mode only keeps others from connecting at all. */
	if (ctl->gid != (gid_t)-1) {
		(void)!chown(sa.sun_path, 0, ctl->gid);
		(void)chmod(sa.sun_path, 0660);
	} else
		(void)chmod(sa.sun_path, 0600);
	ctl->rl_refuse = (struct log_ratelimit){ .interval_ms = CONTROL_LOG_INTERVAL_MS,
		.burst = CONTROL_LOG_BURST };
	ctl->rl_accept = ctl->rl_refuse;
	for (size_t i = 0; i < _CLOSE_MAX; i++)
		ctl->rl_close[i] = ctl->rl_refuse;
	r = loop_add_fd(bs->loop, ctl->fd, EPOLLIN, on_accept, ctl);
	if (r < 0) {
		close(ctl->fd);
		free(ctl);
		return dl_err_set(reterr, r, "control socket: cannot watch");
	}
	r = notify_listen(&bs->notify, NOTIFY_HISTORY, on_history, ctl);
	if (r < 0) {
		loop_del_fd(bs->loop, ctl->fd);
		close(ctl->fd);
		free(ctl);
		return dl_err_set(reterr, r, "control socket: too many listeners of the history");
	}
	if (bs->cfg.control_tcp_addr[0]) {
		r = control_tls_new(bs->cfg.control_tls_cert, bs->cfg.control_tls_key,
		    bs->cfg.control_tls_ca, bs->cfg.control_tcp_addr, bs->cfg.control_tcp_port,
		    &ctl->tls, reterr);
		if (r >= 0) {
			r = loop_add_fd(bs->loop, control_tls_fd(ctl->tls), EPOLLIN, on_accept_tcp,
			    ctl);
			if (r < 0)
				dl_err_set(reterr, r, "control_tcp: cannot watch");
		}
		if (r < 0) {
			ctl->tls = control_tls_free(ctl->tls);
			notify_unlisten(&bs->notify, NOTIFY_HISTORY, ctl);
			loop_del_fd(bs->loop, ctl->fd);
			close(ctl->fd);
			free(ctl);
			return r;
		}
	}
	ctl->sweep_timer = loop_add_timer(bs->loop, loop_now_ms() + CONTROL_SWEEP_MS, on_sweep,
	    ctl);
	log_info("event=control_listen path=%s", sa.sun_path);
	*ret = ctl;
	return 0;
}

struct control *
control_stop(struct control *ctl)
{
	if (!ctl)
		return NULL;
	notify_unlisten(&ctl->bs->notify, NOTIFY_HISTORY, ctl);
	while (ctl->clients)
		client_free(ctl->clients);
	if (ctl->flush_timer > 0)
		loop_cancel_timer(ctl->bs->loop, ctl->flush_timer);
	if (ctl->sweep_timer > 0)
		loop_cancel_timer(ctl->bs->loop, ctl->sweep_timer);
	if (ctl->resume_timer > 0)
		loop_cancel_timer(ctl->bs->loop, ctl->resume_timer);
	if (ctl->accept_timer > 0)
		loop_cancel_timer(ctl->bs->loop, ctl->accept_timer);
	if (ctl->accept_timer_tcp > 0)
		loop_cancel_timer(ctl->bs->loop, ctl->accept_timer_tcp);
	loop_del_fd(ctl->bs->loop, ctl->fd);
	close(ctl->fd);
	if (ctl->tls) {
		loop_del_fd(ctl->bs->loop, control_tls_fd(ctl->tls));
		ctl->tls = control_tls_free(ctl->tls);
	}
	(void)unlink(ctl->bs->cfg.control_socket);
	free(ctl);
	return NULL;
}
