/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "spawn.h"
#include "tool.h"

/* The log tail read back on failure: enough for TOOL_TAIL_LINES lines of apt output. */
#define TAIL_BYTES 4096

static void
log_tail(int fd, char *buf, size_t size)
{
	struct stat st;
	off_t off;
	ssize_t n;
	int lines = 0;

	buf[0] = '\0';
	if (fstat(fd, &st) < 0 || st.st_size == 0)
		return;
	off = st.st_size > (off_t)size - 1 ? st.st_size - (off_t)size + 1 : 0;
	n = pread(fd, buf, size - 1, off);
	if (n <= 0)
		return;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	for (ssize_t i = n - 1; i >= 0; i--) {
		if (buf[i] == '\n' && ++lines == TOOL_TAIL_LINES) {
			memmove(buf, buf + i + 1, (size_t)(n - i));
			break;
		}
	}
	/* One message line for logs: newlines become " | ", other controls '?'. */
	for (char *p = buf; *p; p++)
		if (*p == '\n')
			*p = '|';
		else if ((unsigned char)*p < 0x20)
			*p = '?';
}

int
tool_run(const char *const *argv, const char *cwd, const char *const *env,
    const char *log_path, unsigned timeout_ms, struct dl_err *reterr)
{
	return tool_run_stdin(argv, cwd, env, NULL, log_path, timeout_ms, reterr);
}

int
tool_run_stdin(const char *const *argv, const char *cwd, const char *const *env,
    const char *stdin_path, const char *log_path, unsigned timeout_ms, struct dl_err *reterr)
{
	_cleanup_close_ int fd = -1, in = -1;
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;
	char tail[TAIL_BYTES];
	int rc;

	fd = open(log_path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return dl_err_set(reterr, negative_errno(), "%s: %s", log_path, strerror(errno));
	if (stdin_path) {
		in = open(stdin_path, O_RDONLY | O_CLOEXEC);
		if (in < 0)
			return dl_err_set(reterr, negative_errno(), "%s: %s", stdin_path,
			    strerror(errno));
		o.stdin_fd = in;
	}
	o.cwd = cwd;
	o.envp = env;
	rc = spawn_run(argv, &o, fd, timeout_ms, reterr);
	if (rc < 0) {
		log_tail(fd, tail, sizeof(tail));
		if (reterr && tail[0]) {
			/* Append "; output: <tail>", keeping the tail's end if it must be cut:
			 * the last lines name what failed. */
			size_t used = strnlen(reterr->msg, sizeof(reterr->msg) - 1);
			size_t room = sizeof(reterr->msg) - 1 - used, tl = strlen(tail);
			const char *sep = "; output: ";
			if (room > strlen(sep) + 16) {
				memcpy(reterr->msg + used, sep, strlen(sep));
				used += strlen(sep);
				room -= strlen(sep);
				const char *t = tl > room ? tail + tl - room : tail;
				memcpy(reterr->msg + used, t, strlen(t) + 1);
			}
		}
	}
	return rc;
}

int
tool_require(const char *prog, const char *package, struct dl_err *reterr)
{
	if (access(prog, X_OK) < 0)
		return dl_err_set(reterr, -ENOENT, "%s is missing: apt-get install %s (or make deps)",
		    prog, package);
	return 0;
}
