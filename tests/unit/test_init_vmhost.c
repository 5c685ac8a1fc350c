/* SPDX-License-Identifier: MIT */
/* The init's VM-host pieces (issue 12): the receipt's hypervisor field from what a Xen
 * dom0 reads in /sys/hypervisor (values as Xen 4.17.7 under qemu TCG showed them, see
 * ../shared/lab/iscsi-xen.md part B), the receipt with and without it, the facts check
 * of dl-report up --facts, and dl.cred=fetch on the command line. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../initramfs/cmdline.h"
#include "../../initramfs/hypervisor.h"
#include "../../initramfs/report.h"

#define BID "151b373fd64b321593bf987fd923cd10dabadac4"

/* The build id as /sys/hypervisor/properties/buildid gives it: raw bytes. */
static const unsigned char bidb[20] = { 0x15, 0x1b, 0x37, 0x3f, 0xd6, 0x4b, 0x32, 0x15, 0x93,
	0xbf, 0x98, 0x7f, 0xd9, 0x23, 0xcd, 0x10, 0xda, 0xba, 0xda, 0xc4 };
/* xen.efi's (CodeView GUID + age) as the same file shows it under UEFI: Linux prints it
 * with "%.*s", so it ends before the age's zero bytes; the bytes include '\n' and ' '. */
static const unsigned char efib[17] = { 0x06, 0xd4, 0x48, 0x21, 0xda, 0x0a, 0xd7, 0x67, 0x1f,
	0xd7, 0x2b, 0xb9, 0x91, 0xf3, 0x19, 0x20, 0x01 };

static void
test_hypervisor_field(void **state)
{
	char out[MAX_HYPERVISOR_RECEIPT];
	struct init_err e = { "" };

	(void)state;
	/* a dom0, text files as the kernel shows them (with newlines) */
	assert_int_equal(hypervisor_receipt_format("xen\n", "control_d\n", "4\n", "17\n", ".7\n",
	    bidb, sizeof(bidb), out, sizeof(out), &e), (int)strlen("4.17.7 " BID));
	assert_string_equal(out, "4.17.7 " BID);
	/* bytes that look like whitespace are the id's, not trimmed */
	assert_true(hypervisor_receipt_format("xen", "control_d", "4", "17", ".5", efib,
	    sizeof(efib), out, sizeof(out), &e) > 0);
	assert_string_equal(out, "4.17.5 06d44821da0ad7671fd72bb991f3192001");
	/* a domU: no field */
	assert_int_equal(hypervisor_receipt_format("xen\n", "\n", "4", "17", ".7", bidb,
	    sizeof(bidb), out, sizeof(out), &e), 0);
	assert_string_equal(out, "");
	/* bare metal, KVM */
	assert_int_equal(hypervisor_receipt_format("", "", "", "", "", bidb, 0, out, sizeof(out),
	    &e), 0);
	assert_int_equal(hypervisor_receipt_format("kvm\n", "control_d", "4", "17", ".7", bidb,
	    sizeof(bidb), out, sizeof(out), &e), 0);
	/* an empty extra is a release without a suffix */
	assert_true(hypervisor_receipt_format("xen", "control_d", "4", "18", "", bidb,
	    sizeof(bidb), out, sizeof(out), &e) > 0);
	assert_string_equal(out, "4.18 " BID);
	/* damaged values are refused, naming the file */
	assert_int_equal(hypervisor_receipt_format("xen", "control_d", "4x", "17", ".7", bidb,
	    sizeof(bidb), out, sizeof(out), &e), -EINVAL);
	assert_non_null(strstr(e.msg, "/sys/hypervisor/version"));
	assert_int_equal(hypervisor_receipt_format("xen", "control_d", "4", "17", ".7 \"x", bidb,
	    sizeof(bidb), out, sizeof(out), &e), -EINVAL);
	assert_int_equal(hypervisor_receipt_format("xen", "control_d", "4", "17", ".7", bidb, 0,
	    out, sizeof(out), &e), -EINVAL);
	assert_non_null(strstr(e.msg, "buildid"));
	assert_int_equal(hypervisor_receipt_format("xen", "control_d", "4", "17", ".7", bidb,
	    MAX_HV_BUILD_ID_BYTES + 1, out, sizeof(out), &e), -EINVAL);
	assert_int_equal(hypervisor_receipt_format("xen", "control_d", "4", "17", ".7", bidb,
	    sizeof(bidb), out, 10, &e), -ENOSPC);
}

static void
test_receipt(void **state)
{
	char buf[MAX_RECEIPT];

	(void)state;
	assert_true(report_receipt_build(buf, sizeof(buf), "Linux 6.1", "aa", "bb", NULL) > 0);
	assert_string_equal(buf, "{\"kernel\":\"Linux 6.1\",\"initrd\":\"aa\",\"rootfs\":\"bb\"}\n");
	assert_true(report_receipt_build(buf, sizeof(buf), "Linux 6.1", "aa", "bb", "") > 0);
	assert_null(strstr(buf, "hypervisor"));
	assert_true(report_receipt_build(buf, sizeof(buf), "Linux 6.1", "aa", "bb",
	    "4.17.7 " BID) > 0);
	assert_string_equal(buf, "{\"kernel\":\"Linux 6.1\",\"initrd\":\"aa\",\"rootfs\":\"bb\","
	    "\"hypervisor\":\"4.17.7 " BID "\"}\n");
	assert_int_equal(report_receipt_build(buf, 40, "Linux 6.1", "aa", "bb", "4.17.7 " BID),
	    -ENOSPC);
}

static const struct {
	const char *facts;
	bool ok;
} facts[] = {
	{ "{\"hypervisor\":\"QEMU\",\"hypervisor_version\":\"7.2.0\",\"libvirt_version\":\"9.0.0\","
	  "\"uri\":\"qemu+tls://10.1.2.3/system\",\"cpus\":2,\"memory_mib\":1987,\"numa_nodes\":1,"
	  "\"guest_cpus\":2,\"guest_memory_mib\":1475}\n", true },
	{ " { } \n", true },
	{ "{\"a\":[1,-2.5e3,true,false,null,{\"b\":\"\\u00e9\\n\"}]}", true },
	{ "", false },
	{ "[1]", false },
	{ "\"x\"", false },
	{ "{\"a\":1} {\"b\":2}", false },
	{ "{\"a\":1,}", false },
	{ "{\"a\" 1}", false },
	{ "{\"a\":01}", false },
	{ "{\"a\":\"x\ty\"}", false },     /* a raw tab inside a string */
	{ "{\"a\":\"\\q\"}", false },
	{ "{\"a\":\"\\u12\"}", false },
	{ "{\"a\":tru}", false },
	{ "{\"a\":1}}", false },
	{ "{\"a\":\"unterminated}", false },
	{ "{\"a\":[[[[[[[[[[1]]]]]]]]]]}", false }, /* deeper than MAX_FACTS_DEPTH */
	{ "{\"a\":1},\"receipt\":{}", false },   /* an attempt to add keys to the report body */
};

static void
test_facts(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(facts) / sizeof(facts[0]); i++) {
		char buf[MAX_FACTS + 64];
		struct init_err e = { "" };
		int r;

		(void)snprintf(buf, sizeof(buf), "%s", facts[i].facts);
		r = report_facts_check(buf, &e);
		if ((r == 0) != facts[i].ok)
			print_error("facts[%zu] '%s': r=%d msg='%s'\n", i, facts[i].facts, r, e.msg);
		assert_int_equal(r == 0, facts[i].ok);
		if (r < 0)
			assert_true(e.msg[0] != '\0');
	}
	/* too big */
	{
		static char big[MAX_FACTS + 64];
		struct init_err e = { "" };
		size_t n = 0;

		n += (size_t)snprintf(big, sizeof(big), "{\"a\":\"");
		memset(big + n, 'x', MAX_FACTS);
		(void)snprintf(big + n + MAX_FACTS, sizeof(big) - n - MAX_FACTS, "\"}");
		assert_int_equal(report_facts_check(big, &e), -EFBIG);
	}
}

#define CMD_BASE "dl.server=http://10.0.0.1:8080 dl.node=n1 dl.image=" \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa dl.rootfs=" \
	"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb " \
	"dl.mac=52:54:00:00:00:01 ip=10.0.0.5::10.0.0.1:255.255.255.0:n1::off"

static void
test_cred_fetch(void **state)
{
	struct dl_cmdline c;
	struct init_err e = { "" };

	(void)state;
	assert_int_equal(cmdline_parse(CMD_BASE, &c, false, &e), 0);
	assert_false(c.cred_fetch);
	assert_int_equal(cmdline_parse(CMD_BASE " dl.cred=fetch", &c, false, &e), 0);
	assert_true(c.cred_fetch);
	assert_int_equal(c.n_unknown, 0);
	assert_int_equal(cmdline_parse(CMD_BASE " dl.cred=file", &c, false, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "dl.cred='file'"));
	assert_int_equal(cmdline_parse(CMD_BASE " dl.cred=fetch dl.cred=fetch", &c, false, &e),
	    -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hypervisor_field),
		cmocka_unit_test(test_receipt),
		cmocka_unit_test(test_facts),
		cmocka_unit_test(test_cred_fetch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
