/* SPDX-License-Identifier: MIT */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "controller/hook.h"
#include "log.h"
#include "spawn.h"

void
hooks_init(struct hooks *h, struct loop *l, unsigned timeout_ms)
{
	memset(h, 0, sizeof(*h));
	h->loop = l;
	h->timeout_ms = timeout_ms;
	for (size_t i = 0; i < MAX_HOOKS; i++) {
		h->run[i].owner = h;
		h->run[i].pidfd = -1;
	}
}

static void
slot_free(struct hook_run *r)
{
	struct hooks *h = r->owner;

	if (r->timer > 0)
		loop_cancel_timer(h->loop, r->timer);
	if (r->pidfd >= 0) {
		loop_del_fd(h->loop, r->pidfd);
		close(r->pidfd);
	}
	r->timer = 0;
	r->pidfd = -1;
	r->pid = 0;
	h->n_running--;
}

static void
hook_exit(struct loop *l, int fd, uint32_t events, void *userdata)
{
	struct hook_run *r = userdata;
	siginfo_t si = { 0 };

	(void)l;
	(void)events;
	if (waitid(P_PIDFD, (id_t)fd, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
		return;
	if (si.si_code != CLD_EXITED || si.si_status != 0)
		log_warning("event=notify_hook node=%s pid=%d msg=\"hook %s %d\"", r->node,
		    (int)si.si_pid, si.si_code == CLD_EXITED ? "exited" : "killed by signal",
		    si.si_status);
	slot_free(r);
}

/* The deadline: the hook and whatever it started are killed; the pidfd then reaps it. */
static void
hook_deadline(struct loop *l, void *userdata)
{
	struct hook_run *r = userdata;

	(void)l;
	r->timer = 0;
	r->owner->killed++;
	log_warning("event=notify_hook node=%s pid=%d msg=\"still running after %u ms, killed\"",
	    r->node, (int)r->pid, r->owner->timeout_ms);
	/* Its own process group (spawn's new_pgroup); not reaped yet, so pid is still its. */
	if (kill(-r->pid, SIGKILL) < 0)
		(void)kill(r->pid, SIGKILL);
}

int
hooks_run(struct hooks *h, const char *const *argv, const char *node)
{
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;
	struct dl_err err = { 0 };
	struct hook_run *r = NULL;
	int rc;

	for (size_t i = 0; i < MAX_HOOKS && !r; i++)
		if (!h->run[i].pid)
			r = &h->run[i];
	if (!r) {
		/* Counted; logged once per run of refusals (until a hook starts again). */
		h->refused++;
		if (!h->refusing)
			log_warning("event=notify_hook node=%s msg=\"%d hooks still running, not "
			    "starting another\"", node, MAX_HOOKS);
		h->refusing = true;
		return -EAGAIN;
	}
	h->refusing = false;
	if ((rc = spawn_start(argv, &o, &r->pid, &err)) < 0) {
		log_err("event=notify_hook node=%s msg=\"%s\"", node, err.msg);
		r->pid = 0;
		return rc;
	}
	h->n_running++;
	(void)snprintf(r->node, sizeof(r->node), "%s", node);
	r->pidfd = spawn_pidfd(r->pid);
	if (r->pidfd < 0 || loop_add_fd(h->loop, r->pidfd, EPOLLIN, hook_exit, r) < 0) {
		/* rare: kill it and reap it now rather than leave it unwatched */
		log_err("event=notify_hook node=%s pid=%d msg=\"cannot watch the hook, killed\"",
		    node, (int)r->pid);
		(void)kill(-r->pid, SIGKILL);
		(void)waitpid(r->pid, NULL, 0);
		if (r->pidfd >= 0)
			close(r->pidfd);
		r->pidfd = -1;
		r->pid = 0;
		h->n_running--;
		return -EIO;
	}
	r->timer = loop_add_timer(h->loop, loop_now_ms() + h->timeout_ms, hook_deadline, r);
	if (r->timer < 0)
		r->timer = 0; /* out of memory: it runs without a deadline, still reaped */
	return 0;
}

void
hooks_done(struct hooks *h)
{
	for (size_t i = 0; i < MAX_HOOKS; i++)
		if (h->run[i].pid)
			slot_free(&h->run[i]);
}
