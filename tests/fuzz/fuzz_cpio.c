/* SPDX-License-Identifier: MIT */
/* The overlay cpio walker (initramfs/cpio.c): every member handed to the callback lies
 * inside the input, has a checked relative name, and a known type. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../initramfs/cpio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct range {
	const uint8_t *lo, *hi;
};

static int
check(const struct cpio_entry *e, void *userdata, struct init_err *reterr)
{
	const struct range *r = userdata;
	const uint8_t *n = (const uint8_t *)e->name;
	volatile uint8_t sink = 0;
	size_t i;

	(void)reterr;
	if (n < r->lo || n + strlen(e->name) >= r->hi || cpio_name_check(e->name) != 0)
		abort();
	if (e->size && (e->data < r->lo || e->data + e->size > r->hi))
		abort();
	if (e->type != CPIO_FILE && e->type != CPIO_DIR && e->type != CPIO_SYMLINK)
		abort();
	for (i = 0; i < e->size; i++) /* ASan checks every byte is readable */
		sink ^= e->data[i];
	(void)sink;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct range r = { data, data + size };
	struct init_err e = { "" };
	uint8_t *copy;

	/* a heap copy of the exact size, so ASan sees any read past the end */
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	r.lo = copy;
	r.hi = copy + size;
	if (cpio_walk(copy, size, check, &r, &e) < 0 && !e.msg[0])
		abort();
	free(copy);
	return 0;
}
