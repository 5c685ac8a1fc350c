/* SPDX-License-Identifier: MIT */
/* Who a browser is, for the admin listener (docs/web.md): the password file (user, role
 * and a crypt(3) hash per line; never a plain password), and the table of logged-in
 * sessions (random tokens, bounded, expiring). A client certificate's role is the control
 * socket's (control/control_tls.h). No MHD here: tests/unit/test_web.c tests it alone. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "role.h"
#include "web/web_form.h"

/* Users of one password file: a site's admins and operators, not its users. */
#define MAX_WEB_USERS 256
/* Longest line of the password file: a user, a role and a yescrypt or sha512-crypt hash
 * (about 120 characters) fit with room to spare. */
#define MAX_WEB_PASSWD_LINE 512
/* Largest password file read. */
#define MAX_WEB_PASSWD_FILE (MAX_WEB_USERS * MAX_WEB_PASSWD_LINE)
/* Longest hash kept (crypt(3)'s CRYPT_OUTPUT_SIZE is 384). */
#define MAX_WEB_HASH 384
/* Sessions at once: a few admins with a few tabs each. A full table drops the session
 * used least recently, so logins can never lock everyone out. */
#define MAX_WEB_SESSIONS 256
/* A session lasts a working day at most, and ends after an hour without a request (an
 * open page's event stream counts as requests: it reconnects with the cookie). */
#define WEB_SESSION_TTL_MS (12ULL * 3600 * 1000)
#define WEB_SESSION_IDLE_MS (3600ULL * 1000)

struct web_user {
	char name[MAX_WEB_USER + 1];
	enum role role;
	char hash[MAX_WEB_HASH + 1];
};

struct web_passwd {
	struct web_user *users;
	size_t n;
};

/* Parse a password file's text (len bytes: outside input): "user:role:hash" lines,
 * '#' comments and blank lines. 0 and *ret (replaced), or -EINVAL with reterr naming
 * the line and what is wrong with it (a hash crypt(3) cannot use, an unknown role, a
 * user twice). */
int web_passwd_parse(const char *text, size_t len, struct web_passwd *ret,
    struct dl_err *reterr);
/* Read and parse path; a file others may read is refused (-EPERM): hashes are secrets
 * too, against offline guessing. */
int web_passwd_load(const char *path, struct web_passwd *ret, struct dl_err *reterr);
void web_passwd_done(struct web_passwd *p);
const struct web_user *web_passwd_find(const struct web_passwd *p, const char *name);
/* Does password match hash (crypt(3): yescrypt, sha512-crypt, ...)? Slow by design: run
 * it on a worker, never on the loop. */
bool web_passwd_check(const char *hash, const char *password);

struct web_session {
	bool used;
	char token[WEB_TOKEN_HEX + 1]; /* the cookie */
	char csrf[WEB_TOKEN_HEX + 1];  /* sent back in X-CSRF-Token on every POST */
	char user[MAX_WEB_USER + 1];
	enum role role;
	uint64_t created_ms, last_ms;
};

struct web_sessions {
	struct web_session s[MAX_WEB_SESSIONS];
};

/* A new session for user with fresh random tokens; the least recently used one makes
 * room when the table is full. 0 and *ret (borrowed from t), or -errno when no random
 * bytes could be had. */
int web_session_new(struct web_sessions *t, const char *user, enum role role, uint64_t now,
    struct web_session **ret);
/* The live session of token (its last use set to now), or NULL: unknown, or expired
 * (then it is ended). */
struct web_session *web_session_find(struct web_sessions *t, const char *token,
    uint64_t now);
void web_session_end(struct web_sessions *t, const char *token);
/* Sessions in use (tests, metrics). */
size_t web_session_count(const struct web_sessions *t);
/* WEB_TOKEN_HEX lowercase hex digits from the kernel's random bytes: 0 or -errno. */
int web_random_token(char out[static WEB_TOKEN_HEX + 1]);
/* Compare two NUL-terminated secrets in time that does not depend on where they differ. */
bool web_secret_eq(const char *a, const char *b);
