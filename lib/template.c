/* SPDX-License-Identifier: MIT */
/* {{name}} templates for iPXE scripts. Strict on purpose: a typo must fail the render,
 * not boot a node with an empty kernel argument. A template is parsed once into literal
 * runs and placeholders (template_compile, at load), so a script request only copies and
 * looks up (template_expand): the scan was a tenth of a script request's CPU. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "strbuf.h"
#include "template.h"

/* A literal run of the text, then the placeholder after it (NULL name: the end). */
struct template_part {
	size_t off, len;  /* the run: text[off, off + len) */
	const char *name; /* NUL-terminated in template.names */
	unsigned line;    /* the placeholder's, for an unknown name */
};

struct template {
	char *text; /* owned copy */
	size_t text_len;
	char *names;
	struct template_part *parts;
	size_t n_parts;
};

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

void
template_free(struct template *t)
{
	if (!t)
		return;
	free(t->text);
	free(t->names);
	free(t->parts);
	free(t);
}

static int
part_add(struct template *t, size_t *cap, size_t off, size_t len, const char *name,
    unsigned line)
{
	if (t->n_parts == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct template_part *p = reallocarray(t->parts, ncap, sizeof(*p));

		if (!p)
			return -ENOMEM;
		t->parts = p;
		*cap = ncap;
	}
	t->parts[t->n_parts++] = (struct template_part){ off, len, name, line };
	return 0;
}

int
template_compile(const char *tmpl, size_t len, struct template **ret, struct dl_err *reterr)
{
	struct template *t;
	size_t i = 0, cap = 0, names_used = 0, lit_start = 0;
	unsigned line = 1;
	int r;

	if (len > MAX_TEMPLATE_SIZE)
		return dl_err_set(reterr, -E2BIG, "template is larger than %d bytes",
		    MAX_TEMPLATE_SIZE);
	if (!(t = calloc(1, sizeof(*t))))
		return -ENOMEM;
	/* Every name is a piece of the text between braces, so the text's length holds
	 * them all with their NULs. */
	t->text = malloc(len + 1);
	t->names = malloc(len + 1);
	if (!t->text || !t->names) {
		template_free(t);
		return -ENOMEM;
	}
	memcpy(t->text, tmpl, len);
	t->text_len = len;
	t->text[len] = '\0';
	while (i < len) {
		const char *open = NULL;
		size_t run = i, name_start, n;
		char q[QUOTE_BUF_SIZE], q2[QUOTE_BUF_SIZE];
		char *name;

		while (run < len) {
			if (tmpl[run] == '\0') {
				r = dl_err_set(reterr, -EINVAL, "line %u: NUL byte in template",
				    line);
				goto fail;
			}
			if (tmpl[run] == '\n')
				line++;
			if (tmpl[run] == '{' && run + 1 < len && tmpl[run + 1] == '{') {
				open = tmpl + run;
				break;
			}
			run++;
		}
		if (!open) {
			i = run;
			break;
		}
		if (run + 3 < len && tmpl[run + 2] == '{' && tmpl[run + 3] == '{') {
			/* "{{{{": the run goes on, with its first "{{" only */
			if ((r = part_add(t, &cap, lit_start, run + 2 - lit_start, NULL, line)) < 0)
				goto fail;
			i = lit_start = run + 4;
			continue;
		}
		name_start = run + 2;
		for (n = name_start; n < len && is_name_char(tmpl[n]); n++)
			;
		if (n + 1 >= len || tmpl[n] != '}' || tmpl[n + 1] != '}') {
			size_t shown = n - name_start;

			if (n < len && tmpl[n] != '}' && tmpl[n] != '\n')
				r = dl_err_set(reterr, -EINVAL,
				    "line %u: bad character '%s' in placeholder '{{%s'", line,
				    parse_quote(q2, tmpl + n, 1),
				    parse_quote(q, tmpl + name_start, shown));
			else
				r = dl_err_set(reterr, -EINVAL,
				    "line %u: unterminated placeholder '{{%s'", line,
				    parse_quote(q, tmpl + name_start, shown));
			goto fail;
		}
		if (n == name_start) {
			r = dl_err_set(reterr, -EINVAL, "line %u: empty placeholder '{{}}'", line);
			goto fail;
		}
		if (n - name_start > MAX_TEMPLATE_NAME) {
			r = dl_err_set(reterr, -EINVAL,
			    "line %u: variable name '%s' is longer than %d characters", line,
			    parse_quote(q, tmpl + name_start, n - name_start), MAX_TEMPLATE_NAME);
			goto fail;
		}
		name = t->names + names_used;
		memcpy(name, tmpl + name_start, n - name_start);
		name[n - name_start] = '\0';
		names_used += n - name_start + 1;
		if ((r = part_add(t, &cap, lit_start, run - lit_start, name, line)) < 0)
			goto fail;
		i = lit_start = n + 2;
	}
	if ((r = part_add(t, &cap, lit_start, i - lit_start, NULL, line)) < 0)
		goto fail;
	*ret = t;
	return 0;
fail:
	template_free(t);
	return r;
}

int
template_expand(const struct template *t, template_lookup_fn lookup, void *userdata,
    char **ret, size_t *ret_len, struct dl_err *reterr)
{
	_cleanup_(strbuf_done) struct strbuf o = { 0 };
	int r;

	/* The text and a boot script's values (a command line, a few hashes) in one go. */
	strbuf_reserve(&o, t->text_len + 1024);
	r = out_add(&o, "", 0);
	if (r < 0)
		return out_error(r, 1, reterr);
	for (size_t i = 0; i < t->n_parts; i++) {
		const struct template_part *p = &t->parts[i];
		const char *val;

		if ((r = out_add(&o, t->text + p->off, p->len)) < 0)
			return out_error(r, p->line, reterr);
		if (!p->name)
			continue;
		val = lookup ? lookup(p->name, userdata) : NULL;
		if (!val)
			return dl_err_set(reterr, -EINVAL, "line %u: unknown variable '%s'",
			    p->line, p->name);
		if ((r = out_add(&o, val, strlen(val))) < 0)
			return out_error(r, p->line, reterr);
	}
	if (ret_len)
		*ret_len = o.len;
	*ret = TAKE_PTR(o.s);
	return 0;
}

int
template_render(const char *tmpl, size_t len, template_lookup_fn lookup, void *userdata,
    char **ret, size_t *ret_len, struct dl_err *reterr)
{
	struct template *t = NULL;
	int r;

	if ((r = template_compile(tmpl, len, &t, reterr)) < 0)
		return r;
	r = template_expand(t, lookup, userdata, ret, ret_len, reterr);
	template_free(t);
	return r;
}
