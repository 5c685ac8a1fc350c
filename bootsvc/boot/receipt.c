/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include "manifest.h"
#include "boot/receipt.h"

static size_t
word_len(const char *s)
{
	return strcspn(s, " \t\n");
}

bool
receipt_kernel_matches(const char *banner, const char *sha256, const char *reported)
{
	const char *r = reported, *bh, *rh;
	size_t bl, rl;

	if (!reported || !*reported)
		return false;
	if (sha256 && strcmp(sha256, reported) == 0)
		return true;
	if (!banner || !*banner)
		return false;
	if (strncmp(r, "Linux version ", 14) == 0)
		r += 14;
	if (word_len(r) != word_len(banner) || strncmp(r, banner, word_len(r)) != 0)
		return false;
	bh = strchr(banner, '#');
	rh = strchr(r, '#');
	if (!bh || !rh)
		return false;
	bl = strcspn(bh, "\n");
	rl = strcspn(rh, "\n");
	while (bl && (bh[bl - 1] == ' ' || bh[bl - 1] == '\t'))
		bl--;
	while (rl && (rh[rl - 1] == ' ' || rh[rl - 1] == '\t'))
		rl--;
	return bl == rl && memcmp(bh, rh, bl) == 0;
}

static void
short_id(const char *s, char out[17])
{
	(void)snprintf(out, 17, "%.16s", s && *s ? s : "(none)");
}

bool
receipt_check(const struct image_rec *img, const char *kernel, const char *initrd,
    const char *rootfs, char *buf, size_t size)
{
	const char *want_initrd;
	char a[17], b[17];

	if (!rootfs || strcmp(rootfs, image_rec_sha256(img, "rootfs")) != 0) {
		short_id(rootfs, a);
		short_id(image_rec_sha256(img, "rootfs"), b);
		(void)snprintf(buf, size, "booted rootfs %s, expected %s", a, b);
		return false;
	}
	/* The init reports the initrd tree hash (docs/boot-protocol.md "The initrd tree
	 * hash"). An image whose manifest predates it has none; the older init in that
	 * image's initrd reports the initrd file's sha256 instead. */
	want_initrd = img->initrd_tree[0] ? img->initrd_tree : image_rec_sha256(img, "initrd");
	if (!initrd || strcmp(initrd, want_initrd) != 0) {
		short_id(initrd, a);
		short_id(want_initrd, b);
		(void)snprintf(buf, size, "booted initrd %s, expected %s", a, b);
		return false;
	}
	if (!receipt_kernel_matches(img->kernel_banner, image_rec_sha256(img, "kernel"), kernel)) {
		(void)snprintf(buf, size, "booted kernel '%.80s', expected '%.80s'",
		    kernel ? kernel : "(none)", img->kernel_banner);
		return false;
	}
	return true;
}
