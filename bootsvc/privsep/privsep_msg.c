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
#define TGT_STATE_SIZE 24
#define TID_SIZE 4
/* A DISK_EXPORT's strings: node, golden. */
#define DISK_FIELDS 2
/* The most negative errno Linux uses (MAX_ERRNO): anything lower is not an errno. */
#define MIN_RC (-4095)

_Static_assert(MAX_PRIVSEP_TGT_SET > MAX_PRIVSEP_PATH, "a target is longer than a path");
_Static_assert(MAX_PRIVSEP_DISK_EXPORT > MAX_PRIVSEP_PATH, "an export is longer than a path");

bool
privsep_type_is_request(uint32_t type)
{
	return type >= PRIVSEP_DHCP_START && type <= PRIVSEP_QSD_STATUS;
}

/* struct tgt_target's strings in their wire order, with their arrays' sizes. */
#define TGT_FIELDS 8
static void
tgt_fields(const struct tgt_target *t, const char *ret[TGT_FIELDS], size_t size[TGT_FIELDS])
{
	ret[0] = t->iqn;            size[0] = sizeof(t->iqn);
	ret[1] = t->backing;        size[1] = sizeof(t->backing);
	ret[2] = t->initiator_name; size[2] = sizeof(t->initiator_name);
	ret[3] = t->initiator_addr; size[3] = sizeof(t->initiator_addr);
	ret[4] = t->chap_user;      size[4] = sizeof(t->chap_user);
	ret[5] = t->chap_secret;    size[5] = sizeof(t->chap_secret);
	ret[6] = t->mutual_user;    size[6] = sizeof(t->mutual_user);
	ret[7] = t->mutual_secret;  size[7] = sizeof(t->mutual_secret);
}

/* One NUL-terminated string at p[0..avail) of at most size-1 bytes: its length with the
 * NUL, or 0 if there is none in reach. */
static size_t
wire_string(const uint8_t *p, size_t avail, size_t size)
{
	const uint8_t *nul = memchr(p, '\0', avail < size ? avail : size);

	return nul ? (size_t)(nul - p) + 1 : 0;
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
	case PRIVSEP_TGT_SET: return "tgt_set";
	case PRIVSEP_TGT_DEL: return "tgt_del";
	case PRIVSEP_TGT_STATUS: return "tgt_status";
	case PRIVSEP_TGT_SESSIONS: return "tgt_sessions";
	case PRIVSEP_TGT_STATE: return "tgt_state";
	case PRIVSEP_TGT_LIST: return "tgt_list";
	case PRIVSEP_DISK_EXPORT: return "disk_export";
	case PRIVSEP_DISK_UNEXPORT: return "disk_unexport";
	case PRIVSEP_DISK_REMOVE: return "disk_remove";
	case PRIVSEP_QSD_STATUS: return "qsd_status";
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
	case PRIVSEP_TGT_STATUS:
	case PRIVSEP_TGT_SESSIONS:
	case PRIVSEP_QSD_STATUS:
		plen = 0;
		break;
	case PRIVSEP_TGT_DEL:
		plen = TID_SIZE;
		break;
	case PRIVSEP_DISK_EXPORT: {
		const char *f[DISK_FIELDS] = { m->node, m->golden };

		plen = 0;
		for (int i = 0; i < DISK_FIELDS; i++) {
			size_t l = f[i] ? strnlen(f[i], MAX_PRIVSEP_PATH) : 0;
			if (l == 0 || l >= MAX_PRIVSEP_PATH)
				return dl_err_set(reterr, -EMSGSIZE, "privsep %s: field %d empty or "
				    "longer than %d bytes", name, i, MAX_PRIVSEP_PATH - 1);
			plen += l + 1;
		}
		break;
	}
	case PRIVSEP_TGT_SET: {
		const char *f[TGT_FIELDS];
		size_t fs[TGT_FIELDS];

		tgt_fields(&m->target, f, fs);
		plen = TID_SIZE;
		for (int i = 0; i < TGT_FIELDS; i++) {
			size_t l = strnlen(f[i], fs[i]);
			if (l >= fs[i])
				return dl_err_set(reterr, -EINVAL, "privsep %s: field %d unterminated",
				    name, i);
			plen += l + 1;
		}
		break;
	}
	case PRIVSEP_TGT_STATE:
		if (m->pid < 0)
			return dl_err_set(reterr, -EINVAL, "privsep %s: pid %d", name, (int)m->pid);
		plen = TGT_STATE_SIZE;
		break;
	case PRIVSEP_TGT_LIST:
		if (m->n_sessions > MAX_TGT_SESSIONS)
			return dl_err_set(reterr, -EMSGSIZE, "privsep %s: %zu sessions, at most %d",
			    name, m->n_sessions, MAX_TGT_SESSIONS);
		plen = 4;
		for (size_t i = 0; i < m->n_sessions; i++) {
			const struct tgt_session *x = &m->sessions[i];
			size_t nl = strnlen(x->initiator_name, sizeof(x->initiator_name));
			size_t al = strnlen(x->addr, sizeof(x->addr));
			if (nl >= sizeof(x->initiator_name) || al >= sizeof(x->addr))
				return dl_err_set(reterr, -EINVAL, "privsep %s: session %zu unterminated",
				    name, i);
			plen += 4 + nl + 1 + al + 1;
		}
		break;
	case PRIVSEP_READ_CREDS:
	case PRIVSEP_READ_SITE:
	case PRIVSEP_READ_TLS_CA:
	case PRIVSEP_DISK_UNEXPORT:
	case PRIVSEP_DISK_REMOVE:
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
	case PRIVSEP_DISK_UNEXPORT:
	case PRIVSEP_DISK_REMOVE:
		if (m->data_len)
			memcpy(p, m->data, m->data_len);
		p[m->data_len] = '\0';
		break;
	case PRIVSEP_DISK_EXPORT: {
		const char *f[DISK_FIELDS] = { m->node, m->golden };

		for (int i = 0; i < DISK_FIELDS; i++) {
			size_t l = strlen(f[i]);
			memcpy(p, f[i], l + 1);
			p += l + 1;
		}
		break;
	}
	case PRIVSEP_STATUS:
	case PRIVSEP_TGT_STATE:
		put_u32(p, (uint32_t)m->pid);
		put_u32(p + 4, 0);
		memcpy(p + 8, &m->restarts, sizeof(m->restarts));
		if (m->type == PRIVSEP_TGT_STATE)
			memcpy(p + 16, &m->generation, sizeof(m->generation));
		break;
	case PRIVSEP_TGT_DEL:
		put_u32(p, m->tid);
		break;
	case PRIVSEP_TGT_SET: {
		const char *f[TGT_FIELDS];
		size_t fs[TGT_FIELDS];

		tgt_fields(&m->target, f, fs);
		put_u32(p, m->target.tid);
		p += TID_SIZE;
		for (int i = 0; i < TGT_FIELDS; i++) {
			size_t l = strlen(f[i]);
			memcpy(p, f[i], l + 1);
			p += l + 1;
		}
		break;
	}
	case PRIVSEP_TGT_LIST:
		put_u32(p, (uint32_t)m->n_sessions);
		p += 4;
		for (size_t i = 0; i < m->n_sessions; i++) {
			const struct tgt_session *x = &m->sessions[i];
			size_t nl = strlen(x->initiator_name), al = strlen(x->addr);
			put_u32(p, x->tid);
			memcpy(p + 4, x->initiator_name, nl + 1);
			memcpy(p + 4 + nl + 1, x->addr, al + 1);
			p += 4 + nl + 1 + al + 1;
		}
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
	case PRIVSEP_TGT_STATUS:
	case PRIVSEP_TGT_SESSIONS:
	case PRIVSEP_QSD_STATUS:
		if (plen != 0)
			return dl_err_set(reterr, -EBADMSG, "privsep %s: %u payload bytes, want 0",
			    name, (unsigned)plen);
		break;
	case PRIVSEP_READ_CREDS:
	case PRIVSEP_READ_SITE:
	case PRIVSEP_READ_TLS_CA:
	case PRIVSEP_DISK_UNEXPORT:
	case PRIVSEP_DISK_REMOVE:
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
	case PRIVSEP_TGT_STATE: {
		size_t want = type == PRIVSEP_STATUS ? STATUS_SIZE : TGT_STATE_SIZE;
		if (plen != want)
			return dl_err_set(reterr, -EBADMSG, "privsep %s: %u payload bytes, want %zu",
			    name, (unsigned)plen, want);
		m.pid = (int32_t)get_u32(p);
		if (m.pid < 0 || get_u32(p + 4) != 0)
			return dl_err_set(reterr, -EBADMSG, "privsep %s: bad pid or padding", name);
		memcpy(&m.restarts, p + 8, sizeof(m.restarts));
		if (type == PRIVSEP_TGT_STATE)
			memcpy(&m.generation, p + 16, sizeof(m.generation));
		break;
	}
	case PRIVSEP_TGT_DEL:
		if (plen != TID_SIZE)
			return dl_err_set(reterr, -EBADMSG, "privsep %s: %u payload bytes, want %d",
			    name, (unsigned)plen, TID_SIZE);
		m.tid = get_u32(p);
		break;
	case PRIVSEP_TGT_SET: {
		const char *f[TGT_FIELDS];
		size_t fs[TGT_FIELDS], at = TID_SIZE;

		if (plen < TID_SIZE + TGT_FIELDS)
			return dl_err_set(reterr, -EBADMSG, "privsep %s: %u payload bytes, too short",
			    name, (unsigned)plen);
		m.target.tid = get_u32(p);
		tgt_fields(&m.target, f, fs);
		for (int i = 0; i < TGT_FIELDS; i++) {
			size_t l = wire_string(p + at, plen - at, fs[i]);
			if (l == 0) {
				explicit_bzero(&m.target, sizeof(m.target));
				return dl_err_set(reterr, -EBADMSG,
				    "privsep %s: field %d not NUL-terminated within %zu bytes", name, i,
				    fs[i]);
			}
			memcpy((char *)f[i], p + at, l);
			at += l;
		}
		if (at != plen) {
			explicit_bzero(&m.target, sizeof(m.target));
			return dl_err_set(reterr, -EBADMSG, "privsep %s: %u bytes after the fields",
			    name, (unsigned)(plen - at));
		}
		break;
	}
	case PRIVSEP_DISK_EXPORT: {
		const char **f[DISK_FIELDS] = { &m.node, &m.golden };
		size_t at = 0;

		for (int i = 0; i < DISK_FIELDS; i++) {
			size_t l = wire_string(p + at, plen - at, MAX_PRIVSEP_PATH);
			if (l < 2)
				return dl_err_set(reterr, -EBADMSG, "privsep %s: field %d empty or not "
				    "NUL-terminated within %d bytes", name, i, MAX_PRIVSEP_PATH);
			*f[i] = (const char *)p + at;
			at += l;
		}
		if (at != plen)
			return dl_err_set(reterr, -EBADMSG, "privsep %s: %u bytes after the fields",
			    name, (unsigned)(plen - at));
		break;
	}
	case PRIVSEP_TGT_LIST: {
		size_t at = 4, n;

		if (plen < 4)
			return dl_err_set(reterr, -EBADMSG, "privsep %s: %u payload bytes, want >= 4",
			    name, (unsigned)plen);
		n = get_u32(p);
		if (n > MAX_TGT_SESSIONS)
			return dl_err_set(reterr, -EBADMSG, "privsep %s: %zu sessions, at most %d",
			    name, n, MAX_TGT_SESSIONS);
		for (size_t i = 0; i < n; i++) {
			struct tgt_session x;
			size_t nl, al;
			uint32_t tid;

			if (plen - at < 4 + 2)
				return dl_err_set(reterr, -EBADMSG, "privsep %s: session %zu cut short",
				    name, i);
			tid = get_u32(p + at);
			if (tid < 1 || tid > MAX_TGT_TARGETS)
				return dl_err_set(reterr, -EBADMSG, "privsep %s: session %zu: tid %u",
				    name, i, (unsigned)tid);
			at += 4;
			nl = wire_string(p + at, plen - at, sizeof(x.initiator_name));
			if (nl < 2)
				return dl_err_set(reterr, -EBADMSG, "privsep %s: session %zu: bad name",
				    name, i);
			at += nl;
			al = wire_string(p + at, plen - at, sizeof(x.addr));
			if (al < 2)
				return dl_err_set(reterr, -EBADMSG, "privsep %s: session %zu: bad address",
				    name, i);
			at += al;
		}
		if (at != plen)
			return dl_err_set(reterr, -EBADMSG, "privsep %s: %u bytes after the sessions",
			    name, (unsigned)(plen - at));
		m.n_sessions = n;
		m.data = (const char *)p + 4;
		m.data_len = plen - 4;
		break;
	}
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

size_t
privsep_msg_sessions(const struct privsep_msg *m, struct tgt_session *ret, size_t max)
{
	const uint8_t *p = (const uint8_t *)m->data;
	size_t n = m->n_sessions < max ? m->n_sessions : max;

	/* decode() checked every record's bounds and NULs. */
	for (size_t i = 0; i < n; i++) {
		size_t nl, al;

		memset(&ret[i], 0, sizeof(ret[i]));
		ret[i].tid = get_u32(p);
		p += 4;
		nl = strlen((const char *)p);
		memcpy(ret[i].initiator_name, p, nl + 1);
		p += nl + 1;
		al = strlen((const char *)p);
		memcpy(ret[i].addr, p, al + 1);
		p += al + 1;
	}
	return n;
}
