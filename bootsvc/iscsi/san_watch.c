/* SPDX-License-Identifier: MIT */
/* The phases of sanbooting nodes, seen by bootsvc itself (san_watch.h). */
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "iscsi/san_watch.h"
#include "iscsi/tgt.h"
#include "kind.h"
#include "log.h"
#include "manifest.h"
#include "action/work.h"
#include "boot/nodes.h"
#include "privsep/privsep.h"

/* A node this tick looks at. */
struct watched {
	char name[MAX_NODE_NAME];
	char ip[16];
	char served[SHA256_HEX_SIZE];
	bool pxe;      /* else loading */
	unsigned port; /* the image's up_probe; 0: none */
};

struct probe {
	struct san_watch *w;
	int fd;
	int64_t timer;
	char name[MAX_NODE_NAME];
	char served[SHA256_HEX_SIZE];
};

/* The sessions job: handed to the watcher's thread and back. */
struct sessions_job {
	struct work_item item;
	struct san_watch *w;
	struct tgt_session s[MAX_TGT_SESSIONS];
	size_t n;
	int r;
	struct dl_err err;
};

struct san_watch {
	struct bootsvc *bs;
	struct work *work;
	int64_t timer;
	bool sessions_busy;
	struct probe *probes[MAX_SAN_PROBES];
	unsigned n_probes;
	/* Built each tick, read by the sessions job's done(). */
	struct watched *nodes;
	size_t n_nodes;
	int last_sessions_err; /* logged once per run of the same error */
	unsigned quiet_ticks;  /* ticks since tgtd's sessions were last read */
};

static void tick(struct loop *l, void *userdata);

static void
schedule(struct san_watch *w)
{
	w->timer = loop_add_timer(w->bs->loop, loop_now_ms() + SAN_WATCH_TICK_MS, tick, w);
}

/* Is a node of image id (served) sanbooting, and what does its probe say? */
struct image_memo {
	char id[SHA256_HEX_SIZE];
	bool sanboot;
	unsigned port;
};
#define MAX_IMAGE_MEMO 16

struct scan {
	struct san_watch *w;
	struct image_memo memo[MAX_IMAGE_MEMO];
	size_t n_memo;
};

static const struct image_memo *
image_of(struct scan *sc, const char *id)
{
	struct image_rec img;
	struct image_memo *m;
	const struct kind *k;

	for (size_t i = 0; i < sc->n_memo; i++)
		if (strcmp(sc->memo[i].id, id) == 0)
			return &sc->memo[i];
	/* Beyond the memo's size (more sanboot images than it holds at once) the oldest
	 * entry goes: a lookup more, never a wrong answer. */
	if (sc->n_memo == MAX_IMAGE_MEMO)
		memmove(sc->memo, sc->memo + 1, sizeof(sc->memo[0]) * --sc->n_memo);
	m = &sc->memo[sc->n_memo++];
	memset(m, 0, sizeof(*m));
	(void)snprintf(m->id, sizeof(m->id), "%s", id);
	if (store_image_get(sc->w->bs->store, id, &img) < 0)
		return m;
	k = kind_find(img.kind);
	m->sanboot = kind_is_sanboot(k);
	if (m->sanboot && img.up_probe[0] && manifest_probe_port(img.up_probe, &m->port) < 0)
		m->port = 0;
	return m;
}

static int
scan_one(const struct node_rec *n, void *userdata)
{
	struct scan *sc = userdata;
	struct san_watch *w = sc->w;
	const struct image_memo *m;
	struct watched *x;
	bool pxe = strcmp(n->phase, "pxe") == 0;

	if ((!pxe && strcmp(n->phase, "loading") != 0) || !n->served_image[0] || !n->ip[0])
		return 0;
	if (w->n_nodes >= MAX_SAN_WATCH)
		return 0;
	m = image_of(sc, n->served_image);
	if (!m->sanboot)
		return 0;
	x = &w->nodes[w->n_nodes++];
	(void)snprintf(x->name, sizeof(x->name), "%s", n->name);
	(void)snprintf(x->ip, sizeof(x->ip), "%s", n->ip);
	(void)snprintf(x->served, sizeof(x->served), "%s", n->served_image);
	x->pxe = pxe;
	x->port = m->port;
	return 0;
}

/* Is the node still where this tick saw it: same phase, same version served? */
static bool
still(struct san_watch *w, const char *name, const char *phase, const char *served,
    struct node_rec *ret)
{
	return store_node_get(w->bs->store, name, ret) >= 0 && strcmp(ret->phase, phase) == 0 &&
	    strcmp(ret->served_image, served) == 0;
}

/* --- pxe -> loading: tgtd's sessions */

static void
sessions_run(struct work_item *item)
{
	struct sessions_job *j = (struct sessions_job *)item;

	j->r = privsep_tgt_sessions(j->w->bs->privsep, j->s, MAX_TGT_SESSIONS, &j->n, &j->err);
}

static void
sessions_done(struct work_item *item)
{
	struct sessions_job *j = (struct sessions_job *)item;
	struct san_watch *w = j->w;
	const struct config *cfg = &w->bs->cfg;
	char want[MAX_ISCSI_NAME];

	w->sessions_busy = false;
	if (atomic_load(&item->cancelled)) { /* stopping: touch nothing */
		free(j);
		return;
	}
	if (j->r < 0) {
		if (j->r != w->last_sessions_err)
			log_warning("event=san_sessions msg=\"cannot read tgtd's sessions: %s\"",
			    j->err.msg);
		w->last_sessions_err = j->r;
		free(j);
		return;
	}
	w->last_sessions_err = 0;
	for (size_t i = 0; i < w->n_nodes; i++) {
		const struct watched *x = &w->nodes[i];
		struct node_rec n;

		if (!x->pxe || tgt_initiator_name(cfg->iscsi_iqn, x->name, want, sizeof(want)) < 0)
			continue;
		if (!tgt_session_find(j->s, j->n, want, x->ip))
			continue;
		if (still(w, x->name, "pxe", x->served, &n))
			(void)nodes_set_phase(w->bs, x->name, "loading", "");
	}
	free(j);
}

static void
sessions_start(struct san_watch *w)
{
	struct sessions_job *j;

	if (w->sessions_busy || !w->bs->privsep)
		return;
	j = calloc(1, sizeof(*j));
	if (!j)
		return;
	j->item.run = sessions_run;
	j->item.done = sessions_done;
	j->w = w;
	if (work_submit(w->work, &j->item) < 0) {
		free(j);
		return;
	}
	w->sessions_busy = true;
}

/* --- loading -> up: the image's probe */

static void
probe_end(struct probe *p, bool ok)
{
	struct san_watch *w = p->w;
	struct node_rec n;

	loop_del_fd(w->bs->loop, p->fd);
	close(p->fd);
	if (p->timer >= 0)
		loop_cancel_timer(w->bs->loop, p->timer);
	for (unsigned i = 0; i < w->n_probes; i++)
		if (w->probes[i] == p) {
			w->probes[i] = w->probes[--w->n_probes];
			break;
		}
	/* Up only for the version served (it is what the clone was made from): the node's
	 * booted image, as a receipt would have proved for a kind of ours. */
	if (ok && still(w, p->name, "loading", p->served, &n)) {
		(void)snprintf(n.booted_image, sizeof(n.booted_image), "%s", p->served);
		(void)store_node_update_ctrl(w->bs->store, &n);
		(void)nodes_set_phase(w->bs, p->name, "up", "");
	}
	free(p);
}

static void
probe_ready(struct loop *l, int fd, uint32_t events, void *userdata)
{
	struct probe *p = userdata;
	int err = 0;
	socklen_t len = sizeof(err);

	(void)l;
	(void)events;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	probe_end(p, err == 0);
}

static void
probe_timeout(struct loop *l, void *userdata)
{
	struct probe *p = userdata;

	(void)l;
	p->timer = -1; /* fired: nothing to cancel */
	probe_end(p, false);
}

static bool
probing(const struct san_watch *w, const char *name)
{
	for (unsigned i = 0; i < w->n_probes; i++)
		if (strcmp(w->probes[i]->name, name) == 0)
			return true;
	return false;
}

static void
probe_start(struct san_watch *w, const struct watched *x)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)x->port) };
	struct probe *p;
	int fd;

	if (w->n_probes >= MAX_SAN_PROBES || probing(w, x->name) ||
	    inet_pton(AF_INET, x->ip, &sa.sin_addr) != 1)
		return;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
		close(fd);
		return;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		close(fd);
		return;
	}
	p->w = w;
	p->fd = fd;
	(void)snprintf(p->name, sizeof(p->name), "%s", x->name);
	(void)snprintf(p->served, sizeof(p->served), "%s", x->served);
	if (loop_add_fd(w->bs->loop, fd, EPOLLOUT, probe_ready, p) < 0) {
		close(fd);
		free(p);
		return;
	}
	p->timer = loop_add_timer(w->bs->loop, loop_now_ms() + SAN_PROBE_TIMEOUT_MS,
	    probe_timeout, p);
	w->probes[w->n_probes++] = p;
}

static void
tick(struct loop *l, void *userdata)
{
	struct san_watch *w = userdata;
	struct scan sc = { .w = w };
	bool any_pxe = false;

	(void)l;
	/* The sessions job reads w->nodes when it ends: keep them until it has. */
	if (!w->sessions_busy) {
		w->n_nodes = 0;
		(void)store_node_foreach(w->bs->store, scan_one, &sc);
	}
	for (size_t i = 0; i < w->n_nodes; i++) {
		if (w->nodes[i].pxe)
			any_pxe = true;
		else if (w->nodes[i].port)
			probe_start(w, &w->nodes[i]);
	}
	/* A node in pxe waits for its login to be seen: every tick. Otherwise tgtd's sessions
	 * are still read now and then, since reading them is when the root parent drops a
	 * login under another node's initiator name (tgtd admits by address and CHAP only:
	 * docs/iscsi.md "Who may log in"). */
	if (any_pxe || ++w->quiet_ticks >= SAN_SESSIONS_EVERY) {
		w->quiet_ticks = 0;
		sessions_start(w);
	}
	schedule(w);
}

int
san_watch_new(struct bootsvc *bs, struct san_watch **ret, struct dl_err *reterr)
{
	struct san_watch *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return dl_err_set(reterr, -ENOMEM, "san watch: out of memory");
	w->bs = bs;
	w->timer = -1;
	if (bs->cfg.iscsi) {
		w->nodes = calloc(MAX_SAN_WATCH, sizeof(*w->nodes));
		if (!w->nodes) {
			free(w);
			return dl_err_set(reterr, -ENOMEM, "san watch: out of memory");
		}
		/* One thread: a tick asks tgtd once; a privsep request that hangs holds only it. */
		r = work_new(bs->loop, "sanwatch", 1, 1, &w->work);
		if (r < 0) {
			free(w->nodes);
			free(w);
			return dl_err_set(reterr, r, "san watch: cannot start its thread");
		}
		schedule(w);
	}
	*ret = w;
	return 0;
}

struct san_watch *
san_watch_free(struct san_watch *w)
{
	if (!w)
		return NULL;
	if (w->timer >= 0)
		loop_cancel_timer(w->bs->loop, w->timer);
	while (w->n_probes) {
		struct probe *p = w->probes[0];
		loop_del_fd(w->bs->loop, p->fd);
		close(p->fd);
		if (p->timer >= 0)
			loop_cancel_timer(w->bs->loop, p->timer);
		w->probes[0] = w->probes[--w->n_probes];
		free(p);
	}
	/* Completes a queued job as cancelled: its done() runs and frees it. */
	work_free(w->work);
	free(w->nodes);
	free(w);
	return NULL;
}
