/* SPDX-License-Identifier: MIT */
/* Who a booting machine says it is: what iPXE puts in /ipxe/boot's query (the HTTP side
 * parses it, http_path.h; the boot side registers an unknown machine by it, nodes.h). */
#pragma once

#include <stdbool.h>

#include "parse.h"
#include "store/store.h"

struct boot_query {
	bool has_mac, has_uuid, has_serial;
	struct mac_addr mac;
	char mac_str[MAC_STR_LEN];
	char uuid[UUID_STR_LEN];
	char serial[MAX_SERIAL];
};
