/* SPDX-License-Identifier: MIT */
/* bootsvc/sdnotify.c: the variables systemd hands a Type=notify service, parsed from a
 * table of vectors (each with its __LINE__), and the datagrams sent to a socket this test
 * binds as systemd's manager would: a path and an abstract name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../bootsvc/sdnotify.h"
#include "check_r.h"

static void
test_parse(void **state)
{
	static const struct {
		int line;
		const char *sock, *usec, *pid;
		pid_t self, parent;
		int want_r;
		const char *want_path;
		uint64_t want_usec, want_ms;
	} v[] = {
		{ __LINE__, NULL, NULL, NULL, 10, 0, 0, "", 0, 0 },
		{ __LINE__, "", "1000000", NULL, 10, 0, 0, "", 0, 0 },
		{ __LINE__, "/run/systemd/notify", NULL, NULL, 10, 0, 0, "/run/systemd/notify", 0, 0 },
		{ __LINE__, "@abstract", "", NULL, 10, 0, 0, "@abstract", 0, 0 },
		{ __LINE__, "/n", "30000000", NULL, 10, 0, 0, "/n", 30000000, 15000 },
		/* WATCHDOG_PID: ours, our privsep parent's, or someone else's */
		{ __LINE__, "/n", "30000000", "10", 10, 9, 0, "/n", 30000000, 15000 },
		{ __LINE__, "/n", "30000000", "9", 10, 9, 0, "/n", 30000000, 15000 },
		{ __LINE__, "/n", "30000000", "8", 10, 9, 0, "/n", 0, 0 },
		{ __LINE__, "/n", "30000000", "9", 10, 0, 0, "/n", 0, 0 },
		{ __LINE__, "/n", "2000", NULL, 10, 0, 0, "/n", 2000, 1 },
		{ __LINE__, "/n", "1999", NULL, 10, 0, -EINVAL, "/n", 0, 0 },
		{ __LINE__, "/n", "-5", NULL, 10, 0, -EINVAL, "/n", 0, 0 },
		{ __LINE__, "/n", "12x", NULL, 10, 0, -EINVAL, "/n", 0, 0 },
		{ __LINE__, "/n", "99999999999999999999999", NULL, 10, 0, -EINVAL, "/n", 0, 0 },
		{ __LINE__, "/n", "30000000", "x", 10, 0, -EINVAL, "/n", 0, 0 },
		{ __LINE__, "/n", "30000000", "0", 10, 0, -EINVAL, "/n", 0, 0 },
		{ __LINE__, "relative", NULL, NULL, 10, 0, -EINVAL, "", 0, 0 },
		{ __LINE__, "@", NULL, NULL, 10, 0, -EINVAL, "", 0, 0 },
		{ __LINE__, "/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", NULL, NULL, 10, 0,
		    -EINVAL, "", 0, 0 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct sdnotify n;
		struct dl_err e = { 0 };
		int r = sdnotify_parse(&n, v[i].sock, v[i].usec, v[i].pid, v[i].self, v[i].parent,
		    &e);

		check_r_at(__FILE__, v[i].line, "sdnotify_parse", r, &e, v[i].want_r, NULL);
		if (r < 0) {
			/* the message names the variable */
			assert_true(strstr(e.msg, "NOTIFY_SOCKET") || strstr(e.msg, "WATCHDOG_"));
			continue;
		}
		_assert_string_equal(n.path, v[i].want_path, __FILE__, v[i].line);
		_assert_int_equal(n.watchdog_usec, v[i].want_usec, __FILE__, v[i].line);
		_assert_int_equal(sdnotify_watchdog_ms(&n), v[i].want_ms, __FILE__, v[i].line);
	}
}

/* A datagram socket bound where the manager would listen; returns its fd. */
static int
bind_manager(const char *path, bool abstract)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(path);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memcpy(sa.sun_path, path, len);
	if (abstract)
		sa.sun_path[0] = '\0';
	assert_int_equal(bind(fd, (struct sockaddr *)&sa,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)), 0);
	return fd;
}

static void
expect_datagram(int fd, const char *want)
{
	char buf[256];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

static void
test_send(void **state)
{
	char dir[] = "/tmp/test_sdnotify.XXXXXX", path[128], abs[64];
	struct sdnotify n, none;
	struct dl_err e = { 0 };
	int fd, afd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	(void)snprintf(path, sizeof(path), "%s/notify", dir);
	fd = bind_manager(path, false);
	assert_int_equal(sdnotify_parse(&n, path, "4000000", NULL, 1, 0, &e), 0);
	assert_int_equal(sdnotify_send(&n, "READY=1\nSTATUS=serving"), 0);
	expect_datagram(fd, "READY=1\nSTATUS=serving");
	assert_int_equal(sdnotify_send(&n, "WATCHDOG=1"), 0);
	expect_datagram(fd, "WATCHDOG=1");
	assert_int_equal(sdnotify_send(&n, "STOPPING=1"), 0);
	expect_datagram(fd, "STOPPING=1");

	(void)snprintf(abs, sizeof(abs), "@test_sdnotify.%d", (int)getpid());
	afd = bind_manager(abs, true);
	assert_int_equal(sdnotify_parse(&n, abs, NULL, NULL, 1, 0, &e), 0);
	assert_int_equal(sdnotify_send(&n, "READY=1"), 0);
	expect_datagram(afd, "READY=1");

	/* no manager listening: an error, never a crash or a block */
	close(fd);
	unlink(path);
	assert_int_equal(sdnotify_parse(&n, path, NULL, NULL, 1, 0, &e), 0);
	assert_true(sdnotify_send(&n, "READY=1") < 0);
	/* no NOTIFY_SOCKET: a no-op */
	assert_int_equal(sdnotify_parse(&none, NULL, NULL, NULL, 1, 0, &e), 0);
	assert_int_equal(sdnotify_send(&none, "READY=1"), 0);
	close(afd);
	rmdir(dir);
}

/* sdnotify_init() takes the variables out of the environment: nothing bootsvc spawns
 * notifies in its name. */
static void
test_init_unsets(void **state)
{
	struct sdnotify n;
	struct dl_err e = { 0 };

	(void)state;
	setenv("NOTIFY_SOCKET", "/run/x", 1);
	setenv("WATCHDOG_USEC", "1000000", 1);
	setenv("WATCHDOG_PID", "1", 1);
	assert_int_equal(sdnotify_init(&n, 1, 0, &e), 0);
	assert_string_equal(n.path, "/run/x");
	assert_int_equal(n.watchdog_usec, 1000000);
	assert_null(getenv("NOTIFY_SOCKET"));
	assert_null(getenv("WATCHDOG_USEC"));
	assert_null(getenv("WATCHDOG_PID"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_send),
		cmocka_unit_test(test_init_unsets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
