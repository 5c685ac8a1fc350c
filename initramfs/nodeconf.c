/* SPDX-License-Identifier: MIT */
/* node.conf parser; see nodeconf.h. */
#include <errno.h>
#include <string.h>

#include "nodeconf.h"

static const char *
trim(const char *s, const char *e, const char **ret_end)
{
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		e--;
	*ret_end = e;
	return s;
}

int
nodeconf_parse(const char *s, struct node_conf *ret, struct init_err *reterr)
{
	struct node_conf nc;
	bool have_server = false, have_node = false, have_token = false;
	const char *line = s;
	int lineno = 0, r;

	memset(&nc, 0, sizeof(nc));
	if (strlen(s) > MAX_NODE_CONF)
		return init_err_set(reterr, -EFBIG, "node.conf is larger than %d bytes", MAX_NODE_CONF);
	while (*line) {
		const char *nl = strchr(line, '\n'), *eol = nl ? nl : line + strlen(line);
		const char *k, *ke, *v, *ve, *eq;
		size_t klen, vlen;

		lineno++;
		k = trim(line, eol, &ke);
		line = nl ? nl + 1 : eol;
		if (k == ke || *k == '#')
			continue;
		eq = memchr(k, '=', (size_t)(ke - k));
		if (!eq)
			return init_err_set(reterr, -EINVAL, "node.conf line %d: no '='", lineno);
		v = trim(eq + 1, ke, &ve);
		k = trim(k, eq, &ke);
		klen = (size_t)(ke - k);
		if (ve - v >= 2 && v[0] == '"' && ve[-1] == '"') {
			v++;
			ve--;
		}
		vlen = (size_t)(ve - v);
		if (klen == 6 && memcmp(k, "server", 6) == 0) {
			if (have_server)
				goto dup;
			have_server = true;
			r = cmdline_parse_server(v, vlen, &nc.server, reterr);
			if (r < 0)
				return init_err_prefix(reterr, r, "node.conf line %d", lineno);
		} else if (klen == 4 && memcmp(k, "node", 4) == 0) {
			if (have_node)
				goto dup;
			have_node = true;
			if (!cmdline_hostname_is_valid(v, vlen))
				return init_err_set(reterr, -EINVAL,
				    "node.conf line %d: node is not an RFC 1123 label", lineno);
			memcpy(nc.node, v, vlen);
		} else if (klen == 5 && memcmp(k, "token", 5) == 0) {
			size_t i;

			if (have_token)
				goto dup;
			have_token = true;
			if (vlen < 16 || vlen > MAX_TOKEN_LEN)
				goto bad_token;
			for (i = 0; i < vlen; i++)
				if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f')))
					goto bad_token;
			memcpy(nc.token, v, vlen);
		}
	}
	if (!have_server || !have_node || !have_token)
		return init_err_set(reterr, -EINVAL, "node.conf lacks %s", !have_server ? "server" :
		    !have_node ? "node" : "token");
	*ret = nc;
	return 0;
dup:
	return init_err_set(reterr, -EINVAL, "node.conf line %d: key given twice", lineno);
bad_token:
	return init_err_set(reterr, -EINVAL, "node.conf line %d: token is not 16..128 hex chars",
	    lineno);
}
