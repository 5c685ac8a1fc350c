/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "parse.h"
#include "web/web_form.h"

/* Decode p[0..n) into out as lib's url_decode does ('+' a space, %XX a byte, a NUL
 * refused: it would cut the string the password check sees), but with a message that
 * names the field and never quotes its value, which may be a password. */
static int
form_decode(const char *p, size_t n, char *out, size_t size, const char *name,
    struct dl_err *reterr)
{
	int r = url_decode(p, n, out, size, NULL);

	if (r == -E2BIG)
		return dl_err_set(reterr, r, "form field '%s': longer than %zu bytes", name,
		    size - 1);
	if (r < 0)
		return dl_err_set(reterr, r, "form field '%s': a bad %%-escape or a NUL byte",
		    name);
	return 0;
}

int
web_form_field(const char *body, size_t len, const char *name, char *out, size_t size,
    struct dl_err *reterr)
{
	size_t nlen = strlen(name);
	const char *p = body, *end = body + len;

	if (size == 0)
		return -EINVAL;
	if (len > MAX_WEB_FORM)
		return dl_err_set(reterr, -E2BIG, "form: longer than %d bytes", MAX_WEB_FORM);
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *fend = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(fend - p));

		if (eq && (size_t)(eq - p) == nlen && memcmp(p, name, nlen) == 0)
			return form_decode(eq + 1, (size_t)(fend - eq - 1), out, size, name,
			    reterr);
		p = fend + (amp ? 1 : 0);
	}
	return dl_err_set(reterr, -ENOENT, "form: no field '%s'", name);
}

static bool
is_token(const char *s, size_t n)
{
	if (n != WEB_TOKEN_HEX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int
web_cookie_token(const char *header, char out[static WEB_TOKEN_HEX + 1])
{
	const size_t nlen = sizeof(WEB_COOKIE) - 1;
	const char *p = header;

	if (!header)
		return -ENOENT;
	while (*p) {
		size_t n;

		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		n = strcspn(p, ";");
		if (n > nlen && strncmp(p, WEB_COOKIE, nlen) == 0 && p[nlen] == '=') {
			const char *v = p + nlen + 1;
			size_t vl = n - nlen - 1;

			while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
				vl--;
			if (!is_token(v, vl))
				return -EINVAL;
			memcpy(out, v, WEB_TOKEN_HEX);
			out[WEB_TOKEN_HEX] = '\0';
			return 0;
		}
		p += n;
	}
	return -ENOENT;
}

int
web_api_verb(const char *url, char out[static MAX_WEB_VERB + 1], struct dl_err *reterr)
{
	const char *v;
	size_t n;

	if (strncmp(url, "/api/", 5) != 0)
		return -ENOENT;
	v = url + 5;
	n = strlen(v);
	if (n == 0)
		return dl_err_set(reterr, -EINVAL, "no verb after /api/");
	if (n > MAX_WEB_VERB)
		return dl_err_set(reterr, -EINVAL, "verb longer than %d characters",
		    MAX_WEB_VERB);
	for (size_t i = 0; i < n; i++) {
		char c = v[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-'))
			return dl_err_set(reterr, -EINVAL, "verb: only a-z, 0-9, '.' and '-'");
	}
	memcpy(out, v, n + 1);
	return 0;
}

int
web_query_arg(json_t *args, const char *key, const char *value, struct dl_err *reterr)
{
	uint64_t since;
	int r;

	if (!value)
		value = "";
	if (strlen(value) > MAX_WEB_QUERY_VALUE)
		return dl_err_set(reterr, -E2BIG, "query parameter '%.32s': longer than %d bytes",
		    key, MAX_WEB_QUERY_VALUE);
	if (strcmp(key, "names") == 0 || strcmp(key, "name") == 0) {
		json_t *s = json_string(value);

		if (!s)
			return dl_err_set(reterr, -EINVAL, "query parameter '%s': not UTF-8", key);
		return json_object_set_new(args, key, s) < 0 ? -ENOMEM : 0;
	}
	if (strcmp(key, "since") == 0) {
		r = parse_u64(value, 0, INT64_MAX, &since, reterr);
		if (r < 0)
			return dl_err_prefix(reterr, "query parameter 'since'");
		return json_object_set_new(args, key, json_integer((json_int_t)since)) < 0 ?
		    -ENOMEM : 0;
	}
	return dl_err_set(reterr, -EINVAL, "unknown query parameter '%.32s'", key);
}
