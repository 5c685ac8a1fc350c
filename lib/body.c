/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"

int
body_append(char **body, size_t *len, bool *too_big, const void *data, size_t n, size_t cap)
{
	char *b;

	if (*too_big || n > cap - *len) {
		*too_big = true;
		return 0;
	}
	b = realloc(*body, *len + n + 1);
	if (!b)
		return -ENOMEM;
	memcpy(b + *len, data, n);
	*body = b;
	*len += n;
	b[*len] = '\0';
	return 0;
}
