/* SPDX-License-Identifier: MIT */
/* The iPXE script template renderer. A template is text with {{name}} placeholders;
 * names are [a-z0-9_.]+; "{{{{" is a literal "{{". Unknown names and unterminated
 * placeholders are errors naming the line and the name, so a typo in a template never
 * boots a node with an empty kernel argument. */
#pragma once

#include <stddef.h>

#include "err.h"

/* Longest template accepted and longest rendering produced. */
#define MAX_TEMPLATE_SIZE (64 * 1024)
/* Longest placeholder name: our names are short dotted words ("image.kernel"); a longer
 * one is a typo or garbage, and the cap keeps the lookup key on the stack. */
#define MAX_TEMPLATE_NAME 64

/* Returns the value for name (borrowed, must live until render returns) or NULL if unknown. */
typedef const char *(*template_lookup_fn)(const char *name, void *userdata);

/* Render tmpl (len bytes, need not be NUL-terminated) into a new malloc'd NUL-terminated
 * string in *ret (length in *ret_len if not NULL). Values are inserted verbatim (the
 * caller validates them). Errors: -EINVAL (syntax, unknown name, NUL byte in the template;
 * reterr says "line N: ..."), -E2BIG (template or output over MAX_TEMPLATE_SIZE), -ENOMEM.
 * *ret and *ret_len are written only on success. */
int template_render(const char *tmpl, size_t len, template_lookup_fn lookup, void *userdata,
    char **ret, size_t *ret_len, struct dl_err *reterr);

/* The same in two steps, for a template rendered many times (the iPXE scripts, once per
 * request): template_compile() checks the syntax and splits tmpl into literal runs and
 * placeholders (errors as template_render's, but for unknown names, which only a lookup
 * can tell); template_expand() renders it (errors: an unknown name, -E2BIG, -ENOMEM, as
 * template_render's). A compiled template is read-only: threads may expand it at once. */
struct template;
int template_compile(const char *tmpl, size_t len, struct template **ret, struct dl_err *reterr);
int template_expand(const struct template *t, template_lookup_fn lookup, void *userdata,
    char **ret, size_t *ret_len, struct dl_err *reterr);
void template_free(struct template *t);

/* t with every placeholder but keep's rendered: a new compiled template whose only
 * placeholder is keep (as often as t has it), for a template whose other values stay the
 * same over many renders (a kind's script for one image version, which differs between
 * nodes only by {{node}}). Values are inserted verbatim and never parsed again, so one
 * that holds "{{" stays text. Errors as template_expand's (an unknown name other than
 * keep: -EINVAL), and -EINVAL for an empty or over-long keep. */
int template_bind(const struct template *t, const char *keep, template_lookup_fn lookup,
    void *userdata, struct template **ret, struct dl_err *reterr);
