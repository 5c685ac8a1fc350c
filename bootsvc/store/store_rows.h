/* SPDX-License-Identifier: MIT */
/* The rows a request is answered from: the loop's store, or a reader thread's read-only
 * view of it (store_reader). The routes that a reader thread answers too (http_ipxe.c,
 * http_images.c) look their rows up through these, so the loop and the readers run the
 * same lookups and decisions on either; rules over rows that both need live here once
 * (rows_boot_image, which nodes_boot_image() is on the loop's store). */
#pragma once

#include "store/store.h"

struct rows {
	struct store *s;         /* the loop's: its batch, its cache */
	struct store_reader *rd; /* a reader thread's, when set */
};

static inline int
rows_node_by_mac(const struct rows *w, const char *mac, struct node_rec *n)
{
	return w->rd ? store_reader_node_get_by_mac(w->rd, mac, n) :
	    store_node_get_by_mac(w->s, mac, n);
}

static inline int
rows_node(const struct rows *w, const char *name, struct node_rec *n)
{
	return w->rd ? store_reader_node_get(w->rd, name, n) : store_node_get(w->s, name, n);
}

static inline int
rows_node_by_ip(const struct rows *w, const char *ip, struct node_rec *n)
{
	return w->rd ? store_reader_node_get_by_ip(w->rd, ip, n) :
	    store_node_get_by_ip(w->s, ip, n);
}

static inline int
rows_image(const struct rows *w, const char *id, struct image_rec *img)
{
	return w->rd ? store_reader_image_get(w->rd, id, img) : store_image_get(w->s, id, img);
}

/* The version n boots: its pin, else its image's current version. 0, -ENOENT (no pin
 * and no image, or no such version), -EIO. */
static inline int
rows_boot_image(const struct rows *w, const struct node_rec *n, struct image_rec *img)
{
	if (n->image_pin[0])
		return rows_image(w, n->image_pin, img);
	if (!n->image[0])
		return -ENOENT;
	return w->rd ? store_reader_image_current(w->rd, n->image, img) :
	    store_image_current(w->s, n->image, img);
}
