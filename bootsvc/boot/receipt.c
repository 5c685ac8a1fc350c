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

bool
receipt_hypervisor_matches(const char *version, const char *build_id, const char *reported)
{
	char seen[MAX_HYPERVISOR_BUILD_ID + 1];
	size_t vl;

	if (!reported || !version || !build_id || !*version || !*build_id ||
	    strlen(build_id) > MAX_HYPERVISOR_BUILD_ID)
		return false;
	/* Linux shows Xen's id only up to its first zero byte (manifest.h). */
	manifest_build_id_as_seen(build_id, seen, sizeof(seen));
	vl = word_len(reported);
	return *seen && vl == strlen(version) && strncmp(reported, version, vl) == 0 &&
	    reported[vl] == ' ' && strcmp(reported + vl + 1, seen) == 0;
}

static void
short_id(const char *s, char out[17])
{
	(void)snprintf(out, 17, "%.16s", s && *s ? s : "(none)");
}

void
receipt_init(struct receipt *r, const struct kind *k)
{
	memset(r, 0, sizeof(*r));
	r->kind = k;
}

int
receipt_set(struct receipt *r, const char *field, const char *value)
{
	int i = kind_receipt_index(r->kind, field);

	if (i < 0)
		return i;
	r->value[i] = value;
	return 0;
}

int
receipt_from_json(const struct kind *k, const json_t *o, struct receipt *ret,
    struct dl_err *reterr)
{
	struct receipt r;
	size_t n = kind_n_receipt(k);
	char fields[128];

	receipt_init(&r, k);
	/* Like a strict unpack of {s:s, ...}: every field a string, no other key. */
	if (json_is_object(o) && json_object_size(o) == n) {
		size_t i;

		for (i = 0; i < n; i++) {
			json_t *v = json_object_get(o, k->receipt[i].field);

			if (!json_is_string(v))
				break;
			r.value[i] = json_string_value(v);
		}
		if (i == n) {
			*ret = r;
			return 0;
		}
	}
	kind_receipt_describe(k, fields, sizeof(fields));
	return dl_err_set(reterr, -EINVAL, "phase up needs receipt {%s}", fields);
}

/* Hold one reported value against what img says field f should be. */
static bool
check_field(const struct image_rec *img, const struct kind_receipt *f, const char *got,
    char *buf, size_t size)
{
	const char *want = image_rec_sha256(img, f->role);
	char a[17], b[17];

	switch (f->measure) {
	case KIND_MEASURE_KERNEL:
		if (receipt_kernel_matches(img->kernel_banner, want, got))
			return true;
		(void)snprintf(buf, size, "booted %s '%.80s', expected '%.80s'", f->field,
		    got ? got : "(none)", img->kernel_banner);
		return false;
	case KIND_MEASURE_INITRD_TREE:
		/* The init reports the initrd tree hash (docs/boot-protocol.md "The initrd
		 * tree hash"). An image whose manifest predates it has none; the older init in
		 * that image's initrd reports the initrd file's sha256 instead. */
		if (img->initrd_tree[0])
			want = img->initrd_tree;
		fallthrough;
	case KIND_MEASURE_SHA256:
		/* An image without the file proves nothing, whatever the node says. */
		if (got && *want && strcmp(got, want) == 0)
			return true;
		short_id(got, a);
		short_id(want, b);
		(void)snprintf(buf, size, "booted %s %s, expected %s", f->field, a, b);
		return false;
	case KIND_MEASURE_HYPERVISOR:
		/* The image has two builds of its hypervisor, one per firmware (xen for
		 * BIOS multiboot, xen.efi for UEFI), each with its own id: either is the
		 * image's. */
		if (receipt_hypervisor_matches(img->hypervisor_version, img->hypervisor_build_id,
		    got) || receipt_hypervisor_matches(img->hypervisor_version,
		    img->hypervisor_efi_build_id, got))
			return true;
		/* Whole: a build id is the hypervisor's content id, and the admin looking
		 * for the binary that ran needs all of it. */
		(void)snprintf(buf, size, "booted %s '%.100s', expected '%.40s %.100s'%s%.100s",
		    f->field, got ? got : "(none)", img->hypervisor_version,
		    img->hypervisor_build_id, img->hypervisor_efi_build_id[0] ? " or UEFI's " : "",
		    img->hypervisor_efi_build_id);
		return false;
	case _KIND_MEASURE_MAX:
	case _KIND_MEASURE_INVALID:
		break;
	}
	(void)snprintf(buf, size, "receipt field %s cannot be checked", f->field);
	return false;
}

bool
receipt_check(const struct image_rec *img, const struct receipt *r, char *buf, size_t size)
{
	for (size_t i = 0; i < kind_n_receipt(r->kind); i++)
		if (!check_field(img, &r->kind->receipt[i], r->value[i], buf, size))
			return false;
	return true;
}
