/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "err.h"

int
dl_err_set_at(struct dl_err *e, const char *file, int line, int code, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return code;
	e->code = code;
	e->file = file;
	e->line = line;
	va_start(ap, fmt);
	(void)vsnprintf(e->msg, sizeof(e->msg), fmt, ap); /* truncation is acceptable */
	va_end(ap);
	return code;
}

int
dl_err_prefix(struct dl_err *e, const char *fmt, ...)
{
	char head[MAX_ERR_MSG], old[MAX_ERR_MSG];
	va_list ap;

	if (!e)
		return 0;
	memcpy(old, e->msg, sizeof(old));
	va_start(ap, fmt);
	(void)vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	/* Two bounded copies instead of one snprintf, so truncation is explicit. */
	size_t n = strnlen(head, sizeof(e->msg) - 1);
	memcpy(e->msg, head, n);
	if (n + 2 < sizeof(e->msg)) {
		memcpy(e->msg + n, ": ", 2);
		n += 2;
	}
	size_t m = strnlen(old, sizeof(e->msg) - 1 - n);
	memcpy(e->msg + n, old, m);
	e->msg[n + m] = '\0';
	return e->code;
}

void
dl_err_clear(struct dl_err *e)
{
	if (e)
		memset(e, 0, sizeof(*e));
}

const char *
dl_errno_name(int code)
{
	switch (code < 0 ? -code : code) {
	case 0: return "OK";
	case EINVAL: return "EINVAL";
	case ENOENT: return "ENOENT";
	case EEXIST: return "EEXIST";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case EIO: return "EIO";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EBUSY: return "EBUSY";
	case E2BIG: return "E2BIG";
	case ERANGE: return "ERANGE";
	case EPROTO: return "EPROTO";
	case ENOTSUP: return "ENOTSUP";
	case EAGAIN: return "EAGAIN";
	case EHOSTUNREACH: return "EHOSTUNREACH";
	case ECONNREFUSED: return "ECONNREFUSED";
	case ENOSPC: return "ENOSPC";
	case ECANCELED: return "ECANCELED";
	case EMFILE: return "EMFILE";
	case ENFILE: return "ENFILE";
	case ENOBUFS: return "ENOBUFS";
	case ECONNABORTED: return "ECONNABORTED";
	case ENOKEY: return "ENOKEY"; /* a VM host while bootsvc has no CA */
	case EALREADY: return "EALREADY"; /* a VM is there already, a plan has ended */
	case ECONNRESET: return "ECONNRESET"; /* a peer cut a transfer (sync/) */
	case EBADMSG: return "EBADMSG";       /* a peer sent bytes of the wrong hash */
	case EKEYREJECTED: return "EKEYREJECTED"; /* a Redfish BMC's certificate failed its pin or CA */
	case ELOOP: return "ELOOP"; /* a Redfish log's nextLink names a page read before */
	case EFBIG: return "EFBIG";
	default: return "EUNKNOWN";
	}
}
