/* SPDX-License-Identifier: MIT */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>

#include "log.h"
#include "macro.h"
#include "action/work.h"

struct work {
	struct loop *loop;
	char name[11];
	pthread_t *threads;
	unsigned n_threads;
	unsigned max_queue;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct work_item *queue_head, *queue_tail; /* to run */
	unsigned queued;
	unsigned running;
	struct work_item *done_head, *done_tail;   /* finished, for the loop */
	bool stopping;
	int efd;
};

static void
list_append(struct work_item **head, struct work_item **tail, struct work_item *j)
{
	j->next = NULL;
	if (*tail)
		(*tail)->next = j;
	else
		*head = j;
	*tail = j;
}

static void *
worker(void *arg)
{
	struct work *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		struct work_item *j;
		bool was_empty;

		while (!w->queue_head && !w->stopping)
			pthread_cond_wait(&w->cond, &w->lock);
		if (!w->queue_head && w->stopping)
			break;
		j = w->queue_head;
		w->queue_head = j->next;
		if (!w->queue_head)
			w->queue_tail = NULL;
		w->queued--;
		w->running++;
		pthread_mutex_unlock(&w->lock);

		atomic_store(&j->started_ms, loop_now_ms());

		if (!atomic_load(&j->cancelled))
			j->run(j);

		pthread_mutex_lock(&w->lock);
		w->running--;
		was_empty = !w->done_head;
		list_append(&w->done_head, &w->done_tail, j);
		/* A burst of results costs one wakeup: poke only on empty -> non-empty. */
		if (was_empty) {
			uint64_t one = 1;
			(void)!write(w->efd, &one, sizeof(one));
		}
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static void
on_done(struct loop *l, int fd, uint32_t events, void *userdata)
{
	struct work *w = userdata;
	struct work_item *list;
	uint64_t v;

	(void)l;
	(void)events;
	(void)!read(fd, &v, sizeof(v));
	pthread_mutex_lock(&w->lock);
	list = w->done_head;
	w->done_head = w->done_tail = NULL;
	pthread_mutex_unlock(&w->lock);
	/* Handled outside the lock: done() may submit new jobs. */
	while (list) {
		struct work_item *j = list;
		list = j->next;
		j->done(j);
	}
}

int
work_new(struct loop *l, const char *name, unsigned n, unsigned max_queue,
    struct work **ret)
{
	struct work *w = calloc(1, sizeof(*w));
	sigset_t all, old;
	int r;

	if (!w)
		return -ENOMEM;
	w->loop = l;
	(void)snprintf(w->name, sizeof(w->name), "%s", name);
	w->max_queue = max_queue;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	w->threads = calloc(n, sizeof(pthread_t));
	if (w->efd < 0 || !w->threads) {
		r = w->efd < 0 ? negative_errno() : -ENOMEM;
		goto fail;
	}
	r = loop_add_fd(l, w->efd, EPOLLIN, on_done, w);
	if (r < 0)
		goto fail;
	/* Workers never take signals: the loop's signalfd does. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (unsigned i = 0; i < n; i++) {
		char tname[16];
		if ((r = -pthread_create(&w->threads[i], NULL, worker, w)) < 0)
			break;
		/* Named threads show which pool a stuck call is in (top -H, gdb). */
		/* at most 256 threads: three digits */
		(void)snprintf(tname, sizeof(tname), "%s/%u", w->name, i % 1000u);
		(void)pthread_setname_np(w->threads[i], tname);
		w->n_threads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0) {
		*ret = NULL;
		work_free(w);
		return r;
	}
	*ret = w;
	return 0;
fail:
	if (w->efd >= 0)
		close(w->efd);
	free(w->threads);
	free(w);
	return r;
}

struct work *
work_free(struct work *w)
{
	if (!w)
		return NULL;
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	for (struct work_item *j = w->queue_head; j; j = j->next)
		atomic_store(&j->cancelled, true);
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	for (unsigned i = 0; i < w->n_threads; i++)
		pthread_join(w->threads[i], NULL);
	/* Hand back what finished so owners free their jobs. */
	on_done(w->loop, w->efd, EPOLLIN, w);
	loop_del_fd(w->loop, w->efd);
	close(w->efd);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	free(w->threads);
	free(w);
	return NULL;
}

int
work_submit(struct work *w, struct work_item *j)
{
	pthread_mutex_lock(&w->lock);
	if (w->queued >= w->max_queue || w->stopping) {
		pthread_mutex_unlock(&w->lock);
		return -EAGAIN;
	}
	atomic_store(&j->cancelled, false);
	atomic_store(&j->started_ms, 0);
	list_append(&w->queue_head, &w->queue_tail, j);
	w->queued++;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	return 0;
}

unsigned
work_pending(const struct work *w)
{
	struct work *m = (struct work *)w;
	unsigned n;

	pthread_mutex_lock(&m->lock);
	n = m->queued + m->running;
	pthread_mutex_unlock(&m->lock);
	return n;
}
