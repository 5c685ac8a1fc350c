/* SPDX-License-Identifier: MIT */
/* What power_ipmi.c and health_ipmi.c both check of a target before opening a session. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmc/power.h"
#include "name_table.h"

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
	/* bmc_creds_parse() held an IPMI BMC to these already; an auto one was allowed
	 * Redfish's longer limits. libfreeipmi would refuse them with a vaguer message. */
	if (strlen(t->user) > MAX_IPMI_USER)
		return dl_err_set(reterr, -EINVAL,
		    "BMC '%s': user is %zu bytes, over IPMI 2.0's limit of %d (a Redfish BMC, "
		    "redfish://, takes up to %d)", t->host, strlen(t->user), MAX_IPMI_USER,
		    MAX_BMC_USER);
	if (strlen(t->pass) > MAX_IPMI_PASS)
		return dl_err_set(reterr, -EINVAL,
		    "BMC '%s': password is %zu bytes, over IPMI 2.0's limit of %d (a Redfish "
		    "BMC, redfish://, takes up to %d)", t->host, strlen(t->pass), MAX_IPMI_PASS,
		    MAX_BMC_PASS);
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

/* The HTTPS port a redfish:// address without one gets. */
#define REDFISH_PORT_DEFAULT 443

static const char *const bmc_proto_table[_BMC_PROTO_MAX] = {
	[BMC_PROTO_AUTO] = "auto",
	[BMC_PROTO_IPMI] = "ipmi",
	[BMC_PROTO_REDFISH] = "redfish",
};

DEFINE_NAME_TABLE_LOOKUP(bmc_proto, enum bmc_proto, bmc_proto_table, _BMC_PROTO_INVALID)

int
bmc_target_parse(const char *addr, enum bmc_proto dflt, struct bmc_target *t,
    struct dl_err *reterr)
{
	const char *host = addr, *colon;
	enum bmc_proto proto = dflt;
	size_t hlen;

	if (strncmp(addr, "redfish://", 10) == 0)
		proto = BMC_PROTO_REDFISH, host = addr + 10;
	else if (strncmp(addr, "ipmi://", 7) == 0)
		proto = BMC_PROTO_IPMI, host = addr + 7;
	else if (strstr(addr, "://"))
		return dl_err_set(reterr, -EINVAL,
		    "BMC address '%s': unknown scheme (expected redfish:// or ipmi://)", addr);
	colon = strchr(host, ':');
	hlen = colon ? (size_t)(colon - host) : strlen(host);
	if (hlen == 0 || hlen >= sizeof(t->host) || memchr(host, '/', hlen))
		return dl_err_set(reterr, -EINVAL, "BMC address '%s': bad host", addr);
	memcpy(t->host, host, hlen);
	t->host[hlen] = '\0';
	t->port = proto == BMC_PROTO_REDFISH ? REDFISH_PORT_DEFAULT :
		  proto == BMC_PROTO_IPMI ? IPMI_PORT_DEFAULT : 0;
	if (colon) {
		char *end;
		unsigned long p;

		errno = 0;
		p = strtoul(colon + 1, &end, 10);
		if (errno || *end || end == colon + 1 || p == 0 || p > 65535 ||
		    colon[1] < '0' || colon[1] > '9')
			return dl_err_set(reterr, -EINVAL, "BMC address '%s': bad port", addr);
		t->port = (uint16_t)p;
	}
	t->proto = proto;
	return 0;
}
