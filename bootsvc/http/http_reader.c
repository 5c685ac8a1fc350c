/* SPDX-License-Identifier: MIT */
/* The reader threads (http_threads > 1, http.h): each runs a server of its own on a loop
 * of its own and answers from its view (http_ipxe_read, http_images_read) what moves
 * nothing; the rest it hands to the loop through a queue, which the loop answers with the
 * same handlers and gives back by resuming the connections. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "http/http.h"
#include "http/http_srv.h"
#include "boot/boot_records.h"
#include "log.h"

/* A reader thread gives r to the loop: the connection waits suspended until the loop has
 * answered (handoff_run) and resumed it; on_request then queues the answer. Suspended
 * first, so the loop can never resume it before. */
enum MHD_Result
handoff_push(struct srv *s, struct MHD_Connection *c, struct req *r, enum handoff stage)
{
	struct http *h = s->h;
	bool wake;

	metric_add(&s->n_handoffs, 1);
	r->handoff = stage;
	r->handed = true;
	r->deferred = false;
	r->next = NULL;
	MHD_suspend_connection(c);
	pthread_mutex_lock(&h->lock);
	wake = !h->q_head;
	if (h->q_tail)
		h->q_tail->next = r;
	else
		h->q_head = r;
	h->q_tail = r;
	pthread_mutex_unlock(&h->lock);
	if (wake)
		(void)eventfd_write(h->q_fd, 1);
	return MHD_YES;
}

/* The loop: the reader threads' requests, answered as its own are, in one store batch;
 * their connections resumed after its commit, so what an answer recorded is committed
 * before the node's next request can reach a reader thread. */
static void
handoff_run(struct loop *l, int fd, uint32_t events, void *userdata)
{
	struct http *h = userdata;
	struct bootsvc *bs = h->bs;
	struct req *list, *r, *next;
	eventfd_t n;

	(void)l;
	(void)events;
	(void)eventfd_read(fd, &n);
	pthread_mutex_lock(&h->lock);
	list = h->q_head;
	h->q_head = h->q_tail = NULL;
	pthread_mutex_unlock(&h->lock);
	(void)store_batch_begin(bs->store);
	for (r = list; r; r = r->next) {
		enum MHD_Result ret;

		ret = r->handoff == HANDOFF_HEADERS ? route_headers(bs, r->c, r, r->url, r->method) :
		    route(bs, r->c, r, r->url, r->method);
		r->failed = ret == MHD_NO;
	}
	loop_batch_end(h);
	for (r = list; r; r = next) {
		next = r->next; /* r is the reader thread's again once resumed */
		if (!r->deferred)
			http_resume(r->c, r);
	}
}

/* The loop: the boot records queued (the readers' and its own), written in batches of
 * their own once they fall due (boot_records_wait_ms: after the burst of scripts that
 * queued them), when no request brought the loop to them first (http_records_before,
 * http_records_flush, and the routes that write the whole queue: http.c route,
 * http_ipxe.c http_ipxe). A turn writes RECORDS_TURN; the commit wakes the loop again
 * for the rest. */
static void records_pace(struct http *h);

static void
records_timer_fire(struct loop *l, void *userdata)
{
	struct http *h = userdata;

	(void)l;
	h->records_timer = -1;
	records_pace(h);
}

static void
records_pace(struct http *h)
{
	uint64_t now = loop_now_ms();
	int64_t wait = boot_records_due(h->records, now);

	if (wait < 0)
		return;
	if (wait > 0 && h->records_timer < 0)
		h->records_timer = loop_add_timer(h->bs->loop, now + (uint64_t)wait,
		    records_timer_fire, h);
	/* no timer to wait on (out of memory): written now, as before the wait */
	if (wait > 0 && h->records_timer >= 0)
		return;
	/* The scripts whose requests are in go first: the records are bookkeeping, and a
	 * turn of them held the loop's connections for milliseconds in a storm. */
	direct_run(&h->main);
	(void)store_batch_begin(h->bs->store);
	http_records_write_turn(h->bs);
	loop_batch_end(h);
}

static void
records_run(struct loop *l, int fd, uint32_t events, void *userdata)
{
	eventfd_t n;

	(void)l;
	(void)events;
	(void)eventfd_read(fd, &n);
	records_pace(userdata);
}

void
http_records_flush(struct bootsvc *bs)
{
	struct boot_records *q = http_records(bs);

	if (!q || !boot_records_queued(q))
		return;
	(void)store_batch_begin(bs->store);
	http_records_write(bs);
	loop_batch_end(bs->http);
}

int
readers_open(struct http *h, unsigned n, struct dl_err *reterr)
{
	int r;

	if (!n)
		return 0;
	if (!(h->readers = calloc(n, sizeof(*h->readers))))
		return dl_err_set(reterr, -ENOMEM, "HTTP: out of memory");
	h->n_readers = n;
	for (unsigned i = 0; i < n; i++)
		h->readers[i].srv.listen_fd = h->readers[i].srv.wake_fd = -1;
	for (unsigned i = 0; i < n; i++) {
		struct reader *rd = &h->readers[i];

		rd->srv.view = &rd->view;
		rd->srv.m = &rd->view.m;
		/* made now: a request's wake_fd is its server's from its first call */
		if ((rd->srv.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
			return dl_err_set(reterr, -errno, "HTTP: eventfd: %s", strerror(errno));
		/* the listening socket shared now, accepted from once the thread runs
		 * (http_serve) */
		if ((r = srv_open(h, &rd->srv, share_of(&h->bs->cfg, i + 1), reterr)) < 0)
			return r;
	}
	return 0;
}

/* A reader thread: its own loop runs its server until the loop asks it to stop. Woken,
 * it runs its daemon, which takes the connections the loop resumed. */
static void
on_wake(struct loop *l, int fd, uint32_t events, void *userdata)
{
	struct reader *rd = userdata;
	eventfd_t n;

	(void)events;
	(void)eventfd_read(fd, &n);
	if (atomic_load(&rd->quit))
		loop_quit(l, 0);
	else
		run_mhd(&rd->srv);
}

static void *
reader_main(void *arg)
{
	struct reader *rd = arg;

	(void)loop_run(rd->srv.loop);
	return NULL;
}

static int
reader_start(struct http *h, struct reader *rd, struct dl_err *reterr)
{
	struct loop *l = NULL;
	int r;

	if ((r = store_reader_open(h->bs->store, &rd->view.rd, reterr)) < 0)
		return r;
	if ((r = loop_new(&l)) < 0)
		return dl_err_set(reterr, r, "HTTP: reader thread's loop: %s", strerror(-r));
	if ((r = loop_add_fd(l, rd->srv.wake_fd, EPOLLIN, on_wake, rd)) < 0 ||
	    (r = srv_watch(&rd->srv, l, reterr)) < 0 || (r = srv_accept_on(&rd->srv)) < 0) {
		srv_unwatch(&rd->srv);
		loop_free(l);
		return dl_err_set(reterr, r, "HTTP: reader thread: %s", strerror(-r));
	}
	if ((r = pthread_create(&rd->thread, NULL, reader_main, rd)) == 0) {
		char name[16];

		/* "http/1".. in top -H and /proc/<pid>/task, beside the pools' "bmc/0".. */
		(void)snprintf(name, sizeof(name), "http/%u", (unsigned)(rd - h->readers) + 1);
		(void)pthread_setname_np(rd->thread, name);
	} else {
		srv_unwatch(&rd->srv);
		loop_free(l);
		return dl_err_set(reterr, -r, "HTTP: reader thread: %s", strerror(r));
	}
	rd->running = true;
	return 0;
}

/* The reader threads' queues and the threads, each accepting as it starts. */
static int
readers_start(struct http *h, struct dl_err *reterr)
{
	int r;

	h->q_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (h->q_fd < 0)
		return dl_err_set(reterr, -errno, "HTTP: eventfd: %s", strerror(errno));
	if ((r = loop_add_fd(h->bs->loop, h->q_fd, EPOLLIN, handoff_run, h)) < 0)
		return dl_err_set(reterr, r, "HTTP: cannot watch the hand-off queue");
	if (store_is_embedded(h->bs->store)) {
		if ((r = boot_records_new(0, &h->records)) < 0)
			return dl_err_set(reterr, r, "HTTP: boot records: %s", strerror(-r));
		if ((r = loop_add_fd(h->bs->loop, boot_records_fd(h->records), EPOLLIN,
		    records_run, h)) < 0) {
			h->records = boot_records_free(h->records);
			return dl_err_set(reterr, r, "HTTP: cannot watch the boot records");
		}
	}
	for (unsigned i = 0; i < h->n_readers; i++) {
		h->readers[i].view.records = h->records;
		if ((r = reader_start(h, &h->readers[i], reterr)) < 0)
			return r;
	}
	return 0;
}

int
http_serve(struct http *h, struct dl_err *reterr)
{
	int r;

	if (h->n_readers && (r = readers_start(h, reterr)) < 0)
		return r;
	/* the loop after the readers: the kernel tries an idle reader first (srv_accept_on) */
	if ((r = srv_accept_on(&h->main)) < 0)
		return dl_err_set(reterr, r, "HTTP: cannot watch the listening socket");
	return 0;
}

void
http_readers_stop(struct http *h)
{
	struct req *list, *r, *next;

	if (!h)
		return;
	for (unsigned i = 0; i < h->n_readers; i++) {
		struct reader *rd = &h->readers[i];

		if (!rd->running)
			continue;
		atomic_store(&rd->quit, true);
		(void)eventfd_write(rd->srv.wake_fd, 1);
		(void)pthread_join(rd->thread, NULL);
		rd->running = false;
		/* Its copy of the shared socket out of its loop (the thread has stopped) and
		 * closed: the queue is the loop's to accept. The daemon goes in http_stop,
		 * after every answer the loop still owes its connections (action_free's
		 * cancellations). */
		loop_del_fd(rd->srv.loop, rd->srv.listen_fd);
		close(rd->srv.listen_fd);
		rd->srv.listen_fd = -1;
	}
	/* Requests handed over and not yet taken: nobody will answer them now. */
	pthread_mutex_lock(&h->lock);
	list = h->q_head;
	h->q_head = h->q_tail = NULL;
	pthread_mutex_unlock(&h->lock);
	for (r = list; r; r = next) {
		next = r->next;
		r->failed = true;
		http_resume(r->c, r);
	}
}

/* Stop and free the reader threads: the daemons go after every answer the loop still owed
 * their connections came back (http_stop runs after the pools' cancellations). */
void
readers_free(struct http *h)
{
	http_readers_stop(h);
	for (unsigned i = 0; i < h->n_readers; i++) {
		struct reader *rd = &h->readers[i];
		struct loop *l = rd->srv.loop;

		srv_unwatch(&rd->srv);
		srv_close(&rd->srv);
		loop_free(l);
		if (rd->srv.wake_fd >= 0)
			close(rd->srv.wake_fd);
		tmpl_bound_cache_done(&rd->view.bound);
		store_reader_close(rd->view.rd);
	}
	free(h->readers);
	h->readers = NULL;
	h->n_readers = 0;
	if (h->q_fd >= 0) {
		loop_del_fd(h->bs->loop, h->q_fd);
		close(h->q_fd);
		h->q_fd = -1;
	}
	if (h->records) {
		/* what the readers queued last, written as the loop would have */
		if (h->records_timer >= 0)
			loop_cancel_timer(h->bs->loop, h->records_timer);
		h->records_timer = -1;
		http_records_flush(h->bs);
		loop_del_fd(h->bs->loop, boot_records_fd(h->records));
		h->records = boot_records_free(h->records);
	}
}

void
http_metrics_readers(const struct bootsvc *bs, struct metrics *m)
{
	const struct http *h = bs->http;

	for (unsigned i = 0; h && i < h->n_readers; i++) {
		const struct metrics *v = &h->readers[i].view.m;
#define ADD(f) (m->f += __atomic_load_n(&v->f, __ATOMIC_RELAXED))
		for (int j = 0; j < 6; j++) {
			ADD(requests[j]);
			ADD(responses[j]);
		}
		ADD(bytes_sent);
		ADD(boot_scripts);
		for (int j = 0; j < METRICS_SCRIPT_BUCKETS; j++)
			ADD(script_buckets[j]);
		ADD(script_count);
		ADD(script_ms_sum);
#undef ADD
	}
}

uint64_t
http_view_fresh(struct http_view *v)
{
	uint64_t e;

	if (!v->records)
		return 0;
	e = boot_records_epoch(v->records);
	if (e != v->epoch) {
		store_reader_batch_end(v->rd);
		store_reader_batch_begin(v->rd);
		v->epoch = e;
	}
	return e;
}

bool
http_view_stands(struct http_view *v, const char *node, uint64_t e0)
{
	return !v->records || (!boot_records_pending(v->records, node) &&
	    boot_records_epoch(v->records) == e0);
}

struct boot_records *
http_records(const struct bootsvc *bs)
{
	return bs->http ? bs->http->records : NULL;
}

bool
http_records_idle(const struct bootsvc *bs)
{
	const struct http *h = bs->http;

	return !h || !h->records || boot_records_idle(h->records);
}

static struct http_thread_count
count_of(const struct srv *s)
{
	return (struct http_thread_count){
		.requests = __atomic_load_n(&s->n_requests, __ATOMIC_RELAXED),
		.handoffs = __atomic_load_n(&s->n_handoffs, __ATOMIC_RELAXED),
		.direct = __atomic_load_n(&s->n_direct, __ATOMIC_RELAXED),
	};
}

unsigned
http_thread_counts(const struct bootsvc *bs, struct http_thread_count *ret, unsigned max)
{
	const struct http *h = bs->http;
	unsigned n = 0;

	if (!h || !max)
		return 0;
	ret[n++] = count_of(&h->main);
	for (unsigned i = 0; i < h->n_readers && n < max; i++)
		ret[n++] = count_of(&h->readers[i].srv);
	return n;
}
