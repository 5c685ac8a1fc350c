/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>

#include "log.h"
#include "loop.h"
#include "macro.h"

/* Most fds watched at once, sized for max_connections plus daemons and children. */
#define MAX_LOOP_EVENTS 256

struct watch {
	int fd;
	loop_fd_fn fn;
	void *userdata;
	bool dead; /* removed during dispatch; freed after it */
	struct watch *next;
};

struct timer {
	int64_t id;
	uint64_t due;
	loop_timer_fn fn;
	void *userdata;
};

struct sigwatch {
	int sig;
	loop_signal_fn fn;
	void *userdata;
};

struct loop {
	int epfd;
	int sigfd;
	sigset_t sigmask;
	struct watch *watches; /* singly linked; fd lookups go through the epoll data ptr */
	struct timer *timers;
	size_t n_timers, cap_timers;
	int64_t next_timer_id;
	struct sigwatch sigs[16];
	size_t n_sigs;
	loop_prepare_fn prepare;
	void *prepare_data;
	bool quit;
	int code;
};

uint64_t
loop_now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int
loop_new(struct loop **ret)
{
	struct loop *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	l->sigfd = -1;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		int r = negative_errno();
		free(l);
		return r;
	}
	sigemptyset(&l->sigmask);
	*ret = l;
	return 0;
}

struct loop *
loop_free(struct loop *l)
{
	if (!l)
		return NULL;
	while (l->watches) {
		struct watch *w = l->watches;
		l->watches = w->next;
		free(w);
	}
	free(l->timers);
	if (l->sigfd >= 0)
		close(l->sigfd);
	close(l->epfd);
	free(l);
	return NULL;
}

static struct watch *
watch_find(struct loop *l, int fd)
{
	for (struct watch *w = l->watches; w; w = w->next)
		if (w->fd == fd && !w->dead)
			return w;
	return NULL;
}

int
loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_fn fn, void *userdata)
{
	struct epoll_event ev = { .events = events };
	struct watch *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	w->fd = fd;
	w->fn = fn;
	w->userdata = userdata;
	ev.data.ptr = w;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int r = negative_errno();
		free(w);
		return r;
	}
	w->next = l->watches;
	l->watches = w;
	return 0;
}

int
loop_mod_fd(struct loop *l, int fd, uint32_t events)
{
	struct watch *w = watch_find(l, fd);
	struct epoll_event ev = { .events = events };

	if (!w)
		return -ENOENT;
	ev.data.ptr = w;
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? negative_errno() : 0;
}

void
loop_del_fd(struct loop *l, int fd)
{
	struct watch *w = watch_find(l, fd);

	if (!w)
		return;
	(void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL); /* fd may already be closed */
	/* Freed after the current dispatch round: its epoll_event may still be pending. */
	w->dead = true;
}

static void
watches_reap(struct loop *l)
{
	struct watch **pp = &l->watches;

	while (*pp) {
		struct watch *w = *pp;
		if (w->dead) {
			*pp = w->next;
			free(w);
		} else
			pp = &w->next;
	}
}

int64_t
loop_add_timer(struct loop *l, uint64_t due_ms, loop_timer_fn fn, void *userdata)
{
	if (l->n_timers == l->cap_timers) {
		size_t cap = l->cap_timers ? l->cap_timers * 2 : 16;
		struct timer *t = reallocarray(l->timers, cap, sizeof(*t));
		if (!t)
			return -ENOMEM;
		l->timers = t;
		l->cap_timers = cap;
	}
	l->timers[l->n_timers] = (struct timer){
		.id = ++l->next_timer_id, .due = due_ms, .fn = fn, .userdata = userdata
	};
	l->n_timers++;
	return l->next_timer_id;
}

void
loop_cancel_timer(struct loop *l, int64_t id)
{
	for (size_t i = 0; i < l->n_timers; i++)
		if (l->timers[i].id == id) {
			l->timers[i] = l->timers[--l->n_timers];
			return;
		}
}

static void
on_signal(struct loop *l, int fd, uint32_t events, void *userdata)
{
	struct signalfd_siginfo si;

	(void)events;
	(void)userdata;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		for (size_t i = 0; i < l->n_sigs; i++)
			if (l->sigs[i].sig == (int)si.ssi_signo)
				l->sigs[i].fn(l, (int)si.ssi_signo, l->sigs[i].userdata);
}

int
loop_add_signal(struct loop *l, int sig, loop_signal_fn fn, void *userdata)
{
	int fd;

	if (l->n_sigs == ELEMENTSOF(l->sigs))
		return -ENOSPC;
	sigaddset(&l->sigmask, sig);
	fd = signalfd(l->sigfd, &l->sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	if (l->sigfd < 0) {
		int r = loop_add_fd(l, fd, EPOLLIN, on_signal, NULL);
		if (r < 0) {
			close(fd);
			return r;
		}
		l->sigfd = fd;
	}
	l->sigs[l->n_sigs++] = (struct sigwatch){ .sig = sig, .fn = fn, .userdata = userdata };
	return 0;
}

int
loop_set_prepare(struct loop *l, loop_prepare_fn fn, void *userdata)
{
	l->prepare = fn;
	l->prepare_data = userdata;
	return 0;
}

static void
timers_run(struct loop *l)
{
	uint64_t now = loop_now_ms();

	/* A fired timer may add or cancel timers: rescan from the start after each. */
	for (bool again = true; again;) {
		again = false;
		for (size_t i = 0; i < l->n_timers; i++) {
			if (l->timers[i].due <= now) {
				struct timer t = l->timers[i];
				l->timers[i] = l->timers[--l->n_timers];
				t.fn(l, t.userdata);
				again = true;
				break;
			}
		}
	}
}

static int
next_timeout(struct loop *l)
{
	int64_t t = -1;
	uint64_t now = loop_now_ms();

	for (size_t i = 0; i < l->n_timers; i++) {
		int64_t d = l->timers[i].due > now ? (int64_t)(l->timers[i].due - now) : 0;
		if (t < 0 || d < t)
			t = d;
	}
	if (l->prepare) {
		int64_t p = l->prepare(l, l->prepare_data);
		if (p >= 0 && (t < 0 || p < t))
			t = p;
	}
	return t > 60000 ? 60000 : (int)t;
}

int
loop_run(struct loop *l)
{
	struct epoll_event evs[MAX_LOOP_EVENTS];

	/* A loop may run again after a quit (tests drive one in steps). */
	l->quit = false;
	while (!l->quit) {
		int n = epoll_wait(l->epfd, evs, (int)ELEMENTSOF(evs), next_timeout(l));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return negative_errno();
		}
		for (int i = 0; i < n; i++) {
			struct watch *w = evs[i].data.ptr;
			if (!w->dead)
				w->fn(l, w->fd, evs[i].events, w->userdata);
		}
		watches_reap(l);
		timers_run(l);
	}
	return l->code;
}

void
loop_quit(struct loop *l, int code)
{
	l->quit = true;
	l->code = code;
}
