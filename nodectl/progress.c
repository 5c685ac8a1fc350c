/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "name_table.h"
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
	[PROGRESS_REPLACED] = "replaced",
};

/* The order of the progress line: the boot's phases as they happen, then the outcome;
 * then waiting, bmc-unreachable and replaced, only when some node is there. */
static const enum progress_bucket line_order[] = { PROGRESS_POWERING, PROGRESS_PXE,
	PROGRESS_LOADING, PROGRESS_IMAGING, PROGRESS_UP, PROGRESS_FAILED };
static const enum progress_bucket line_extra[] = { PROGRESS_WAITING, PROGRESS_BMC,
	PROGRESS_REPLACED };

const char *
progress_bucket_name(enum progress_bucket b)
{
	return NAME_OF(bucket_names, b, "?");
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

bool
progress_node_is_done(const struct progress_node *pn)
{
	return pn->bucket == PROGRESS_UP || pn->bucket == PROGRESS_FAILED ||
	    pn->bucket == PROGRESS_REPLACED;
}

int
progress_set_job(struct progress *p, const char *job)
{
	if (!job[0] || strlen(job) >= sizeof(p->job))
		return -EINVAL;
	strcpy(p->job, job);
	return 0;
}

int
progress_add(struct progress *p, const char *name, struct progress_node **ret_node)
{
	struct progress_node *pn = progress_find(p, name), *nodes;
	size_t i;

	if (pn) {
		*ret_node = pn;
		return 0;
	}
	if (strlen(name) >= sizeof(pn->name))
		return -EINVAL;
	nodes = reallocarray(p->nodes, p->n + 1, sizeof(*nodes));
	if (!nodes)
		return -ENOMEM;
	p->nodes = nodes;
	for (i = p->n; i > 0 && strcmp(nodes[i - 1].name, name) > 0; i--)
		;
	memmove(nodes + i + 1, nodes + i, (p->n - i) * sizeof(*nodes));
	memset(&nodes[i], 0, sizeof(nodes[i]));
	strcpy(nodes[i].name, name);
	nodes[i].bucket = PROGRESS_WAITING;
	p->n++;
	p->count[PROGRESS_WAITING]++;
	*ret_node = &nodes[i];
	return 0;
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

/* reason names our job: "job <id>" followed by the end, ' ' or ':'. */
static bool
progress_reason_is_job(const struct progress *p, const char *reason)
{
	size_t n = strlen(p->job);

	return strncmp(reason, "job ", 4) == 0 && strncmp(reason + 4, p->job, n) == 0 &&
	    (reason[4 + n] == '\0' || reason[4 + n] == ' ' || reason[4 + n] == ':');
}

/* A job-mode action event: membership changes. */
static enum progress_change
progress_job_event(struct progress *p, const struct client_event *e,
    struct progress_node **ret_node)
{
	struct progress_node *pn = progress_find(p, e->node);

	if (streq(e->what, "allocate") && progress_reason_is_job(p, e->reason)) {
		bool joined = !pn || pn->bucket == PROGRESS_REPLACED;

		if (!pn && progress_add(p, e->node, &pn) < 0)
			return PROGRESS_NONE; /* overlong name (or ENOMEM): node.list tells */
		if (pn->bucket == PROGRESS_REPLACED) {
			progress_copy(pn->reason, sizeof(pn->reason), "");
			progress_move(p, pn, PROGRESS_WAITING);
		}
		/* Where it stands (maybe up on the image already: reuse) only node.list says. */
		progress_set_check(p, pn, true);
		*ret_node = pn;
		return joined ? PROGRESS_JOINED : PROGRESS_CHECK;
	}
	*ret_node = pn;
	if (!pn)
		return PROGRESS_NONE;
	if (streq(e->what, "alloc-replace") && progress_reason_is_job(p, e->reason) &&
	    pn->bucket != PROGRESS_REPLACED) {
		progress_copy(pn->reason, sizeof(pn->reason), e->reason);
		progress_set_check(p, pn, false);
		progress_move(p, pn, PROGRESS_REPLACED);
		return PROGRESS_LEFT;
	}
	/* "job <id>: no replacement: ..." (ctrl_alloc.c): ours only if it names our job; a
	 * node this job left may have been lost by the next one. */
	if (streq(e->what, "alloc-lost") && progress_reason_is_job(p, e->reason) &&
	    pn->bucket != PROGRESS_FAILED && pn->bucket != PROGRESS_UP) {
		char why[MAX_EVENT_REASON];

		(void)snprintf(why, sizeof(why), "not replaced: %.200s", e->reason);
		progress_copy(pn->reason, sizeof(pn->reason), why);
		progress_set_check(p, pn, false);
		progress_move(p, pn, PROGRESS_FAILED);
		return PROGRESS_NEW_FAILED;
	}
	return PROGRESS_NONE;
}

enum progress_change
progress_event(struct progress *p, const struct client_event *e,
    struct progress_node **ret_node)
{
	struct progress_node *pn;
	bool check;

	if (p->job[0] && streq(e->kind, "action")) {
		enum progress_change ch = progress_job_event(p, e, &pn);

		if (ret_node)
			*ret_node = pn;
		if (ch != PROGRESS_NONE)
			return ch;
	}
	pn = progress_find(p, e->node);
	if (ret_node)
		*ret_node = pn;
	if (!pn || progress_node_is_done(pn))
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
	const char *job = json_string_value(json_object_get(node, "job"));
	struct progress_node *pn = name ? progress_find(p, name) : NULL;
	enum progress_change joined = PROGRESS_NONE;
	enum progress_bucket b;
	bool moved;

	if (ret_node)
		*ret_node = pn;
	if (!pn)
		return PROGRESS_NONE;
	progress_set_check(p, pn, false);
	if (p->job[0] && job) {
		bool member = streq(job, p->job);

		if (!member && pn->bucket != PROGRESS_REPLACED) {
			/* Replaced; a node that failed in the job stays failed (the job is
			 * short of it, unless a replacement joins and comes up). */
			if (pn->bucket == PROGRESS_FAILED)
				return PROGRESS_NONE;
			progress_copy(pn->reason, sizeof(pn->reason),
			    op && streq(op, "failed") && last && last[0] ? last : "left the job");
			progress_move(p, pn, PROGRESS_REPLACED);
			return PROGRESS_LEFT;
		}
		if (!member)
			return PROGRESS_NONE;
		if (pn->bucket == PROGRESS_REPLACED) {
			progress_copy(pn->reason, sizeof(pn->reason), "");
			progress_move(p, pn, PROGRESS_WAITING);
			joined = PROGRESS_JOINED;
		}
	}
	if (progress_node_is_done(pn))
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
	return joined ? joined : moved ? PROGRESS_MOVED : PROGRESS_NONE;
}

int
progress_members(struct progress *p, const json_t *nodes, progress_change_fn fn,
    void *userdata)
{
	_cleanup_free_ bool *listed = NULL;
	const json_t *node;
	size_t i;

	if (!p->job[0] || !json_is_array(nodes))
		return -EINVAL;
	/* New members first: the array moves as nodes are added. */
	json_array_foreach(nodes, i, node) {
		const char *name = json_string_value(json_object_get(node, "name"));
		const char *job = json_string_value(json_object_get(node, "job"));
		struct progress_node *pn;
		int r;

		if (!name || !job || !streq(job, p->job) || progress_find(p, name))
			continue;
		r = progress_add(p, name, &pn);
		if (r == -ENOMEM)
			return r;
		if (r == 0 && fn)
			fn(userdata, pn, PROGRESS_JOINED);
	}
	listed = calloc(p->n ? p->n : 1, sizeof(*listed));
	if (!listed)
		return -ENOMEM;
	json_array_foreach(nodes, i, node) {
		struct progress_node *pn;
		enum progress_change ch = progress_node(p, node, &pn);

		if (pn)
			listed[pn - p->nodes] = true;
		if (pn && ch != PROGRESS_NONE && fn)
			fn(userdata, pn, ch);
	}
	for (i = 0; i < p->n; i++) {
		struct progress_node *pn = &p->nodes[i];

		if (listed[i] || pn->bucket == PROGRESS_REPLACED || pn->bucket == PROGRESS_FAILED)
			continue;
		progress_set_check(p, pn, false);
		progress_copy(pn->reason, sizeof(pn->reason), "no longer known to bootsvc");
		progress_move(p, pn, PROGRESS_REPLACED);
		if (fn)
			fn(userdata, pn, PROGRESS_LEFT);
	}
	return 0;
}

bool
progress_finished(const struct progress *p)
{
	return p->count[PROGRESS_UP] + p->count[PROGRESS_FAILED] +
	    p->count[PROGRESS_REPLACED] == p->n;
}

bool
progress_job_complete(const struct progress *p, size_t want)
{
	return progress_finished(p) && p->count[PROGRESS_FAILED] == 0 &&
	    p->count[PROGRESS_UP] >= want;
}

void
progress_format(const struct progress *p, char *buf, size_t size)
{
	size_t o = 0;

	if (size == 0)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < ELEMENTSOF(line_order) + ELEMENTSOF(line_extra); i++) {
		enum progress_bucket b = i < ELEMENTSOF(line_order) ? line_order[i] :
		    line_extra[i - ELEMENTSOF(line_order)];
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
