/* SPDX-License-Identifier: MIT */
/* nodectl's TLS transport to bootsvc's control_tcp (docs/security.md "Remote control
 * over mutual TLS"): connect to host:port, present the client certificate, verify the
 * server's against the CA and the host name. client.c frames lines over it exactly as
 * over the Unix socket. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "err.h"

struct tls_client;

/* Split "host:port" ("[v6]:port" for IPv6 literals) into host (size bytes) and *port.
 * -EINVAL naming the value. */
int tls_client_split(const char *server, char *host, size_t size, unsigned *ret_port,
    struct dl_err *reterr);

/* Connect to server ("host:port"), handshake with cert/key (PEM files) and verify the
 * server's certificate against ca (PEM) and host, within timeout_ms. Returns 0 with
 * *ret (caller frees) and *ret_fd (non-blocking; owned by *ret), or -errno with reterr
 * saying what failed in words: cannot connect, cannot read a file, the server's
 * certificate does not verify, bootsvc refused ours. */
int tls_client_connect(const char *server, const char *cert, const char *key,
    const char *ca, int timeout_ms, struct tls_client **ret, int *ret_fd,
    struct dl_err *reterr);
struct tls_client *tls_client_free(struct tls_client *t);

/* > 0 bytes, 0 at bootsvc's end, -EAGAIN (wait for the fd), or another -errno with
 * reterr. A send that returned -EAGAIN is repeated with the same bytes. */
ssize_t tls_client_send(struct tls_client *t, const void *p, size_t n,
    struct dl_err *reterr);
ssize_t tls_client_recv(struct tls_client *t, void *p, size_t n, struct dl_err *reterr);
/* Does the session hold decrypted bytes not yet read (poll would not see them)? */
bool tls_client_pending(const struct tls_client *t);
