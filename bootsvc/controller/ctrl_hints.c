/* SPDX-License-Identifier: MIT */
/* The schedulers' hints (issue #7): "count nodes on image will be wanted within ms". Kept
 * in memory only: a scheduler re-sends them and they live minutes. green.c reads them. */
#include <stdio.h>
#include <string.h>

#include "controller/ctrl_internal.h"

int
ctrl_hints_expect(struct ctrl *c, const char *image, unsigned count, int64_t within_ms)
{
	int64_t until = ctrl_now_ms() + within_ms;
	size_t i;

	for (i = 0; i < c->n_hints; i++)
		if (strcmp(c->hints[i].image, image) == 0)
			break;
	if (count == 0) {
		if (i < c->n_hints)
			c->hints[i] = c->hints[--c->n_hints];
		return 0;
	}
	if (i == c->n_hints) {
		if (c->n_hints == MAX_HINTS)
			return -E2BIG;
		c->n_hints++;
	}
	(void)snprintf(c->hints[i].image, sizeof(c->hints[i].image), "%s", image);
	c->hints[i].count = count;
	c->hints[i].until_ms = until;
	ctrl_kick(c);
	return 0;
}

size_t
ctrl_hints(struct ctrl *c, const struct green_hint **ret)
{
	*ret = c->hints;
	return c->n_hints;
}

/* Expired hints go: they never act again. */
void
ctrl_hints_expire(struct ctrl *c, int64_t now)
{
	for (size_t i = 0; i < c->n_hints;)
		if (c->hints[i].until_ms <= now)
			c->hints[i] = c->hints[--c->n_hints];
		else
			i++;
}
