/* SPDX-License-Identifier: MIT */
/* One control client: its input and output buffers, the transport (the Unix socket or a
 * TLS session), how many of its requests are served per pass, and when it is closed. The
 * only place that reads from or writes to a client. */
#include <string.h>
#include <sys/socket.h>

#include "control/control_internal.h"
#include "control/control_tls.h"
#include "proto.h"

static const char *const close_msg[_CLOSE_MAX] = {
	[CLOSE_IDLE] = "idle for control_idle_timeout",
	[CLOSE_NOT_READING] = "not reading its replies",
	[CLOSE_NO_QUEUE] = "cannot queue a response",
};

struct client *
conn_by_id(struct control *ctl, uint64_t id)
{
	for (struct client *c = ctl->clients; c; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

static size_t
conn_pending(const struct client *cl)
{
	return cl->out_len - cl->out_off;
}

/* A complete request line waits in the input buffer. */
static bool
conn_has_line(const struct client *cl)
{
	return memchr(cl->in, '\n', cl->in_len) != NULL;
}

/* Requests are taken only while its replies are read: input waits otherwise. */
static bool
conn_may_serve(const struct client *cl)
{
	return conn_pending(cl) < CONTROL_OUT_LOW;
}

/* Whether the client may send more now: its buffered lines are served, there is room,
 * and its replies are being read. */
static bool
conn_may_read(const struct client *cl)
{
	return !cl->read_closed && !conn_has_line(cl) && cl->in_len < MAX_CONTROL_LINE &&
	    conn_may_serve(cl);
}

static void
conn_update_events(struct client *cl)
{
	uint32_t ev = 0;

	/* Read more only when the buffered lines are served and there is room: a client's
	 * unread pipeline stays in its socket, not in our memory. */
	if (conn_may_read(cl) || (cl->tls && !control_tls_conn_ready(cl->tls)))
		ev |= EPOLLIN | EPOLLRDHUP;
	if (conn_pending(cl) || (cl->tls && control_tls_conn_wants_write(cl->tls)))
		ev |= EPOLLOUT;
	(void)loop_mod_fd(cl->ctl->bs->loop, cl->fd, ev);
}

int
conn_queue(struct client *cl, const char *s)
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
conn_send(struct client *cl, const char *p, size_t n)
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
conn_recv(struct client *cl, char *p, size_t n)
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
int
conn_flush(struct client *cl)
{
	size_t before = conn_pending(cl);

	while (cl->out_off < cl->out_len) {
		ssize_t n = conn_send(cl, cl->out + cl->out_off, cl->out_len - cl->out_off);
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
	if (conn_pending(cl) < before)
		cl->last_active = loop_now_ms();
	if (cl->out_off == cl->out_len) {
		free(cl->out);
		cl->out = NULL;
		cl->out_off = cl->out_len = 0;
	}
	if (cl->events_behind && conn_may_serve(cl)) {
		cl->events_behind = false;
		control_events_notify(cl->ctl->bs);
	}
	return 0;
}

/* The read path, the only place that reads from a client: one recv() per pass into the
 * room left. 0 at the peer's end of stream, -EAGAIN when nothing is there. */
static ssize_t
conn_read(struct client *cl)
{
	for (;;) {
		ssize_t n = conn_recv(cl, cl->in + cl->in_len, MAX_CONTROL_LINE - cl->in_len);
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
conn_tls_pending(const struct client *cl)
{
	return cl->tls && control_tls_conn_ready(cl->tls) && conn_may_read(cl) &&
	    control_tls_conn_pending(cl->tls);
}

/* One read, if the client may send more now. false when the client is gone (freed). */
static bool
conn_pull(struct client *cl)
{
	ssize_t n;

	if (!conn_may_read(cl))
		return true;
	n = conn_read(cl);
	if (n == 0)
		cl->read_closed = true; /* answer what came, then close (shutdown(SHUT_WR)) */
	else if (n > 0)
		cl->last_active = loop_now_ms();
	else if (n != -EAGAIN) {
		conn_free(cl);
		return false;
	}
	return true;
}

void
conn_respond(struct client *cl, char *line)
{
	int r = line ? conn_queue(cl, line) : -ENOMEM;

	if (r == -ENOBUFS) {
		char msg[128];
		char *err;
		(void)snprintf(msg, sizeof(msg), "reply of %zu bytes is over the %d byte limit: "
		    "ask for fewer nodes", strlen(line), MAX_CONTROL_OUTBUF);
		err = proto_error(NULL, -E2BIG, msg);
		r = err ? conn_queue(cl, err) : -ENOMEM;
		free(err);
	}
	if (r < 0 && cl->close_why == CLOSE_NONE)
		cl->close_why = CLOSE_NO_QUEUE;
	free(line);
}

/* Serve up to MAX_REQUESTS_PER_PASS complete lines, while its replies are being read. */
static void
conn_process(struct client *cl)
{
	struct bootsvc *bs = cl->ctl->bs;
	size_t start = 0;

	for (unsigned served = 0; served < MAX_REQUESTS_PER_PASS && conn_may_serve(cl) &&
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
				conn_respond(cl, out);
			served++;
		}
		start += len + 1;
	}
	memmove(cl->in, cl->in + start, cl->in_len - start);
	cl->in_len -= start;
	if (cl->in_len == MAX_CONTROL_LINE && !conn_has_line(cl)) {
		/* A line longer than the limit: answer once, then skip to its end. */
		if (!cl->discarding) {
			char msg[96];
			(void)snprintf(msg, sizeof(msg), "request line longer than %d bytes",
			    MAX_CONTROL_LINE);
			conn_respond(cl, proto_error(NULL, -E2BIG, msg));
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
conn_close(struct client *cl, enum close_reason reason)
{
	struct log_ratelimit *rl = &cl->ctl->rl_close[reason];
	const char *why = close_msg[reason];
	uint64_t suppressed;
	char *line;

	/* A TLS session that may be in the middle of a record must be given the same bytes
	 * again (GnuTLS), so it is told only when nothing waits. */
	if (!cl->mid_line && (!cl->tls || !conn_pending(cl))) {
		line = proto_error(NULL, -ECONNABORTED, why);
		if (line)
			(void)conn_send(cl, line, strlen(line));
		free(line);
	}
	if (log_ratelimit_pass(rl, loop_now_ms(), &suppressed))
		log_warning("event=control_drop client=%llu uid=%d unsent=%zu msg=\"%s, "
		    "closing\" suppressed=%llu", (unsigned long long)cl->id, (int)cl->uid,
		    conn_pending(cl), why, (unsigned long long)suppressed);
	conn_free(cl);
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
		if (cl->kick || (conn_has_line(cl) && conn_may_serve(cl))) {
			cl->kick = false;
			if (conn_tls_pending(cl) && !conn_pull(cl))
				continue;
			conn_service(cl);
		}
	}
}

void
conn_kick(struct client *cl)
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
void
conn_service(struct client *cl)
{
	conn_process(cl);
	if (conn_flush(cl) < 0 && cl->close_why == CLOSE_NONE) {
		conn_free(cl); /* the peer is gone: nobody to tell */
		return;
	}
	if (cl->close_why != CLOSE_NONE) {
		conn_close(cl, cl->close_why);
		return;
	}
	/* A half-closed client is done when everything it asked for has been sent. */
	if (cl->read_closed && !conn_has_line(cl) && !conn_pending(cl) && !cl->n_deferred) {
		conn_free(cl);
		return;
	}
	/* More lines than one pass serves, or requests GnuTLS decrypted but we did not read
	 * (no epoll event will tell of those): the next pass comes after the other fds'. */
	if ((conn_has_line(cl) && conn_may_serve(cl)) || conn_tls_pending(cl))
		conn_kick(cl);
	conn_update_events(cl);
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
			conn_update_events(cl);
			return;
		}
		if (r < 0) {
			conn_free(cl);
			return;
		}
		cl->role = control_tls_conn_role(cl->tls);
		loop_cancel_timer(cl->ctl->bs->loop, cl->hs_timer);
		cl->hs_timer = 0;
		events |= EPOLLIN; /* the session may hold a request read with the handshake */
	}
	if ((events & (EPOLLIN | EPOLLRDHUP)) && !conn_pull(cl))
		return;
	if (events & EPOLLERR) {
		conn_free(cl);
		return;
	}
	/* EPOLLHUP: both directions are shut; nothing queued can arrive any more. */
	if ((events & EPOLLHUP) && !(events & EPOLLIN)) {
		conn_free(cl);
		return;
	}
	conn_service(cl);
}

/* Close clients idle for control_idle_timeout, and those that stopped reading what they
 * asked for for as long. Subscribers and clients owed a deferred answer wait by design. */
void
conn_sweep(struct loop *l, void *userdata)
{
	struct control *ctl = userdata;
	uint64_t now = loop_now_ms(), idle = ctl->bs->cfg.control_idle_timeout_ms;
	struct client *next;

	for (struct client *cl = ctl->clients; cl; cl = next) {
		next = cl->next;
		if (now - cl->last_active < idle)
			continue;
		if (conn_pending(cl))
			conn_close(cl, CLOSE_NOT_READING);
		else if (!cl->subscribed && !cl->n_deferred && !conn_has_line(cl))
			conn_close(cl, CLOSE_IDLE);
	}
	ctl->sweep_timer = loop_add_timer(l, now + CONTROL_SWEEP_MS, conn_sweep, ctl);
}

void
conn_free(struct client *cl)
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

struct client *
conn_new(struct control *ctl, int cfd, uid_t uid, enum role role)
{
	struct client *cl = calloc(1, sizeof(*cl));

	if (!cl)
		return NULL;
	cl->ctl = ctl;
	cl->id = ++ctl->next_client_id;
	cl->fd = cfd;
	cl->uid = uid;
	cl->role = role;
	cl->close_why = CLOSE_NONE;
	cl->last_active = loop_now_ms();
	return cl;
}

int
conn_attach(struct client *cl)
{
	struct control *ctl = cl->ctl;
	int r = loop_add_fd(ctl->bs->loop, cl->fd, EPOLLIN | EPOLLRDHUP, on_client, cl);

	if (r < 0)
		return r;
	cl->next = ctl->clients;
	ctl->clients = cl;
	ctl->n_clients++;
	return 0;
}
