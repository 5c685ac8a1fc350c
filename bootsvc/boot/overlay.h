/* SPDX-License-Identifier: MIT */
/* The per-node overlay: a newc cpio of files laid over the image root by the node's init
 * (docs/boot-protocol.md): hostname, hosts, node.conf, and the image's templates
 * rendered for the node. */
#pragma once

#include "bootsvc.h"

/* Build the overlay of node n booting image img into a new malloc'd buffer: prepare then
 * render, on the calling thread. */
int overlay_build(struct bootsvc *bs, const struct node_rec *n, const struct image_rec *img,
    char **ret, size_t *ret_len, struct dl_err *reterr);

/* The two halves, so the slow one runs off the loop (api_node.c): prepare, on the loop,
 * reads what needs the store (the hosts of every node) and copies what needs the config;
 * render, on any thread, reads the site files and templates from disk and writes the
 * archive. The input is self-contained: nothing in it points into bs. */
struct privsep;
struct overlay_input {
	struct node_rec n;
	struct image_rec img;
	char boot_url[128];
	char site_overlay[MAX_CONF_PATH];
	struct privsep *privsep; /* root-only site files are asked of the parent (locked) */
	char *hosts;        /* /etc/hosts, owned */
	size_t hosts_len;
};
int overlay_prepare(struct bootsvc *bs, const struct node_rec *n, const struct image_rec *img,
    struct overlay_input *ret, struct dl_err *reterr);
int overlay_render(const struct overlay_input *in, char **ret, size_t *ret_len,
    struct dl_err *reterr);
/* Free what prepare allocated (in itself is the caller's). */
void overlay_input_done(struct overlay_input *in);

/* Append one newc entry (mode: S_IFREG|0644, S_IFDIR|0755...) to a growing buffer;
 * exposed for tests. The trailer is added by cpio_finish. */
struct cpio_buf {
	char *data;
	size_t len, cap;
	unsigned ino;
};
int cpio_add(struct cpio_buf *b, const char *name, unsigned mode, const void *data, size_t len);
int cpio_finish(struct cpio_buf *b);

/* Append every regular file and symlink under dir (the site_overlay key) at its path
 * relative to dir, permission bits kept, owner root; directories are not sent (the init
 * creates missing ones 0755, existing ones keep their owner and mode). A missing dir
 * adds nothing. Exposed for tests. */
int overlay_add_site(struct cpio_buf *b, const char *dir, struct dl_err *reterr);
/* The same, and a file this process may not read (EACCES) is asked of bootsvc's root
 * parent through p (privsep.h; NULL: not asked), beneath the same dir. */
struct privsep;
int overlay_add_site_via(struct cpio_buf *b, const char *dir, struct privsep *p,
    struct dl_err *reterr);
