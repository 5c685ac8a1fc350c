/* SPDX-License-Identifier: MIT */
/* An enum's names as a table indexed by its values, and the two lookups every such enum
 * has (systemd's string tables), written once: a name to a value and back, with NULL and
 * out-of-range handled the same way for every table. A NULL entry is a value without a
 * name (a sparse table, IPMI's sensor types). */
#pragma once

#include <stddef.h>

#include "macro.h"

/* table[i], or NULL when i is outside the table. */
const char *name_table_name(const char *const *table, size_t n, long i);
/* The index whose name is s (case-sensitive), or -1 for none and for s NULL. */
long name_table_index(const char *const *table, size_t n, const char *s);

/* table[i], or fallback for a value without a name (outside the table, negative
 * included, or a NULL entry): for a name function that must return a printable string. */
#define NAME_OF(table, i, fallback) \
	(name_table_name((table), ELEMENTSOF(table), (long)(i)) ?: (fallback))

/* const char *prefix_to_string(type v): table[v], NULL for a value without a name. */
#define DEFINE_NAME_TABLE_TO_STRING(prefix, type, table)                          \
	const char *prefix##_to_string(type v)                                    \
	{                                                                         \
		return name_table_name(table, ELEMENTSOF(table), (long)v);        \
	}

/* That, and type prefix_from_string(const char *s): invalid for a name not in table. */
#define DEFINE_NAME_TABLE_LOOKUP(prefix, type, table, invalid)                    \
	DEFINE_NAME_TABLE_TO_STRING(prefix, type, table)                          \
	type prefix##_from_string(const char *s)                                  \
	{                                                                         \
		long i_ = name_table_index(table, ELEMENTSOF(table), s);          \
		return i_ < 0 ? (invalid) : (type)i_;                             \
	}
