/* SPDX-License-Identifier: MIT */
/* A worker pool: blocking work of one kind (IPMI exchanges; later libvirt calls) runs
 * on a few threads and posts its result back to the loop through one eventfd
 * (CONVENTIONS §6). Items are self-contained: the loop hands an item over at submit and
 * gets it back, with the worker's result in it, in done() on the loop thread. The action
 * layer (action.h) keeps one pool per kind of work, so a call that hangs holds only the
 * threads of its own kind. */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "loop.h"

struct work;
struct work_item;

/* Runs on a worker thread: may block, must not touch loop state. */
typedef void (*work_run_fn)(struct work_item *j);
/* Runs on the loop thread after run(); owns j and must free it. */
typedef void (*work_done_fn)(struct work_item *j);

struct work_item {
	work_run_fn run;
	work_done_fn done;
	atomic_bool cancelled; /* set by the loop; run() checks it between steps */
	/* loop_now_ms() when a worker took the item, 0 while it is queued: a deadline
	 * counts from here, not from a submit that waited for a thread. */
	_Atomic uint64_t started_ms;
	struct work_item *next;      /* the pool's queue link */
};

/* Start n threads named "<name>/<i>" (name: at most 10 bytes are kept, for the kernel's
 * 16-byte thread names) with a queue of at most max_queue items. */
int work_new(struct loop *l, const char *name, unsigned n, unsigned max_queue,
    struct work **ret);
/* Stop the threads (jobs still queued are completed as cancelled) and free. */
struct work *work_free(struct work *w);

/* Queue j. -EAGAIN when the queue is full (callers answer 503 / retry later). */
int work_submit(struct work *w, struct work_item *j);

/* Jobs queued or running: for metrics and back-pressure. */
unsigned work_pending(const struct work *w);
