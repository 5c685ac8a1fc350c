/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "macro.h"
#include "sdnotify.h"

int
sdnotify_parse(struct sdnotify *n, const char *socket, const char *watchdog_usec,
    const char *watchdog_pid, pid_t self, pid_t parent, struct dl_err *reterr)
{
	char *end;
	unsigned long long v;

	*n = (struct sdnotify){ 0 };
	if (!socket || !*socket)
		return 0;
	/* An absolute path or "@abstract", as systemd hands out; anything else is not ours. */
	if ((socket[0] != '/' && socket[0] != '@') || strlen(socket) > MAX_NOTIFY_PATH ||
	    socket[1] == '\0')
		return dl_err_set(reterr, -EINVAL, "NOTIFY_SOCKET '%.64s' is not an absolute "
		    "path or @name of at most %d bytes", socket, MAX_NOTIFY_PATH);
	strcpy(n->path, socket);
	n->abstract = socket[0] == '@';
	if (!watchdog_usec || !*watchdog_usec)
		return 0;
	errno = 0;
	v = strtoull(watchdog_usec, &end, 10);
	if (errno || *end || end == watchdog_usec || watchdog_usec[0] == '-' ||
	    v < MIN_WATCHDOG_USEC)
		return dl_err_set(reterr, -EINVAL, "WATCHDOG_USEC '%.32s' is not a number of "
		    "microseconds >= %d", watchdog_usec, MIN_WATCHDOG_USEC);
	if (watchdog_pid && *watchdog_pid) {
		unsigned long long p;

		errno = 0;
		p = strtoull(watchdog_pid, &end, 10);
		if (errno || *end || end == watchdog_pid || p == 0)
			return dl_err_set(reterr, -EINVAL, "WATCHDOG_PID '%.32s' is not a pid",
			    watchdog_pid);
		/* Meant for another process: not ours to feed. */
		if (p != (unsigned long long)self && (parent <= 0 ||
		    p != (unsigned long long)parent))
			return 0;
	}
	n->watchdog_usec = v;
	return 0;
}

int
sdnotify_init(struct sdnotify *n, pid_t self, pid_t parent, struct dl_err *reterr)
{
	int r = sdnotify_parse(n, getenv("NOTIFY_SOCKET"), getenv("WATCHDOG_USEC"),
	    getenv("WATCHDOG_PID"), self, parent, reterr);

	(void)unsetenv("NOTIFY_SOCKET");
	(void)unsetenv("WATCHDOG_USEC");
	(void)unsetenv("WATCHDOG_PID");
	return r;
}

int
sdnotify_send(const struct sdnotify *n, const char *state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t plen = strlen(n->path);
	socklen_t salen;
	ssize_t w;
	int fd, r = 0;

	if (!n->path[0])
		return 0;
	memcpy(sa.sun_path, n->path, plen);
	if (n->abstract)
		sa.sun_path[0] = '\0';
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return negative_errno();
	w = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, salen);
	if (w < 0)
		r = negative_errno();
	else if ((size_t)w != strlen(state))
		r = -EMSGSIZE;
	close(fd);
	return r;
}

uint64_t
sdnotify_watchdog_ms(const struct sdnotify *n)
{
	/* Half the interval (sdnotify.h), in ms, at least 1. */
	uint64_t ms = n->watchdog_usec / 2000;

	return n->watchdog_usec && ms == 0 ? 1 : ms;
}
