/* SPDX-License-Identifier: MIT */
/* The privsep codec: exact lengths per type, both ways (OpenBSD's IMSG_SIZE_CHECK; a
 * wrong size or an unknown type is an error, never a default, CONVENTIONS §8). */
#include <string.h>

#include "macro.h"
#include "privsep/privsep_msg.h"

/* Fixed payload sizes. */
#define STATUS_SIZE 16
#define RC_SIZE 4
#define MODE_SIZE 4
#define MAX_MODE 07777
/* The most negative errno Linux uses (MAX_ERRNO): anything lower is not an errno. */
#define MIN_RC (-4095)

bool
privsep_type_is_request(uint32_t type)
{
	return type >= PRIVSEP_DHCP_START && type <= PRIVSEP_READ_TLS_CA;
}

const char *
privsep_type_name(uint32_t type)
{
	switch (type) {
	case PRIVSEP_DHCP_START: return "dhcp_start";
	case PRIVSEP_DHCP_RELOAD: return "dhcp_reload";
	case PRIVSEP_DHCP_STATUS: return "dhcp_status";
	case PRIVSEP_READ_CREDS: return "read_creds";
	case PRIVSEP_READ_CONFIG: return "read_config";
	case PRIVSEP_READ_SITE: return "read_site";
	case PRIVSEP_READ_TLS_CA: return "read_tls_ca";
	case PRIVSEP_RESULT: return "result";
	case PRIVSEP_STATUS: return "status";
	case PRIVSEP_FILE: return "file";
	default: return "unknown";
	}
}

static void
put_u32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static uint32_t
get_u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* A string of len bytes with no NUL inside. */
static bool
has_nul(const char *s, size_t len)
{
	return len && memchr(s, '\0', len) != NULL;
}

int
privsep_msg_encode(const struct privsep_msg *m, uint8_t *buf, size_t size,
    size_t *ret_len, struct dl_err *reterr)
{
	const char *name = privsep_type_name(m->type);
	size_t plen, max;
	uint8_t *p = buf + PRIVSEP_HDR_SIZE;

	switch (m->type) {
	case PRIVSEP_DHCP_START:
	case PRIVSEP_DHCP_RELOAD:
	case PRIVSEP_DHCP_STATUS:
	case PRIVSEP_READ_CONFIG:
		plen = 0;
		break;
	case PRIVSEP_READ_CREDS:
	case PRIVSEP_READ_SITE:
	case PRIVSEP_READ_TLS_CA:
	case PRIVSEP_RESULT:
		max = m->type == PRIVSEP_RESULT ? MAX_PRIVSEP_TEXT : MAX_PRIVSEP_PATH - 1;
		if (m->data_len > max)
			return dl_err_set(reterr, -EMSGSIZE, "privsep %s: %zu bytes, at most %zu",
			    name, m->data_len, max);
		if (has_nul(m->data, m->data_len))
			return dl_err_set(reterr, -EINVAL, "privsep %s: a NUL inside the string",
			    name);
		if (m->type != PRIVSEP_RESULT && m->data_len == 0)
			return dl_err_set(reterr, -EINVAL, "privsep %s: empty path", name);
		if (m->type == PRIVSEP_RESULT && (m->rc > 0 || m->rc < MIN_RC))
			return dl_err_set(reterr, -EINVAL, "privsep %s: rc %d is not 0 or -errno",
			    name, (int)m->rc);
		plen = (m->type == PRIVSEP_RESULT ? RC_SIZE : 0) + m->data_len + 1;
		break;
	case PRIVSEP_STATUS:
		if (m->pid < 0)
			return dl_err_set(reterr, -EINVAL, "privsep %s: pid %d", name, (int)m->pid);
		plen = STATUS_SIZE;
		break;
	case PRIVSEP_FILE:
		if (m->data_len > MAX_PRIVSEP_FILE)
			return dl_err_set(reterr, -EMSGSIZE, "privsep %s: %zu bytes, at most %d",
			    name, m->data_len, MAX_PRIVSEP_FILE);
		if (m->mode > MAX_MODE)
			return dl_err_set(reterr, -EINVAL, "privsep %s: mode %o", name,
			    (unsigned)m->mode);
		plen = MODE_SIZE + m->data_len;
		break;
	default:
		return dl_err_set(reterr, -EINVAL, "privsep: unknown message type %u",
		    (unsigned)m->type);
	}
	if (size < PRIVSEP_HDR_SIZE || plen > size - PRIVSEP_HDR_SIZE)
		return dl_err_set(reterr, -EMSGSIZE, "privsep %s: %zu bytes do not fit in %zu",
		    name, plen + PRIVSEP_HDR_SIZE, size);
	put_u32(buf, (uint32_t)m->type);
	put_u32(buf + 4, (uint32_t)plen);
	switch (m->type) {
	case PRIVSEP_RESULT:
		put_u32(p, (uint32_t)m->rc);
		p += RC_SIZE;
		fallthrough;
	case PRIVSEP_READ_CREDS:
	case PRIVSEP_READ_SITE:
	case PRIVSEP_READ_TLS_CA:
		if (m->data_len)
			memcpy(p, m->data, m->data_len);
		p[m->data_len] = '\0';
		break;
	case PRIVSEP_STATUS:
		put_u32(p, (uint32_t)m->pid);
		put_u32(p + 4, 0);
		memcpy(p + 8, &m->restarts, sizeof(m->restarts));
		break;
	case PRIVSEP_FILE:
		put_u32(p, m->mode);
		if (m->data_len)
			memcpy(p + MODE_SIZE, m->data, m->data_len);
		break;
	default:
		break;
	}
	*ret_len = PRIVSEP_HDR_SIZE + plen;
	return 0;
}

/* A string payload p[0..len): its only NUL is its last byte. */
static int
decode_string(const char *name, const uint8_t *p, size_t len, size_t max, const char **ret,
    size_t *ret_len, struct dl_err *reterr)
{
	if (len == 0 || p[len - 1] != '\0')
		return dl_err_set(reterr, -EBADMSG, "privsep %s: string not NUL-terminated",
		    name);
	if (len - 1 > max)
		return dl_err_set(reterr, -EBADMSG, "privsep %s: string of %zu bytes, at most %zu",
		    name, len - 1, max);
	if (memchr(p, '\0', len - 1))
		return dl_err_set(reterr, -EBADMSG, "privsep %s: a NUL inside the string", name);
	*ret = (const char *)p;
	*ret_len = len - 1;
	return 0;
}

int
privsep_msg_decode(const uint8_t *buf, size_t len, struct privsep_msg *ret,
    struct dl_err *reterr)
{
	struct privsep_msg m = { 0 };
	uint32_t type, plen;
	const uint8_t *p = buf + PRIVSEP_HDR_SIZE;
	const char *name;
	int r;

	if (len < PRIVSEP_HDR_SIZE)
		return dl_err_set(reterr, -EBADMSG, "privsep: %zu bytes, shorter than a header",
		    len);
	type = get_u32(buf);
	plen = get_u32(buf + 4);
	name = privsep_type_name(type);
	if (plen != len - PRIVSEP_HDR_SIZE)
		return dl_err_set(reterr, -EBADMSG,
		    "privsep %s: header says %u payload bytes, datagram has %zu", name,
		    (unsigned)plen, len - PRIVSEP_HDR_SIZE);
	m.type = (enum privsep_type)type;
	switch (type) {
	case PRIVSEP_DHCP_START:
	case PRIVSEP_DHCP_RELOAD:
	case PRIVSEP_DHCP_STATUS:
	case PRIVSEP_READ_CONFIG:
		if (plen != 0)
			return dl_err_set(reterr, -EBADMSG, "privsep %s: %u payload bytes, want 0",
			    name, (unsigned)plen);
		break;
	case PRIVSEP_READ_CREDS:
	case PRIVSEP_READ_SITE:
	case PRIVSEP_READ_TLS_CA:
		r = decode_string(name, p, plen, MAX_PRIVSEP_PATH - 1, &m.data, &m.data_len,
		    reterr);
		if (r < 0)
			return r;
		if (m.data_len == 0)
			return dl_err_set(reterr, -EBADMSG, "privsep %s: empty path", name);
		break;
	case PRIVSEP_RESULT:
		if (plen < RC_SIZE + 1)
			return dl_err_set(reterr, -EBADMSG, "privsep %s: %u payload bytes, want >= %d",
			    name, (unsigned)plen, RC_SIZE + 1);
		m.rc = (int32_t)get_u32(p);
		if (m.rc > 0 || m.rc < MIN_RC)
			return dl_err_set(reterr, -EBADMSG, "privsep %s: rc %d is not 0 or -errno",
			    name, (int)m.rc);
		r = decode_string(name, p + RC_SIZE, plen - RC_SIZE, MAX_PRIVSEP_TEXT, &m.data,
		    &m.data_len, reterr);
		if (r < 0)
			return r;
		break;
	case PRIVSEP_STATUS:
		if (plen != STATUS_SIZE)
			return dl_err_set(reterr, -EBADMSG, "privsep %s: %u payload bytes, want %d",
			    name, (unsigned)plen, STATUS_SIZE);
		m.pid = (int32_t)get_u32(p);
		if (m.pid < 0 || get_u32(p + 4) != 0)
			return dl_err_set(reterr, -EBADMSG, "privsep %s: bad pid or padding", name);
		memcpy(&m.restarts, p + 8, sizeof(m.restarts));
		break;
	case PRIVSEP_FILE:
		if (plen < MODE_SIZE)
			return dl_err_set(reterr, -EBADMSG, "privsep %s: %u payload bytes, want >= %d",
			    name, (unsigned)plen, MODE_SIZE);
		if (plen - MODE_SIZE > MAX_PRIVSEP_FILE)
			return dl_err_set(reterr, -EBADMSG, "privsep %s: %u bytes, at most %d", name,
			    (unsigned)(plen - MODE_SIZE), MAX_PRIVSEP_FILE);
		m.mode = get_u32(p);
		if (m.mode > MAX_MODE)
			return dl_err_set(reterr, -EBADMSG, "privsep %s: mode %o", name,
			    (unsigned)m.mode);
		m.data = (const char *)p + MODE_SIZE;
		m.data_len = plen - MODE_SIZE;
		break;
	default:
		return dl_err_set(reterr, -EBADMSG, "privsep: unknown message type %u",
		    (unsigned)type);
	}
	*ret = m;
	return 0;
}
