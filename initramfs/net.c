/* SPDX-License-Identifier: MIT */
/* NIC setup with the classic ioctls: smaller than an rtnetlink client and enough for one
 * IPv4 address and a default route; see net.h. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net.h"

/* Poll interval while waiting for sysfs: short enough not to add visible delay. */
#define NET_POLL_MS 100

static int
scan_once(const char *want, char *ret_ifname)
{
	DIR *d;
	struct dirent *de;
	int r = -ENODEV;

	d = opendir("/sys/class/net");
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char path[300], addr[64];

		if (de->d_name[0] == '.' || strlen(de->d_name) >= IFNAMSIZ)
			continue;
		(void)snprintf(path, sizeof(path), "/sys/class/net/%s/address", de->d_name);
		if (init_read_file(path, addr, sizeof(addr) - 1) < 17)
			continue;
		if (strncasecmp(addr, want, 17) == 0) {
			strcpy(ret_ifname, de->d_name);
			r = 0;
			break;
		}
	}
	(void)closedir(d); /* read-only directory stream */
	return r;
}

int
net_find_by_mac(const uint8_t mac[6], char *ret_ifname, struct init_err *reterr)
{
	char want[18];
	unsigned waited;

	(void)snprintf(want, sizeof(want), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
	    mac[2], mac[3], mac[4], mac[5]);
	for (waited = 0;; waited += NET_POLL_MS) {
		if (scan_once(want, ret_ifname) == 0)
			return 0;
		if (waited >= NET_WAIT_NIC_MS)
			break;
		init_sleep_ms(NET_POLL_MS);
	}
	return init_err_set(reterr, -ENODEV,
	    "no network interface with MAC %s after %d s (NIC driver missing from the initrd?)",
	    want, NET_WAIT_NIC_MS / 1000);
}

static void
set_sin(struct sockaddr *sa, uint32_t addr_be)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = addr_be };

	memcpy(sa, &sin, sizeof(sin));
}

static int
link_up(int sock, const char *ifname)
{
	struct ifreq ifr = { 0 };

	strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
	if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
		return -errno;
	ifr.ifr_flags |= IFF_UP;
	return ioctl(sock, SIOCSIFFLAGS, &ifr) < 0 ? -errno : 0;
}

int
net_configure(const char *ifname, uint32_t ip_be, uint32_t mask_be, uint32_t gw_be,
    struct init_err *reterr)
{
	struct ifreq ifr = { 0 };
	struct rtentry rt = { 0 };
	char path[300], carrier[8];
	unsigned waited;
	int sock, r;

	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return init_err_set(reterr, -errno, "socket: %s", strerror(errno));
	r = link_up(sock, "lo");
	if (r < 0)
		init_log("warning: cannot bring lo up: %s, ignoring", strerror(-r));
	strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
	set_sin(&ifr.ifr_addr, ip_be);
	if (ioctl(sock, SIOCSIFADDR, &ifr) < 0) {
		r = init_err_set(reterr, -errno, "%s: set address: %s", ifname, strerror(errno));
		goto out_close_sock;
	}
	set_sin(&ifr.ifr_netmask, mask_be);
	if (ioctl(sock, SIOCSIFNETMASK, &ifr) < 0) {
		r = init_err_set(reterr, -errno, "%s: set netmask: %s", ifname, strerror(errno));
		goto out_close_sock;
	}
	r = link_up(sock, ifname);
	if (r < 0) {
		r = init_err_set(reterr, r, "%s: link up: %s", ifname, strerror(-r));
		goto out_close_sock;
	}
	if (gw_be) {
		set_sin(&rt.rt_dst, 0);
		set_sin(&rt.rt_genmask, 0);
		set_sin(&rt.rt_gateway, gw_be);
		rt.rt_flags = RTF_UP | RTF_GATEWAY;
		rt.rt_dev = (char *)ifname;
		if (ioctl(sock, SIOCADDRT, &rt) < 0 && errno != EEXIST) {
			r = init_err_set(reterr, -errno, "%s: default route: %s", ifname,
			    strerror(errno));
			goto out_close_sock;
		}
	}
	(void)snprintf(path, sizeof(path), "/sys/class/net/%s/carrier", ifname);
	for (waited = 0; waited < NET_WAIT_CARRIER_MS; waited += NET_POLL_MS) {
		if (init_read_file(path, carrier, sizeof(carrier) - 1) > 0 && carrier[0] == '1')
			break;
		init_sleep_ms(NET_POLL_MS);
	}
	if (waited >= NET_WAIT_CARRIER_MS)
		init_log("warning: %s has no carrier after %d s, trying anyway", ifname,
		    NET_WAIT_CARRIER_MS / 1000);
	r = 0;
out_close_sock:
	(void)close(sock); /* ioctl socket */
	return r;
}
