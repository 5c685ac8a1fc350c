/* SPDX-License-Identifier: MIT */
/* initramfs/cmdline.c and nodeconf.c: the kernel command line the linux template renders
 * (docs/boot-protocol.md) and node.conf. Vectors are hand-written from the contract; each
 * carries its __LINE__ so a failure points at it. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../initramfs/cmdline.h"
#include "../../initramfs/fetch.h"
#include "../../initramfs/nodeconf.h"

#define TOK "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define SHA_C "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
/* every required key, as the template renders it */
#define BASE "initrd=initrd console=ttyS0 quiet dl.server=http://10.77.0.1:8080 dl.node=n01 " \
	"dl.token=" TOK " dl.image=" SHA_A " dl.rootfs=" SHA_B " dl.mac=52:54:00:12:34:01 "
#define IP " ip=10.77.0.50::10.77.0.1:255.255.255.0:n01::off"

static void
test_full(void **state)
{
	struct dl_cmdline c;
	struct init_err e = { "" };
	int r;

	(void)state;
	r = cmdline_parse(BASE "dl.rootfs_size=123456 dl.initrd_id=" SHA_C IP " retain_initrd\n", &c,
	    false, &e);
	assert_int_equal(r, 0);
	assert_int_equal(c.server.addr_be, htonl(0x0a4d0001));
	assert_int_equal(c.server.port, 8080);
	assert_string_equal(c.server.base, "");
	assert_string_equal(c.server.host, "10.77.0.1:8080");
	assert_string_equal(c.node, "n01");
	assert_string_equal(c.token, TOK);
	assert_string_equal(c.image, SHA_A);
	assert_string_equal(c.rootfs, SHA_B);
	assert_string_equal(c.initrd, SHA_C);
	assert_true(c.rootfs_size == 123456);
	assert_memory_equal(c.mac, ((uint8_t[]){ 0x52, 0x54, 0, 0x12, 0x34, 1 }), 6);
	assert_int_equal(c.ip_be, htonl(0x0a4d0032));
	assert_int_equal(c.gw_be, htonl(0x0a4d0001));
	assert_int_equal(c.mask_be, htonl(0xffffff00));
	assert_string_equal(c.hostname, "n01");
	assert_int_equal(c.n_unknown, 0);
}

static void
test_defaults(void **state)
{
	struct dl_cmdline c;
	struct init_err e = { "" };

	(void)state;
	/* no gateway, no host in ip=, no port, a base path, an unknown dl.* key */
	assert_int_equal(cmdline_parse("dl.server=http://10.0.0.1/diskless/ dl.node=node-7 "
	    "dl.token=" TOK " dl.image=" SHA_A " dl.rootfs=" SHA_B " dl.mac=52-54-00-AA-bb-01 "
	    "dl.colour=blue ip=10.0.0.9:::255.255.0.0", &c, false, &e), 0);
	assert_int_equal(c.server.port, 80);
	assert_string_equal(c.server.base, "/diskless");
	assert_int_equal(c.gw_be, 0);
	assert_string_equal(c.hostname, "node-7"); /* falls back to dl.node */
	assert_int_equal(c.n_unknown, 1);
	assert_int_equal(c.mac[3], 0xaa);
	assert_true(c.rootfs_size == 0);
	assert_string_equal(c.initrd, "");
}

/* xen.ipxe's BIOS line (iPXE's multiboot keeps 512 bytes for every line): no dl.image,
 * so the rootfs is asked for by node and still checked against dl.rootfs; no hostname
 * in ip=; dl.cred=fetch. */
static void
test_xen_bios(void **state)
{
	struct dl_cmdline c;
	struct init_err e = { "" };
	char path[128];

	(void)state;
	assert_int_equal(cmdline_parse("console=hvc0 quiet dl.server=http://10.97.0.1:8080 "
	    "dl.node=x01 dl.rootfs=" SHA_B " dl.mac=52:54:00:67:00:01 dl.cred=fetch "
	    "ip=10.97.0.10::10.97.0.1:255.255.255.0:::off", &c, false, &e), 0);
	assert_string_equal(c.image, "");
	assert_string_equal(c.rootfs, SHA_B);
	assert_true(c.cred_fetch);
	assert_string_equal(c.hostname, "x01");
	rootfs_path(&c, path, sizeof(path));
	assert_string_equal(path, "/images/n/x01/rootfs");
	memcpy(c.image, SHA_A, sizeof(SHA_A));
	rootfs_path(&c, path, sizeof(path));
	assert_string_equal(path, "/images/" SHA_A "/rootfs");
}

/* Each vector: a command line that must fail, and a substring of the message. */
static const struct {
	int line;
	const char *s;
	const char *msg;
} bad[] = {
	{ __LINE__, "", "dl.server= missing" },
	{ __LINE__, BASE, "ip= missing" },
	{ __LINE__, BASE IP " dl.node=n02", "dl.node='n02': given twice" },
	{ __LINE__, BASE IP " dl.rootfs_size=", "dl.rootfs_size='': empty value" },
	{ __LINE__, BASE IP " dl.rootfs_size=12x", "dl.rootfs_size='12x': not a byte count" },
	{ __LINE__, BASE IP " dl.rootfs_size=-5", "not a byte count" },
	{ __LINE__, BASE IP " dl.rootfs_size=100", "not a byte count" }, /* < one block */
	{ __LINE__, BASE IP " dl.rootfs_size=99999999999999999999999", "not a byte count" },
	{ __LINE__, BASE IP " dl.initrd_id=ABC", "dl.initrd_id='ABC': not a sha256" },
	{ __LINE__, BASE IP " dl.initrd_id=" SHA_A "0", "not a sha256" },
	{ __LINE__, BASE IP " dl.initrd_id=" "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	  "not a sha256" }, /* uppercase: ids are lowercase everywhere */
	{ __LINE__, BASE IP " dl.future", "dl.* option without '=value'" },
	{ __LINE__, BASE IP " dl.x=\"a b\"", "quotes are not allowed" },
	{ __LINE__, "dl.server=https://10.0.0.1 ", "not an http:// URL" },
	{ __LINE__, "dl.server=http://boot.example ", "not a numeric IPv4" },
	{ __LINE__, "dl.server=http://10.0.0.1:0 ", "port is not a number" },
	{ __LINE__, "dl.server=http://10.0.0.1:65536 ", "port is not a number" },
	{ __LINE__, "dl.server=http://10.0.0.1:80a ", "port is not a number" },
	{ __LINE__, "dl.server=http://10.0.0.01 ", "not a numeric IPv4" },
	{ __LINE__, "dl.server=http://10.0.0.1/a?b ", "path has characters" },
	{ __LINE__, "dl.server=http://10.0.0.1/a/../b ", "'..'" },
	{ __LINE__, "dl.server=http://10.0.0.1/x%0d%0aHost: ", "path has characters" },
	{ __LINE__, "dl.node=N01 ", "dl.node='N01': not an RFC 1123 label" },
	{ __LINE__, "dl.node=-n ", "not an RFC 1123" },
	{ __LINE__, "dl.node=n_1 ", "not an RFC 1123" },
	{ __LINE__, "dl.token=abc ", "not 16..128 lowercase hex" },
	{ __LINE__, "dl.token=0123456789abcdeg ", "not 16..128" },
	{ __LINE__, "dl.mac=52:54:00:12:34 ", "not a MAC" },
	{ __LINE__, "dl.mac=52:54:00:12:34:0g ", "not a MAC" },
	{ __LINE__, "dl.mac=52:54:00:12:34:011 ", "not a MAC" },
	{ __LINE__, "dl.mac=52.54.00.12.34.01 ", "not a MAC" },
	{ __LINE__, "ip=dhcp ", "only the static form" },
	{ __LINE__, "ip=10.0.0.1 ", "only the static form" },
	{ __LINE__, "ip=10.0.0.256::10.0.0.1:255.255.255.0 ", "client address" },
	{ __LINE__, "ip=10.0.0.5::10.0.0.1:255.0.255.0 ", "netmask is not a contiguous" },
	{ __LINE__, "ip=10.0.0.5::10.0.0.1:0.0.0.0 ", "netmask" },
	{ __LINE__, "ip=10.0.0.5::10.0.1.1:255.255.255.0 ", "gateway is outside" },
	{ __LINE__, "ip=10.0.0.5::x:255.255.255.0 ", "gateway is not" },
	{ __LINE__, "ip=10.0.0.5::10.0.0.1:255.255.255.0:Bad ", "host name" },
	{ __LINE__, "ip=10.0.0.5::10.0.0.1:255.255.255.0:n1:eth0:dhcp ", "autoconf must be" },
	{ __LINE__, "ip=1:2:3:4:5:6:7:8:9:10:11 ", "more than 10" },
	{ __LINE__, "dl.node=\x01\x02 ", "dl.node='?" "?'" }, /* control chars never reach the log */
};

static void
test_bad(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct dl_cmdline c;
		struct init_err e = { "" };
		int r = cmdline_parse(bad[i].s, &c, false, &e);

		if (r != -EINVAL || !strstr(e.msg, bad[i].msg))
			print_error("%s:%d: r=%d msg='%s', want -EINVAL with '%s'\n", __FILE__,
			    bad[i].line, r, e.msg, bad[i].msg);
		_assert_int_equal(r, -EINVAL, __FILE__, bad[i].line);
		_assert_true(strstr(e.msg, bad[i].msg) != NULL, "message", __FILE__, bad[i].line);
	}
}

static void
test_long(void **state)
{
	static char s[MAX_CMDLINE + 10];
	struct dl_cmdline c;
	struct init_err e = { "" };

	(void)state;
	memset(s, 'x', sizeof(s) - 1);
	assert_int_equal(cmdline_parse(s, &c, false, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "longer than"));
}

static void
test_ipv4(void **state)
{
	static const struct {
		const char *s;
		int r;
	} v[] = {
		{ "0.0.0.0", 0 }, { "255.255.255.255", 0 }, { "1.2.3", -EINVAL }, { "1.2.3.4.", -EINVAL },
		{ "1.2.3.4.5", -EINVAL }, { "01.2.3.4", -EINVAL }, { "1.2.3.1000", -EINVAL },
		{ "1..3.4", -EINVAL }, { " 1.2.3.4", -EINVAL }, { "1.2.3.-4", -EINVAL }, { "", -EINVAL },
	};
	uint32_t a;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		assert_int_equal(cmdline_parse_ipv4(v[i].s, strlen(v[i].s), &a), v[i].r);
}

static void
test_nodeconf(void **state)
{
	struct node_conf nc;
	struct init_err e = { "" };

	(void)state;
	assert_int_equal(nodeconf_parse("# written by bootsvc\n\nserver = \"http://10.77.0.1:8080\"\n"
	    "node=n01\r\ntoken=" TOK "\nimage=" SHA_A "\nrootfs=" SHA_B "\n", &nc, &e), 0);
	assert_string_equal(nc.node, "n01");
	assert_string_equal(nc.token, TOK);
	assert_int_equal(nc.server.port, 8080);
	assert_int_equal(nodeconf_parse("server=http://10.0.0.1\nnode=n01\n", &nc, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "lacks token"));
	assert_int_equal(nodeconf_parse("server=http://10.0.0.1\nnode=n01\nnode=n02\n", &nc, &e),
	    -EINVAL);
	assert_non_null(strstr(e.msg, "line 3: key given twice"));
	assert_int_equal(nodeconf_parse("server\n", &nc, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "line 1: no '='"));
	assert_int_equal(nodeconf_parse("server=ftp://x\n", &nc, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "node.conf line 1: dl.server='ftp://x'"));
	assert_int_equal(nodeconf_parse("token=XYZ\n", &nc, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "token is not"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_xen_bios),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_long),
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_nodeconf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
