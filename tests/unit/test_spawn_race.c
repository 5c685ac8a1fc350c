/* SPDX-License-Identifier: MIT */
/* spawn_run() and an interrupt that lands between its check of the flag and its wait: the
 * window imagebuild lost a Ctrl-C in (it went on until its tool finished). The wait is
 * wrapped at link time (Makefile: --wrap=ppoll --wrap=poll) so the signal arrives exactly
 * there, every run: with the flag checked under a blocked signal and the wait in ppoll(),
 * the pending signal ends the wait at once and the child is ended. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "err.h"
#include "spawn.h"

static int armed; /* the next wait raises SIGINT first */

int __real_ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts,
    const sigset_t *mask);
int __wrap_ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts,
    const sigset_t *mask);
int __real_poll(struct pollfd *fds, nfds_t n, int timeout);
int __wrap_poll(struct pollfd *fds, nfds_t n, int timeout);

int
__wrap_ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *mask)
{
	if (armed) {
		armed = 0;
		(void)raise(SIGINT);
	}
	return __real_ppoll(fds, n, ts, mask);
}

/* What the wait used before the fix: the same signal, the same place. */
int
__wrap_poll(struct pollfd *fds, nfds_t n, int timeout)
{
	if (armed) {
		armed = 0;
		(void)raise(SIGINT);
	}
	return __real_poll(fds, n, timeout);
}

static void
on_sigint(int sig)
{
	(void)sig;
	spawn_interrupt();
}

static void
test_interrupt_before_wait(void **state)
{
	const char *const argv[] = { "/bin/sh", "-c", "sleep 20", NULL };
	struct sigaction sa = { .sa_handler = on_sigint }, old;
	struct dl_err err = { 0 };
	int r;

	(void)state;
	assert_int_equal(sigaction(SIGINT, &sa, &old), 0);
	armed = 1;
	r = spawn_run(argv, NULL, -1, 0, &err);
	assert_int_equal(armed, 0); /* the wrapped wait was reached */
	/* Lost, the interrupt would have let sleep run its 20 s and exit 0. */
	assert_int_equal(r, -EINTR);
	assert_string_equal(err.msg, "/bin/sh interrupted, ended by SIGTERM");
	assert_int_equal(sigaction(SIGINT, &old, NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_interrupt_before_wait),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
