/* SPDX-License-Identifier: MIT */
/* dhcp/ra_check.c: which addresses of the boot interface let dnsmasq send router
 * advertisements (issue 16: boots took 25-33 s on an interface with link-local only). */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dhcp/ra_check.h"
#include "macro.h"

struct fake {
	struct ifaddrs ifa;
	struct sockaddr_storage addr;
};

/* list[i] from "ifname addr" pairs, linked in order. */
static void
fake_list(struct fake *f, size_t n, const char *const (*entries)[2])
{
	for (size_t i = 0; i < n; i++) {
		memset(&f[i], 0, sizeof(f[i]));
		f[i].ifa.ifa_name = (char *)entries[i][0];
		if (strchr(entries[i][1], ':')) {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&f[i].addr;
			a->sin6_family = AF_INET6;
			assert_int_equal(inet_pton(AF_INET6, entries[i][1], &a->sin6_addr), 1);
		} else {
			struct sockaddr_in *a = (struct sockaddr_in *)&f[i].addr;
			a->sin_family = AF_INET;
			assert_int_equal(inet_pton(AF_INET, entries[i][1], &a->sin_addr), 1);
		}
		f[i].ifa.ifa_addr = (struct sockaddr *)&f[i].addr;
		f[i].ifa.ifa_next = i + 1 < n ? &f[i + 1].ifa : NULL;
	}
}

static void
test_prefix(void **state)
{
	static const struct {
		int line;
		const char *const list[4][2];
		size_t n;
		bool want;
	} v[] = {
		/* the admin's case: IPv4 and link-local only */
		{ __LINE__, { { "br0", "10.0.0.1" }, { "br0", "fe80::1" } }, 2, false },
		{ __LINE__, { { "br0", "10.0.0.1" }, { "br0", "fd00:d15c::1" } }, 2, true },  /* ULA */
		{ __LINE__, { { "br0", "2001:db8::1" } }, 1, true },                           /* global */
		/* another interface's prefix does not count */
		{ __LINE__, { { "eth0", "2001:db8::1" }, { "br0", "fe80::1" } }, 2, false },
		{ __LINE__, { { "br0", "::1" }, { "br0", "::" }, { "br0", "ff02::1" } }, 3, false },
		{ __LINE__, { { "br0", "10.0.0.1" } }, 1, false },
		{ __LINE__, { { "lo", "::1" } }, 0, false }, /* an empty list */
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		struct fake f[4];

		fake_list(f, v[i].n, v[i].list);
		_assert_int_equal(ra_check_has_prefix(v[i].n ? &f[0].ifa : NULL, "br0"), v[i].want,
		    __FILE__, v[i].line);
	}
}

static void
test_entry_without_address(void **state)
{
	struct ifaddrs a = { .ifa_name = (char *)"br0" }; /* getifaddrs gives some no addr */

	(void)state;
	assert_false(ra_check_has_prefix(&a, "br0"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_entry_without_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
