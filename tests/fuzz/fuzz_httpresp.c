/* SPDX-License-Identifier: MIT */
/* The init's HTTP response head parser (initramfs/httpresp.c): never reads past len, a
 * parsed head ends inside the input, and the fields respect their ranges. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../initramfs/httpresp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_resp r;
	char *copy;
	int n;

	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	n = httpresp_parse(copy, size, &r);
	if (n > 0) {
		if ((size_t)n > size || n > MAX_HTTP_HEAD || r.status < 100 || r.status > 599 ||
		    r.content_length < -1)
			abort();
		if (r.has_range && (r.range_end < r.range_start ||
		    (r.range_total >= 0 && r.range_end >= (uint64_t)r.range_total)))
			abort();
	}
	free(copy);
	return 0;
}
