/* SPDX-License-Identifier: MIT */
/* A node's report of a failed sanboot, parsed (san_report.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "iscsi/san_report.h"
#include "log.h"

int
san_report_parse(const char *what, const char *errno_s, uint32_t *ret_errno,
    struct dl_err *reterr)
{
	char q[MAX_LOG_VALUE + 1];
	const char *p = errno_s;
	uint32_t v = 0;
	size_t n;

	if (!what || strcmp(what, SAN_REPORT_WHAT) != 0)
		return dl_err_set(reterr, -EINVAL, "what '%s' is not " SAN_REPORT_WHAT,
		    log_safe(q, sizeof(q), what ? what : ""));
	if (!p || strlen(p) > MAX_SAN_ERRNO_LEN)
		goto bad;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2;
	n = strlen(p);
	if (n == 0 || n > 8 || strspn(p, "0123456789abcdefABCDEF") != n)
		goto bad;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];

		v = v << 4 | (uint32_t)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	*ret_errno = v;
	return 0;
bad:
	return dl_err_set(reterr, -EINVAL, "errno '%s' is not an iPXE error number (0x and up "
	    "to 8 hex digits)", log_safe(q, sizeof(q), errno_s ? errno_s : ""));
}

int
san_report_reason(uint32_t err, char *buf, size_t size)
{
	int n = snprintf(buf, size, "sanboot failed: iPXE error 0x%08x (https://ipxe.org/%08x)",
	    err, err);

	return n < 0 || (size_t)n >= size ? -ENOSPC : 0;
}
