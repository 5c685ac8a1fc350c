/* SPDX-License-Identifier: MIT */
/* Where nodectl finds bootsvc (docs/nodectl.md "Remote control"): the Unix socket, or
 * control_tcp over mutual TLS, from the options, the environment and the client config
 * file. Pure: reads the config file, touches nothing else. */
#pragma once

#include <stdbool.h>

#include "cmd.h"
#include "conf.h"
#include "err.h"

/* The client config file when $DISKLESS_CLIENT_CONF is not set; a missing one is
 * fine (then the Unix socket is the default). */
#define CLIENT_CONF_DEFAULT "/etc/diskless/client.conf"
/* Longest value of a client config key. */
#define MAX_CLIENT_CONF_VALUE 1024

struct client_target {
	bool tls;                                /* else the Unix socket */
	char socket[MAX_CLIENT_CONF_VALUE];      /* !tls */
	char server[MAX_CLIENT_CONF_VALUE];      /* tls: host:port */
	char cert[MAX_CLIENT_CONF_VALUE];        /* tls: PEM files */
	char key[MAX_CLIENT_CONF_VALUE];
	char ca[MAX_CLIENT_CONF_VALUE];
};

/* Decide from, in this order: --socket or --server (with --cert/--key/--ca, each falling
 * back to the config file's), $DISKLESS_SOCKET (env_socket), the config file's server
 * (env_conf, or CLIENT_CONF_DEFAULT when env_conf is NULL or empty), the default
 * socket. A config file named by env_conf must exist. Returns 0 and fills *ret, or
 * -EINVAL with reterr naming the option or file:line (--socket with --server, --cert
 * without --server, --server without a certificate, key or CA, a relative path, an
 * unknown key). */
int client_conf_resolve(const struct cmd_opts *opts, const char *env_socket,
    const char *env_conf, const char *default_socket, struct client_target *ret,
    struct dl_err *reterr);
