/* SPDX-License-Identifier: MIT */
/* Whether the boot interface can carry the IPv6 router advertisements dnsmasq is told to
 * send (ipv6_ra, docs/boot-protocol.md "IPv6 router advertisements"). dnsmasq constructs
 * them from the interface's own global or ULA prefixes: with only a link-local address it
 * sends none, and every iPXE boot then waits for IPv6 autoconfiguration to time out
 * (boots took 25-33 s instead of 8-16 s, issue 16). Nothing fails, so bootsvc says so at
 * start, naming the interface and the fix. */
#pragma once

#include <ifaddrs.h>
#include <stdbool.h>

/* Whether list (getifaddrs()) holds an IPv6 address of ifname that a router
 * advertisement can announce: not link-local (fe80::/10), loopback, unspecified or
 * multicast. Pure. */
bool ra_check_has_prefix(const struct ifaddrs *list, const char *ifname);

/* At start, with ipv6_ra on: a warning (once) when ifname has no such address, with the
 * `ip -6 addr add` line that fixes it. Reads the interfaces of bootsvc's own network
 * namespace; a failed read is logged and otherwise ignored (start goes on). */
void ra_check_warn(const char *ifname);
