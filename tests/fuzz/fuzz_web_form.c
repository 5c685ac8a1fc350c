/* SPDX-License-Identifier: MIT */
/* What a browser sends the admin listener (bootsvc/web/web_form.c) and the password file
 * (web_auth.c). Input byte 0 chooses the parser:
 *   0: a login form body: the user and password fields
 *   1: a Cookie header: the session token
 *   2: a URL: the /api/<verb>
 *   3: "key\nvalue": one query parameter into a verb's args
 *   else: a password file
 * Every failure explains itself; a success is within its bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "web/web_auth.h"
#include "web/web_form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_err(const struct dl_err *e, int r)
{
	if (r < 0 && r != -ENOMEM && (e->code != r || !e->msg[0]))
		abort();
}

static void
fuzz_form(const char *s, size_t n)
{
	char user[MAX_WEB_USER + 1], pass[MAX_WEB_PASSWORD + 1];
	struct dl_err e = { 0 };
	int r;

	r = web_form_field(s, n, "user", user, sizeof(user), &e);
	check_err(&e, r);
	if (r == 0 && strlen(user) > MAX_WEB_USER)
		abort();
	e = (struct dl_err){ 0 };
	r = web_form_field(s, n, "password", pass, sizeof(pass), &e);
	check_err(&e, r);
	if (r == 0 && strlen(pass) > MAX_WEB_PASSWORD)
		abort();
}

static void
fuzz_cookie(const char *s)
{
	char tok[WEB_TOKEN_HEX + 1];

	if (web_cookie_token(s, tok) == 0 && strspn(tok, "0123456789abcdef") != WEB_TOKEN_HEX)
		abort();
}

static void
fuzz_verb(const char *s)
{
	char verb[MAX_WEB_VERB + 1];
	struct dl_err e = { 0 };
	int r = web_api_verb(s, verb, &e);

	if (r == -ENOENT)
		return;
	check_err(&e, r);
	if (r == 0 && (!verb[0] || strlen(verb) > MAX_WEB_VERB ||
	    strspn(verb, "abcdefghijklmnopqrstuvwxyz0123456789.-") != strlen(verb)))
		abort();
}

static void
fuzz_query(char *s)
{
	char *nl = strchr(s, '\n');
	json_t *args = json_object();
	struct dl_err e = { 0 };
	int r;

	if (!args)
		return;
	if (nl)
		*nl = '\0';
	r = web_query_arg(args, s, nl ? nl + 1 : NULL, &e);
	check_err(&e, r);
	if (r == 0 && json_object_size(args) != 1)
		abort();
	json_decref(args);
}

static void
fuzz_passwd(const char *s, size_t n)
{
	struct web_passwd pw = { 0 };
	struct dl_err e = { 0 };
	int r = web_passwd_parse(s, n, &pw, &e);

	check_err(&e, r);
	if (r == 0) {
		if (pw.n > MAX_WEB_USERS)
			abort();
		for (size_t i = 0; i < pw.n; i++)
			if (web_passwd_find(&pw, pw.users[i].name) != &pw.users[i] ||
			    pw.users[i].role < 0 || pw.users[i].role >= _ROLE_MAX)
				abort();
	}
	web_passwd_done(&pw);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size < 1)
		return 0;
	s = fuzz_cstr(data + 1, size - 1);
	if (!s)
		return 0;
	switch (data[0]) {
	case 0:
		fuzz_form((const char *)data + 1, size - 1);
		break;
	case 1:
		fuzz_cookie(s);
		break;
	case 2:
		fuzz_verb(s);
		break;
	case 3:
		fuzz_query(s);
		break;
	default:
		fuzz_passwd((const char *)data + 1, size - 1);
		break;
	}
	free(s);
	return 0;
}
