/* SPDX-License-Identifier: MIT */
/* The only file that starts programs (CONVENTIONS §7). posix_spawn() rather than fork():
 * glibc's implementation uses clone(CLONE_VM|CLONE_VFORK), which is cheap in a large
 * daemon and reports a failed exec as an error return instead of exit status 127. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* lib/ is on the -iquote path only, so <spawn.h> is POSIX's and "spawn.h" is ours. */
#include <spawn.h>

#include "spawn.h"

/* Between SIGTERM and SIGKILL on a deadline: long enough for a tool to remove its temp
 * files, short enough that a wedged mksquashfs does not hold a build for long. */
#define SPAWN_KILL_GRACE_MS 2000

/* The environment a tool gets unless the caller passes one: nothing of ours leaks
 * (no LD_PRELOAD, no proxies, no locale surprises in tool output we parse). */
static const char *const spawn_default_env[] = {
	"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
	NULL,
};

static const char *const spawn_path[] = { "/usr/sbin", "/usr/bin", "/sbin", "/bin" };

static void
attr_destroyp(posix_spawnattr_t **a)
{
	if (*a)
		(void)posix_spawnattr_destroy(*a);
}

static void
fa_destroyp(posix_spawn_file_actions_t **fa)
{
	if (*fa)
		(void)posix_spawn_file_actions_destroy(*fa);
}

/* fd: -1 /dev/null, -2 inherit, else dup2'd onto target. */
static int
fa_add_stdio(posix_spawn_file_actions_t *fa, int fd, int target, int oflags)
{
	if (fd == -2)
		return 0;
	if (fd == -1)
		return posix_spawn_file_actions_addopen(fa, target, "/dev/null", oflags, 0);
	if (fd < 0)
		return EBADF;
	/* glibc >= 2.29 clears FD_CLOEXEC when fd == target, so this works for both. */
	return posix_spawn_file_actions_adddup2(fa, fd, target);
}

int
spawn_start(const char *const *argv, const struct spawn_opts *o, pid_t *ret_pid,
    struct dl_err *reterr)
{
	static const struct spawn_opts defaults = SPAWN_OPTS_DEFAULT;
	posix_spawnattr_t attr;
	posix_spawn_file_actions_t fa;
	_cleanup_(attr_destroyp) posix_spawnattr_t *attrp = NULL;
	_cleanup_(fa_destroyp) posix_spawn_file_actions_t *fap = NULL;
	const char *const *envp;
	sigset_t none, all;
	short flags;
	pid_t pid;
	int r;

	if (!argv || !argv[0])
		return dl_err_set(reterr, -EINVAL, "no program to start");
	if (argv[0][0] != '/')
		return dl_err_set(reterr, -EINVAL, "program '%s' is not an absolute path",
		    argv[0]);
	if (!o)
		o = &defaults;
	envp = o->envp ? o->envp : spawn_default_env;

	r = posix_spawnattr_init(&attr);
	if (r)
		return dl_err_set(reterr, -r, "%s: posix_spawnattr_init: %s", argv[0], strerror(r));
	attrp = &attr;
	/* The child starts with no blocked signals and every handler at its default: a
	 * daemon blocks signals for signalfd, and a tool inheriting that mask would ignore
	 * our SIGTERM. Its own process group lets a deadline kill its children too. */
	flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
	if (o->new_pgroup)
		flags |= POSIX_SPAWN_SETPGROUP;
	(void)sigemptyset(&none);
	(void)sigfillset(&all);
	r = posix_spawnattr_setflags(&attr, flags);
	if (!r)
		r = posix_spawnattr_setsigmask(&attr, &none);
	if (!r)
		r = posix_spawnattr_setsigdefault(&attr, &all);
	if (!r && o->new_pgroup)
		r = posix_spawnattr_setpgroup(&attr, 0);
	if (r)
		return dl_err_set(reterr, -r, "%s: posix_spawnattr: %s", argv[0], strerror(r));

	r = posix_spawn_file_actions_init(&fa);
	if (r)
		return dl_err_set(reterr, -r, "%s: posix_spawn_file_actions_init: %s", argv[0],
		    strerror(r));
	fap = &fa;
	r = fa_add_stdio(&fa, o->stdin_fd, STDIN_FILENO, O_RDONLY);
	if (!r)
		r = fa_add_stdio(&fa, o->stdout_fd, STDOUT_FILENO, O_WRONLY);
	if (!r)
		r = fa_add_stdio(&fa, o->stderr_fd, STDERR_FILENO, O_WRONLY);
	if (!r && o->cwd)
		r = posix_spawn_file_actions_addchdir_np(&fa, o->cwd);
	/* Nothing above stderr reaches the tool, even an fd someone opened without
	 * O_CLOEXEC (glibc >= 2.34). */
	if (!r)
		r = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	if (r)
		return dl_err_set(reterr, -r, "%s: posix_spawn_file_actions: %s", argv[0],
		    strerror(r));

	r = posix_spawn(&pid, argv[0], &fa, &attr, (char *const *)argv, (char *const *)envp);
	if (r)
		return dl_err_set(reterr, -r, "cannot start %s: %s", argv[0], strerror(r));
	*ret_pid = pid;
	return 0;
}

int
spawn_pidfd(pid_t pid)
{
	/* glibc 2.36 has pidfd_open() only in <sys/pidfd.h>; the raw call works with any
	 * libc headers. pidfds are always close-on-exec. */
	long fd = syscall(SYS_pidfd_open, pid, 0);

	if (fd < 0)
		return negative_errno();
	return (int)fd;
}

const char *
spawn_status_string(int status, char *buf, size_t size)
{
	if (WIFEXITED(status)) {
		(void)snprintf(buf, size, "exited %d", WEXITSTATUS(status));
	} else if (WIFSIGNALED(status)) {
		const char *name = sigabbrev_np(WTERMSIG(status));

		if (name)
			(void)snprintf(buf, size, "killed by SIG%s%s", name,
			    WCOREDUMP(status) ? " (core dumped)" : "");
		else
			(void)snprintf(buf, size, "killed by signal %d", WTERMSIG(status));
	} else {
		(void)snprintf(buf, size, "unknown wait status 0x%x", (unsigned)status);
	}
	return buf;
}

int
spawn_which(const char *prog, char *buf, size_t size)
{
	if (!prog || !*prog || strchr(prog, '/'))
		return -EINVAL;
	for (size_t i = 0; i < ELEMENTSOF(spawn_path); i++) {
		struct stat st;
		int n = snprintf(buf, size, "%s/%s", spawn_path[i], prog);

		if (n < 0 || (size_t)n >= size)
			return -ENAMETOOLONG;
		if (stat(buf, &st) == 0 && S_ISREG(st.st_mode) && access(buf, X_OK) == 0)
			return 0;
	}
	return -ENOENT;
}

/* The last MAX_SPAWN_TAIL bytes a child wrote to stderr. */
struct spawn_tail {
	char buf[MAX_SPAWN_TAIL];
	size_t len;
	bool cut; /* bytes were dropped from the front */
};

static void
tail_add(struct spawn_tail *t, const char *p, size_t n)
{
	if (n >= sizeof(t->buf)) {
		memcpy(t->buf, p + n - sizeof(t->buf), sizeof(t->buf));
		t->len = sizeof(t->buf);
		t->cut = true;
		return;
	}
	if (t->len + n > sizeof(t->buf)) {
		size_t drop = t->len + n - sizeof(t->buf);

		memmove(t->buf, t->buf + drop, t->len - drop);
		t->len -= drop;
		t->cut = true;
	}
	memcpy(t->buf + t->len, p, n);
	t->len += n;
}

/* Read what the pipe has now; false once it reached EOF or failed. */
static bool
tail_read(struct spawn_tail *t, int fd)
{
	char chunk[4096];

	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n > 0) {
			tail_add(t, chunk, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 && errno == EAGAIN;
	}
}

/* The tail as one log-safe line: whole lines only, newlines as "; ", control bytes as
 * '?', and the end kept if it must be cut to fit room. */
static const char *
tail_format(const struct spawn_tail *t, char *out, size_t room)
{
	size_t start = 0, end = t->len, o = 0;

	if (t->cut) {
		const char *nl = memchr(t->buf, '\n', t->len);

		if (nl && (size_t)(nl - t->buf) + 1 < t->len)
			start = (size_t)(nl - t->buf) + 1;
	}
	while (end > start && (t->buf[end - 1] == '\n' || t->buf[end - 1] == '\r'))
		end--;
	/* Keep the end, in whole lines: the last lines say why a tool failed. A line that
	 * alone is too long is cut at its front. */
	if (end - start > (room - 1) / 2) {
		const char *nl;

		start = end - (room - 1) / 2;
		nl = memchr(t->buf + start, '\n', end - start);
		if (nl)
			start = (size_t)(nl - t->buf) + 1;
	}
	for (size_t i = start; i < end && o + 3 < room; i++) {
		unsigned char c = (unsigned char)t->buf[i];

		if (c == '\n') {
			out[o++] = ';';
			out[o++] = ' ';
		} else {
			out[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
		}
	}
	out[o] = '\0';
	return out;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts); /* cannot fail for CLOCK_MONOTONIC */
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Set from a signal handler (spawn_interrupt()); spawn_run() then ends its child. */
static volatile sig_atomic_t interrupted;

void
spawn_interrupt(void)
{
	interrupted = 1;
}

/* Wait until the pidfd is readable (the child exited) or deadline_ms (0: none), reading
 * stderr meanwhile. Returns true if the child exited. With honour_interrupt, a
 * spawn_interrupt() (whose signal ends ppoll() with EINTR) also returns false. SIGINT and
 * SIGTERM are blocked while the flag is checked and unblocked only inside ppoll(), so a
 * signal between the check and the wait still ends it (with poll() it was lost, and the
 * build went on until its child exited by itself). */
static bool
wait_exit(int pidfd, int errfd, struct spawn_tail *t, uint64_t deadline_ms,
    bool honour_interrupt)
{
	sigset_t block, old;
	bool exited = false;

	(void)sigemptyset(&block);
	(void)sigaddset(&block, SIGINT);
	(void)sigaddset(&block, SIGTERM);
	(void)pthread_sigmask(SIG_BLOCK, &block, &old);
	for (;;) {
		if (honour_interrupt && interrupted)
			break;
		struct pollfd pfd[2] = {
			{ .fd = pidfd, .events = POLLIN },
			{ .fd = errfd, .events = POLLIN },
		};
		struct timespec ts, *tsp = NULL;
		int n;

		if (deadline_ms) {
			uint64_t now = now_ms();

			if (now >= deadline_ms)
				break;
			ts.tv_sec = (time_t)((deadline_ms - now) / 1000);
			ts.tv_nsec = (long)((deadline_ms - now) % 1000) * 1000000;
			tsp = &ts;
		}
		n = ppoll(pfd, errfd >= 0 ? 2 : 1, tsp, &old);
		if (n < 0)
			continue; /* EINTR; nothing else can fail with valid fds */
		if (pfd[0].revents) {
			exited = true;
			break;
		}
		if (errfd >= 0 && pfd[1].revents && !tail_read(t, errfd))
			errfd = -1; /* EOF: a grandchild may still run; keep waiting on the pidfd */
	}
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	return exited;
}

static int
reap(pid_t pid, int *ret_status)
{
	for (;;) {
		if (waitpid(pid, ret_status, 0) == pid)
			return 0;
		if (errno != EINTR)
			return negative_errno();
	}
}

int
spawn_run(const char *const *argv, const struct spawn_opts *o, int out_fd,
    unsigned timeout_ms, struct dl_err *reterr)
{
	static const struct spawn_opts defaults = SPAWN_OPTS_DEFAULT;
	_cleanup_close_ int rfd = -1, wfd = -1, pidfd = -1;
	_cleanup_free_ struct spawn_tail *t = NULL;
	struct spawn_opts so;
	char st[64], msg[MAX_ERR_MSG];
	size_t used;
	uint64_t deadline = 0;
	int p[2], status, r, sig = 0;
	pid_t pid;

	if (!o)
		o = &defaults;
	if (!argv || !argv[0])
		return dl_err_set(reterr, -EINVAL, "no program to start");
	t = calloc(1, sizeof(*t));
	if (!t)
		return dl_err_set(reterr, -ENOMEM, "%s: out of memory", argv[0]);
	if (pipe2(p, O_CLOEXEC) < 0)
		return dl_err_set(reterr, negative_errno(), "%s: pipe: %m", argv[0]);
	rfd = p[0];
	wfd = p[1];
	if (fcntl(rfd, F_SETFL, O_NONBLOCK) < 0)
		return dl_err_set(reterr, negative_errno(), "%s: fcntl: %m", argv[0]);

	so = *o;
	so.stdout_fd = out_fd >= 0 ? out_fd : -1;
	so.stderr_fd = wfd;
	r = spawn_start(argv, &so, &pid, reterr);
	if (r < 0)
		return r;
	/* Only the child holds the write end now, so the pipe reaches EOF when it exits. */
	(void)close(TAKE_FD(wfd));
	pidfd = spawn_pidfd(pid);
	if (pidfd < 0) {
		/* No pidfd (pre-5.3 kernel): nothing else to wait with a deadline on. */
		r = pidfd;
		(void)kill(o->new_pgroup ? -pid : pid, SIGKILL);
		(void)reap(pid, &status);
		return dl_err_set(reterr, r, "%s: pidfd_open: %s", argv[0], strerror(-r));
	}
	if (timeout_ms)
		deadline = now_ms() + timeout_ms;
	if (!wait_exit(pidfd, rfd, t, deadline, true)) {
		/* The child is still unreaped, so its pid (= pgid) cannot have been reused. */
		sig = SIGTERM;
		(void)kill(o->new_pgroup ? -pid : pid, SIGTERM);
		if (!wait_exit(pidfd, rfd, t, now_ms() + SPAWN_KILL_GRACE_MS, false)) {
			sig = SIGKILL;
			(void)kill(o->new_pgroup ? -pid : pid, SIGKILL);
		}
	}
	r = reap(pid, &status);
	if (r < 0)
		return dl_err_set(reterr, r, "%s: waitpid: %s", argv[0], strerror(-r));
	(void)tail_read(t, rfd); /* what the child wrote just before it exited */
	if (sig && interrupted)
		return dl_err_set(reterr, -EINTR, "%s interrupted, ended by %s", argv[0],
		    sig == SIGTERM ? "SIGTERM" : "SIGKILL");
	if (sig)
		return dl_err_set(reterr, -ETIMEDOUT, "%s timed out after %u ms, killed by %s",
		    argv[0], timeout_ms, sig == SIGTERM ? "SIGTERM" : "SIGKILL");
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	spawn_status_string(status, st, sizeof(st));
	if (t->len == 0)
		return dl_err_set(reterr, -EPROTO, "%s %s", argv[0], st);
	/* Leave the stderr lines what the program name and status do not take. */
	used = strlen(argv[0]) + strlen(st) + 4;
	return dl_err_set(reterr, -EPROTO, "%s %s: %s", argv[0], st,
	    tail_format(t, msg, used + 64 < sizeof(msg) ? sizeof(msg) - used : 64));
}
