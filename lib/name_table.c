/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "name_table.h"

const char *
name_table_name(const char *const *table, size_t n, long i)
{
	return i >= 0 && (size_t)i < n ? table[i] : NULL;
}

long
name_table_index(const char *const *table, size_t n, const char *s)
{
	if (!s)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (table[i] && strcmp(table[i], s) == 0)
			return (long)i;
	return -1;
}
