/* SPDX-License-Identifier: MIT */
/* tgtadm's target listing (tgt_show.h). Its shape, from tgt 1.0.85's usr/target.c:
 *
 *   Target 7: iqn.2026-12.local.diskless:n1          column 0
 *       I_T nexus information:                       column 4: a section
 *           I_T nexus: 6                             column 8: a session (sid)
 *               Initiator: <name> alias: <alias>     column 12
 *               Connection: 0                        column 12 (cid)
 *                   IP Address: 10.75.0.122          column 16
 *       LUN information: ...                         other sections: skipped
 *
 * Only the nexus section is read; everything else but the Target lines is skipped, so a
 * later tgt that prints more does not break the parse. */
#include <ctype.h>
#include <string.h>

#include "iscsi/tgt_show.h"
#include "macro.h"
#include "parse.h"

/* A line of tgtadm's output: names are 223 bytes at most, so a longer line is not one of
 * the lines read here (an over-long Initiator line marks its session's name bad). */
#define MAX_SHOW_LINE 512

enum section {
	SEC_NONE,   /* before the first Target line */
	SEC_OTHER,  /* a target's section other than the nexus one */
	SEC_NEXUS,  /* "I_T nexus information:" */
};

struct state {
	enum section sec;
	bool in_target;
	uint32_t tid;
	bool in_nexus;          /* an "I_T nexus: N" line was seen in this target */
	uint32_t sid;
	bool bad_name;          /* this nexus's initiator name is not one to trust */
	bool have_conn;
	uint32_t cid;
	char initiator[MAX_ISCSI_NAME];
	size_t ntids, nconns;
	unsigned lineno;
};

static size_t
indent_of(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && s[i] == ' ')
		i++;
	return i;
}

/* "prefix<number>" with nothing after the number: *ret, within [min, max]. */
static bool
number_after(const char *s, const char *prefix, uint64_t min, uint64_t max, uint64_t *ret)
{
	size_t pl = strlen(prefix);
	struct dl_err err = { 0 };

	if (strncmp(s, prefix, pl) != 0 || !isdigit((unsigned char)s[pl]))
		return false;
	return parse_u64(s + pl, min, max, ret, &err) == 0;
}

/* An iSCSI name as an initiator may send it (RFC 3720 3.2.6: after stringprep, letters,
 * digits, '-', '.', ':'; '_' and ',' seen in the wild), 1..MAX_ISCSI_NAME-1 bytes. Nothing
 * else reaches a log line or the child. */
static bool
name_is_sane(const char *s, size_t len)
{
	if (len == 0 || len >= MAX_ISCSI_NAME)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || strchr(".:-_,", s[i])))
			return false;
	return true;
}

/* How often needle occurs in s. */
static unsigned
count_of(const char *s, const char *needle)
{
	unsigned n = 0;

	for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static int
bad(struct state *st, const char *why, struct dl_err *reterr)
{
	return dl_err_set(reterr, -EBADMSG, "tgtadm show, line %u: %s", st->lineno, why);
}

static int
parse_line(struct state *st, const char *line, size_t len, uint32_t *ret_tids,
    size_t max_tids, struct tgt_show_conn *ret_conns, size_t max_conns,
    struct dl_err *reterr)
{
	char buf[MAX_SHOW_LINE];
	size_t ind = indent_of(line, len);
	const char *s;
	uint64_t v;

	if (ind == len)
		return 0; /* blank */
	if (len >= sizeof(buf)) {
		/* Only a nexus line matters, and of those only an Initiator line can be this
		 * long (the initiator chose its name and alias): that session's name is
		 * marked bad. Any other long line (a long backing path) is skipped. */
		if (st->sec == SEC_NEXUS && ind > 4 && st->in_nexus &&
		    len - ind > 11 && strncmp(line + ind, "Initiator: ", 11) == 0) {
			st->bad_name = true;
			(void)snprintf(st->initiator, sizeof(st->initiator), "?");
		}
		return 0;
	}
	memcpy(buf, line, len);
	buf[len] = '\0';
	s = buf + ind;
	if (ind == 0) {
		if (strncmp(s, "Target ", 7) != 0) {
			st->sec = st->in_target ? SEC_OTHER : SEC_NONE;
			return 0;
		}
		{
			const char *colon = strchr(s + 7, ':');
			char num[16];
			size_t nl = colon ? (size_t)(colon - (s + 7)) : 0;
			struct dl_err e = { 0 };

			if (!colon || nl == 0 || nl >= sizeof(num))
				return bad(st, "a Target line without 'Target <tid>:'", reterr);
			memcpy(num, s + 7, nl);
			num[nl] = '\0';
			if (parse_u64(num, 1, MAX_TGT_TARGETS, &v, &e) < 0)
				return bad(st, "a tid out of 1..65535", reterr);
		}
		if (st->ntids >= max_tids && ret_tids)
			return dl_err_set(reterr, -ENOBUFS, "tgtadm show: more than %zu targets",
			    max_tids);
		if (ret_tids)
			ret_tids[st->ntids] = (uint32_t)v;
		st->ntids++;
		st->in_target = true;
		st->tid = (uint32_t)v;
		st->sec = SEC_OTHER;
		st->in_nexus = false;
		st->have_conn = false;
		return 0;
	}
	if (ind <= 4) {
		if (!st->in_target)
			return 0; /* nothing before the first target is read */
		st->sec = streq(s, "I_T nexus information:") ? SEC_NEXUS : SEC_OTHER;
		st->in_nexus = false;
		st->have_conn = false;
		return 0;
	}
	if (st->sec != SEC_NEXUS)
		return 0;
	if (number_after(s, "I_T nexus: ", 0, UINT32_MAX, &v)) {
		st->in_nexus = true;
		st->sid = (uint32_t)v;
		st->have_conn = false;
		st->bad_name = false;
		st->initiator[0] = '\0';
		return 0;
	}
	if (strncmp(s, "I_T nexus: ", 11) == 0)
		return bad(st, "an I_T nexus line without a number", reterr);
	if (!st->in_nexus)
		return bad(st, "a nexus field before any 'I_T nexus:' line", reterr);
	if (strncmp(s, "Initiator: ", 11) == 0) {
		const char *n = s + 11;
		size_t nl = strcspn(n, " ");

		/* "<name> alias: <alias>", both the initiator's choice and unchecked by tgt: a
		 * name outside the iSCSI characters, or a second " alias: " that makes the
		 * split ambiguous, marks the session's name bad (the parent drops it) rather
		 * than failing the listing, which one node could otherwise break for all. */
		st->bad_name = !name_is_sane(n, nl) || count_of(n + nl, " alias: ") != 1 ||
		    strncmp(n + nl, " alias: ", 8) != 0;
		if (st->bad_name) {
			(void)snprintf(st->initiator, sizeof(st->initiator), "?");
			return 0;
		}
		memcpy(st->initiator, n, nl);
		st->initiator[nl] = '\0';
		return 0;
	}
	if (number_after(s, "Connection: ", 0, UINT32_MAX, &v)) {
		st->have_conn = true;
		st->cid = (uint32_t)v;
		return 0;
	}
	if (strncmp(s, "IP Address: ", 12) == 0) {
		struct dl_err e = { 0 };
		uint32_t be;
		struct tgt_show_conn *c;

		if (!st->have_conn || !st->initiator[0])
			return bad(st, "an IP Address line before its Initiator and Connection lines",
			    reterr);
		if (strlen(s + 12) >= sizeof(c->s.addr) || parse_ipv4(s + 12, &be, &e) < 0)
			return bad(st, "an IP address that is not dotted IPv4", reterr);
		if (!ret_conns)
			return 0; /* only the tids are wanted */
		if (st->nconns >= max_conns)
			return dl_err_set(reterr, -ENOBUFS, "tgtadm show: more than %zu connections",
			    max_conns);
		c = &ret_conns[st->nconns++];
		memset(c, 0, sizeof(*c));
		c->s.tid = st->tid;
		memcpy(c->s.initiator_name, st->initiator, sizeof(c->s.initiator_name));
		(void)snprintf(c->s.addr, sizeof(c->s.addr), "%s", s + 12);
		c->sid = st->sid;
		c->cid = st->cid;
		c->bad_name = st->bad_name;
		return 0;
	}
	return 0; /* another nexus field a later tgt may print */
}

int
tgt_show_parse(const char *text, size_t len, uint32_t *ret_tids, size_t max_tids,
    size_t *ret_ntids, struct tgt_show_conn *ret_conns, size_t max_conns, size_t *ret_nconns,
    struct dl_err *reterr)
{
	struct state st = { .sec = SEC_NONE };
	size_t pos = 0;
	int r;

	if (len > MAX_TGT_SHOW)
		return dl_err_set(reterr, -EBADMSG, "tgtadm show: %zu bytes, at most %d", len,
		    MAX_TGT_SHOW);
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - (text + pos)) : len - pos;

		st.lineno++;
		if (memchr(text + pos, '\0', l))
			return bad(&st, "a NUL byte", reterr);
		r = parse_line(&st, text + pos, l, ret_tids, max_tids, ret_conns, max_conns,
		    reterr);
		if (r < 0)
			return r;
		pos += l + (nl ? 1 : 0);
	}
	*ret_ntids = st.ntids;
	*ret_nconns = st.nconns;
	return 0;
}
