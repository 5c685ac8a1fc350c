/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "boot/credential.h"
#include "boot/overlay.h"

int
credential_cpio_build(const char *token, char **ret, size_t *ret_len)
{
	struct cpio_buf b = { 0 };
	char line[160];
	int len, r;

	len = snprintf(line, sizeof(line), "token=%s\n", token);
	if (len < 0 || (size_t)len >= sizeof(line))
		return -EINVAL;
	if ((r = cpio_add(&b, CREDENTIAL_PATH, S_IFREG | 0400, line, (size_t)len)) < 0 ||
	    (r = cpio_finish(&b)) < 0) {
		free(b.data);
		return r;
	}
	explicit_bzero(line, sizeof(line));
	*ret = b.data;
	*ret_len = b.len;
	return 0;
}
