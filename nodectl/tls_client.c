/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "macro.h"
#include "tls_client.h"

/* The same versions bootsvc accepts (control_tls.c). */
#define TLS_PRIORITY "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
/* Longest host name in --server. */
#define MAX_TLS_HOST 256

struct tls_client {
	gnutls_session_t s;
	gnutls_certificate_credentials_t cred;
	int fd;
	bool send_pending;
	char server[MAX_TLS_HOST + 8]; /* for messages */
};

int
tls_client_split(const char *server, char *host, size_t size, unsigned *ret_port,
    struct dl_err *reterr)
{
	const char *colon, *h = server, *hend;
	char *end;
	unsigned long port;

	if (server[0] == '[') {
		hend = strchr(server, ']');
		if (!hend || hend[1] != ':')
			return dl_err_set(reterr, -EINVAL,
			    "server '%.128s' is not [ipv6]:port", server);
		h = server + 1;
		colon = hend + 1;
	} else {
		colon = strrchr(server, ':');
		hend = colon;
		if (!colon || strchr(server, ':') != colon)
			return dl_err_set(reterr, -EINVAL, "server '%.128s' is not host:port",
			    server);
	}
	if (hend == h || (size_t)(hend - h) >= size)
		return dl_err_set(reterr, -EINVAL, "server '%.128s': the host is %s", server,
		    hend == h ? "empty" : "too long");
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || port < 1 || port > 65535 || colon[1] == '+' ||
	    colon[1] == '-')
		return dl_err_set(reterr, -EINVAL,
		    "server '%.128s': the port is not a number from 1 to 65535", server);
	memcpy(host, h, (size_t)(hend - h));
	host[hend - h] = '\0';
	*ret_port = (unsigned)port;
	return 0;
}

struct tls_client *
tls_client_free(struct tls_client *t)
{
	if (!t)
		return NULL;
	if (t->s)
		gnutls_deinit(t->s);
	if (t->cred)
		gnutls_certificate_free_credentials(t->cred);
	if (t->fd >= 0)
		close(t->fd);
	free(t);
	return NULL;
}

static int64_t
tls_now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for fd within the deadline: 0, or -ETIMEDOUT/-errno with reterr. */
static int
tls_wait(int fd, short events, int64_t deadline, const char *server, struct dl_err *reterr)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		int64_t left = deadline - tls_now_ms();
		int n;

		if (left < 0)
			left = 0;
		n = poll(&p, 1, (int)(left > INT32_MAX ? INT32_MAX : left));
		if (n > 0)
			return 0;
		if (n == 0)
			return dl_err_set(reterr, -ETIMEDOUT,
			    "bootsvc at '%s' did not complete the TLS handshake in time", server);
		if (errno != EINTR) {
			int r = negative_errno();
			return dl_err_set(reterr, r, "waiting for '%s': %s", server, strerror(-r));
		}
	}
}

static int
tls_tcp_connect(const char *server, int64_t deadline, int *ret_fd, char *host, size_t hsize,
    struct dl_err *reterr)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai = NULL;
	char portstr[8];
	unsigned port;
	int r, gr, last = -ECONNREFUSED;

	r = tls_client_split(server, host, hsize, &port, reterr);
	if (r < 0)
		return r;
	(void)snprintf(portstr, sizeof(portstr), "%u", port);
	gr = getaddrinfo(host, portstr, &hints, &ai);
	if (gr != 0)
		return dl_err_set(reterr, -EHOSTUNREACH, "cannot resolve '%s': %s", host,
		    gai_strerror(gr));
	for (struct addrinfo *a = ai; a; a = a->ai_next) {
		int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    a->ai_protocol);
		int err = 0;
		socklen_t elen = sizeof(err);

		if (fd < 0) {
			last = negative_errno();
			continue;
		}
		if (connect(fd, a->ai_addr, a->ai_addrlen) < 0 && errno != EINPROGRESS) {
			last = negative_errno();
			close(fd);
			continue;
		}
		r = tls_wait(fd, POLLOUT, deadline, server, reterr);
		if (r == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == 0 && err == 0) {
			freeaddrinfo(ai);
			*ret_fd = fd;
			return 0;
		}
		last = r < 0 ? r : -(err ? err : EIO);
		close(fd);
		if (r == -ETIMEDOUT)
			break;
	}
	freeaddrinfo(ai);
	return dl_err_set(reterr, last, "cannot connect to bootsvc at '%s': %s", server,
	    strerror(-last));
}

/* Words for what went wrong in the session, for the user. */
static int
tls_fail(struct tls_client *t, int gr, const char *server, struct dl_err *reterr)
{
	if (gr == GNUTLS_E_FATAL_ALERT_RECEIVED) {
		gnutls_alert_description_t a = gnutls_alert_get(t->s);

		if (a == GNUTLS_A_CERTIFICATE_REQUIRED)
			return dl_err_set(reterr, -EACCES,
			    "bootsvc at '%s' refused the connection: it requires a client "
			    "certificate (--cert/--key or cert/key in the client config)", server);
		return dl_err_set(reterr, -EACCES, "bootsvc at '%s' refused the TLS session: %s",
		    server, gnutls_alert_get_name(a));
	}
	if (gr == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
		unsigned status = gnutls_session_get_verify_cert_status(t->s);
		gnutls_datum_t out = { 0 };
		int r;

		if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &out,
		    0) < 0)
			out.data = NULL;
		while (out.data && out.size > 0 && out.data[out.size - 1] == ' ')
			out.data[--out.size] = '\0';
		r = dl_err_set(reterr, -EPERM,
		    "the certificate of '%s' does not verify against the CA (--ca): %s", server,
		    out.data ? (const char *)out.data : "unknown reason");
		gnutls_free(out.data);
		return r;
	}
	return dl_err_set(reterr, -ECONNRESET, "TLS with bootsvc at '%s': %s", server,
	    gnutls_strerror(gr));
}

int
tls_client_connect(const char *server, const char *cert, const char *key,
    const char *ca, int timeout_ms, struct tls_client **ret, int *ret_fd,
    struct dl_err *reterr)
{
	int64_t deadline = tls_now_ms() + timeout_ms;
	char host[MAX_TLS_HOST];
	struct tls_client *t;
	int gr, r;

	t = calloc(1, sizeof(*t));
	if (!t)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	t->fd = -1;
	(void)snprintf(t->server, sizeof(t->server), "%.*s", MAX_TLS_HOST + 6, server);
	if (gnutls_certificate_allocate_credentials(&t->cred) < 0) {
		t->cred = NULL;
		r = dl_err_set(reterr, -ENOMEM, "out of memory");
		goto fail;
	}
	gr = gnutls_certificate_set_x509_trust_file(t->cred, ca, GNUTLS_X509_FMT_PEM);
	if (gr <= 0) {
		r = dl_err_set(reterr, -EINVAL, "CA '%s': %s", ca, gr < 0 ? gnutls_strerror(gr) :
		    "holds no certificate");
		goto fail;
	}
	gr = gnutls_certificate_set_x509_key_file2(t->cred, cert, key, GNUTLS_X509_FMT_PEM,
	    NULL, 0);
	if (gr < 0) {
		r = dl_err_set(reterr, -EINVAL, "client certificate '%s' / key '%s': %s", cert,
		    key, gnutls_strerror(gr));
		goto fail;
	}
	r = tls_tcp_connect(server, deadline, &t->fd, host, sizeof(host), reterr);
	if (r < 0)
		goto fail;
	if (gnutls_init(&t->s, GNUTLS_CLIENT | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL) < 0) {
		t->s = NULL;
		r = dl_err_set(reterr, -ENOMEM, "out of memory");
		goto fail;
	}
	if (gnutls_priority_set_direct(t->s, TLS_PRIORITY, NULL) < 0 ||
	    gnutls_credentials_set(t->s, GNUTLS_CRD_CERTIFICATE, t->cred) < 0) {
		r = dl_err_set(reterr, -ENOMEM, "TLS set-up failed");
		goto fail;
	}
	/* SNI for a name; an address is checked against the certificate's IP SANs. */
	{
		unsigned char ip[16];

		if (inet_pton(AF_INET, host, ip) != 1 && inet_pton(AF_INET6, host, ip) != 1)
			(void)gnutls_server_name_set(t->s, GNUTLS_NAME_DNS, host, strlen(host));
	}
	gnutls_session_set_verify_cert(t->s, host, 0);
	gnutls_transport_set_int(t->s, t->fd);
	for (;;) {
		gr = gnutls_handshake(t->s);
		if (gr == 0)
			break;
		if (gr != GNUTLS_E_AGAIN && gr != GNUTLS_E_INTERRUPTED && gnutls_error_is_fatal(gr)) {
			r = tls_fail(t, gr, server, reterr);
			goto fail;
		}
		r = tls_wait(t->fd, gnutls_record_get_direction(t->s) ? POLLOUT : POLLIN,
		    deadline, server, reterr);
		if (r < 0)
			goto fail;
	}
	*ret_fd = t->fd;
	*ret = t;
	return 0;
fail:
	tls_client_free(t);
	return r;
}

ssize_t
tls_client_send(struct tls_client *t, const void *p, size_t n, struct dl_err *reterr)
{
	ssize_t r = t->send_pending ? gnutls_record_send(t->s, NULL, 0) :
	    gnutls_record_send(t->s, p, n);

	if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
		t->send_pending = true;
		return -EAGAIN;
	}
	t->send_pending = false;
	if (r < 0)
		return tls_fail(t, (int)r, t->server, reterr);
	return r;
}

ssize_t
tls_client_recv(struct tls_client *t, void *p, size_t n, struct dl_err *reterr)
{
	ssize_t r = gnutls_record_recv(t->s, p, n);

	if (r >= 0)
		return r;
	if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED || !gnutls_error_is_fatal((int)r))
		return -EAGAIN;
	if (r == GNUTLS_E_PREMATURE_TERMINATION)
		return 0;
	return tls_fail(t, (int)r, t->server, reterr);
}

bool
tls_client_pending(const struct tls_client *t)
{
	return gnutls_record_check_pending(t->s) > 0;
}
