/* SPDX-License-Identifier: MIT */
/* bootsvc/config_check.c (bootsvc --check-config): every bad line of a file reported with
 * its line, the good ones applied; then what a start would trip on outside the parser,
 * each mistake naming its key. Run from the repository root (ipxe-scripts/ is read). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../bootsvc/config_check.h"

#define MAX_SEEN 16

struct seen {
	unsigned n;
	char msg[MAX_SEEN][512];
};

static void
collect(const char *msg, void *userdata)
{
	struct seen *s = userdata;

	if (s->n < MAX_SEEN)
		(void)snprintf(s->msg[s->n], sizeof(s->msg[0]), "%s", msg);
	s->n++;
}

static bool
seen_has(const struct seen *s, const char *want)
{
	for (unsigned i = 0; i < s->n && i < MAX_SEEN; i++)
		if (strstr(s->msg[i], want))
			return true;
	return false;
}

static void
dump(const struct seen *s)
{
	for (unsigned i = 0; i < s->n && i < MAX_SEEN; i++)
		print_message("  reported: %s\n", s->msg[i]);
}

static char dir[] = "/tmp/test_config_check.XXXXXX";

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[64];

	(void)state;
	(void)snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void
test_file(void **state)
{
	char path[128];
	struct seen s = { 0 };
	struct config c;

	(void)state;
	(void)snprintf(path, sizeof(path), "%s/bad.conf", dir);
	write_file(path, "# a comment\n"
	    "dhcp_mode = sometimes\n"
	    "colour = blue\n"
	    "log_level = debug\n"
	    "no equals sign\n"
	    "http_listen = 0.0.0.0:99999\n"
	    "hold_poll = 3s\n", 0644);
	config_init(&c);
	assert_int_equal(config_check_file(&c, path, collect, &s), 4);
	dump(&s);
	assert_int_equal(s.n, 4);
	assert_true(strstr(s.msg[0], "bad.conf:2:") && strstr(s.msg[0], "dhcp_mode"));
	assert_true(strstr(s.msg[1], "bad.conf:3:") && strstr(s.msg[1], "colour"));
	assert_true(strstr(s.msg[2], "bad.conf:5:"));
	assert_true(strstr(s.msg[3], "bad.conf:6:") && strstr(s.msg[3], "http_listen"));
	/* the good lines around them were applied */
	assert_int_equal(c.log_level, LOG_DEBUG);
	assert_int_equal(c.hold_poll_ms, 3000);

	/* a file that cannot be read is one mistake, naming it */
	memset(&s, 0, sizeof(s));
	(void)snprintf(path, sizeof(path), "%s/missing.conf", dir);
	config_init(&c);
	assert_int_equal(config_check_file(&c, path, collect, &s), 1);
	assert_true(seen_has(&s, "missing.conf"));

	/* a clean file: nothing */
	memset(&s, 0, sizeof(s));
	(void)snprintf(path, sizeof(path), "%s/good.conf", dir);
	write_file(path, "dhcp_mode = off\nlog_level = info\n", 0644);
	config_init(&c);
	assert_int_equal(config_check_file(&c, path, collect, &s), 0);
	assert_int_equal(s.n, 0);
}

/* A config whose paths are all there: this test's dir as state, the tree's templates. */
static void
good_config(struct config *c)
{
	struct dl_err e = { 0 };

	config_init(c);
	assert_int_equal(config_set(c, "state_dir", dir, &e), 0);
	assert_int_equal(config_set(c, "template_dir", "/", &e), 0);
	{
		char cwd[256];

		assert_non_null(getcwd(cwd, sizeof(cwd) - 16));
		strcat(cwd, "/ipxe-scripts");
		assert_int_equal(config_set(c, "template_dir", cwd, &e), 0);
	}
	assert_int_equal(config_set(c, "dhcp_mode", "off", &e), 0);
	assert_int_equal(config_resolve(c, &e), 0);
}

static void
test_paths(void **state)
{
	static const struct {
		int line;
		const char *key, *value; /* one key changed from the good config */
		const char *want;        /* NULL: no mistake; else a substring of the one */
	} v[] = {
		{ __LINE__, NULL, NULL, NULL },
		{ __LINE__, "template_dir", "/nonexistent/templates", "template_dir:" },
		{ __LINE__, "template_dir", "/tmp", "template_dir:" },
		/* made at start: the parent must exist */
		{ __LINE__, "state_dir", "/tmp/test_config_check_not_yet", NULL },
		{ __LINE__, "state_dir", "/nonexistent/a/b", "state_dir:" },
		{ __LINE__, "state_dir", "/etc/debian_version", "state_dir:" },
		{ __LINE__, "store", "sqlite:/var/lib/x.db", NULL },
		{ __LINE__, "store", "/var/lib/x.db", NULL },
		{ __LINE__, "store", "postgresql://diskless:secret@db.example/diskless", NULL },
		{ __LINE__, "store", "mysql://db/x", "store:" },
		{ __LINE__, "store", "sqlite:", "store:" },
		{ __LINE__, "store", "postgresql://u:secret@db/x?nosuchparam=1", "store:" },
		{ __LINE__, "notify_hook", "/etc/debian_version", "notify_hook:" },
		{ __LINE__, "notify_hook", "/bin/true", NULL },
		{ __LINE__, "site_overlay", "/nonexistent", "site_overlay:" },
		{ __LINE__, "control_tls_ca", "/nonexistent/ca.crt", "control_tls_ca:" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct dl_err e = { 0 };
		struct seen s = { 0 };
		struct config c;
		int n;

		good_config(&c);
		if (v[i].key)
			_assert_int_equal(config_set(&c, v[i].key, v[i].value, &e), 0, __FILE__,
			    v[i].line);
		n = config_check_paths(&c, collect, &s);
		if (n != (v[i].want ? 1 : 0) || (v[i].want && !seen_has(&s, v[i].want)))
			dump(&s);
		_assert_int_equal(n, v[i].want ? 1 : 0, __FILE__, v[i].line);
		_assert_int_equal(s.n, (unsigned)n, __FILE__, v[i].line);
		if (v[i].want)
			_assert_true(seen_has(&s, v[i].want), v[i].want, __FILE__, v[i].line);
		/* a password in the store URL is never repeated */
		_assert_true(!seen_has(&s, "secret"), "no password", __FILE__, v[i].line);
	}
}

static void
test_dhcp_programs(void **state)
{
	struct dl_err e = { 0 };
	struct seen s = { 0 };
	struct config c;

	(void)state;
	good_config(&c);
	assert_int_equal(config_set(&c, "dhcp_mode", "range", &e), 0);
	assert_int_equal(config_set(&c, "dnsmasq", "/nonexistent/dnsmasq", &e), 0);
	assert_int_equal(config_set(&c, "ipxe_dir", "/nonexistent/ipxe", &e), 0);
	assert_int_equal(config_check_paths(&c, collect, &s), 2);
	assert_true(seen_has(&s, "dnsmasq: '/nonexistent/dnsmasq'"));
	assert_true(seen_has(&s, "ipxe_dir: '/nonexistent/ipxe'"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_dhcp_programs),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
