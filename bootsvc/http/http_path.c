/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "http/http_path.h"
#include "kind.h"
#include "name_table.h"
#include "relpath.h"

static const char *const route_names[_ROUTE_MAX] = {
	[ROUTE_OTHER] = "other", [ROUTE_IPXE] = "ipxe", [ROUTE_IMAGES] = "images",
	[ROUTE_API] = "api", [ROUTE_METRICS] = "metrics",
};

const char *
http_route_name(enum http_route r)
{
	return NAME_OF(route_names, r, "other");
}

static bool
starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

enum http_route
http_route_of(const char *url)
{
	if (starts_with(url, "/ipxe/"))
		return ROUTE_IPXE;
	if (starts_with(url, "/images/"))
		return ROUTE_IMAGES;
	if (starts_with(url, "/api/v1/"))
		return ROUTE_API;
	if (strcmp(url, "/metrics") == 0)
		return ROUTE_METRICS;
	return ROUTE_OTHER;
}

/* "/images/<64 lowercase hex>/<rest>": the id into ret_id and where rest starts; NULL
 * for anything else. */
static const char *
id_segment(const char *url, char ret_id[static SHA256_HEX_SIZE])
{
	const char *p, *slash;

	if (!starts_with(url, "/images/"))
		return NULL;
	p = url + strlen("/images/");
	slash = strchr(p, '/');
	if (!slash || slash - p != SHA256_HEX_SIZE - 1)
		return NULL;
	for (const char *c = p; c < slash; c++)
		if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
			return NULL;
	memcpy(ret_id, p, SHA256_HEX_SIZE - 1);
	ret_id[SHA256_HEX_SIZE - 1] = '\0';
	return slash + 1;
}

int
http_path_image_manifest(const char *url, char ret_id[static SHA256_HEX_SIZE])
{
	char id[SHA256_HEX_SIZE];
	const char *rest = id_segment(url, id);

	if (!rest || strcmp(rest, "manifest") != 0)
		return -ENOENT;
	memcpy(ret_id, id, SHA256_HEX_SIZE);
	return 0;
}

int
http_path_image_template(const char *url, char ret_id[static SHA256_HEX_SIZE],
    char ret_path[static MAX_TEMPLATE_PATH + 1])
{
	static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-+~@=,/";
	char id[SHA256_HEX_SIZE];
	const char *rest = id_segment(url, id), *p;

	if (!rest || !starts_with(rest, "templates/"))
		return -ENOENT;
	p = rest + strlen("templates/");
	if (strlen(p) > MAX_TEMPLATE_PATH || p[strspn(p, safe)] != '\0' || !relpath_is_plain(p))
		return -ENOENT;
	memcpy(ret_id, id, SHA256_HEX_SIZE);
	strcpy(ret_path, p);
	return 0;
}

int
http_path_image(const char *url, char ret_id[static SHA256_HEX_SIZE], const char **ret_role)
{
	char id[SHA256_HEX_SIZE];
	const char *rest = id_segment(url, id), *role;

	if (!rest)
		return -ENOENT;
	role = kind_any_role(rest);
	if (!role)
		return -ENOENT;
	memcpy(ret_id, id, SHA256_HEX_SIZE);
	*ret_role = role;
	return 0;
}

/* "<prefix><name>/<rest>" with a valid node name: the name into ret_name and where rest
 * starts; NULL for anything else. */
static const char *
node_segment(const char *url, const char *prefix, char ret_name[static MAX_NODE_NAME])
{
	const char *p, *slash;

	if (!starts_with(url, prefix))
		return NULL;
	p = url + strlen(prefix);
	slash = strchr(p, '/');
	if (!slash || slash == p || (size_t)(slash - p) >= MAX_NODE_NAME)
		return NULL;
	memcpy(ret_name, p, (size_t)(slash - p));
	ret_name[slash - p] = '\0';
	return hostname_is_valid(ret_name) ? slash + 1 : NULL;
}

int
http_path_node_image(const char *url, char ret_name[static MAX_NODE_NAME], const char **ret_role)
{
	const char *rest, *role;
	char name[MAX_NODE_NAME];

	if (!(rest = node_segment(url, "/images/n/", name)))
		return -ENOENT;
	role = kind_any_role(rest);
	if (!role)
		return -ENOENT;
	strcpy(ret_name, name);
	*ret_role = role;
	return 0;
}

int
http_path_node_api(const char *url, char ret_name[static MAX_NODE_NAME], char ret_action[static 16])
{
	const char *action;
	char name[MAX_NODE_NAME];

	if (!(action = node_segment(url, "/api/v1/nodes/", name)))
		return -ENOENT;
	if (strlen(action) == 0 || strlen(action) > 15 || strspn(action,
	    "abcdefghijklmnopqrstuvwxyz") != strlen(action))
		return -ENOENT;
	strcpy(ret_name, name);
	strcpy(ret_action, action);
	return 0;
}

int
boot_query_parse(const char *mac, const char *uuid, const char *serial, struct boot_query *ret,
    struct dl_err *reterr)
{
	struct boot_query q = { 0 };
	int r;

	if (mac && *mac) {
		if ((r = parse_mac(mac, &q.mac, reterr)) < 0)
			return dl_err_prefix(reterr, "query argument mac"), r;
		mac_to_string(&q.mac, q.mac_str);
		q.has_mac = true;
	}
	if (uuid && *uuid) {
		if ((r = parse_uuid(uuid, q.uuid, reterr)) < 0)
			return dl_err_prefix(reterr, "query argument uuid"), r;
		q.has_uuid = true;
	}
	if (serial && *serial) {
		if (!serial_is_valid(serial) || strlen(serial) >= sizeof(q.serial))
			return dl_err_set(reterr, -EINVAL,
			    "query argument serial is not a printable token of at most %zu chars",
			    sizeof(q.serial) - 1);
		strcpy(q.serial, serial);
		q.has_serial = true;
	}
	if (!q.has_mac)
		return dl_err_set(reterr, -EINVAL, "query argument mac is required");
	*ret = q;
	return 0;
}

static int
parse_dec(const char **p, const char *end, uint64_t *ret)
{
	uint64_t v = 0;
	const char *s = *p;

	if (s == end || *s < '0' || *s > '9')
		return -EINVAL;
	while (s < end && *s >= '0' && *s <= '9') {
		if (v > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*s - '0');
		s++;
	}
	*p = s;
	*ret = v;
	return 0;
}

int
http_parse_range(const char *h, uint64_t size, uint64_t *ret_start, uint64_t *ret_end)
{
	const char *p, *end;
	uint64_t a = 0, b = 0;
	bool has_a, has_b;

	if (!h || strncmp(h, "bytes=", 6) != 0)
		return 0;
	p = h + 6;
	end = p + strlen(p);
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (memchr(p, ',', (size_t)(end - p)))
		return 0; /* multi-range: answer the whole file */
	has_a = p < end && *p != '-';
	if (has_a && parse_dec(&p, end, &a) < 0)
		return 0;
	if (p == end || *p != '-')
		return 0;
	p++;
	has_b = p < end;
	if (has_b && (parse_dec(&p, end, &b) < 0 || p != end))
		return 0;
	if (!has_a && !has_b)
		return 0;
	if (!has_a) { /* suffix: the last b bytes */
		if (b == 0 || size == 0)
			return -ERANGE;
		*ret_start = b >= size ? 0 : size - b;
		*ret_end = size - 1;
		return 1;
	}
	if (has_b && b < a)
		return 0; /* invalid: RFC 9110 says ignore */
	if (a >= size)
		return -ERANGE;
	*ret_start = a;
	*ret_end = (!has_b || b >= size) ? size - 1 : b;
	return 1;
}

bool
http_etag_matches(const char *inm, const char *etag)
{
	size_t elen = strlen(etag);
	const char *p = inm;

	if (!inm)
		return false;
	while (*p) {
		const char *start, *q;
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '*')
			return true;
		if (strncmp(p, "W/", 2) == 0)
			p += 2; /* weak comparison is what If-None-Match uses (RFC 9110 §13.1.2) */
		start = p;
		q = strchr(p, ',');
		if (!q)
			q = p + strlen(p);
		while (q > start && (q[-1] == ' ' || q[-1] == '\t'))
			q--;
		if ((size_t)(q - start) == elen && memcmp(start, etag, elen) == 0)
			return true;
		p = strchr(p, ',');
		if (!p)
			break;
	}
	return false;
}
