/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "relpath.h"

bool
relpath_is_plain(const char *p)
{
	if (!*p || *p == '/')
		return false;
	for (;;) {
		size_t len = strcspn(p, "/");

		if (len == 0 || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		if (!p[len])
			return true;
		p += len + 1;
	}
}
