/* SPDX-License-Identifier: MIT */
/* Each iscsi node's disk: its clone made on a worker, its target set and dropped in tgtd
 * through the root parent, rebuilt after tgtd restarts (disks.h). Loop thread, but for
 * the jobs' run(). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "bootsvc.h"
#include "kind.h"
#include "log.h"
#include "macro.h"
#include "strbuf.h"
#include "action/work.h"
#include "boot/nodes.h"
#include "iscsi/disk_clone.h"
#include "iscsi/disk_secret.h"
#include "iscsi/disks.h"

_Static_assert(MAX_DISK_CHAP == MAX_CHAP_NAME && MAX_DISK_CHAP == MAX_CHAP_SECRET,
    "the store keeps what tgt.h carries");
_Static_assert(MAX_DISK_TID <= MAX_TGT_TARGETS, "a stored tid is one tgtd takes");
_Static_assert(DISK_SECRET_LEN < MAX_DISK_CHAP, "a secret fits its column");

/* Clone times counted in the histogram's buckets (seconds): a reflink is milliseconds,
 * a copy of a few GiB tens of seconds. */
static const double clone_buckets[] = { 0.01, 0.1, 1, 10, 60, 300 };
#define N_BUCKETS ELEMENTSOF(clone_buckets)

enum job_kind { J_MAKE, J_DROP, J_SET, J_STATUS };

struct job {
	struct work_item w; /* first: the pool hands it back as a work_item */
	struct disks *d;
	enum job_kind kind;
	char node[MAX_NODE_NAME];
	char boot[MAX_DISK_BOOT];        /* J_MAKE: the boot it is made for */
	char golden[MAX_STORE_PATH + 16];
	char dir[MAX_STORE_PATH];
	enum disk_clone method;
	uint32_t old_tid;                /* J_MAKE, J_DROP: the target to drop first, 0 none */
	bool remove_clone;               /* J_DROP */
	struct tgt_target t;             /* J_MAKE (once made), J_SET */
	bool set_target;
	bool qcow2_offered;              /* J_MAKE: qsd runs */
	bool old_qcow2;                  /* J_MAKE, J_DROP: the disk replaced is a qcow2 one */
	bool reexport;                   /* J_SET: a qcow2 disk, qsd restarted: export again */
	/* results */
	int r;
	struct dl_err err;
	struct disk_clone_result res;
	int tgt_r;
	struct dl_err tgt_err;
	uint64_t generation;
	pid_t pid;
	uint64_t restarts;
	int qsd_r;                       /* J_STATUS: qsd's */
	uint64_t qsd_generation;
	pid_t qsd_pid;
};

struct flight {
	char node[MAX_NODE_NAME];
	struct flight *next;
};

struct disks {
	struct bootsvc *bs;
	struct disks_tgt_ops ops;
	bool have_ops;
	struct work *pool;
	int64_t timer;
	struct flight *flights;   /* nodes whose clone a worker is making */
	bool status_pending;
	bool generation_known;
	uint64_t generation;
	bool have_qsd;            /* the ops have the qcow2 calls */
	bool qsd_up;              /* qsd's pid was not 0 at the last tick */
	bool qsd_known;
	uint64_t qsd_generation;
	bool warned_no_ops;
	/* metrics */
	uint64_t clones[_DISK_CLONE_MAX];
	uint64_t clone_failures;
	double clone_seconds_sum;
	uint64_t clone_buckets[N_BUCKETS];
	uint64_t clone_count;
};

bool
disks_in_flight(const struct disks *d, const char *node)
{
	for (const struct flight *f = d ? d->flights : NULL; f; f = f->next)
		if (strcmp(f->node, node) == 0)
			return true;
	return false;
}

static int
flight_add(struct disks *d, const char *node)
{
	struct flight *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	(void)snprintf(f->node, sizeof(f->node), "%s", node);
	f->next = d->flights;
	d->flights = f;
	return 0;
}

static void
flight_del(struct disks *d, const char *node)
{
	for (struct flight **p = &d->flights; *p; p = &(*p)->next)
		if (strcmp((*p)->node, node) == 0) {
			struct flight *f = *p;

			*p = f->next;
			free(f);
			return;
		}
}

int
disks_target(const struct bootsvc *bs, const struct node_rec *n, const struct disk_rec *dr,
    struct tgt_target *t, struct dl_err *reterr)
{
	memset(t, 0, sizeof(*t));
	t->tid = dr->tid;
	if (tgt_target_name(bs->cfg.iscsi_iqn, n->name, t->iqn, sizeof(t->iqn)) < 0 ||
	    tgt_initiator_name(bs->cfg.iscsi_iqn, n->name, t->initiator_name,
	    sizeof(t->initiator_name)) < 0)
		return dl_err_set(reterr, -ENAMETOOLONG, "node '%s': its iSCSI names are longer "
		    "than %d bytes (iscsi_iqn '%s')", n->name, MAX_ISCSI_NAME - 1,
		    bs->cfg.iscsi_iqn);
	(void)snprintf(t->backing, sizeof(t->backing), "%s", dr->path);
	(void)snprintf(t->initiator_addr, sizeof(t->initiator_addr), "%s", n->ip);
	(void)snprintf(t->chap_user, sizeof(t->chap_user), "%s", dr->chap_user);
	(void)snprintf(t->chap_secret, sizeof(t->chap_secret), "%s", dr->chap_secret);
	if (bs->cfg.iscsi_mutual_chap) {
		(void)snprintf(t->mutual_user, sizeof(t->mutual_user), "%s", dr->mutual_user);
		(void)snprintf(t->mutual_secret, sizeof(t->mutual_secret), "%s",
		    dr->mutual_secret);
	}
	return 0;
}

/* --- worker side: no loop state, only the job --- */

static void
job_run(struct work_item *w)
{
	struct job *j = (struct job *)w;
	struct disks *d = j->d;
	struct privsep *p = d->bs->privsep;

	switch (j->kind) {
	case J_STATUS:
		j->r = d->ops.status(p, &j->pid, &j->restarts, &j->generation, &j->err);
		if (d->have_qsd) {
			uint64_t restarts;
			struct dl_err err = { 0 };
			j->qsd_r = d->ops.qsd_status(p, &j->qsd_pid, &restarts, &j->qsd_generation,
			    &err);
		}
		return;
	case J_SET:
		if (j->reexport) {
			j->tgt_r = d->ops.export(p, j->node, j->golden, j->t.backing,
			    sizeof(j->t.backing), &j->tgt_err);
			if (j->tgt_r < 0)
				return;
		}
		j->tgt_r = d->ops.set(p, &j->t, &j->tgt_err);
		return;
	case J_DROP:
	case J_MAKE:
		/* The old target goes first: tgtd holds the old clone open, and a node must
		 * never reach a disk that is being replaced or removed. */
		if (j->old_tid && d->have_ops) {
			j->tgt_r = d->ops.del(p, j->old_tid, &j->tgt_err);
			if (j->tgt_r == -ENOENT)
				j->tgt_r = 0; /* not there (tgtd restarted): gone either way */
			if (j->tgt_r < 0) {
				j->r = j->tgt_r;
				j->err = j->tgt_err;
				return;
			}
		}
		/* A qcow2 disk's overlay is the parent's: its export ends and, for a drop
		 * or a new disk, the overlay goes (a new disk starts from the golden). */
		if (j->old_qcow2 && d->have_qsd) {
			j->r = d->ops.unexport(p, j->node, j->kind == J_MAKE || j->remove_clone,
			    &j->err);
			if (j->r < 0)
				return;
		}
		if (j->kind == J_DROP) {
			j->r = j->remove_clone ? disk_clone_remove(j->dir, j->node, &j->err) : 0;
			return;
		}
		{
			struct disk_clone_req q = {
				.golden = j->golden, .dir = j->dir, .node = j->node,
				.method = j->method, .qcow2_offered = j->qcow2_offered,
				.cancel = &j->w.cancelled,
			};

			j->r = disk_clone_make(&q, &j->res, &j->err);
		}
		if (j->r == 0 && j->res.method == DISK_CLONE_QCOW2) {
			char overlay[MAX_STORE_PATH];
			int64_t apparent;

			/* a fresh overlay: an earlier one (a reset, a crash) goes first */
			j->r = d->ops.unexport(p, j->node, true, &j->err);
			if (j->r == 0)
				j->r = d->ops.export(p, j->node, j->golden, j->res.path,
				    sizeof(j->res.path), &j->err);
			if (j->r < 0)
				return;
			/* <state_dir>/qsd/overlays is root's 0711: its files can be stat'ed */
			if (snprintf(overlay, sizeof(overlay), "%s/qsd/overlays/%s.qcow2",
			    d->bs->cfg.state_dir, j->node) < (int)sizeof(overlay))
				(void)disk_clone_stat(overlay, &apparent, &j->res.allocated_bytes);
		}
		if (j->r == 0 && j->set_target) {
			(void)snprintf(j->t.backing, sizeof(j->t.backing), "%s", j->res.path);
			j->tgt_r = d->ops.set(p, &j->t, &j->tgt_err);
		}
		return;
	}
}

/* --- loop side --- */

static void
job_free(struct job *j)
{
	explicit_bzero(&j->t, sizeof(j->t)); /* CHAP secrets */
	free(j);
}

static void
count_clone(struct disks *d, const struct disk_clone_result *res)
{
	double s = (double)res->ms / 1000.0;

	if (res->method >= 0 && res->method < _DISK_CLONE_MAX)
		d->clones[res->method]++;
	d->clone_seconds_sum += s;
	d->clone_count++;
	for (size_t i = 0; i < N_BUCKETS; i++)
		if (s <= clone_buckets[i])
			d->clone_buckets[i]++;
}

static void rebuild_targets(struct disks *d, bool reexport);

/* A target tgtd did not take. Refused by the parent's policy (-EACCES, -EINVAL): the
 * disk cannot be served as it is, so it is failed, saying why, and the node's next armed
 * boot makes a new one. Anything else (tgtd restarting: -ENOTCONN; a tgtadm timeout) is
 * tried again: the next tick sets every ready target again from the store, as after a
 * new generation. */
static void
target_failed(struct disks *d, const struct job *j, struct disk_rec *dr)
{
	log_err("event=disk_target node=%s tid=%u err=%s msg=\"%s\"", j->node, j->t.tid,
	    dl_errno_name(j->tgt_r), j->tgt_err.msg);
	if (dr && (j->tgt_r == -EACCES || j->tgt_r == -EINVAL)) {
		strcpy(dr->state, "failed");
		(void)snprintf(dr->reason, sizeof(dr->reason), "tgtd's target refused: %.*s",
		    (int)sizeof(dr->reason) - 32, j->tgt_err.msg);
		return;
	}
	d->generation_known = false;
}

static void
make_done(struct disks *d, struct job *j)
{
	struct bootsvc *bs = d->bs;
	struct disk_rec dr;
	char ev[MAX_REASON];
	int r;

	flight_del(d, j->node);
	/* The row may have gone (node deleted) or been superseded meanwhile. */
	if ((r = store_disk_get(bs->store, j->node, &dr)) < 0 || strcmp(dr.boot, j->boot) != 0 ||
	    strcmp(dr.state, "making") != 0) {
		log_notice("event=disk_make_stale node=%s msg=\"the disk's row changed while its "
		    "clone was made\"", j->node);
		return;
	}
	dr.made_at = (int64_t)time(NULL);
	if (atomic_load(&j->w.cancelled) && j->r == 0)
		j->r = -ECANCELED;
	if (j->r < 0) {
		strcpy(dr.state, "failed");
		(void)snprintf(dr.reason, sizeof(dr.reason), "%.*s", (int)sizeof(dr.reason) - 1,
		    j->err.msg[0] ? j->err.msg : strerror(-j->r));
		d->clone_failures++;
		log_err("event=disk_make node=%s state=failed msg=\"%s\"", j->node, dr.reason);
		(void)snprintf(ev, sizeof(ev), "clone failed: %.*s", (int)sizeof(ev) - 16,
		    dr.reason);
	} else {
		strcpy(dr.state, "ready");
		dr.reason[0] = '\0';
		if (j->res.method == DISK_CLONE_QCOW2)
			(void)snprintf(dr.path, sizeof(dr.path), "%s", j->res.path);
		(void)snprintf(dr.method, sizeof(dr.method), "%s",
		    disk_clone_to_string(j->res.method));
		dr.apparent_bytes = j->res.apparent_bytes;
		dr.allocated_bytes = j->res.allocated_bytes;
		dr.make_ms = j->res.ms;
		count_clone(d, &j->res);
		log_notice("event=disk_make node=%s state=ready method=%s apparent=%lld "
		    "allocated=%lld ms=%lld tid=%u", j->node, dr.method,
		    (long long)dr.apparent_bytes, (long long)dr.allocated_bytes,
		    (long long)dr.make_ms, dr.tid);
		(void)snprintf(ev, sizeof(ev), "clone ready: %s, %lld ms", dr.method,
		    (long long)dr.make_ms);
		if (j->set_target && j->tgt_r < 0)
			target_failed(d, j, &dr);
	}
	if ((r = store_disk_put(bs->store, &dr)) < 0)
		log_err("event=disk_make node=%s msg=\"store update failed\" err=%s", j->node,
		    dl_errno_name(r));
	(void)store_event_add(bs->store, j->node, "disk", ev, (int64_t)time(NULL));
	notify(&bs->notify, NOTIFY_HISTORY);
	explicit_bzero(&dr, sizeof(dr));
}

static void
drop_done(struct disks *d, struct job *j)
{
	struct bootsvc *bs = d->bs;
	int r;

	flight_del(d, j->node);
	if (j->r < 0) {
		log_err("event=disk_drop node=%s msg=\"%s\"", j->node, j->err.msg);
		return; /* the row stays: the next tick tries again */
	}
	if ((r = store_disk_delete(bs->store, j->node)) < 0 && r != -ENOENT)
		log_err("event=disk_drop node=%s msg=\"store delete failed\" err=%s", j->node,
		    dl_errno_name(r));
	log_notice("event=disk_drop node=%s msg=\"target, clone and row removed\"", j->node);
}

static void
status_done(struct disks *d, struct job *j)
{
	bool qsd_changed = false;

	d->status_pending = false;
	if (d->have_qsd) {
		d->qsd_up = j->qsd_r == 0 && j->qsd_pid > 0;
		/* an export needs a running qsd: its new generation is taken once it runs */
		if (d->qsd_up && (!d->qsd_known || j->qsd_generation != d->qsd_generation)) {
			if (d->qsd_known)
				log_notice("event=qsd_generation from=%llu to=%llu pid=%d msg=\"exporting "
				    "every ready qcow2 disk and setting its target again\"",
				    (unsigned long long)d->qsd_generation,
				    (unsigned long long)j->qsd_generation, (int)j->qsd_pid);
			/* also the first one seen: a persistent qcow2 disk of an earlier run has
			 * no export in this qsd yet */
			qsd_changed = true;
			d->qsd_generation = j->qsd_generation;
			d->qsd_known = true;
		}
	}
	if (j->r < 0) {
		log_warning("event=tgt_status msg=\"%s\"", j->err.msg);
		if (qsd_changed)
			d->qsd_known = false; /* again at the next tick, with tgtd */
		return;
	}
	if (d->generation_known && j->generation == d->generation && !qsd_changed)
		return;
	if (!d->generation_known || j->generation != d->generation)
		log_notice("event=tgt_generation from=%llu to=%llu pid=%d restarts=%llu "
		    "msg=\"setting every ready disk's target again\"",
		    (unsigned long long)d->generation, (unsigned long long)j->generation,
		    (int)j->pid, (unsigned long long)j->restarts);
	d->generation = j->generation;
	d->generation_known = true;
	rebuild_targets(d, qsd_changed);
}

static void
job_done(struct work_item *w)
{
	struct job *j = (struct job *)w;
	struct disks *d = j->d;

	switch (j->kind) {
	case J_MAKE:
		make_done(d, j);
		break;
	case J_DROP:
		drop_done(d, j);
		break;
	case J_STATUS:
		status_done(d, j);
		break;
	case J_SET:
		if (j->tgt_r < 0 && j->reexport)
			d->qsd_known = false; /* export again at the next tick */
		if (j->tgt_r < 0)
			target_failed(d, j, NULL);
		break;
	}
	job_free(j);
}

static struct job *
job_new(struct disks *d, enum job_kind kind, const char *node)
{
	struct job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->w.run = job_run;
	j->w.done = job_done;
	j->d = d;
	j->kind = kind;
	(void)snprintf(j->node, sizeof(j->node), "%s", node);
	(void)snprintf(j->dir, sizeof(j->dir), "%s", d->bs->cfg.disk_dir);
	return j;
}

static int
submit(struct disks *d, struct job *j)
{
	int r = work_submit(d->pool, &j->w);

	if (r < 0) {
		log_warning("event=disk_job node=%s kind=%d msg=\"queue full\"", j->node,
		    (int)j->kind);
		job_free(j);
	}
	return r;
}

struct rebuild_ctx {
	struct disks *d;
	bool reexport; /* qsd restarted: qcow2 disks are exported again first */
	unsigned n;
};

static int
rebuild_one(const struct disk_rec *dr, void *userdata)
{
	struct rebuild_ctx *x = userdata;
	struct disks *d = x->d;
	struct node_rec n;
	struct dl_err err = { 0 };
	struct job *j;

	if (strcmp(dr->state, "ready") != 0 || disks_in_flight(d, dr->node) ||
	    store_node_get(d->bs->store, dr->node, &n) < 0)
		return 0;
	if (!(j = job_new(d, J_SET, dr->node)))
		return -ENOMEM;
	if (disks_target(d->bs, &n, dr, &j->t, &err) < 0) {
		log_err("event=disk_target node=%s msg=\"%s\"", dr->node, err.msg);
		job_free(j);
		return 0;
	}
	if (x->reexport && strcmp(dr->method, "qcow2") == 0 && d->have_qsd) {
		struct image_rec img;
		const struct kind_role *role;

		/* the golden of the row's image version: what its overlay was made over */
		if (store_image_get(d->bs->store, dr->image_id, &img) < 0 ||
		    !(role = kind_role(kind_find(img.kind), "disk")) ||
		    snprintf(j->golden, sizeof(j->golden), "%s/%s", img.path, role->file) >=
		    (int)sizeof(j->golden)) {
			log_err("event=disk_export node=%s msg=\"its image's golden cannot be "
			    "found: not exported again\"", dr->node);
			job_free(j);
			return 0;
		}
		j->reexport = true;
	}
	if (submit(d, j) == 0)
		x->n++;
	else
		d->generation_known = false; /* queue full: the next tick tries them all again */
	return 0;
}

static void
rebuild_targets(struct disks *d, bool reexport)
{
	struct rebuild_ctx x = { .d = d, .reexport = reexport };

	if (!d->have_ops)
		return;
	(void)store_disk_foreach(d->bs->store, rebuild_one, &x);
	log_notice("event=tgt_rebuild targets=%u", x.n);
}

/* A disk whose node went, or whose node boots something without a disk now, goes. */
static int
reap_one(const struct disk_rec *dr, void *userdata)
{
	struct disks *d = userdata;
	struct node_rec n;
	struct image_rec img;
	const struct kind *k;
	struct job *j;
	bool gone;

	if (disks_in_flight(d, dr->node))
		return 0;
	gone = store_node_get(d->bs->store, dr->node, &n) == -ENOENT;
	if (!gone) {
		/* Only a node assigned an image that resolves to another kind loses its disk:
		 * an image without a version yet, or none, keeps it (an admin mid-change). */
		if (!n.image[0] || nodes_boot_image(d->bs, &n, &img) < 0)
			return 0;
		k = kind_find(img.kind);
		if (!k || kind_is_sanboot(k))
			return 0;
	}
	if (!(j = job_new(d, J_DROP, dr->node)))
		return -ENOMEM;
	j->old_tid = dr->tid;
	j->remove_clone = true;
	j->old_qcow2 = strcmp(dr->method, "qcow2") == 0;
	log_notice("event=disk_drop node=%s why=\"%s\"", dr->node,
	    gone ? "node deleted" : "node moved to an image without a disk");
	if (submit(d, j) == 0)
		(void)flight_add(d, dr->node);
	return 0;
}

static void
on_tick(struct loop *l, void *userdata)
{
	struct disks *d = userdata;
	struct job *j;

	d->timer = 0;
	if (d->have_ops && !d->status_pending && (j = job_new(d, J_STATUS, ""))) {
		if (submit(d, j) == 0)
			d->status_pending = true;
	}
	(void)store_disk_foreach(d->bs->store, reap_one, d);
	d->timer = loop_add_timer(l, loop_now_ms() + DISKS_TICK_MS, on_tick, d);
}

/* Rows a dead bootsvc left making: their temp files were swept, nothing was exported. */
static int
fail_making(const struct disk_rec *dr, void *userdata)
{
	struct disks *d = userdata;
	struct disk_rec w = *dr;

	if (strcmp(dr->state, "making") != 0)
		return 0;
	strcpy(w.state, "failed");
	strcpy(w.reason, "bootsvc stopped while making it; the next boot makes it again");
	w.boot[0] = '\0'; /* of no boot: the next armed one makes a new clone */
	log_notice("event=disk_make node=%s state=failed msg=\"%s\"", w.node, w.reason);
	(void)store_disk_put(d->bs->store, &w);
	explicit_bzero(&w, sizeof(w));
	return 0;
}

int
disks_new(struct bootsvc *bs, const struct disks_tgt_ops *ops, struct disks **ret,
    struct dl_err *reterr)
{
	struct disks *d;
	unsigned swept = 0;
	int r;

	*ret = NULL;
	if (!bs->cfg.iscsi)
		return 0;
	if (mkdir(bs->cfg.disk_dir, 0700) < 0 && errno != EEXIST)
		return dl_err_set(reterr, negative_errno(), "disk_dir '%s': %s", bs->cfg.disk_dir,
		    strerror(errno));
	if ((r = disk_clone_sweep(bs->cfg.disk_dir, &swept, reterr)) < 0)
		return r;
	if (!(d = calloc(1, sizeof(*d))))
		return -ENOMEM;
	d->bs = bs;
	if (ops && ops->set && ops->del && ops->status) {
		d->ops = *ops;
		d->have_ops = true;
		d->have_qsd = ops->export && ops->unexport && ops->qsd_status;
	} else {
		log_warning("event=disks msg=\"tgtd is not driven by this build: clones are made "
		    "but not exported\"");
	}
	(void)store_disk_foreach(bs->store, fail_making, d);
	if ((r = work_new(bs->loop, "disks", DISKS_WORKERS, MAX_DISKS_QUEUE, &d->pool)) < 0) {
		free(d);
		return dl_err_set(reterr, r, "disks: cannot start workers: %s", strerror(-r));
	}
	d->timer = loop_add_timer(bs->loop, loop_now_ms(), on_tick, d);
	log_notice("event=disks_start disk_dir=%s clone=%s swept=%u", bs->cfg.disk_dir,
	    disk_clone_to_string(bs->cfg.disk_clone), swept);
	*ret = d;
	return 0;
}

struct disks *
disks_free(struct disks *d)
{
	if (!d)
		return NULL;
	if (d->timer > 0)
		loop_cancel_timer(d->bs->loop, d->timer);
	d->pool = work_free(d->pool); /* cancelled jobs come back through job_done */
	while (d->flights)
		flight_del(d, d->flights->node);
	free(d);
	return NULL;
}

/* Start a new clone of img for n (dropping the old one's target first), for boot. */
static int
make_start(struct disks *d, const struct node_rec *n, const struct image_rec *img,
    const struct disk_rec *old, const char *boot)
{
	struct bootsvc *bs = d->bs;
	struct disk_rec dr = { 0 };
	struct dl_err err = { 0 };
	const struct kind_role *role;
	struct job *j;
	int r;

	if (!(j = job_new(d, J_MAKE, n->name)))
		return -ENOMEM;
	(void)snprintf(dr.node, sizeof(dr.node), "%s", n->name);
	memcpy(dr.image_id, img->id, sizeof(dr.image_id));
	role = kind_role(kind_find(img->kind), "disk");
	if (!role || (r = disk_clone_path(bs->cfg.disk_dir, n->name, dr.path,
	    sizeof(dr.path))) < 0 || snprintf(j->golden, sizeof(j->golden), "%s/%s", img->path,
	    role->file) >= (int)sizeof(j->golden)) {
		job_free(j);
		return -ENAMETOOLONG;
	}
	(void)snprintf(dr.method, sizeof(dr.method), "%s", disk_clone_to_string(bs->cfg.disk_clone));
	strcpy(dr.state, "making");
	dr.tid = old ? old->tid : 0;
	(void)snprintf(dr.boot, sizeof(dr.boot), "%s", boot);
	/* CHAP accounts are global in tgtd, so each name is one node's (the parent refuses
	 * a name another target holds): the node's own name in, "target-<tid>" back (a tid
	 * is given once per node, so the row goes in first to have one). A mutual secret
	 * equal to the incoming one is refused by Windows and RFC 3720: drawn again. */
	(void)snprintf(dr.chap_user, sizeof(dr.chap_user), "%s", n->name);
	if ((r = disk_secret_new(dr.chap_secret)) < 0)
		goto fail_log;
	do {
		if ((r = disk_secret_new(dr.mutual_secret)) < 0)
			goto fail_log;
	} while (strcmp(dr.chap_secret, dr.mutual_secret) == 0);
	if ((r = store_disk_put(bs->store, &dr)) < 0)
		goto fail_log;
	(void)snprintf(dr.mutual_user, sizeof(dr.mutual_user), "target-%u", dr.tid);
	if ((r = store_disk_put(bs->store, &dr)) < 0)
		goto fail_log;
	j->method = bs->cfg.disk_clone;
	j->old_tid = old && old->tid ? old->tid : 0;
	j->old_qcow2 = old && strcmp(old->method, "qcow2") == 0;
	j->qcow2_offered = d->have_qsd && d->qsd_up;
	(void)snprintf(j->boot, sizeof(j->boot), "%s", boot);
	if (d->have_ops) {
		if ((r = disks_target(bs, n, &dr, &j->t, &err)) < 0) {
			log_err("event=disk_make node=%s msg=\"%s\"", n->name, err.msg);
			goto fail;
		}
		j->set_target = true;
	} else if (!d->warned_no_ops) {
		d->warned_no_ops = true;
		log_warning("event=disk_target node=%s msg=\"not exported: this build does not "
		    "drive tgtd\"", n->name);
	}
	if ((r = submit(d, j)) < 0) {
		j = NULL;
		goto fail;
	}
	(void)flight_add(d, n->name);
	log_notice("event=disk_make node=%s state=making image=%s method=%s tid=%u", n->name,
	    img->id, dr.method, dr.tid);
	explicit_bzero(&dr, sizeof(dr));
	return 0;
fail_log:
	log_err("event=disk_make node=%s msg=\"cannot start\" err=%s", n->name,
	    dl_errno_name(r));
fail:
	if (j)
		job_free(j);
	explicit_bzero(&dr, sizeof(dr));
	return r;
}

enum disk_do
disks_for_boot(struct disks *d, const struct node_rec *n, const struct image_rec *img,
    struct disk_rec *ret, const char **ret_why)
{
	char stamp[DISK_BOOT_STAMP_LEN + 1];
	struct disk_rec dr = { 0 };
	bool have;
	struct disk_in in = { .iscsi_on = d != NULL, .fixed_ip = n->ip[0] != '\0' };
	struct disk_verdict v;

	disk_boot_stamp(n->token, stamp);
	have = d && store_disk_get(d->bs->store, n->name, &dr) == 0;
	if (have) {
		in.state = disk_state_from_string(dr.state);
		in.golden_changed = strcmp(dr.image_id, img->id) != 0;
		in.reset = dr.reset;
		in.fresh = strcmp(dr.boot, stamp) == 0;
	}
	in.in_flight = disks_in_flight(d, n->name);
	in.persistent = d && store_disk_persistent_get(d->bs->store, n->name);
	in.armed = n->armed;
	v = disk_decide(&in);
	*ret_why = v.why;
	switch (v.act) {
	case DD_KEEP:
		*ret = dr;
		break;
	case DD_MAKE:
		if (make_start(d, n, img, have ? &dr : NULL, stamp) < 0) {
			*ret_why = "cannot start making the disk (bootsvc's log says why)";
			v.act = DD_FAILED;
		} else {
			*ret_why = "disk being made";
			v.act = DD_WAIT;
		}
		break;
	case DD_FAILED:
		/* the stored reason is for nodectl and the log; the script says less */
		break;
	case DD_WAIT:
	case DD_REFUSE:
		break;
	}
	explicit_bzero(&dr, sizeof(dr));
	return v.act;
}

static int
sum_bytes(const struct disk_rec *dr, void *userdata)
{
	if (strcmp(dr->state, "ready") == 0 && dr->allocated_bytes > 0)
		*(uint64_t *)userdata += (uint64_t)dr->allocated_bytes;
	return 0;
}

void
disks_prepare(struct disks *d, const struct node_rec *n)
{
	struct image_rec img;
	struct disk_rec dr;
	const struct kind *k;
	const char *why;

	if (!d || !n->armed || nodes_boot_image(d->bs, n, &img) < 0 ||
	    !(k = kind_find(img.kind)) || !kind_is_sanboot(k))
		return;
	(void)disks_for_boot(d, n, &img, &dr, &why);
	explicit_bzero(&dr, sizeof(dr));
}

void
disks_metrics(struct disks *d, struct strbuf *b)
{
	uint64_t bytes = 0;

	if (!d)
		return;
	strbuf_printf(b, "# HELP diskless_disk_clones_total Node disk clones made, by method.\n"
	    "# TYPE diskless_disk_clones_total counter\n");
	for (int m = DISK_CLONE_REFLINK; m < _DISK_CLONE_MAX; m++)
		strbuf_printf(b, "diskless_disk_clones_total{method=\"%s\"} %llu\n",
		    disk_clone_to_string(m), (unsigned long long)d->clones[m]);
	strbuf_printf(b, "# HELP diskless_disk_clone_failures_total Node disk clones that failed.\n"
	    "# TYPE diskless_disk_clone_failures_total counter\n"
	    "diskless_disk_clone_failures_total %llu\n", (unsigned long long)d->clone_failures);
	(void)store_disk_foreach(d->bs->store, sum_bytes, &bytes);
	strbuf_printf(b, "# HELP diskless_disk_clone_bytes Bytes the ready node disk clones "
	    "took in disk_dir when made (allocated, not apparent).\n"
	    "# TYPE diskless_disk_clone_bytes gauge\n"
	    "diskless_disk_clone_bytes %llu\n", (unsigned long long)bytes);
	strbuf_printf(b, "# HELP diskless_disk_clone_seconds Time to make a node disk clone.\n"
	    "# TYPE diskless_disk_clone_seconds histogram\n");
	for (size_t i = 0; i < N_BUCKETS; i++)
		strbuf_printf(b, "diskless_disk_clone_seconds_bucket{le=\"%g\"} %llu\n",
		    clone_buckets[i], (unsigned long long)d->clone_buckets[i]);
	strbuf_printf(b, "diskless_disk_clone_seconds_bucket{le=\"+Inf\"} %llu\n"
	    "diskless_disk_clone_seconds_sum %.3f\n"
	    "diskless_disk_clone_seconds_count %llu\n", (unsigned long long)d->clone_count,
	    d->clone_seconds_sum, (unsigned long long)d->clone_count);
}

int
disks_image_check(const struct bootsvc *bs, const struct node_rec *n,
    const struct image_rec *img, struct dl_err *reterr)
{
	const struct kind *k = kind_find(img->kind);
	int r;

	if (!k || !kind_is_sanboot(k))
		return 0;
	if (!bs->cfg.iscsi)
		r = dl_err_set(reterr, -EOPNOTSUPP, "node '%s': image %s is of kind %s, and "
		    "bootsvc.conf has iscsi = off: set iscsi = on to serve it", n->name,
		    img->name, k->name);
	else if (!n->ip[0])
		r = dl_err_set(reterr, -EINVAL, "node '%s' has no fixed address, and image %s "
		    "(kind %s) exports its disk to the node's address only: remove the node and "
		    "add it again with --ip", n->name, img->name, k->name);
	else
		return 0;
	log_notice("event=disk_refused node=%s image=%s msg=\"%s\"", n->name, img->name,
	    reterr ? reterr->msg : "");
	return r;
}

json_t *
disks_show_json(const struct bootsvc *bs, const struct node_rec *n)
{
	char target[MAX_ISCSI_NAME] = "";
	struct disk_rec dr;
	json_t *o;

	if (store_disk_get(bs->store, n->name, &dr) < 0)
		return NULL;
	(void)tgt_target_name(bs->cfg.iscsi_iqn, n->name, target, sizeof(target));
	o = json_pack("{s:s,s:s,s:s,s:I,s:I,s:b,s:s,s:s,s:i,s:s,s:I,s:I,s:b}",
	    "image_id", dr.image_id, "path", dr.path, "method", dr.method,
	    "apparent_bytes", (json_int_t)dr.apparent_bytes,
	    "allocated_bytes", (json_int_t)dr.allocated_bytes,
	    "persistent", store_disk_persistent_get(bs->store, n->name),
	    "state", dr.state, "reason", dr.reason, "tid", (int)dr.tid, "target", target,
	    "made_at", (json_int_t)dr.made_at, "make_ms", (json_int_t)dr.make_ms,
	    "reset", dr.reset);
	explicit_bzero(&dr, sizeof(dr));
	return o;
}
