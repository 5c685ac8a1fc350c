/* SPDX-License-Identifier: MIT */
/* A node's report of a failed sanboot (bootsvc/iscsi/san_report.c): the query's what and
 * errno, split at the first NUL of the input. Invariants on success: what was
 * "sanboot", errno was at most 10 characters, the reason renders, and the parse is
 * stable and round-trips through the "0x%08x" form. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../bootsvc/iscsi/san_report.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dl_err e = { 0 };
	const uint8_t *nul;
	char *what, *err, hex[16], reason[128];
	uint32_t v, v2;

	if (size > 256)
		return 0;
	nul = memchr(data, 0, size);
	what = fuzz_cstr(data, nul ? (size_t)(nul - data) : size);
	err = nul ? fuzz_cstr(nul + 1, size - (size_t)(nul - data) - 1) : NULL;
	if (!what)
		goto out;
	if (san_report_parse(what, err, &v, &e) == 0) {
		if (!err || strcmp(what, "sanboot") != 0 || strlen(err) > MAX_SAN_ERRNO_LEN)
			abort();
		if (san_report_reason(v, reason, sizeof(reason)) != 0)
			abort();
		(void)snprintf(hex, sizeof(hex), "0x%08x", v);
		if (san_report_parse(what, hex, &v2, &e) != 0 || v2 != v)
			abort();
	}
out:
	free(what);
	free(err);
	return 0;
}
