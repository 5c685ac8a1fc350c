/* SPDX-License-Identifier: MIT */
/* bootsvc/bmc/bmc_target.c: a node's BMC address -> protocol, host and port (issue 17:
 * redfish://, ipmi://, or bare with the config's bmc_protocol), and the protocol names.
 * Vectors carry their __LINE__. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../bootsvc/bmc/power.h"
#include "check_r.h"

static void
test_parse(void **state)
{
	static const struct {
		int line;
		const char *addr;
		enum bmc_proto dflt;
		int want_r;
		enum bmc_proto proto;
		const char *host;
		uint16_t port;
		const char *msg;
	} v[] = {
		{ __LINE__, "10.0.0.5", BMC_PROTO_IPMI, 0, BMC_PROTO_IPMI, "10.0.0.5", 623, NULL },
		{ __LINE__, "10.0.0.5:6230", BMC_PROTO_IPMI, 0, BMC_PROTO_IPMI, "10.0.0.5", 6230, NULL },
		{ __LINE__, "10.0.0.5", BMC_PROTO_REDFISH, 0, BMC_PROTO_REDFISH, "10.0.0.5", 443, NULL },
		/* auto: the port stays open for whichever protocol answers */
		{ __LINE__, "bmc-n01.example", BMC_PROTO_AUTO, 0, BMC_PROTO_AUTO, "bmc-n01.example", 0,
		  NULL },
		/* the scheme wins over the default */
		{ __LINE__, "redfish://10.0.0.5", BMC_PROTO_IPMI, 0, BMC_PROTO_REDFISH, "10.0.0.5", 443,
		  NULL },
		{ __LINE__, "redfish://10.0.0.5:8443", BMC_PROTO_AUTO, 0, BMC_PROTO_REDFISH, "10.0.0.5",
		  8443, NULL },
		{ __LINE__, "ipmi://10.0.0.5", BMC_PROTO_REDFISH, 0, BMC_PROTO_IPMI, "10.0.0.5", 623,
		  NULL },
		/* refused */
		{ __LINE__, "https://10.0.0.5", BMC_PROTO_IPMI, -EINVAL, 0, NULL, 0, "unknown scheme" },
		{ __LINE__, "redfish://", BMC_PROTO_IPMI, -EINVAL, 0, NULL, 0, "bad host" },
		{ __LINE__, "redfish://10.0.0.5/redfish/v1", BMC_PROTO_IPMI, -EINVAL, 0, NULL, 0,
		  "bad host" },
		{ __LINE__, "10.0.0.5:0", BMC_PROTO_IPMI, -EINVAL, 0, NULL, 0, "bad port" },
		{ __LINE__, "10.0.0.5:65536", BMC_PROTO_IPMI, -EINVAL, 0, NULL, 0, "bad port" },
		{ __LINE__, "10.0.0.5:-1", BMC_PROTO_IPMI, -EINVAL, 0, NULL, 0, "bad port" },
		{ __LINE__, "10.0.0.5:44x", BMC_PROTO_IPMI, -EINVAL, 0, NULL, 0, "bad port" },
		{ __LINE__, ":623", BMC_PROTO_IPMI, -EINVAL, 0, NULL, 0, "bad host" },
		{ __LINE__, "a-host-name-that-is-much-longer-than-sixty-three-bytes-allowed.example",
		  BMC_PROTO_IPMI, -EINVAL, 0, NULL, 0, "bad host" },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		struct bmc_target t = { 0 };
		struct dl_err e = { 0 };
		int r = bmc_target_parse(v[i].addr, v[i].dflt, &t, &e);

		check_r_at(__FILE__, v[i].line, v[i].addr, r, &e, v[i].want_r, v[i].msg);
		if (r < 0) {
			assert_non_null(strstr(e.msg, v[i].addr));
			continue;
		}
		if (t.proto != v[i].proto || strcmp(t.host, v[i].host) != 0 || t.port != v[i].port)
			fail_msg("line %d: got %s %s:%u", v[i].line, bmc_proto_to_string(t.proto),
			    t.host, t.port);
	}
}

static void
test_names(void **state)
{
	(void)state;
	for (int p = 0; p < _BMC_PROTO_MAX; p++)
		assert_int_equal(bmc_proto_from_string(bmc_proto_to_string((enum bmc_proto)p)), p);
	assert_int_equal(bmc_proto_from_string("snmp"), -EINVAL);
	assert_int_equal(bmc_proto_from_string(NULL), -EINVAL);
	assert_null(bmc_proto_to_string(_BMC_PROTO_MAX));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
