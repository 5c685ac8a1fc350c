/* SPDX-License-Identifier: MIT */
/* tgtd's supervision and tgtadm's argv (tgtd.h). Pitfalls paid for in the lab
 * (shared/lab/iscsi-xen.md part A): the control socket must not be the shared default
 * (/var/run/tgtd), tgtd ignores SIGTERM and refuses `system delete` while targets exist,
 * and it must share bootsvc's mount namespace (never `ip netns exec`) to see clones
 * made after it started: it is spawned straight from the parent, so it does. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backoff.h"
#include "iscsi/tgt_show.h"
#include "iscsi/tgtd.h"
#include "log.h"
#include "macro.h"
#include "spawn.h"

/* tgtd's control port (-C): one tgtd per state dir, and its socket path is ours. */
#define TGTD_CONTROL_PORT "0"
/* Arguments of one tgtadm run, with "-C 0", the program and the NULL. */
#define MAX_TGTADM_ARGS 24
/* Targets and connections read back from one listing: every target bootsvc may hold
 * (for the clean stop), and the sessions the child may be told of. */
#define MAX_SHOW_TIDS MAX_TGT_TARGETS

/* What the parent set for one target: to delete its accounts with it, to refuse an
 * account name another target holds, and to check its sessions. */
struct tgt_entry {
	uint32_t tid;
	char user[MAX_CHAP_NAME];
	char mutual[MAX_CHAP_NAME];
	char initiator[MAX_ISCSI_NAME];
	char addr[16];
};

struct tgtd {
	struct loop *loop;
	const struct config *cfg;
	uid_t owner;
	char dir[MAX_CONF_PATH + 8];
	char sock[MAX_CONF_PATH + 16];      /* TGT_IPC_SOCKET: tgtd adds ".0" and ".0.lock" */
	char env_sock[MAX_CONF_PATH + 40];  /* "TGT_IPC_SOCKET=<sock>" */
	char portal[40];                    /* "portal=<ip>:<port>" */
	pid_t pid;
	int pidfd;
	uint64_t started_ms;
	uint64_t restarts;
	uint64_t generation;
	struct backoff backoff;
	int64_t restart_timer;
	bool stopping;
	struct tgt_entry *entries;
	size_t n_entries, cap_entries;
};

static const char *const tgt_path_env = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";

/* Run tgtadm -C 0 args... with the socket in its environment; stdout into *ret_out (NUL-
 * terminated, caller frees) when ret_out is set. */
static int
tgtadm(struct tgtd *t, const char *const *args, char **ret_out, size_t *ret_len,
    struct dl_err *reterr)
{
	const char *argv[MAX_TGTADM_ARGS];
	const char *envp[] = { tgt_path_env, t->env_sock, NULL };
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;
	_cleanup_close_ int mfd = -1;
	size_t n = 0;
	struct stat st;
	char *buf;
	int r;

	argv[n++] = t->cfg->tgtadm;
	argv[n++] = "-C";
	argv[n++] = TGTD_CONTROL_PORT;
	for (size_t i = 0; args[i]; i++) {
		if (n + 1 >= MAX_TGTADM_ARGS)
			return dl_err_set(reterr, -E2BIG, "tgtadm: too many arguments");
		argv[n++] = args[i];
	}
	argv[n] = NULL;
	o.envp = envp;
	o.stdout_fd = -1;
	if (ret_out) {
		mfd = memfd_create("tgtadm-out", MFD_CLOEXEC);
		if (mfd < 0)
			return dl_err_set(reterr, negative_errno(), "memfd_create: %s",
			    strerror(errno));
	}
	r = spawn_run(argv, &o, mfd, TGTADM_TIMEOUT_MS, reterr);
	if (r < 0 || !ret_out)
		return r;
	if (fstat(mfd, &st) < 0)
		return dl_err_set(reterr, negative_errno(), "tgtadm output: %s", strerror(errno));
	if (st.st_size > MAX_TGT_SHOW)
		return dl_err_set(reterr, -E2BIG, "tgtadm output of %lld bytes, at most %d",
		    (long long)st.st_size, MAX_TGT_SHOW);
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return dl_err_set(reterr, -ENOMEM, "tgtadm output: out of memory");
	if (pread(mfd, buf, (size_t)st.st_size, 0) != st.st_size) {
		free(buf);
		return dl_err_set(reterr, -EIO, "tgtadm output: short read");
	}
	buf[st.st_size] = '\0';
	*ret_out = buf;
	*ret_len = (size_t)st.st_size;
	return 0;
}

/* Does a tgtd answer on our socket? */
static bool
answers(struct tgtd *t)
{
	static const char *const args[] = { "--mode", "system", "--op", "show", NULL };
	struct dl_err err = { 0 };

	return tgtadm(t, args, NULL, NULL, &err) == 0;
}

static struct tgt_entry *
entry_find(struct tgtd *t, uint32_t tid)
{
	for (size_t i = 0; i < t->n_entries; i++)
		if (t->entries[i].tid == tid)
			return &t->entries[i];
	return NULL;
}

static void
entry_remove(struct tgtd *t, struct tgt_entry *e)
{
	size_t i = (size_t)(e - t->entries);

	t->entries[i] = t->entries[--t->n_entries];
}

static void
account_delete(struct tgtd *t, const char *user)
{
	const char *args[] = { "--lld", "iscsi", "--mode", "account", "--op", "delete",
		"--user", user, NULL };
	struct dl_err err = { 0 };

	if (user[0] && tgtadm(t, args, NULL, NULL, &err) < 0)
		log_warning("event=tgtd_account user=%s msg=\"deleting: %s\"", user, err.msg);
}

/* Delete target tid in tgtd. Offline first: an initiator (libiscsi, Windows) logs in
 * again the moment its session goes, and tgtd refuses to delete a LUN in use ("this
 * logical unit is still active") even with --force; offline, new logins are refused and
 * --force ends the sessions. Retried while the last commands drain, TGTD_DELETE_MS at
 * most; a tid tgtd does not hold fails at once. */
static int
target_delete(struct tgtd *t, uint32_t tid, struct dl_err *reterr)
{
	char tids[16];
	const char *offline[] = { "--lld", "iscsi", "--mode", "target", "--op", "update",
		"--tid", tids, "--name", "state", "-v", "offline", NULL };
	const char *args[] = { "--lld", "iscsi", "--mode", "target", "--op", "delete",
		"--force", "--tid", tids, NULL };
	struct dl_err ignored = { 0 };
	int r;

	(void)snprintf(tids, sizeof(tids), "%u", (unsigned)tid);
	(void)tgtadm(t, offline, NULL, NULL, &ignored);
	for (int i = 0;; i++) {
		r = tgtadm(t, args, NULL, NULL, reterr);
		if (r == 0 || strstr(reterr->msg, "can't find") || i >= TGTD_DELETE_MS / 100)
			return r;
		usleep(100000);
	}
}

/* Every target tgtd holds (also those of an earlier run): their tids. */
static int
list_tids(struct tgtd *t, uint32_t **ret, size_t *ret_n, struct tgt_show_conn *conns,
    size_t max_conns, size_t *ret_nconns, struct dl_err *reterr)
{
	static const char *const args[] = { "--lld", "iscsi", "--mode", "target", "--op", "show",
		NULL };
	_cleanup_free_ char *out = NULL;
	_cleanup_free_ uint32_t *tids = NULL;
	size_t len = 0, nconns = 0;
	int r;

	r = tgtadm(t, args, &out, &len, reterr);
	if (r < 0)
		return r;
	tids = calloc(MAX_SHOW_TIDS, sizeof(*tids));
	if (!tids)
		return dl_err_set(reterr, -ENOMEM, "tgtadm show: out of memory");
	r = tgt_show_parse(out, len, tids, MAX_SHOW_TIDS, ret_n, conns, max_conns,
	    ret_nconns ? ret_nconns : &nconns, reterr);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(tids);
	return 0;
}

/* tgtd's clean stop: offline (no new logins: libiscsi and Windows reconnect at once),
 * every target deleted, then the system. tgtd refuses the last while a forced target
 * delete is still tearing its connections down, so that is retried for TGTD_STOP_MS. Does
 * not wait for the exit. */
static void
shutdown_targets(struct tgtd *t)
{
	static const char *const offline[] = { "--mode", "system", "--op", "update", "--name",
		"State", "-v", "offline", NULL };
	static const char *const args[] = { "--mode", "system", "--op", "delete", NULL };
	_cleanup_free_ uint32_t *tids = NULL;
	struct dl_err err = { 0 };
	size_t n = 0;
	int r = 0;

	(void)tgtadm(t, offline, NULL, NULL, &err);
	if (list_tids(t, &tids, &n, NULL, 0, NULL, &err) < 0 && err.code != -ENOBUFS)
		log_warning("event=tgtd_stop msg=\"listing targets: %s\"", err.msg);
	for (size_t i = 0; tids && i < n; i++)
		if (target_delete(t, tids[i], &err) < 0)
			log_warning("event=tgtd_stop tid=%u msg=\"%s\"", (unsigned)tids[i], err.msg);
	for (int i = 0; i < TGTD_STOP_MS / 100; i++) {
		r = tgtadm(t, args, NULL, NULL, &err);
		if (r == 0)
			return;
		usleep(100000);
	}
	log_warning("event=tgtd_stop msg=\"system delete: %s\"", err.msg);
}

/* The socket files tgtd leaves behind. */
static void
unlink_sockets(struct tgtd *t)
{
	char p[sizeof(t->sock) + 16];

	(void)snprintf(p, sizeof(p), "%s.%s", t->sock, TGTD_CONTROL_PORT);
	(void)unlink(p);
	(void)snprintf(p, sizeof(p), "%s.%s.lock", t->sock, TGTD_CONTROL_PORT);
	(void)unlink(p);
}

/* Wait up to ms for our tgtd to exit; true if it did (reaped). */
static bool
wait_exit(struct tgtd *t, unsigned ms)
{
	for (unsigned waited = 0;; waited += 10) {
		siginfo_t si = { 0 };
		if (waitid(P_PIDFD, (id_t)t->pidfd, &si, WEXITED | WNOHANG) == 0 && si.si_pid)
			return true;
		if (waited >= ms)
			return false;
		usleep(10000);
	}
}

static void tgtd_restart(struct loop *l, void *userdata);
static void on_exit_event(struct loop *l, int fd, uint32_t events, void *userdata);

static void
schedule_restart(struct tgtd *t, uint64_t ran_ms)
{
	uint64_t delay = backoff_next(&t->backoff, ran_ms);

	t->restart_timer = loop_add_timer(t->loop, loop_now_ms() + delay, tgtd_restart, t);
	log_notice("event=tgtd_restart_scheduled restart_in_ms=%llu", (unsigned long long)delay);
}

/* Forget the watched child (already reaped or about to be). */
static void
unwatch(struct tgtd *t)
{
	if (t->pidfd >= 0) {
		loop_del_fd(t->loop, t->pidfd);
		close(t->pidfd);
	}
	t->pidfd = -1;
	t->pid = 0;
	/* tgtd's targets and accounts died with it. */
	t->n_entries = 0;
}

/* Start tgtd now and wait until its socket answers. */
static int
start(struct tgtd *t, struct dl_err *reterr)
{
	const char *argv[] = { t->cfg->tgtd, "-f", "-C", TGTD_CONTROL_PORT, "--iscsi", t->portal,
		NULL };
	const char *envp[] = { tgt_path_env, t->env_sock, NULL };
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;
	uint64_t t0;
	pid_t pid;
	int r, pidfd;

	/* A tgtd of an earlier run (the parent was killed) still holds our socket: stop it
	 * the clean way, or ours cannot start ("another tgtd is using"). */
	if (answers(t)) {
		log_warning("event=tgtd_stale msg=\"a tgtd of an earlier run answers on %s.%s; "
			    "deleting its targets and stopping it\"", t->sock, TGTD_CONTROL_PORT);
		shutdown_targets(t);
		for (int i = 0; i < TGTD_STOP_MS / 50 && answers(t); i++)
			usleep(50000);
		if (answers(t))
			return dl_err_set(reterr, -EBUSY, "an earlier tgtd on '%s.%s' does not stop",
			    t->sock, TGTD_CONTROL_PORT);
	}
	unlink_sockets(t);
	o.envp = envp;
	o.stdin_fd = -1;
	r = spawn_start(argv, &o, &pid, reterr);
	if (r < 0)
		return r;
	pidfd = spawn_pidfd(pid);
	if (pidfd < 0) {
		r = dl_err_set(reterr, pidfd, "pidfd_open(tgtd): %s", strerror(-pidfd));
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		return r;
	}
	t->pid = pid;
	t->pidfd = pidfd;
	t0 = loop_now_ms();
	for (;;) {
		siginfo_t si = { 0 };

		if (answers(t))
			break;
		if (waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED | WNOHANG) == 0 && si.si_pid) {
			close(pidfd);
			t->pidfd = -1;
			t->pid = 0;
			return dl_err_set(reterr, -ECHILD, "tgtd %d exited during start-up (%s %d; "
			    "its messages are in bootsvc's log)", (int)pid,
			    si.si_code == CLD_EXITED ? "status" : "signal", si.si_status);
		}
		if (loop_now_ms() - t0 >= TGTD_READY_MS) {
			(void)kill(pid, SIGKILL);
			(void)waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED);
			close(pidfd);
			t->pidfd = -1;
			t->pid = 0;
			return dl_err_set(reterr, -ETIMEDOUT, "tgtd %d did not answer on '%s.%s' "
			    "within %d ms", (int)pid, t->sock, TGTD_CONTROL_PORT, TGTD_READY_MS);
		}
		usleep(20000);
	}
	r = loop_add_fd(t->loop, pidfd, EPOLLIN, on_exit_event, t);
	if (r < 0) {
		/* unwatched it would run unsupervised: end it */
		shutdown_targets(t);
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		close(pidfd);
		t->pidfd = -1;
		t->pid = 0;
		return dl_err_set(reterr, r, "watching tgtd: %s", strerror(-r));
	}
	t->started_ms = loop_now_ms();
	t->generation++;
	t->n_entries = 0;
	log_info("event=tgtd_start pid=%d generation=%llu %s socket=%s.%s ready_ms=%llu",
	    (int)pid, (unsigned long long)t->generation, t->portal, t->sock, TGTD_CONTROL_PORT,
	    (unsigned long long)(t->started_ms - t0));
	return 0;
}

static void
on_exit_event(struct loop *l, int fd, uint32_t events, void *userdata)
{
	struct tgtd *t = userdata;
	siginfo_t si = { 0 };
	uint64_t ran;
	pid_t pid = t->pid;

	(void)l;
	(void)events;
	if (waitid(P_PIDFD, (id_t)fd, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
		return;
	unwatch(t);
	if (t->stopping)
		return;
	ran = loop_now_ms() - t->started_ms;
	log_warning("event=tgtd_exit pid=%d msg=\"tgtd %s %d after %llu ms, will restart; its "
		    "targets are gone until the child sets them again\"", (int)pid,
	    si.si_code == CLD_EXITED ? "exited" : "killed by signal", si.si_status,
	    (unsigned long long)ran);
	unlink_sockets(t);
	schedule_restart(t, ran);
}

static void
tgtd_restart(struct loop *l, void *userdata)
{
	struct tgtd *t = userdata;
	struct dl_err err = { 0 };

	(void)l;
	t->restart_timer = 0;
	if (t->stopping)
		return;
	t->restarts++;
	if (start(t, &err) < 0) {
		log_err("event=tgtd_start msg=\"%s, will retry\"", err.msg);
		schedule_restart(t, 0);
	}
}

int
tgtd_new(struct loop *l, const struct config *cfg, uid_t owner, struct tgtd **ret,
    struct dl_err *reterr)
{
	_cleanup_free_ struct tgtd *t = calloc(1, sizeof(*t));
	struct dl_err err = { 0 };
	struct stat st;
	int n;

	if (!t)
		return dl_err_set(reterr, -ENOMEM, "tgtd: out of memory");
	t->loop = l;
	t->cfg = cfg;
	t->owner = owner;
	t->pidfd = -1;
	t->backoff = (struct backoff)BACKOFF_INIT(TGTD_BACKOFF_MIN_MS, TGTD_BACKOFF_MAX_MS,
	    TGTD_STABLE_MS);
	(void)snprintf(t->dir, sizeof(t->dir), "%s/tgt", cfg->state_dir);
	(void)snprintf(t->sock, sizeof(t->sock), "%s/socket", t->dir);
	(void)snprintf(t->env_sock, sizeof(t->env_sock), "TGT_IPC_SOCKET=%s", t->sock);
	n = snprintf(t->portal, sizeof(t->portal), "portal=%s:%u", cfg->iscsi_portal,
	    (unsigned)cfg->iscsi_port);
	if (!cfg->iscsi_portal[0] || n < 0 || (size_t)n >= sizeof(t->portal))
		return dl_err_set(reterr, -EINVAL, "tgtd: no iscsi_portal address");
	/* sun_path holds 108 bytes: the socket, ".0.lock" for the longest, and the NUL. */
	if (strlen(t->sock) + 8 > sizeof(((struct sockaddr_un *)0)->sun_path))
		return dl_err_set(reterr, -ENAMETOOLONG, "tgtd's control socket '%s.0' is too "
		    "long for a unix socket; use a shorter state_dir", t->sock);
	/* Root's, 0700: only root talks to tgtd (it refuses changes from others anyway),
	 * and the child cannot plant a socket or a link here (the state dir is sticky). */
	if (mkdir(t->dir, 0700) < 0 && errno != EEXIST)
		return dl_err_set(reterr, negative_errno(), "tgtd dir '%s': %s", t->dir,
		    strerror(errno));
	if (lstat(t->dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0)
		return dl_err_set(reterr, -EPERM, "tgtd dir '%s' is not root's directory", t->dir);
	if (chmod(t->dir, 0700) < 0)
		return dl_err_set(reterr, negative_errno(), "tgtd dir '%s': %s", t->dir,
		    strerror(errno));
	if (start(t, &err) < 0) {
		log_err("event=tgtd_start msg=\"%s, will retry\"", err.msg);
		schedule_restart(t, 0);
	}
	*ret = TAKE_PTR(t);
	return 0;
}

struct tgtd *
tgtd_free(struct tgtd *t)
{
	if (!t)
		return NULL;
	t->stopping = true;
	if (t->restart_timer > 0)
		loop_cancel_timer(t->loop, t->restart_timer);
	t->restart_timer = 0;
	if (t->pid > 0) {
		pid_t pid = t->pid;
		bool clean;

		shutdown_targets(t);
		clean = wait_exit(t, TGTD_STOP_MS);
		if (!clean) {
			siginfo_t si = { 0 };
			log_warning("event=tgtd_stop pid=%d msg=\"still running %d ms after system "
				    "delete, SIGKILL\"", (int)pid, TGTD_STOP_MS);
			(void)kill(pid, SIGKILL);
			(void)waitid(P_PIDFD, (id_t)t->pidfd, &si, WEXITED);
		}
		log_info("event=tgtd_stop pid=%d clean=%s", (int)pid, clean ? "yes" : "no");
		unwatch(t);
	}
	unlink_sockets(t);
	free(t->entries);
	free(t);
	return NULL;
}

void
tgtd_status(const struct tgtd *t, pid_t *ret_pid, uint64_t *ret_restarts,
    uint64_t *ret_generation)
{
	*ret_pid = t ? t->pid : 0;
	*ret_restarts = t ? t->restarts : 0;
	*ret_generation = t ? t->generation : 0;
}

/* Does another target than tid hold account user? */
static bool
account_taken(struct tgtd *t, uint32_t tid, const char *user)
{
	if (!user[0])
		return false;
	for (size_t i = 0; i < t->n_entries; i++)
		if (t->entries[i].tid != tid &&
		    (streq(t->entries[i].user, user) || streq(t->entries[i].mutual, user)))
			return true;
	return false;
}

int
tgtd_target_del(struct tgtd *t, uint32_t tid, struct dl_err *reterr)
{
	struct tgt_entry *e;
	struct dl_err err = { 0 };
	int r;

	if (t->pid <= 0)
		return dl_err_set(reterr, -ENOTCONN, "tgtd is down (restarting)");
	e = entry_find(t, tid);
	r = target_delete(t, tid, &err);
	if (e) {
		account_delete(t, e->user);
		account_delete(t, e->mutual);
		entry_remove(t, e);
		if (r < 0)
			return dl_err_set(reterr, r, "deleting target %u: %s", (unsigned)tid, err.msg);
	}
	log_info("event=tgtd_target_del tid=%u", (unsigned)tid);
	return 0;
}

int
tgtd_target_set(struct tgtd *t, const struct tgt_target *tt, int backing_fd,
    struct dl_err *reterr)
{
	char tids[16], backing[64];
	const char *new_target[] = { "--lld", "iscsi", "--mode", "target", "--op", "new",
		"--tid", tids, "--targetname", tt->iqn, NULL };
	const char *new_lun[] = { "--lld", "iscsi", "--mode", "logicalunit", "--op", "new",
		"--tid", tids, "--lun", "1", "--backing-store", backing, "--bstype", "rdwr", NULL };
	const char *bind_addr[] = { "--lld", "iscsi", "--mode", "target", "--op", "bind",
		"--tid", tids, "--initiator-address", tt->initiator_addr, NULL };
	/* tgtadm takes the password on its argv only: see docs/security.md "iSCSI". */
	const char *new_user[] = { "--lld", "iscsi", "--mode", "account", "--op", "new",
		"--user", tt->chap_user, "--password", tt->chap_secret, NULL };
	const char *bind_user[] = { "--lld", "iscsi", "--mode", "account", "--op", "bind",
		"--tid", tids, "--user", tt->chap_user, NULL };
	const char *new_mutual[] = { "--lld", "iscsi", "--mode", "account", "--op", "new",
		"--user", tt->mutual_user, "--password", tt->mutual_secret, NULL };
	const char *bind_mutual[] = { "--lld", "iscsi", "--mode", "account", "--op", "bind",
		"--tid", tids, "--user", tt->mutual_user, "--outgoing", NULL };
	/* The address binding goes last: tgtd refuses every login to a target that admits no
	 * address, so the target opens complete, its LUN and CHAP accounts in place. Bound
	 * before the accounts, a login landing between the steps (a node's initiator retries
	 * through the rebuild after a tgtd restart) was let in without CHAP. */
	const char *const *with_mutual[] = { new_target, new_lun, new_user, bind_user,
		new_mutual, bind_mutual, bind_addr };
	const char *const *one_way[] = { new_target, new_lun, new_user, bind_user, bind_addr };
	const char *const *const *steps = tt->mutual_user[0] ? with_mutual : one_way;
	size_t nsteps = tt->mutual_user[0] ? ELEMENTSOF(with_mutual) : ELEMENTSOF(one_way);
	struct tgt_entry *e;
	struct dl_err err = { 0 };
	int r = 0;

	if (t->pid <= 0)
		return dl_err_set(reterr, -ENOTCONN, "tgtd is down (restarting)");
	if (account_taken(t, tt->tid, tt->chap_user) || account_taken(t, tt->tid, tt->mutual_user))
		return dl_err_set(reterr, -EEXIST, "target %u: CHAP user '%s' or '%s' belongs to "
		    "another target", (unsigned)tt->tid, tt->chap_user, tt->mutual_user);
	if (t->n_entries == t->cap_entries && !entry_find(t, tt->tid)) {
		size_t cap = t->cap_entries ? t->cap_entries * 2 : 16;
		struct tgt_entry *ne = reallocarray(t->entries, cap, sizeof(*ne));
		if (!ne)
			return dl_err_set(reterr, -ENOMEM, "tgtd: out of memory");
		t->entries = ne;
		t->cap_entries = cap;
	}
	(void)snprintf(tids, sizeof(tids), "%u", (unsigned)tt->tid);
	(void)snprintf(backing, sizeof(backing), "/proc/%d/fd/%d", (int)getpid(), backing_fd);
	/* Replace: the old target (its sessions with it) and its accounts go first. */
	e = entry_find(t, tt->tid);
	(void)target_delete(t, tt->tid, &err); /* none there is fine */
	if (e) {
		account_delete(t, e->user);
		account_delete(t, e->mutual);
		entry_remove(t, e);
	}
	for (size_t i = 0; i < nsteps; i++) {
		r = tgtadm(t, steps[i], NULL, NULL, &err);
		if (r < 0)
			break;
	}
	if (r < 0) {
		struct dl_err ignored = { 0 };
		(void)target_delete(t, tt->tid, &ignored);
		account_delete(t, tt->chap_user);
		if (tt->mutual_user[0])
			account_delete(t, tt->mutual_user);
		return dl_err_set(reterr, r, "target %u '%s': %s", (unsigned)tt->tid, tt->iqn,
		    err.msg);
	}
	e = &t->entries[t->n_entries++];
	memset(e, 0, sizeof(*e));
	e->tid = tt->tid;
	memcpy(e->user, tt->chap_user, sizeof(e->user));
	memcpy(e->mutual, tt->mutual_user, sizeof(e->mutual));
	memcpy(e->initiator, tt->initiator_name, sizeof(e->initiator));
	memcpy(e->addr, tt->initiator_addr, sizeof(e->addr));
	log_info("event=tgtd_target_set tid=%u iqn=%s initiator=%s addr=%s mutual=%s",
	    (unsigned)tt->tid, tt->iqn, tt->initiator_name, tt->initiator_addr,
	    tt->mutual_user[0] ? "yes" : "no");
	return 0;
}

/* Drop one connection tgtd let in that is not its target's node's. */
static void
drop_conn(struct tgtd *t, const struct tgt_show_conn *c, const char *why)
{
	char tids[16], sids[16], cids[16];
	const char *args[] = { "--lld", "iscsi", "--mode", "conn", "--op", "delete", "--tid",
		tids, "--sid", sids, "--cid", cids, NULL };
	struct dl_err err = { 0 };

	(void)snprintf(tids, sizeof(tids), "%u", (unsigned)c->s.tid);
	(void)snprintf(sids, sizeof(sids), "%u", (unsigned)c->sid);
	(void)snprintf(cids, sizeof(cids), "%u", (unsigned)c->cid);
	if (tgtadm(t, args, NULL, NULL, &err) < 0)
		log_warning("event=tgtd_drop tid=%u initiator=%s addr=%s msg=\"%s: %s\"",
		    (unsigned)c->s.tid, c->s.initiator_name, c->s.addr, why, err.msg);
	else
		log_warning("event=tgtd_drop tid=%u initiator=%s addr=%s msg=\"%s: dropped\"",
		    (unsigned)c->s.tid, c->s.initiator_name, c->s.addr, why);
}

int
tgtd_sessions(struct tgtd *t, struct tgt_session *ret, size_t max, size_t *ret_n,
    struct dl_err *reterr)
{
	_cleanup_free_ uint32_t *tids = NULL;
	_cleanup_free_ struct tgt_show_conn *conns = NULL;
	size_t ntids = 0, nconns = 0, n = 0, drops = 0;
	int r;

	if (t->pid <= 0)
		return dl_err_set(reterr, -ENOTCONN, "tgtd is down (restarting)");
	/* Room for every connection tgtd may list, so a flood is seen (and dropped) rather
	 * than failing the call; what is listed still fits max. */
	conns = calloc(MAX_TGT_SESSIONS, sizeof(*conns));
	if (!conns)
		return dl_err_set(reterr, -ENOMEM, "tgtd sessions: out of memory");
	r = list_tids(t, &tids, &ntids, conns, MAX_TGT_SESSIONS, &nconns, reterr);
	if (r < 0)
		return r;
	for (size_t i = 0; i < nconns; i++) {
		const struct tgt_show_conn *c = &conns[i];
		const struct tgt_entry *e = entry_find(t, c->s.tid);
		const char *why = c->bad_name ? "an initiator name that is not an iSCSI name" :
		    !e ? "a target bootsvc did not set" :
		    !streq(c->s.initiator_name, e->initiator) ? "not the target's initiator name" :
		    !streq(c->s.addr, e->addr) ? "not the target's initiator address" : NULL;

		if (why) {
			if (drops++ < MAX_TGT_DROPS)
				drop_conn(t, c, why);
			continue;
		}
		if (n >= max)
			return dl_err_set(reterr, -ENOBUFS, "more than %zu sessions", max);
		ret[n++] = c->s;
	}
	*ret_n = n;
	return 0;
}
