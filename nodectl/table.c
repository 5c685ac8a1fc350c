/* SPDX-License-Identifier: MIT */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "table.h"

struct table {
	size_t ncols;
	char *headers[MAX_TABLE_COLS];     /* owned */
	bool right[MAX_TABLE_COLS];
	size_t width[MAX_TABLE_COLS];      /* uncapped widest cell so far */
	char **cells;                      /* owned; nrows * ncols, each owned */
	size_t nrows, cap;
};

char *
table_sanitize(const char *s)
{
	size_t n = strlen(s);
	char *r = malloc(n + 1);

	if (!r)
		return NULL;
	for (size_t i = 0, o = 0; i <= n; i++) {
		unsigned char c = (unsigned char)s[i];

		/* C1 controls (U+0080..U+009F, UTF-8 C2 80..C2 9F) include CSI, which some
		 * terminals honour like ESC [: replace the pair by one '?'. */
		if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 &&
		    (unsigned char)s[i + 1] <= 0x9f) {
			r[o++] = '?';
			i++;
		} else if (c != 0 && (c < 0x20 || c == 0x7f)) {
			r[o++] = '?';
		} else {
			r[o++] = (char)c;
		}
	}
	return r;
}

size_t
table_text_width(const char *s)
{
	size_t w = 0;

	/* Count every byte that does not continue a UTF-8 sequence. */
	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

struct table *
table_new(const char *const *headers, size_t ncols)
{
	struct table *t;

	if (ncols == 0 || ncols > MAX_TABLE_COLS)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->ncols = ncols;
	for (size_t c = 0; c < ncols; c++) {
		t->headers[c] = table_sanitize(headers[c] ? headers[c] : "");
		if (!t->headers[c])
			return table_free(t);
		t->width[c] = table_text_width(t->headers[c]);
	}
	return t;
}

struct table *
table_free(struct table *t)
{
	if (!t)
		return NULL;
	for (size_t c = 0; c < t->ncols; c++)
		free(t->headers[c]);
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
	return NULL;
}

void
table_set_right(struct table *t, size_t col)
{
	assert(col < t->ncols);
	t->right[col] = true;
}

int
table_add_row(struct table *t, const char *const *cells)
{
	char *row[MAX_TABLE_COLS] = { 0 };

	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **p = reallocarray(t->cells, cap, t->ncols * sizeof(char *));

		if (!p)
			return -ENOMEM;
		t->cells = p;
		t->cap = cap;
	}
	for (size_t c = 0; c < t->ncols; c++) {
		const char *s = cells[c] && cells[c][0] ? cells[c] : "-";

		row[c] = table_sanitize(s);
		if (!row[c]) {
			for (size_t k = 0; k < c; k++)
				free(row[k]);
			return -ENOMEM;
		}
	}
	for (size_t c = 0; c < t->ncols; c++) {
		size_t w = table_text_width(row[c]);

		if (w > t->width[c])
			t->width[c] = w;
		t->cells[t->nrows * t->ncols + c] = row[c];
	}
	t->nrows++;
	return 0;
}

size_t
table_rows(const struct table *t)
{
	return t->nrows;
}

size_t
table_col_width(const struct table *t, size_t col)
{
	assert(col < t->ncols);
	return t->width[col] < MAX_TABLE_COL_WIDTH ? t->width[col] : MAX_TABLE_COL_WIDTH;
}

static void
table_pad(FILE *out, size_t n)
{
	for (; n > 0; n--)
		(void)fputc(' ', out); /* errors are collected by ferror() in table_print() */
}

static void
table_print_row(const struct table *t, char *const *row, FILE *out)
{
	for (size_t c = 0; c < t->ncols; c++) {
		size_t width = table_col_width(t, c), w = table_text_width(row[c]);
		size_t pad = w < width ? width - w : 0;
		bool last = c + 1 == t->ncols;

		if (c > 0)
			(void)fputs("  ", out);
		if (t->right[c])
			table_pad(out, pad);
		(void)fputs(row[c], out);
		/* No padding after the last column: trailing blanks only hurt grep and diff. */
		if (!t->right[c] && !last)
			table_pad(out, pad);
	}
	(void)fputc('\n', out);
}

int
table_print(const struct table *t, FILE *out)
{
	table_print_row(t, t->headers, out);
	for (size_t r = 0; r < t->nrows; r++)
		table_print_row(t, t->cells + r * t->ncols, out);
	return ferror(out) ? -EIO : 0;
}

int
table_add_row_err(struct table *t, const char *const *cells, struct dl_err *reterr)
{
	int r = table_add_row(t, cells);

	return r < 0 ? dl_err_set(reterr, r, "out of memory") : 0;
}

int
table_finish(struct table *t, int r, FILE *out, struct dl_err *reterr)
{
	if (r == 0 && table_print(t, out) < 0)
		r = dl_err_set(reterr, -EIO, "cannot write the output");
	table_free(t);
	return r;
}
