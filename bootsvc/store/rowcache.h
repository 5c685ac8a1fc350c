/* SPDX-License-Identifier: MIT */
/* A bounded table of rows, each an opaque run of bytes found by any of three string keys
 * (a node's MAC, its name and its SQLite rowid): what the SQLite writer keeps of the rows
 * it has read, so a script request does not run a query (store_sqlite_cache.c says when a
 * row goes).
 *
 * Nothing here knows SQL or what a row holds. A row is put under all its keys and goes
 * with any: a put replaces every row that has one of its keys, a forget by one key drops
 * the row from every index. Past max_rows a put drops an older row to make room, so the table
 * never holds more than max_rows and their bytes. One thread's (the loop's). */
#pragma once

#include <stddef.h>

enum rowcache_key {
	ROWCACHE_KEY_A, /* a node's MAC */
	ROWCACHE_KEY_B, /* a node's name */
	ROWCACHE_KEY_C, /* its rowid, in decimal: what SQLite's update hook names */
	_ROWCACHE_KEY_MAX,
};

struct rowcache;

/* A table of at most max_rows rows (>= 1); NULL for want of memory. Its index is
 * allocated at the first put. */
struct rowcache *rowcache_new(unsigned max_rows);
/* Free rc and its rows (NULL is fine). Returns NULL. */
struct rowcache *rowcache_free(struct rowcache *rc);
/* The bytes of the row whose key k is value, and their length; NULL when there is none.
 * Borrowed until the next put, forget or clear. */
const void *rowcache_find(const struct rowcache *rc, enum rowcache_key k, const char *value,
    size_t *ret_len);
/* Keep row[0..len) under keys[k] for each key k, replacing any row one of them finds.
 * 0, -EINVAL for an empty key or one of 64 KiB or more, -ENOMEM (the table is left as it
 * was, less any row the put replaced). */
int rowcache_put(struct rowcache *rc, const char *const keys[_ROWCACHE_KEY_MAX],
    const void *row, size_t len);
/* Drop the row whose key k is value, if any. */
void rowcache_forget(struct rowcache *rc, enum rowcache_key k, const char *value);
/* Drop every row. */
void rowcache_clear(struct rowcache *rc);
/* Rows held. */
unsigned rowcache_count(const struct rowcache *rc);
