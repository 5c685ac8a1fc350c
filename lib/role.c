/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "macro.h"
#include "name_table.h"
#include "role.h"

/* Longest outside value quoted in a message. */
#define MAX_ROLE_QUOTE 64

static const char *const role_names[_ROLE_MAX] = {
	[ROLE_READ_ONLY] = "read-only",
	[ROLE_SCHEDULER] = "scheduler",
	[ROLE_ADMIN] = "admin",
};

/* Every verb of bootsvc (control.c, verbs_*.c) and the least role that may use it;
 * tests/unit/test_role.c checks that the verb tables and this one agree. */
static const struct {
	const char *verb;
	enum role needs;
} role_table[] = {
	{ "ping", ROLE_READ_ONLY },
	{ "node.list", ROLE_READ_ONLY },
	{ "node.show", ROLE_READ_ONLY },
	{ "image.list", ROLE_READ_ONLY },
	{ "image.show", ROLE_READ_ONLY },
	{ "energy", ROLE_READ_ONLY },
	/* VM hosts and their domains as libvirt lists them (issue 12). */
	{ "host.list", ROLE_READ_ONLY },
	{ "vm.list", ROLE_READ_ONLY },
	/* The bootsvc instances sharing a database, their roles and segments (issue 15). */
	{ "server.list", ROLE_READ_ONLY },
	/* The VM layer (issue 13): a dry run and the plans' progress are reads; moving
	 * VMs is the scheduler's (it places work); draining a host is the admin's. */
	{ "vm.plan", ROLE_READ_ONLY },
	{ "vm.plans", ROLE_READ_ONLY },
	{ "vm.migrate", ROLE_SCHEDULER },
	{ "vm.balance", ROLE_SCHEDULER },
	{ "vm.cancel", ROLE_SCHEDULER },
	{ "host.drain", ROLE_ADMIN },
	/* The nodes' history as it is written: reading, not changing, anything. */
	{ "events", ROLE_READ_ONLY },
	{ "provision", ROLE_SCHEDULER },
	{ "power", ROLE_SCHEDULER },
	{ "allocate", ROLE_SCHEDULER },
	{ "release", ROLE_SCHEDULER },
	{ "expect", ROLE_SCHEDULER },
	{ "hold", ROLE_ADMIN },
	/* As in Slurm, only an admin drains a node or takes its drain back: a scheduler
	 * must not hide nodes from itself (or from the other schedulers). */
	{ "drain", ROLE_ADMIN },
	{ "undrain", ROLE_ADMIN },
	{ "health.clear", ROLE_ADMIN },
	{ "node.add", ROLE_ADMIN },
	{ "node.remove", ROLE_ADMIN },
	{ "node.set", ROLE_ADMIN },
	/* Arming makes a node's next credential fetchable without a boot the controller
	 * ordered: the admin's door for a node with no BMC (docs/security.md). */
	{ "node.arm", ROLE_ADMIN },
	/* A fresh disk drops what a persistent node kept (issue 14). */
	{ "node.reset-disk", ROLE_ADMIN },
	/* The next contact then trusts whatever key the BMC's address offers. */
	{ "node.reset-bmc-pin", ROLE_ADMIN },
	{ "image.add", ROLE_ADMIN },
	{ "image.remove", ROLE_ADMIN },
	{ "image.sync", ROLE_ADMIN },
};

const char *
role_to_name(enum role r)
{
	return NAME_OF(role_names, r, "?");
}

enum role
role_from_name(const char *s)
{
	long i = name_table_index(role_names, ELEMENTSOF(role_names), s);

	return i < 0 ? _ROLE_INVALID : (enum role)i;
}

/* s for a message: control characters and quotes become '?', cut with "...". */
static const char *
role_quote(char buf[static MAX_ROLE_QUOTE + 4], const char *s)
{
	size_t i = 0;

	for (; s[i] && i < MAX_ROLE_QUOTE; i++) {
		unsigned char c = (unsigned char)s[i];

		buf[i] = c < 0x20 || c == 0x7f || c == '\'' || c == '"' || c == '\\' ? '?' :
		    (char)c;
	}
	if (s[i])
		memcpy(buf + i, "...", 3), i += 3;
	buf[i] = '\0';
	return buf;
}

int
role_from_ous(const char *const *ous, size_t n, enum role *ret_role, struct dl_err *reterr)
{
	char q[MAX_ROLE_QUOTE + 4];
	const char *claim = NULL;

	if (n > MAX_ROLE_OUS)
		return dl_err_set(reterr, -EACCES,
		    "the certificate's subject has %zu OU values (at most %d)", n, MAX_ROLE_OUS);
	for (size_t i = 0; i < n; i++) {
		if (strncmp(ous[i], ROLE_OU_PREFIX, strlen(ROLE_OU_PREFIX)) != 0)
			continue;
		if (claim)
			return dl_err_set(reterr, -EACCES,
			    "the certificate names two roles (OU='%s' and another)",
			    role_quote(q, claim));
		claim = ous[i];
	}
	if (!claim)
		return dl_err_set(reterr, -EACCES,
		    "the certificate names no role (its subject needs OU=" ROLE_OU_PREFIX
		    "admin, " ROLE_OU_PREFIX "scheduler or " ROLE_OU_PREFIX "read-only)");
	enum role r = role_from_name(claim + strlen(ROLE_OU_PREFIX));
	if (r < 0)
		return dl_err_set(reterr, -EACCES,
		    "the certificate names an unknown role (OU='%s'; roles: admin, scheduler, "
		    "read-only)", role_quote(q, claim));
	*ret_role = r;
	return 0;
}

bool
role_lists(const char *verb)
{
	for (size_t i = 0; i < ELEMENTSOF(role_table); i++)
		if (streq(role_table[i].verb, verb))
			return true;
	return false;
}

enum role
role_needed(const char *verb)
{
	for (size_t i = 0; i < ELEMENTSOF(role_table); i++)
		if (streq(role_table[i].verb, verb))
			return role_table[i].needs;
	return ROLE_ADMIN;
}

bool
role_allows(enum role r, const char *verb)
{
	return r >= 0 && r < _ROLE_MAX && r >= role_needed(verb);
}

int
role_check(enum role r, const char *who, const char *verb, struct dl_err *reterr)
{
	char qw[MAX_ROLE_QUOTE + 4], qv[MAX_ROLE_QUOTE + 4];

	if (role_allows(r, verb))
		return 0;
	return dl_err_set(reterr, -EPERM, "role '%s'%s%s%s may not use '%s' (it needs the %s "
	    "role)", role_to_name(r), who ? " of '" : "", who ? role_quote(qw, who) : "",
	    who ? "'" : "", role_quote(qv, verb), role_to_name(role_needed(verb)));
}
