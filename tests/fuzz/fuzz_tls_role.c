/* SPDX-License-Identifier: MIT */
/* What a client certificate says about its role (docs/security.md "Remote control over
 * mutual TLS"). Input byte 0 chooses the parser:
 *   0: the rest is a certificate (DER), read by control_tls_cert_role() as bootsvc reads
 *      a peer's;
 *   else: the rest is "verb\nOU\nOU...", given to role_from_ous() and role_check().
 * Every failure explains itself; a success names exactly one role; no message carries a
 * control character or a quote of the input that could break a log line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control/control_tls.h"
#include "fuzz_util.h"
#include "role.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_msg(const struct dl_err *e, int r)
{
	if (e->code != r || !e->msg[0])
		abort();
	for (const char *p = e->msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			abort();
}

static void
check_role(enum role r)
{
	if (r < 0 || r >= _ROLE_MAX || role_from_name(role_to_name(r)) != r)
		abort();
}

static void
fuzz_cert(const uint8_t *data, size_t size)
{
	char who[MAX_TLS_WHO + 4];
	struct dl_err e = { 0 };
	enum role role;
	int r = control_tls_cert_role(data, size, &role, who, &e);

	if (strlen(who) > MAX_TLS_WHO + 3 || strpbrk(who, "\"\\\n\r"))
		abort();
	if (r < 0) {
		if (r != -EACCES && r != -ENOMEM)
			abort();
		if (r == -EACCES)
			check_msg(&e, r);
		return;
	}
	check_role(role);
}

static void
fuzz_ous(const uint8_t *data, size_t size)
{
	const char *ous[MAX_ROLE_OUS + 4] = { NULL };
	struct dl_err e = { 0 };
	size_t n = 0, claims = 0;
	char *s = fuzz_cstr(data, size), *verb, *p;
	enum role role;
	int r;

	if (!s)
		return;
	verb = s;
	p = strchr(s, '\n');
	if (p) {
		*p++ = '\0';
		while (p && n < ELEMENTSOF(ous)) {
			char *nl = strchr(p, '\n');

			if (nl)
				*nl++ = '\0';
			ous[n++] = p;
			if (strncmp(p, ROLE_OU_PREFIX, strlen(ROLE_OU_PREFIX)) == 0)
				claims++;
			p = nl;
		}
	}
	r = role_from_ous(ous, n, &role, &e);
	if (r < 0) {
		if (r != -EACCES)
			abort();
		check_msg(&e, r);
		role = (enum role)(size % _ROLE_MAX); /* any role: the table is checked below */
	} else {
		check_role(role);
		/* exactly one claim, and it is the role's */
		if (claims != 1 || n > MAX_ROLE_OUS)
			abort();
	}
	/* the permission table: a total order, and its refusals explain themselves */
	dl_err_clear(&e);
	r = role_check(role, verb, verb, &e);
	if ((r == 0) != role_allows(role, verb) || (r < 0 && r != -EPERM))
		abort();
	if (r < 0)
		check_msg(&e, r);
	if (role_allows(role, verb) && role < ROLE_ADMIN && !role_allows(role + 1, verb))
		abort();
	if (!role_allows(ROLE_ADMIN, verb))
		abort();
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 64 * 1024)
		return 0;
	if (data[0] == 0)
		fuzz_cert(data + 1, size - 1);
	else
		fuzz_ous(data + 1, size - 1);
	return 0;
}
