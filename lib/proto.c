/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

static const char *const req_keys[] = { "id", "verb", "args", NULL };

int
proto_req_parse(const char *line, size_t len, struct proto_req *ret, struct dl_err *reterr)
{
	json_error_t jerr;
	json_t *root, *id, *verb, *args;
	const char *key;
	json_t *v;
	int r = 0;

	memset(ret, 0, sizeof(*ret));
	ret->id = json_null();
	if (len > MAX_CONTROL_LINE)
		return dl_err_set(reterr, -E2BIG, "request longer than %d bytes", MAX_CONTROL_LINE);
	root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return dl_err_set(reterr, -EINVAL, "malformed JSON at column %d: %s", jerr.column,
		    jerr.text);
	if (!json_is_object(root)) {
		r = dl_err_set(reterr, -EINVAL, "request is not a JSON object");
		goto out;
	}
	id = json_object_get(root, "id");
	if (id) {
		if (!json_is_integer(id) && !json_is_string(id)) {
			r = dl_err_set(reterr, -EINVAL, "'id' must be an integer or a string");
			goto out;
		}
		if (json_is_string(id) && json_string_length(id) > 128) {
			r = dl_err_set(reterr, -EINVAL, "'id' longer than 128 bytes");
			goto out;
		}
		json_decref(ret->id);
		ret->id = json_incref(id);
	}
	json_object_foreach(root, key, v) {
		bool known = false;
		for (size_t i = 0; req_keys[i]; i++)
			known |= strcmp(key, req_keys[i]) == 0;
		if (!known) {
			r = dl_err_set(reterr, -EINVAL, "unknown request key '%.64s'", key);
			goto out;
		}
	}
	verb = json_object_get(root, "verb");
	if (!json_is_string(verb)) {
		r = dl_err_set(reterr, -EINVAL, "missing 'verb' string");
		goto out;
	}
	if (json_string_length(verb) == 0 || json_string_length(verb) > MAX_VERB ||
	    strlen(json_string_value(verb)) != json_string_length(verb)) {
		r = dl_err_set(reterr, -EINVAL, "bad verb length");
		goto out;
	}
	for (const char *c = json_string_value(verb); *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || *c == '.' || *c == '_' || *c == '-')) {
			r = dl_err_set(reterr, -EINVAL, "bad character in verb");
			goto out;
		}
	memcpy(ret->verb, json_string_value(verb), json_string_length(verb) + 1);
	args = json_object_get(root, "args");
	if (args && !json_is_object(args)) {
		r = dl_err_set(reterr, -EINVAL, "'args' must be an object");
		goto out;
	}
	ret->args = args ? json_incref(args) : json_object();
	if (!ret->args)
		r = -ENOMEM;
out:
	json_decref(root);
	return r;
}

void
proto_req_done(struct proto_req *r)
{
	json_decref(r->id);
	json_decref(r->args);
	r->id = r->args = NULL;
}

static char *
dump_line(json_t *o)
{
	char *s, *line;
	size_t n;

	if (!o)
		return NULL;
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!s)
		return NULL;
	n = strlen(s);
	line = realloc(s, n + 2);
	if (!line) {
		free(s);
		return NULL;
	}
	line[n] = '\n';
	line[n + 1] = '\0';
	return line;
}

char *
proto_ok(json_t *id, json_t *result)
{
	return dump_line(json_pack("{s:O?,s:b,s:o}", "id", id, "ok", 1, "result",
	    result ? result : json_object()));
}

/* Length of the valid UTF-8 sequence at s (1..4), 0 if it is not one (RFC 3629: no
 * overlongs, no surrogates, nothing above U+10FFFF). */
static size_t
utf8_seq(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n;
	unsigned lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

void
proto_utf8_clean(char *s)
{
	unsigned char *p = (unsigned char *)s;

	while (*p) {
		size_t n = utf8_seq(p);
		if (n == 0) {
			*p++ = '?';
			continue;
		}
		p += n;
	}
}

char *
proto_ok_text(json_t *id, const char *result)
{
	char *ids = json_dumps(id ? id : json_null(), JSON_COMPACT | JSON_ENCODE_ANY), *line;

	if (!ids)
		return NULL;
	/* proto_ok()'s bytes: jansson writes the keys in the order they were packed */
	if (asprintf(&line, "{\"id\":%s,\"ok\":true,\"result\":%s}\n", ids, result) < 0)
		line = NULL;
	free(ids);
	return line;
}

char *
proto_error(json_t *id, int code, const char *message)
{
	/* Messages quote what a client sent, and jansson's own parse errors quote the bytes
	 * near the fault, cut anywhere: an invalid UTF-8 byte would make json_pack fail and
	 * the client get no answer at all. */
	char msg[MAX_ERR_MSG];

	(void)snprintf(msg, sizeof(msg), "%s", message ? message : "");
	proto_utf8_clean(msg);
	return dump_line(json_pack("{s:O?,s:b,s:{s:s,s:s}}", "id", id, "ok", 0, "error", "code",
	    dl_errno_name(code), "message", msg));
}

char *
proto_request(json_t *id, const char *verb, json_t *args)
{
	return dump_line(json_pack("{s:O?,s:s,s:o}", "id", id, "verb", verb, "args",
	    args ? args : json_object()));
}

int
proto_args_check(const json_t *args, const char *const *allowed, struct dl_err *reterr)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)args, key, v) {
		bool known = false;
		for (size_t i = 0; allowed[i]; i++)
			known |= strcmp(key, allowed[i]) == 0;
		if (!known)
			return dl_err_set(reterr, -EINVAL, "unknown argument '%.64s'", key);
	}
	return 0;
}

int
proto_arg_str(const json_t *args, const char *key, bool required, size_t max_len,
    const char **ret, struct dl_err *reterr)
{
	json_t *v = json_object_get(args, key);

	*ret = NULL;
	if (!v || json_is_null(v)) {
		if (required)
			return dl_err_set(reterr, -ENOENT, "missing argument '%s'", key);
		return 0;
	}
	if (!json_is_string(v))
		return dl_err_set(reterr, -EINVAL, "argument '%s' must be a string", key);
	if (json_string_length(v) > max_len)
		return dl_err_set(reterr, -EINVAL, "argument '%s' longer than %zu bytes", key,
		    max_len);
	if (strlen(json_string_value(v)) != json_string_length(v))
		return dl_err_set(reterr, -EINVAL, "argument '%s' contains a NUL byte", key);
	*ret = json_string_value(v);
	return 0;
}

int
proto_arg_bool(const json_t *args, const char *key, bool def, bool *ret, struct dl_err *reterr)
{
	json_t *v = json_object_get(args, key);

	if (!v || json_is_null(v)) {
		*ret = def;
		return 0;
	}
	if (!json_is_boolean(v))
		return dl_err_set(reterr, -EINVAL, "argument '%s' must be true or false", key);
	*ret = json_is_true(v);
	return 0;
}
