/* SPDX-License-Identifier: MIT */
/* {{name}} templates for iPXE scripts. Strict on purpose: a typo must fail the render,
 * not boot a node with an empty kernel argument. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "strbuf.h"
#include "template.h"

/* Append to the output, which never grows past MAX_TEMPLATE_SIZE: -E2BIG, -ENOMEM. */
static int
out_add(struct strbuf *o, const char *s, size_t n)
{
	if (n > MAX_TEMPLATE_SIZE - o->len)
		return -E2BIG;
	strbuf_add(o, s, n);
	return o->oom ? -ENOMEM : 0;
}

static bool
is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
}

static int
out_error(int r, unsigned line, struct dl_err *reterr)
{
	if (r == -E2BIG)
		return dl_err_set(reterr, r, "line %u: output is larger than %d bytes", line,
		    MAX_TEMPLATE_SIZE);
	return dl_err_set(reterr, r, "line %u: out of memory", line);
}

int
template_render(const char *tmpl, size_t len, template_lookup_fn lookup, void *userdata,
    char **ret, size_t *ret_len, struct dl_err *reterr)
{
	_cleanup_(strbuf_done) struct strbuf o = { 0 };
	unsigned line = 1;
	size_t i = 0;
	int r;

	if (len > MAX_TEMPLATE_SIZE)
		return dl_err_set(reterr, -E2BIG, "template is larger than %d bytes",
		    MAX_TEMPLATE_SIZE);
	r = out_add(&o, "", 0);
	if (r < 0)
		return out_error(r, line, reterr);
	while (i < len) {
		const char *open = NULL;
		size_t run = i, name_start, n;
		char name[MAX_TEMPLATE_NAME + 1], q[QUOTE_BUF_SIZE], q2[QUOTE_BUF_SIZE];
		const char *val;

		/* Copy literal text up to the next "{{" in one go. */
		while (run < len) {
			if (tmpl[run] == '\0')
				return dl_err_set(reterr, -EINVAL, "line %u: NUL byte in template",
				    line);
			if (tmpl[run] == '\n')
				line++;
			if (tmpl[run] == '{' && run + 1 < len && tmpl[run + 1] == '{') {
				open = tmpl + run;
				break;
			}
			run++;
		}
		r = out_add(&o, tmpl + i, run - i);
		if (r < 0)
			return out_error(r, line, reterr);
		if (!open)
			break;
		if (run + 3 < len && tmpl[run + 2] == '{' && tmpl[run + 3] == '{') {
			r = out_add(&o, "{{", 2);
				if (r < 0)
				return out_error(r, line, reterr);
			i = run + 4;
			continue;
		}
		name_start = run + 2;
		for (n = name_start; n < len && is_name_char(tmpl[n]); n++)
			;
		if (n + 1 >= len || tmpl[n] != '}' || tmpl[n + 1] != '}') {
			size_t shown = n - name_start;

			if (n < len && tmpl[n] != '}' && tmpl[n] != '\n')
				return dl_err_set(reterr, -EINVAL,
				    "line %u: bad character '%s' in placeholder '{{%s'", line,
				    parse_quote(q2, tmpl + n, 1),
				    parse_quote(q, tmpl + name_start, shown));
			return dl_err_set(reterr, -EINVAL, "line %u: unterminated placeholder '{{%s'",
			    line, parse_quote(q, tmpl + name_start, shown));
		}
		if (n == name_start)
			return dl_err_set(reterr, -EINVAL, "line %u: empty placeholder '{{}}'", line);
		if (n - name_start > MAX_TEMPLATE_NAME)
			return dl_err_set(reterr, -EINVAL,
			    "line %u: variable name '%s' is longer than %d characters", line,
			    parse_quote(q, tmpl + name_start, n - name_start), MAX_TEMPLATE_NAME);
		memcpy(name, tmpl + name_start, n - name_start);
		name[n - name_start] = '\0';
		val = lookup ? lookup(name, userdata) : NULL;
		if (!val)
			return dl_err_set(reterr, -EINVAL, "line %u: unknown variable '%s'", line,
			    name);
		r = out_add(&o, val, strlen(val));
		if (r < 0)
			return out_error(r, line, reterr);
		i = n + 2;
	}
	if (ret_len)
		*ret_len = o.len;
	*ret = TAKE_PTR(o.s);
	return 0;
}
