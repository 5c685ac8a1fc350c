/* SPDX-License-Identifier: MIT */
/* bootsvc/web/: the login form, cookie, /api/<verb> and query parsers; the password file
 * and crypt(3) check (a real sha512-crypt hash); the session table (random tokens,
 * bounded with the least recently used dropped, ended by its lifetime and by idleness). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "web/web_auth.h"
#include "web/web_form.h"

/* "secret" hashed with `openssl passwd -6 -salt abcdefgh secret`. */
#define HASH_SECRET                                                        \
	"$6$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5Nbc4NiXZaNGStk8PSwGfQv72N2" \
	"CKPPrVACtLtip/cZ/1GM/O6IND4WQhG."

static void
test_form(void **state)
{
	const char *b = "user=ada&password=p%40ss+word%21&x=1";
	char out[64];
	struct dl_err e = { 0 };

	(void)state;
	assert_int_equal(web_form_field(b, strlen(b), "user", out, sizeof(out), &e), 0);
	assert_string_equal(out, "ada");
	assert_int_equal(web_form_field(b, strlen(b), "password", out, sizeof(out), &e), 0);
	assert_string_equal(out, "p@ss word!");
	assert_int_equal(web_form_field(b, strlen(b), "pass", out, sizeof(out), &e), -ENOENT);
	/* a prefix of a field name is not the field */
	assert_int_equal(web_form_field("username=x", 10, "user", out, sizeof(out), &e), -ENOENT);
	assert_int_equal(web_form_field("user=%zz", 8, "user", out, sizeof(out), &e), -EINVAL);
	assert_int_equal(web_form_field("user=%4", 7, "user", out, sizeof(out), &e), -EINVAL);
	assert_int_equal(web_form_field("user=a%00b", 10, "user", out, sizeof(out), &e), -EINVAL);
	assert_non_null(strstr(e.msg, "NUL"));
	assert_int_equal(web_form_field("user=abcdef", 11, "user", out, 4, &e), -E2BIG);
	assert_int_equal(web_form_field("user=", 5, "user", out, sizeof(out), &e), 0);
	assert_string_equal(out, "");
	/* body bytes past len are not read */
	assert_int_equal(web_form_field("user=abXYZ", 7, "user", out, sizeof(out), &e), 0);
	assert_string_equal(out, "ab");
}

static void
test_cookie(void **state)
{
	const char *tok = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	char h[200], out[WEB_TOKEN_HEX + 1];

	(void)state;
	(void)snprintf(h, sizeof(h), "a=b; dl_session=%s; c=d", tok);
	assert_int_equal(web_cookie_token(h, out), 0);
	assert_string_equal(out, tok);
	(void)snprintf(h, sizeof(h), "dl_session=%s", tok);
	assert_int_equal(web_cookie_token(h, out), 0);
	assert_int_equal(web_cookie_token("a=b", out), -ENOENT);
	assert_int_equal(web_cookie_token(NULL, out), -ENOENT);
	assert_int_equal(web_cookie_token("dl_session=xyz", out), -EINVAL);
	(void)snprintf(h, sizeof(h), "dl_session=%.63sG", tok);
	assert_int_equal(web_cookie_token(h, out), -EINVAL);
	(void)snprintf(h, sizeof(h), "xdl_session=%s", tok);
	assert_int_equal(web_cookie_token(h, out), -ENOENT);
}

static void
test_verb_and_query(void **state)
{
	char verb[MAX_WEB_VERB + 1];
	struct dl_err e = { 0 };
	json_t *args = json_object();
	char big[MAX_WEB_QUERY_VALUE + 2];

	(void)state;
	assert_int_equal(web_api_verb("/api/node.list", verb, &e), 0);
	assert_string_equal(verb, "node.list");
	assert_int_equal(web_api_verb("/api/node.reset-disk", verb, &e), 0);
	assert_int_equal(web_api_verb("/index.html", verb, &e), -ENOENT);
	assert_int_equal(web_api_verb("/api/", verb, &e), -EINVAL);
	assert_int_equal(web_api_verb("/api/../etc", verb, &e), -EINVAL);
	assert_int_equal(web_api_verb("/api/Node", verb, &e), -EINVAL);
	assert_int_equal(web_api_verb("/api/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", verb, &e), -EINVAL);

	assert_int_equal(web_query_arg(args, "names", "n[01-03]", &e), 0);
	assert_int_equal(web_query_arg(args, "since", "42", &e), 0);
	assert_int_equal(json_integer_value(json_object_get(args, "since")), 42);
	assert_int_equal(web_query_arg(args, "since", "-1", &e), -EINVAL);
	assert_int_equal(web_query_arg(args, "image", "x", &e), -EINVAL);
	assert_non_null(strstr(e.msg, "'image'"));
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(web_query_arg(args, "names", big, &e), -E2BIG);
	assert_int_equal(web_query_arg(args, "names", "\xff\xfe", &e), -EINVAL);
	json_decref(args);
}

static void
test_passwd(void **state)
{
	const char *ok = "# users\n\nada:admin:" HASH_SECRET "\r\nrob:read-only:" HASH_SECRET "\n";
	struct web_passwd pw = { 0 };
	struct dl_err e = { 0 };
	const struct web_user *u;

	(void)state;
	assert_int_equal(web_passwd_parse(ok, strlen(ok), &pw, &e), 0);
	assert_int_equal(pw.n, 2);
	u = web_passwd_find(&pw, "rob");
	assert_non_null(u);
	assert_int_equal(u->role, ROLE_READ_ONLY);
	assert_null(web_passwd_find(&pw, "eve"));
	assert_true(web_passwd_check(u->hash, "secret"));
	assert_false(web_passwd_check(u->hash, "Secret"));
	assert_false(web_passwd_check(u->hash, ""));
	web_passwd_done(&pw);

	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "ada:admin\n", "not user:role:hash" },
		{ "ada:root:" HASH_SECRET "\n", "role 'root'" },
		{ ":admin:" HASH_SECRET "\n", "user name" },
		{ "a b:admin:" HASH_SECRET "\n", "user name" },
		{ "ada:admin:plaintext\n", "crypt(3) hash" },
		{ "ada:admin:$1$salt$md5isweakxxxxxxxxxxxxx\n", "crypt(3) hash" },
		{ "ada:admin:" HASH_SECRET "\nada:read-only:" HASH_SECRET "\n", "twice" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e = (struct dl_err){ 0 };
		assert_int_equal(web_passwd_parse(bad[i].text, strlen(bad[i].text), &pw, &e),
		    -EINVAL);
		if (!strstr(e.msg, bad[i].why))
			fail_msg("'%s': message '%s' lacks '%s'", bad[i].text, e.msg, bad[i].why);
		assert_int_equal(pw.n, 0);
	}
}

static void
test_sessions(void **state)
{
	struct web_sessions *t = calloc(1, sizeof(*t));
	struct web_session *s, *a;
	char first[WEB_TOKEN_HEX + 1], second[WEB_TOKEN_HEX + 1];
	uint64_t now = 1000;

	(void)state;
	assert_non_null(t);
	assert_int_equal(web_session_new(t, "ada", ROLE_ADMIN, now, &s), 0);
	assert_int_equal(strlen(s->token), WEB_TOKEN_HEX);
	assert_int_equal(strspn(s->token, "0123456789abcdef"), WEB_TOKEN_HEX);
	assert_string_not_equal(s->token, s->csrf);
	strcpy(first, s->token);
	assert_int_equal(web_session_new(t, "rob", ROLE_READ_ONLY, now, &s), 0);
	assert_string_not_equal(s->token, first);
	strcpy(second, s->token);
	a = web_session_find(t, first, now + 10);
	assert_non_null(a);
	assert_string_equal(a->user, "ada");
	assert_int_equal(a->role, ROLE_ADMIN);
	assert_null(web_session_find(t,
	    "0000000000000000000000000000000000000000000000000000000000000000", now));

	/* idle: rob was last used at now, ada at now + 10 */
	assert_null(web_session_find(t, second, now + WEB_SESSION_IDLE_MS));
	assert_non_null(web_session_find(t, first, now + 10 + WEB_SESSION_IDLE_MS - 1));
	/* lifetime: however busy, it ends */
	for (uint64_t m = now + 10 + WEB_SESSION_IDLE_MS - 1; m < now + WEB_SESSION_TTL_MS;
	     m += WEB_SESSION_IDLE_MS / 2)
		assert_non_null(web_session_find(t, first, m));
	assert_null(web_session_find(t, first, now + WEB_SESSION_TTL_MS));
	assert_int_equal(web_session_count(t), 0);

	/* bounded: a full table drops the least recently used session */
	for (unsigned i = 0; i < MAX_WEB_SESSIONS; i++) {
		assert_int_equal(web_session_new(t, "u", ROLE_READ_ONLY, now + i, &s), 0);
		if (i == 0)
			strcpy(first, s->token);
		if (i == 1)
			strcpy(second, s->token);
	}
	assert_int_equal(web_session_count(t), MAX_WEB_SESSIONS);
	assert_non_null(web_session_find(t, first, now + MAX_WEB_SESSIONS)); /* used again */
	assert_int_equal(web_session_new(t, "v", ROLE_ADMIN, now + MAX_WEB_SESSIONS + 1, &s), 0);
	assert_int_equal(web_session_count(t), MAX_WEB_SESSIONS);
	assert_null(web_session_find(t, second, now + MAX_WEB_SESSIONS + 2));
	assert_non_null(web_session_find(t, first, now + MAX_WEB_SESSIONS + 2));
	web_session_end(t, first);
	assert_null(web_session_find(t, first, now + MAX_WEB_SESSIONS + 3));
	free(t);
}

static void
test_secret_eq(void **state)
{
	(void)state;
	assert_true(web_secret_eq("abc", "abc"));
	assert_false(web_secret_eq("abc", "abd"));
	assert_false(web_secret_eq("abc", "ab"));
	assert_false(web_secret_eq("", "a"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_form),
		cmocka_unit_test(test_cookie),
		cmocka_unit_test(test_verb_and_query),
		cmocka_unit_test(test_passwd),
		cmocka_unit_test(test_sessions),
		cmocka_unit_test(test_secret_eq),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
