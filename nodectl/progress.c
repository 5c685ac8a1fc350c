/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "progress.h"

static const char *const bucket_names[_PROGRESS_MAX] = {
	[PROGRESS_WAITING] = "waiting",
	[PROGRESS_POWERING] = "powering-on",
	[PROGRESS_PXE] = "pxe",
	[PROGRESS_LOADING] = "loading",
	[PROGRESS_IMAGING] = "imaging",
	[PROGRESS_UP] = "up",
	[PROGRESS_FAILED] = "failed",
	[PROGRESS_BMC] = "bmc-unreachable",
};

/* The order of the progress line: the boot's phases as they happen, then the outcome;
 * waiting and bmc-unreachable only when some node is there. */
static const enum progress_bucket line_order[] = { PROGRESS_POWERING, PROGRESS_PXE,
	PROGRESS_LOADING, PROGRESS_IMAGING, PROGRESS_UP, PROGRESS_FAILED };

const char *
progress_bucket_name(enum progress_bucket b)
{
	return b < _PROGRESS_MAX ? bucket_names[b] : "?";
}

static int
progress_cmp(const void *a, const void *b)
{
	return strcmp(((const struct progress_node *)a)->name,
	    ((const struct progress_node *)b)->name);
}

int
progress_init(struct progress *p, const char *const *names, size_t n, const char *image_id)
{
	struct progress_node *nodes;
	size_t m = 0;

	memset(p, 0, sizeof(*p));
	if (n == 0 || strlen(image_id) >= sizeof(p->image_id))
		return -EINVAL;
	nodes = calloc(n, sizeof(*nodes));
	if (!nodes)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (strlen(names[i]) >= sizeof(nodes[i].name)) {
			free(nodes);
			return -EINVAL;
		}
		strcpy(nodes[i].name, names[i]);
		nodes[i].bucket = PROGRESS_WAITING;
	}
	qsort(nodes, n, sizeof(*nodes), progress_cmp);
	for (size_t i = 0; i < n; i++)
		if (m == 0 || !streq(nodes[m - 1].name, nodes[i].name))
			nodes[m++] = nodes[i];
	p->nodes = nodes;
	p->n = m;
	p->count[PROGRESS_WAITING] = m;
	strcpy(p->image_id, image_id);
	return 0;
}

void
progress_done(struct progress *p)
{
	if (!p)
		return;
	free(p->nodes);
	memset(p, 0, sizeof(*p));
}

struct progress_node *
progress_find(struct progress *p, const char *name)
{
	struct progress_node key;

	if (strlen(name) >= sizeof(key.name))
		return NULL;
	strcpy(key.name, name);
	return bsearch(&key, p->nodes, p->n, sizeof(*p->nodes), progress_cmp);
}

static bool
progress_is_done(const struct progress_node *pn)
{
	return pn->bucket == PROGRESS_UP || pn->bucket == PROGRESS_FAILED;
}

static void
progress_move(struct progress *p, struct progress_node *pn, enum progress_bucket b)
{
	p->count[pn->bucket]--;
	pn->bucket = b;
	p->count[b]++;
}

static void
progress_set_check(struct progress *p, struct progress_node *pn, bool check)
{
	if (pn->check == check)
		return;
	pn->check = check;
	if (check)
		p->nchecks++;
	else
		p->nchecks--;
}

/* The bucket of a node that is not done, from its phase. "up" (not yet known to be on
 * our image) and "failed" (the controller may retry) wait for node.list's word. */
static enum progress_bucket
progress_bucket_of(const char *phase)
{
	if (streq(phase, "powering-on"))
		return PROGRESS_POWERING;
	if (streq(phase, "pxe"))
		return PROGRESS_PXE;
	if (streq(phase, "loading"))
		return PROGRESS_LOADING;
	if (streq(phase, "imaging"))
		return PROGRESS_IMAGING;
	if (streq(phase, "bmc-unreachable"))
		return PROGRESS_BMC;
	return PROGRESS_WAITING;
}

static void
progress_copy(char *dst, size_t size, const char *s)
{
	(void)snprintf(dst, size, "%s", s ? s : "");
}

enum progress_change
progress_event(struct progress *p, const struct client_event *e,
    struct progress_node **ret_node)
{
	struct progress_node *pn = progress_find(p, e->node);
	bool check;

	if (ret_node)
		*ret_node = pn;
	if (!pn || progress_is_done(pn))
		return PROGRESS_NONE;
	if (!streq(e->kind, "phase")) {
		/* The controller's "done" follows the node's up on the desired image. */
		if (!streq(e->what, "done"))
			return PROGRESS_NONE;
		progress_set_check(p, pn, true);
		return PROGRESS_CHECK;
	}
	progress_copy(pn->phase, sizeof(pn->phase), e->what);
	progress_copy(pn->reason, sizeof(pn->reason), e->reason);
	progress_move(p, pn, progress_bucket_of(e->what));
	check = streq(e->what, "up") || streq(e->what, "failed");
	if (check)
		progress_set_check(p, pn, true);
	return check ? PROGRESS_CHECK : PROGRESS_MOVED;
}

enum progress_change
progress_node(struct progress *p, const json_t *node, struct progress_node **ret_node)
{
	const char *name = json_string_value(json_object_get(node, "name"));
	const char *phase = json_string_value(json_object_get(node, "phase"));
	const char *op = json_string_value(json_object_get(node, "op"));
	const char *booted = json_string_value(json_object_get(node, "booted_image"));
	const char *reason = json_string_value(json_object_get(node, "reason"));
	const char *last = json_string_value(json_object_get(node, "last_error"));
	struct progress_node *pn = name ? progress_find(p, name) : NULL;
	enum progress_bucket b;
	bool moved;

	if (ret_node)
		*ret_node = pn;
	if (!pn)
		return PROGRESS_NONE;
	progress_set_check(p, pn, false);
	if (progress_is_done(pn))
		return PROGRESS_NONE;
	phase = phase ? phase : "";
	if (streq(phase, "up") && booted && streq(booted, p->image_id)) {
		progress_copy(pn->phase, sizeof(pn->phase), phase);
		progress_copy(pn->reason, sizeof(pn->reason), "");
		progress_move(p, pn, PROGRESS_UP);
		return PROGRESS_NEW_UP;
	}
	if (op && streq(op, "failed")) {
		progress_copy(pn->phase, sizeof(pn->phase), phase);
		progress_copy(pn->reason, sizeof(pn->reason), last && last[0] ? last :
		    reason && reason[0] ? reason : "failed");
		progress_move(p, pn, PROGRESS_FAILED);
		return PROGRESS_NEW_FAILED;
	}
	b = progress_bucket_of(phase);
	moved = b != pn->bucket || !streq(pn->phase, phase);
	progress_copy(pn->phase, sizeof(pn->phase), phase);
	progress_copy(pn->reason, sizeof(pn->reason), reason);
	progress_move(p, pn, b);
	return moved ? PROGRESS_MOVED : PROGRESS_NONE;
}

bool
progress_finished(const struct progress *p)
{
	return p->count[PROGRESS_UP] + p->count[PROGRESS_FAILED] == p->n;
}

void
progress_format(const struct progress *p, char *buf, size_t size)
{
	size_t o = 0;

	if (size == 0)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < ELEMENTSOF(line_order) + 2; i++) {
		enum progress_bucket b = i < ELEMENTSOF(line_order) ? line_order[i] :
		    i == ELEMENTSOF(line_order) ? PROGRESS_WAITING : PROGRESS_BMC;
		int w;

		if (i >= ELEMENTSOF(line_order) && p->count[b] == 0)
			continue;
		w = snprintf(buf + o, size - o, "%s%s %zu", o ? ", " : "", bucket_names[b],
		    p->count[b]);
		if (w < 0 || (size_t)w >= size - o)
			break; /* cut: snprintf already terminated it */
		o += (size_t)w;
	}
}
