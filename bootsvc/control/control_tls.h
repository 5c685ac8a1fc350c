/* SPDX-License-Identifier: MIT */
/* The control protocol over TCP with mutual TLS (GnuTLS; docs/security.md "Remote
 * control over mutual TLS"): the server's credentials and listening socket, and one
 * non-blocking session per client that control.c drives from the loop. A client is
 * served only after its certificate chains to control_tls_ca, is valid now, is meant
 * for TLS clients and names one role (lib/role.h); otherwise it gets one error line
 * saying why, the log says so once, and the connection ends. There is no plain-TCP
 * mode. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"
#include "role.h"

/* How long a client has from its TCP connect until its handshake is done (and, once
 * refused, to read the refusal and go): a peer that never finishes one holds a client
 * slot no longer than this. */
#define MAX_TLS_HANDSHAKE_MS (10 * 1000)
/* Longest certificate subject CN kept for the log and messages. */
#define MAX_TLS_WHO 64

struct control_tls;
struct control_tls_conn;

/* The role a client certificate (DER, len bytes: outside input) names in its subject
 * (lib/role.h), and its CN cleaned into who (always written, "" when it has none).
 * Checks nothing else: the chain, dates and purpose are the handshake's. Returns 0,
 * -EACCES with reterr (unreadable, no role, two roles, an unknown one) or -ENOMEM. */
int control_tls_cert_role(const void *der, size_t len, enum role *ret_role,
    char who[static MAX_TLS_WHO + 4], struct dl_err *reterr);

/* Load the server's certificate and key and the CA that client certificates must chain
 * to, and listen on addr:port (IPv4). Returns 0 and *ret, or -errno with reterr naming
 * the file or address and the reason. Run before privileges are dropped: the key is
 * read here, once. */
int control_tls_new(const char *cert, const char *key, const char *ca, const char *addr,
    uint16_t port, struct control_tls **ret, struct dl_err *reterr);
struct control_tls *control_tls_free(struct control_tls *t);
/* The listening socket (non-blocking; owned by t). */
int control_tls_fd(const struct control_tls *t);

/* A session on accepted socket fd (borrowed: the caller closes it after freeing the
 * session); peer names it in the log. NULL on ENOMEM. */
struct control_tls_conn *control_tls_conn_new(struct control_tls *t, int fd,
    const char *peer);
struct control_tls_conn *control_tls_conn_free(struct control_tls_conn *c);

/* Drive the handshake and the check of the client certificate. Returns 0 when the
 * client may send requests (role and who set), -EAGAIN when it needs more I/O (also
 * while a refused client reads its refusal), or another -errno when the connection
 * is over (already logged). */
int control_tls_conn_handshake(struct control_tls_conn *c);
bool control_tls_conn_ready(const struct control_tls_conn *c);
enum role control_tls_conn_role(const struct control_tls_conn *c);
/* The certificate's subject CN, cleaned for messages and logs. */
const char *control_tls_conn_who(const struct control_tls_conn *c);
/* The peer's address:port, as given to control_tls_conn_new(). */
const char *control_tls_conn_peer(const struct control_tls_conn *c);
/* Must the loop wait for the socket to be writable (the session has bytes to send)? */
bool control_tls_conn_wants_write(const struct control_tls_conn *c);

/* Application data of a ready session: > 0 bytes, 0 at the peer's end, -EAGAIN, or
 * another -errno. A send that returned -EAGAIN must be repeated with the same bytes
 * (at least the same count at the same place of the caller's buffer). */
/* Does the session hold received application data not yet taken by recv? (A reader
 * that stops before EAGAIN gets no epoll event for it.) */
bool control_tls_conn_pending(const struct control_tls_conn *c);
ssize_t control_tls_conn_recv(struct control_tls_conn *c, void *buf, size_t n);
ssize_t control_tls_conn_send(struct control_tls_conn *c, const void *buf, size_t n);
