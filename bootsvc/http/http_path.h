/* SPDX-License-Identifier: MIT */
/* Parsing of what a request names: the route, an image file by content id and role, a
 * node API path, the boot query. Strict: anything else is 404/400, so no request can
 * ever name a file path (issue #2: /images/../../etc/passwd). */
#pragma once

#include <stdbool.h>

#include "err.h"
#include "manifest.h"
#include "parse.h"
#include "boot/boot_query.h"
#include "store/store.h"

enum http_route {
	ROUTE_OTHER,
	ROUTE_IPXE,    /* /ipxe/start, /ipxe/boot */
	ROUTE_IMAGES,  /* /images/<id>/<role> */
	ROUTE_API,     /* /api/v1/... */
	ROUTE_METRICS, /* /metrics */
	_ROUTE_MAX,
};

const char *http_route_name(enum http_route r);
enum http_route http_route_of(const char *url);

/* "/images/<64 hex>/<role>" exactly, where role is a role of some kind in the kind table
 * (kind_any_role(): linux's kernel, initrd, rootfs); whether the image's own kind has it
 * is for the caller, who knows the image. *ret_role is the table's static copy. -ENOENT
 * for anything else. */
int http_path_image(const char *url, char ret_id[static SHA256_HEX_SIZE], const char **ret_role);

/* "/images/<64 hex>/manifest" exactly: the version's manifest.json, whose sha256 is the
 * id, so a peer can fetch a version by id (sync/sync_fetch.c) and check what it got
 * (docs/boot-protocol.md). No kind has a role named "manifest" (kind_any_role). -ENOENT
 * for anything else. */
int http_path_image_manifest(const char *url, char ret_id[static SHA256_HEX_SIZE]);

/* "/images/<64 hex>/templates/<path>": a template file of the version, for a peer's sync
 * (the overlay renders them from the version's templates/). path is plain (relpath.h),
 * at most MAX_TEMPLATE_PATH bytes of [A-Za-z0-9._-+~@=,/]; it goes into ret_path. -ENOENT
 * for anything else. */
int http_path_image_template(const char *url, char ret_id[static SHA256_HEX_SIZE],
    char ret_path[static MAX_TEMPLATE_PATH + 1]);

/* "/images/n/<name>/<role>": role's file of the version bootsvc last served node
 * <name> (a valid node name; role as for http_path_image). Short, for Xen's multiboot on
 * BIOS, where iPXE keeps every module's URI and command line in 512 bytes
 * (docs/boot-protocol.md). -ENOENT for anything else. */
int http_path_node_image(const char *url, char ret_name[static MAX_NODE_NAME],
    const char **ret_role);

/* "/api/v1/nodes/<name>/<action>" with a valid node name and action [a-z]{1,15}. */
int http_path_node_api(const char *url, char ret_name[static MAX_NODE_NAME],
    char ret_action[static 16]);

/* Validate the values of the mac, uuid and serial query arguments (each may be NULL or
 * empty: iPXE expands an unset setting to ""). The MAC is required: it names the node
 * (discovered nodes are d-<mac>); UUID and serial are recorded.
 * -EINVAL with reterr naming the argument and value. */
int boot_query_parse(const char *mac, const char *uuid, const char *serial,
    struct boot_query *ret, struct dl_err *reterr);

/* Parse a Range header against a file of size bytes. Only a single range is honoured
 * (RFC 9110 §14.2 lets a server ignore others): returns 1 with [*ret_start, *ret_end]
 * inclusive, 0 when the header should be ignored (absent, multi-range, not bytes=),
 * -ERANGE when unsatisfiable (416). */
int http_parse_range(const char *h, uint64_t size, uint64_t *ret_start, uint64_t *ret_end);

/* Does an If-None-Match header match etag ("\"<hex>\"")? Handles lists, W/ and '*'. */
bool http_etag_matches(const char *if_none_match, const char *etag);
