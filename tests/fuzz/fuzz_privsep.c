/* SPDX-License-Identifier: MIT */
/* bootsvc/privsep/privsep_msg.c on arbitrary datagrams, as either process receives them:
 * the first byte selects the check.
 *   0: decode, and on success the contract of privsep_msg.h: strings NUL-terminated at
 *      data_len with no NUL before it (a disk_export's node and golden non-empty, each
 *      within MAX_PRIVSEP_PATH), lengths within their caps, rc and pid in range;
 *      a decoded message encodes back to the same bytes.
 *   1: the parent's path policy (privsep_creds_path_check) with the rest split at the
 *      first '\n' into dir and path: an accepted path is under dir with no ".." part.
 *   2: the parent's target policy (privsep_tgt_check) on a target whose tid is the next
 *      byte times 300 and whose fields are the rest split at '\n' (iqn, backing, initiator, address, user, secret, mutual user,
 *      mutual secret), prefix "iqn.2026-12.local.diskless", disk_dir "/srv/disks": an
 *      accepted target has its names under the prefix, a backing path under disk_dir with
 *      no "." or ".." part, and secrets of sane length.
 * The input after the selector is the datagram (or the two strings). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../bootsvc/privsep/privsep_msg.h"
#include "../../bootsvc/privsep/privsep_policy.h"
#include "fuzz_util.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out[MAX_PRIVSEP_MSG];
static struct tgt_session sessions[MAX_TGT_SESSIONS];

/* A string field of a decoded target: NUL-terminated inside its array. */
static void
check_field(const char *f, size_t size)
{
	if (strnlen(f, size) >= size)
		abort();
}

static void
check_decode(const uint8_t *data, size_t size)
{
	struct dl_err e = { 0 };
	struct privsep_msg m;
	size_t len = 0;

	if (privsep_msg_decode(data, size, &m, &e) != 0) {
		if (e.code != -EBADMSG || !e.msg[0])
			abort();
		return;
	}
	switch (m.type) {
	case PRIVSEP_DISK_EXPORT:
		if (!m.node || !m.golden || !m.node[0] || !m.golden[0] ||
		    strlen(m.node) >= MAX_PRIVSEP_PATH || strlen(m.golden) >= MAX_PRIVSEP_PATH ||
		    m.data_len != 0)
			abort();
		break;
	case PRIVSEP_READ_CREDS:
	case PRIVSEP_READ_SITE:
	case PRIVSEP_READ_TLS_CA:
	case PRIVSEP_DISK_UNEXPORT:
	case PRIVSEP_DISK_REMOVE:
	case PRIVSEP_RESULT:
		if (m.data[m.data_len] != '\0' || strlen(m.data) != m.data_len)
			abort();
		if (m.type != PRIVSEP_RESULT &&
		    (m.data_len == 0 || m.data_len >= MAX_PRIVSEP_PATH))
			abort();
		if (m.type == PRIVSEP_RESULT && (m.rc > 0 || m.rc < -4095 ||
		    m.data_len > MAX_PRIVSEP_TEXT))
			abort();
		break;
	case PRIVSEP_STATUS:
	case PRIVSEP_TGT_STATE:
		if (m.pid < 0)
			abort();
		break;
	case PRIVSEP_TGT_DEL:
		break;
	case PRIVSEP_TGT_SET:
		check_field(m.target.iqn, sizeof(m.target.iqn));
		check_field(m.target.backing, sizeof(m.target.backing));
		check_field(m.target.initiator_name, sizeof(m.target.initiator_name));
		check_field(m.target.initiator_addr, sizeof(m.target.initiator_addr));
		check_field(m.target.chap_user, sizeof(m.target.chap_user));
		check_field(m.target.chap_secret, sizeof(m.target.chap_secret));
		check_field(m.target.mutual_user, sizeof(m.target.mutual_user));
		check_field(m.target.mutual_secret, sizeof(m.target.mutual_secret));
		break;
	case PRIVSEP_TGT_LIST: {
		size_t n = privsep_msg_sessions(&m, sessions, MAX_TGT_SESSIONS);
		if (n != m.n_sessions || n > MAX_TGT_SESSIONS)
			abort();
		for (size_t i = 0; i < n; i++) {
			if (sessions[i].tid < 1 || sessions[i].tid > MAX_TGT_TARGETS ||
			    !sessions[i].initiator_name[0] || !sessions[i].addr[0])
				abort();
			check_field(sessions[i].initiator_name, sizeof(sessions[i].initiator_name));
			check_field(sessions[i].addr, sizeof(sessions[i].addr));
		}
		m.sessions = sessions;
		break;
	}
	case PRIVSEP_FILE:
		if (m.data_len > MAX_PRIVSEP_FILE || m.mode > 07777)
			abort();
		break;
	default:
		if (!privsep_type_is_request(m.type) || m.data_len != 0)
			abort();
	}
	/* What was accepted is what would have been sent. */
	if (privsep_msg_encode(&m, out, sizeof(out), &len, &e) != 0 || len != size ||
	    memcmp(out, data, size) != 0)
		abort();
}

/* A "." or ".." component anywhere in p ("...." is a name, not a way up). */
static bool
has_dot_component(const char *p)
{
	for (const char *c = p; *c;) {
		size_t n = strcspn(c, "/");

		if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return true;
		c += n;
		if (*c == '/')
			c++;
	}
	return false;
}

static void
check_policy(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size), *path;
	const char *rel = NULL;
	struct dl_err e = { 0 };
	size_t dlen;

	if (!s)
		return;
	path = strchr(s, '\n');
	if (!path) {
		free(s);
		return;
	}
	*path++ = '\0';
	if (privsep_creds_path_check(s, path, &rel, &e) == 0) {
		dlen = strlen(s);
		while (dlen > 1 && s[dlen - 1] == '/')
			dlen--;
		if (s[0] != '/' || path[0] != '/' || !rel || !*rel || rel < path ||
		    rel > path + strlen(path) || strncmp(path, s, dlen == 1 ? 1 : dlen) != 0 ||
		    rel[-1] != '/' || has_dot_component(rel) || strstr(rel, "//") ||
		    strlen(path) >= MAX_PRIVSEP_PATH)
			abort();
	} else if (e.code != -EACCES || rel != NULL) {
		abort();
	}
	free(s);
}

/* Copy the next '\n'-separated field of *s into f (cut to size-1). */
static void
next_field(char **s, char *f, size_t size)
{
	char *e = *s ? strchr(*s, '\n') : NULL;

	if (!*s)
		return;
	if (e)
		*e = '\0';
	(void)snprintf(f, size, "%s", *s);
	*s = e ? e + 1 : NULL;
}

static void
check_tgt_policy(const uint8_t *data, size_t size)
{
	static const char prefix[] = "iqn.2026-12.local.diskless";
	static const char dir[] = "/srv/disks";
	/* the first byte picks the tid (0 and above MAX_TGT_TARGETS too), the rest the fields */
	char *s = size ? fuzz_cstr(data + 1, size - 1) : NULL, *c = s;
	struct tgt_target t = { .tid = size ? data[0] * 300u : 1 };
	struct dl_err e = { 0 };

	if (!s)
		return;
	next_field(&c, t.iqn, sizeof(t.iqn));
	next_field(&c, t.backing, sizeof(t.backing));
	next_field(&c, t.initiator_name, sizeof(t.initiator_name));
	next_field(&c, t.initiator_addr, sizeof(t.initiator_addr));
	next_field(&c, t.chap_user, sizeof(t.chap_user));
	next_field(&c, t.chap_secret, sizeof(t.chap_secret));
	next_field(&c, t.mutual_user, sizeof(t.mutual_user));
	next_field(&c, t.mutual_secret, sizeof(t.mutual_secret));
	if (privsep_tgt_check(prefix, dir, &t, &e) == 0) {
		if (t.tid < 1 || t.tid > MAX_TGT_TARGETS ||
		    strncmp(t.iqn, prefix, sizeof(prefix) - 1) != 0 ||
		    t.iqn[sizeof(prefix) - 1] != ':' ||
		    strncmp(t.initiator_name, t.iqn, strlen(t.iqn)) != 0 ||
		    strncmp(t.backing, "/srv/disks/", 11) != 0 || has_dot_component(t.backing) ||
		    strstr(t.backing, "//") || strlen(t.chap_secret) < MIN_CHAP_SECRET ||
		    strchr(t.chap_user, ' ') || strchr(t.chap_secret, '"') ||
		    (t.mutual_user[0] && streq(t.mutual_secret, t.chap_secret)))
			abort();
	} else if (e.code != -EACCES || !e.msg[0]) {
		abort();
	}
	explicit_bzero(&t, sizeof(t));
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		check_decode(data + 1, size - 1);
		break;
	case 1:
		check_policy(data + 1, size - 1);
		break;
	case 2:
		check_tgt_policy(data + 1, size - 1);
		break;
	}
	return 0;
}
