/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "action/action.h"
#include "cluster/cluster.h"
#include "log.h"
#include "macro.h"
#include "vm/vm.h"
#include "vm/vm_exec.h"
#include "vm/vm_internal.h"
#include "vm/vm_migrate.h"
#include "wallclock.h"

/* A migration's action deadline: only a backstop for a call that never returns (the
 * watcher's deadline per GiB aborts a migration long before). Six hours is the deadline
 * of a 3 TiB guest at the default vm_migrate_s_per_gib... past that a person decides. */
#define VM_MIGRATE_ACTION_DEADLINE_MS (6ULL * 3600 * 1000)
/* A resume check is two lookups on each of two hosts: as long as any libvirt call. */
#define VM_RESUME_CHECK_DEADLINE_MS VM_CALL_DEADLINE_MS

/* A migration this process submitted, until its done(). m is the action layer's
 * payload: valid until done() returns. */
struct exec_job {
	int64_t plan_id;
	unsigned seq;
	struct vm_migrate *m;
	bool postcopy_told;         /* the post-copy event was written */
	int64_t progress_event_ms;  /* loop ms of the last progress event */
	int64_t started_mono_ms;
	struct exec_job *next;
};

/* A step found running in the store without a job of ours (resume): how often neither
 * host listed its VM, and whether its wait was logged. */
struct exec_orphan {
	int64_t plan_id;
	unsigned seq;
	unsigned nowhere;
	bool wait_logged;
	bool checking;              /* a resume check (resume_run) is in flight */
	struct exec_orphan *next;
};

struct vm_exec {
	struct vm *vm;
	struct bootsvc *bs;
	struct exec_job *jobs;
	struct exec_orphan *orphans;
	struct action_type migrate_type, resume_type;
	int64_t kick_timer;
	vm_exec_replace_fn replace;
	void *replace_ud;
	bool cap_logged;            /* MAX_VM_EXEC_STEPS reached: logged once */
};

/* ---- on the loop ---- */

/* "vm-migrate" on the step's source and destination (or its one host). */
static void
step_event(struct vm_exec *e, const struct vm_step_rec *st, bool both, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
step_event(struct vm_exec *e, const struct vm_step_rec *st, bool both, const char *fmt, ...)
{
	/* what, with the VM and both hosts' names before it: room for all, no cut */
	char what[MAX_REASON], reason[MAX_REASON + MAX_VM_NAME + 2 * MAX_NODE_NAME + 16];
	int64_t now = (int64_t)time(NULL);
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (exec_step_is_migrate(st))
		(void)snprintf(reason, sizeof(reason), "%s %s -> %s: %s", st->vm_name, st->src,
		    st->dst, what);
	else
		(void)snprintf(reason, sizeof(reason), "%s: %s", st->src, what);
	(void)store_event_add(e->bs->store, st->src, exec_step_is_migrate(st) ? "vm-migrate" : "vm-plan",
	    reason, now);
	if (both && st->dst[0] && strcmp(st->dst, st->src) != 0)
		(void)store_event_add(e->bs->store, st->dst, "vm-migrate", reason, now);
	notify(&e->bs->notify, NOTIFY_HISTORY);
}

struct find_step {
	unsigned seq;
	struct vm_step_rec *ret;
	bool found;
};

static int
find_step_one(const struct vm_step_rec *st, void *userdata)
{
	struct find_step *f = userdata;

	if (st->seq != f->seq)
		return 0;
	*f->ret = *st;
	f->found = true;
	return -1; /* stop */
}

static int
step_get(struct vm_exec *e, int64_t plan_id, unsigned seq, struct vm_step_rec *ret)
{
	struct find_step f = { .seq = seq, .ret = ret };

	(void)store_vm_step_foreach(e->bs->store, plan_id, find_step_one, &f);
	return f.found ? 0 : -ENOENT;
}

static void
step_write(struct vm_exec *e, const struct vm_step_rec *st)
{
	if (store_vm_step_put(e->bs->store, st) < 0)
		log_err("event=vm_exec plan=%lld seq=%u msg=\"step not written to the store\"",
		    (long long)st->plan_id, st->seq);
}

static struct exec_job *
job_find(struct vm_exec *e, int64_t plan_id, unsigned seq)
{
	for (struct exec_job *j = e->jobs; j; j = j->next)
		if (j->plan_id == plan_id && j->seq == seq)
			return j;
	return NULL;
}

static void
job_remove(struct vm_exec *e, struct exec_job *j)
{
	struct exec_job **pp = &e->jobs;

	while (*pp && *pp != j)
		pp = &(*pp)->next;
	if (*pp)
		*pp = j->next;
	free(j);
}

static struct exec_orphan *
orphan_get(struct vm_exec *e, int64_t plan_id, unsigned seq, bool create)
{
	struct exec_orphan *o;

	for (o = e->orphans; o; o = o->next)
		if (o->plan_id == plan_id && o->seq == seq)
			return o;
	if (!create || !(o = calloc(1, sizeof(*o))))
		return NULL;
	o->plan_id = plan_id;
	o->seq = seq;
	o->next = e->orphans;
	e->orphans = o;
	return o;
}

static void
orphan_drop(struct vm_exec *e, int64_t plan_id, unsigned seq)
{
	for (struct exec_orphan **pp = &e->orphans; *pp; pp = &(*pp)->next)
		if ((*pp)->plan_id == plan_id && (*pp)->seq == seq) {
			struct exec_orphan *o = *pp;

			*pp = o->next;
			free(o);
			return;
		}
}

/* Whether plan_id has a cancelled step: a cancel was asked (it survives a restart in
 * the rows), so a lost migration of that plan is not tried again. */
struct plan_scan {
	bool cancelled;
};

static int
scan_cancelled(const struct vm_step_rec *st, void *userdata)
{
	struct plan_scan *ps = userdata;

	if (exec_step_state_is(st, "cancelled"))
		ps->cancelled = true;
	return 0;
}

static bool
plan_cancel_asked(struct vm_exec *e, int64_t plan_id)
{
	struct plan_scan ps = { 0 };

	(void)store_vm_step_foreach(e->bs->store, plan_id, scan_cancelled, &ps);
	return ps.cancelled;
}

/* The step is over (done, failed, cancelled): its row says so and why. */
static void
step_end(struct vm_exec *e, struct vm_step_rec *st, const char *state, const char *reason)
{
	(void)snprintf(st->state, sizeof(st->state), "%s", state);
	if (reason)
		(void)snprintf(st->reason, sizeof(st->reason), "%s", reason);
	st->ended_ms = wall_ms();
	step_write(e, st);
}

/* libvirt says st's domain runs on st.dst now. Its row moves there before the step is
 * marked done, so a plan made as soon as `vm migrate --wait` returns places it right.
 * The caller reads both hosts again after this: their listings have the last word. */
static void
step_moved(struct vm_exec *e, const struct vm_step_rec *st)
{
	int r = store_vm_domain_moved(e->bs->store, st->vm_uuid, st->src, st->dst, wall_ms());

	if (r < 0 && r != -ENOENT)
		log_warning("event=vm_migrate plan=%lld seq=%u vm=%s dst=%s msg=\"its row not "
		    "moved (%s): the next listing moves it\"", (long long)st->plan_id, st->seq,
		    st->vm_name, st->dst, strerror(-r));
}

static void
job_done(void *payload, const struct action_result *res);
static int
resume_run(void *payload, const atomic_bool *cancelled, struct dl_err *reterr);
static void
resume_done(void *payload, const struct action_result *res);
static void
resume_free(void *payload);

static void
job_free(void *payload)
{
	vm_migrate_free(payload);
}

static bool
connected_cb(const char *node, void *userdata)
{
	return vm_host_connected(userdata, node);
}

int
vm_exec_new(struct vm *vm, struct vm_exec **ret, struct dl_err *reterr)
{
	struct vm_exec *e = calloc(1, sizeof(*e));

	if (!e)
		return dl_err_set(reterr, -ENOMEM, "vm executor: out of memory");
	e->vm = vm;
	e->bs = vm_bootsvc(vm);
	/* routine: the executor records every outcome itself (vm-migrate events); the
	 * action layer's own row would say it twice */
	e->migrate_type = (struct action_type){ .name = "vm-migrate",
		.pool = ACTION_POOL_LIBVIRT, .res = ACTION_RES_LIBVIRT_MIGRATE, .shared = true,
		.routine = true, .deadline_ms = VM_MIGRATE_ACTION_DEADLINE_MS,
		.run = vm_migrate_run, .done = job_done, .free = job_free };
	e->resume_type = e->migrate_type;
	e->resume_type.name = "vm-resume-check";
	e->resume_type.deadline_ms = VM_RESUME_CHECK_DEADLINE_MS;
	e->resume_type.run = resume_run;
	e->resume_type.done = resume_done;
	e->resume_type.free = resume_free;
	*ret = e;
	return 0;
}

struct vm_exec *
vm_exec_free(struct vm_exec *e)
{
	if (!e)
		return NULL;
	if (e->kick_timer > 0)
		loop_cancel_timer(e->bs->loop, e->kick_timer);
	while (e->jobs) {
		struct exec_job *j = e->jobs;

		e->jobs = j->next;
		free(j);
	}
	while (e->orphans) {
		struct exec_orphan *o = e->orphans;

		e->orphans = o->next;
		free(o);
	}
	free(e);
	return NULL;
}

void
vm_exec_set_replace(struct vm *vm, vm_exec_replace_fn fn, void *userdata)
{
	struct vm_exec *e = vm_exec_of(vm);

	if (!e)
		return;
	e->replace = fn;
	e->replace_ud = userdata;
}

/* The failed step again, to another destination if the glue names one; else failed. */
static void
step_failed(struct vm_exec *e, struct vm_step_rec *st, const char *why)
{
	char new_dst[MAX_NODE_NAME], old_dst[MAX_NODE_NAME];

	(void)snprintf(st->reason, sizeof(st->reason), "%s", why);
	/* Not after a deadline abort: the guest dirtied memory faster than its source's link
	 * sends it, and every other destination is behind that same link. */
	if (strncmp(why, "deadline", 8) != 0 && st->attempts < VM_EXEC_MAX_ATTEMPTS &&
	    e->replace &&
	    e->replace(e->replace_ud, st, new_dst, sizeof(new_dst)) == 0 && new_dst[0] &&
	    strcmp(new_dst, st->src) != 0) {
		(void)snprintf(old_dst, sizeof(old_dst), "%s", st->dst);
		step_event(e, st, true, "failed (attempt %u): %s; trying %s next", st->attempts,
		    why, new_dst);
		(void)snprintf(st->dst, sizeof(st->dst), "%s", new_dst);
		(void)snprintf(st->reason, sizeof(st->reason), "retry after %s failed: %s",
		    old_dst, why);
		strcpy(st->state, "pending");
		st->ended_ms = 0;
		step_write(e, st);
		log_warning("event=vm_migrate plan=%lld seq=%u vm=%s src=%s dst=%s attempts=%u "
		    "msg=\"failed: %s; will retry to %s\"", (long long)st->plan_id, st->seq,
		    st->vm_name, st->src, old_dst, st->attempts, why, new_dst);
		return;
	}
	step_end(e, st, "failed", why);
	step_event(e, st, true, "failed for good after %u attempts: %s", st->attempts, why);
	log_err("event=vm_migrate plan=%lld seq=%u vm=%s src=%s dst=%s attempts=%u "
	    "msg=\"failed for good: %s\"", (long long)st->plan_id, st->seq, st->vm_name,
	    st->src, st->dst, st->attempts, why);
}

static void
job_done(void *payload, const struct action_result *res)
{
	struct vm_migrate *m = payload;
	struct vm *vm = NULL;
	struct vm_exec *e;
	struct exec_job *j = NULL;
	struct vm_step_rec st;
	char why[MAX_REASON];
	bool have;

	vm = m->vm;
	e = vm_exec_of(vm);
	if (!e || !(j = job_find(e, m->plan_id, m->seq)) || j->m != m)
		return;
	job_remove(e, j);
	if (res->outcome == ACTION_CANCELLED || res->outcome == ACTION_TIMED_OUT) {
		/* Stopping, or a call that did not return: the row stays running and the
		 * resume check asks libvirt (this run, or the next). */
		log_warning("event=vm_migrate plan=%lld seq=%u vm=%s src=%s dst=%s msg=\"%s: "
		    "left to the resume check\"", (long long)m->plan_id, m->seq, m->name, m->src,
		    m->dst, action_outcome_to_string(res->outcome));
		return;
	}
	have = step_get(e, m->plan_id, m->seq, &st) == 0;
	if (have && res->outcome == ACTION_OK)
		step_moved(e, &st); /* before the listings below, which count from now */
	vm_host_read_now(vm, m->src);
	vm_host_read_now(vm, m->dst);
	if (!have)
		return; /* the plan was pruned meanwhile: nothing to record */
	if (res->outcome == ACTION_OK) {
		st.downtime_ms = m->downtime_ms ? m->downtime_ms : st.downtime_ms;
		if (m->data_total)
			st.data_total = m->data_total;
		st.data_remaining = 0;
		step_end(e, &st, "done", NULL);
		step_event(e, &st, true, "done in %.1f s, downtime %lld ms%s",
		    (double)(st.ended_ms - st.started_ms) / 1000, (long long)st.downtime_ms,
		    st.postcopy ? " (post-copy)" : "");
		log_notice("event=vm_migrate plan=%lld seq=%u vm=%s src=%s dst=%s result=done "
		    "ms=%lld downtime_ms=%lld", (long long)st.plan_id, st.seq, st.vm_name,
		    st.src, st.dst, (long long)(st.ended_ms - st.started_ms),
		    (long long)st.downtime_ms);
		return;
	}
	(void)snprintf(why, sizeof(why), "%s", res->msg && res->msg[0] ? res->msg :
	    "migration failed");
	if (m->cancelled || res->r == -ECANCELED) {
		step_end(e, &st, "cancelled", why);
		step_event(e, &st, true, "%s", why);
		return;
	}
	if (res->r == -ENOENT) {
		/* Not on its source any more: nothing to retry elsewhere. */
		step_end(e, &st, "failed", why);
		step_event(e, &st, true, "failed: %s", why);
		return;
	}
	step_failed(e, &st, why);
}

/* The intent in the store, then the job. */
static void
start_migrate(struct vm_exec *e, struct vm_step_rec st)
{
	const struct config *cfg = &e->bs->cfg;
	struct vm_host_rec dh;
	struct node_rec dn;
	struct vm_migrate *m;
	struct exec_job *j;
	struct dl_err err = { 0 };
	int r;

	if (store_vm_host_get(e->bs->store, st.dst, &dh) < 0 ||
	    store_node_get(e->bs->store, st.dst, &dn) < 0 || !dn.ip[0]) {
		st.attempts++;
		st.started_ms = wall_ms();
		step_failed(e, &st, "the destination is no VM host with a fixed address");
		return;
	}
	if (!(m = vm_migrate_new()) || !(j = calloc(1, sizeof(*j)))) {
		vm_migrate_free(m);
		log_warning("event=vm_exec msg=\"out of memory for a migration, will retry\"");
		return;
	}
	m->plan_id = st.plan_id;
	m->seq = st.seq;
	(void)snprintf(m->src, sizeof(m->src), "%s", st.src);
	(void)snprintf(m->dst, sizeof(m->dst), "%s", st.dst);
	(void)snprintf(m->uuid, sizeof(m->uuid), "%s", st.vm_uuid);
	(void)snprintf(m->name, sizeof(m->name), "%s", st.vm_name);
	(void)snprintf(m->dst_uri, sizeof(m->dst_uri), "%s", dh.uri);
	(void)snprintf(m->stream_uri, sizeof(m->stream_uri), "tcp://%s", dn.ip);
	m->policy.postcopy_allowed = cfg->vm_postcopy;
	m->policy.deadline_ms = migrate_watch_deadline_ms(st.mem_mib, cfg->vm_migrate_s_per_gib);
	m->vm = e->vm;
	m->src_conn = vm_host_conn_ref(e->vm, st.src);
	m->dst_conn = vm_host_conn_ref(e->vm, st.dst);
	if (!m->src_conn) {
		vm_migrate_free(m);
		free(j);
		return; /* lost since the pick: the next tick decides again */
	}
	/* Intent first: a crash from here on finds the step running and asks libvirt. */
	strcpy(st.state, "running");
	st.attempts++;
	st.started_ms = wall_ms();
	st.ended_ms = 0;
	st.data_total = st.data_processed = st.data_remaining = st.downtime_ms = 0;
	st.postcopy = false;
	if ((r = store_vm_step_put(e->bs->store, &st)) < 0) {
		log_err("event=vm_exec plan=%lld seq=%u msg=\"intent not written, not started, "
		    "will retry\"", (long long)st.plan_id, st.seq);
		vm_migrate_free(m);
		free(j);
		return;
	}
	j->plan_id = st.plan_id;
	j->seq = st.seq;
	j->m = m;
	j->started_mono_ms = (int64_t)loop_now_ms();
	j->progress_event_ms = j->started_mono_ms;
	if ((r = action_submit(e->bs->action, st.src, &e->migrate_type, m, 0, &err)) < 0) {
		/* Not started: the row goes back to pending, the attempt not counted. */
		strcpy(st.state, "pending");
		st.attempts--;
		st.started_ms = 0;
		step_write(e, &st);
		log_warning("event=vm_exec plan=%lld seq=%u vm=%s msg=\"migration not queued: "
		    "%s, will retry\"", (long long)st.plan_id, st.seq, st.vm_name, err.msg);
		vm_migrate_free(m);
		free(j);
		return;
	}
	j->next = e->jobs;
	e->jobs = j;
	step_event(e, &st, true, "start (attempt %u, deadline %lld s%s): %s", st.attempts,
	    (long long)(m->policy.deadline_ms / 1000), m->policy.postcopy_allowed ?
	    ", post-copy allowed" : "", st.reason);
	log_notice("event=vm_migrate plan=%lld seq=%u vm=%s src=%s dst=%s attempt=%u "
	    "stream=%s msg=\"started\"", (long long)st.plan_id, st.seq, st.vm_name, st.src,
	    st.dst, st.attempts, m->stream_uri);
}

/* A resume check: the domain's state on both hosts, asked of their libvirtds (the store's
 * vm_domains keeps one row per domain, the last listing's, so while a domain is on both
 * hosts it shows only one of them). Its payload: copies in, states out. */
struct resume_job {
	struct vm *vm;
	int64_t plan_id;
	unsigned seq;
	char uuid[UUID_STR_LEN];
	virConnectPtr conn[2];     /* source, destination: the job's references */
	char state[2][16];         /* "" = not defined there */
};

static const char *
domain_state_word(int s)
{
	switch (s) {
	case VIR_DOMAIN_RUNNING: return "running";
	case VIR_DOMAIN_BLOCKED: return "blocked";
	case VIR_DOMAIN_PAUSED: return "paused";
	case VIR_DOMAIN_SHUTDOWN: return "shutdown";
	case VIR_DOMAIN_SHUTOFF: return "shutoff";
	case VIR_DOMAIN_CRASHED: return "crashed";
	case VIR_DOMAIN_PMSUSPENDED: return "pmsuspended";
	default: return "nostate";
	}
}

static int
resume_run(void *payload, const atomic_bool *cancelled, struct dl_err *reterr)
{
	struct resume_job *rj = payload;

	(void)cancelled;
	for (int k = 0; k < 2; k++) {
		virDomainPtr d = virDomainLookupByUUIDString(rj->conn[k], rj->uuid);
		int state, reason;
		virErrorPtr err;

		rj->state[k][0] = '\0';
		if (!d) {
			err = virGetLastError();
			if (err && err->code == VIR_ERR_NO_DOMAIN)
				continue; /* not there: an answer */
			return dl_err_set(reterr, -EIO, "%s", virGetLastErrorMessage());
		}
		if (virDomainGetState(d, &state, &reason, 0) < 0) {
			virDomainFree(d);
			return dl_err_set(reterr, -EIO, "%s", virGetLastErrorMessage());
		}
		(void)snprintf(rj->state[k], sizeof(rj->state[k]), "%s", domain_state_word(state));
		virDomainFree(d);
	}
	return 0;
}

static void
resume_free(void *payload)
{
	struct resume_job *rj = payload;

	for (int k = 0; k < 2; k++)
		if (rj->conn[k])
			(void)virConnectClose(rj->conn[k]); /* the job's extra references */
	free(rj);
}

/* What libvirt says the step became: done, pending again, failed, or wait. */
static void
resume_apply(struct vm_exec *e, struct vm_step_rec st, const char *ss, const char *ds)
{
	struct exec_orphan *o = orphan_get(e, st.plan_id, st.seq, false);
	enum exec_resume r = exec_resume_decide(ss, ds);

	log_debug("event=vm_exec plan=%lld seq=%u vm=%s src_state=%s dst_state=%s resume=%s",
	    (long long)st.plan_id, st.seq, st.vm_name, ss ? ss : "-", ds ? ds : "-",
	    exec_resume_to_string(r));
	switch (r) {
	case EXEC_RESUME_DONE:
		orphan_drop(e, st.plan_id, st.seq);
		st.data_remaining = 0;
		step_moved(e, &st);
		step_end(e, &st, "done", NULL);
		step_event(e, &st, true, "done (found on %s after a restart)", st.dst);
		log_notice("event=vm_migrate plan=%lld seq=%u vm=%s src=%s dst=%s result=done "
		    "msg=\"resumed: it runs on the destination\"", (long long)st.plan_id, st.seq,
		    st.vm_name, st.src, st.dst);
		vm_host_read_now(e->vm, st.src);
		vm_host_read_now(e->vm, st.dst);
		break;
	case EXEC_RESUME_PENDING:
		orphan_drop(e, st.plan_id, st.seq);
		if (plan_cancel_asked(e, st.plan_id)) {
			step_end(e, &st, "cancelled", "cancelled (its migration was lost in a "
			    "restart)");
			step_event(e, &st, true, "cancelled: lost in a restart, not tried again");
			break;
		}
		/* The migration died with bootsvc (or was aborted at its stop): the VM never
		 * left. It is not the migration's failure: the attempt is not counted. */
		strcpy(st.state, "pending");
		if (st.attempts)
			st.attempts--;
		st.started_ms = 0;
		step_write(e, &st);
		step_event(e, &st, true, "still on %s after a restart: to be started again",
		    st.src);
		log_notice("event=vm_migrate plan=%lld seq=%u vm=%s src=%s dst=%s msg=\"resumed: "
		    "still on the source, pending again\"", (long long)st.plan_id, st.seq,
		    st.vm_name, st.src, st.dst);
		break;
	case EXEC_RESUME_NOWHERE:
		if (o && ++o->nowhere < VM_EXEC_NOWHERE_MAX)
			break;
		orphan_drop(e, st.plan_id, st.seq);
		step_end(e, &st, "failed", "after a restart neither host runs the VM");
		step_event(e, &st, true, "failed: after a restart neither host runs it");
		break;
	case EXEC_RESUME_WAIT:
	default:
		if (o && !o->wait_logged) {
			o->wait_logged = true;
			log_notice("event=vm_exec plan=%lld seq=%u vm=%s src=%s dst=%s msg=\"found "
			    "migrating from before (%s on the source, %s on the destination): "
			    "waiting\"", (long long)st.plan_id, st.seq, st.vm_name, st.src, st.dst,
			    ss ? ss : "-", ds ? ds : "-");
		}
		break;
	}
}

static void
resume_done(void *payload, const struct action_result *res)
{
	struct resume_job *rj = payload;
	struct vm_exec *e = vm_exec_of(rj->vm);
	struct exec_orphan *o;
	struct vm_step_rec st;

	if (!e || !(o = orphan_get(e, rj->plan_id, rj->seq, false)))
		return;
	o->checking = false;
	if (res->outcome != ACTION_OK) {
		log_debug("event=vm_exec plan=%lld seq=%u msg=\"resume check failed: %s, will "
		    "retry\"", (long long)rj->plan_id, rj->seq, res->msg);
		return;
	}
	/* The row again: a cancel may have ended it while the check ran. */
	if (step_get(e, rj->plan_id, rj->seq, &st) < 0 || !exec_step_state_is(&st, "running") ||
	    job_find(e, rj->plan_id, rj->seq)) {
		orphan_drop(e, rj->plan_id, rj->seq);
		return;
	}
	resume_apply(e, st, rj->state[0][0] ? rj->state[0] : NULL,
	    rj->state[1][0] ? rj->state[1] : NULL);
}

/* A running step without a job of ours: ask both libvirtds what became of it. */
static void
resume_one(struct vm_exec *e, struct vm_step_rec st)
{
	struct exec_orphan *o;
	struct resume_job *rj;
	struct dl_err err = { 0 };

	if (!exec_step_is_migrate(&st) || !(o = orphan_get(e, st.plan_id, st.seq, true)) || o->checking)
		return;
	if (!vm_host_connected(e->vm, st.src) || !vm_host_connected(e->vm, st.dst)) {
		if (!o->wait_logged) {
			o->wait_logged = true;
			log_notice("event=vm_exec plan=%lld seq=%u vm=%s src=%s dst=%s msg=\"found "
			    "running from before: waiting for both hosts' connections\"",
			    (long long)st.plan_id, st.seq, st.vm_name, st.src, st.dst);
		}
		return;
	}
	if (!(rj = calloc(1, sizeof(*rj))))
		return;
	rj->vm = e->vm;
	rj->plan_id = st.plan_id;
	rj->seq = st.seq;
	(void)snprintf(rj->uuid, sizeof(rj->uuid), "%s", st.vm_uuid);
	rj->conn[0] = vm_host_conn_ref(e->vm, st.src);
	rj->conn[1] = vm_host_conn_ref(e->vm, st.dst);
	if (!rj->conn[0] || !rj->conn[1] ||
	    action_submit(e->bs->action, st.src, &e->resume_type, rj, 0, &err) < 0) {
		resume_free(rj);
		return; /* the next tick asks again */
	}
	o->checking = true;
}

/* Copy a job's latest sample into its row; the post-copy switch and, now and then, the
 * progress as events. */
static void
progress_one(struct vm_exec *e, struct exec_job *j, struct vm_step_rec st)
{
	struct migrate_sample s;
	bool switched;
	char why[MIGRATE_WHY_MAX];
	int64_t now = (int64_t)loop_now_ms();

	vm_migrate_progress(j->m, &s, &switched, why, sizeof(why));
	if (!s.data_total && !switched)
		return;
	st.data_total = s.data_total;
	st.data_processed = s.data_processed;
	st.data_remaining = s.data_remaining;
	st.downtime_ms = s.downtime_ms;
	st.postcopy = switched;
	step_write(e, &st);
	if (switched && !j->postcopy_told) {
		j->postcopy_told = true;
		step_event(e, &st, true, "post-copy: %s", why);
	}
	if (now - j->progress_event_ms >= VM_EXEC_PROGRESS_EVENT_MS) {
		j->progress_event_ms = now;
		step_event(e, &st, false, "%lld of %lld MiB sent, %lld MiB left, downtime %lld ms",
		    (long long)(s.data_processed >> 20), (long long)(s.data_total >> 20),
		    (long long)(s.data_remaining >> 20), (long long)s.downtime_ms);
	}
}

struct active_scan {
	char names[MAX_REASON];
	unsigned n;
};

static int
active_one(const struct vm_domain_rec *d, void *userdata)
{
	struct active_scan *a = userdata;
	size_t len = strlen(a->names);

	if (strcmp(d->state, "shutoff") == 0 || strcmp(d->state, "crashed") == 0)
		return 0;
	if (a->n++ < 4)
		(void)snprintf(a->names + len, sizeof(a->names) - len, "%s%s", len ? ", " : "",
		    d->name);
	return 0;
}

/* Whether host's last listing has active domains; why names them. */
static bool
host_has_active(struct vm_exec *e, const char *host, char *why, size_t size)
{
	struct active_scan a = { "", 0 };

	(void)store_vm_domain_foreach(e->bs->store, host, active_one, &a);
	if (!a.n)
		return false;
	(void)snprintf(why, size, "%s still runs %u VM%s (%.*s%s)", host, a.n,
	    a.n > 1 ? "s" : "", MAX_REASON / 2, a.names, a.n > 4 ? ", ..." : "");
	return true;
}

/* The node off, as the admin's power off does it: desired state for the controller. */
static void
start_power_off(struct vm_exec *e, struct vm_step_rec st)
{
	struct node_rec n;
	char why[MAX_REASON];

	st.attempts++;
	st.started_ms = wall_ms();
	if (store_node_get(e->bs->store, st.src, &n) < 0) {
		step_end(e, &st, "failed", "no such node");
		return;
	}
	if (n.hold) {
		step_end(e, &st, "failed", "held by an admin: not powered off");
		step_event(e, &st, false, "not powered off: held by an admin");
		return;
	}
	/* Only migrations of this plan were waited for: a guest started there since would
	 * die with the host. The last listing must show none active. */
	if (host_has_active(e, st.src, why, sizeof(why))) {
		step_end(e, &st, "failed", why);
		step_event(e, &st, false, "not powered off: %s", why);
		return;
	}
	if (strcmp(n.want_power, "off") != 0) {
		strcpy(n.want_power, "off");
		n.retry_at_ms = 0;
		(void)store_node_update_ctrl(e->bs->store, &n);
		(void)store_event_add(e->bs->store, n.name, "want-off", st.reason,
		    (int64_t)time(NULL));
		notify(&e->bs->notify, NOTIFY_NODE);
	}
	step_end(e, &st, "done", NULL);
	step_event(e, &st, false, "power off asked (plan %lld): %s", (long long)st.plan_id,
	    st.reason);
	log_notice("event=vm_plan plan=%lld seq=%u node=%s msg=\"power off: %s\"",
	    (long long)st.plan_id, st.seq, st.src, st.reason);
}

/* The steps of the unfinished plans, in the executor's order. */
struct step_buf {
	struct vm_step_rec *v;
	size_t n, cap;
	bool capped;
};

static int
collect_one(const struct vm_step_rec *st, void *userdata)
{
	struct step_buf *b = userdata;

	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		struct vm_step_rec *v;

		if (b->n >= MAX_VM_EXEC_STEPS) {
			b->capped = true;
			return -1; /* stop */
		}
		if (cap > MAX_VM_EXEC_STEPS)
			cap = MAX_VM_EXEC_STEPS;
		if (!(v = reallocarray(b->v, cap, sizeof(*v))))
			return -ENOMEM;
		b->v = v;
		b->cap = cap;
	}
	b->v[b->n++] = *st;
	return 0;
}

static int
steps_load(struct vm_exec *e, struct step_buf *b)
{
	int r;

	b->n = 0;
	b->capped = false;
	r = store_vm_step_foreach(e->bs->store, 0, collect_one, b);
	if (r == -ENOMEM || (r < 0 && r != -1))
		return r < 0 ? r : -EIO;
	if (b->capped && !e->cap_logged) {
		e->cap_logged = true;
		log_warning("event=vm_exec max=%d msg=\"more unfinished steps than "
		    "MAX_VM_EXEC_STEPS: the rest wait for these to end\"", MAX_VM_EXEC_STEPS);
	}
	return 0;
}

/* A power-off whose host a VM of its plan could not leave never runs: cancelled, why. */
static void
cancel_blocked_power_offs(struct vm_exec *e, const struct step_buf *b)
{
	for (size_t i = 0; i < b->n; i++) {
		struct vm_step_rec st = b->v[i];
		char why[MAX_REASON];

		if (strcmp(st.action, "power-off") != 0 || !exec_step_state_is(&st, "pending"))
			continue;
		for (size_t k = 0; k < b->n; k++) {
			const struct vm_step_rec *m = &b->v[k];

			if (m->plan_id != st.plan_id || m->seq >= st.seq || !exec_step_is_migrate(m) ||
			    strcmp(m->src, st.src) != 0 ||
			    !(exec_step_state_is(m, "failed") || exec_step_state_is(m, "cancelled")))
				continue;
			(void)snprintf(why, sizeof(why), "not powered off: %s did not leave it (%s)",
			    m->vm_name, m->state);
			step_end(e, &st, "cancelled", why);
			step_event(e, &st, false, "%s", why);
			break;
		}
	}
}

struct plan_ctx {
	struct vm_exec *e;
	const struct step_buf *b;
};

/* A plan's state from its steps'. */
static int
plan_one(const struct vm_plan_rec *p, void *userdata)
{
	struct plan_ctx *pc = userdata;
	unsigned pending = 0, running = 0, done = 0, failed = 0, cancelled = 0;
	const struct vm_step_rec *first_failed = NULL;
	struct vm_plan_rec np = *p;
	const char *state;

	for (size_t i = 0; i < pc->b->n; i++) {
		const struct vm_step_rec *st = &pc->b->v[i];

		if (st->plan_id != p->id)
			continue;
		if (exec_step_state_is(st, "pending"))
			pending++;
		else if (exec_step_state_is(st, "running"))
			running++;
		else if (exec_step_state_is(st, "done"))
			done++;
		else if (exec_step_state_is(st, "failed")) {
			failed++;
			if (!first_failed || st->seq < first_failed->seq)
				first_failed = st;
		} else if (exec_step_state_is(st, "cancelled"))
			cancelled++;
	}
	/* A plan past the scan's cap has steps it did not see: leave it as it is. */
	if (pc->b->capped && !pending && !running)
		return 0;
	if (running)
		state = "running";
	else if (pending)
		state = done || failed || cancelled ? "running" : "pending";
	else if (failed)
		state = "failed";
	else if (cancelled)
		state = "cancelled";
	else
		state = "done";
	if (strcmp(state, p->state) == 0)
		return 0;
	(void)snprintf(np.state, sizeof(np.state), "%s", state);
	if (!running && !pending) {
		np.ended_ms = wall_ms();
		if (first_failed)
			(void)snprintf(np.reason, sizeof(np.reason), "%u of %u steps failed; %s: %.*s",
			    failed, done + failed + cancelled, first_failed->vm_name[0] ?
			    first_failed->vm_name : first_failed->src, MAX_REASON / 2,
			    first_failed->reason);
	}
	if (store_vm_plan_put(pc->e->bs->store, &np) < 0) {
		log_err("event=vm_plan plan=%lld msg=\"state not written\"", (long long)p->id);
		return 0;
	}
	log_kv(strcmp(state, "failed") == 0 ? LOG_WARNING : LOG_NOTICE,
	    "event=vm_plan plan=%lld strategy=%s state=%s done=%u failed=%u cancelled=%u "
	    "msg=\"%s\"", (long long)p->id, p->strategy, state, done, failed, cancelled,
	    np.reason);
	return 0;
}

void
vm_exec_tick(struct vm *vm)
{
	struct vm_exec *e = vm_exec_of(vm);
	const struct config *cfg;
	struct step_buf b = { 0 };
	struct exec_limits lim;
	struct plan_ctx pc;
	bool *start = NULL;
	int n;

	if (!e || !cluster_may_act(e->bs->cluster))
		return;
	cfg = &e->bs->cfg;
	if (steps_load(e, &b) < 0)
		goto out;
	/* Running steps: progress of ours, libvirt's truth for the others (resume). */
	for (size_t i = 0; i < b.n; i++) {
		struct exec_job *j;

		if (!exec_step_state_is(&b.v[i], "running"))
			continue;
		if ((j = job_find(e, b.v[i].plan_id, b.v[i].seq)))
			progress_one(e, j, b.v[i]);
		else
			resume_one(e, b.v[i]);
	}
	if (steps_load(e, &b) < 0)
		goto out;
	cancel_blocked_power_offs(e, &b);
	lim = (struct exec_limits){ .max = cfg->vm_migrations_max,
		.per_host = cfg->vm_migrations_per_host };
	if (b.n && !(start = calloc(b.n, sizeof(*start))))
		goto out;
	n = b.n ? exec_pick(b.v, b.n, &lim, connected_cb, vm, start) : 0;
	for (size_t i = 0; n > 0 && i < b.n; i++) {
		if (!start[i])
			continue;
		if (exec_step_is_migrate(&b.v[i]))
			start_migrate(e, b.v[i]);
		else
			start_power_off(e, b.v[i]);
	}
	if (steps_load(e, &b) < 0)
		goto out;
	pc = (struct plan_ctx){ .e = e, .b = &b };
	(void)store_vm_plan_foreach(e->bs->store, true, plan_one, &pc);
out:
	free(start);
	free(b.v);
}

static void
on_kick(struct loop *l, void *userdata)
{
	struct vm_exec *e = userdata;

	(void)l;
	e->kick_timer = 0;
	vm_exec_tick(e->vm);
}

void
vm_exec_kick(struct vm *vm)
{
	struct vm_exec *e = vm_exec_of(vm);
	int64_t id;

	if (!e || e->kick_timer > 0)
		return;
	id = loop_add_timer(e->bs->loop, loop_now_ms(), on_kick, e);
	if (id > 0)
		e->kick_timer = id; /* else the next tick, within VM_TICK_MS */
}

struct cancel_ctx {
	struct vm_exec *e;
	const char *reason;
	unsigned n;
};

static int
cancel_one(const struct vm_step_rec *s, void *userdata)
{
	struct cancel_ctx *cc = userdata;
	struct vm_step_rec st = *s;
	struct exec_job *j;

	if (exec_step_state_is(&st, "pending")) {
		step_end(cc->e, &st, "cancelled", cc->reason);
		cc->n++;
	} else if (exec_step_state_is(&st, "running")) {
		if ((j = job_find(cc->e, st.plan_id, st.seq))) {
			vm_migrate_cancel(j->m); /* its done() writes the end */
		} else {
			/* From before a restart: the migration, if libvirt still runs it, is
			 * libvirt's to finish or fail; the VM runs once either way. */
			orphan_drop(cc->e, st.plan_id, st.seq);
			step_end(cc->e, &st, "cancelled", "cancelled (a migration from before a "
			    "restart is libvirt's to finish or fail)");
		}
		cc->n++;
	}
	return 0;
}

int
vm_exec_cancel(struct vm *vm, int64_t plan_id, const char *reason)
{
	struct vm_exec *e = vm_exec_of(vm);
	struct cancel_ctx cc;
	struct vm_plan_rec p;
	int r;

	if (!e)
		return -ENOENT;
	if ((r = store_vm_plan_get(e->bs->store, plan_id, &p)) < 0)
		return r;
	if (strcmp(p.state, "pending") != 0 && strcmp(p.state, "running") != 0)
		return -EALREADY;
	cc = (struct cancel_ctx){ .e = e, .reason = reason && reason[0] ? reason : "cancelled" };
	if ((r = store_vm_step_foreach(e->bs->store, plan_id, cancel_one, &cc)) < 0)
		return r;
	log_notice("event=vm_plan plan=%lld steps=%u msg=\"cancel: %s\"", (long long)plan_id,
	    cc.n, cc.reason);
	vm_exec_kick(vm);
	return 0;
}
