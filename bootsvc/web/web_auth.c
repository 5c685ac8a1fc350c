/* SPDX-License-Identifier: MIT */
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "random.h"
#include "readfile.h"
#include "web/web_auth.h"

void
web_passwd_done(struct web_passwd *p)
{
	free(p->users);
	p->users = NULL;
	p->n = 0;
}

const struct web_user *
web_passwd_find(const struct web_passwd *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->users[i].name, name) == 0)
			return &p->users[i];
	return NULL;
}

static bool
user_name_ok(const char *s, size_t n)
{
	if (n == 0 || n > MAX_WEB_USER)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return false;
	return true;
}

/* A hash crypt(3) knows how to check: "$<id>$..." of a method this libcrypt supports and
 * deems fit (crypt_checksalt), printable, no ':'. DES and MD5 hashes are refused. */
static bool
hash_ok(const char *h)
{
	int ok;

	if (h[0] != '$')
		return false;
	for (const char *p = h; *p; p++)
		if (*p < 0x21 || *p > 0x7e)
			return false;
	ok = crypt_checksalt(h);
	return ok == CRYPT_SALT_OK;
}

static int
parse_line(const char *p, size_t n, unsigned lineno, struct web_passwd *pw,
    struct dl_err *reterr)
{
	const char *c1 = memchr(p, ':', n), *c2;
	struct web_user *u;
	char role[16];
	size_t rl, hl;

	c2 = c1 ? memchr(c1 + 1, ':', n - (size_t)(c1 + 1 - p)) : NULL;
	if (!c2)
		return dl_err_set(reterr, -EINVAL, "line %u: not user:role:hash", lineno);
	if (!user_name_ok(p, (size_t)(c1 - p)))
		return dl_err_set(reterr, -EINVAL, "line %u: a user name is 1-%d of a-z, A-Z, "
		    "0-9, '-', '_', '.'", lineno, MAX_WEB_USER);
	rl = (size_t)(c2 - c1 - 1);
	if (rl >= sizeof(role))
		return dl_err_set(reterr, -EINVAL, "line %u: unknown role", lineno);
	memcpy(role, c1 + 1, rl);
	role[rl] = '\0';
	if (pw->n >= MAX_WEB_USERS)
		return dl_err_set(reterr, -E2BIG, "line %u: more than %d users", lineno,
		    MAX_WEB_USERS);
	u = &pw->users[pw->n];
	memset(u, 0, sizeof(*u));
	memcpy(u->name, p, (size_t)(c1 - p));
	if (web_passwd_find(pw, u->name))
		return dl_err_set(reterr, -EINVAL, "line %u: user '%s' twice", lineno, u->name);
	u->role = role_from_name(role);
	if (u->role == _ROLE_INVALID)
		return dl_err_set(reterr, -EINVAL, "line %u: role '%.15s' is not admin, "
		    "scheduler or read-only", lineno, role);
	hl = n - (size_t)(c2 + 1 - p);
	if (hl > MAX_WEB_HASH)
		return dl_err_set(reterr, -EINVAL, "line %u: hash longer than %d", lineno,
		    MAX_WEB_HASH);
	memcpy(u->hash, c2 + 1, hl);
	u->hash[hl] = '\0';
	if (!hash_ok(u->hash))
		return dl_err_set(reterr, -EINVAL, "line %u: user '%s': not a crypt(3) hash this "
		    "system accepts (make one with: mkpasswd -m yescrypt, or openssl passwd -6)",
		    lineno, u->name);
	pw->n++;
	return 0;
}

int
web_passwd_parse(const char *text, size_t len, struct web_passwd *ret, struct dl_err *reterr)
{
	struct web_passwd pw = { 0 };
	const char *p = text, *end = text + len;
	unsigned lineno = 0;
	int r;

	if (len > MAX_WEB_PASSWD_FILE)
		return dl_err_set(reterr, -E2BIG, "longer than %d bytes", MAX_WEB_PASSWD_FILE);
	pw.users = calloc(MAX_WEB_USERS, sizeof(*pw.users));
	if (!pw.users)
		return -ENOMEM;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		lineno++;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n > MAX_WEB_PASSWD_LINE) {
			web_passwd_done(&pw);
			return dl_err_set(reterr, -EINVAL, "line %u: longer than %d bytes", lineno,
			    MAX_WEB_PASSWD_LINE);
		}
		if (memchr(p, '\0', n)) {
			web_passwd_done(&pw);
			return dl_err_set(reterr, -EINVAL, "line %u: NUL byte", lineno);
		}
		if (n > 0 && p[0] != '#' && (r = parse_line(p, n, lineno, &pw, reterr)) < 0) {
			web_passwd_done(&pw);
			return r;
		}
		p = nl ? nl + 1 : end;
	}
	web_passwd_done(ret);
	*ret = pw;
	return 0;
}

int
web_passwd_load(const char *path, struct web_passwd *ret, struct dl_err *reterr)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	struct stat st;
	int r;

	if (stat(path, &st) < 0)
		return dl_err_set(reterr, -errno, "admin_passwords '%s': %s", path,
		    strerror(errno));
	if (st.st_mode & (S_IROTH | S_IWOTH))
		return dl_err_set(reterr, -EPERM, "admin_passwords '%s': readable by others "
		    "(chmod 0640): its hashes could be guessed offline", path);
	r = read_file(path, MAX_WEB_PASSWD_FILE, READ_FILE_REGULAR, &text, &len, reterr);
	if (r < 0)
		return r;
	r = web_passwd_parse(text, len, ret, reterr);
	if (r < 0)
		return dl_err_prefix(reterr, "admin_passwords '%s'", path);
	return 0;
}

bool
web_secret_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = la != lb;

	for (size_t i = 0; i < la && i < lb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

bool
web_passwd_check(const char *hash, const char *password)
{
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	const char *out;
	bool ok;

	if (!cd)
		return false;
	out = crypt_rn(password, hash, cd, sizeof(*cd));
	/* crypt_rn returns NULL or a "*..." failure token for a bad setting. */
	ok = out && out[0] != '*' && web_secret_eq(out, hash);
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ok;
}

int
web_random_token(char out[static WEB_TOKEN_HEX + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[WEB_TOKEN_HEX / 2];
	int r = dl_random(b, sizeof(b));

	if (r < 0)
		return r;
	for (size_t i = 0; i < sizeof(b); i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[WEB_TOKEN_HEX] = '\0';
	return 0;
}

static bool
session_live(const struct web_session *s, uint64_t now)
{
	return s->used && now - s->created_ms < WEB_SESSION_TTL_MS &&
	    now - s->last_ms < WEB_SESSION_IDLE_MS;
}

int
web_session_new(struct web_sessions *t, const char *user, enum role role, uint64_t now,
    struct web_session **ret)
{
	struct web_session *slot = NULL;
	int r;

	for (size_t i = 0; i < MAX_WEB_SESSIONS; i++) {
		struct web_session *s = &t->s[i];

		if (s->used && !session_live(s, now))
			memset(s, 0, sizeof(*s));
		if (!s->used) {
			if (!slot || slot->used)
				slot = s;
		} else if (!slot || (slot->used && s->last_ms < slot->last_ms))
			slot = s;
	}
	memset(slot, 0, sizeof(*slot));
	if ((r = web_random_token(slot->token)) < 0 || (r = web_random_token(slot->csrf)) < 0) {
		memset(slot, 0, sizeof(*slot));
		return r;
	}
	(void)snprintf(slot->user, sizeof(slot->user), "%s", user);
	slot->role = role;
	slot->created_ms = slot->last_ms = now;
	slot->used = true;
	*ret = slot;
	return 0;
}

struct web_session *
web_session_find(struct web_sessions *t, const char *token, uint64_t now)
{
	for (size_t i = 0; i < MAX_WEB_SESSIONS; i++) {
		struct web_session *s = &t->s[i];

		if (!s->used || !web_secret_eq(s->token, token))
			continue;
		if (!session_live(s, now)) {
			memset(s, 0, sizeof(*s));
			return NULL;
		}
		s->last_ms = now;
		return s;
	}
	return NULL;
}

void
web_session_end(struct web_sessions *t, const char *token)
{
	for (size_t i = 0; i < MAX_WEB_SESSIONS; i++)
		if (t->s[i].used && web_secret_eq(t->s[i].token, token))
			memset(&t->s[i], 0, sizeof(t->s[i]));
}

size_t
web_session_count(const struct web_sessions *t)
{
	size_t n = 0;

	for (size_t i = 0; i < MAX_WEB_SESSIONS; i++)
		n += t->s[i].used;
	return n;
}
