/* SPDX-License-Identifier: MIT */
/* config_parse_buffer() on arbitrary bytes, then config_validate(): never a crash, every
 * error says "fuzz.conf:<line>: ...", and a successful parse leaves valid strings. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../bootsvc/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c;
	struct dl_err e = { 0 };
	int r;

	config_init(&c);
	r = config_parse_buffer(&c, "fuzz.conf", (const char *)data, size, &e);
	if (r < 0) {
		if (e.code != r || strncmp(e.msg, "fuzz.conf:", 10) != 0)
			abort();
		return 0;
	}
	if (r != 0)
		abort();
	/* every string field is still terminated inside its array */
	if (strnlen(c.state_dir, sizeof(c.state_dir)) == sizeof(c.state_dir) ||
	    strnlen(c.boot_url, sizeof(c.boot_url)) == sizeof(c.boot_url) ||
	    strnlen(c.interface, sizeof(c.interface)) == sizeof(c.interface) ||
	    strnlen(c.control_group, sizeof(c.control_group)) == sizeof(c.control_group) ||
	    strnlen(c.dhcp_range_end, sizeof(c.dhcp_range_end)) == sizeof(c.dhcp_range_end))
		abort();
	if (c.http_port == 0 || c.hold_poll_ms < 1000 || c.max_connections < 16)
		abort();
	dl_err_clear(&e);
	r = config_validate(&c, &e);
	if (r < 0 && (e.code != r || !e.msg[0]))
		abort();
	return 0;
}
