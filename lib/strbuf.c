/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

/* b's buffer made cap bytes; false, b->oom set, when it cannot be. */
static bool
set_cap(struct strbuf *b, size_t cap)
{
	char *s = realloc(b->s, cap);

	if (!s) {
		b->oom = true;
		return false;
	}
	b->s = s;
	b->cap = cap;
	return true;
}

void
strbuf_printf(struct strbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		size_t room = b->cap - b->len;
		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		if (!set_cap(b, (b->cap + (size_t)n + 1) * 2))
			return;
	}
}

void
strbuf_reserve(struct strbuf *b, size_t n)
{
	if (b->oom || n < b->cap - b->len)
		return;
	if (n > SIZE_MAX - b->len - 1)
		b->oom = true;
	else
		(void)set_cap(b, b->len + n + 1);
}

void
strbuf_add(struct strbuf *b, const void *data, size_t n)
{
	if (b->oom)
		return;
	if (n >= b->cap - b->len) {
		size_t cap = b->cap ? b->cap : 64;

		while (cap - b->len <= n) {
			if (cap > SIZE_MAX / 2) {
				b->oom = true;
				return;
			}
			cap *= 2;
		}
		if (!set_cap(b, cap))
			return;
	}
	if (n) /* data may be NULL then, and memcpy(.., NULL, 0) is undefined */
		memcpy(b->s + b->len, data, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void
strbuf_done(struct strbuf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
	b->oom = false;
}
