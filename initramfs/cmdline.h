/* SPDX-License-Identifier: MIT */
/* The kernel command line the linux iPXE template renders (docs/boot-protocol.md), parsed
 * strictly into typed fields: it is a trust boundary (CONVENTIONS §8). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "util.h"

/* /proc/cmdline is at most COMMAND_LINE_SIZE (2048 on x86) plus a newline. */
#define MAX_CMDLINE 4096
/* Host names are one RFC 1123 label. */
#define MAX_HOSTNAME_LEN 63
/* A node token is 32 random bytes in hex (64 chars); allow twice that for future tokens. */
#define MAX_TOKEN_LEN 128
/* A base path under the server, e.g. "/diskless"; short because it goes in every URL. */
#define MAX_URL_PATH 128
/* sha256 in lowercase hex plus NUL */
#define HEX256_SIZE 65

/* A parsed http://a.b.c.d[:port][/path] URL: numeric IPv4 only, so the init needs no DNS. */
struct http_server {
	uint32_t addr_be;
	uint16_t port;
	char base[MAX_URL_PATH + 1];       /* "" or "/prefix" without a trailing '/' */
	char host[32];                     /* "a.b.c.d:port" for the Host: header */
};

struct dl_cmdline {
	struct http_server server;
	char node[MAX_HOSTNAME_LEN + 1];
	char token[MAX_TOKEN_LEN + 1];     /* "" unless dl.token= (credential.h) */
	char image[HEX256_SIZE];           /* "" when dl.image was not given */
	char rootfs[HEX256_SIZE];
	uint64_t rootfs_size;              /* 0 when dl.rootfs_size was not given */
	char initrd[HEX256_SIZE];          /* "" when dl.initrd_id was not given */
	uint8_t mac[6];
	/* ip=client:server:gw:mask:host:dev:autoconf (only static "off"/"none" is supported) */
	uint32_t ip_be, gw_be, mask_be;    /* gw 0 = no default route */
	char hostname[MAX_HOSTNAME_LEN + 1]; /* from ip=, else dl.node */
	bool cred_fetch;                   /* dl.cred=fetch: GET the credential (credential.h) */
	unsigned n_unknown;                /* unknown dl.* keys seen (each warned about) */
};

/* Parse a kernel command line (not necessarily NUL-free at the end: a trailing newline is
 * fine) into *ret. Tokens not starting with "dl." or "ip=" belong to others and are skipped;
 * unknown dl.* keys are counted and, when warn is set, logged. A missing required key
 * (server, node, rootfs, mac, ip; dl.token, dl.image, dl.rootfs_size and dl.initrd_id are
 * optional), a duplicate key or a malformed value fails
 * with -EINVAL and a message naming the key and the (sanitized) value in reterr.
 * *ret is written only on success. */
int cmdline_parse(const char *s, struct dl_cmdline *ret, bool warn, struct init_err *reterr);

/* Parse "http://a.b.c.d[:port][/path]" (s is len bytes, not necessarily NUL-terminated). */
int cmdline_parse_server(const char *s, size_t len, struct http_server *ret, struct init_err *reterr);

/* Strict dotted quad, len bytes: 4 parts 0..255, no leading zeros, nothing else. */
int cmdline_parse_ipv4(const char *s, size_t len, uint32_t *ret_be);

/* RFC 1123 label: [a-z0-9-]{1,63}, not starting or ending with '-'. */
bool cmdline_hostname_is_valid(const char *s, size_t len);
