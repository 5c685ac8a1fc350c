/* SPDX-License-Identifier: MIT */
#include "vm/vm_conn.h"

void
vm_conn_init(struct vm_conn *c)
{
	*c = (struct vm_conn){ .state = VM_CONN_NEW };
}

const char *
vm_conn_state_to_string(enum vm_conn_state s)
{
	switch (s) {
	case VM_CONN_CONNECTED:
		return "connected";
	case VM_CONN_LOST:
		return "lost";
	case VM_CONN_NEW:
	case VM_CONN_CONNECTING:
	default:
		return "connecting";
	}
}

/* The wait before the next connect, and the one after it (doubled, at most max). */
static uint64_t
backoff_next(struct vm_conn *c, const struct vm_conn_params *p)
{
	uint64_t w = c->backoff_ms ? c->backoff_ms : p->backoff_min_ms;

	c->backoff_ms = w >= p->backoff_max_ms / 2 ? p->backoff_max_ms : w * 2;
	return w < p->backoff_max_ms ? w : p->backoff_max_ms;
}

struct vm_conn_step
vm_conn_decide(struct vm_conn *c, enum vm_conn_event ev, uint64_t now,
    const struct vm_conn_params *p)
{
	struct vm_conn_step s = { .act = VM_ACT_NONE };

	switch (ev) {
	case VM_EV_TICK:
		if (c->busy || now < c->due_ms)
			break;
		if (c->state == VM_CONN_CONNECTED) {
			s.act = VM_ACT_REFRESH;
			c->due_ms = now + p->poll_ms;
		} else {
			s.act = VM_ACT_CONNECT;
			if (c->state == VM_CONN_NEW)
				c->state = VM_CONN_CONNECTING;
		}
		c->busy = true;
		break;
	case VM_EV_NOT_STARTED:
		c->busy = false; /* due stays: the next tick tries again */
		if (c->state == VM_CONN_CONNECTED)
			c->due_ms = now;
		break;
	case VM_EV_CONNECT_OK:
		if (!c->busy || c->state == VM_CONN_CONNECTED || c->state == VM_CONN_NEW)
			break;
		c->state = VM_CONN_CONNECTED;
		c->backoff_ms = 0;
		s.connected = true;
		/* Read it at once: the inventory should not wait a poll for a new host. */
		s.act = VM_ACT_REFRESH;
		c->due_ms = now + p->poll_ms;
		break; /* still busy: the refresh */
	case VM_EV_CONNECT_FAILED:
		if (!c->busy || c->state == VM_CONN_CONNECTED || c->state == VM_CONN_NEW)
			break;
		c->busy = false;
		s.lost = c->state != VM_CONN_LOST;
		c->state = VM_CONN_LOST;
		c->due_ms = now + backoff_next(c, p);
		break;
	case VM_EV_REFRESH_OK:
		if (c->state == VM_CONN_CONNECTED)
			c->busy = false;
		break;
	case VM_EV_REFRESH_FAILED:
		if (c->state != VM_CONN_CONNECTED)
			break;
		c->busy = false;
		c->state = VM_CONN_LOST;
		c->backoff_ms = 0;
		s.lost = true;
		s.act = VM_ACT_CLOSE_RECONNECT_LATER;
		c->due_ms = now + backoff_next(c, p);
		break;
	case VM_EV_CLOSED:
		if (c->state != VM_CONN_CONNECTED)
			break;
		if (c->busy) {
			c->due_ms = now; /* the refresh in flight may have missed it: again */
			break;
		}
		s.act = VM_ACT_REFRESH;
		c->busy = true;
		c->due_ms = now + p->poll_ms;
		break;
	case _VM_CONN_EVENT_MAX:
	default:
		break;
	}
	return s;
}
