/* SPDX-License-Identifier: MIT */
/* When bootsvc connects to a VM host's libvirtd, reads it, gives up on a connection and
 * tries again: a pure decision (no I/O, no clock: callers pass now), so its table tests
 * (tests/unit/test_vm_conn.c) cover every transition, as controller/ctrl_fsm.c's do.
 *
 *   new --tick--> connect (state connecting)
 *   connecting|lost --connect ok--> connected: event host-connected, refresh at once
 *   connecting --connect failed--> lost: event host-lost, retry after backoff
 *   lost --connect failed--> lost, backoff doubled (backoff_min .. backoff_max)
 *   connected --tick, poll due--> refresh
 *   connected --refresh failed--> lost: event host-lost, close the old connection,
 *                                 retry after backoff_min
 *   connected --closed (libvirt's close callback)--> refresh now: it finds out
 *
 * One call at a time per host: while one is in flight (busy) a tick decides nothing. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

enum vm_conn_state {
	VM_CONN_NEW,        /* never tried */
	VM_CONN_CONNECTING, /* the first connect is in flight */
	VM_CONN_CONNECTED,
	VM_CONN_LOST,       /* unreachable; reconnecting with backoff */
	_VM_CONN_STATE_MAX,
};

enum vm_conn_event {
	VM_EV_TICK,           /* the room's periodic pass */
	VM_EV_CONNECT_OK,
	VM_EV_CONNECT_FAILED,
	VM_EV_REFRESH_OK,
	VM_EV_REFRESH_FAILED, /* the connection is dead (not a domain that vanished mid-read) */
	VM_EV_CLOSED,         /* libvirt said the connection closed */
	VM_EV_NOT_STARTED,    /* the call decided on could not be queued: try next tick */
	_VM_CONN_EVENT_MAX,
};

enum vm_conn_action {
	VM_ACT_NONE,
	VM_ACT_CONNECT,
	VM_ACT_REFRESH,
	VM_ACT_CLOSE_RECONNECT_LATER, /* close the dead connection; reconnect when due */
	_VM_CONN_ACTION_MAX,
};

struct vm_conn_params {
	uint64_t poll_ms;        /* between refreshes of a connected host (vm_poll) */
	uint64_t backoff_min_ms; /* first wait after a loss or failed connect */
	uint64_t backoff_max_ms; /* the longest wait */
};

struct vm_conn {
	enum vm_conn_state state;
	bool busy;           /* a connect or refresh is in flight */
	uint64_t due_ms;     /* next connect (new, lost) or refresh (connected) */
	uint64_t backoff_ms; /* the wait after the next failed connect, 0 = backoff_min */
};

struct vm_conn_step {
	enum vm_conn_action act;
	bool lost;      /* just became lost: history event, health input */
	bool connected; /* just connected (first time or again): history event */
};

/* A host never tried: state new, due now. */
void vm_conn_init(struct vm_conn *c);
/* Apply ev at now to c and say what to do. An event that does not fit the state (a
 * connect result while connected) changes nothing and asks for nothing. */
struct vm_conn_step vm_conn_decide(struct vm_conn *c, enum vm_conn_event ev, uint64_t now,
    const struct vm_conn_params *p);
/* "connecting", "connected", "lost" (new reads as "connecting"): the store's words. */
const char *vm_conn_state_to_string(enum vm_conn_state s);
