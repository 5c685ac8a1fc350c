/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "format.h"
#include "macro.h"
#include "table.h"

const char *
format_scalar(const json_t *v, char buf[static FORMAT_BUF])
{
	/* json_typeof() dereferences; a missing key is the common case here. */
	if (!v)
		return NULL;
	switch (json_typeof(v)) {
	case JSON_STRING:
		return json_string_value(v);
	case JSON_INTEGER:
		(void)snprintf(buf, FORMAT_BUF, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return buf;
	case JSON_REAL:
		(void)snprintf(buf, FORMAT_BUF, "%g", json_real_value(v));
		return buf;
	case JSON_TRUE:
		return "yes";
	case JSON_FALSE:
		return "no";
	default:
		return NULL;
	}
}

const char *
format_time(const json_t *v, char buf[static FORMAT_BUF])
{
	struct tm tm;
	time_t t;

	if (json_is_string(v))
		return json_string_value(v);
	/* bootsvc sends 0 for "never" (a node that has not reported a phase yet). */
	if (!json_is_integer(v) || json_integer_value(v) <= 0)
		return NULL;
	t = (time_t)json_integer_value(v);
	if (!gmtime_r(&t, &tm) || strftime(buf, FORMAT_BUF, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return NULL;
	return buf;
}

const char *
format_age(const json_t *v, time_t now, char buf[static FORMAT_BUF])
{
	json_int_t at, d;

	if (!json_is_integer(v) || json_integer_value(v) <= 0)
		return NULL; /* 0 is "never", see format_time() */
	at = json_integer_value(v);
	/* A clock step on either host can put phase_at ahead of now. */
	d = at >= (json_int_t)now ? 0 : (json_int_t)now - at;
	if (d < 120)
		(void)snprintf(buf, FORMAT_BUF, "%llds", (long long)d);
	else if (d < 2 * 3600)
		(void)snprintf(buf, FORMAT_BUF, "%lldm", (long long)(d / 60));
	else if (d < 2 * 86400)
		(void)snprintf(buf, FORMAT_BUF, "%lldh", (long long)(d / 3600));
	else
		(void)snprintf(buf, FORMAT_BUF, "%lldd", (long long)(d / 86400));
	return buf;
}

const char *
format_size(const json_t *v, char buf[static FORMAT_BUF])
{
	static const char units[] = "BKMGTPE";
	double x;
	size_t u = 0;

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return NULL;
	x = (double)json_integer_value(v);
	if (x < 1024) {
		(void)snprintf(buf, FORMAT_BUF, "%" JSON_INTEGER_FORMAT "B", json_integer_value(v));
		return buf;
	}
	while (x >= 1024 && u + 1 < sizeof(units) - 1) {
		x /= 1024;
		u++;
	}
	(void)snprintf(buf, FORMAT_BUF, x < 10 ? "%.1f%c" : "%.0f%c", x, units[u]);
	return buf;
}

int
format_kv_print(FILE *out, const struct format_kv *kv, size_t n)
{
	size_t width = 0;

	for (size_t i = 0; i < n; i++)
		if (strlen(kv[i].key) > width)
			width = strlen(kv[i].key);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *k = table_sanitize(kv[i].key);
		_cleanup_free_ char *v = table_sanitize(kv[i].value && kv[i].value[0] ?
		    kv[i].value : "-");

		if (!k || !v)
			return -ENOMEM;
		size_t pad = strlen(k) < width ? width - strlen(k) : 0;

		(void)fprintf(out, "%s:%*s %s\n", k, (int)pad, "", v);
	}
	return ferror(out) ? -EIO : 0;
}
