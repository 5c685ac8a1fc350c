/* SPDX-License-Identifier: MIT */
#include <stdbool.h>
#include <string.h>

#include "conf.h"
#include "readfile.h"

/* Config files are small; the cap keeps a mistaken path (a disk image) from being read. */
#define MAX_CONF_FILE (1024 * 1024)

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* One line's key=value, or -errno with reterr naming name:lineno. line is modified. */
static int
parse_line(const char *name, unsigned lineno, char *line, size_t n, conf_item_fn fn,
    void *userdata, struct dl_err *reterr)
{
	char *key, *val, *eq, *end;
	int r;

	if (memchr(line, '\0', n))
		return dl_err_set(reterr, -EINVAL, "%s:%u: NUL byte in line", name, lineno);
	key = line;
	while (is_blank(*key))
		key++;
	if (*key == '\0' || *key == '#')
		return 0;
	eq = strchr(key, '=');
	if (!eq)
		return dl_err_set(reterr, -EINVAL, "%s:%u: expected key=value", name, lineno);
	end = eq;
	while (end > key && is_blank(end[-1]))
		end--;
	*end = '\0';
	if (*key == '\0')
		return dl_err_set(reterr, -EINVAL, "%s:%u: empty key", name, lineno);
	val = eq + 1;
	while (is_blank(*val))
		val++;
	end = val + strlen(val);
	while (end > val && is_blank(end[-1]))
		end--;
	*end = '\0';
	for (const char *c = key; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' ||
		    *c == '.' || *c == '-'))
			return dl_err_set(reterr, -EINVAL,
			    "%s:%u: bad character in key (keys are [a-z0-9_.-])", name, lineno);
	r = fn(key, val, userdata, reterr);
	if (r < 0)
		return dl_err_prefix(reterr, "%s:%u", name, lineno), r;
	return 0;
}

/* Every line; on_error NULL stops at the first bad one (its -errno), else each bad line
 * goes to on_error and the count of bad lines is returned. */
static int
parse_lines(const char *name, const char *buf, size_t len, conf_item_fn fn, void *userdata,
    conf_error_fn on_error, void *err_userdata, struct dl_err *reterr)
{
	char line[MAX_CONF_LINE + 1];
	size_t pos = 0;
	unsigned lineno = 0;
	int bad = 0;

	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (buf + pos)) : len - pos;
		int r;

		lineno++;
		if (n > MAX_CONF_LINE) {
			r = dl_err_set(reterr, -E2BIG, "%s:%u: line longer than %d bytes", name,
			    lineno, MAX_CONF_LINE);
		} else {
			memcpy(line, buf + pos, n);
			line[n] = '\0';
			r = parse_line(name, lineno, line, n, fn, userdata, reterr);
		}
		pos += n + (nl ? 1 : 0);
		if (r < 0) {
			if (!on_error)
				return r;
			on_error(reterr, err_userdata);
			dl_err_clear(reterr);
			bad++;
		}
	}
	return bad;
}

int
conf_parse_buffer(const char *name, const char *buf, size_t len, conf_item_fn fn,
    void *userdata, struct dl_err *reterr)
{
	return parse_lines(name, buf, len, fn, userdata, NULL, NULL, reterr);
}

int
conf_check_buffer(const char *name, const char *buf, size_t len, conf_item_fn fn,
    void *userdata, conf_error_fn on_error, void *err_userdata)
{
	struct dl_err err = { 0 };

	return parse_lines(name, buf, len, fn, userdata, on_error, err_userdata, &err);
}

int
conf_parse_file(const char *path, conf_item_fn fn, void *userdata, struct dl_err *reterr)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r;

	r = read_file(path, MAX_CONF_FILE, READ_FILE_REGULAR, &buf, &len, reterr);
	if (r < 0)
		return r;
	return conf_parse_buffer(path, buf, len, fn, userdata, reterr);
}
