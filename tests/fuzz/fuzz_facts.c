/* SPDX-License-Identifier: MIT */
/* dl-report up --facts FILE (initramfs/report.c report_facts_check): the facts are
 * spliced into the report body as they are, so what passes must be one JSON object
 * within MAX_FACTS. Invariants on success: starts with '{', ends with '}', no control
 * characters outside whitespace, stable on a second check. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../initramfs/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[2 * MAX_FACTS + 1];
	struct init_err e = { "" };
	size_t n;

	if (size > 2 * MAX_FACTS)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	if (report_facts_check(buf, &e) == 0) {
		n = strlen(buf);
		if (n > MAX_FACTS || buf[n - 1] != '}')
			abort();
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)buf[i] < 0x20 && !strchr(" \t\n\r", buf[i]))
				abort();
		if (report_facts_check(buf, &e) != 0)
			abort();
	} else if (!e.msg[0]) {
		abort();
	}
	return 0;
}
