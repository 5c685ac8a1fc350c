/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "boot/credential.h"
#include "boot/overlay.h"

static uint32_t
crc32_ieee(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
	}
	return ~c;
}

static void
put_le(uint8_t *p, uint32_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

int
credential_gzip_stored(const void *data, size_t len, char **ret, size_t *ret_len)
{
	static const uint8_t head[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };
	uint8_t *out;
	size_t n = 0;

	if (len > 0xffff)
		return -E2BIG;
	out = malloc(sizeof(head) + 5 + len + 8);
	if (!out)
		return -ENOMEM;
	memcpy(out, head, sizeof(head));
	n = sizeof(head);
	out[n++] = 0x01; /* BFINAL, BTYPE 00: stored */
	put_le(out + n, (uint32_t)len, 2);
	put_le(out + n + 2, (uint32_t)(~len & 0xffff), 2);
	n += 4;
	memcpy(out + n, data, len);
	n += len;
	put_le(out + n, crc32_ieee(data, len), 4);
	put_le(out + n + 4, (uint32_t)len, 4);
	n += 8;
	*ret = (char *)out;
	*ret_len = n;
	return 0;
}

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
