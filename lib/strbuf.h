/* SPDX-License-Identifier: MIT */
/* A growing text buffer for generated files and responses (dnsmasq.conf, /metrics). An
 * allocation failure is sticky (oom) so callers check once at the end. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

struct strbuf {
	char *s;     /* owned, NUL-terminated once anything was written */
	size_t len, cap;
	bool oom;
};

/* Append formatted text; on ENOMEM sets b->oom and appends nothing more. */
void strbuf_printf(struct strbuf *b, const char *fmt, ...) _printf_(2, 3);
/* Append n bytes of data (which need not be text) and keep b->s NUL-terminated, also
 * for n = 0; on ENOMEM sets b->oom and appends nothing more. */
void strbuf_add(struct strbuf *b, const void *data, size_t n);
/* Make room for n more bytes and the NUL at once, so a buffer whose final size is about
 * known grows by one allocation, not by doubling from 64; on ENOMEM sets b->oom. */
void strbuf_reserve(struct strbuf *b, size_t n);
/* Free the text and reset b. */
void strbuf_done(struct strbuf *b);
