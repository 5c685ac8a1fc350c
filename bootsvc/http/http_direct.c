/* SPDX-License-Identifier: MIT */
/* The direct path (http_srv.h): a boot script answered on a connection libmicrohttpd never
 * sees. Why: in a boot storm every node opens a connection for its script, and
 * libmicrohttpd spent 27.9 µs of CPU and 10.7 system calls on each against nginx's 19.6
 * and 8.3 (docs/architecture.md); on two cores shared with the clients that difference
 * was the storm's tail. Here a script costs accept, one epoll_ctl, a peek, a discard, a
 * send and a close, and it never waits behind the image files libmicrohttpd is sending.
 *
 * What is answered here is decided by the same code as on libmicrohttpd's connections:
 * the request (its head, http_head.h) goes to http_ipxe on the loop and http_ipxe_read on
 * a reader thread, whose answers land in the request (http_respond.c). Anything else is
 * handed to libmicrohttpd unread: the peek leaves the bytes in the socket, so MHD reads
 * the request as if it had accepted the connection itself. A client that keeps the
 * connection (keep-alive: iPXE, wrk) has each next request looked at the same way: a
 * script of ours is answered here, anything else hands the connection on. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "http/http_head.h"
#include "http/http_srv.h"
#include "http/ip_limit.h"

/* Connections taken from the set per epoll_wait, and per turn of the loop at most (as
 * many as one wake accepts, HTTP_ACCEPT_BATCH); the rest are there at the next. */
#define DIRECT_EVENTS 64
#define DIRECT_TURN 256

int
direct_open(struct srv *s, struct dl_err *reterr)
{
	s->direct_epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->direct_epfd < 0)
		return dl_err_set(reterr, -errno, "HTTP: epoll_create1: %s", strerror(errno));
	return 0;
}

/* k's accounting undone and k freed; its fd is the caller's (closed, or MHD's). */
static void
conn_forget(struct srv *s, struct conn *k)
{
	conn_unwait(s, k);
	if (k->counted)
		ip_limit_put(s->h->ips, k->addr);
	free(k);
}

void
direct_drop(struct srv *s, struct conn *k)
{
	(void)close(k->fd); /* out of direct_epfd with it */
	conn_forget(s, k);
	srv_conn_closed(s);
}

/* k to libmicrohttpd, unread: on_connection adopts it (s->adopt) with its count, its
 * per-address place and its deadline. Out of direct_epfd first: left there disarmed, every
 * wake-up of a socket sending an image would take this set's lock too. */
static void
hand_on(struct srv *s, struct conn *k)
{
	(void)epoll_ctl(s->direct_epfd, EPOLL_CTL_DEL, k->fd, NULL);
	s->adopt = k;
	(void)MHD_add_connection(s->d, k->fd, (struct sockaddr *)&k->sa, sizeof(k->sa));
	if (s->adopt == k) {
		/* refused (no memory): MHD closed the socket */
		s->adopt = NULL;
		conn_forget(s, k);
		srv_conn_closed(s);
	}
}

void
direct_accept(struct srv *s, int fd, const struct sockaddr_in *sa)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct conn *k = calloc(1, sizeof(*k));

	if (!k) {
		(void)close(fd);
		return;
	}
	k->fd = fd;
	k->direct = true;
	k->sa = *sa;
	k->addr = sa->sin_addr.s_addr;
	(void)inet_ntop(AF_INET, &sa->sin_addr, k->client, sizeof(k->client));
	s->n_conns++;
	/* The per-address limit across every serving thread (ip_limit.h): one over it is
	 * closed at once. */
	k->counted = ip_limit_take(s->h->ips, k->addr);
	if (!k->counted) {
		direct_drop(s, k);
		return;
	}
	conn_wait(s, k, loop_now_ms());
	ev.data.ptr = k;
	if (epoll_ctl(s->direct_epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		hand_on(s, k);
}

/* The Date header (RFC 9110 §6.6.1: a server with a clock sends one, as libmicrohttpd
 * does on its own answers), formatted once a second per serving thread. */
static const char *
date_header(void)
{
	static __thread time_t at;
	static __thread char line[48];
	time_t now = time(NULL);
	struct tm tm;

	if (now != at && gmtime_r(&now, &tm) &&
	    strftime(line, sizeof(line), "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm))
		at = now;
	return at ? line : "";
}

/* r's answer as one write: the status line and headers, then the body. True when all of
 * it went; a script is a few KiB and the socket's send buffer is empty, so a short write
 * means a client that stopped reading, which gets the connection closed. */
static bool
answer_send(int fd, const struct req *r, bool keep)
{
	const char *reason = MHD_get_reason_phrase_for(r->status);
	char head[256];
	struct iovec iov[2];
	int n;

	n = snprintf(head, sizeof(head),
	    "HTTP/1.1 %u %s\r\n%s%s%s%sContent-Length: %zu\r\nConnection: %s\r\n\r\n",
	    r->status, reason && *reason ? reason : "Unknown", date_header(),
	    r->answer_type ? "Content-Type: " : "", r->answer_type ? r->answer_type : "",
	    r->answer_type ? "\r\n" : "", r->answer_len, keep ? "keep-alive" : "close");
	if (n < 0 || (size_t)n >= sizeof(head))
		return false;
	iov[0] = (struct iovec){ .iov_base = head, .iov_len = (size_t)n };
	iov[1] = (struct iovec){ .iov_base = r->answer, .iov_len = r->answer_len };
	/* MSG_MORE before a close: the kernel holds the answer until close() adds its FIN,
	 * and sends both in one segment, one wake-up of the client instead of two (nginx's
	 * tcp_nopush does as much for a file). */
	return sendmsg(fd, &(struct msghdr){ .msg_iov = iov, .msg_iovlen = 2 },
	    MSG_NOSIGNAL | MSG_DONTWAIT | (keep ? 0 : MSG_MORE)) == (ssize_t)(n + r->answer_len);
}

/* k's request, whose head h is head_len bytes in the socket: answered (true), k then
 * waiting for the client's next request if it keeps the connection (a kept-alive one's
 * next is handed on unread like a first, if it is not a script of ours) or closed; false
 * when the route is not a script's or the view leaves it to the loop. */
static bool
answer(struct srv *s, struct conn *k, const struct http_head *h, size_t head_len)
{
	struct req r = { .start_ms = loop_now_ms(), .head = h, .wake_fd = -1 };
	enum MHD_Result ret = MHD_NO;
	uint64_t now;
	bool ok, keep;

	r.route = http_route_of(h->path);
	if (r.route != ROUTE_IPXE)
		return false;
	memcpy(r.client, k->client, sizeof(r.client));
	if (s->view) {
		if (!http_ipxe_read(s->bs, s->view, NULL, &r, h->path, &ret)) {
			free(r.answer);
			return false;
		}
	} else {
		ret = http_ipxe(s->bs, NULL, &r, h->path);
	}
	metric_add(&s->m->requests[r.route], 1);
	metric_add(&s->n_requests, 1);
	metric_add(&s->n_direct, 1);
	/* The head read for good: a close with unread bytes would reset the connection,
	 * and the client could lose the answer. MSG_TRUNC discards them in the kernel. */
	keep = h->keep_alive;
	ok = ret == MHD_YES && r.status &&
	    recv(k->fd, NULL, head_len, MSG_TRUNC | MSG_DONTWAIT) == (ssize_t)head_len &&
	    answer_send(k->fd, &r, keep);
	now = loop_now_ms();
	req_done(s, &r, now, ok);
	free(r.answer);
	if (ok && keep)
		conn_wait(s, k, now); /* the next request has the same time to arrive */
	else
		direct_drop(s, k);
	return true;
}

/* k is readable: its head answered here, k closed (peer gone), or k handed on. */
static void
ready(struct srv *s, struct conn *k)
{
	char buf[HTTP_HEAD_MAX];
	struct http_head h;
	ssize_t n;
	int len;

	n = recv(k->fd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return; /* woken for nothing */
	if (n <= 0) {
		direct_drop(s, k); /* closed or reset before a request */
		return;
	}
	/* A head not whole yet (0) is MHD's to read on, as everything not plain (< 0). */
	len = http_head_parse(buf, (size_t)n, &h);
	if (len > 0 && answer(s, k, &h, (size_t)len))
		return;
	hand_on(s, k);
}

/* The set's ready connections, as one store batch (a reader's snapshot, the loop's
 * commit), up to DIRECT_TURN of them: run before each pass of MHD's (on_epoll), so a
 * script never waits behind a pass's image bytes. Those handed on are MHD's next pass's:
 * their sockets are readable in its epoll set. */
void
direct_run(struct srv *s)
{
	struct epoll_event ev[DIRECT_EVENTS];
	bool begun = false;
	int n;

	for (int taken = 0; taken < DIRECT_TURN; taken += n) {
		n = epoll_wait(s->direct_epfd, ev, DIRECT_EVENTS, 0);
		if (n <= 0)
			break;
		if (!begun)
			srv_batch_begin(s);
		begun = true;
		for (int i = 0; i < n; i++)
			ready(s, ev[i].data.ptr);
		if (n < DIRECT_EVENTS)
			break;
	}
	if (begun)
		srv_batch_end(s);
}

static void
on_direct(struct loop *l, int fd, uint32_t events, void *userdata)
{
	(void)l;
	(void)fd;
	(void)events;
	direct_run(userdata);
}

int
direct_watch(struct srv *s)
{
	return loop_add_fd(s->loop, s->direct_epfd, EPOLLIN, on_direct, s);
}

void
direct_close(struct srv *s)
{
	/* every direct connection is on the deadline list: its head is not in */
	for (struct conn *k = s->head, *next; k; k = next) {
		next = k->next;
		if (!k->direct)
			continue;
		(void)close(k->fd);
		conn_forget(s, k);
		s->n_conns--;
	}
	if (s->direct_epfd >= 0)
		(void)close(s->direct_epfd);
	s->direct_epfd = -1;
}
