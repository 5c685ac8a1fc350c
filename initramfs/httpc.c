/* SPDX-License-Identifier: MIT */
/* HTTP client over a plain TCP socket; see httpc.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "httpc.h"

/* The request head: method, path, Host, token, Range and type fit easily. */
#define MAX_REQ_HEAD 1024

static int
connect_timeout(const struct http_server *srv, struct init_err *reterr)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(srv->port),
		.sin_addr.s_addr = srv->addr_be };
	struct timeval tv = { .tv_sec = HTTP_IO_TIMEOUT_MS / 1000 };
	struct pollfd pfd;
	socklen_t sl = sizeof(int);
	int fd, r, soerr = 0, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return init_err_set(reterr, -errno, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
		r = init_err_set(reterr, -errno, "connect %s: %s", srv->host, strerror(errno));
		goto out_close_fd;
	}
	pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
	r = poll(&pfd, 1, HTTP_CONNECT_TIMEOUT_MS);
	if (r == 0) {
		r = init_err_set(reterr, -ETIMEDOUT, "connect %s: timed out after %d ms", srv->host,
		    HTTP_CONNECT_TIMEOUT_MS);
		goto out_close_fd;
	}
	if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr) {
		int e = r < 0 ? errno : soerr ? soerr : errno;

		r = init_err_set(reterr, -e, "connect %s: %s", srv->host, strerror(e));
		goto out_close_fd;
	}
	/* Blocking from here on, every read/write bounded by the socket timeouts. */
	if (fcntl(fd, F_SETFL, 0) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
		r = init_err_set(reterr, -errno, "socket options: %s", strerror(errno));
		goto out_close_fd;
	}
	/* small requests: send them now rather than waiting for Nagle */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
out_close_fd:
	(void)close(fd);
	return r;
}

static int
io_errno(int e)
{
	/* SO_RCVTIMEO/SO_SNDTIMEO expiry shows up as EAGAIN */
	return e == EAGAIN || e == EWOULDBLOCK ? -ETIMEDOUT : -e;
}

int
httpc_begin(struct httpc_conn *c, const struct http_server *srv, const struct httpc_req *req,
    struct init_err *reterr)
{
	char head[MAX_REQ_HEAD];
	int n, r;

	c->fd = -1;
	c->buf_len = c->buf_off = 0;
	n = snprintf(head, sizeof(head),
	    "%s %s%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: diskless-init\r\nConnection: close\r\n",
	    req->method, srv->base, req->path, srv->host);
	if (n > 0 && (size_t)n < sizeof(head) && req->token)
		n += snprintf(head + n, sizeof(head) - (size_t)n, "Authorization: Bearer %s\r\n",
		    req->token);
	if (n > 0 && (size_t)n < sizeof(head) && req->range_from)
		n += snprintf(head + n, sizeof(head) - (size_t)n, "Range: bytes=%llu-\r\n",
		    (unsigned long long)req->range_from);
	if (n > 0 && (size_t)n < sizeof(head) && req->body)
		n += snprintf(head + n, sizeof(head) - (size_t)n,
		    "Content-Type: %s\r\nContent-Length: %zu\r\n", req->content_type, req->body_len);
	if (n > 0 && (size_t)n < sizeof(head))
		n += snprintf(head + n, sizeof(head) - (size_t)n, "\r\n");
	if (n <= 0 || (size_t)n >= sizeof(head))
		return init_err_set(reterr, -ENAMETOOLONG, "request head too long");

	r = connect_timeout(srv, reterr);
	if (r < 0)
		return r;
	c->fd = r;
	r = init_write_all(c->fd, head, (size_t)n);
	if (r == 0 && req->body)
		r = init_write_all(c->fd, req->body, req->body_len);
	if (r < 0)
		return init_err_set(reterr, io_errno(-r), "send to %s: %s", srv->host, strerror(-r));

	for (;;) {
		ssize_t got = read(c->fd, c->buf + c->buf_len, sizeof(c->buf) - c->buf_len);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return init_err_set(reterr, io_errno(errno), "receive from %s: %s", srv->host,
			    strerror(errno));
		if (got == 0)
			return init_err_set(reterr, -ECONNRESET,
			    "%s closed the connection before a complete response head", srv->host);
		c->buf_len += (size_t)got;
		r = httpresp_parse(c->buf, c->buf_len, &c->resp);
		if (r < 0)
			return init_err_set(reterr, -EPROTO, "%s sent a malformed response head%s",
			    srv->host, r == -EMSGSIZE ? " (too long)" : "");
		if (r > 0)
			break;
	}
	if (c->resp.chunked)
		return init_err_set(reterr, -EPROTO,
		    "%s sent a chunked body; the init needs Content-Length", srv->host);
	c->buf_off = (size_t)r;
	c->body_left = c->resp.content_length;
	if (c->body_left >= 0 && (int64_t)(c->buf_len - c->buf_off) > c->body_left)
		c->buf_len = c->buf_off + (size_t)c->body_left; /* ignore trailing junk */
	return 0;
}

ssize_t
httpc_read(struct httpc_conn *c, void *buf, size_t n, struct init_err *reterr)
{
	ssize_t got;

	if (c->body_left == 0 || n == 0)
		return 0;
	if (c->body_left > 0 && (uint64_t)c->body_left < n)
		n = (size_t)c->body_left;
	if (c->buf_off < c->buf_len) {
		got = (ssize_t)(c->buf_len - c->buf_off);
		if ((size_t)got > n)
			got = (ssize_t)n;
		memcpy(buf, c->buf + c->buf_off, (size_t)got);
		c->buf_off += (size_t)got;
	} else {
		do
			got = read(c->fd, buf, n);
		while (got < 0 && errno == EINTR);
		if (got < 0)
			return init_err_set(reterr, io_errno(errno), "receive body: %s", strerror(errno));
		if (got == 0) {
			if (c->body_left < 0)
				return 0;
			return init_err_set(reterr, -ECONNRESET,
			    "connection closed with %lld body bytes missing", (long long)c->body_left);
		}
	}
	if (c->body_left > 0)
		c->body_left -= got;
	return got;
}

ssize_t
httpc_read_all(struct httpc_conn *c, size_t max, char **ret_buf, struct init_err *reterr)
{
	size_t len = 0, cap = 4096;
	char *buf, *nb;
	ssize_t n;

	if (c->body_left > (int64_t)max)
		return init_err_set(reterr, -EFBIG, "body of %lld bytes exceeds the limit of %zu",
		    (long long)c->body_left, max);
	buf = malloc(cap);
	if (!buf)
		return init_err_set(reterr, -ENOMEM, "out of memory");
	for (;;) {
		if (cap - len < 2) {
			if (cap > max) {
				n = init_err_set(reterr, -EFBIG, "body exceeds the limit of %zu", max);
				goto out_free_buf;
			}
			nb = realloc(buf, cap * 2);
			if (!nb) {
				n = init_err_set(reterr, -ENOMEM, "out of memory");
				goto out_free_buf;
			}
			buf = nb;
			cap *= 2;
		}
		n = httpc_read(c, buf + len, cap - len - 1, reterr);
		if (n < 0)
			goto out_free_buf;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > max) {
		n = init_err_set(reterr, -EFBIG, "body exceeds the limit of %zu", max);
		goto out_free_buf;
	}
	buf[len] = '\0';
	*ret_buf = buf;
	return (ssize_t)len;
out_free_buf:
	free(buf);
	return n;
}

void
httpc_close(struct httpc_conn *c)
{
	if (c->fd >= 0)
		(void)close(c->fd); /* a socket we only read from: nothing to learn */
	c->fd = -1;
}
