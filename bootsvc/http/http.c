/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <jansson.h>
#include <stdio.h>
#include <errno.h>
#include <string.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/http.h"
#include "http/http_internal.h"
#include "http/ip_limit.h"
#include "body.h"
#include "log.h"
#include "proto.h"

/* Seconds an idle HTTP connection is kept: iPXE reuses one for script, kernel, initrd.
 * An idle timer is reset by every byte, so it bounds only a silent client; a request's
 * head and body are bounded by http_request_timeout instead (struct conn). */
#define HTTP_IDLE_TIMEOUT_S 60
/* MHD_OPTION_CONNECTION_MEMORY_LIMIT, see http_start() */
#define HTTP_CONN_MEMORY (8 * 1024)
/* Repeating warnings (MHD's own, requests cut at their deadline): a few lines per
 * interval, then one line with the count held back. 20,148 lines under a flood before. */
#define HTTP_LOG_INTERVAL_MS 10000
#define HTTP_LOG_BURST 5
/* Connections accepted per wake of the listening socket. libmicrohttpd's own accept takes
 * 10 per pass of its loop, and every pass also runs the sendfile work of the connections
 * already in: 1,000 nodes booting at once waited about 100 passes for their scripts
 * (docs/benchmarks.md, boot storm). The rest of a longer queue waits one loop turn. */
#define HTTP_ACCEPT_BATCH 256

/* One TCP connection (MHD_OPTION_NOTIFY_CONNECTION). While a request's head or body is
 * still arriving it sits in its server's deadline list, oldest first: the list is ordered
 * by since, because a connection re-enters at the tail when its next request starts. */
struct conn {
	int fd;
	uint64_t since; /* the request the deadline measures started here */
	bool waiting;   /* in the deadline list */
	bool counted;   /* in http's per-address counts (ip_limit) */
	uint32_t addr;  /* the client's IPv4 address, network order */
	char client[16];
	struct conn *prev, *next;
};

/* One serving thread's server: its listening socket, its libmicrohttpd daemon in
 * external-epoll mode on the thread's loop, its connections' deadlines. The loop's serves
 * everything; a reader thread's (http_threads > 1) answers the scripts it can from its
 * view and hands every other request to the loop (handoff_push), because the loop stays
 * the only writer and the owner of every room. The kernel spreads connections among the
 * servers' sockets (SO_REUSEPORT); a connection stays with the server that accepted it. */
struct srv {
	struct http *h;
	struct bootsvc *bs;
	struct loop *loop;  /* the thread's */
	struct http_view *view; /* NULL: the loop's server */
	struct metrics *m;  /* the thread's counters: bs->metrics, or the view's */
	struct MHD_Daemon *d;
	int epfd;
	int listen_fd;      /* ours: accepted here and handed to MHD (on_listen) */
	unsigned n_conns;   /* open, as MHD notifies them */
	unsigned max_conns; /* this server's share of max_connections */
	bool accept_off;    /* at max_conns: the queue waits in the kernel's backlog */
	struct conn *head, *tail; /* the deadline list */
	struct log_ratelimit rl_mhd, rl_deadline;
	uint64_t n_deadline;
	uint64_t n_requests; /* for diskless_http_thread_requests_total */
	int wake_fd;         /* a reader's: its struct reader's; -1 for the loop's */
};

/* A reader thread: its loop and server, and what it answers from. */
struct reader {
	struct srv srv;
	struct http_view view;
	pthread_t thread;
	bool running;
	int wake_fd;     /* eventfd: connections resumed (http_resume), or quit */
	atomic_bool quit; /* the loop asks the thread to stop */
};

struct http {
	struct bootsvc *bs;
	struct srv main;
	struct ip_limit *ips; /* connections per address, across every server */
	struct reader *readers;
	unsigned n_readers;
	/* Reader threads' requests for the loop, oldest first. Bounded by their
	 * connections: a connection has at most one request, suspended while it waits. */
	pthread_mutex_t lock;
	struct req *q_head, *q_tail;
	int q_fd;            /* eventfd: wakes the loop when the queue fills */
};

static void
conn_unwait(struct srv *s, struct conn *k)
{
	if (!k->waiting)
		return;
	if (k->prev)
		k->prev->next = k->next;
	else
		s->head = k->next;
	if (k->next)
		k->next->prev = k->prev;
	else
		s->tail = k->prev;
	k->prev = k->next = NULL;
	k->waiting = false;
}

/* The connection's next request starts at now: its head must be in by the deadline. */
static void
conn_wait(struct srv *s, struct conn *k, uint64_t now)
{
	conn_unwait(s, k);
	k->since = now;
	k->prev = s->tail;
	k->next = NULL;
	if (s->tail)
		s->tail->next = k;
	else
		s->head = k;
	s->tail = k;
	k->waiting = true;
}

static struct conn *
conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

/* c's client address as text into buf ("" when not IPv4), and in network order. */
static uint32_t
client_of(struct MHD_Connection *c, char buf[static 16])
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr_in *sin;

	buf[0] = '\0';
	if (!ci || !ci->client_addr || ci->client_addr->sa_family != AF_INET)
		return 0;
	sin = (const struct sockaddr_in *)ci->client_addr;
	(void)inet_ntop(AF_INET, &sin->sin_addr, buf, 16);
	return sin->sin_addr.s_addr;
}

static void
on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode code)
{
	struct srv *s = cls;
	struct conn *k = *socket_context;
	const union MHD_ConnectionInfo *ci;

	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (k) {
			conn_unwait(s, k);
			if (k->counted)
				ip_limit_put(s->h->ips, k->addr);
			free(k);
		}
		*socket_context = NULL;
		s->n_conns--;
		if (s->accept_off && s->n_conns < s->max_conns &&
		    loop_mod_fd(s->loop, s->listen_fd, EPOLLIN) == 0)
			s->accept_off = false;
		return;
	}
	s->n_conns++;
	k = calloc(1, sizeof(*k));
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (!k) {
		/* Unaccounted, it would escape the per-address limit: closed. */
		if (ci)
			(void)shutdown(ci->connect_fd, SHUT_RDWR);
		return;
	}
	k->fd = ci ? ci->connect_fd : -1;
	k->addr = client_of(c, k->client);
	*socket_context = k;
	/* The per-address limit across every serving thread (ip_limit.h): one over it is
	 * closed at once, as MHD closes those over its own. shutdown() makes MHD see the
	 * end of the stream and close it itself. */
	k->counted = ip_limit_take(s->h->ips, k->addr);
	if (!k->counted && k->fd >= 0)
		(void)shutdown(k->fd, SHUT_RDWR);
	conn_wait(s, k, loop_now_ms());
}

/* Close every connection whose request is not in by its deadline, however it trickles:
 * shutdown() makes MHD see the end of the stream and close the connection itself.
 * Returns ms until the next deadline, or -1. */
static int64_t
deadlines_run(struct srv *s)
{
	uint64_t now = loop_now_ms(), limit = s->bs->cfg.http_request_timeout_ms;

	while (s->head && now - s->head->since >= limit) {
		struct conn *k = s->head;
		uint64_t suppressed;

		conn_unwait(s, k);
		if (k->fd >= 0)
			(void)shutdown(k->fd, SHUT_RDWR);
		s->n_deadline++;
		if (log_ratelimit_pass(&s->rl_deadline, now, &suppressed))
			log_warning("event=http_deadline msg=\"request not complete within %llu ms, "
			    "closing\" client=%s suppressed=%llu total=%llu",
			    (unsigned long long)limit, k->client[0] ? k->client : "-",
			    (unsigned long long)suppressed, (unsigned long long)s->n_deadline);
	}
	return s->head ? (int64_t)(s->head->since + limit - now) : -1;
}

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

enum MHD_Result
http_respond(struct MHD_Connection *c, struct req *r, unsigned status, const char *content_type,
    const char *body, size_t len)
{
	return respond_body(c, r, status, content_type,
	    MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY), len);
}

enum MHD_Result
http_respond_owned(struct MHD_Connection *c, struct req *r, unsigned status,
    const char *content_type, char *body, size_t len)
{
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);

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
	enum MHD_Result ret;

	/* The message may quote the request's bytes: invalid UTF-8 would fail json_pack
	 * and leave the client without an answer. */
	(void)snprintf(msg, sizeof(msg), "%s", message ? message : "");
	proto_utf8_clean(msg);
	o = json_pack("{s:{s:s,s:s}}", "error", "code", dl_errno_name(code), "message", msg);
	s = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	if (!s)
		return MHD_NO;
	ret = http_respond(c, r, status, "application/json", s, strlen(s));
	free(s);
	return ret;
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

static bool
has_body(const char *method)
{
	return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

/* The request's answer, by route: the loop's part of on_request, for its own connections
 * and for those a reader thread handed over. */
static enum MHD_Result
route(struct bootsvc *bs, struct MHD_Connection *c, struct req *r, const char *url,
    const char *method)
{
	if (r->body_too_big)
		return http_respond_error(c, r, 413, -E2BIG, "request body too large");
	switch (r->route) {
	case ROUTE_IPXE:
		if (strcmp(method, "GET") != 0)
			break;
		return http_ipxe(bs, c, r, url);
	case ROUTE_IMAGES:
		return http_images(bs, c, r, url, method);
	case ROUTE_API:
		return api_node(bs, c, r, url, method);
	case ROUTE_METRICS:
		if (strcmp(method, "GET") != 0)
			break;
		return http_metrics(bs, c, r);
	default:
		return http_respond_error(c, r, 404, -ENOENT, "no such resource");
	}
	return http_respond_error(c, r, 405, -EINVAL, "method not allowed");
}

/* A reader thread gives r to the loop: the connection waits suspended until the loop has
 * answered (handoff_run) and resumed it; on_request then queues the answer. Suspended
 * first, so the loop can never resume it before. */
static enum MHD_Result
handoff_push(struct srv *s, struct MHD_Connection *c, struct req *r, enum handoff stage)
{
	struct http *h = s->h;
	bool wake;

	r->handoff = stage;
	r->handed = true;
	r->deferred = false;
	r->next = NULL;
	MHD_suspend_connection(c);
	pthread_mutex_lock(&h->lock);
	wake = !h->q_head;
	if (h->q_tail)
		h->q_tail->next = r;
	else
		h->q_head = r;
	h->q_tail = r;
	pthread_mutex_unlock(&h->lock);
	if (wake)
		(void)eventfd_write(h->q_fd, 1);
	return MHD_YES;
}

/* The loop's answer to a handed-over request, back on its reader thread. */
static enum MHD_Result
handoff_taken(struct MHD_Connection *c, struct req *r)
{
	enum handoff stage = r->handoff;
	struct MHD_Response *resp = r->resp;

	r->handoff = HANDOFF_NONE;
	r->handed = false;
	r->resp = NULL;
	if (r->failed) {
		if (resp)
			MHD_destroy_response(resp);
		return MHD_NO;
	}
	if (resp)
		return http_queue(c, r, r->resp_status, resp);
	/* Headers the loop did not refuse: the body comes next. A whole request without
	 * an answer cannot be answered: closed, as MHD_NO from the loop's own would. */
	return stage == HANDOFF_HEADERS ? MHD_YES : MHD_NO;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size, void **req_cls)
{
	struct srv *s = cls;
	struct bootsvc *bs = s->bs;
	struct req *r = *req_cls;
	struct conn *k;
	enum MHD_Result ret;

	(void)version;
	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		r->start_ms = loop_now_ms();
		r->route = http_route_of(url);
		r->wake_fd = s->wake_fd;
		r->c = c;
		r->url = url;
		r->method = method;
		/* the connection's, formatted once when it opened: a kept-alive connection
		 * carries many requests (inet_ntop was 1% of a script answer) */
		if ((k = conn_of(c)))
			memcpy(r->client, k->client, sizeof(r->client));
		else
			(void)client_of(c, r->client);
		*req_cls = r;
		metric_add(&s->m->requests[r->route], 1);
		metric_add(&s->n_requests, 1);
		/* Refuse on the headers, before MHD reads (or asks with 100 Continue for) a body
		 * nobody authorised: a response queued now makes MHD skip the body and close. */
		if (r->route == ROUTE_API && has_body(method)) {
			if (s->view)
				return handoff_push(s, c, r, HANDOFF_HEADERS);
			if (api_node_refused(bs, c, url))
				return api_node(bs, c, r, url, method);
		}
		return MHD_YES;
	}
	if (r->handoff != HANDOFF_NONE)
		return handoff_taken(c, r); /* resumed: the loop has answered */
	if (*upload_data_size) {
		/* Kept up to the cap; past it, drained and answered 413 at the end. */
		if (body_append(&r->body, &r->body_len, &r->body_too_big, upload_data,
		    *upload_data_size, MAX_API_BODY) < 0)
			return MHD_NO;
		*upload_data_size = 0;
		return MHD_YES;
	}
	/* The whole request is in: its deadline no longer applies (a slow response is
	 * bounded by the idle timeout). */
	if ((k = conn_of(c)))
		conn_unwait(s, k);
	if (!s->view)
		return route(bs, c, r, url, method);
	if (r->route == ROUTE_IPXE && strcmp(method, "GET") == 0 && !r->body_too_big &&
	    http_ipxe_read(bs, s->view, c, r, url, &ret))
		return ret;
	return handoff_push(s, c, r, HANDOFF_FINAL);
}

/* The loop: the reader threads' requests, answered as its own are, in one store batch;
 * their connections resumed after its commit, so what an answer recorded is committed
 * before the node's next request can reach a reader thread. */
static void
handoff_run(struct loop *l, int fd, uint32_t events, void *userdata)
{
	struct http *h = userdata;
	struct bootsvc *bs = h->bs;
	struct req *list, *r, *next;
	eventfd_t n;

	(void)l;
	(void)events;
	(void)eventfd_read(fd, &n);
	pthread_mutex_lock(&h->lock);
	list = h->q_head;
	h->q_head = h->q_tail = NULL;
	pthread_mutex_unlock(&h->lock);
	(void)store_batch_begin(bs->store);
	for (r = list; r; r = r->next) {
		enum MHD_Result ret;

		if (r->handoff == HANDOFF_HEADERS)
			ret = api_node_refused(bs, r->c, r->url) ?
			    api_node(bs, r->c, r, r->url, r->method) : MHD_YES;
		else
			ret = route(bs, r->c, r, r->url, r->method);
		r->failed = ret == MHD_NO;
	}
	(void)store_batch_end(bs->store);
	for (r = list; r; r = next) {
		next = r->next; /* r is the reader thread's again once resumed */
		if (!r->deferred)
			http_resume(r->c, r);
	}
}

/* One log line per request, when MHD is done with it (CONVENTIONS §9). */
static void
on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct srv *s = cls;
	struct req *r = *req_cls;
	struct conn *k = conn_of(c);
	uint64_t now = loop_now_ms(); /* read once: clock reads were 1.5% of a script answer */

	/* A kept-alive connection's next request has the same time to arrive. */
	if (k && toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
		conn_wait(s, k, now);
	if (!r)
		return;
	metric_add(&s->m->bytes_sent, r->bytes);
	if (r->status >= 100 && r->status < 600)
		metric_add(&s->m->responses[r->status / 100], 1);
	if (r->route == ROUTE_IPXE)
		http_metrics_script_observe(s->m, now - r->start_ms);
	log_info("event=http_request route=%s status=%u bytes=%llu ms=%llu client=%s%s%s%s",
	    http_route_name(r->route), r->status, (unsigned long long)r->bytes,
	    (unsigned long long)(now - r->start_ms), r->client[0] ? r->client : "-",
	    r->node[0] ? " node=" : "", r->node, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" :
	    " aborted=1");
	if (r->resp)
		MHD_destroy_response(r->resp);
	free(r->body);
	free(r);
	*req_cls = NULL;
}

/* One MHD_run() as one store batch: the requests it serves share a read lock and a
 * commit (store.h); on a reader thread, one snapshot of its reader. */
static void
run_mhd(struct srv *s)
{
	if (s->view) {
		store_reader_batch_begin(s->view->rd);
		(void)MHD_run(s->d);
		store_reader_batch_end(s->view->rd);
		return;
	}
	(void)store_batch_begin(s->bs->store);
	(void)MHD_run(s->d);
	(void)store_batch_end(s->bs->store);
}

static void
on_epoll(struct loop *l, int fd, uint32_t events, void *userdata)
{
	(void)l;
	(void)fd;
	(void)events;
	run_mhd(userdata);
}

/* The listening socket is readable: accept what is queued, up to HTTP_ACCEPT_BATCH, and
 * hand each to MHD, which serves them in the same pass (on_connection applies the
 * per-address limit). At max_conns the socket is left out of the loop until one closes,
 * so the queue waits in the backlog as with MHD's own accept. */
static void
on_listen(struct loop *l, int fd, uint32_t events, void *userdata)
{
	struct srv *s = userdata;
	uint64_t suppressed;

	(void)events;
	for (int i = 0; i < HTTP_ACCEPT_BATCH; i++) {
		struct sockaddr_storage sa;
		socklen_t len = sizeof(sa);
		int c;

		if (s->n_conns >= s->max_conns) {
			if (loop_mod_fd(l, fd, 0) == 0)
				s->accept_off = true;
			break;
		}
		c = accept4(fd, (struct sockaddr *)&sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    log_ratelimit_pass(&s->rl_mhd, loop_now_ms(), &suppressed))
				log_warning("event=http_accept err=%s suppressed=%llu",
				    dl_errno_name(-errno), (unsigned long long)suppressed);
			break;
		}
		/* closes c itself when it refuses it (no memory) */
		(void)MHD_add_connection(s->d, c, (struct sockaddr *)&sa, len);
	}
	run_mhd(s);
}

/* A non-blocking socket bound to addr:port, as MHD made its own: address reuse (a restart
 * binds at once while the last one's connections close), and port reuse, so each serving
 * thread binds its own and the kernel spreads the connections among those listening. */
static int
socket_bind(const char *addr, uint16_t port, int *ret, struct dl_err *reterr)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd, one = 1, e;

	(void)inet_pton(AF_INET, addr, &sa.sin_addr); /* validated by config */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return dl_err_set(reterr, -errno, "HTTP: socket: %s", strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		e = errno;
		close(fd);
		return dl_err_set(reterr, -e, "HTTP: cannot listen on %s:%u: %s", addr,
		    (unsigned)port, strerror(e));
	}
	*ret = fd;
	return 0;
}

static int
srv_listen(struct srv *s, struct dl_err *reterr)
{
	if (listen(s->listen_fd, SOMAXCONN) < 0)
		return dl_err_set(reterr, -errno, "HTTP: cannot listen on %s:%u: %s",
		    s->bs->cfg.http_addr, (unsigned)s->bs->cfg.http_port, strerror(errno));
	return 0;
}

static int64_t
on_prepare(struct loop *l, void *userdata)
{
	struct srv *s = userdata;
	MHD_UNSIGNED_LONG_LONG t;
	int64_t next;

	(void)l;
	/* Work MHD left pending (responses queued by our own handlers) runs now. */
	run_mhd(s);
	next = deadlines_run(s);
	if (MHD_get_timeout(s->d, &t) == MHD_YES) {
		int64_t m = t > INT64_MAX ? INT64_MAX : (int64_t)t;
		if (next < 0 || m < next)
			next = m;
	}
	return next;
}

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct srv *s = cls;
	char msg[256], safe[MAX_LOG_VALUE + 1];
	uint64_t suppressed;

	/* Under a flood MHD says the same few things per connection ("reached connection
	 * limit", "hit process or system resource limit"). */
	if (!log_ratelimit_pass(&s->rl_mhd, loop_now_ms(), &suppressed))
		return;
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0'; /* MHD ends its messages with one */
	log_warning("event=http_internal msg=\"%s\" suppressed=%llu",
	    log_safe(safe, sizeof(safe), msg), (unsigned long long)suppressed);
}

/* s's socket bound and its daemon made; it serves once srv_watch puts it on a loop. */
static int
srv_open(struct http *h, struct srv *s, unsigned max_conns, struct dl_err *reterr)
{
	struct bootsvc *bs = h->bs;
	const union MHD_DaemonInfo *info;
	int r;

	s->h = h;
	s->bs = bs;
	s->epfd = s->listen_fd = -1;
	s->max_conns = max_conns;
	s->rl_mhd = (struct log_ratelimit){ .interval_ms = HTTP_LOG_INTERVAL_MS,
		.burst = HTTP_LOG_BURST };
	s->rl_deadline = s->rl_mhd;
	if ((r = socket_bind(bs->cfg.http_addr, bs->cfg.http_port, &s->listen_fd, reterr)) < 0)
		return r;
	/* MHD_USE_NO_LISTEN_SOCKET: connections come from on_listen (MHD_add_connection).
	 * No per-address limit of MHD's: it would count this server's connections only
	 * (on_connection applies http's). */
	s->d = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_USE_SUSPEND_RESUME |
	    MHD_USE_NO_LISTEN_SOCKET, 0, NULL, NULL, on_request, s,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
	    MHD_OPTION_CONNECTION_LIMIT, max_conns,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_IDLE_TIMEOUT_S,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
	    /* main() ignores SIGPIPE. Without being told, MHD assumes a write to a closed
	     * socket could kill us and sends fd responses with pread()+send() instead of
	     * sendfile(): every image byte copied through user space (the boot-storm
	     * profile in docs/benchmarks.md). */
	    MHD_OPTION_SIGPIPE_HANDLED_BY_APP, 1,
	    /* Each connection's request memory, all of which MHD zeroes for every request
	     * (MHD_pool_reset): our requests are a short GET line with a few headers, or a
	     * phase report of a few hundred bytes (bodies arrive in pieces and on_request
	     * keeps them). MHD's 32 KiB default cost RSS in a storm (1,000 clients held
	     * 32 MiB of it) and 16 KiB still cost 2% of a script answer in that memset;
	     * 8 KiB is nginx's own limit on a request's head (large_client_header_buffers). */
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONN_MEMORY,
	    MHD_OPTION_END);
	if (!s->d)
		return dl_err_set(reterr, -EIO, "HTTP: libmicrohttpd did not start");
	info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_EPOLL_FD);
	s->epfd = info ? info->epoll_fd : -1;
	if (s->epfd < 0)
		return dl_err_set(reterr, -EIO, "HTTP: libmicrohttpd has no epoll fd");
	return 0;
}

/* s on loop l: its daemon's epoll fd and its listening socket. */
static int
srv_watch(struct srv *s, struct loop *l, struct dl_err *reterr)
{
	int r;

	s->loop = l;
	if ((r = loop_add_fd(l, s->epfd, EPOLLIN, on_epoll, s)) < 0)
		return dl_err_set(reterr, r, "HTTP: cannot watch MHD's epoll fd");
	if ((r = loop_add_fd(l, s->listen_fd, EPOLLIN, on_listen, s)) < 0) {
		loop_del_fd(l, s->epfd);
		return dl_err_set(reterr, r, "HTTP: cannot watch the listening socket");
	}
	loop_set_prepare(l, on_prepare, s);
	return 0;
}

static void
srv_unwatch(struct srv *s)
{
	if (!s->loop)
		return;
	loop_del_fd(s->loop, s->epfd);
	loop_del_fd(s->loop, s->listen_fd);
	loop_set_prepare(s->loop, NULL, NULL);
	s->loop = NULL;
}

static void
srv_close(struct srv *s)
{
	if (s->d)
		MHD_stop_daemon(s->d);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	s->d = NULL;
	s->listen_fd = -1;
}

/* max_connections shared among the servers: the loop's takes what the division leaves. */
static unsigned
share_of(const struct config *cfg, unsigned i)
{
	unsigned n = cfg->http_threads, each = cfg->max_connections / n;

	return i == 0 ? cfg->max_connections - each * (n - 1) : each;
}

int
http_start(struct bootsvc *bs, struct http **ret, struct dl_err *reterr)
{
	struct http *h = calloc(1, sizeof(*h));
	unsigned n_readers = bs->cfg.http_threads > 1 ? bs->cfg.http_threads - 1 : 0;
	int r;

	if (!h)
		return -ENOMEM;
	h->bs = bs;
	h->q_fd = -1;
	(void)pthread_mutex_init(&h->lock, NULL);
	/* on_request and on_completed reach h through their server. */
	bs->http = h;
	if ((r = ip_limit_new(bs->cfg.max_connections, bs->cfg.http_max_per_ip, &h->ips)) < 0) {
		dl_err_set(reterr, r, "HTTP: out of memory");
		goto fail;
	}
	h->main.m = &bs->metrics;
	h->main.wake_fd = -1;
	http_observe_reset();
	if ((r = srv_open(h, &h->main, share_of(&bs->cfg, 0), reterr)) < 0 ||
	    (r = srv_listen(&h->main, reterr)) < 0 ||
	    (r = srv_watch(&h->main, bs->loop, reterr)) < 0)
		goto fail;
	/* The readers' sockets are bound now, while binding may need root; they listen only
	 * once their threads run (http_readers_start): a socket not listening gets none of
	 * the port's connections. */
	if (n_readers) {
		if (!(h->readers = calloc(n_readers, sizeof(*h->readers)))) {
			r = dl_err_set(reterr, -ENOMEM, "HTTP: out of memory");
			goto fail;
		}
		h->n_readers = n_readers;
		for (unsigned i = 0; i < n_readers; i++)
			h->readers[i].srv.listen_fd = h->readers[i].wake_fd = -1;
		for (unsigned i = 0; i < n_readers; i++) {
			struct reader *rd = &h->readers[i];

			rd->srv.view = &rd->view;
			rd->srv.m = &rd->view.m;
			/* made now: a request's wake_fd is its server's from its first call */
			if ((rd->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
				r = dl_err_set(reterr, -errno, "HTTP: eventfd: %s", strerror(errno));
				goto fail;
			}
			rd->srv.wake_fd = rd->wake_fd;
			if ((r = srv_open(h, &rd->srv, share_of(&bs->cfg, i + 1), reterr)) < 0)
				goto fail;
		}
	}
	log_info("event=http_listen addr=%s port=%u threads=%u", bs->cfg.http_addr,
	    bs->cfg.http_port, n_readers + 1);
	*ret = h;
	return 0;
fail:
	bs->http = http_stop(h);
	return r;
}

/* A reader thread: its own loop runs its server until the loop asks it to stop. Woken,
 * it runs its daemon, which takes the connections the loop resumed. */
static void
on_wake(struct loop *l, int fd, uint32_t events, void *userdata)
{
	struct reader *rd = userdata;
	eventfd_t n;

	(void)events;
	(void)eventfd_read(fd, &n);
	if (atomic_load(&rd->quit))
		loop_quit(l, 0);
	else
		run_mhd(&rd->srv);
}

static void *
reader_main(void *arg)
{
	struct reader *rd = arg;

	(void)loop_run(rd->srv.loop);
	return NULL;
}

static int
reader_start(struct http *h, struct reader *rd, struct dl_err *reterr)
{
	struct loop *l = NULL;
	int r;

	if ((r = store_reader_open(h->bs->store, &rd->view.rd, reterr)) < 0)
		return r;
	if ((r = loop_new(&l)) < 0)
		return dl_err_set(reterr, r, "HTTP: reader thread's loop: %s", strerror(-r));
	if ((r = loop_add_fd(l, rd->wake_fd, EPOLLIN, on_wake, rd)) < 0 ||
	    (r = srv_watch(&rd->srv, l, reterr)) < 0) {
		srv_unwatch(&rd->srv);
		loop_free(l);
		return dl_err_set(reterr, r, "HTTP: reader thread: %s", strerror(-r));
	}
	if ((r = srv_listen(&rd->srv, reterr)) < 0) {
		srv_unwatch(&rd->srv);
		loop_free(l);
		return r;
	}
	if ((r = pthread_create(&rd->thread, NULL, reader_main, rd)) != 0) {
		srv_unwatch(&rd->srv);
		loop_free(l);
		return dl_err_set(reterr, -r, "HTTP: reader thread: %s", strerror(r));
	}
	rd->running = true;
	return 0;
}

int
http_readers_start(struct http *h, struct dl_err *reterr)
{
	int r;

	if (!h->n_readers)
		return 0;
	h->q_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (h->q_fd < 0)
		return dl_err_set(reterr, -errno, "HTTP: eventfd: %s", strerror(errno));
	if ((r = loop_add_fd(h->bs->loop, h->q_fd, EPOLLIN, handoff_run, h)) < 0)
		return dl_err_set(reterr, r, "HTTP: cannot watch the hand-off queue");
	for (unsigned i = 0; i < h->n_readers; i++)
		if ((r = reader_start(h, &h->readers[i], reterr)) < 0)
			return r;
	return 0;
}

void
http_readers_stop(struct http *h)
{
	struct req *list, *r, *next;

	if (!h)
		return;
	for (unsigned i = 0; i < h->n_readers; i++) {
		struct reader *rd = &h->readers[i];

		if (!rd->running)
			continue;
		atomic_store(&rd->quit, true);
		(void)eventfd_write(rd->wake_fd, 1);
		(void)pthread_join(rd->thread, NULL);
		rd->running = false;
		/* The socket first, so no connection waits on it (the kernel sends new ones to
		 * the sockets still listening); the daemon goes in http_stop, after every
		 * answer the loop still owes its connections (action_free's cancellations). */
		close(rd->srv.listen_fd);
		rd->srv.listen_fd = -1;
	}
	/* Requests handed over and not yet taken: nobody will answer them now. */
	pthread_mutex_lock(&h->lock);
	list = h->q_head;
	h->q_head = h->q_tail = NULL;
	pthread_mutex_unlock(&h->lock);
	for (r = list; r; r = next) {
		next = r->next;
		r->failed = true;
		http_resume(r->c, r);
	}
}

struct http *
http_stop(struct http *h)
{
	if (!h)
		return NULL;
	http_readers_stop(h);
	for (unsigned i = 0; i < h->n_readers; i++) {
		struct reader *rd = &h->readers[i];
		struct loop *l = rd->srv.loop;

		srv_unwatch(&rd->srv);
		srv_close(&rd->srv);
		loop_free(l);
		if (rd->wake_fd >= 0)
			close(rd->wake_fd);
		tmpl_bound_cache_done(&rd->view.bound);
		store_reader_close(rd->view.rd);
	}
	free(h->readers);
	if (h->q_fd >= 0) {
		loop_del_fd(h->bs->loop, h->q_fd);
		close(h->q_fd);
	}
	srv_unwatch(&h->main);
	srv_close(&h->main);
	ip_limit_free(h->ips);
	pthread_mutex_destroy(&h->lock);
	free(h);
	return NULL;
}

void
http_metrics_readers(const struct bootsvc *bs, struct metrics *m)
{
	const struct http *h = bs->http;

	for (unsigned i = 0; h && i < h->n_readers; i++) {
		const struct metrics *v = &h->readers[i].view.m;
#define ADD(f) (m->f += __atomic_load_n(&v->f, __ATOMIC_RELAXED))
		for (int j = 0; j < 6; j++) {
			ADD(requests[j]);
			ADD(responses[j]);
		}
		ADD(bytes_sent);
		ADD(boot_scripts);
		for (int j = 0; j < METRICS_SCRIPT_BUCKETS; j++)
			ADD(script_buckets[j]);
		ADD(script_count);
		ADD(script_ms_sum);
#undef ADD
	}
}

unsigned
http_thread_requests(const struct bootsvc *bs, uint64_t *ret, unsigned max)
{
	const struct http *h = bs->http;
	unsigned n = 0;

	if (!h || !max)
		return 0;
	ret[n++] = h->main.n_requests;
	for (unsigned i = 0; i < h->n_readers && n < max; i++)
		ret[n++] = __atomic_load_n(&h->readers[i].srv.n_requests, __ATOMIC_RELAXED);
	return n;
}
