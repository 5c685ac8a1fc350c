/* SPDX-License-Identifier: MIT */
/* The notify hooks (controller/hook.h) on a real loop: a hook that exits is reaped, one
 * that hangs is killed at its deadline (with what it started), and no more than
 * MAX_HOOKS run at once. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../bootsvc/controller/hook.h"
#include "log.h"
#include "loop_wait.h"

static bool
none_running(void *arg)
{
	return ((struct hooks *)arg)->n_running == 0;
}

static void
test_exits(void **state)
{
	const char *argv[] = { "/bin/true", NULL };
	struct loop *l;
	struct hooks h;

	(void)state;
	log_set_level(LOG_CRIT);
	assert_int_equal(loop_new(&l), 0);
	hooks_init(&h, l, 10000);
	assert_int_equal(hooks_run(&h, argv, "n1"), 0);
	assert_int_equal(h.n_running, 1);
	assert_true(loop_wait(l, none_running, NULL, &h, 5000));
	assert_int_equal(h.killed, 0);
	hooks_done(&h);
	loop_free(l);
}

/* A hook that hangs, and a child of it that would outlive it: both end at the deadline. */
static void
test_deadline(void **state)
{
	char pidfile[] = "/tmp/test_hook.XXXXXX";
	const char *argv[] = { "/bin/sh", "-c", "sleep 60 & echo $! >\"$0\"; wait", pidfile,
		NULL };
	struct loop *l;
	struct hooks h;
	uint64_t t0;
	FILE *f;
	int fd, child = 0;

	(void)state;
	fd = mkstemp(pidfile);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(loop_new(&l), 0);
	hooks_init(&h, l, 300);
	t0 = loop_now_ms();
	assert_int_equal(hooks_run(&h, argv, "n1"), 0);
	assert_true(loop_wait(l, none_running, NULL, &h, 10000));
	print_message("hook killed after %llu ms (deadline 300 ms)\n",
	    (unsigned long long)(loop_now_ms() - t0));
	assert_int_equal(h.killed, 1);
	f = fopen(pidfile, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%d", &child), 1);
	fclose(f);
	unlink(pidfile);
	/* the grandchild was in the hook's process group: gone too (reaped by init) */
	for (int i = 0; i < 200 && kill(child, 0) == 0; i++)
		usleep(10000);
	assert_int_equal(kill(child, 0), -1);
	hooks_done(&h);
	loop_free(l);
}

static void
test_bounded(void **state)
{
	const char *argv[] = { "/bin/sleep", "60", NULL };
	struct loop *l;
	struct hooks h;

	(void)state;
	assert_int_equal(loop_new(&l), 0);
	hooks_init(&h, l, 200);
	for (int i = 0; i < MAX_HOOKS; i++)
		assert_int_equal(hooks_run(&h, argv, "n1"), 0);
	assert_int_equal(hooks_run(&h, argv, "n2"), -EAGAIN);
	assert_int_equal(hooks_run(&h, argv, "n3"), -EAGAIN);
	assert_int_equal(h.refused, 2);
	assert_true(loop_wait(l, none_running, NULL, &h, 10000));
	assert_int_equal(h.killed, MAX_HOOKS);
	/* room again */
	assert_int_equal(hooks_run(&h, argv, "n4"), 0);
	assert_true(loop_wait(l, none_running, NULL, &h, 10000));
	hooks_done(&h);
	loop_free(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exits),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
