/* SPDX-License-Identifier: MIT */
/* The boot interface's IPv6 prefix for router advertisements (ra_check.h). */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "dhcp/ra_check.h"
#include "log.h"

static bool
announceable(const struct in6_addr *a)
{
	return !IN6_IS_ADDR_LINKLOCAL(a) && !IN6_IS_ADDR_LOOPBACK(a) &&
	    !IN6_IS_ADDR_UNSPECIFIED(a) && !IN6_IS_ADDR_MULTICAST(a);
}

bool
ra_check_has_prefix(const struct ifaddrs *list, const char *ifname)
{
	for (const struct ifaddrs *i = list; i; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET6 || !i->ifa_name ||
		    strcmp(i->ifa_name, ifname) != 0)
			continue;
		if (announceable(&((const struct sockaddr_in6 *)(const void *)i->ifa_addr)->sin6_addr))
			return true;
	}
	return false;
}

void
ra_check_warn(const char *ifname)
{
	struct ifaddrs *list = NULL;

	if (getifaddrs(&list) < 0) {
		log_warning("event=ipv6_ra_check interface=%s msg=\"cannot list the interfaces' "
		    "addresses: %s, not checked\"", ifname, strerror(errno));
		return;
	}
	if (!ra_check_has_prefix(list, ifname))
		log_warning("event=ipv6_ra_no_prefix interface=%s msg=\"%s has no global or ULA "
		    "IPv6 address, so dnsmasq sends no router advertisements there and every "
		    "iPXE boot waits about 13 s more for IPv6; give it one, e.g. ip -6 addr add "
		    "fd00:d15c::1/64 dev %s (docs/boot-protocol.md), or set ipv6_ra = no to "
		    "silence this\"", ifname, ifname, ifname);
	freeifaddrs(list);
}
