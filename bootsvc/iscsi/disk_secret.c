/* SPDX-License-Identifier: MIT */
/* A node disk's CHAP secrets and the stamp of the boot its clone was made for
 * (disk_secret.h). */
#include <errno.h>
#include <string.h>

#include "iscsi/disk_secret.h"
#include "random.h"
#include "macro.h"
#include "sha256.h"

static const char b64url[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int
disk_secret_encode(const uint8_t *b, size_t n, char *buf, size_t size)
{
	size_t o = 0;

	if (n % 3 || size < n / 3 * 4 + 1)
		return -EINVAL;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)b[i] << 16 | (uint32_t)b[i + 1] << 8 | b[i + 2];

		buf[o++] = b64url[v >> 18 & 63];
		buf[o++] = b64url[v >> 12 & 63];
		buf[o++] = b64url[v >> 6 & 63];
		buf[o++] = b64url[v & 63];
	}
	buf[o] = '\0';
	return 0;
}

int
disk_secret_new(char buf[static DISK_SECRET_LEN + 1])
{
	uint8_t b[DISK_SECRET_BYTES];
	int r = dl_random(b, sizeof(b));

	if (r < 0)
		return r;
	r = disk_secret_encode(b, sizeof(b), buf, DISK_SECRET_LEN + 1);
	explicit_bzero(b, sizeof(b));
	return r;
}

void
disk_boot_stamp(const char *token, char out[static DISK_BOOT_STAMP_LEN + 1])
{
	struct sha256_ctx c;
	uint8_t d[SHA256_DIGEST_SIZE];
	char hex[SHA256_HEX_SIZE];

	sha256_init(&c);
	sha256_update(&c, "diskless disk boot:", 19);
	sha256_update(&c, token, strlen(token));
	sha256_final(&c, d);
	sha256_to_hex(d, hex);
	memcpy(out, hex, DISK_BOOT_STAMP_LEN);
	out[DISK_BOOT_STAMP_LEN] = '\0';
}
