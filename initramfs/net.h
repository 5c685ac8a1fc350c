/* SPDX-License-Identifier: MIT */
/* Bring up the boot NIC with the address iPXE obtained (ip= on the command line). */
#pragma once

#include <stdint.h>

#include "util.h"

/* A NIC driver probes asynchronously after its module loads; udev-less, we poll sysfs. */
#define NET_WAIT_NIC_MS 10000
/* Link negotiation on real hardware (igb, ixgbe) takes a few seconds; virtio is instant. */
#define NET_WAIT_CARRIER_MS 10000

/* Find the interface whose /sys/class/net/<if>/address is mac, waiting up to
 * NET_WAIT_NIC_MS for it to appear; write its name into ret_ifname (IFNAMSIZ bytes). */
int net_find_by_mac(const uint8_t mac[6], char *ret_ifname, struct init_err *reterr);

/* Bring lo and ifname up, set address and netmask, add the default route via gw_be unless
 * it is 0, then wait (bounded) for carrier. Returns 0 or -errno with reterr set. */
int net_configure(const char *ifname, uint32_t ip_be, uint32_t mask_be, uint32_t gw_be,
    struct init_err *reterr);
