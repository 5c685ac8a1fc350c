/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/energy_acc.h"
#include "macro.h"

enum energy_state
energy_acc_state(const struct node_rec *n)
{
	static const char *const booting[] = { "powering-on", "pxe", "loading", "imaging" };

	if (strcmp(n->power, "off") == 0 || strcmp(n->phase, "off") == 0)
		return ES_OFF;
	if (strcmp(n->op, "booting") == 0)
		return ES_BOOTING;
	for (size_t i = 0; i < ELEMENTSOF(booting); i++)
		if (strcmp(n->phase, booting[i]) == 0)
			return ES_BOOTING;
	if (strcmp(n->power, "on") == 0 || strcmp(n->phase, "up") == 0)
		return ES_ON;
	return ES_UNKNOWN;
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

/* The store's energy rows, read in one query per pass (a query per node made a pass
 * thousands of statements on the loop at a site's size), sorted by name with strcmp so
 * lookups do not depend on the backend's collation. */
struct rows {
	struct energy_rec *r;
	size_t n, cap;
	int err;
};

static int
rows_add(const struct energy_rec *e, void *userdata)
{
	struct rows *rs = userdata;

	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 64;
		struct energy_rec *r = reallocarray(rs->r, cap, sizeof(*r));
		if (!r)
			return rs->err = -ENOMEM;
		rs->r = r;
		rs->cap = cap;
	}
	rs->r[rs->n++] = *e;
	return 0;
}

static int
rec_cmp(const void *a, const void *b)
{
	return strcmp(((const struct energy_rec *)a)->name, ((const struct energy_rec *)b)->name);
}

/* Every energy row of st, sorted: 0, -ENOMEM or the store's error (rs freed). */
static int
rows_load(struct store *st, struct rows *rs)
{
	int r = store_energy_foreach(st, rows_add, rs);

	if (r >= 0 && rs->err < 0)
		r = rs->err;
	if (r < 0) {
		free(rs->r);
		*rs = (struct rows){ 0 };
		return r;
	}
	if (rs->n)
		qsort(rs->r, rs->n, sizeof(*rs->r), rec_cmp);
	return 0;
}

static const struct energy_rec *
rows_find(const struct rows *rs, const char *name)
{
	struct energy_rec key;

	if (!rs->n)
		return NULL;
	(void)snprintf(key.name, sizeof(key.name), "%s", name);
	return bsearch(&key, rs->r, rs->n, sizeof(*rs->r), rec_cmp);
}

struct pass {
	struct energy_acc *a;
	const struct energy_model *m;
	int64_t now;
	struct rows rows;            /* the store's energy rows */
	struct energy_pending *next; /* the new table, built in name order */
	size_t n_next, cap_next;
	size_t cursor;               /* in a->p */
	bool images_full;
	int err;
};

static int
pass_node(const struct node_rec *n, void *userdata)
{
	struct pass *ps = userdata;
	struct energy_acc *a = ps->a;
	struct energy_pending *e, *old = NULL, *img;
	struct energy_totals d = { 0 };
	const struct energy_rec *found;
	struct energy_rec rec;
	enum energy_state s = energy_acc_state(n);
	int64_t at;

	while (ps->cursor < a->n && strcmp(a->p[ps->cursor].name, n->name) < 0)
		ps->cursor++; /* removed since */
	if (ps->cursor < a->n && strcmp(a->p[ps->cursor].name, n->name) == 0)
		old = &a->p[ps->cursor++];
	if ((found = rows_find(&ps->rows, n->name)))
		rec = *found;
	else {
		memset(&rec, 0, sizeof(rec));
		rec.at_ms = ps->now;
	}
	at = old ? old->at_ms : rec.at_ms;
	(void)energy_add(&d, ps->m, s, s == ES_OFF ? 0 : rec.last_w, rec.baseline_w,
	    ps->now - at);
	if (ps->n_next == ps->cap_next) {
		size_t cap = ps->cap_next ? ps->cap_next * 2 : 64;
		struct energy_pending *p = reallocarray(ps->next, cap, sizeof(*p));
		if (!p)
			return ps->err = -ENOMEM;
		ps->next = p;
		ps->cap_next = cap;
	}
	e = &ps->next[ps->n_next++];
	memset(e, 0, sizeof(*e));
	(void)snprintf(e->name, sizeof(e->name), "%s", n->name);
	e->at_ms = ps->now;
	if (old)
		e->d = old->d;
	energy_sum(&e->d, &d);
	if (d.on_mj || d.off_mj || d.saved_mj) {
		img = image_entry(a, n->image[0] ? n->image : "(none)");
		if (img)
			energy_sum(&img->d, &d);
		else
			ps->images_full = true; /* rare: flushed right after this pass */
	}
	return 0;
}

int
energy_acc_pass(struct energy_acc *a, struct store *st, const struct energy_model *m,
    int64_t now)
{
	struct pass ps = { .a = a, .m = m, .now = now };
	int r;

	if ((r = rows_load(st, &ps.rows)) < 0)
		return r;
	r = store_node_foreach(st, pass_node, &ps);
	free(ps.rows.r);
	if (r < 0 || ps.err < 0) {
		/* Image deltas of this pass may be in a->img already: the nodes' are not, so
		 * the next pass accounts the same time again; the images' totals can count
		 * this pass twice, which beats losing the nodes' (it needs ENOMEM). */
		free(ps.next);
		return ps.err < 0 ? ps.err : r;
	}
	free(a->p);
	a->p = ps.next;
	a->n = ps.n_next;
	a->cap = ps.cap_next;
	if (ps.images_full)
		return energy_acc_flush(a, st);
	return 0;
}

int
energy_acc_flush(struct energy_acc *a, struct store *st)
{
	struct node_rec n;
	struct energy_rec rec;
	const struct energy_rec *found;
	struct rows rows = { 0 };
	int r;

	if (a->n == 0 && a->n_img == 0)
		return 0;
	if ((r = store_begin(st)) < 0)
		return r;
	/* The rows in one query, inside the transaction: none changes under the loop. */
	if (a->n && (r = rows_load(st, &rows)) < 0) {
		store_rollback(st);
		return r;
	}
	for (size_t i = 0; i < a->n && r == 0; i++) {
		const struct energy_pending *e = &a->p[i];

		if (store_node_get(st, e->name, &n) < 0)
			continue; /* removed since the pass */
		if ((found = rows_find(&rows, e->name)))
			rec = *found;
		else {
			memset(&rec, 0, sizeof(rec));
			(void)snprintf(rec.name, sizeof(rec.name), "%s", e->name);
		}
		rec.on_mj += e->d.on_mj;
		rec.off_mj += e->d.off_mj;
		rec.saved_mj += e->d.saved_mj;
		rec.at_ms = e->at_ms;
		r = store_energy_put(st, &rec);
	}
	free(rows.r);
	for (size_t i = 0; i < a->n_img && r == 0; i++)
		r = store_energy_image_add(st, a->img[i].name, a->img[i].d.on_mj,
		    a->img[i].d.off_mj, a->img[i].d.saved_mj);
	if (r < 0) {
		store_rollback(st);
		return r;
	}
	if ((r = store_commit(st)) < 0)
		return r;
	/* Flushed: the clocks now live in the store; nothing pending. */
	a->n = 0;
	a->n_img = 0;
	return 0;
}

void
energy_acc_done(struct energy_acc *a)
{
	free(a->p);
	memset(a, 0, sizeof(*a));
}
