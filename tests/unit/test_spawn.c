/* SPDX-License-Identifier: MIT */
/* lib/spawn.c against real programs: /bin/true, /bin/false and /bin/sh scripts (tests may
 * use sh; lib may not). Deadlines are short so the whole file runs in a few seconds. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "spawn.h"

#define ARGV(...) ((const char *const[]){ __VA_ARGS__, NULL })

static long
elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Exit statuses and the messages CONVENTIONS §7 asks for. */
static const struct {
	int line;
	const char *const *argv;
	unsigned timeout_ms;
	int err;
	const char *msg; /* exact message, or NULL for success */
} run_vectors[] = {
	{ __LINE__, ARGV("/bin/true"), 0, 0, NULL },
	{ __LINE__, ARGV("/bin/true"), 5000, 0, NULL },
	{ __LINE__, ARGV("/bin/false"), 0, -EPROTO, "/bin/false exited 1" },
	{ __LINE__, ARGV("/bin/sh", "-c", "echo x >&2; exit 3"), 0, -EPROTO, "/bin/sh exited 3: x" },
	{ __LINE__, ARGV("/bin/sh", "-c", "echo a >&2; echo b >&2; exit 4"), 0, -EPROTO,
	    "/bin/sh exited 4: a; b" },
	{ __LINE__, ARGV("/bin/sh", "-c", "printf 'a\\tb\\033c\\r\\n' >&2; exit 1"), 0, -EPROTO,
	    "/bin/sh exited 1: a?b?c" }, /* control bytes never reach a log line */
	{ __LINE__, ARGV("/bin/sh", "-c", "echo quiet; exit 5"), 0, -EPROTO, "/bin/sh exited 5" },
	{ __LINE__, ARGV("/bin/sh", "-c", "kill -KILL $$"), 0, -EPROTO, "/bin/sh killed by SIGKILL" },
	{ __LINE__, ARGV("/bin/sh", "-c", "sleep 10"), 200, -ETIMEDOUT,
	    "/bin/sh timed out after 200 ms, killed by SIGTERM" },
	{ __LINE__, ARGV("sh", "-c", "true"), 0, -EINVAL, "program 'sh' is not an absolute path" },
	{ __LINE__, ARGV("bin/true"), 0, -EINVAL, "program 'bin/true' is not an absolute path" },
	{ __LINE__, ARGV("/nonexistent/tool"), 0, -ENOENT,
	    "cannot start /nonexistent/tool: No such file or directory" },
	{ __LINE__, ARGV("/"), 0, -EACCES, "cannot start /: Permission denied" },
};

static void
test_run(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(run_vectors); i++) {
		struct dl_err e = { 0 };
		int r = spawn_run(run_vectors[i].argv, NULL, -1, run_vectors[i].timeout_ms, &e);

		if (r != run_vectors[i].err ||
		    (run_vectors[i].msg && strcmp(e.msg, run_vectors[i].msg) != 0))
			print_error("%s:%d: r=%d '%s', want %d '%s'\n", __FILE__, run_vectors[i].line,
			    r, e.msg, run_vectors[i].err, run_vectors[i].msg ? run_vectors[i].msg : "");
		_assert_int_equal(r, run_vectors[i].err, __FILE__, run_vectors[i].line);
		if (run_vectors[i].msg)
			_assert_string_equal(e.msg, run_vectors[i].msg, __FILE__,
			    run_vectors[i].line);
		if (r < 0)
			_assert_int_equal(e.code, r, __FILE__, run_vectors[i].line);
	}
	assert_int_equal(spawn_run(NULL, NULL, -1, 0, NULL), -EINVAL);
	assert_int_equal(spawn_run(ARGV(NULL), NULL, -1, 0, NULL), -EINVAL);
}

/* A deadline on a sleeping child ends it with SIGTERM well before its own end. */
static void
test_deadline(void **state)
{
	struct dl_err e = { 0 };
	struct timespec t0;
	long ms;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(spawn_run(ARGV("/bin/sleep", "10"), NULL, -1, 300, &e), -ETIMEDOUT);
	ms = elapsed_ms(&t0);
	assert_string_equal(e.msg, "/bin/sleep timed out after 300 ms, killed by SIGTERM");
	assert_true(ms >= 290 && ms < 2000);
}

/* A child that ignores SIGTERM gets SIGKILL after the 2 s grace; the whole process
 * group goes, so the sleep that sh started does not keep the stderr pipe open. */
static void
test_deadline_kill(void **state)
{
	struct dl_err e = { 0 };
	struct timespec t0;
	long ms;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(spawn_run(ARGV("/bin/sh", "-c", "trap '' TERM; echo started >&2; sleep 10"),
	    NULL, -1, 200, &e), -ETIMEDOUT);
	ms = elapsed_ms(&t0);
	assert_string_equal(e.msg, "/bin/sh timed out after 200 ms, killed by SIGKILL");
	assert_true(ms >= 2150 && ms < 5000);
}

/* SETSIGMASK and SETSIGDEF: a parent that blocks and ignores SIGTERM (as bootsvc blocks
 * it for its signalfd) must not pass that on, or the deadline's SIGTERM does nothing. */
static void
test_signal_state_reset(void **state)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	sigset_t term, oldmask;
	struct dl_err e = { 0 };
	struct timespec t0;

	(void)state;
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	assert_int_equal(sigprocmask(SIG_BLOCK, &term, &oldmask), 0);
	assert_int_equal(sigaction(SIGTERM, &ign, &old), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(spawn_run(ARGV("/bin/sleep", "10"), NULL, -1, 200, &e), -ETIMEDOUT);
	assert_string_equal(e.msg, "/bin/sleep timed out after 200 ms, killed by SIGTERM");
	assert_true(elapsed_ms(&t0) < 2000);
	assert_int_equal(sigaction(SIGTERM, &old, NULL), 0);
	assert_int_equal(sigprocmask(SIG_SETMASK, &oldmask, NULL), 0);
}

/* Read everything written to a memfd from its start. */
static void
check_fd_content_at(const char *file, int line, int fd, const char *want)
{
	char buf[512];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	_assert_true(n >= 0, "pread", file, line);
	buf[n] = '\0';
	_assert_string_equal(buf, want, file, line);
}
#define check_fd_content(fd, want) check_fd_content_at(__FILE__, __LINE__, (fd), (want))

/* Options: stdout to out_fd, the minimal default environment, envp, cwd, stdin. */
static void
test_options(void **state)
{
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;
	struct dl_err e = { 0 };
	int fd;

	(void)state;
	fd = memfd_create("out", MFD_CLOEXEC);
	assert_true(fd >= 0);
	o.cwd = "/";
	assert_int_equal(spawn_run(ARGV("/bin/sh", "-c", "echo hello; env | sort"), &o, fd, 0,
	    &e), 0);
	/* sh adds PWD to what it was given; nothing of ours (HOME, LD_*, ASAN_*) leaks */
	check_fd_content(fd, "hello\nPATH=/usr/sbin:/usr/bin:/sbin:/bin\nPWD=/\n");
	close(fd);

	fd = memfd_create("out", MFD_CLOEXEC);
	assert_true(fd >= 0);
	o.envp = ARGV("FOO=bar");
	assert_int_equal(spawn_run(ARGV("/bin/sh", "-c", "echo $FOO; pwd; cat"), &o, fd, 0, &e), 0);
	check_fd_content(fd, "bar\n/\n"); /* stdin is /dev/null: cat prints nothing */
	close(fd);

	o.cwd = "/nonexistent-dir";
	assert_int_equal(spawn_run(ARGV("/bin/true"), &o, -1, 0, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "cannot start /bin/true"));
}

/* Nothing above stderr reaches the child, even an fd opened without O_CLOEXEC. */
static void
test_no_fd_leak(void **state)
{
	struct dl_err e = { 0 };
	int fd = open("/dev/null", O_RDONLY); /* deliberately without O_CLOEXEC */

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(dup2(fd, 9), 9);
	assert_int_equal(spawn_run(ARGV("/bin/sh", "-c", "test -e /proc/self/fd/9 && exit 1; "
	    "ls /proc/self/fd | wc -l >&2; exit 0"), NULL, -1, 0, &e), 0);
	close(9);
	close(fd);
}

/* The stderr tail keeps the last lines and stays within a dl_err message. */
static void
test_tail(void **state)
{
	struct dl_err e = { 0 };
	const char *end;

	(void)state;
	assert_int_equal(spawn_run(ARGV("/bin/sh", "-c", "i=0; while [ $i -lt 3000 ]; do "
	    "echo line$i >&2; i=$((i+1)); done; exit 2"), NULL, -1, 0, &e), -EPROTO);
	if (strncmp(e.msg, "/bin/sh exited 2: line", 22) != 0)
		print_error("msg: %s\n", e.msg);
	assert_true(strncmp(e.msg, "/bin/sh exited 2: line", 22) == 0);
	end = e.msg + strlen(e.msg) - strlen("line2998; line2999");
	assert_string_equal(end, "line2998; line2999");
	assert_true(strlen(e.msg) < MAX_ERR_MSG - 1);
	assert_null(strchr(e.msg, '\n'));
}

/* spawn_start + spawn_pidfd: the loop's way (no waiting in lib), and process groups. */
static void
test_start_pidfd(void **state)
{
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;
	struct pollfd pfd;
	pid_t pid;
	int status, fd;

	(void)state;
	assert_int_equal(spawn_start(ARGV("/bin/sleep", "0.1"), &o, &pid, NULL), 0);
	assert_int_equal(getpgid(pid), pid); /* new_pgroup: its own group */
	fd = spawn_pidfd(pid);
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 5000), 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(fd);

	o.new_pgroup = false;
	assert_int_equal(spawn_start(ARGV("/bin/sleep", "0.1"), &o, &pid, NULL), 0);
	assert_int_equal(getpgid(pid), getpgrp());
	assert_int_equal(waitpid(pid, &status, 0), pid);

	assert_int_equal(spawn_start(ARGV("true"), NULL, &pid, NULL), -EINVAL);
	assert_int_equal(spawn_pidfd(-1), -EINVAL);
}

static const struct {
	int line;
	int status;
	const char *want;
} status_vectors[] = {
	/* wait(2) status layout: exit code << 8, signal in the low 7 bits, 0x80 core */
	{ __LINE__, 0, "exited 0" },
	{ __LINE__, 3 << 8, "exited 3" },
	{ __LINE__, 255 << 8, "exited 255" },
	{ __LINE__, SIGKILL, "killed by SIGKILL" },
	{ __LINE__, SIGTERM, "killed by SIGTERM" },
	{ __LINE__, SIGSEGV | 0x80, "killed by SIGSEGV (core dumped)" },
	{ __LINE__, 0x137f, "unknown wait status 0x137f" }, /* stopped by SIGSTOP */
};

static void
test_status_string(void **state)
{
	char buf[64];

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(status_vectors); i++)
		_assert_string_equal(spawn_status_string(status_vectors[i].status, buf, sizeof(buf)),
		    status_vectors[i].want, __FILE__, status_vectors[i].line);
	/* a short buffer truncates, never overflows */
	assert_string_equal(spawn_status_string(SIGKILL, buf, 8), "killed ");
}

static void
test_which(void **state)
{
	char buf[256], tiny[8];

	(void)state;
	assert_int_equal(spawn_which("sh", buf, sizeof(buf)), 0);
	assert_true(buf[0] == '/' && access(buf, X_OK) == 0);
	assert_int_equal(spawn_which("no-such-tool-diskless", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(spawn_which("bin/sh", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(spawn_which("", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(spawn_which("sh", tiny, sizeof(tiny)), -ENAMETOOLONG);
	/* a directory is not a program */
	assert_int_equal(spawn_which("..", buf, sizeof(buf)), -ENOENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_deadline_kill),
		cmocka_unit_test(test_signal_state_reset),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_no_fd_leak),
		cmocka_unit_test(test_tail),
		cmocka_unit_test(test_start_pidfd),
		cmocka_unit_test(test_status_string),
		cmocka_unit_test(test_which),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
