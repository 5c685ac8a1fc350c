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
	/* A VM host's boot (lib/kind.h kind_is_vm_host): the CA its libvirt certificate is
	 * issued from, PEM copies of bs->pki made at prepare (owned; the key is wiped by
	 * overlay_input_done). NULL for every other kind. */
	bool vm_host;
	char *ca_crt, *ca_key;
	size_t ca_crt_len, ca_key_len;
};
int overlay_prepare(struct bootsvc *bs, const struct node_rec *n, const struct image_rec *img,
    struct overlay_input *ret, struct dl_err *reterr);
int overlay_render(const struct overlay_input *in, char **ret, size_t *ret_len,
    struct dl_err *reterr);
/* A VM host's overlay also holds a fresh key and certificate for this boot, issued by
 * render from the CA prepare copied (docs/security.md "Hypervisor TLS"): CN and DNS name
 * the node's name, IP its fixed address (none without one), TLS server and client,
 * OVERLAY_VMHOST_DAYS; at libvirt's default paths (OVERLAY_PKI_*). Without a CA, prepare
 * (and render) fail with -ENOKEY and a message saying why and what to run. */
#define OVERLAY_VMHOST_OU "diskless-vmhost"
#define OVERLAY_VMHOST_DAYS 30
#define OVERLAY_PKI_CACERT "etc/pki/CA/cacert.pem"
#define OVERLAY_PKI_SERVERCERT "etc/pki/libvirt/servercert.pem"
#define OVERLAY_PKI_SERVERKEY "etc/pki/libvirt/private/serverkey.pem"
#define OVERLAY_PKI_CLIENTCERT "etc/pki/libvirt/clientcert.pem"
#define OVERLAY_PKI_CLIENTKEY "etc/pki/libvirt/private/clientkey.pem"

/* How stale the /etc/hosts an overlay carries may be. Building it reads every node; a
 * reimage of N nodes asks N overlays, so without the cache that was N x N rows on the
 * loop (14 million at the seed's 3,780 nodes: 43% of bootsvc's CPU in `make bench`'s
 * reimage row). A second is well inside a boot and far fresher than xCAT's makehosts,
 * which runs when an admin says so; a node's own line is there long before it boots. */
#define OVERLAY_HOSTS_MS 1000
/* Free the cached /etc/hosts (bs's teardown). */
void overlay_hosts_done(struct overlay_hosts *h);

/* Free what prepare allocated (in itself is the caller's), the CA key wiped. */
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
