/* SPDX-License-Identifier: MIT */
/* The HTTP servers (http.h): a server per serving thread, its connections, their
 * deadlines and per-address counts, and on_request, which routes a request on the loop
 * or, on a reader thread, answers it from the view or hands it over (http_reader.c). */
#include <arpa/inet.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/http.h"
#include "http/http_internal.h"
#include "http/ip_limit.h"
#include "http/http_srv.h"
#include "body.h"
#include "boot/boot_records.h"
#include "log.h"

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
/* Connections a serving thread accepts per wake of the shared listening socket: a few, then
 * back to its loop, so a burst is spread over the threads that are free instead of
 * queueing behind the one that woke first (srv_accept_on). Not one: a flood is accepted
 * four a turn of the loop, each turn a pass of libmicrohttpd's. The rest of the queue
 * stays readable: the next turn takes it, or another thread. */
#define HTTP_ACCEPT_BATCH 4

void
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

void
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
		srv_conn_closed(s);
		return;
	}
	if ((k = s->adopt)) {
		/* the direct path's, handed on unread (http_direct.c): counted, limited and
		 * on its deadline since it was accepted */
		s->adopt = NULL;
		k->direct = false;
		*socket_context = k;
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

void
srv_conn_closed(struct srv *s)
{
	s->n_conns--;
	if (s->accept_off && s->n_conns < s->max_conns && srv_accept_on(s) == 0)
		s->accept_off = false;
}

/* Close every connection whose request is not in by its deadline, however it trickles:
 * shutdown() makes MHD see the end of the stream and close the connection itself; a
 * direct connection, MHD's in no way yet, is closed here. Returns ms until the next
 * deadline, or -1. */
static int64_t
deadlines_run(struct srv *s)
{
	uint64_t now = loop_now_ms(), limit = s->bs->cfg.http_request_timeout_ms;

	while (s->head && now - s->head->since >= limit) {
		struct conn *k = s->head;
		uint64_t suppressed;

		s->n_deadline++;
		if (log_ratelimit_pass(&s->rl_deadline, now, &suppressed))
			log_warning("event=http_deadline msg=\"request not complete within %llu ms, "
			    "closing\" client=%s suppressed=%llu total=%llu",
			    (unsigned long long)limit, k->client[0] ? k->client : "-",
			    (unsigned long long)suppressed, (unsigned long long)s->n_deadline);
		conn_unwait(s, k);
		if (k->direct)
			direct_drop(s, k);
		else if (k->fd >= 0)
			(void)shutdown(k->fd, SHUT_RDWR);
	}
	return s->head ? (int64_t)(s->head->since + limit - now) : -1;
}

static bool
has_body(const char *method)
{
	return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

/* A node API request with a body, on its headers alone: api_node()'s refusal answered now,
 * before MHD reads (or asks with 100 Continue for) a body nobody authorised, else MHD_YES
 * to read it. The loop's, for its own connections and a reader thread's. */
enum MHD_Result
route_headers(struct bootsvc *bs, struct MHD_Connection *c, struct req *r, const char *url,
    const char *method)
{
	/* a node's report is judged on its rows as its boot's records left them */
	http_records_write(bs);
	return api_node_refused(bs, c, url) ? api_node(bs, c, r, url, method) : MHD_YES;
}

/* The request's answer, by route: the loop's part of on_request, for its own connections
 * and for those a reader thread handed over. */
enum MHD_Result
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
		/* the script and image routes write the records of the node they decide on
		 * (http_records_before); a report is judged on its node's after them all */
		http_records_write(bs);
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
			return route_headers(bs, c, r, url, method);
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
	if (!r->body_too_big && r->route == ROUTE_IPXE && strcmp(method, "GET") == 0 &&
	    http_ipxe_read(bs, s->view, c, r, url, &ret))
		return ret;
	if (!r->body_too_big && r->route == ROUTE_IMAGES &&
	    http_images_read(bs, s->view, c, r, url, method, &ret))
		return ret;
	return handoff_push(s, c, r, HANDOFF_FINAL);
}

void
req_done(struct srv *s, const struct req *r, uint64_t now, bool ok)
{
	metric_add(&s->m->bytes_sent, r->bytes);
	if (r->status >= 100 && r->status < 600)
		metric_add(&s->m->responses[r->status / 100], 1);
	if (r->route == ROUTE_IPXE)
		http_metrics_script_observe(s->m, now - r->start_ms);
	log_info("event=http_request route=%s status=%u bytes=%llu ms=%llu client=%s%s%s%s",
	    http_route_name(r->route), r->status, (unsigned long long)r->bytes,
	    (unsigned long long)(now - r->start_ms), r->client[0] ? r->client : "-",
	    r->node[0] ? " node=" : "", r->node, ok ? "" : " aborted=1");
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
	req_done(s, r, now, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK);
	if (r->resp)
		MHD_destroy_response(r->resp);
	free(r->body);
	free(r);
	*req_cls = NULL;
}

/* One MHD_run() as one store batch: the requests it serves share a read lock and a
 * commit (store.h); on a reader thread, one snapshot of its reader. */
void
run_mhd(struct srv *s)
{
	srv_batch_begin(s);
	(void)MHD_run(s->d);
	srv_batch_end(s);
}

void
srv_batch_begin(struct srv *s)
{
	if (s->view) {
		store_reader_batch_begin(s->view->rd);
		/* its snapshot is taken at its first lookup: after these commits */
		if (s->view->records)
			s->view->epoch = boot_records_epoch(s->view->records);
		return;
	}
	(void)store_batch_begin(s->bs->store);
}

void
srv_batch_end(struct srv *s)
{
	if (s->view)
		store_reader_batch_end(s->view->rd);
	else
		loop_batch_end(s->h);
}

void
loop_batch_end(struct http *h)
{
	(void)store_batch_end(h->bs->store);
	if (h->records)
		boot_records_committed(h->records);
}

/* A pass of s's daemon over its connections (image files, API requests), after the
 * direct path's scripts whose requests are in: a script never waits behind other nodes'
 * image bytes. */
static void
srv_pass(struct srv *s)
{
	direct_run(s);
	run_mhd(s);
}

static void
on_epoll(struct loop *l, int fd, uint32_t events, void *userdata)
{
	(void)l;
	(void)fd;
	(void)events;
	srv_pass(userdata);
}

/* The listening socket is readable: accept what is queued, up to HTTP_ACCEPT_BATCH, each
 * into the direct path's set (direct_accept), which answers a script itself or hands the
 * connection to MHD. At max_conns the socket is left out of this loop until one closes. */
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
			/* out of the wake-ups, so the other threads take the queue; off
			 * everywhere, it waits in the kernel's backlog */
			loop_del_fd(l, fd);
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
		if (sa.ss_family == AF_INET)
			direct_accept(s, c, (struct sockaddr_in *)&sa);
		else /* closes c itself when it refuses it (no memory) */
			(void)MHD_add_connection(s->d, c, (struct sockaddr *)&sa, len);
	}
	/* The scripts among them answered now if their requests are in (a client sends its
	 * request as its connection opens), not after a turn of the loop and a pass of
	 * MHD's over other nodes' image files. No pass here: a connection MHD was given is
	 * readable in its epoll set, whose wake-up (on_epoll) runs the pass, after the
	 * direct path's scripts. */
	direct_run(s);
}

/* A non-blocking socket bound to addr:port, as MHD made its own: address reuse (a restart
 * binds at once while the last one's connections close). Not port reuse: the serving
 * threads share this one socket (srv_accept_on), and a second bootsvc on the port is
 * refused instead of silently given half its connections. sndbuf (config http_sndbuf, 0:
 * the kernel's autotuning) is set here once: every connection accepted from the socket
 * starts with the listener's buffer sizes. */
static int
socket_bind(const char *addr, uint16_t port, uint64_t sndbuf, int *ret, struct dl_err *reterr)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd, one = 1, sb = (int)sndbuf, e;

	(void)inet_pton(AF_INET, addr, &sa.sin_addr); /* validated by config */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return dl_err_set(reterr, -errno, "HTTP: socket: %s", strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (sb && setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sb, sizeof(sb)) < 0) ||
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
	srv_pass(s);
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

/* s's socket (the loop's bound, a reader's a copy of it) and its daemon made; it serves
 * once srv_watch puts it on a loop and srv_accept_on lets it accept. */
int
srv_open(struct http *h, struct srv *s, unsigned max_conns, struct dl_err *reterr)
{
	struct bootsvc *bs = h->bs;
	const union MHD_DaemonInfo *info;
	int r;

	s->h = h;
	s->bs = bs;
	s->epfd = s->listen_fd = s->direct_epfd = -1;
	s->max_conns = max_conns;
	s->rl_mhd = (struct log_ratelimit){ .interval_ms = HTTP_LOG_INTERVAL_MS,
		.burst = HTTP_LOG_BURST };
	s->rl_deadline = s->rl_mhd;
	if (s == &h->main)
		r = socket_bind(bs->cfg.http_addr, bs->cfg.http_port, bs->cfg.http_sndbuf,
		    &s->listen_fd, reterr);
	else if ((s->listen_fd = fcntl(h->main.listen_fd, F_DUPFD_CLOEXEC, 0)) < 0)
		r = dl_err_set(reterr, -errno, "HTTP: cannot share the listening socket: %s",
		    strerror(errno));
	else
		r = 0;
	if (r < 0 || (r = direct_open(s, reterr)) < 0)
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

/* s accepts from the listening socket all serving threads share, each from a wake-up of
 * its own (EPOLLEXCLUSIVE): the kernel wakes one thread waiting in its loop per connection,
 * trying them in the order they began to accept, and passes over one that is busy. So a
 * connection goes to a thread that is free, as nginx's workers share their socket: a
 * thread held up (a long pass, a store write, the scheduler) no longer strands the
 * connections the kernel hashed to its socket of its own (SO_REUSEPORT, before), which
 * wait for it while another thread is idle. The reader threads begin first
 * (http_serve), so an idle server's connections go to a reader and the loop, which
 * also runs the controller, takes those that come while the readers are busy. */
int
srv_accept_on(struct srv *s)
{
	return loop_add_fd(s->loop, s->listen_fd, EPOLLIN | EPOLLEXCLUSIVE, on_listen, s);
}

/* s on loop l: its daemon's epoll fd and its direct set (srv_accept_on then accepts). */
int
srv_watch(struct srv *s, struct loop *l, struct dl_err *reterr)
{
	int r;

	s->loop = l;
	if ((r = loop_add_fd(l, s->epfd, EPOLLIN, on_epoll, s)) < 0)
		return dl_err_set(reterr, r, "HTTP: cannot watch MHD's epoll fd");
	if ((r = direct_watch(s)) < 0) {
		loop_del_fd(l, s->epfd);
		return dl_err_set(reterr, r, "HTTP: cannot watch the direct path's epoll fd");
	}
	loop_set_prepare(l, on_prepare, s);
	return 0;
}

void
srv_unwatch(struct srv *s)
{
	if (!s->loop)
		return;
	loop_del_fd(s->loop, s->epfd);
	loop_del_fd(s->loop, s->direct_epfd);
	loop_del_fd(s->loop, s->listen_fd);
	loop_set_prepare(s->loop, NULL, NULL);
	s->loop = NULL;
}

void
srv_close(struct srv *s)
{
	direct_close(s);
	if (s->d)
		MHD_stop_daemon(s->d);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	s->d = NULL;
	s->listen_fd = -1;
}

/* max_connections shared among the servers: the loop's takes what the division leaves. */
unsigned
share_of(const struct config *cfg, unsigned i)
{
	unsigned n = cfg->http_threads, each = cfg->max_connections / n;

	return i == 0 ? cfg->max_connections - each * (n - 1) : each;
}

/* The kernel doubles SO_SNDBUF and caps what it doubles at net.core.wmem_max (212992 on
 * a stock kernel): said once, so an admin who raised http_sndbuf knows to raise that. */
static void
sndbuf_check(int fd, uint64_t want)
{
	int got = 0;
	socklen_t len = sizeof(got);

	if (!want || getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &got, &len) < 0 ||
	    (uint64_t)got >= 2 * want)
		return;
	log_warning("event=http_sndbuf want=%llu got=%d msg=\"http_sndbuf is capped by "
	    "net.core.wmem_max: each connection's send buffer is %d bytes, not %llu\"",
	    (unsigned long long)want, got / 2, got / 2, (unsigned long long)want);
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
	h->records_timer = -1;
	(void)pthread_mutex_init(&h->lock, NULL);
	/* on_request and on_completed reach h through their server. */
	bs->http = h;
	if ((r = ip_limit_new(bs->cfg.max_connections, bs->cfg.http_max_per_ip, &h->ips)) < 0) {
		dl_err_set(reterr, r, "HTTP: out of memory");
		goto fail;
	}
	h->main.m = &bs->metrics;
	h->main.wake_fd = -1;
	if ((r = srv_open(h, &h->main, share_of(&bs->cfg, 0), reterr)) < 0 ||
	    (r = srv_listen(&h->main, reterr)) < 0 ||
	    (r = srv_watch(&h->main, bs->loop, reterr)) < 0)
		goto fail;
	/* The readers' servers made now, each with its copy of the socket; every server
	 * accepts from http_serve on. */
	if ((r = readers_open(h, n_readers, reterr)) < 0)
		goto fail;
	log_info("event=http_listen addr=%s port=%u threads=%u", bs->cfg.http_addr,
	    bs->cfg.http_port, n_readers + 1);
	sndbuf_check(h->main.listen_fd, bs->cfg.http_sndbuf);
	*ret = h;
	return 0;
fail:
	bs->http = http_stop(h);
	return r;
}

struct http *
http_stop(struct http *h)
{
	if (!h)
		return NULL;
	readers_free(h);
	srv_unwatch(&h->main);
	srv_close(&h->main);
	ip_limit_free(h->ips);
	pthread_mutex_destroy(&h->lock);
	free(h);
	return NULL;
}

