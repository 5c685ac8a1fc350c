/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <jansson.h>
#include <stdio.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/http.h"
#include "http/http_internal.h"
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
 * still arriving it sits in http's deadline list, oldest first: the list is ordered by
 * since, because a connection re-enters at the tail when its next request starts. */
struct conn {
	int fd;
	uint64_t since; /* the request the deadline measures started here */
	bool waiting;   /* in the deadline list */
	char client[16];
	struct conn *prev, *next;
};

struct http {
	struct bootsvc *bs;
	struct MHD_Daemon *d;
	int epfd;
	int listen_fd;     /* ours: accepted here and handed to MHD (on_listen) */
	unsigned n_conns;  /* open, as MHD notifies them */
	bool accept_off;   /* at max_connections: the queue waits in the kernel's backlog */
	struct conn *head, *tail; /* the deadline list */
	struct log_ratelimit rl_mhd, rl_deadline;
	uint64_t n_deadline;
};

static void
conn_unwait(struct http *h, struct conn *k)
{
	if (!k->waiting)
		return;
	if (k->prev)
		k->prev->next = k->next;
	else
		h->head = k->next;
	if (k->next)
		k->next->prev = k->prev;
	else
		h->tail = k->prev;
	k->prev = k->next = NULL;
	k->waiting = false;
}

/* The connection's next request starts at now: its head must be in by the deadline. */
static void
conn_wait(struct http *h, struct conn *k, uint64_t now)
{
	conn_unwait(h, k);
	k->since = now;
	k->prev = h->tail;
	k->next = NULL;
	if (h->tail)
		h->tail->next = k;
	else
		h->head = k;
	h->tail = k;
	k->waiting = true;
}

static struct conn *
conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

/* c's client address as text into buf ("" when not IPv4). */
static void
client_of(struct MHD_Connection *c, char buf[static 16])
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	buf[0] = '\0';
	if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
		(void)inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr,
		    buf, 16);
}

static void
on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode code)
{
	struct http *h = cls;
	struct conn *k = *socket_context;
	const union MHD_ConnectionInfo *ci;

	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (k) {
			conn_unwait(h, k);
			free(k);
		}
		*socket_context = NULL;
		h->n_conns--;
		if (h->accept_off && h->n_conns < h->bs->cfg.max_connections &&
		    loop_mod_fd(h->bs->loop, h->listen_fd, EPOLLIN) == 0)
			h->accept_off = false;
		return;
	}
	h->n_conns++;
	k = calloc(1, sizeof(*k));
	if (!k)
		return; /* no deadline for this one; MHD's idle timeout still holds */
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	k->fd = ci ? ci->connect_fd : -1;
	client_of(c, k->client);
	*socket_context = k;
	conn_wait(h, k, loop_now_ms());
}

/* Close every connection whose request is not in by its deadline, however it trickles:
 * shutdown() makes MHD see the end of the stream and close the connection itself.
 * Returns ms until the next deadline, or -1. */
static int64_t
deadlines_run(struct http *h)
{
	uint64_t now = loop_now_ms(), limit = h->bs->cfg.http_request_timeout_ms;

	while (h->head && now - h->head->since >= limit) {
		struct conn *k = h->head;
		uint64_t suppressed;

		conn_unwait(h, k);
		if (k->fd >= 0)
			(void)shutdown(k->fd, SHUT_RDWR);
		h->n_deadline++;
		if (log_ratelimit_pass(&h->rl_deadline, now, &suppressed))
			log_warning("event=http_deadline msg=\"request not complete within %llu ms, "
			    "closing\" client=%s suppressed=%llu total=%llu",
			    (unsigned long long)limit, k->client[0] ? k->client : "-",
			    (unsigned long long)suppressed, (unsigned long long)h->n_deadline);
	}
	return h->head ? (int64_t)(h->head->since + limit - now) : -1;
}

enum MHD_Result
http_queue(struct MHD_Connection *c, struct req *r, unsigned status, struct MHD_Response *resp)
{
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO;
	r->status = status;
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
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

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size, void **req_cls)
{
	struct bootsvc *bs = cls;
	struct req *r = *req_cls;
	struct conn *k;

	(void)version;
	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		r->start_ms = loop_now_ms();
		r->route = http_route_of(url);
		/* the connection's, formatted once when it opened: a kept-alive connection
		 * carries many requests (inet_ntop was 1% of a script answer) */
		if ((k = conn_of(c)))
			memcpy(r->client, k->client, sizeof(r->client));
		else
			client_of(c, r->client);
		*req_cls = r;
		bs->metrics.requests[r->route]++;
		/* Refuse on the headers, before MHD reads (or asks with 100 Continue for) a body
		 * nobody authorised: a response queued now makes MHD skip the body and close. */
		if (r->route == ROUTE_API && has_body(method) && api_node_refused(bs, c, url))
			return api_node(bs, c, r, url, method);
		return MHD_YES;
	}
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
		conn_unwait(bs->http, k);
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

/* One log line per request, when MHD is done with it (CONVENTIONS §9). */
static void
on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct bootsvc *bs = cls;
	struct req *r = *req_cls;
	struct conn *k = conn_of(c);
	uint64_t now = loop_now_ms(); /* read once: clock reads were 1.5% of a script answer */

	/* A kept-alive connection's next request has the same time to arrive. */
	if (k && toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
		conn_wait(bs->http, k, now);
	if (!r)
		return;
	bs->metrics.bytes_sent += r->bytes;
	if (r->status >= 100 && r->status < 600)
		bs->metrics.responses[r->status / 100]++;
	if (r->route == ROUTE_IPXE)
		http_metrics_script_observe(&bs->metrics, now - r->start_ms);
	log_info("event=http_request route=%s status=%u bytes=%llu ms=%llu client=%s%s%s%s",
	    http_route_name(r->route), r->status, (unsigned long long)r->bytes,
	    (unsigned long long)(now - r->start_ms), r->client[0] ? r->client : "-",
	    r->node[0] ? " node=" : "", r->node, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" :
	    " aborted=1");
	free(r->body);
	free(r);
	*req_cls = NULL;
}

/* One MHD_run() as one store batch: the requests it serves share a read lock and a
 * commit (store.h). */
static void
run_mhd(struct http *h)
{
	(void)store_batch_begin(h->bs->store);
	(void)MHD_run(h->d);
	(void)store_batch_end(h->bs->store);
}

static void
on_epoll(struct loop *l, int fd, uint32_t events, void *userdata)
{
	struct http *h = userdata;

	(void)l;
	(void)fd;
	(void)events;
	run_mhd(h);
}

/* The listening socket is readable: accept what is queued, up to HTTP_ACCEPT_BATCH, and
 * hand each to MHD, which applies the per-address limit (closing what is over it) and
 * serves them in the same pass. At max_connections the socket is left out of the loop
 * until one closes, so the queue waits in the backlog as with MHD's own accept. */
static void
on_listen(struct loop *l, int fd, uint32_t events, void *userdata)
{
	struct http *h = userdata;
	uint64_t suppressed;

	(void)events;
	for (int i = 0; i < HTTP_ACCEPT_BATCH; i++) {
		struct sockaddr_storage sa;
		socklen_t len = sizeof(sa);
		int c;

		if (h->n_conns >= h->bs->cfg.max_connections) {
			if (loop_mod_fd(l, fd, 0) == 0)
				h->accept_off = true;
			break;
		}
		c = accept4(fd, (struct sockaddr *)&sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    log_ratelimit_pass(&h->rl_mhd, loop_now_ms(), &suppressed))
				log_warning("event=http_accept err=%s suppressed=%llu",
				    dl_errno_name(-errno), (unsigned long long)suppressed);
			break;
		}
		/* closes c itself when it refuses it (the per-address limit, no memory) */
		(void)MHD_add_connection(h->d, c, (struct sockaddr *)&sa, len);
	}
	run_mhd(h);
}

/* A non-blocking listening socket on addr:port, as MHD made its own: address reuse (a
 * restart binds at once while the last one's connections close), the largest backlog. */
static int
listen_open(const char *addr, uint16_t port, int *ret, struct dl_err *reterr)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd, one = 1, e;

	(void)inet_pton(AF_INET, addr, &sa.sin_addr); /* validated by config */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return dl_err_set(reterr, -errno, "HTTP: socket: %s", strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, SOMAXCONN) < 0) {
		e = errno;
		close(fd);
		return dl_err_set(reterr, -e, "HTTP: cannot listen on %s:%u: %s", addr,
		    (unsigned)port, strerror(e));
	}
	*ret = fd;
	return 0;
}

static int64_t
on_prepare(struct loop *l, void *userdata)
{
	struct http *h = userdata;
	MHD_UNSIGNED_LONG_LONG t;
	int64_t next;

	(void)l;
	/* Work MHD left pending (responses queued by our own handlers) runs now. */
	run_mhd(h);
	next = deadlines_run(h);
	if (MHD_get_timeout(h->d, &t) == MHD_YES) {
		int64_t m = t > INT64_MAX ? INT64_MAX : (int64_t)t;
		if (next < 0 || m < next)
			next = m;
	}
	return next;
}

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct http *h = cls;
	char msg[256], safe[MAX_LOG_VALUE + 1];
	uint64_t suppressed;

	/* Under a flood MHD says the same few things per connection ("reached connection
	 * limit", "hit process or system resource limit"). */
	if (!log_ratelimit_pass(&h->rl_mhd, loop_now_ms(), &suppressed))
		return;
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0'; /* MHD ends its messages with one */
	log_warning("event=http_internal msg=\"%s\" suppressed=%llu",
	    log_safe(safe, sizeof(safe), msg), (unsigned long long)suppressed);
}

int
http_start(struct bootsvc *bs, struct http **ret, struct dl_err *reterr)
{
	struct http *h = calloc(1, sizeof(*h));
	const union MHD_DaemonInfo *info;
	int r;

	if (!h)
		return -ENOMEM;
	h->bs = bs;
	if ((r = listen_open(bs->cfg.http_addr, bs->cfg.http_port, &h->listen_fd, reterr)) < 0) {
		free(h);
		return r;
	}
	h->rl_mhd = (struct log_ratelimit){ .interval_ms = HTTP_LOG_INTERVAL_MS,
		.burst = HTTP_LOG_BURST };
	h->rl_deadline = h->rl_mhd;
	/* on_request and on_completed reach h through bs. */
	bs->http = h;
	/* MHD_USE_NO_LISTEN_SOCKET: connections come from on_listen (MHD_add_connection). */
	h->d = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_USE_SUSPEND_RESUME |
	    MHD_USE_NO_LISTEN_SOCKET, 0, NULL, NULL, on_request, bs,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h,
	    MHD_OPTION_CONNECTION_LIMIT, bs->cfg.max_connections,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, bs->cfg.http_max_per_ip,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_IDLE_TIMEOUT_S,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, bs,
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
	if (!h->d) {
		bs->http = NULL;
		close(h->listen_fd);
		free(h);
		return dl_err_set(reterr, -EIO, "HTTP: libmicrohttpd did not start");
	}
	info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
	h->epfd = info ? info->epoll_fd : -1;
	r = h->epfd < 0 ? -EIO : loop_add_fd(bs->loop, h->epfd, EPOLLIN, on_epoll, h);
	if (r == 0 && (r = loop_add_fd(bs->loop, h->listen_fd, EPOLLIN, on_listen, h)) < 0)
		loop_del_fd(bs->loop, h->epfd);
	if (r < 0) {
		MHD_stop_daemon(h->d);
		close(h->listen_fd);
		bs->http = NULL;
		free(h);
		return dl_err_set(reterr, r, "HTTP: cannot watch MHD's epoll fd");
	}
	loop_set_prepare(bs->loop, on_prepare, h);
	log_info("event=http_listen addr=%s port=%u", bs->cfg.http_addr, bs->cfg.http_port);
	*ret = h;
	return 0;
}

struct http *
http_stop(struct http *h)
{
	if (!h)
		return NULL;
	loop_del_fd(h->bs->loop, h->epfd);
	loop_del_fd(h->bs->loop, h->listen_fd);
	loop_set_prepare(h->bs->loop, NULL, NULL);
	MHD_stop_daemon(h->d);
	close(h->listen_fd);
	free(h);
	return NULL;
}
