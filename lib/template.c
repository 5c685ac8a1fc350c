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
	size_t lit_len; /* the runs' total: the rendering's length without its values */
	size_t n_names; /* parts with a placeholder */
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
	t->lit_len += len;
	t->n_names += name != NULL;
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

/* The value of p's placeholder, or NULL (the error set) for an unknown name. */
static const char *
value_of(const struct template_part *p, template_lookup_fn lookup, void *userdata,
    struct dl_err *reterr)
{
	const char *val = lookup ? lookup(p->name, userdata) : NULL;

	if (!val)
		(void)dl_err_set(reterr, -EINVAL, "line %u: unknown variable '%s'", p->line,
		    p->name);
	return val;
}

/* Placeholders whose values fit on the stack between the two passes; a template with more
 * (none of ours) has them allocated. */
#define EXPAND_ON_STACK 64

int
template_expand(const struct template *t, template_lookup_fn lookup, void *userdata,
    char **ret, size_t *ret_len, struct dl_err *reterr)
{
	const char *stack_vals[EXPAND_ON_STACK], **vals = stack_vals;
	size_t stack_lens[EXPAND_ON_STACK], *lens = stack_lens;
	size_t total = t->lit_len, len = 0, k = 0;
	char *out = NULL;
	int r = 0;

	if (t->n_names > EXPAND_ON_STACK) {
		vals = calloc(t->n_names, sizeof(*vals));
		lens = calloc(t->n_names, sizeof(*lens));
		if (!vals || !lens) {
			r = out_error(-ENOMEM, 1, reterr);
			goto out;
		}
	}
	/* Each value looked up once and sized, then everything written into one exact
	 * allocation: a boot script is about a kilobyte, which malloc serves from its
	 * per-thread cache, where a guess with room to spare took its slow path (a
	 * twentieth of a script answer). */
	for (size_t i = 0; i < t->n_parts; i++) {
		const struct template_part *p = &t->parts[i];

		if (!p->name)
			continue;
		if (!(vals[k] = value_of(p, lookup, userdata, reterr))) {
			r = -EINVAL;
			goto out;
		}
		lens[k] = strlen(vals[k]);
		total += lens[k++];
		if (total > MAX_TEMPLATE_SIZE) {
			r = out_error(-E2BIG, p->line, reterr);
			goto out;
		}
	}
	if (!(out = malloc(total + 1))) {
		r = out_error(-ENOMEM, 1, reterr);
		goto out;
	}
	k = 0;
	for (size_t i = 0; i < t->n_parts; i++) {
		const struct template_part *p = &t->parts[i];

		memcpy(out + len, t->text + p->off, p->len);
		len += p->len;
		if (!p->name)
			continue;
		memcpy(out + len, vals[k], lens[k]);
		len += lens[k++];
	}
	out[len] = '\0';
	if (ret_len)
		*ret_len = len;
	*ret = TAKE_PTR(out);
out:
	if (vals != stack_vals)
		free(vals);
	if (lens != stack_lens)
		free(lens);
	return r;
}

int
template_bind(const struct template *t, const char *keep, template_lookup_fn lookup,
    void *userdata, struct template **ret, struct dl_err *reterr)
{
	_cleanup_(strbuf_done) struct strbuf o = { 0 };
	struct template *b;
	size_t cap = 0, lit_start = 0, keep_len = strlen(keep);
	unsigned line = 1;
	int r;

	if (keep_len == 0 || keep_len > MAX_TEMPLATE_NAME)
		return dl_err_set(reterr, -EINVAL, "bad variable name to keep");
	if (!(b = calloc(1, sizeof(*b))) || !(b->names = strdup(keep))) {
		free(b);
		return -ENOMEM;
	}
	strbuf_reserve(&o, t->text_len + 1024);
	for (size_t i = 0; i < t->n_parts; i++) {
		const struct template_part *p = &t->parts[i];
		const char *val;

		line = p->line;
		if ((r = out_add(&o, t->text + p->off, p->len)) < 0) {
			r = out_error(r, line, reterr);
			goto fail;
		}
		if (!p->name)
			continue;
		if (strcmp(p->name, keep) == 0) {
			/* the run so far, then the kept placeholder */
			if ((r = part_add(b, &cap, lit_start, o.len - lit_start, b->names,
			    p->line)) < 0)
				goto fail;
			lit_start = o.len;
			continue;
		}
		if (!(val = value_of(p, lookup, userdata, reterr))) {
			r = -EINVAL;
			goto fail;
		}
		if ((r = out_add(&o, val, strlen(val))) < 0) {
			r = out_error(r, line, reterr);
			goto fail;
		}
	}
	if ((r = part_add(b, &cap, lit_start, o.len - lit_start, NULL, line)) < 0)
		goto fail;
	b->text_len = o.len;
	b->text = TAKE_PTR(o.s);
	if (!b->text && !(b->text = strdup(""))) {
		r = -ENOMEM;
		goto fail;
	}
	*ret = b;
	return 0;
fail:
	template_free(b);
	return r;
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
