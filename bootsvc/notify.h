/* SPDX-License-Identifier: MIT */
/* What happened, told to whoever listens, so that the parts below the front ends (boot,
 * the controller, the action path) never call up into them: the control socket listens
 * for new history rows to stream to its subscribers, the controller for node changes to
 * reconcile. Listeners register when they start; a signal nobody listens to is a no-op
 * (unit tests and fuzzing run parts alone). Loop thread only, like all daemon state. */
#pragma once

enum notify_what {
	NOTIFY_HISTORY, /* rows were appended to the event history */
	NOTIFY_NODE,    /* a node's phase or desired state changed: decide again soon */
	_NOTIFY_MAX,
};

/* A handful of parts listen; a fixed table keeps registration allocation-free. */
#define MAX_NOTIFY_LISTENERS 4

typedef void (*notify_fn)(void *userdata);

struct notify {
	struct {
		notify_fn fn;
		void *userdata;
	} l[_NOTIFY_MAX][MAX_NOTIFY_LISTENERS];
	unsigned n[_NOTIFY_MAX];
};

/* -E2BIG when what already has MAX_NOTIFY_LISTENERS listeners. */
int notify_listen(struct notify *n, enum notify_what what, notify_fn fn, void *userdata);
/* Remove every listener of what registered with userdata. */
void notify_unlisten(struct notify *n, enum notify_what what, void *userdata);
/* Call each listener of what, in the order they registered. */
void notify(struct notify *n, enum notify_what what);
