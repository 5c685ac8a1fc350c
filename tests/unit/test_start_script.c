/* SPDX-License-Identifier: MIT */
/* bootsvc/dhcp/start_script.c: the start script dnsmasq serves over TFTP (issue 15),
 * rendered from the real ipxe-scripts/start.ipxe (tests run from the repo root): the
 * walk's list of service nodes, boot_url first, then the peers in their order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "readfile.h"
#include "template.h"
#include "../../bootsvc/config.h"
#include "../../bootsvc/dhcp/start_script.h"

static bool
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

static char *
render(const char *boot_url, const char *peers, int want_rc)
{
	_cleanup_free_ char *tmpl = NULL;
	struct dl_err err = { 0 };
	struct config c;
	char *out = NULL;
	size_t len = 0, olen = 0;

	config_init(&c);
	strcpy(c.boot_url, boot_url);
	if (peers)
		assert_int_equal(config_set(&c, "peers", peers, &err), 0);
	assert_int_equal(read_file("ipxe-scripts/start.ipxe", MAX_TEMPLATE_SIZE, 0, &tmpl, &len,
	    &err), 0);
	assert_int_equal(start_script_render(tmpl, len, &c, &out, &olen, &err), want_rc);
	if (want_rc < 0) {
		assert_null(out);
		assert_non_null(strstr(err.msg, "no service node"));
		return NULL;
	}
	assert_int_equal(strlen(out), olen);
	return out;
}

/* Only this server: one service node, the walk and its backoff from the #defines. */
static void
test_alone(void **state)
{
	_cleanup_free_ char *out = render("http://10.77.0.1:8080", NULL, 0);

	(void)state;
	assert_true(strncmp(out, "#!ipxe\n", 7) == 0);
	assert_true(has_line(out, "set dl-s0 http://10.77.0.1:8080"));
	assert_null(strstr(out, "dl-s1"));
	assert_true(has_line(out, "iseq ${dl-i} 1 && goto wait ||"));
	assert_true(has_line(out, "set dl-wait:int32 1"));
	assert_true(has_line(out, "iseq ${dl-wait} 16 || inc dl-wait ${dl-wait}"));
	/* the node's own script by its identity, through whichever node is tried */
	assert_true(has_line(out, "chain --autofree ${dl-s${dl-i}}/ipxe/boot?mac=${mac}&uuid=${uuid}"
	    "&serial=${serial:uristring} && exit 0 ||"));
	assert_null(strstr(out, "{{"));
}

/* Peers after boot_url, in the config's order. */
static void
test_peers_in_order(void **state)
{
	_cleanup_free_ char *out = render("http://10.77.0.1:8080",
	    "http://10.77.0.2:8080, http://10.77.1.1:80/", 0);

	(void)state;
	assert_true(has_line(out, "set dl-s0 http://10.77.0.1:8080"));
	assert_true(has_line(out, "set dl-s1 http://10.77.0.2:8080"));
	assert_true(has_line(out, "set dl-s2 http://10.77.1.1:80"));
	assert_true(strstr(out, "dl-s0 ") < strstr(out, "dl-s1 ") &&
	    strstr(out, "dl-s1 ") < strstr(out, "dl-s2 "));
	assert_true(has_line(out, "iseq ${dl-i} 3 && goto wait ||"));
}

/* No boot_url (dhcp_mode off): the peers alone; nothing at all is an error, not a
 * script that loops over nobody. */
static void
test_no_boot_url(void **state)
{
	_cleanup_free_ char *out = render("", "http://10.77.0.2:8080", 0);

	(void)state;
	assert_true(has_line(out, "set dl-s0 http://10.77.0.2:8080"));
	assert_true(has_line(out, "iseq ${dl-i} 1 && goto wait ||"));
	assert_null(render("", NULL, -EINVAL));
}

/* A name the start script does not have is an error naming it, as for every template. */
static void
test_unknown_name(void **state)
{
	static const char tmpl[] = "#!ipxe\nchain {{server}}/{{token}}\n";
	struct dl_err err = { 0 };
	struct config c;
	char *out = NULL;

	(void)state;
	config_init(&c);
	strcpy(c.boot_url, "http://10.77.0.1:8080");
	assert_int_equal(start_script_render(tmpl, sizeof(tmpl) - 1, &c, &out, NULL, &err),
	    -EINVAL);
	assert_null(out);
	assert_non_null(strstr(err.msg, "token"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alone),
		cmocka_unit_test(test_peers_in_order),
		cmocka_unit_test(test_no_boot_url),
		cmocka_unit_test(test_unknown_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
