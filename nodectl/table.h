/* SPDX-License-Identifier: MIT */
/* Aligned text tables for nodectl's human output: column widths come from the content,
 * cells are never truncated, a missing cell prints as "-". */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "err.h"

/* Widest a column grows for alignment. A longer cell is still printed whole (a table
 * never hides data; --json is there for exact values) and pushes the rest of its row
 * right, so one long REASON or path cannot widen every row of a 10,000-node list. */
#define MAX_TABLE_COL_WIDTH 48
/* Most columns one table has; nodectl's widest (node list) has 9. */
#define MAX_TABLE_COLS 16

struct table;

/* A table with ncols columns (1..MAX_TABLE_COLS) and these headers (copied).
 * Returns a new table, NULL on ENOMEM or a bad ncols. */
struct table *table_new(const char *const *headers, size_t ncols);
/* Accepts NULL; returns NULL. */
struct table *table_free(struct table *t);

/* Right-align column col (numbers, sizes, ages). */
void table_set_right(struct table *t, size_t col);

/* Append a row of ncols cells (copied; a NULL or "" cell prints as "-"). Control
 * characters (C0, DEL, C1) in cells become '?', since cell text comes from the daemon and
 * from booting nodes and must not drive the terminal. Returns 0 or -ENOMEM. */
int table_add_row(struct table *t, const char *const *cells);

/* table_add_row() for a command's printer: -ENOMEM says "out of memory" in reterr. */
int table_add_row_err(struct table *t, const char *const *cells, struct dl_err *reterr);

/* The end of a command's printer: when r is 0, print t ("cannot write the output" and
 * -EIO in reterr when out fails); free t either way. Returns r, or the print's error. */
int table_finish(struct table *t, int r, FILE *out, struct dl_err *reterr);

size_t table_rows(const struct table *t);

/* Display width of column col: the widest of its header and cells (in code points),
 * capped at MAX_TABLE_COL_WIDTH. */
size_t table_col_width(const struct table *t, size_t col);

/* Print header and rows, columns separated by two spaces, no trailing blanks.
 * Returns 0 or -EIO when out reports a write error. */
int table_print(const struct table *t, FILE *out);

/* Copy s into a new string with control characters replaced by '?' (as table cells are).
 * NULL on ENOMEM. */
char *table_sanitize(const char *s);
/* Display width of a UTF-8 string in code points (each cell is assumed one column). */
size_t table_text_width(const char *s);
