/* SPDX-License-Identifier: MIT */
/* qemu-storage-daemon's supervision and its QMP (qsd.h). The QMP that works was paid for
 * in the lab (shared/lab/iscsi-xen.md "Per-node copy-on-write clones"): blockdev-add of
 * the nodes, then block-export-add {type: fuse} on a file that exists; a FUSE mount is
 * seen only in the mount namespace qsd runs in, so qsd is spawned straight from the
 * parent, like tgtd. */
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backoff.h"
#include "iscsi/qsd.h"
#include "log.h"
#include "macro.h"
#include "parse.h"
#include "spawn.h"

/* One export: qsd's names are by slot ("g<k>", "q<k>", "e<k>"): a node name may be
 * longer than the 31 bytes qemu allows a node name. */
struct qsd_export {
	bool used;
	char node[HOST_NAME_MAX + 1];
	char path[MAX_CONF_PATH + 96];
};

struct qsd {
	struct loop *loop;
	const struct config *cfg;
	char dir[MAX_CONF_PATH + 8];
	char exports[MAX_CONF_PATH + 24];
	char overlays[MAX_CONF_PATH + 24];
	char sock[MAX_CONF_PATH + 24];
	char chardev[MAX_CONF_PATH + 80];
	pid_t pid;
	int pidfd;
	int qmp;              /* the QMP connection, -1 while down */
	uint64_t started_ms;
	uint64_t restarts;
	uint64_t generation;
	struct backoff backoff;
	int64_t restart_timer;
	bool stopping;
	struct qsd_export *ex; /* MAX_QSD_EXPORTS */
	char line[MAX_QMP_LINE];
	size_t line_len;
};

/* ---- QMP: one JSON object a line each way ---- */

static int
qmp_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return negative_errno();
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = negative_errno();
		close(fd);
		return r;
	}
	return fd;
}

/* Read one line from fd into q->line (NUL-terminated, without the newline) by deadline. */
static int
qmp_read_line(struct qsd *q, int fd, uint64_t deadline, struct dl_err *reterr)
{
	for (;;) {
		char *nl = memchr(q->line, '\n', q->line_len);
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t now;
		ssize_t n;
		int r;

		if (nl) {
			*nl = '\0';
			return (int)(nl - q->line);
		}
		if (q->line_len >= sizeof(q->line) - 1)
			return dl_err_set(reterr, -EMSGSIZE, "qsd: a QMP line over %d bytes",
			    MAX_QMP_LINE);
		now = loop_now_ms();
		if (now >= deadline)
			return dl_err_set(reterr, -ETIMEDOUT, "qsd: no QMP answer within %d ms",
			    QSD_QMP_TIMEOUT_MS);
		r = poll(&pfd, 1, (int)(deadline - now));
		if (r < 0 && errno != EINTR)
			return dl_err_set(reterr, negative_errno(), "qsd: poll: %s", strerror(errno));
		if (r <= 0)
			continue;
		n = read(fd, q->line + q->line_len, sizeof(q->line) - 1 - q->line_len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return dl_err_set(reterr, -ENOTCONN, "qsd: the QMP socket closed");
		q->line_len += (size_t)n;
	}
}

/* Drop the line just read (its length n) from the buffer. */
static void
qmp_consume(struct qsd *q, int n)
{
	size_t used = (size_t)n + 1;

	memmove(q->line, q->line + used, q->line_len - used);
	q->line_len -= used;
}

/* Send cmd (stolen) and wait for its return or error; events in between are skipped.
 * The answer's "return" into *ret (a new reference; NULL to drop it). -EIO with QMP's
 * error description. */
static int
qmp_call_fd(struct qsd *q, int fd, json_t *cmd, json_t **ret, struct dl_err *reterr)
{
	uint64_t deadline = loop_now_ms() + QSD_QMP_TIMEOUT_MS;
	char *text = json_dumps(cmd, JSON_COMPACT);
	const char *name = json_string_value(json_object_get(cmd, "execute"));
	size_t len, off = 0;
	int r = 0;

	if (!name)
		name = "?";
	if (!text) {
		json_decref(cmd);
		return dl_err_set(reterr, -ENOMEM, "qsd: out of memory");
	}
	len = strlen(text);
	text[len] = '\n'; /* json_dumps' NUL becomes the line's end */
	len++;
	while (off < len) {
		ssize_t n = send(fd, text + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = dl_err_set(reterr, negative_errno(), "qsd: QMP %s: send: %s", name,
			    strerror(errno));
			break;
		}
		off += (size_t)n;
	}
	free(text);
	while (r == 0) {
		json_error_t je;
		json_t *m, *v;
		int n = qmp_read_line(q, fd, deadline, reterr);

		if (n < 0) {
			r = n;
			break;
		}
		m = json_loadb(q->line, (size_t)n, 0, &je);
		qmp_consume(q, n);
		if (!json_is_object(m)) {
			json_decref(m);
			r = dl_err_set(reterr, -EBADMSG, "qsd: QMP %s: an answer that is not a JSON "
			    "object", name);
			break;
		}
		if ((v = json_object_get(m, "return"))) {
			if (ret)
				*ret = json_incref(v);
			json_decref(m);
			break;
		}
		if ((v = json_object_get(m, "error"))) {
			const char *d = json_string_value(json_object_get(v, "desc"));
			r = dl_err_set(reterr, -EIO, "qsd: QMP %s: %s", name, d ? d : "error");
			json_decref(m);
			break;
		}
		json_decref(m); /* an event, or the greeting of a fresh connection */
	}
	json_decref(cmd);
	return r;
}

static int
qmp_call(struct qsd *q, json_t *cmd, struct dl_err *reterr)
{
	int r;

	if (q->qmp < 0) {
		json_decref(cmd);
		return dl_err_set(reterr, -ENOTCONN, "qemu-storage-daemon is down (restarting)");
	}
	r = qmp_call_fd(q, q->qmp, cmd, NULL, reterr);
	/* Anything but QMP's own error leaves the connection out of step (a late answer
	 * would be taken for the next command's): the daemon is ended and supervision
	 * starts a new one, a new generation whose exports the child makes again. */
	if (r < 0 && r != -EIO && q->pid > 0) {
		log_err("event=qsd_qmp pid=%d msg=\"%s; killing it\"", (int)q->pid, reterr->msg);
		(void)kill(q->pid, SIGKILL);
		close(q->qmp);
		q->qmp = -1;
	}
	return r;
}

/* Connect to path and negotiate: the greeting, then qmp_capabilities. The fd or -errno. */
static int
qmp_open(struct qsd *q, const char *path, struct dl_err *reterr)
{
	int fd = qmp_connect(path), r;

	if (fd < 0)
		return dl_err_set(reterr, fd, "qsd: connect to '%s': %s", path, strerror(-fd));
	q->line_len = 0;
	r = qmp_call_fd(q, fd, json_pack("{s:s}", "execute", "qmp_capabilities"), NULL, reterr);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

/* ---- mountpoints ---- */

/* Detach a FUSE mount at path if there is one (its qsd died) and remove the file. */
static void
mountpoint_remove(const char *path)
{
	if (umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
		log_notice("event=qsd_umount path=%s why=\"a FUSE export left mounted\"", path);
	(void)unlink(path);
}

/* Every file in the exports dir: a FUSE mount of a qsd gone, or its empty mountpoint. */
static void
sweep_exports(struct qsd *q)
{
	DIR *d = opendir(q->exports);
	struct dirent *de;
	char p[sizeof(q->exports) + 300];

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		(void)snprintf(p, sizeof(p), "%s/%s", q->exports, de->d_name);
		mountpoint_remove(p);
	}
	(void)closedir(d);
}

/* ---- supervision ---- */

static void qsd_restart(struct loop *l, void *userdata);
static void on_exit_event(struct loop *l, int fd, uint32_t events, void *userdata);

static void
schedule_restart(struct qsd *q, uint64_t ran_ms)
{
	uint64_t delay = backoff_next(&q->backoff, ran_ms);

	q->restart_timer = loop_add_timer(q->loop, loop_now_ms() + delay, qsd_restart, q);
	log_notice("event=qsd_restart_scheduled restart_in_ms=%llu", (unsigned long long)delay);
}

/* Forget the daemon (reaped or about to be): its exports died with it. */
static void
unwatch(struct qsd *q)
{
	if (q->pidfd >= 0) {
		loop_del_fd(q->loop, q->pidfd);
		close(q->pidfd);
	}
	if (q->qmp >= 0)
		close(q->qmp);
	q->qmp = -1;
	q->pidfd = -1;
	q->pid = 0;
	for (size_t k = 0; k < MAX_QSD_EXPORTS; k++)
		q->ex[k].used = false;
}

static bool
wait_exit(struct qsd *q, unsigned ms)
{
	for (unsigned waited = 0;; waited += 10) {
		siginfo_t si = { 0 };
		if (waitid(P_PIDFD, (id_t)q->pidfd, &si, WEXITED | WNOHANG) == 0 && si.si_pid)
			return true;
		if (waited >= ms)
			return false;
		usleep(10000);
	}
}

/* A qsd of an earlier run (the parent was SIGKILLed) still answers on our socket: it
 * holds FUSE mounts of files we are about to reuse. Tell it to quit. */
static void
stop_stale(struct qsd *q)
{
	struct dl_err err = { 0 };
	int fd = qmp_open(q, q->sock, &err);

	if (fd < 0)
		return;
	log_warning("event=qsd_stale msg=\"a qemu-storage-daemon of an earlier run answers on "
		    "%s; telling it to quit\"", q->sock);
	(void)qmp_call_fd(q, fd, json_pack("{s:s}", "execute", "quit"), NULL, &err);
	/* quit answers, then exits: its socket closes when it is gone */
	for (int i = 0; i < QSD_STOP_MS / 50; i++) {
		char c;
		ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			break;
		usleep(50000);
	}
	close(fd);
}

static int
start(struct qsd *q, struct dl_err *reterr)
{
	const char *argv[] = { q->cfg->qemu_storage_daemon, "--chardev", q->chardev,
		"--monitor", "chardev=qmp", NULL };
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;
	uint64_t t0;
	pid_t pid;
	int r, pidfd;

	stop_stale(q);
	sweep_exports(q);
	(void)unlink(q->sock);
	o.stdin_fd = -1;
	r = spawn_start(argv, &o, &pid, reterr);
	if (r < 0)
		return r;
	pidfd = spawn_pidfd(pid);
	if (pidfd < 0) {
		r = dl_err_set(reterr, pidfd, "pidfd_open(qemu-storage-daemon): %s",
		    strerror(-pidfd));
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		return r;
	}
	q->pid = pid;
	q->pidfd = pidfd;
	t0 = loop_now_ms();
	for (;;) {
		struct dl_err ignored = { 0 };
		siginfo_t si = { 0 };
		int fd = qmp_open(q, q->sock, &ignored);

		if (fd >= 0) {
			q->qmp = fd;
			break;
		}
		if (waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED | WNOHANG) == 0 && si.si_pid) {
			close(pidfd);
			q->pidfd = -1;
			q->pid = 0;
			return dl_err_set(reterr, -ECHILD, "qemu-storage-daemon %d exited during "
			    "start-up (%s %d; its messages are in bootsvc's log)", (int)pid,
			    si.si_code == CLD_EXITED ? "status" : "signal", si.si_status);
		}
		if (loop_now_ms() - t0 >= QSD_READY_MS) {
			(void)kill(pid, SIGKILL);
			(void)waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED);
			close(pidfd);
			q->pidfd = -1;
			q->pid = 0;
			return dl_err_set(reterr, -ETIMEDOUT, "qemu-storage-daemon %d did not answer "
			    "on '%s' within %d ms", (int)pid, q->sock, QSD_READY_MS);
		}
		usleep(20000);
	}
	r = loop_add_fd(q->loop, pidfd, EPOLLIN, on_exit_event, q);
	if (r < 0) {
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		close(pidfd);
		close(q->qmp);
		q->qmp = -1;
		q->pidfd = -1;
		q->pid = 0;
		return dl_err_set(reterr, r, "watching qemu-storage-daemon: %s", strerror(-r));
	}
	q->started_ms = loop_now_ms();
	q->generation++;
	log_info("event=qsd_start pid=%d generation=%llu socket=%s ready_ms=%llu", (int)pid,
	    (unsigned long long)q->generation, q->sock,
	    (unsigned long long)(q->started_ms - t0));
	return 0;
}

static void
on_exit_event(struct loop *l, int fd, uint32_t events, void *userdata)
{
	struct qsd *q = userdata;
	siginfo_t si = { 0 };
	pid_t pid = q->pid;
	uint64_t ran;

	(void)l;
	(void)events;
	if (waitid(P_PIDFD, (id_t)fd, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
		return;
	unwatch(q);
	if (q->stopping)
		return;
	ran = loop_now_ms() - q->started_ms;
	log_warning("event=qsd_exit pid=%d msg=\"qemu-storage-daemon %s %d after %llu ms, "
		    "will restart; its exports are gone until the child makes them again\"",
	    (int)pid, si.si_code == CLD_EXITED ? "exited" : "killed by signal", si.si_status,
	    (unsigned long long)ran);
	sweep_exports(q);
	schedule_restart(q, ran);
}

static void
qsd_restart(struct loop *l, void *userdata)
{
	struct qsd *q = userdata;
	struct dl_err err = { 0 };

	(void)l;
	q->restart_timer = 0;
	if (q->stopping)
		return;
	q->restarts++;
	if (start(q, &err) < 0) {
		log_err("event=qsd_start msg=\"%s, will retry\"", err.msg);
		schedule_restart(q, 0);
	}
}

/* A root-only directory (the child cannot plant a link or a mountpoint in it). */
static int
root_dir(const char *path, mode_t mode, struct dl_err *reterr)
{
	struct stat st;

	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return dl_err_set(reterr, negative_errno(), "qsd dir '%s': %s", path,
		    strerror(errno));
	if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0)
		return dl_err_set(reterr, -EPERM, "qsd dir '%s' is not root's directory", path);
	if (chmod(path, mode) < 0)
		return dl_err_set(reterr, negative_errno(), "qsd dir '%s': %s", path,
		    strerror(errno));
	return 0;
}

int
qsd_new(struct loop *l, const struct config *cfg, struct qsd **ret, struct dl_err *reterr)
{
	_cleanup_free_ struct qsd *q = calloc(1, sizeof(*q));
	struct dl_err err = { 0 };
	int r;

	if (!q)
		return dl_err_set(reterr, -ENOMEM, "qsd: out of memory");
	q->ex = calloc(MAX_QSD_EXPORTS, sizeof(*q->ex));
	if (!q->ex)
		return dl_err_set(reterr, -ENOMEM, "qsd: out of memory");
	q->loop = l;
	q->cfg = cfg;
	q->pidfd = -1;
	q->qmp = -1;
	q->backoff = (struct backoff)BACKOFF_INIT(QSD_BACKOFF_MIN_MS, QSD_BACKOFF_MAX_MS,
	    QSD_STABLE_MS);
	(void)snprintf(q->dir, sizeof(q->dir), "%s/qsd", cfg->state_dir);
	(void)snprintf(q->exports, sizeof(q->exports), "%s/exports", q->dir);
	(void)snprintf(q->overlays, sizeof(q->overlays), "%s/overlays", q->dir);
	(void)snprintf(q->sock, sizeof(q->sock), "%s/qmp.sock", q->dir);
	(void)snprintf(q->chardev, sizeof(q->chardev), "socket,id=qmp,path=%s,server=on,"
	    "wait=off", q->sock);
	if (strlen(q->sock) >= sizeof(((struct sockaddr_un *)0)->sun_path) ||
	    strchr(q->sock, ',')) {
		free(q->ex);
		return dl_err_set(reterr, -ENAMETOOLONG, "qsd's QMP socket '%s' is too long for "
		    "a unix socket or has a ',' (qemu's option separator); use a shorter "
		    "state_dir", q->sock);
	}
	/* qsd/ and overlays/ 0711: the child may stat a node's overlay by its name (the
	 * allocated bytes `node show` reports) but neither list nor write anything there;
	 * exports/ 0700. */
	if ((r = root_dir(q->dir, 0711, reterr)) < 0 ||
	    (r = root_dir(q->exports, 0700, reterr)) < 0 ||
	    (r = root_dir(q->overlays, 0711, reterr)) < 0) {
		free(q->ex);
		return r;
	}
	if (start(q, &err) < 0) {
		log_err("event=qsd_start msg=\"%s, will retry\"", err.msg);
		schedule_restart(q, 0);
	}
	*ret = TAKE_PTR(q);
	return 0;
}

static struct qsd_export *
export_find(const struct qsd *q, const char *node)
{
	for (size_t k = 0; k < MAX_QSD_EXPORTS; k++)
		if (q->ex[k].used && streq(q->ex[k].node, node))
			return &q->ex[k];
	return NULL;
}

/* Delete slot k's export and nodes in qsd (each step tolerates "not found": a half-made
 * export is undone with the same call). */
static int
export_delete(struct qsd *q, size_t k, const char *path, struct dl_err *reterr)
{
	char e[24], qn[24], g[24];
	struct dl_err ignored = { 0 };
	int r = 0;

	(void)snprintf(e, sizeof(e), "e%zu", k);
	(void)snprintf(qn, sizeof(qn), "q%zu", k);
	(void)snprintf(g, sizeof(g), "g%zu", k);
	if (q->qmp >= 0) {
		(void)qmp_call(q, json_pack("{s:s,s:{s:s}}", "execute", "block-export-del",
		    "arguments", "id", e), &ignored);
		/* The export goes once its last requests are done: the overlay's node is
		 * in use until then. */
		for (int i = 0; i <= QSD_DEL_MS / 50; i++) {
			r = qmp_call(q, json_pack("{s:s,s:{s:s}}", "execute", "blockdev-del",
			    "arguments", "node-name", qn), reterr);
			if (r == 0 || !strstr(reterr->msg, "in use") || q->qmp < 0)
				break;
			usleep(50000);
		}
		if (r < 0 && strstr(reterr->msg, "not found"))
			r = 0;
		if (qmp_call(q, json_pack("{s:s,s:{s:s}}", "execute", "blockdev-del",
		    "arguments", "node-name", g), &ignored) < 0 && r == 0 &&
		    !strstr(ignored.msg, "not found"))
			r = dl_err_set(reterr, -EIO, "%s", ignored.msg);
	}
	mountpoint_remove(path);
	return r;
}

int
qsd_overlay_path(const struct qsd *q, const char *node, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/%s.qcow2", q->overlays, node);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* Make node's overlay if it has none: `qemu-img create -f qcow2 <tmp> <size>` with no
 * backing file name at all (qsd is given the backing node), fsynced, renamed into place.
 * Root's, 0600, in root's overlays dir: nothing the child writes is parsed by qsd. */
static int
overlay_make(struct qsd *q, const char *node, int64_t size, struct dl_err *reterr)
{
	char final[sizeof(q->overlays) + HOST_NAME_MAX + 16];
	char tmp[sizeof(final) + 32], sizes[32];
	const char *argv[] = { q->cfg->qemu_img, "create", "-q", "-f", "qcow2", tmp, sizes,
		NULL };
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;
	struct stat st;
	int fd, r;

	if (qsd_overlay_path(q, node, final, sizeof(final)) < 0)
		return dl_err_set(reterr, -ENAMETOOLONG, "qsd: overlay path for '%s' too long",
		    node);
	if (lstat(final, &st) == 0)
		return 0;
	(void)snprintf(tmp, sizeof(tmp), "%s/.%s.qcow2.making-XXXXXX", q->overlays, node);
	(void)snprintf(sizes, sizeof(sizes), "%lld", (long long)size);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return dl_err_set(reterr, negative_errno(), "qsd: overlay temp in '%s': %s",
		    q->overlays, strerror(errno));
	close(fd);
	o.stdout_fd = -1;
	r = spawn_run(argv, &o, -1, QSD_IMG_TIMEOUT_MS, reterr);
	if (r == 0) {
		fd = open(tmp, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0 || fsync(fd) < 0)
			r = dl_err_set(reterr, negative_errno(), "qsd: overlay '%s': %s", tmp,
			    strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	if (r == 0 && rename(tmp, final) < 0)
		r = dl_err_set(reterr, negative_errno(), "qsd: overlay '%s': %s", final,
		    strerror(errno));
	if (r < 0) {
		(void)unlink(tmp);
		return r;
	}
	fd = open(q->overlays, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	log_info("event=qsd_overlay_made node=%s path=%s size=%lld", node, final,
	    (long long)size);
	return 0;
}

int
qsd_export(struct qsd *q, const char *node, int golden_fd, char ret_path[], size_t size,
    struct dl_err *reterr)
{
	char e[24], qn[24], g[24], of[64], gf[64], opath[sizeof(q->overlays) + HOST_NAME_MAX + 16];
	struct qsd_export *x;
	struct dl_err ignored = { 0 };
	_cleanup_close_ int overlay_fd = -1;
	struct stat st;
	size_t k;
	int fd, r;

	if (q->qmp < 0)
		return dl_err_set(reterr, -ENOTCONN, "qemu-storage-daemon is down (restarting)");
	if (!hostname_is_valid(node))
		return dl_err_set(reterr, -EINVAL, "qsd: node name '%s' is not valid", node);
	if ((x = export_find(q, node)) && qsd_unexport(q, node, false, reterr) < 0)
		return reterr->code;
	if (fstat(golden_fd, &st) < 0)
		return dl_err_set(reterr, negative_errno(), "qsd: golden: %s", strerror(errno));
	if ((r = overlay_make(q, node, (int64_t)st.st_size, reterr)) < 0)
		return r;
	(void)qsd_overlay_path(q, node, opath, sizeof(opath));
	overlay_fd = open(opath, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (overlay_fd < 0)
		return dl_err_set(reterr, negative_errno(), "qsd: overlay '%s': %s", opath,
		    strerror(errno));
	for (k = 0; k < MAX_QSD_EXPORTS && q->ex[k].used; k++)
		;
	if (k == MAX_QSD_EXPORTS)
		return dl_err_set(reterr, -ENOSPC, "qsd: %d exports already", MAX_QSD_EXPORTS);
	x = &q->ex[k];
	memset(x, 0, sizeof(*x));
	(void)snprintf(x->node, sizeof(x->node), "%s", node);
	if (snprintf(x->path, sizeof(x->path), "%s/%s.raw", q->exports, node) >=
	    (int)sizeof(x->path) || strlen(x->path) >= size)
		return dl_err_set(reterr, -ENAMETOOLONG, "qsd: export path for '%s' too long",
		    node);
	(void)snprintf(e, sizeof(e), "e%zu", k);
	(void)snprintf(qn, sizeof(qn), "q%zu", k);
	(void)snprintf(g, sizeof(g), "g%zu", k);
	(void)snprintf(of, sizeof(of), "/proc/%d/fd/%d", (int)getpid(), overlay_fd);
	(void)snprintf(gf, sizeof(gf), "/proc/%d/fd/%d", (int)getpid(), golden_fd);
	/* The mountpoint: a file of ours, in our root-only directory; one left from before
	 * (a mount of a dead qsd) goes first. */
	mountpoint_remove(x->path);
	fd = open(x->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return dl_err_set(reterr, negative_errno(), "qsd: mountpoint '%s': %s", x->path,
		    strerror(errno));
	close(fd);
	/* The golden as an explicit read-only backing node: qsd never opens the name the
	 * overlay's header holds (the child wrote that header). */
	r = qmp_call(q, json_pack("{s:s,s:{s:s,s:s,s:b,s:{s:s,s:s}}}", "execute", "blockdev-add",
	    "arguments", "driver", "raw", "node-name", g, "read-only", 1, "file", "driver", "file",
	    "filename", gf), reterr);
	if (r == 0)
		r = qmp_call(q, json_pack("{s:s,s:{s:s,s:s,s:s,s:{s:s,s:s}}}", "execute",
		    "blockdev-add", "arguments", "driver", "qcow2", "node-name", qn, "backing", g,
		    "file", "driver", "file", "filename", of), reterr);
	if (r == 0)
		r = qmp_call(q, json_pack("{s:s,s:{s:s,s:s,s:s,s:s,s:b}}", "execute",
		    "block-export-add", "arguments", "type", "fuse", "id", e, "node-name", qn,
		    "mountpoint", x->path, "writable", 1), reterr);
	if (r < 0) {
		(void)export_delete(q, k, x->path, &ignored);
		log_warning("event=qsd_export node=%s msg=\"%s\"", node, reterr->msg);
		return r;
	}
	x->used = true;
	memcpy(ret_path, x->path, strlen(x->path) + 1);
	log_info("event=qsd_export node=%s slot=%zu path=%s", node, k, x->path);
	return 0;
}

int
qsd_unexport(struct qsd *q, const char *node, bool remove, struct dl_err *reterr)
{
	struct qsd_export *x;
	char opath[sizeof(q->overlays) + HOST_NAME_MAX + 16];
	int r = 0;

	if (!hostname_is_valid(node))
		return dl_err_set(reterr, -EINVAL, "qsd: node name '%s' is not valid", node);
	if ((x = export_find(q, node))) {
		r = export_delete(q, (size_t)(x - q->ex), x->path, reterr);
		x->used = false;
		if (r < 0)
			return dl_err_set(reterr, r, "qsd: unexport of '%s': %s", node, reterr->msg);
		log_info("event=qsd_unexport node=%s", node);
	}
	if (remove && qsd_overlay_path(q, node, opath, sizeof(opath)) == 0) {
		if (unlink(opath) < 0 && errno != ENOENT)
			return dl_err_set(reterr, negative_errno(), "qsd: removing '%s': %s", opath,
			    strerror(errno));
		log_info("event=qsd_overlay_removed node=%s", node);
	}
	return 0;
}

bool
qsd_is_export(const struct qsd *q, const char *path)
{
	for (size_t k = 0; q && k < MAX_QSD_EXPORTS; k++)
		if (q->ex[k].used && streq(q->ex[k].path, path))
			return true;
	return false;
}

const char *
qsd_exports_dir(const struct qsd *q)
{
	return q->exports;
}

void
qsd_status(const struct qsd *q, pid_t *ret_pid, uint64_t *ret_restarts,
    uint64_t *ret_generation)
{
	*ret_pid = q ? q->pid : 0;
	*ret_restarts = q ? q->restarts : 0;
	*ret_generation = q ? q->generation : 0;
}

struct qsd *
qsd_free(struct qsd *q)
{
	if (!q)
		return NULL;
	q->stopping = true;
	if (q->restart_timer > 0)
		loop_cancel_timer(q->loop, q->restart_timer);
	q->restart_timer = 0;
	if (q->pid > 0) {
		struct dl_err err = { 0 };
		pid_t pid = q->pid;
		bool clean;

		for (size_t k = 0; k < MAX_QSD_EXPORTS; k++)
			if (q->ex[k].used && export_delete(q, k, q->ex[k].path, &err) < 0)
				log_warning("event=qsd_stop node=%s msg=\"%s\"", q->ex[k].node,
				    err.msg);
		(void)qmp_call(q, json_pack("{s:s}", "execute", "quit"), &err);
		clean = wait_exit(q, QSD_STOP_MS);
		if (!clean) {
			siginfo_t si = { 0 };
			log_warning("event=qsd_stop pid=%d msg=\"still running %d ms after quit, "
				    "SIGKILL\"", (int)pid, QSD_STOP_MS);
			(void)kill(pid, SIGKILL);
			(void)waitid(P_PIDFD, (id_t)q->pidfd, &si, WEXITED);
		}
		log_info("event=qsd_stop pid=%d clean=%s", (int)pid, clean ? "yes" : "no");
		unwatch(q);
	}
	sweep_exports(q);
	(void)unlink(q->sock);
	free(q->ex);
	free(q);
	return NULL;
}
