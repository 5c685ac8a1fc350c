/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libvirt/virterror.h>

#include "log.h"
#include "vm/vm_internal.h"
#include "vm/vm_migrate.h"

/* The watcher of one migration: the job's domain, the pool's cancel flag, and its own
 * stop flag set by the worker once the migration call returned. */
struct watcher {
	struct vm_migrate *m;
	virDomainPtr dom;
	const atomic_bool *pool_cancelled;
	pthread_mutex_t stop_lock;
	pthread_cond_t stop_cond;
	bool stop;
};

static int64_t
mono_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct vm_migrate *
vm_migrate_new(void)
{
	struct vm_migrate *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	(void)pthread_mutex_init(&m->lock, NULL);
	return m;
}

void
vm_migrate_free(struct vm_migrate *m)
{
	if (!m)
		return;
	if (m->src_conn)
		(void)virConnectClose(m->src_conn);
	if (m->dst_conn)
		(void)virConnectClose(m->dst_conn);
	(void)pthread_mutex_destroy(&m->lock);
	free(m);
}

void
vm_migrate_progress(struct vm_migrate *m, struct migrate_sample *ret, bool *ret_switched,
    char *why, size_t why_size)
{
	pthread_mutex_lock(&m->lock);
	*ret = m->last;
	*ret_switched = m->switched;
	if (why && why_size)
		(void)snprintf(why, why_size, "%s", m->why);
	pthread_mutex_unlock(&m->lock);
}

void
vm_migrate_cancel(struct vm_migrate *m)
{
	atomic_store(&m->cancel, true);
}

static int64_t
param_ll(virTypedParameterPtr p, int n, const char *name)
{
	unsigned long long v = 0;

	if (virTypedParamsGetULLong(p, n, name, &v) != 1)
		return 0;
	return v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

/* One sample of the job under way; false when there is none (not started, or ended). */
static bool
sample(virDomainPtr dom, struct migrate_sample *s)
{
	virTypedParameterPtr p = NULL;
	int n = 0, type = VIR_DOMAIN_JOB_NONE;

	if (virDomainGetJobStats(dom, &type, &p, &n, 0) < 0)
		return false;
	memset(s, 0, sizeof(*s));
	s->at_ms = mono_ms();
	if (type != VIR_DOMAIN_JOB_NONE) {
		s->data_total = param_ll(p, n, VIR_DOMAIN_JOB_DATA_TOTAL);
		s->data_processed = param_ll(p, n, VIR_DOMAIN_JOB_DATA_PROCESSED);
		s->data_remaining = param_ll(p, n, VIR_DOMAIN_JOB_DATA_REMAINING);
		s->downtime_ms = param_ll(p, n, VIR_DOMAIN_JOB_DOWNTIME);
	}
	virTypedParamsFree(p, n);
	return true;
}

/* Wait up to ms for the stop flag; true when stopped. */
static bool
watcher_wait(struct watcher *w, int64_t ms)
{
	struct timespec until;
	bool stop;

	(void)clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&w->stop_lock);
	while (!w->stop && pthread_cond_timedwait(&w->stop_cond, &w->stop_lock, &until) == 0)
		;
	stop = w->stop;
	pthread_mutex_unlock(&w->stop_lock);
	return stop;
}

static void *
watcher_main(void *arg)
{
	struct watcher *w = arg;
	struct vm_migrate *m = w->m;
	struct migrate_watch mw;
	bool abort_sent = false;
	char msg[MAX_REASON];

	migrate_watch_init(&mw, mono_ms());
	while (!watcher_wait(w, VM_MIGRATE_SAMPLE_MS)) {
		struct migrate_sample s;
		struct migrate_decision d;

		if (!abort_sent && (atomic_load(&m->cancel) || atomic_load(w->pool_cancelled))) {
			/* After a switch to post-copy an abort is refused by libvirt (the guest
			 * runs on the destination already): it then finishes, as it must. */
			abort_sent = true;
			if (virDomainAbortJob(w->dom) < 0) {
				vm_libvirt_error(msg, sizeof(msg));
				log_warning("event=vm_migrate vm=%s src=%s dst=%s msg=\"abort "
				    "refused: %s\"", m->name, m->src, m->dst, msg);
			}
			continue;
		}
		if (!sample(w->dom, &s))
			continue; /* the job ended between the call's return and our stop */
		pthread_mutex_lock(&m->lock);
		s.postcopy = m->switched;
		m->last = s;
		d = migrate_watch_decide(&mw, &s, &m->policy);
		if (d.why[0])
			(void)snprintf(m->why, sizeof(m->why), "%s", d.why);
		pthread_mutex_unlock(&m->lock);
		switch (d.verdict) {
		case MIGRATE_POSTCOPY:
			if (virDomainMigrateStartPostCopy(w->dom, 0) < 0) {
				vm_libvirt_error(msg, sizeof(msg));
				log_warning("event=vm_migrate vm=%s src=%s dst=%s msg=\"post-copy "
				    "refused: %s; going on until the deadline\"", m->name, m->src,
				    m->dst, msg);
				break;
			}
			pthread_mutex_lock(&m->lock);
			m->switched = true;
			pthread_mutex_unlock(&m->lock);
			log_notice("event=vm_migrate vm=%s src=%s dst=%s msg=\"%s\"", m->name,
			    m->src, m->dst, d.why);
			break;
		case MIGRATE_ABORT:
			abort_sent = true;
			pthread_mutex_lock(&m->lock);
			m->aborted = true;
			pthread_mutex_unlock(&m->lock);
			log_warning("event=vm_migrate vm=%s src=%s dst=%s msg=\"aborting: %s\"",
			    m->name, m->src, m->dst, d.why);
			if (virDomainAbortJob(w->dom) < 0) {
				vm_libvirt_error(msg, sizeof(msg));
				log_warning("event=vm_migrate vm=%s src=%s dst=%s msg=\"abort "
				    "refused: %s\"", m->name, m->src, m->dst, msg);
			}
			break;
		case MIGRATE_CONTINUE:
		default:
			if (d.stalled)
				log_info("event=vm_migrate vm=%s src=%s dst=%s msg=\"%s\"", m->name,
				    m->src, m->dst, d.why);
			break;
		}
	}
	return NULL;
}

/* The completed job's downtime and size, read on the destination (the source forgot the
 * domain with UNDEFINE_SOURCE). Best effort: 0 when it cannot say. */
static void
completed_stats(struct vm_migrate *m)
{
	virTypedParameterPtr p = NULL;
	virDomainPtr d;
	int n = 0, type;

	if (!m->dst_conn || !(d = virDomainLookupByUUIDString(m->dst_conn, m->uuid)))
		return;
	if (virDomainGetJobStats(d, &type, &p, &n, VIR_DOMAIN_JOB_STATS_COMPLETED) == 0) {
		m->downtime_ms = param_ll(p, n, VIR_DOMAIN_JOB_DOWNTIME);
		m->data_total = param_ll(p, n, VIR_DOMAIN_JOB_DATA_TOTAL);
		virTypedParamsFree(p, n);
	}
	virDomainFree(d);
}

/* Whether the domain runs on the destination (its connection, the job's own). */
static bool
runs_on_dst(struct vm_migrate *m)
{
	virDomainPtr d;
	int state = -1, reason;

	if (!m->dst_conn || !(d = virDomainLookupByUUIDString(m->dst_conn, m->uuid)))
		return false;
	if (virDomainGetState(d, &state, &reason, 0) < 0)
		state = -1;
	virDomainFree(d);
	return state == VIR_DOMAIN_RUNNING;
}

/* A job already under way on the domain (a migration bootsvc started before it was
 * restarted, which the source's libvirtd carries on peer to peer): wait for it to end,
 * within the deadline, rather than fail against it. 1 when that earlier migration took
 * it to the destination, 0 when the domain is free to migrate, -ECANCELED, -ETIMEDOUT. */
static int
wait_earlier_job(struct vm_migrate *m, virDomainPtr dom, const atomic_bool *cancelled)
{
	int64_t t0 = mono_ms();
	virDomainJobInfo ji;
	bool logged = false;

	for (;;) {
		if (virDomainGetJobInfo(dom, &ji) < 0 || ji.type == VIR_DOMAIN_JOB_NONE)
			break;
		if (!logged) {
			logged = true;
			log_notice("event=vm_migrate vm=%s src=%s msg=\"a job runs on it already "
			    "(a migration from before a restart?): waiting for it\"", m->name,
			    m->src);
		}
		if (atomic_load(&m->cancel) || atomic_load(cancelled))
			return -ECANCELED;
		if (mono_ms() - t0 > m->policy.deadline_ms)
			return -ETIMEDOUT;
		(void)nanosleep(&(struct timespec){ .tv_nsec = VM_MIGRATE_SAMPLE_MS * 1000000L },
		    NULL);
	}
	if (logged && virDomainIsActive(dom) != 1 && runs_on_dst(m))
		return 1;
	return 0;
}

int
vm_migrate_run(void *payload, const atomic_bool *cancelled, struct dl_err *reterr)
{
	struct vm_migrate *m = payload;
	struct watcher w = { .m = m, .pool_cancelled = cancelled };
	virTypedParameterPtr params = NULL;
	int nparams = 0, maxparams = 0, rc, r;
	unsigned flags = VIR_MIGRATE_LIVE | VIR_MIGRATE_PEER2PEER | VIR_MIGRATE_PERSIST_DEST |
	    VIR_MIGRATE_UNDEFINE_SOURCE | VIR_MIGRATE_AUTO_CONVERGE;
	pthread_condattr_t ca;
	pthread_t th;
	char msg[MAX_REASON];
	bool aborted;

	m->cancelled = false;
	m->downtime_ms = m->data_total = 0;
	if (!(w.dom = virDomainLookupByUUIDString(m->src_conn, m->uuid))) {
		vm_libvirt_error(msg, sizeof(msg));
		/* Already moved (by a migration from before a restart): done, not failed. */
		if (runs_on_dst(m)) {
			completed_stats(m);
			return 0;
		}
		return dl_err_set(reterr, -ENOENT, "VM '%s' is not on %s: %s", m->name, m->src,
		    msg);
	}
	if ((r = wait_earlier_job(m, w.dom, cancelled)) != 0) {
		virDomainFree(w.dom);
		if (r == 1) {
			completed_stats(m);
			return 0;
		}
		m->cancelled = r == -ECANCELED;
		return dl_err_set(reterr, r, "VM '%s' has a job of its own on %s that did not end",
		    m->name, m->src);
	}
	/* POSTCOPY only allows a later switch (virDomainMigrateStartPostCopy); the copy
	 * starts as pre-copy either way. */
	if (m->policy.postcopy_allowed)
		flags |= VIR_MIGRATE_POSTCOPY;
	if (virTypedParamsAddString(&params, &nparams, &maxparams, VIR_MIGRATE_PARAM_URI,
	    m->stream_uri) < 0) {
		virDomainFree(w.dom);
		return dl_err_set(reterr, -ENOMEM, "migration parameters: out of memory");
	}
	(void)pthread_condattr_init(&ca);
	(void)pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	(void)pthread_cond_init(&w.stop_cond, &ca);
	(void)pthread_condattr_destroy(&ca);
	(void)pthread_mutex_init(&w.stop_lock, NULL);
	/* Without a watcher the migration has no deadline and cannot be cancelled: do not
	 * start one blind. */
	if ((r = -pthread_create(&th, NULL, watcher_main, &w)) < 0) {
		r = dl_err_set(reterr, r, "migration watcher: %s", strerror(-r));
		goto out;
	}
	(void)pthread_setname_np(th, "vm-migrate-w");
	rc = virDomainMigrateToURI3(w.dom, m->dst_uri, params, (unsigned)nparams, flags);
	if (rc < 0)
		vm_libvirt_error(msg, sizeof(msg));
	pthread_mutex_lock(&w.stop_lock);
	w.stop = true;
	pthread_cond_signal(&w.stop_cond);
	pthread_mutex_unlock(&w.stop_lock);
	(void)pthread_join(th, NULL);
	pthread_mutex_lock(&m->lock);
	aborted = m->aborted;
	pthread_mutex_unlock(&m->lock);
	if (rc == 0) {
		completed_stats(m);
		r = 0;
	} else if (atomic_load(&m->cancel) || atomic_load(cancelled)) {
		m->cancelled = true;
		r = dl_err_set(reterr, -ECANCELED, "cancelled (%s)", msg);
	} else if (aborted) {
		pthread_mutex_lock(&m->lock);
		r = dl_err_set(reterr, -ETIMEDOUT, "%s", m->why);
		pthread_mutex_unlock(&m->lock);
	} else
		r = dl_err_set(reterr, -EIO, "%s", msg);
out:
	(void)pthread_mutex_destroy(&w.stop_lock);
	(void)pthread_cond_destroy(&w.stop_cond);
	virTypedParamsFree(params, nparams);
	virDomainFree(w.dom);
	return r;
}
