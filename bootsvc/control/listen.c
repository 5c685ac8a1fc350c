/* SPDX-License-Identifier: MIT */
/* Accepting control clients: the Unix socket (root, or control_group by peer credentials,
 * root's reserved slots) and control_tcp (every client a TLS session), with a backoff when
 * fds run out instead of a spin on a level-triggered listener. */
#include <arpa/inet.h>
#include <grp.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "control/control_internal.h"
#include "control/control_tls.h"

static bool
peer_authorized(struct control *ctl, int fd, uid_t *ret_uid)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	gid_t groups[256];
	socklen_t glen = sizeof(groups);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return false;
	*ret_uid = cred.uid;
	if (cred.uid == 0)
		return true;
	if (ctl->gid == (gid_t)-1)
		return false;
	if (cred.gid == ctl->gid)
		return true;
	/* Supplementary groups of the peer (Linux 4.13+). */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &glen) == 0)
		for (size_t i = 0; i < glen / sizeof(gid_t); i++)
			if (groups[i] == ctl->gid)
				return true;
	return false;
}

static void
on_accept_again(struct loop *l, void *userdata)
{
	struct control *ctl = userdata;

	ctl->accept_timer = 0;
	(void)loop_mod_fd(l, ctl->fd, EPOLLIN);
}

static void
on_accept_again_tcp(struct loop *l, void *userdata)
{
	struct control *ctl = userdata;

	ctl->accept_timer_tcp = 0;
	(void)loop_mod_fd(l, control_tls_fd(ctl->tls), EPOLLIN);
}

/* accept() on listener fd failed with errno. Returns true to try the next one (a
 * connection that went away), false to stop: nothing more is waiting, or fds or memory
 * ran out (EMFILE, ENFILE, ENOBUFS, ENOMEM), when the listener, which stays readable
 * (level-triggered), is not watched for a while rather than spun on. */
static bool
accept_failed(struct control *ctl, int fd, int64_t *timer, loop_timer_fn again)
{
	struct loop *l = ctl->bs->loop;
	uint64_t suppressed;
	int e = errno;

	if (e == EINTR || e == ECONNABORTED)
		return true;
	if (e == EAGAIN)
		return false;
	if (log_ratelimit_pass(&ctl->rl_accept, loop_now_ms(), &suppressed))
		log_warning("event=control_accept err=%s msg=\"cannot accept, will retry in %d ms\" "
		    "suppressed=%llu", dl_errno_name(-e), CONTROL_ACCEPT_BACKOFF_MS,
		    (unsigned long long)suppressed);
	(void)loop_mod_fd(l, fd, 0);
	if (*timer <= 0)
		*timer = loop_add_timer(l, loop_now_ms() + CONTROL_ACCEPT_BACKOFF_MS, again, ctl);
	return false;
}

/* Refuse a connection with one line saying why. */
static void
refuse(struct control *ctl, int cfd, uid_t uid, const char *code, const char *why)
{
	char line[256];
	uint64_t suppressed;
	int n = snprintf(line, sizeof(line), "{\"id\":null,\"ok\":false,\"error\":{\"code\":"
	    "\"%s\",\"message\":\"%s\"}}\n", code, why);

	if (n > 0 && n < (int)sizeof(line))
		(void)!send(cfd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (log_ratelimit_pass(&ctl->rl_refuse, loop_now_ms(), &suppressed))
		log_warning("event=control_denied uid=%d msg=\"%s\" suppressed=%llu", (int)uid, why,
		    (unsigned long long)suppressed);
	close(cfd);
}

static void
on_accept(struct loop *l, int fd, uint32_t events, void *userdata)
{
	struct control *ctl = userdata;

	(void)l;
	(void)events;
	for (;;) {
		int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		struct client *cl;
		uid_t uid = (uid_t)-1;

		if (cfd < 0) {
			if (accept_failed(ctl, fd, &ctl->accept_timer, on_accept_again))
				continue;
			return;
		}
		if (!peer_authorized(ctl, cfd, &uid)) {
			refuse(ctl, cfd, uid, "EPERM", "not authorised: root or the control group only");
			continue;
		}
		if (ctl->n_clients >= CONTROL_MAX_CLIENTS) {
			refuse(ctl, cfd, uid, "EBUSY", "too many control clients, try again later");
			continue;
		}
		if (uid != 0 && ctl->n_clients >= CONTROL_MAX_CLIENTS - CONTROL_ROOT_RESERVED) {
			refuse(ctl, cfd, uid, "EBUSY", "too many control clients (the last slots "
			    "are kept for root), try again later");
			continue;
		}
		if (!(cl = conn_new(ctl, cfd, uid, ROLE_ADMIN))) {
			refuse(ctl, cfd, uid, "ENOMEM", "out of memory");
			continue;
		}
		/* root or the control group: the admin role, as before roles existed */
		if (conn_attach(cl) < 0) {
			close(cfd);
			free(cl);
		}
	}
}

/* A TLS client that has not finished its handshake (or reading its refusal) in time. */
static void
on_handshake_deadline(struct loop *l, void *userdata)
{
	struct client *cl = userdata;

	(void)l;
	cl->hs_timer = 0;
	if (!control_tls_conn_ready(cl->tls))
		log_warning("event=control_tls_refused peer=%s why=\"no handshake within %d s\"",
		    control_tls_conn_peer(cl->tls), MAX_TLS_HANDSHAKE_MS / 1000);
	conn_free(cl);
}

/* control_tcp: every client is a TLS session; its role comes from its certificate. */
static void
on_accept_tcp(struct loop *l, int fd, uint32_t events, void *userdata)
{
	struct control *ctl = userdata;

	(void)events;
	for (;;) {
		struct sockaddr_in sa;
		socklen_t salen = sizeof(sa);
		int cfd = accept4(fd, (struct sockaddr *)&sa, &salen, SOCK_CLOEXEC | SOCK_NONBLOCK);
		char peer[INET_ADDRSTRLEN + 8];
		struct client *cl;

		uint64_t suppressed;

		if (cfd < 0) {
			if (accept_failed(ctl, fd, &ctl->accept_timer_tcp, on_accept_again_tcp))
				continue;
			return;
		}
		(void)snprintf(peer, sizeof(peer), "%s:%u", inet_ntop(AF_INET, &sa.sin_addr,
		    peer + 8, INET_ADDRSTRLEN) ? peer + 8 : "?", ntohs(sa.sin_port));
		/* Never root: the reserved slots are not for it. No line before the handshake
		 * (the client speaks TLS), so only the log says why. */
		if (ctl->n_clients >= CONTROL_MAX_CLIENTS - CONTROL_ROOT_RESERVED ||
		    !(cl = conn_new(ctl, cfd, (uid_t)-1, _ROLE_INVALID))) {
			if (log_ratelimit_pass(&ctl->rl_refuse, loop_now_ms(), &suppressed))
				log_warning("event=control_denied peer=%s msg=\"too many control "
				    "clients (the last slots are kept for root)\" suppressed=%llu", peer,
				    (unsigned long long)suppressed);
			close(cfd);
			continue;
		}
		/* The role is _ROLE_INVALID until its certificate says (conn.c, on_client). */
		cl->tls = control_tls_conn_new(ctl->tls, cfd, peer);
		cl->hs_timer = cl->tls ? loop_add_timer(l, loop_now_ms() + MAX_TLS_HANDSHAKE_MS,
		    on_handshake_deadline, cl) : -ENOMEM;
		if (cl->hs_timer < 0 || conn_attach(cl) < 0) {
			if (cl->hs_timer > 0)
				loop_cancel_timer(l, cl->hs_timer);
			control_tls_conn_free(cl->tls);
			close(cfd);
			free(cl);
		}
	}
}

int
listen_start(struct control *ctl, struct dl_err *reterr)
{
	struct bootsvc *bs = ctl->bs;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)];
	char *slash;
	int r;

	if (strlen(bs->cfg.control_socket) >= sizeof(sa.sun_path))
		return dl_err_set(reterr, -ENAMETOOLONG, "control_socket '%s' is too long",
		    bs->cfg.control_socket);
	ctl->gid = (gid_t)-1;
	if (bs->cfg.control_group[0]) {
		struct group *g = getgrnam(bs->cfg.control_group);
		if (!g)
			return dl_err_set(reterr, -ENOENT, "control_group '%s' does not exist",
			    bs->cfg.control_group);
		ctl->gid = g->gr_gid;
	}
	strcpy(sa.sun_path, bs->cfg.control_socket);
	strcpy(dir, sa.sun_path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		(void)mkdir(dir, 0755); /* may exist; bind reports real problems */
	}
	ctl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (ctl->fd < 0) {
		r = negative_errno();
		return dl_err_set(reterr, r, "control socket: %s", strerror(-r));
	}
	(void)unlink(sa.sun_path); /* a stale socket of a previous run */
	if (bind(ctl->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ctl->fd, 64) < 0) {
		r = negative_errno();
		close(ctl->fd);
		return dl_err_set(reterr, r, "control socket '%s': %s", sa.sun_path,
		    strerror(-r));
	}
	/* Peer credentials decide; the mode only keeps others from connecting at all. */
	if (ctl->gid != (gid_t)-1) {
		(void)!chown(sa.sun_path, 0, ctl->gid);
		(void)chmod(sa.sun_path, 0660);
	} else
		(void)chmod(sa.sun_path, 0600);
	r = loop_add_fd(bs->loop, ctl->fd, EPOLLIN, on_accept, ctl);
	if (r < 0) {
		close(ctl->fd);
		return dl_err_set(reterr, r, "control socket: cannot watch");
	}
	if (bs->cfg.control_tcp_addr[0]) {
		r = control_tls_new(bs->cfg.control_tls_cert, bs->cfg.control_tls_key,
		    bs->cfg.control_tls_ca, bs->cfg.control_tcp_addr, bs->cfg.control_tcp_port,
		    &ctl->tls, reterr);
		if (r >= 0) {
			r = loop_add_fd(bs->loop, control_tls_fd(ctl->tls), EPOLLIN, on_accept_tcp,
			    ctl);
			if (r < 0)
				dl_err_set(reterr, r, "control_tcp: cannot watch");
		}
		if (r < 0) {
			ctl->tls = control_tls_free(ctl->tls);
			loop_del_fd(bs->loop, ctl->fd);
			close(ctl->fd);
			return r;
		}
	}
	log_info("event=control_listen path=%s", sa.sun_path);
	return 0;
}

void
listen_stop(struct control *ctl)
{
	struct loop *l = ctl->bs->loop;

	if (ctl->accept_timer > 0)
		loop_cancel_timer(l, ctl->accept_timer);
	if (ctl->accept_timer_tcp > 0)
		loop_cancel_timer(l, ctl->accept_timer_tcp);
	loop_del_fd(l, ctl->fd);
	close(ctl->fd);
	if (ctl->tls) {
		loop_del_fd(l, control_tls_fd(ctl->tls));
		ctl->tls = control_tls_free(ctl->tls);
	}
	(void)unlink(ctl->bs->cfg.control_socket);
}
