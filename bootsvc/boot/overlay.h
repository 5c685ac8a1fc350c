/* SPDX-License-Identifier: MIT */
/* The per-node overlay: a newc cpio of files laid over the image root by the node's init
 * (docs/boot-protocol.md): hostname, hosts, node.conf, and the image's templates
 * rendered for the node. */
#pragma once

#include "bootsvc.h"

/* Build the overlay of node n booting image img into a new malloc'd buffer. */
int overlay_build(struct bootsvc *bs, const struct node_rec *n, const struct image_rec *img,
    char **ret, size_t *ret_len, struct dl_err *reterr);

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
