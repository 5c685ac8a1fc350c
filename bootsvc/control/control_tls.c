/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "control/control_tls.h"
#include "log.h"
#include "proto.h"

/* TLS 1.2 and 1.3 only, GnuTLS's default suites within them. */
#define TLS_PRIORITY "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
/* Largest OU or CN value read from a certificate's subject. */
#define MAX_DN_VALUE 256

struct control_tls {
	gnutls_certificate_credentials_t cred;
	gnutls_priority_t prio;
	int fd;
};

enum conn_state {
	CONN_HANDSHAKE, /* TLS handshake under way */
	CONN_READY,     /* verified: requests are served */
	CONN_REFUSED,   /* told why, reading what the peer still sends until it goes */
};

struct control_tls_conn {
	gnutls_session_t s;
	int fd;
	enum conn_state state;
	bool want_write;   /* the last operation stopped on a full socket */
	bool send_pending; /* a record send stopped half-way: repeat it */
	enum role role;
	char who[MAX_TLS_WHO + 4];
	char peer[64];
};

static int
tls_gnutls_errno(int gr)
{
	switch (gr) {
	case GNUTLS_E_MEMORY_ERROR:
		return -ENOMEM;
	case GNUTLS_E_FILE_ERROR:
		return -ENOENT;
	default:
		return -EINVAL;
	}
}

int
control_tls_fd(const struct control_tls *t)
{
	return t->fd;
}

struct control_tls *
control_tls_free(struct control_tls *t)
{
	if (!t)
		return NULL;
	if (t->fd >= 0)
		close(t->fd);
	if (t->prio)
		gnutls_priority_deinit(t->prio);
	if (t->cred)
		gnutls_certificate_free_credentials(t->cred);
	free(t);
	return NULL;
}

static int
tls_listen(const char *addr, uint16_t port, int *ret_fd, struct dl_err *reterr)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1, fd, r;

	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		return dl_err_set(reterr, -EINVAL, "control_tcp: '%s' is not an IPv4 address",
		    addr);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		r = negative_errno();
		return dl_err_set(reterr, r, "control_tcp: socket: %s", strerror(-r));
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0) {
		r = negative_errno();
		close(fd);
		return dl_err_set(reterr, r, "control_tcp %s:%u: %s", addr, port, strerror(-r));
	}
	*ret_fd = fd;
	return 0;
}

int
control_tls_new(const char *cert, const char *key, const char *ca, const char *addr,
    uint16_t port, struct control_tls **ret, struct dl_err *reterr)
{
	struct control_tls *t = calloc(1, sizeof(*t));
	int gr, r;

	if (!t)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	t->fd = -1;
	gr = gnutls_certificate_allocate_credentials(&t->cred);
	if (gr < 0) {
		t->cred = NULL;
		r = dl_err_set(reterr, -ENOMEM, "TLS credentials: %s", gnutls_strerror(gr));
		goto fail;
	}
	gr = gnutls_certificate_set_x509_trust_file(t->cred, ca, GNUTLS_X509_FMT_PEM);
	if (gr <= 0) {
		r = dl_err_set(reterr, gr < 0 ? tls_gnutls_errno(gr) : -EINVAL,
		    "control_tls_ca '%s': %s", ca, gr < 0 ? gnutls_strerror(gr) :
		    "holds no certificate");
		goto fail;
	}
	gr = gnutls_certificate_set_x509_key_file2(t->cred, cert, key, GNUTLS_X509_FMT_PEM,
	    NULL, 0);
	if (gr < 0) {
		r = dl_err_set(reterr, tls_gnutls_errno(gr),
		    "control_tls_cert '%s' / control_tls_key '%s': %s", cert, key,
		    gnutls_strerror(gr));
		goto fail;
	}
	gr = gnutls_priority_init(&t->prio, TLS_PRIORITY, NULL);
	if (gr < 0) {
		t->prio = NULL;
		r = dl_err_set(reterr, -EINVAL, "TLS priority: %s", gnutls_strerror(gr));
		goto fail;
	}
	struct stat st;
	if (stat(key, &st) == 0 && (st.st_mode & 077))
		log_warning("event=control_tls_key_mode path=%s mode=%04o msg=\"the key is readable "
		    "by others than its owner: chmod 600 it\"", key, (unsigned)(st.st_mode & 07777));
	r = tls_listen(addr, port, &t->fd, reterr);
	if (r < 0)
		goto fail;
	log_info("event=control_tls_listen addr=%s port=%u ca=%s", addr, port, ca);
	*ret = t;
	return 0;
fail:
	control_tls_free(t);
	return r;
}

struct control_tls_conn *
control_tls_conn_new(struct control_tls *t, int fd, const char *peer)
{
	struct control_tls_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->fd = fd;
	c->role = _ROLE_INVALID;
	(void)snprintf(c->peer, sizeof(c->peer), "%s", peer);
	if (gnutls_init(&c->s, GNUTLS_SERVER | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL) < 0) {
		free(c);
		return NULL;
	}
	if (gnutls_priority_set(c->s, t->prio) < 0 ||
	    gnutls_credentials_set(c->s, GNUTLS_CRD_CERTIFICATE, t->cred) < 0)
		return control_tls_conn_free(c);
	gnutls_certificate_server_set_request(c->s, GNUTLS_CERT_REQUIRE);
	gnutls_transport_set_int(c->s, fd);
	return c;
}

struct control_tls_conn *
control_tls_conn_free(struct control_tls_conn *c)
{
	if (!c)
		return NULL;
	gnutls_deinit(c->s);
	free(c);
	return NULL;
}

bool
control_tls_conn_ready(const struct control_tls_conn *c)
{
	return c->state == CONN_READY;
}

enum role
control_tls_conn_role(const struct control_tls_conn *c)
{
	return c->role;
}

const char *
control_tls_conn_peer(const struct control_tls_conn *c)
{
	return c->peer;
}

const char *
control_tls_conn_who(const struct control_tls_conn *c)
{
	return c->who;
}

bool
control_tls_conn_wants_write(const struct control_tls_conn *c)
{
	return c->want_write;
}

/* One error line to the client, then no more: the peer reads it, the log says why. */
static int
tls_refuse(struct control_tls_conn *c, const char *why)
{
	char safe[MAX_LOG_VALUE + 1];
	char *line = proto_error(NULL, -EACCES, why);

	log_warning("event=control_tls_refused peer=%s cn=\"%s\" why=\"%s\"", c->peer,
	    c->who[0] ? c->who : "-", log_safe(safe, sizeof(safe), why));
	/* Best effort: a fresh socket has room for one short record. */
	if (line)
		(void)gnutls_record_send(c->s, line, strlen(line));
	free(line);
	(void)gnutls_bye(c->s, GNUTLS_SHUT_WR);
	(void)shutdown(c->fd, SHUT_WR);
	/* Closing now could reset the connection over a request already in flight and
	 * lose the refusal: read until the peer goes (or the handshake deadline). */
	c->state = CONN_REFUSED;
	c->want_write = false;
	return -EAGAIN;
}

/* Copy DN value s into who: printable ASCII only, cut. */
static void
tls_set_who(char *who, const char *s)
{
	size_t i = 0;

	for (; s[i] && i < MAX_TLS_WHO; i++) {
		unsigned char ch = (unsigned char)s[i];

		who[i] = ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\' ? '?' : (char)ch;
	}
	if (s[i])
		memcpy(who + i, "...", 3), i += 3;
	who[i] = '\0';
}

int
control_tls_cert_role(const void *der, size_t len, enum role *ret_role,
    char who[static MAX_TLS_WHO + 4], struct dl_err *reterr)
{
	char ous[MAX_ROLE_OUS + 1][MAX_DN_VALUE];
	const char *ou_ptrs[MAX_ROLE_OUS + 1];
	gnutls_datum_t d = { .data = (unsigned char *)der, .size = (unsigned)len };
	gnutls_x509_crt_t crt;
	size_t n_ous = 0, sz;
	int gr, r;

	who[0] = '\0';
	if (len > UINT32_MAX)
		return dl_err_set(reterr, -EACCES, "the certificate is too large");
	if (gnutls_x509_crt_init(&crt) < 0)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	gr = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER);
	if (gr < 0) {
		gnutls_x509_crt_deinit(crt);
		return dl_err_set(reterr, -EACCES, "the certificate cannot be read: %s",
		    gnutls_strerror(gr));
	}
	sz = sizeof(ous[0]);
	if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, ous[0], &sz)
	    == 0)
		tls_set_who(who, ous[0]);
	for (unsigned i = 0; n_ous <= MAX_ROLE_OUS; i++) {
		sz = sizeof(ous[n_ous]);
		gr = gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATIONAL_UNIT_NAME,
		    i, 0, ous[n_ous], &sz);
		if (gr == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (gr < 0) /* a value too long for the buffer: no role name is */
			(void)snprintf(ous[n_ous], sizeof(ous[n_ous]), "(long)");
		ou_ptrs[n_ous] = ous[n_ous];
		n_ous++;
	}
	gnutls_x509_crt_deinit(crt);
	r = role_from_ous(ou_ptrs, n_ous, ret_role, reterr);
	return r;
}

static const char *
tls_status_why(unsigned status, char *buf, size_t size)
{
	if (status & GNUTLS_CERT_SIGNER_NOT_FOUND)
		return "client certificate refused: it is not signed by this bootsvc's CA "
		       "(control_tls_ca)";
	if (status & GNUTLS_CERT_EXPIRED)
		return "client certificate refused: it has expired (issue a new one: nodectl "
		       "tls issue)";
	if (status & GNUTLS_CERT_NOT_ACTIVATED)
		return "client certificate refused: it is not valid yet (check the clocks)";
	if (status & GNUTLS_CERT_REVOKED)
		return "client certificate refused: it is revoked";
	if (status & GNUTLS_CERT_PURPOSE_MISMATCH)
		return "client certificate refused: it is not for TLS clients (a server "
		       "certificate?)";
	gnutls_datum_t out = { 0 };
	if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &out, 0) == 0) {
		(void)snprintf(buf, size, "client certificate refused: %s", out.data);
		gnutls_free(out.data);
		return buf;
	}
	return "client certificate refused: it does not verify";
}

/* The handshake is done: is the client's certificate ours, valid, and whose? */
static int
tls_verify_client(struct control_tls_conn *c)
{
	gnutls_typed_vdata_st purpose = { .type = GNUTLS_DT_KEY_PURPOSE_OID,
		.data = (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT };
	const gnutls_datum_t *peers;
	struct dl_err err = { 0 };
	unsigned status = 0, n_peers = 0;
	char why[MAX_ERR_MSG];
	int gr, r;

	peers = gnutls_certificate_get_peers(c->s, &n_peers);
	if (!peers || n_peers == 0)
		return tls_refuse(c, "client certificate refused: none was sent");
	/* The subject first: the log names whose certificate a refusal was. */
	r = control_tls_cert_role(peers[0].data, peers[0].size, &c->role, c->who, &err);
	gr = gnutls_certificate_verify_peers(c->s, &purpose, 1, &status);
	if (gr < 0) {
		(void)snprintf(why, sizeof(why), "client certificate refused: %s",
		    gnutls_strerror(gr));
		return tls_refuse(c, why);
	}
	if (status)
		return tls_refuse(c, tls_status_why(status, why, sizeof(why)));
	if (r < 0) {
		(void)dl_err_prefix(&err, "client certificate refused");
		return tls_refuse(c, err.msg);
	}
	c->state = CONN_READY;
	log_info("event=control_tls_client peer=%s cn=\"%s\" role=%s", c->peer, c->who,
	    role_to_name(c->role));
	return 0;
}

/* Read and drop what a refused peer still sends; -ECONNRESET once it is gone. */
static int
tls_drain(struct control_tls_conn *c)
{
	char buf[4096];

	for (;;) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n > 0)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return -EAGAIN;
		return -ECONNRESET;
	}
}

int
control_tls_conn_handshake(struct control_tls_conn *c)
{
	int gr;

	if (c->state == CONN_READY)
		return 0;
	if (c->state == CONN_REFUSED)
		return tls_drain(c);
	gr = gnutls_handshake(c->s);
	if (gr == GNUTLS_E_AGAIN || gr == GNUTLS_E_INTERRUPTED ||
	    (gr < 0 && !gnutls_error_is_fatal(gr))) {
		c->want_write = gnutls_record_get_direction(c->s) == 1;
		return -EAGAIN;
	}
	c->want_write = false;
	if (gr < 0) {
		const char *why = gnutls_strerror(gr);

		if (gr == GNUTLS_E_NO_CERTIFICATE_FOUND || gr == GNUTLS_E_CERTIFICATE_REQUIRED)
			why = "no client certificate";
		else if (gr == GNUTLS_E_PULL_ERROR || gr == GNUTLS_E_PUSH_ERROR ||
		    gr == GNUTLS_E_PREMATURE_TERMINATION)
			why = "the client closed the connection (did it refuse our certificate?)";
		/* Tell the client why in TLS terms (certificate_required, ...); best effort. */
		(void)gnutls_alert_send_appropriate(c->s, gr);
		log_warning("event=control_tls_refused peer=%s why=\"handshake: %s\"", c->peer,
		    why);
		return -EPROTO;
	}
	return tls_verify_client(c);
}

bool
control_tls_conn_pending(const struct control_tls_conn *c)
{
	return gnutls_record_check_pending(c->s) > 0;
}

ssize_t
control_tls_conn_recv(struct control_tls_conn *c, void *buf, size_t n)
{
	ssize_t r;

	if (c->state != CONN_READY)
		return -ENOTCONN;
	r = gnutls_record_recv(c->s, buf, n);
	if (r >= 0)
		return r;
	if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
		c->want_write = gnutls_record_get_direction(c->s) == 1;
		return -EAGAIN;
	}
	/* A peer that goes without close_notify ends the connection like EOF does. */
	if (r == GNUTLS_E_PREMATURE_TERMINATION)
		return 0;
	if (!gnutls_error_is_fatal((int)r))
		return -EAGAIN;
	log_info("event=control_tls_end peer=%s cn=\"%s\" msg=\"%s\"", c->peer, c->who,
	    gnutls_strerror((int)r));
	return -ECONNRESET;
}

ssize_t
control_tls_conn_send(struct control_tls_conn *c, const void *buf, size_t n)
{
	ssize_t r;

	if (c->state != CONN_READY)
		return -ENOTCONN;
	r = c->send_pending ? gnutls_record_send(c->s, NULL, 0) :
	    gnutls_record_send(c->s, buf, n);
	if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
		c->send_pending = true;
		c->want_write = true;
		return -EAGAIN;
	}
	c->send_pending = false;
	c->want_write = false;
	if (r < 0)
		return -ECONNRESET;
	return r;
}
