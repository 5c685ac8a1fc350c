/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/energy_acc.h"
#include "grow.h"
#include "macro.h"

static enum energy_state
state_of(const char *power, const char *phase, const char *op)
{
	static const char *const booting[] = { "powering-on", "pxe", "loading", "imaging" };

	if (strcmp(power, "off") == 0 || strcmp(phase, "off") == 0)
		return ES_OFF;
	if (strcmp(op, "booting") == 0)
		return ES_BOOTING;
	for (size_t i = 0; i < ELEMENTSOF(booting); i++)
		if (strcmp(phase, booting[i]) == 0)
			return ES_BOOTING;
	if (strcmp(power, "on") == 0 || strcmp(phase, "up") == 0)
		return ES_ON;
	return ES_UNKNOWN;
}

enum energy_state
energy_acc_state(const struct node_rec *n)
{
	return state_of(n->power, n->phase, n->op);
}

/* The image's entry, added if new; NULL when the table is full. */
static struct energy_pending *
image_entry(struct energy_acc *a, const char *image)
{
	for (size_t i = 0; i < a->n_img; i++)
		if (strcmp(a->img[i].name, image) == 0)
			return &a->img[i];
	if (a->n_img == MAX_ENERGY_IMAGES)
		return NULL;
	memset(&a->img[a->n_img], 0, sizeof(a->img[0]));
	(void)snprintf(a->img[a->n_img].name, sizeof(a->img[0].name), "%s", image);
	return &a->img[a->n_img++];
}

static int
pending_cmp(const void *a, const void *b)
{
	return strcmp(((const struct energy_pending *)a)->name,
	    ((const struct energy_pending *)b)->name);
}

/* name's entry in the table, or NULL. */
static struct energy_pending *
pending_find(const struct energy_acc *a, const char *name)
{
	struct energy_pending key;

	if (!a->n)
		return NULL;
	(void)snprintf(key.name, sizeof(key.name), "%s", name);
	return bsearch(&key, a->p, a->n, sizeof(*a->p), pending_cmp);
}

struct step {
	struct energy_acc *a;
	const struct energy_model *m;
	int64_t now;
	int err;
};

/* One node of a pass's page: its time since the last pass added to its entry in the new
 * table and to its image's. */
static int
pass_node(const struct energy_node *n, void *userdata)
{
	struct step *ps = userdata;
	struct energy_acc *a = ps->a;
	const struct energy_pending *old = pending_find(a, n->name);
	const struct energy_rec *rec = &n->row;
	struct energy_pending *e, *img;
	struct energy_totals d = { 0 };
	enum energy_state s = state_of(n->power, n->phase, n->op);
	int64_t at = old ? old->at_ms : rec->name[0] ? rec->at_ms : ps->now;

	(void)energy_add(&d, ps->m, s, s == ES_OFF ? 0 : rec->last_w, rec->baseline_w,
	    ps->now - at);
	if (grow((void **)&a->next, &a->cap_next, a->n_next, sizeof(*a->next)) < 0)
		return ps->err = -ENOMEM;
	e = &a->next[a->n_next++];
	memset(e, 0, sizeof(*e));
	(void)snprintf(e->name, sizeof(e->name), "%s", n->name);
	(void)snprintf(a->walked, sizeof(a->walked), "%s", n->name);
	e->at_ms = ps->now;
	if (old)
		e->d = old->d;
	energy_sum(&e->d, &d);
	if (d.on_mj || d.off_mj || d.saved_mj) {
		img = image_entry(a, n->image[0] ? n->image : "(none)");
		if (img)
			energy_sum(&img->d, &d);
		else
			a->images_full = true; /* rare: flushed right after this pass */
	}
	return 0;
}

int
energy_acc_step(struct energy_acc *a, struct store *st, const struct energy_model *m,
    int64_t now, size_t limit, bool *ret_done)
{
	struct step ps = { .a = a, .m = m, .now = now };
	int r;

	*ret_done = false;
	if (a->flushing)
		return -EBUSY;
	if (!a->walking) {
		a->walking = true;
		a->walked[0] = '\0';
		a->n_next = 0;
	}
	r = store_energy_nodes(st, a->walked, limit, pass_node, &ps);
	if (r < 0 || ps.err < 0) {
		a->walking = false;
		return ps.err < 0 ? ps.err : r;
	}
	if ((size_t)r == limit)
		return 0;
	/* The walk is over: its table replaces the last, in name order (already so when
	 * the backend walks in strcmp's order, as SQLite does, which the sort finds in one
	 * run); the nodes it did not meet were removed since. */
	qsort(a->next, a->n_next, sizeof(*a->next), pending_cmp);
	free(a->p);
	a->p = a->next;
	a->n = a->n_next;
	a->cap = a->cap_next;
	a->next = NULL;
	a->n_next = a->cap_next = 0;
	a->walking = false;
	*ret_done = true;
	return 0;
}

int
energy_acc_pass(struct energy_acc *a, struct store *st, const struct energy_model *m,
    int64_t now)
{
	bool done = false;
	int r;

	while (!done)
		if ((r = energy_acc_step(a, st, m, now, SIZE_MAX, &done)) < 0)
			return r;
	if (a->images_full)
		return energy_acc_flush(a, st);
	return 0;
}

/* A flush step's page: the nodes with an entry, with their rows as they are now. */
struct page {
	struct energy_node *n;
	size_t count, cap;
	char last[MAX_NODE_NAME];
	int err;
};

static int
page_add(const struct energy_node *n, void *userdata)
{
	struct page *pg = userdata;

	(void)snprintf(pg->last, sizeof(pg->last), "%s", n->name);
	if (grow((void **)&pg->n, &pg->cap, pg->count, sizeof(*pg->n)) < 0)
		return pg->err = -ENOMEM;
	pg->n[pg->count++] = *n;
	return 0;
}

/* A page's rows with what is pending added, and the images' after the last page: 0 or
 * the store's error. */
static int
flush_page(struct energy_acc *a, struct store *st, const struct page *pg, bool last)
{
	int r = 0;

	for (size_t i = 0; i < pg->count && r == 0; i++) {
		const struct energy_pending *e = pending_find(a, pg->n[i].name);
		struct energy_rec rec = pg->n[i].row;

		if (!e)
			continue;
		if (!rec.name[0])
			(void)snprintf(rec.name, sizeof(rec.name), "%s", e->name);
		rec.on_mj += e->d.on_mj;
		rec.off_mj += e->d.off_mj;
		rec.saved_mj += e->d.saved_mj;
		rec.at_ms = e->at_ms;
		r = store_energy_put(st, &rec);
	}
	for (size_t i = 0; last && i < a->n_img && r == 0; i++)
		r = store_energy_image_add(st, a->img[i].name, a->img[i].d.on_mj,
		    a->img[i].d.off_mj, a->img[i].d.saved_mj);
	return r;
}

int
energy_acc_flush_step(struct energy_acc *a, struct store *st, size_t limit,
    bool *ret_done)
{
	struct page pg = { 0 };
	bool last;
	int r;

	*ret_done = false;
	if (a->walking)
		return -EBUSY;
	if (!a->flushing) {
		if (a->n == 0 && a->n_img == 0) {
			*ret_done = true;
			return 0;
		}
		a->flushing = true;
		a->flushed[0] = '\0';
	}
	if ((r = store_begin(st)) < 0)
		goto fail;
	/* the page and its rows inside the transaction: none changes under the loop */
	r = store_energy_nodes(st, a->flushed, limit, page_add, &pg);
	if (r >= 0 && pg.err < 0)
		r = pg.err;
	last = r >= 0 && (size_t)r < limit;
	if (r >= 0)
		r = flush_page(a, st, &pg, last);
	if (r < 0) {
		store_rollback(st);
		goto fail;
	}
	if ((r = store_commit(st)) < 0)
		goto fail;
	/* Written: those nodes' clocks now live in the store too; nothing of them pending. */
	for (size_t i = 0; i < pg.count; i++) {
		struct energy_pending *e = pending_find(a, pg.n[i].name);

		if (e)
			memset(&e->d, 0, sizeof(e->d));
	}
	if (pg.count)
		memcpy(a->flushed, pg.last, sizeof(a->flushed));
	if (last) {
		a->n_img = 0;
		a->images_full = false;
		a->flushing = false;
		*ret_done = true;
	}
	free(pg.n);
	return 0;
fail:
	free(pg.n);
	a->flushing = false;
	return r;
}

int
energy_acc_flush(struct energy_acc *a, struct store *st)
{
	bool done = false;
	int r;

	while (!done)
		if ((r = energy_acc_flush_step(a, st, SIZE_MAX, &done)) < 0)
			return r;
	return 0;
}

void
energy_acc_done(struct energy_acc *a)
{
	free(a->p);
	free(a->next);
	memset(a, 0, sizeof(*a));
}
