/* SPDX-License-Identifier: MIT */
/* The root parent after the fork: it never parses anything from the network, reads no
 * store, renders no template. Its loop holds the socket to the child, the child's pidfd,
 * dnsmasq's pidfd and restart timer (dhcp/dnsmasq.c, unchanged in what it does) and the
 * signals. Everything the child sends is decoded as hostile (privsep_msg.c) and checked
 * against the policy (privsep_policy.c). */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bootsvc.h"
#include "dhcp/dnsmasq.h"
#include "iscsi/qsd.h"
#include "iscsi/tgtd.h"
#include "log.h"
#include "macro.h"
#include "privsep/privsep.h"
#include "privsep/privsep_msg.h"
#include "privsep/privsep_policy.h"
#include "parse.h"
#include "readfile.h"
#include "spawn.h"

/* The config file is sent whole in one datagram. */
#define MAX_PARENT_CONFIG MAX_PRIVSEP_FILE

/* Refusals are logged once each kind, then counted (the child may be compromised and
 * flood us); the counts are logged when the parent ends. */
enum refusal {
	REFUSE_BAD_MSG,  /* malformed, unknown type, or an answer type sent to us */
	REFUSE_CREDS,    /* a credentials path outside the policy or a file that fails it */
	REFUSE_SITE,     /* a site file path outside site_overlay, or not a regular file */
	REFUSE_TLS_CA,   /* a name other than ca.crt/ca.key, or a CA file that fails its checks */
	REFUSE_TGT,      /* a target outside the policy, or a backing store that fails it */
	REFUSE_DISK,     /* an export of a node or golden image outside the policy */
	_REFUSE_MAX,
};

struct parent {
	struct bootsvc *bs;
	pid_t child;
	int child_pidfd;
	int fd;
	int status;         /* the exit status to end with */
	bool dhcp_started;
	uid_t uid;          /* the child's user: the owner of every backing store */
	gid_t gid;          /* its group */
	struct tgtd *tgtd;  /* iscsi = on: tgtd, supervised here */
	struct qsd *qsd;    /* iscsi = on: qemu-storage-daemon for qcow2 exports */
	struct tgt_session *sessions; /* MAX_TGT_SESSIONS, for a sessions answer */
	uint64_t refused[_REFUSE_MAX];
	uint8_t buf[MAX_PRIVSEP_REQUEST + 1]; /* a request: a path or a target at most */
	uint8_t out[MAX_PRIVSEP_MSG];
};

static void
refuse(struct parent *p, enum refusal kind, const char *what, const struct dl_err *err)
{
	if (p->refused[kind]++ == 0)
		log_warning("event=privsep_refused child=%d request=%s msg=\"%s\" "
			    "note=\"further refusals of this kind are counted, not logged\"",
		    (int)p->child, what, err->msg);
}

static void
reply(struct parent *p, const struct privsep_msg *m)
{
	struct dl_err err = { 0 };
	size_t len;
	ssize_t n;

	if (privsep_msg_encode(m, p->out, sizeof(p->out), &len, &err) < 0) {
		log_err("event=privsep_reply child=%d msg=\"%s\"", (int)p->child, err.msg);
		return;
	}
	do
		n = send(p->fd, p->out, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	/* The child reads each answer before it asks again, so the socket has room; a child
	 * that is gone learns nothing more. */
	if (n < 0 && errno != EPIPE && errno != ECONNRESET)
		log_warning("event=privsep_reply child=%d msg=\"send: %s, ignoring\"",
		    (int)p->child, strerror(errno));
	explicit_bzero(p->out, len);
}

static void
reply_result(struct parent *p, int rc, const char *msg)
{
	struct privsep_msg m = { .type = PRIVSEP_RESULT, .rc = rc, .data = msg,
		.data_len = strnlen(msg, MAX_PRIVSEP_TEXT) };

	reply(p, &m);
}

/* The iSCSI requests: tgtd is root's (it takes changes over its socket from uid 0
 * only), so the child asks, and every target is checked as if the child were hostile. */
static void
handle_tgt(struct parent *p, const struct privsep_msg *req)
{
	struct dl_err err = { 0 };
	int r, fd = -1;

	if (!p->tgtd) {
		reply_result(p, -ENOTSUP, "iscsi is off: there is no tgtd");
		return;
	}
	switch (req->type) {
	case PRIVSEP_TGT_SET:
		/* A qcow2 export is the parent's own file (root's, in its exports dir); any
		 * other backing is the child's plain file in disk_dir. */
		if (p->qsd && qsd_is_export(p->qsd, req->target.backing)) {
			r = privsep_tgt_check_export(p->bs->cfg.iscsi_iqn, qsd_exports_dir(p->qsd),
			    &req->target, &err);
			if (r >= 0)
				r = privsep_tgt_backing_open(qsd_exports_dir(p->qsd),
				    req->target.backing, 0, &fd, &err);
		} else {
			r = privsep_tgt_check(p->bs->cfg.iscsi_iqn, p->bs->cfg.disk_dir,
			    &req->target, &err);
			if (r >= 0)
				r = privsep_tgt_backing_open(p->bs->cfg.disk_dir, req->target.backing,
				    p->uid, &fd, &err);
		}
		if (r < 0) {
			refuse(p, REFUSE_TGT, "tgt_set", &err);
			reply_result(p, r, err.msg);
			return;
		}
		r = tgtd_target_set(p->tgtd, &req->target, fd, &err);
		close(fd);
		reply_result(p, r < 0 ? r : 0, r < 0 ? err.msg : "");
		return;
	case PRIVSEP_TGT_DEL:
		if (req->tid < 1 || req->tid > MAX_TGT_TARGETS) {
			dl_err_set(&err, -EACCES, "target tid %u is not in 1..%d", (unsigned)req->tid,
			    MAX_TGT_TARGETS);
			refuse(p, REFUSE_TGT, "tgt_del", &err);
			reply_result(p, err.code, err.msg);
			return;
		}
		r = tgtd_target_del(p->tgtd, req->tid, &err);
		reply_result(p, r < 0 ? r : 0, r < 0 ? err.msg : "");
		return;
	case PRIVSEP_TGT_STATUS: {
		struct privsep_msg m = { .type = PRIVSEP_TGT_STATE };
		pid_t pid;
		tgtd_status(p->tgtd, &pid, &m.restarts, &m.generation);
		m.pid = (int32_t)pid;
		reply(p, &m);
		return;
	}
	case PRIVSEP_TGT_SESSIONS: {
		struct privsep_msg m = { .type = PRIVSEP_TGT_LIST, .sessions = p->sessions };
		if (!p->sessions &&
		    !(p->sessions = calloc(MAX_TGT_SESSIONS, sizeof(*p->sessions)))) {
			reply_result(p, -ENOMEM, "out of memory");
			return;
		}
		m.sessions = p->sessions;
		r = tgtd_sessions(p->tgtd, p->sessions, MAX_TGT_SESSIONS, &m.n_sessions, &err);
		if (r < 0) {
			reply_result(p, r, err.msg);
			return;
		}
		reply(p, &m);
		return;
	}
	default:
		reply_result(p, -EBADMSG, "not a tgt request");
		return;
	}
}

/* The qcow2 requests (docs/iscsi.md "qcow2 exports"): the node name and the golden are
 * the child's word, checked here; the overlay and the mountpoint are the parent's. */
static void
handle_disk(struct parent *p, const struct privsep_msg *req)
{
	char path[MAX_STORE_PATH];
	struct dl_err err = { 0 };
	const char *node = req->type == PRIVSEP_DISK_EXPORT ? req->node : req->data;
	int r, fd = -1;

	if (req->type == PRIVSEP_QSD_STATUS) {
		struct privsep_msg m = { .type = PRIVSEP_TGT_STATE };
		pid_t pid;
		qsd_status(p->qsd, &pid, &m.restarts, &m.generation);
		m.pid = (int32_t)pid;
		reply(p, &m);
		return;
	}
	if (!p->qsd) {
		reply_result(p, -ENOTSUP, "iscsi is off or qemu-storage-daemon cannot run here");
		return;
	}
	if (!hostname_is_valid(node)) {
		dl_err_set(&err, -EACCES, "disk export: node name '%.64s' is not valid", node);
		refuse(p, REFUSE_DISK, privsep_type_name(req->type), &err);
		reply_result(p, err.code, err.msg);
		return;
	}
	if (req->type != PRIVSEP_DISK_EXPORT) {
		r = qsd_unexport(p->qsd, node, req->type == PRIVSEP_DISK_REMOVE, &err);
		reply_result(p, r < 0 ? r : 0, r < 0 ? err.msg : "");
		return;
	}
	r = privsep_disk_golden_open(req->golden, p->uid, p->gid, &fd, &err);
	if (r < 0) {
		if (r == -EACCES)
			refuse(p, REFUSE_DISK, "disk_export", &err);
		reply_result(p, r, err.msg);
		return;
	}
	r = qsd_export(p->qsd, node, fd, path, sizeof(path), &err);
	close(fd);
	reply_result(p, r < 0 ? r : 0, r < 0 ? err.msg : path);
}

static void
handle(struct parent *p, const struct privsep_msg *req)
{
	struct dl_err err = { 0 };
	struct dnsmasq *d = p->bs->dnsmasq;
	char *buf = NULL;
	size_t len = 0;
	int r;

	switch (req->type) {
	case PRIVSEP_DHCP_START:
	case PRIVSEP_DHCP_RELOAD:
		if (!d) {
			reply_result(p, -ENOTSUP, "dhcp_mode is off: there is no dnsmasq");
			return;
		}
		/* The first start waits for the child's host files; after it, dnsmasq is ours
		 * to restart, and a second start is a reload. */
		if (!p->dhcp_started) {
			r = dnsmasq_start(d, &err);
			if (r < 0) {
				reply_result(p, r, err.msg);
				return;
			}
			p->dhcp_started = true;
		} else {
			dnsmasq_reload_hosts(d);
		}
		reply_result(p, 0, "");
		return;
	case PRIVSEP_DHCP_STATUS: {
		struct privsep_msg m = { .type = PRIVSEP_STATUS };
		if (d)
			dnsmasq_status(d, (pid_t *)&m.pid, &m.restarts);
		reply(p, &m);
		return;
	}
	case PRIVSEP_READ_CREDS:
		r = privsep_creds_read(p->bs->cfg.bmc_creds_dir, req->data, &buf, &len, &err);
		if (r < 0) {
			refuse(p, REFUSE_CREDS, "read_creds", &err);
			reply_result(p, r, err.msg);
			return;
		}
		{
			struct privsep_msg m = { .type = PRIVSEP_FILE, .data = buf, .data_len = len };
			reply(p, &m);
		}
		explicit_bzero(buf, len);
		free(buf);
		return;
	case PRIVSEP_READ_SITE: {
		unsigned mode = 0;

		r = privsep_site_read(p->bs->cfg.site_overlay, req->data, &buf, &len, &mode, &err);
		if (r < 0) {
			refuse(p, REFUSE_SITE, "read_site", &err);
			reply_result(p, r, err.msg);
			return;
		}
		{
			struct privsep_msg m = { .type = PRIVSEP_FILE, .mode = mode, .data = buf,
				.data_len = len };
			reply(p, &m);
		}
		explicit_bzero(buf, len);
		free(buf);
		return;
	}
	case PRIVSEP_READ_TLS_CA:
		r = privsep_tls_ca_read(p->bs->cfg.tls_ca_dir, req->data, &buf, &len, &err);
		if (r < 0) {
			/* a missing CA is a set-up bootsvc runs without, not a refusal */
			if (r != -ENOENT)
				refuse(p, REFUSE_TLS_CA, "read_tls_ca", &err);
			reply_result(p, r, err.msg);
			return;
		}
		{
			struct privsep_msg m = { .type = PRIVSEP_FILE, .data = buf, .data_len = len };
			reply(p, &m);
		}
		explicit_bzero(buf, len);
		free(buf);
		return;
	case PRIVSEP_TGT_SET:
	case PRIVSEP_TGT_DEL:
	case PRIVSEP_TGT_STATUS:
	case PRIVSEP_TGT_SESSIONS:
		handle_tgt(p, req);
		return;
	case PRIVSEP_DISK_EXPORT:
	case PRIVSEP_DISK_UNEXPORT:
	case PRIVSEP_DISK_REMOVE:
	case PRIVSEP_QSD_STATUS:
		handle_disk(p, req);
		return;
	case PRIVSEP_READ_CONFIG:
		if (!p->bs->config_path) {
			struct privsep_msg m = { .type = PRIVSEP_FILE };
			reply(p, &m); /* started without -c: an empty file, the defaults */
			return;
		}
		r = read_file(p->bs->config_path, MAX_PARENT_CONFIG, READ_FILE_REGULAR, &buf,
		    &len, &err);
		if (r < 0) {
			reply_result(p, r, err.msg);
			return;
		}
		{
			struct privsep_msg m = { .type = PRIVSEP_FILE, .data = buf, .data_len = len };
			reply(p, &m);
		}
		free(buf);
		return;
	default:
		/* decode() and privsep_type_is_request() let nothing else through */
		reply_result(p, -EBADMSG, "not a request");
		return;
	}
}

static void
on_request(struct loop *l, int fd, uint32_t events, void *userdata)
{
	struct parent *p = userdata;
	struct dl_err err = { 0 };
	struct privsep_msg req;
	ssize_t n;

	(void)events;
	n = recv(fd, p->buf, sizeof(p->buf), MSG_TRUNC | MSG_DONTWAIT);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		/* The child closed its end: it is ending; its pidfd says when. */
		loop_del_fd(l, fd);
		return;
	}
	if ((size_t)n > sizeof(p->buf)) {
		dl_err_set(&err, -EBADMSG, "privsep: a request of %zd bytes", n);
		refuse(p, REFUSE_BAD_MSG, "unknown", &err);
		reply_result(p, -EBADMSG, err.msg);
		return;
	}
	if (privsep_msg_decode(p->buf, (size_t)n, &req, &err) < 0 ||
	    (!privsep_type_is_request(req.type) &&
	    dl_err_set(&err, -EBADMSG, "privsep: %s is an answer, not a request",
	    privsep_type_name(req.type)) < 0)) {
		refuse(p, REFUSE_BAD_MSG, n >= 4 ? privsep_type_name(p->buf[0]) : "unknown", &err);
		reply_result(p, -EBADMSG, err.msg);
		return;
	}
	log_debug("event=privsep_request child=%d request=%s", (int)p->child,
	    privsep_type_name(req.type));
	handle(p, &req);
	explicit_bzero(&req, sizeof(req)); /* a target's CHAP secrets */
	explicit_bzero(p->buf, (size_t)n);
}

static void
on_child_exit(struct loop *l, int fd, uint32_t events, void *userdata)
{
	struct parent *p = userdata;
	siginfo_t si = { 0 };

	(void)events;
	if (waitid(P_PIDFD, (id_t)fd, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
		return;
	loop_del_fd(l, fd);
	if (si.si_code == CLD_EXITED) {
		p->status = si.si_status;
		log_notice("event=privsep_child_exit child=%d status=%d", (int)p->child,
		    si.si_status);
	} else {
		p->status = EXIT_FAILURE;
		log_err("event=privsep_child_exit child=%d msg=\"killed by signal %d\"",
		    (int)p->child, si.si_status);
	}
	p->child = 0;
	loop_quit(l, 0);
}

static void
on_signal(struct loop *l, int sig, void *userdata)
{
	struct parent *p = userdata;

	(void)l;
	/* The child decides: it shuts down (and we follow) or reloads. */
	if (p->child > 0)
		(void)kill(p->child, sig);
}

int
privsep_parent_run(struct bootsvc *bs, const struct privsep_user *u, pid_t child, int fd)
{
	struct parent *p = calloc(1, sizeof(*p));
	int r, status;

	if (!p) {
		(void)kill(child, SIGTERM);
		close(fd);
		return EXIT_FAILURE;
	}
	p->bs = bs;
	p->child = child;
	p->fd = fd;
	p->status = EXIT_FAILURE;
	p->uid = u->uid;
	p->gid = u->gid;
	/* A file answer is one datagram of up to MAX_PRIVSEP_MSG: more than the default send
	 * buffer allows (the sender's buffer bounds a unix datagram); root may raise it. */
	{
		int size = MAX_PRIVSEP_MSG + 4096;
		if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
			log_warning("event=privsep_parent msg=\"SO_SNDBUFFORCE: %s, files over "
				    "~200 KiB will fail\"", strerror(errno));
	}
	p->child_pidfd = spawn_pidfd(child);
	if ((r = p->child_pidfd) < 0 || (r = loop_new(&bs->loop)) < 0 ||
	    (r = loop_add_fd(bs->loop, p->child_pidfd, EPOLLIN, on_child_exit, p)) < 0 ||
	    (r = loop_add_fd(bs->loop, fd, EPOLLIN, on_request, p)) < 0 ||
	    (r = loop_add_signal(bs->loop, SIGTERM, on_signal, p)) < 0 ||
	    (r = loop_add_signal(bs->loop, SIGINT, on_signal, p)) < 0 ||
	    (r = loop_add_signal(bs->loop, SIGHUP, on_signal, p)) < 0) {
		log_err("event=privsep_parent msg=\"cannot watch the child: %s\"", strerror(-r));
		(void)kill(child, SIGKILL);
		(void)waitpid(child, NULL, 0);
		p->child = 0;
	} else {
		struct dl_err err = { 0 };

		log_notice("event=privsep_start parent=%d child=%d user=%s msg=\"network-facing "
			   "child runs unprivileged; root keeps dnsmasq%s and credential files\"",
		    (int)getpid(), (int)child, bs->cfg.user, bs->cfg.iscsi ? ", tgtd" : "");
		/* tgtd needs nothing of the child's: it starts now, empty, and the child sets
		 * the targets when it sees the generation. A failure here is one a retry
		 * cannot mend (the directory, the socket path): logged, and the child is told
		 * -ENOTSUP on each request. */
		if (bs->cfg.iscsi && tgtd_new(bs->loop, &bs->cfg, u->uid, &p->tgtd, &err) < 0)
			log_err("event=tgtd_start msg=\"%s; iSCSI disks are unavailable\"", err.msg);
		/* qsd serves qcow2 clones only; one that cannot run leaves reflink and copy. */
		if (bs->cfg.iscsi && qsd_new(bs->loop, &bs->cfg, &p->qsd, &err) < 0)
			log_err("event=qsd_start msg=\"%s; qcow2 clones are unavailable\"", err.msg);
		(void)loop_run(bs->loop);
	}
	/* The child is gone (or the loop could not run): tgtd must not outlive bootsvc. */
	p->tgtd = tgtd_free(p->tgtd);
	/* after tgtd: it held the export files open */
	p->qsd = qsd_free(p->qsd);
	free(p->sessions);
	/* The child is gone: nothing may run for it any more. */
	bs->dnsmasq = dnsmasq_free(bs->dnsmasq);
	for (int k = 0; k < _REFUSE_MAX; k++)
		if (p->refused[k] > 1)
			log_warning("event=privsep_refused_total kind=%d count=%llu", k,
			    (unsigned long long)p->refused[k]);
	if (p->child_pidfd >= 0)
		close(p->child_pidfd);
	close(fd);
	bs->loop = loop_free(bs->loop);
	status = p->status;
	free(p);
	return status;
}
