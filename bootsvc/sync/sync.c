/* SPDX-License-Identifier: MIT */
/* The sync room (sync.h): a table of versions under way, their rounds on a worker pool,
 * the retries and who waits. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backoff.h"
#include "bootsvc.h"
#include "kind.h"
#include "log.h"
#include "action/work.h"
#include "sync/sync.h"
#include "sync/sync_fetch.h"
#include "sync/sync_limits.h"

struct sync_job {
	struct work_item item;
	struct sync *s;
	struct sync_fetch_in in;
	struct sync_fetch_out out;
};

struct waiter {
	sync_done_fn fn;
	void *userdata;
};

struct entry {
	bool used;
	struct sync *s;         /* the room, for the retry timer */
	char id[SHA256_HEX_SIZE];
	char name[MAX_NODE_NAME];
	struct sync_job *job;   /* a round on a worker; NULL while waiting for the retry */
	int64_t timer;          /* the retry, -1: none */
	uint64_t retry_due_ms;
	struct backoff backoff;
	unsigned rounds;
	char last_error[MAX_ERR_MSG];
	struct waiter waiters[MAX_SYNC_WAITERS];
	unsigned n_waiters;
	bool refused_logged;    /* sync_on_demand's refusal, once */
};

struct sync {
	struct bootsvc *bs;
	struct work *work;
	struct entry e[MAX_SYNC_ACTIVE];
	bool closing;
	/* Versions known to be here (sync_have): any thread reads it. */
	pthread_mutex_t lock;
	char present[MAX_SYNC_PRESENT_CACHE][SHA256_HEX_SIZE];
	uint64_t present_at[MAX_SYNC_PRESENT_CACHE]; /* loop_now_ms() when checked */
	unsigned n_present, next_present;
	bool full_logged;
};

static struct entry *
entry_find(struct sync *s, const char *id)
{
	for (unsigned i = 0; i < MAX_SYNC_ACTIVE; i++)
		if (s->e[i].used && strcmp(s->e[i].id, id) == 0)
			return &s->e[i];
	return NULL;
}

static void
entry_drop(struct sync *s, struct entry *e)
{
	if (e->timer >= 0)
		loop_cancel_timer(s->bs->loop, e->timer);
	memset(e, 0, sizeof(*e));
	e->timer = -1;
	e->s = s;
}

static bool
cache_has(struct sync *s, const char *id)
{
	uint64_t now = loop_now_ms();
	bool yes = false;

	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < s->n_present && !yes; i++)
		yes = strcmp(s->present[i], id) == 0 &&
		    now - s->present_at[i] < SYNC_PRESENT_TTL_MS;
	pthread_mutex_unlock(&s->lock);
	return yes;
}

static void
cache_add(struct sync *s, const char *id)
{
	pthread_mutex_lock(&s->lock);
	/* Full: the oldest goes (a stat more for it later, never a wrong answer). */
	(void)snprintf(s->present[s->next_present], SHA256_HEX_SIZE, "%s", id);
	s->present_at[s->next_present] = loop_now_ms();
	s->next_present = (s->next_present + 1) % MAX_SYNC_PRESENT_CACHE;
	if (s->n_present < MAX_SYNC_PRESENT_CACHE)
		s->n_present++;
	pthread_mutex_unlock(&s->lock);
}

void
sync_forget(struct sync *s, const char *id)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < s->n_present; i++)
		if (strcmp(s->present[i], id) == 0)
			s->present[i][0] = '\0';
	pthread_mutex_unlock(&s->lock);
}

/* The version's role files at its path, each of its manifest's size (what image.add
 * checked): what its nodes fetch. Their hashes were checked when they were synced, or are
 * the node's to check. */
static bool
files_here(const struct image_rec *img)
{
	const struct kind *k = kind_find(img->kind);
	char p[MAX_STORE_PATH + 64];
	struct stat st;

	if (!k)
		return false;
	for (unsigned i = 0; i < img->n_files; i++) {
		const struct kind_role *kr = kind_role(k, img->files[i].role);

		if (!kr)
			return false;
		(void)snprintf(p, sizeof(p), "%s/%s", img->path, kr->file);
		if (stat(p, &st) < 0 || !S_ISREG(st.st_mode) ||
		    (uint64_t)st.st_size != img->files[i].size)
			return false;
	}
	return true;
}

bool
sync_have(struct sync *s, const struct image_rec *img)
{
	if (!s)
		return files_here(img);
	if (cache_has(s, img->id))
		return true;
	if (!files_here(img))
		return false;
	cache_add(s, img->id);
	return true;
}

enum sync_state
sync_state_of(struct sync *s, const struct image_rec *img)
{
	/* Looked at afresh: an admin asks, so the answer is the disk's now. */
	return sync_plan_state(files_here(img), s && entry_find(s, img->id) != NULL);
}

const char *
sync_last_error(struct sync *s, const char *id)
{
	const struct entry *e = s ? entry_find(s, id) : NULL;
	return e ? e->last_error : "";
}

static void job_run(struct work_item *item);
static void job_done(struct work_item *item);

static int
round_start(struct sync *s, struct entry *e, const struct image_rec *img)
{
	struct sync_job *j = calloc(1, sizeof(*j));
	int r;

	if (!j)
		return -ENOMEM;
	j->item.run = job_run;
	j->item.done = job_done;
	j->s = s;
	(void)snprintf(j->in.id, sizeof(j->in.id), "%s", img->id);
	(void)snprintf(j->in.final_dir, sizeof(j->in.final_dir), "%s", img->path);
	for (unsigned i = 0; i < s->bs->cfg.n_peers && i < MAX_PEERS; i++) {
		size_t len = strlen(s->bs->cfg.peers[i]);

		/* "http://b:8080/" and "http://b:8080" name the same server */
		while (len && s->bs->cfg.peers[i][len - 1] == '/')
			len--;
		(void)snprintf(j->in.peers[i], sizeof(j->in.peers[i]), "%.*s", (int)len,
		    s->bs->cfg.peers[i]);
		j->in.n_peers++;
	}
	if ((r = work_submit(s->work, &j->item)) < 0) {
		free(j);
		return r;
	}
	e->job = j;
	e->rounds++;
	return 0;
}

static void
job_run(struct work_item *item)
{
	struct sync_job *j = (struct sync_job *)item;

	sync_fetch_run(&j->in, &item->cancelled, &j->out);
}

/* Tell e's waiters how the round ended; drop e first when drop is set. The waiters are
 * copied out before either: one may start another sync, which may take this entry. */
static void
tell_waiters(struct sync *s, struct entry *e, const struct sync_result *res, bool drop)
{
	struct waiter w[MAX_SYNC_WAITERS];
	unsigned n = e->n_waiters;

	memcpy(w, e->waiters, sizeof(w));
	e->n_waiters = 0;
	if (drop)
		entry_drop(s, e);
	for (unsigned i = 0; i < n; i++)
		w[i].fn(s->bs, res, w[i].userdata);
}

static void retry(struct loop *l, void *userdata);

static void
job_done(struct work_item *item)
{
	struct sync_job *j = (struct sync_job *)item;
	struct sync *s = j->s;
	struct entry *e = entry_find(s, j->in.id);
	struct sync_result res = { 0 };
	struct metrics *m = &s->bs->metrics;
	char safe[MAX_ERR_MSG];

	if (!e) {
		free(j);
		return;
	}
	e->job = NULL;
	(void)snprintf(res.id, sizeof(res.id), "%s", j->in.id);
	(void)snprintf(res.name, sizeof(res.name), "%s", e->name);
	res.r = j->out.r;
	res.bytes = j->out.bytes;
	res.kept = j->out.kept;
	res.refetched = j->out.refetched;
	res.ms = j->out.ms;
	(void)snprintf(res.peer, sizeof(res.peer), "%s", j->out.peer);
	m->sync_bytes += j->out.bytes;
	if (j->out.r == 0) {
		m->sync_versions++;
		cache_add(s, j->in.id);
		log_notice("event=image_synced image=%s id=%s peer=%s bytes=%llu kept=%llu "
		    "refetched=%llu ms=%llu rounds=%u", e->name, j->in.id, j->out.peer,
		    (unsigned long long)j->out.bytes, (unsigned long long)j->out.kept,
		    (unsigned long long)j->out.refetched, (unsigned long long)j->out.ms,
		    e->rounds);
		free(j);
		tell_waiters(s, e, &res, true);
		return;
	}
	(void)snprintf(res.error, sizeof(res.error), "%s", j->out.err.msg);
	(void)snprintf(e->last_error, sizeof(e->last_error), "%s", j->out.err.msg);
	if (s->closing || j->out.r == -ECANCELED) {
		free(j);
		tell_waiters(s, e, &res, true);
		return;
	}
	m->sync_failures++;
	res.retry_ms = backoff_next(&e->backoff, 0);
	e->retry_due_ms = loop_now_ms() + res.retry_ms;
	log_warning("event=image_sync_failed image=%s id=%s bytes=%llu kept=%llu ms=%llu "
	    "err=%s msg=\"%s, will retry in %llu ms\"", e->name, j->in.id,
	    (unsigned long long)j->out.bytes, (unsigned long long)j->out.kept,
	    (unsigned long long)j->out.ms, dl_errno_name(j->out.r),
	    log_safe(safe, sizeof(safe), j->out.err.msg), (unsigned long long)res.retry_ms);
	e->timer = loop_add_timer(s->bs->loop, e->retry_due_ms, retry, e);
	if (e->timer < 0)
		e->timer = -1;
	free(j);
	tell_waiters(s, e, &res, false);
}

/* The backoff ran out: the version is looked up again (it may have been removed, or
 * copied here by hand meanwhile) and a new round starts. */
static void
retry(struct loop *l, void *userdata)
{
	struct entry *e = userdata;
	struct sync *s = e->s;
	struct image_rec img;
	int r;

	(void)l;
	e->timer = -1;
	if (store_image_get(s->bs->store, e->id, &img) < 0 || files_here(&img)) {
		log_info("event=image_sync_dropped id=%s msg=\"%s\"", e->id,
		    files_here(&img) ? "here now" : "no longer registered");
		entry_drop(s, e);
		return;
	}
	if ((r = round_start(s, e, &img)) < 0) {
		/* A full queue is a busy pool: the next backoff step asks again. */
		e->retry_due_ms = loop_now_ms() + backoff_next(&e->backoff, 0);
		e->timer = loop_add_timer(s->bs->loop, e->retry_due_ms, retry, e);
		if (e->timer < 0)
			e->timer = -1;
	}
}

int
sync_start(struct sync *s, const struct image_rec *img, const char *why, sync_done_fn fn,
    void *userdata, struct dl_err *reterr)
{
	struct entry *e;
	int r;

	if (files_here(img))
		return 1;
	if (!s)
		return dl_err_set(reterr, -ENOTSUP, "bootsvc has no sync room");
	e = entry_find(s, img->id);
	if (!s->bs->cfg.n_peers)
		return dl_err_set(reterr, -ENOENT, "image %s@%.12s is not on this server and "
		    "bootsvc.conf names no peers to fetch it from", img->name, img->id);
	if (!e) {
		for (unsigned i = 0; i < MAX_SYNC_ACTIVE && !e; i++)
			if (!s->e[i].used)
				e = &s->e[i];
		if (!e)
			return dl_err_set(reterr, -EAGAIN, "%d versions are being synced already; "
			    "ask again later", MAX_SYNC_ACTIVE);
		entry_drop(s, e);
		e->used = true;
		e->backoff = (struct backoff)BACKOFF_INIT(SYNC_RETRY_MIN_MS, SYNC_RETRY_MAX_MS,
		    UINT64_MAX);
		(void)snprintf(e->id, sizeof(e->id), "%s", img->id);
		(void)snprintf(e->name, sizeof(e->name), "%s", img->name);
		log_notice("event=image_sync_start image=%s id=%s by=\"%s\" peers=%u", img->name,
		    img->id, why, s->bs->cfg.n_peers);
	}
	if (fn) {
		if (e->n_waiters == MAX_SYNC_WAITERS)
			return dl_err_set(reterr, -EAGAIN, "image %s@%.12s: %d callers wait for it "
			    "already", img->name, img->id, MAX_SYNC_WAITERS);
		e->waiters[e->n_waiters++] = (struct waiter){ fn, userdata };
	}
	if (e->job)
		return 0;
	/* Waiting for a retry: whoever asks now gets a round now. */
	if (e->timer >= 0) {
		loop_cancel_timer(s->bs->loop, e->timer);
		e->timer = -1;
	}
	if ((r = round_start(s, e, img)) < 0) {
		if (fn)
			e->n_waiters--;
		if (!e->rounds) {
			entry_drop(s, e);
		} else {
			/* It was under way: its retry goes on. */
			e->retry_due_ms = loop_now_ms() + backoff_next(&e->backoff, 0);
			e->timer = loop_add_timer(s->bs->loop, e->retry_due_ms, retry, e);
			if (e->timer < 0)
				e->timer = -1;
		}
		return dl_err_set(reterr, r, "image %s@%.12s: no worker free to sync it: %s",
		    img->name, img->id, strerror(-r));
	}
	return 0;
}

void
sync_on_demand(struct sync *s, const struct image_rec *img, const char *node)
{
	struct dl_err err = { 0 };
	struct entry *e = s ? entry_find(s, img->id) : NULL;
	char why[MAX_NODE_NAME + 8];

	if (!s || e)
		return; /* under way, or waiting for its retry: the node keeps waiting */
	(void)snprintf(why, sizeof(why), "node %s", node[0] ? node : "?");
	if (sync_start(s, img, why, NULL, NULL, &err) >= 0) {
		s->full_logged = false;
	} else if (!s->full_logged) {
		/* Once: every poll of every waiting node would say it again. */
		s->full_logged = true;
		log_warning("event=image_sync_refused image=%s id=%s node=%s msg=\"%s\"",
		    img->name, img->id, node[0] ? node : "-", err.msg);
	}
}

int
sync_new(struct bootsvc *bs, struct sync **ret, struct dl_err *reterr)
{
	struct sync *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return dl_err_set(reterr, -ENOMEM, "sync: out of memory");
	s->bs = bs;
	pthread_mutex_init(&s->lock, NULL);
	for (unsigned i = 0; i < MAX_SYNC_ACTIVE; i++) {
		s->e[i].timer = -1;
		s->e[i].s = s;
	}
	if ((r = sync_fetch_global_init()) < 0 ||
	    (r = work_new(bs->loop, "sync", SYNC_WORKERS, MAX_SYNC_ACTIVE, &s->work)) < 0) {
		pthread_mutex_destroy(&s->lock);
		free(s);
		return dl_err_set(reterr, r, "sync: cannot start its workers: %s", strerror(-r));
	}
	*ret = s;
	return 0;
}

struct sync *
sync_free(struct sync *s)
{
	if (!s)
		return NULL;
	s->closing = true;
	for (unsigned i = 0; i < MAX_SYNC_ACTIVE; i++)
		if (s->e[i].used && s->e[i].job)
			atomic_store(&s->e[i].job->item.cancelled, true);
	/* Joins the workers; their rounds come back through job_done as cancelled. */
	s->work = work_free(s->work);
	for (unsigned i = 0; i < MAX_SYNC_ACTIVE; i++)
		if (s->e[i].used) {
			struct sync_result res = { .r = -ECANCELED };

			(void)snprintf(res.id, sizeof(res.id), "%s", s->e[i].id);
			(void)snprintf(res.error, sizeof(res.error), "bootsvc is stopping");
			tell_waiters(s, &s->e[i], &res, true);
		}
	pthread_mutex_destroy(&s->lock);
	free(s);
	return NULL;
}
