/* SPDX-License-Identifier: MIT */
/* Kernel command line parser; see cmdline.h. Pure: no I/O except optional warnings. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmdline.h"

/* How much of a bad value we quote back: enough to recognise it, not a whole line. */
#define MAX_QUOTED 64

enum dl_key {
	KEY_SERVER,
	KEY_NODE,
	KEY_TOKEN,
	KEY_IMAGE,
	KEY_ROOTFS,
	KEY_ROOTFS_SIZE,
	KEY_INITRD,
	KEY_MAC,
	KEY_IP,
	KEY_CRED,
	_KEY_MAX,
};

static const struct {
	const char *name;
	bool required;
} keys[_KEY_MAX] = {
	[KEY_SERVER] = { "dl.server", true },
	[KEY_NODE] = { "dl.node", true },
	/* Only for a boot server older than the credential archive (credential.h): the
	 * command line is readable by every user of the node. */
	[KEY_TOKEN] = { "dl.token", false },
	/* Optional: without it the rootfs is asked for by node (/images/n/<node>/rootfs,
	 * the version bootsvc served it), still checked against dl.rootfs. xen.ipxe leaves
	 * it out on BIOS, where iPXE's multiboot has 512 bytes for every command line. */
	[KEY_IMAGE] = { "dl.image", false },
	[KEY_ROOTFS] = { "dl.rootfs", true },
	[KEY_ROOTFS_SIZE] = { "dl.rootfs_size", false },
	[KEY_INITRD] = { "dl.initrd_id", false },
	[KEY_MAC] = { "dl.mac", true },
	[KEY_IP] = { "ip", true },
	/* "fetch": no credential archive beside the initramfs (Xen hands dom0 one initrd):
	 * the init fetches it itself once the network is up (credential.h). */
	[KEY_CRED] = { "dl.cred", false },
};

static int
bad(struct init_err *reterr, const char *key, const char *v, size_t len, const char *why)
{
	char q[MAX_QUOTED + 1];

	init_sanitize(q, sizeof(q), v, len);
	return init_err_set(reterr, -EINVAL, "%s='%s'%s: %s", key, q, len > MAX_QUOTED ? "..." : "",
	    why);
}

int
cmdline_parse_ipv4(const char *s, size_t len, uint32_t *ret_be)
{
	uint32_t a = 0;
	size_t i = 0;
	int part;

	for (part = 0; part < 4; part++) {
		size_t start = i;
		unsigned v = 0;

		while (i < len && s[i] >= '0' && s[i] <= '9' && i - start < 3)
			v = v * 10 + (unsigned)(s[i++] - '0');
		if (i == start || v > 255 || (i - start > 1 && s[start] == '0'))
			return -EINVAL;
		a = (a << 8) | v;
		if (part < 3) {
			if (i >= len || s[i] != '.')
				return -EINVAL;
			i++;
		}
	}
	if (i != len)
		return -EINVAL;
	*ret_be = htonl(a);
	return 0;
}

bool
cmdline_hostname_is_valid(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > MAX_HOSTNAME_LEN || s[0] == '-' || s[len - 1] == '-')
		return false;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

static bool
is_hex(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int
cmdline_parse_server(const char *s, size_t len, struct http_server *ret, struct init_err *reterr)
{
	static const char scheme[] = "http://";
	struct http_server srv = { .port = 80 };
	size_t i, host_end, port_end;
	uint64_t port;
	char addr[INET_ADDRSTRLEN];

	if (len < sizeof(scheme) - 1 || memcmp(s, scheme, sizeof(scheme) - 1) != 0)
		return bad(reterr, "dl.server", s, len, "not an http:// URL (https is not supported)");
	i = sizeof(scheme) - 1;
	for (host_end = i; host_end < len && s[host_end] != ':' && s[host_end] != '/'; host_end++)
		;
	if (cmdline_parse_ipv4(s + i, host_end - i, &srv.addr_be) < 0)
		return bad(reterr, "dl.server", s, len, "host is not a numeric IPv4 address");
	port_end = host_end;
	if (host_end < len && s[host_end] == ':') {
		for (port_end = host_end + 1; port_end < len && s[port_end] != '/'; port_end++)
			;
		if (init_parse_u64(s + host_end + 1, port_end - host_end - 1, 65535, &port) < 0 ||
		    port == 0)
			return bad(reterr, "dl.server", s, len, "port is not a number in 1..65535");
		srv.port = (uint16_t)port;
	}
	/* The base path goes into request lines verbatim, so only plain URL characters. */
	for (i = port_end; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || strchr("/-._~", s[i])))
			return bad(reterr, "dl.server", s, len, "path has characters other than [A-Za-z0-9/-._~]");
	while (len > port_end && s[len - 1] == '/')
		len--;
	if (len - port_end > MAX_URL_PATH)
		return bad(reterr, "dl.server", s, len, "path too long");
	if (memmem(s + port_end, len - port_end, "/..", 3))
		return bad(reterr, "dl.server", s, len, "path contains '..'");
	memcpy(srv.base, s + port_end, len - port_end);
	srv.base[len - port_end] = '\0';
	(void)inet_ntop(AF_INET, &srv.addr_be, addr, sizeof(addr)); /* cannot fail for AF_INET */
	(void)snprintf(srv.host, sizeof(srv.host), "%s:%u", addr, srv.port);
	*ret = srv;
	return 0;
}

static int
parse_mac(const char *s, size_t len, uint8_t mac[6])
{
	size_t i;

	if (len != 17)
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		unsigned v = 0, j;

		for (j = 0; j < 2; j++) {
			char c = s[i * 3 + j];

			v <<= 4;
			if (c >= '0' && c <= '9')
				v |= (unsigned)(c - '0');
			else if (c >= 'a' && c <= 'f')
				v |= (unsigned)(c - 'a' + 10);
			else if (c >= 'A' && c <= 'F')
				v |= (unsigned)(c - 'A' + 10);
			else
				return -EINVAL;
		}
		if (i < 5 && s[i * 3 + 2] != ':' && s[i * 3 + 2] != '-')
			return -EINVAL;
		mac[i] = (uint8_t)v;
	}
	return 0;
}

/* Netmask must be contiguous ones: 255.255.255.0 yes, 255.0.255.0 no. */
static bool
mask_is_valid(uint32_t mask_be)
{
	uint32_t m = ntohl(mask_be);

	return m != 0 && (~m & (~m + 1)) == 0;
}

/* ip=client:server:gw:mask:host:dev:autoconf[:dns0:dns1:ntp0] (kernel nfsroot.rst). */
static int
parse_ip(const char *s, size_t len, struct dl_cmdline *c, struct init_err *reterr)
{
	const char *f[10];
	size_t flen[10], n = 0, i, start = 0;

	for (i = 0; i <= len; i++) {
		if (i == len || s[i] == ':') {
			if (n == 10)
				return bad(reterr, "ip", s, len, "more than 10 ':'-separated fields");
			f[n] = s + start;
			flen[n++] = i - start;
			start = i + 1;
		}
	}
	if (n < 4)
		return bad(reterr, "ip", s, len,
		    "only the static form client::gw:mask:host::off is supported (no DHCP in the init)");
	if (cmdline_parse_ipv4(f[0], flen[0], &c->ip_be) < 0)
		return bad(reterr, "ip", s, len, "client address is not a dotted quad");
	if (flen[2] == 0)
		c->gw_be = 0;
	else if (cmdline_parse_ipv4(f[2], flen[2], &c->gw_be) < 0)
		return bad(reterr, "ip", s, len, "gateway is not a dotted quad");
	if (cmdline_parse_ipv4(f[3], flen[3], &c->mask_be) < 0 || !mask_is_valid(c->mask_be))
		return bad(reterr, "ip", s, len, "netmask is not a contiguous dotted-quad mask");
	if (c->gw_be && (c->gw_be & c->mask_be) != (c->ip_be & c->mask_be))
		return bad(reterr, "ip", s, len, "gateway is outside the client's subnet");
	c->hostname[0] = '\0';
	if (n > 4 && flen[4] > 0) {
		if (!cmdline_hostname_is_valid(f[4], flen[4]))
			return bad(reterr, "ip", s, len, "host name is not an RFC 1123 label");
		memcpy(c->hostname, f[4], flen[4]);
		c->hostname[flen[4]] = '\0';
	}
	if (n > 6 && flen[6] > 0 && !(flen[6] == 3 && memcmp(f[6], "off", 3) == 0) &&
	    !(flen[6] == 4 && memcmp(f[6], "none", 4) == 0))
		return bad(reterr, "ip", s, len, "autoconf must be 'off' or 'none' (no DHCP in the init)");
	return 0;
}

static int
parse_hex256(const char *key, const char *v, size_t len, char out[HEX256_SIZE],
    struct init_err *reterr)
{
	if (len != 64 || !is_hex(v, len))
		return bad(reterr, key, v, len, "not a sha256 (64 lowercase hex characters)");
	memcpy(out, v, 64);
	out[64] = '\0';
	return 0;
}

static int
set_key(enum dl_key k, const char *v, size_t len, struct dl_cmdline *c, struct init_err *reterr)
{
	const char *name = keys[k].name;

	switch (k) {
	case KEY_SERVER:
		return cmdline_parse_server(v, len, &c->server, reterr);
	case KEY_NODE:
		if (!cmdline_hostname_is_valid(v, len))
			return bad(reterr, name, v, len, "not an RFC 1123 label ([a-z0-9-], 1..63)");
		memcpy(c->node, v, len);
		c->node[len] = '\0';
		return 0;
	case KEY_TOKEN:
		if (len < 16 || len > MAX_TOKEN_LEN || !is_hex(v, len))
			return bad(reterr, name, v, len, "not 16..128 lowercase hex characters");
		memcpy(c->token, v, len);
		c->token[len] = '\0';
		return 0;
	case KEY_IMAGE:
		return parse_hex256(name, v, len, c->image, reterr);
	case KEY_ROOTFS:
		return parse_hex256(name, v, len, c->rootfs, reterr);
	case KEY_INITRD:
		return parse_hex256(name, v, len, c->initrd, reterr);
	case KEY_ROOTFS_SIZE:
		/* a squashfs image is at least one 4 KiB block; 1 TiB is far beyond any RAM */
		if (init_parse_u64(v, len, 1ULL << 40, &c->rootfs_size) < 0 || c->rootfs_size < 4096)
			return bad(reterr, name, v, len, "not a byte count in 4096..2^40");
		return 0;
	case KEY_MAC:
		if (parse_mac(v, len, c->mac) < 0)
			return bad(reterr, name, v, len, "not a MAC address xx:xx:xx:xx:xx:xx");
		return 0;
	case KEY_IP:
		return parse_ip(v, len, c, reterr);
	case KEY_CRED:
		if (len != 5 || memcmp(v, "fetch", 5) != 0)
			return bad(reterr, name, v, len, "the only value is 'fetch'");
		c->cred_fetch = true;
		return 0;
	case _KEY_MAX:
		break;
	}
	return init_err_set(reterr, -EINVAL, "internal: unknown key index %d", (int)k);
}

int
cmdline_parse(const char *s, struct dl_cmdline *ret, bool warn, struct init_err *reterr)
{
	struct dl_cmdline c;
	bool seen[_KEY_MAX] = { false };
	size_t len, i = 0;
	int k, r;

	memset(&c, 0, sizeof(c));
	len = strnlen(s, MAX_CMDLINE + 1);
	if (len > MAX_CMDLINE)
		return init_err_set(reterr, -EINVAL, "kernel command line longer than %d bytes",
		    MAX_CMDLINE);
	while (i < len) {
		const char *tok, *eq, *v;
		size_t tlen, klen, vlen;
		bool quoted = false;

		while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n'))
			i++;
		if (i >= len)
			break;
		tok = s + i;
		/* the kernel lets a value be double-quoted to hold spaces (next_arg()) */
		while (i < len && (quoted || (s[i] != ' ' && s[i] != '\t' && s[i] != '\n'))) {
			if (s[i] == '"')
				quoted = !quoted;
			i++;
		}
		tlen = (size_t)(s + i - tok);
		if (!(tlen > 3 && memcmp(tok, "dl.", 3) == 0) && !(tlen >= 3 && memcmp(tok, "ip=", 3) == 0))
			continue;
		eq = memchr(tok, '=', tlen);
		if (!eq)
			return bad(reterr, "command line", tok, tlen, "dl.* option without '=value'");
		klen = (size_t)(eq - tok);
		v = eq + 1;
		vlen = tlen - klen - 1;
		if (memchr(tok, '"', tlen))
			return bad(reterr, "command line", tok, tlen, "quotes are not allowed in dl.* or ip=");
		for (k = 0; k < _KEY_MAX; k++)
			if (strlen(keys[k].name) == klen && memcmp(keys[k].name, tok, klen) == 0)
				break;
		if (k == _KEY_MAX) {
			char q[MAX_QUOTED + 1];

			c.n_unknown++;
			if (warn) {
				init_sanitize(q, sizeof(q), tok, klen);
				init_log("warning: unknown command line key '%s', ignoring", q);
			}
			continue;
		}
		if (seen[k])
			return bad(reterr, keys[k].name, v, vlen, "given twice");
		seen[k] = true;
		if (vlen == 0)
			return bad(reterr, keys[k].name, v, vlen, "empty value");
		r = set_key((enum dl_key)k, v, vlen, &c, reterr);
		if (r < 0)
			return r;
	}
	for (k = 0; k < _KEY_MAX; k++)
		if (keys[k].required && !seen[k])
			return init_err_set(reterr, -EINVAL, "%s= missing from the kernel command line",
			    keys[k].name);
	if (!c.hostname[0])
		memcpy(c.hostname, c.node, sizeof(c.hostname));
	*ret = c;
	return 0;
}
