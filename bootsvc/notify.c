/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "notify.h"

int
notify_listen(struct notify *n, enum notify_what what, notify_fn fn, void *userdata)
{
	if (n->n[what] >= MAX_NOTIFY_LISTENERS)
		return -E2BIG;
	n->l[what][n->n[what]].fn = fn;
	n->l[what][n->n[what]].userdata = userdata;
	n->n[what]++;
	return 0;
}

void
notify_unlisten(struct notify *n, enum notify_what what, void *userdata)
{
	unsigned k = 0;

	for (unsigned i = 0; i < n->n[what]; i++)
		if (n->l[what][i].userdata != userdata)
			n->l[what][k++] = n->l[what][i];
	n->n[what] = k;
}

void
notify(struct notify *n, enum notify_what what)
{
	for (unsigned i = 0; i < n->n[what]; i++)
		n->l[what][i].fn(n->l[what][i].userdata);
}
