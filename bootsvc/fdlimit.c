/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "control/control.h"
#include "fdlimit.h"
#include "log.h"

rlim_t
fdlimit_need(const struct config *c)
{
	return (rlim_t)c->max_connections * 2 + CONTROL_MAX_CLIENTS + FDLIMIT_MARGIN;
}

struct rlimit
fdlimit_plan(struct rlimit cur, rlim_t need)
{
	struct rlimit want = cur;

	if (want.rlim_cur != RLIM_INFINITY && want.rlim_cur < need)
		want.rlim_cur = need;
	if (want.rlim_max != RLIM_INFINITY && want.rlim_max < need)
		want.rlim_max = need;
	return want;
}

int
fdlimit_raise(const struct config *c, struct dl_err *reterr)
{
	rlim_t need = fdlimit_need(c);
	struct rlimit cur, want;

	if (getrlimit(RLIMIT_NOFILE, &cur) < 0)
		return dl_err_set(reterr, negative_errno(), "RLIMIT_NOFILE: %s", strerror(errno));
	want = fdlimit_plan(cur, need);
	if (want.rlim_cur == cur.rlim_cur && want.rlim_max == cur.rlim_max)
		return 0;
	if (setrlimit(RLIMIT_NOFILE, &want) < 0)
		/* Raising the hard limit needs CAP_SYS_RESOURCE. */
		return dl_err_set(reterr, -EMFILE,
		    "max_connections %u needs %llu file descriptors (2 per connection, %d control "
		    "clients, %d more), but RLIMIT_NOFILE is %llu (hard %llu) and cannot be raised: "
		    "%s; lower max_connections or raise the limit (LimitNOFILE= in the unit)",
		    c->max_connections, (unsigned long long)need, CONTROL_MAX_CLIENTS,
		    FDLIMIT_MARGIN, (unsigned long long)cur.rlim_cur,
		    (unsigned long long)cur.rlim_max, strerror(errno));
	log_info("event=nofile_raised from=%llu to=%llu hard=%llu need=%llu",
	    (unsigned long long)cur.rlim_cur, (unsigned long long)want.rlim_cur,
	    (unsigned long long)want.rlim_max, (unsigned long long)need);
	return 0;
}
