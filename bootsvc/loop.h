/* SPDX-License-Identifier: MIT */
/* The event loop: one epoll set for fds, deadline timers, and signals (signalfd).
 * Only the thread that runs loop_run() may call these functions (CONVENTIONS §6). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

struct loop;

typedef void (*loop_fd_fn)(struct loop *l, int fd, uint32_t events, void *userdata);
typedef void (*loop_timer_fn)(struct loop *l, void *userdata);
typedef void (*loop_signal_fn)(struct loop *l, int sig, void *userdata);
/* Called before each wait; returns the longest the loop may sleep in ms (-1: no limit). */
typedef int64_t (*loop_prepare_fn)(struct loop *l, void *userdata);

/* Milliseconds of CLOCK_MONOTONIC. */
uint64_t loop_now_ms(void);

int loop_new(struct loop **ret);
struct loop *loop_free(struct loop *l);

int loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_fn fn, void *userdata);
int loop_mod_fd(struct loop *l, int fd, uint32_t events);
/* Stop watching fd (does not close it). Safe to call from fd's own callback. */
void loop_del_fd(struct loop *l, int fd);

/* Call fn once at due_ms (loop_now_ms() clock). Returns a timer id > 0 or -ENOMEM. */
int64_t loop_add_timer(struct loop *l, uint64_t due_ms, loop_timer_fn fn, void *userdata);
void loop_cancel_timer(struct loop *l, int64_t id);

/* Deliver sig through the loop. The caller must have blocked sig in every thread. */
int loop_add_signal(struct loop *l, int sig, loop_signal_fn fn, void *userdata);

int loop_set_prepare(struct loop *l, loop_prepare_fn fn, void *userdata);

/* Run until loop_quit() (called from a callback); returns the code given to it. A loop
 * may be run again afterwards. */
int loop_run(struct loop *l);
void loop_quit(struct loop *l, int code);
