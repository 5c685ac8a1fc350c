/* SPDX-License-Identifier: MIT */
/* The init's kernel command line parser (initramfs/cmdline.c) and node.conf parser: the
 * first byte picks which. Invariants on success: every string field is NUL-terminated and
 * valid by its own rules, and the parse is stable (same input, same result). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../initramfs/cmdline.h"
#include "../../initramfs/nodeconf.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dl_cmdline c, c2;
	struct node_conf nc;
	struct init_err e = { "" };
	char *s;

	if (size < 1 || size > 2 * MAX_CMDLINE)
		return 0;
	s = fuzz_cstr(data + 1, size - 1);
	if (!s)
		return 0;
	if (data[0] & 1) {
		if (nodeconf_parse(s, &nc, &e) == 0 &&
		    (!cmdline_hostname_is_valid(nc.node, strlen(nc.node)) || strlen(nc.token) < 16))
			abort();
	} else if (cmdline_parse(s, &c, false, &e) == 0) {
		if (!cmdline_hostname_is_valid(c.node, strlen(c.node)) ||
		    !cmdline_hostname_is_valid(c.hostname, strlen(c.hostname)) ||
		    (c.image[0] && strlen(c.image) != 64) || strlen(c.rootfs) != 64 ||
		    (c.initrd[0] && strlen(c.initrd) != 64) || c.mask_be == 0 ||
		    strchr(c.server.base, ' ') || strchr(c.server.base, '\r'))
			abort();
		if (cmdline_parse(s, &c2, false, &e) != 0 || memcmp(&c, &c2, sizeof(c)) != 0)
			abort();
	} else if (!e.msg[0]) {
		abort(); /* every failure says why */
	}
	free(s);
	return 0;
}
