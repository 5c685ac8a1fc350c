/* SPDX-License-Identifier: MIT */
/* config_parse_buffer() on arbitrary bytes, then config_validate(): never a crash, every
 * error says "fuzz.conf:<line>: ...", and a successful parse leaves valid strings. Then
 * conf_check_buffer() (bootsvc --check-config's reader, which goes on past a bad line)
 * on the same bytes: each error it reports says "fuzz.conf:<line>: ...", and it finds a
 * mistake exactly when config_parse_buffer() stopped at one. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../bootsvc/config.h"
#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
on_bad(const struct dl_err *e, void *userdata)
{
	(void)userdata;
	if (e->code >= 0 || strncmp(e->msg, "fuzz.conf:", 10) != 0)
		abort();
}

static int
check_item(const char *key, const char *value, void *userdata, struct dl_err *reterr)
{
	return config_set(userdata, key, value, reterr);
}

/* The check reader agrees with the stopping one on whether there is a mistake. */
static void
fuzz_check(const uint8_t *data, size_t size, bool parsed)
{
	struct config c;
	int n;

	config_init(&c);
	n = conf_check_buffer("fuzz.conf", (const char *)data, size, check_item, &c, on_bad, NULL);
	if (n < 0 || (n == 0) != parsed)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c;
	struct dl_err e = { 0 };
	int r;

	config_init(&c);
	r = config_parse_buffer(&c, "fuzz.conf", (const char *)data, size, &e);
	fuzz_check(data, size, r == 0);
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
