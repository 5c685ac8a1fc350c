/* SPDX-License-Identifier: MIT */
/* bootsvc/dhcp/dnsmasq.c's lease file reader (dnsmasq_lease_find) on arbitrary bytes:
 * never crashes, and an address it finds is a dotted IPv4 that parse_ipv4 accepts, found
 * again by a second call (the first byte picks the MAC asked for). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../bootsvc/dhcp/dnsmasq.h"
#include "fuzz_util.h"
#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const macs[] = { "52:54:00:00:00:01", "52:54:00:AA:bb:02", "" };
	char ip[16], ip2[16];
	uint32_t a;
	char *s;

	if (size < 1 || size > 64 * 1024)
		return 0;
	s = fuzz_cstr(data + 1, size - 1);
	if (!s)
		return 0;
	if (dnsmasq_lease_find(s, macs[data[0] % 3], ip) == 0) {
		if (strlen(ip) >= sizeof(ip) || parse_ipv4(ip, &a, NULL) != 0)
			abort();
		if (dnsmasq_lease_find(s, macs[data[0] % 3], ip2) != 0 || strcmp(ip, ip2) != 0)
			abort();
	}
	free(s);
	return 0;
}
