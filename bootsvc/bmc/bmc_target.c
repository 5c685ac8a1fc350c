/* SPDX-License-Identifier: MIT */
/* What power_ipmi.c and health_ipmi.c both check of a target before opening a session. */
#include <stdio.h>
#include <string.h>

#include "bmc/power.h"

/* The standard RMCP port (IPMI 2.0 §13.1); hostnames then go to libfreeipmi unchanged. */
#define IPMI_PORT_DEFAULT 623

int
bmc_target_hostport(const struct bmc_target *t, char ret[static BMC_HOSTPORT_SIZE],
    struct dl_err *reterr)
{
	if (strnlen(t->user, sizeof(t->user)) == sizeof(t->user) ||
	    strnlen(t->pass, sizeof(t->pass)) == sizeof(t->pass))
		return dl_err_set(reterr, -EINVAL, "BMC '%s': user or password not terminated",
		    t->host);
	/* libfreeipmi takes "host:port" in the host name; plain names keep port 623. The
	 * SDR cache file is named after this string too, so one port per BMC keeps one
	 * file. */
	if (t->port == 0 || t->port == IPMI_PORT_DEFAULT) {
		snprintf(ret, BMC_HOSTPORT_SIZE, "%s", t->host);
		return 0;
	}
	if (strchr(t->host, ':'))
		return dl_err_set(reterr, -EINVAL, "BMC '%s': a host with ':' cannot take a port",
		    t->host);
	snprintf(ret, BMC_HOSTPORT_SIZE, "%s:%u", t->host, (unsigned)t->port);
	return 0;
}
