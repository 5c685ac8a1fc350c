/* SPDX-License-Identifier: MIT */
/* bootsvc/http_path.c on arbitrary input. The first byte selects the parser:
 *   0 http_path_image, http_path_image_manifest and http_path_image_template   1 http_path_node_api   2 boot_query_parse (rest split on '\n'
 *   into mac, uuid, serial)   3 http_parse_range (next 8 bytes: size, little endian)
 *   4 http_etag_matches (rest split on '\n' into header and etag)   5 http_route_of
 *   6 http_path_node_image
 * What each returns is checked against its contract in http_path.h. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../bootsvc/http/http_path.h"
#include "fuzz_util.h"
#include "kind.h"
#include "relpath.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Split s at the first '\n' (replaced by NUL); returns the rest or NULL. */
static char *
split(char *s)
{
	char *nl = s ? strchr(s, '\n') : NULL;

	if (!nl)
		return NULL;
	*nl = '\0';
	return nl + 1;
}

static void
check_image(const char *s)
{
	char id[SHA256_HEX_SIZE];
	const char *role = NULL;

	if (http_path_image(s, id, &role) != 0)
		return;
	if (!sha256_hex_is_valid(id) || !role || kind_any_role(role) != role ||
	    strncmp(s, "/images/", 8) != 0 || strstr(s, "..") || strchr(s + 8 + 65, '/'))
		abort();
}

static void
check_manifest(const char *s)
{
	char id[SHA256_HEX_SIZE];

	if (http_path_image_manifest(s, id) != 0)
		return;
	if (!sha256_hex_is_valid(id) || strlen(s) != 8 + 64 + 9 || strncmp(s, "/images/", 8) ||
	    strcmp(s + 8 + 64, "/manifest") != 0 || memcmp(s + 8, id, 64) != 0)
		abort();
}

static void
check_template(const char *s)
{
	char id[SHA256_HEX_SIZE], path[MAX_TEMPLATE_PATH + 1];

	if (http_path_image_template(s, id, path) != 0)
		return;
	/* "..name" is a plain component; only ".." itself is not (relpath.h) */
	if (!sha256_hex_is_valid(id) || !relpath_is_plain(path) ||
	    strlen(path) > MAX_TEMPLATE_PATH || strncmp(s + 8 + 64, "/templates/", 11) != 0 ||
	    strcmp(s + 8 + 64 + 11, path) != 0)
		abort();
}

static void
check_api(const char *s)
{
	char name[MAX_NODE_NAME], action[16];

	if (http_path_node_api(s, name, action) != 0)
		return;
	if (!hostname_is_valid(name) || !action[0] || strlen(action) > 15 ||
	    strspn(action, "abcdefghijklmnopqrstuvwxyz") != strlen(action))
		abort();
}

static void
check_node_image(const char *s)
{
	char name[MAX_NODE_NAME];
	const char *role = NULL;

	if (http_path_node_image(s, name, &role) != 0)
		return;
	if (!hostname_is_valid(name) || !role || kind_any_role(role) != role ||
	    strncmp(s, "/images/n/", 10) != 0 || strstr(s, "..") ||
	    strchr(s + 10 + strlen(name) + 1, '/'))
		abort();
}

static void
check_query(char *s)
{
	char *uuid = split(s), *serial = split(uuid);
	struct boot_query q;
	struct dl_err e = { 0 };
	int r = boot_query_parse(s, uuid, serial, &q, &e);

	if (r < 0) {
		if (r != -EINVAL || e.code != r || !e.msg[0])
			abort();
		return;
	}
	if (!q.has_mac || strlen(q.mac_str) != MAC_STR_LEN - 1 ||
	    (q.has_uuid && strlen(q.uuid) != UUID_STR_LEN - 1) ||
	    (q.has_serial && !serial_is_valid(q.serial)))
		abort();
}

static void
check_range(const uint8_t *data, size_t size, const char *h)
{
	uint64_t fsize = 0, a = 0, b = 0;
	int r;

	for (size_t i = 0; i < 8 && i < size; i++)
		fsize |= (uint64_t)data[i] << (8 * i);
	r = http_parse_range(h, fsize, &a, &b);
	if (r == 1 && !(a <= b && b < fsize))
		abort();
	if (r != 1 && r != 0 && r != -ERANGE)
		abort();
}

static void
check_etag(char *s)
{
	char *etag = split(s);
	bool m = http_etag_matches(s, etag ? etag : "\"abc\"");

	/* the exact tag always matches itself */
	if (etag && etag[0] && !strchr(etag, ',') && !strchr(etag, '*') &&
	    strncmp(etag, "W/", 2) != 0 && strspn(etag, " \t") == 0 &&
	    etag[strlen(etag) - 1] != ' ' && etag[strlen(etag) - 1] != '\t' &&
	    !http_etag_matches(etag, etag))
		abort();
	(void)m;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t sel;
	char *s;

	if (size < 1 || size > 4096)
		return 0;
	sel = data[0] % 7;
	data++;
	size--;
	if (sel == 3) {
		size_t head = size < 8 ? size : 8;

		s = fuzz_cstr(data + head, size - head);
		if (!s)
			return 0;
		check_range(data, head, s);
		check_range(data, head, NULL);
		free(s);
		return 0;
	}
	s = fuzz_cstr(data, size);
	if (!s)
		return 0;
	switch (sel) {
	case 0:
		check_image(s);
		check_manifest(s);
		check_template(s);
		break;
	case 1:
		check_api(s);
		break;
	case 2:
		check_query(s);
		break;
	case 4:
		check_etag(s);
		break;
	case 6:
		check_node_image(s);
		break;
	default:
		if ((unsigned)http_route_of(s) >= _ROUTE_MAX)
			abort();
		break;
	}
	free(s);
	return 0;
}
