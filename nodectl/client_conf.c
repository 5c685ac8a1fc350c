/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "client_conf.h"
#include "macro.h"
#include "tls_client.h"

/* The keys of a client config file (docs/nodectl.md). */
struct client_conf {
	char server[MAX_CLIENT_CONF_VALUE];
	char cert[MAX_CLIENT_CONF_VALUE];
	char key[MAX_CLIENT_CONF_VALUE];
	char ca[MAX_CLIENT_CONF_VALUE];
};

static int
client_conf_copy(char *dst, const char *what, const char *v, bool path, struct dl_err *reterr)
{
	if (!v[0])
		return dl_err_set(reterr, -EINVAL, "%s is empty", what);
	if (strlen(v) >= MAX_CLIENT_CONF_VALUE)
		return dl_err_set(reterr, -EINVAL, "%s is longer than %d bytes", what,
		    MAX_CLIENT_CONF_VALUE - 1);
	if (path && v[0] != '/')
		return dl_err_set(reterr, -EINVAL, "%s '%.128s' is not an absolute path", what, v);
	strcpy(dst, v);
	return 0;
}

static int
client_conf_item(const char *key, const char *value, void *userdata, struct dl_err *reterr)
{
	struct client_conf *c = userdata;
	char host[256];
	unsigned port;

	if (streq(key, "server")) {
		int r = tls_client_split(value, host, sizeof(host), &port, reterr);
		return r < 0 ? r : client_conf_copy(c->server, "server", value, false, reterr);
	}
	if (streq(key, "cert"))
		return client_conf_copy(c->cert, "cert", value, true, reterr);
	if (streq(key, "key"))
		return client_conf_copy(c->key, "key", value, true, reterr);
	if (streq(key, "ca"))
		return client_conf_copy(c->ca, "ca", value, true, reterr);
	return dl_err_set(reterr, -EINVAL, "unknown key '%.64s' (server, cert, key, ca)", key);
}

int
client_conf_resolve(const struct cmd_opts *opts, const char *env_socket,
    const char *env_conf, const char *default_socket, struct client_target *ret,
    struct dl_err *reterr)
{
	struct client_conf conf;
	const char *path = env_conf && env_conf[0] ? env_conf : CLIENT_CONF_DEFAULT;
	bool tls_opts = opts->cert || opts->key || opts->ca;
	int r;

	memset(ret, 0, sizeof(*ret));
	memset(&conf, 0, sizeof(conf));
	if (opts->socket && opts->server)
		return dl_err_set(reterr, -EINVAL, "options --socket and --server exclude each "
		    "other (a Unix socket, or a TCP address with TLS)");
	if (opts->socket && tls_opts)
		return dl_err_set(reterr, -EINVAL, "option --%s is for --server, not --socket",
		    opts->cert ? "cert" : opts->key ? "key" : "ca");
	if (opts->socket || (!opts->server && !tls_opts && env_socket && env_socket[0])) {
		const char *s = opts->socket ? opts->socket : env_socket;
		return client_conf_copy(ret->socket, "the socket path", s, false, reterr);
	}
	r = conf_parse_file(path, client_conf_item, &conf, reterr);
	if (r == -ENOENT && !(env_conf && env_conf[0]))
		dl_err_clear(reterr);
	else if (r < 0)
		return r;
	if (!opts->server && !conf.server[0]) {
		if (tls_opts)
			return dl_err_set(reterr, -EINVAL, "option --%s needs --server (or server "
			    "in the client config %s)", opts->cert ? "cert" : opts->key ? "key" :
			    "ca", path);
		return client_conf_copy(ret->socket, "the socket path", default_socket, false,
		    reterr);
	}
	ret->tls = true;
	r = client_conf_copy(ret->server, "option --server", opts->server ? opts->server :
	    conf.server, false, reterr);
	if (r == 0 && opts->server) {
		char host[256];
		unsigned port;

		r = tls_client_split(opts->server, host, sizeof(host), &port, reterr);
		if (r < 0)
			return dl_err_prefix(reterr, "option --server");
	}
	if (r < 0)
		return r;
	if (opts->cert)
		r = client_conf_copy(ret->cert, "option --cert", opts->cert, false, reterr);
	else if (conf.cert[0])
		strcpy(ret->cert, conf.cert);
	if (r == 0 && opts->key)
		r = client_conf_copy(ret->key, "option --key", opts->key, false, reterr);
	else if (conf.key[0])
		strcpy(ret->key, conf.key);
	if (r == 0 && opts->ca)
		r = client_conf_copy(ret->ca, "option --ca", opts->ca, false, reterr);
	else if (conf.ca[0])
		strcpy(ret->ca, conf.ca);
	if (r < 0)
		return r;
	if (!ret->cert[0] || !ret->key[0])
		return dl_err_set(reterr, -EINVAL, "--server needs a client certificate and its "
		    "key: --cert and --key, or cert and key in the client config (make them "
		    "with 'nodectl tls issue NAME --role ROLE')");
	if (!ret->ca[0])
		return dl_err_set(reterr, -EINVAL, "--server needs the CA that signed bootsvc's "
		    "certificate: --ca, or ca in the client config");
	return 0;
}
