/* SPDX-License-Identifier: MIT */
/* Control verbs for schedulers and admins that change desired state or touch BMCs:
 * provision, power, hold, release, drain, undrain, events (docs/control-protocol.md). Desired state is
 * written to the store here, before the controller acts on it. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "controller/alloc.h"
#include "cluster/cluster.h"
#include "control/control.h"
#include "controller/ctrl.h"
#include "controller/energy.h"
#include "hostlist.h"
#include "log.h"
#include "iscsi/disks.h"
#include "boot/nodes.h"
#include "parse.h"
#include "proto.h"
#include "vm/vm_policy.h"
#include "vm/vm_reimage.h"

/* Expand names; every one must exist. */
static int
existing(struct bootsvc *bs, const json_t *args, struct hostlist *ret, struct dl_err *reterr)
{
	struct node_rec n;
	const char *s;
	int r;

	if ((r = proto_arg_str(args, "names", true, MAX_HOSTLIST_LEN, &s, reterr)) < 0)
		return r;
	if ((r = hostlist_parse(s, ret, reterr)) < 0)
		return dl_err_prefix(reterr, "names"), r;
	for (size_t i = 0; i < ret->n; i++)
		if (store_node_get(bs->store, ret->names[i], &n) < 0) {
			r = dl_err_set(reterr, -ENOENT, "no node '%s'", ret->names[i]);
			hostlist_done(ret);
			return r;
		}
	return 0;
}

static json_t *
names_json(const struct hostlist *hl)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < hl->n; i++)
		json_array_append_new(a, json_string(hl->names[i]));
	return a;
}

/* Would node's VMs all find a place? -ENOSPC naming how many would not. */
static int
evacuate_fits(struct bootsvc *bs, const char *node, struct dl_err *reterr)
{
	struct vm_world w;
	struct plan p;
	int64_t id;
	size_t unplaced;
	int r;

	if ((r = vm_policy_evacuate(bs, node, "scheduler", "", false, false, &w, &p, &id,
	    reterr)) < 0)
		return r;
	unplaced = p.eff.unplaced;
	plan_free(&p);
	vm_world_done(&w);
	if (unplaced)
		return dl_err_set(reterr, -ENOSPC, "--evacuate: %zu of %s's VMs fit on no other "
		    "host (memory, vm_cpu_ratio, groups, pins): free room, or --force", unplaced,
		    node);
	return 1;
}

static void
evacuate_for(struct bootsvc *bs, const char *node, const struct image_rec *img)
{
	struct vm_world w;
	struct plan p;
	struct dl_err err = { 0 };
	char why[MAX_REASON];
	int64_t id;

	(void)snprintf(why, sizeof(why), "reimage: to %s@%.12s", img->name, img->id);
	if (vm_policy_evacuate(bs, node, "scheduler", why, false, true, &w, &p, &id, &err) < 0) {
		log_err("event=provision node=%s msg=\"evacuation not planned: %s\"", node,
		    err.msg);
		return;
	}
	plan_free(&p);
	vm_world_done(&w);
}

static int
provision(struct bootsvc *bs, const json_t *args, json_t **ret, struct dl_err *reterr)
{
	static const char *const allowed[] = { "names", "image", "force", "evacuate", NULL };
	struct hostlist hl = { 0 };
	struct image_rec img;
	const char *image;
	bool force, evacuate, *evac = NULL;
	int64_t seq;
	int r;

	if ((r = proto_args_check(args, allowed, reterr)) < 0 ||
	    (r = proto_arg_str(args, "image", true, 200, &image, reterr)) < 0 ||
	    (r = proto_arg_bool(args, "force", false, &force, reterr)) < 0 ||
	    (r = proto_arg_bool(args, "evacuate", false, &evacuate, reterr)) < 0)
		return r;
	if ((r = store_image_resolve(bs->store, image, &img, reterr)) < 0)
		return r;
	if ((r = existing(bs, args, &hl, reterr)) < 0)
		return r;
	for (size_t i = 0; i < hl.n; i++) {
		struct node_rec n;
		(void)store_node_get(bs->store, hl.names[i], &n);
		/* A VM host's VMs die with a reimage: only if the request says so (issue 12).
		 * Asked first: of every reason to refuse, it is the one that costs work. */
		if ((r = vm_reimage_check(bs->store, n.name, force, evacuate, reterr)) < 0 ||
		    (r == 1 && (r = evacuate_fits(bs, n.name, reterr)) < 0)) {
			char safe[MAX_LOG_VALUE + 1];

			log_notice("event=provision node=%s msg=\"refused: %s\"", n.name,
			    log_safe(safe, sizeof(safe), reterr ? reterr->msg : ""));
			goto out;
		}
		if (r == 1) {
			if (!evac && !(evac = calloc(hl.n, sizeof(*evac)))) {
				r = -ENOMEM;
				goto out;
			}
			evac[i] = true;
		}
		if (!n.bmc[0] || !n.bmc_creds[0]) {
			r = dl_err_set(reterr, -EINVAL,
			    "node '%s' has no BMC (add it with --bmc and --bmc-creds)", n.name);
			goto out;
		}
		if ((r = disks_image_check(bs, &n, &img, reterr)) < 0)
			goto out;
		if (n.hold) {
			r = dl_err_set(reterr, -EBUSY, "node '%s' is held (%s): release it first",
			    n.name, n.hold_reason);
			goto out;
		}
	}
	seq = store_event_last_seq(bs->store);
	if ((r = store_begin(bs->store)) < 0)
		goto out;
	for (size_t i = 0; i < hl.n; i++) {
		struct node_rec n;
		char why[160];
		(void)store_node_get(bs->store, hl.names[i], &n);
		/* A provision pins the version it resolved: the scheduler asked for that one. */
		strcpy(n.image, img.name);
		strcpy(n.image_pin, img.id);
		if ((r = store_node_update(bs->store, &n)) < 0)
			break;
		strcpy(n.want_power, "on");
		if (strcmp(n.op, "failed") == 0 || strcmp(n.op, "power-off") == 0)
			n.op[0] = '\0';
		n.attempts = 0;
		n.retry_at_ms = 0;
		if (force)
			n.booted_image[0] = '\0'; /* reboot even if already up on it */
		if ((r = store_node_update_ctrl(bs->store, &n)) < 0)
			break;
		(void)snprintf(why, sizeof(why), "to %s@%.12s%s", img.name, img.id,
		    force ? " (forced)" : "");
		(void)store_event_add(bs->store, n.name, "provision", why, (int64_t)time(NULL));
	}
	if (r < 0) {
		store_rollback(bs->store);
		dl_err_set(reterr, r, "provision failed to update the store");
		goto out;
	}
	if ((r = store_commit(bs->store)) < 0) {
		dl_err_set(reterr, r, "provision: the store could not commit, no node was changed");
		goto out;
	}
	log_notice("event=provision count=%zu first=%s image=%s image_id=%.12s", hl.n,
	    hl.names[0], img.name, img.id);
	/* Their VMs move first: drained and held by the controller until empty (ctrl.c). */
	for (size_t i = 0; evac && i < hl.n; i++)
		if (evac[i])
			evacuate_for(bs, hl.names[i], &img);
	ctrl_kick(bs->ctrl);
	control_events_notify(bs);
	*ret = json_pack("{s:o,s:s,s:s,s:I}", "nodes", names_json(&hl), "image", img.name,
	    "image_id", img.id, "seq", (json_int_t)seq);
	r = *ret ? 0 : -ENOMEM;
out:
	free(evac);
	hostlist_done(&hl);
	return r;
}

/* An imperative power operation over many nodes, answered when all are done. */
struct batch {
	struct control_pending *pending;
	size_t remaining;
	json_t *results;
};

static void
batch_release(struct bootsvc *bs, struct batch *b)
{
	if (--b->remaining > 0)
		return;
	control_complete(bs, b->pending, json_pack("{s:O}", "nodes", b->results), 0, NULL);
	json_decref(b->results);
	free(b);
}

static void
batch_one(struct bootsvc *bs, const char *node, enum power_op op, int r, bool on,
    const char *message, void *userdata)
{
	struct batch *b = userdata;
	json_t *o;

	if (r < 0)
		o = json_pack("{s:s,s:s,s:s}", "name", node, "error", dl_errno_name(r), "message",
		    message);
	else
		o = json_pack("{s:s,s:s}", "name", node, "power", op == POWER_STATUS || op ==
		    POWER_ON || op == POWER_OFF ? (on ? "on" : "off") : "ok");
	if (o)
		json_array_append_new(b->results, o);
	batch_release(bs, b);
}

static int
power(struct bootsvc *bs, const json_t *args, json_t **ret, struct dl_err *reterr)
{
	static const char *const allowed[] = { "names", "action", NULL };
	struct hostlist hl = { 0 };
	struct batch *b = NULL;
	const char *action;
	enum power_op op;
	int r;

	if ((r = proto_args_check(args, allowed, reterr)) < 0 ||
	    (r = proto_arg_str(args, "action", true, 16, &action, reterr)) < 0)
		return r;
	op = power_op_from_string(action);
	if (op < 0)
		return dl_err_set(reterr, -EINVAL,
		    "action '%s' is not one of on, off, cycle, reset, status", action);
	/* A power change is an action, the leader's alone (issue 15); desired state
	 * (provision, hold, release) may be written through any instance. */
	if (op != POWER_STATUS && !cluster_may_act(bs->cluster))
		return dl_err_set(reterr, -EAGAIN, "this bootsvc ('%s') is not the leader: "
		    "run power against the one 'nodectl server list' shows as leader",
		    bs->cfg.server_name);
	if ((r = existing(bs, args, &hl, reterr)) < 0)
		return r;
	/* Each credentials file once for the whole batch (validated here, used below). */
	ctrl_bmc_creds_begin(bs);
	for (size_t i = 0; i < hl.n; i++) {
		struct node_rec n;
		struct bmc_target t;
		(void)store_node_get(bs->store, hl.names[i], &n);
		if ((r = ctrl_bmc_target(bs, &n, &t, reterr)) < 0)
			goto out;
		explicit_bzero(t.pass, sizeof(t.pass));
	}
	if (op == POWER_ON || op == POWER_OFF) {
		/* The last event before the change, as provision answers: a client that waits
		 * (slurm-resumewatch) follows the nodes from there and misses nothing. */
		int64_t seq = store_event_last_seq(bs->store);

		/* Desired state: the controller powers the node and keeps it so. */
		for (size_t i = 0; i < hl.n; i++) {
			struct node_rec n;
			struct image_rec img;
			(void)store_node_get(bs->store, hl.names[i], &n);
			strcpy(n.want_power, op == POWER_ON ? "on" : "off");
			if (op == POWER_ON && (strcmp(n.op, "failed") == 0 ||
			    strcmp(n.op, "power-off") == 0))
				n.op[0] = '\0';
			n.retry_at_ms = 0;
			(void)store_node_update_ctrl(bs->store, &n);
			(void)store_event_add(bs->store, n.name, op == POWER_ON ? "want-on" :
			    "want-off", "requested by an admin", (int64_t)time(NULL));
			/* A node with nothing to boot is still powered on (it holds at its
			 * script); the reconcile loop only boots nodes with an image. */
			if (op == POWER_ON && nodes_boot_image(bs, &n, &img) < 0 &&
			    strcmp(n.power, "on") != 0)
				(void)ctrl_power_now(bs->ctrl, n.name, POWER_ON, NULL, NULL,
				    NULL);
		}
		ctrl_kick(bs->ctrl);
		control_events_notify(bs);
		*ret = json_pack("{s:o,s:s,s:I}", "nodes", names_json(&hl), "want", action, "seq",
		    (json_int_t)seq);
		r = *ret ? 0 : -ENOMEM;
		goto out;
	}
	b = calloc(1, sizeof(*b));
	if (!b || !(b->results = json_array())) {
		free(b);
		r = -ENOMEM;
		goto out;
	}
	b->pending = control_defer(bs);
	b->remaining = hl.n + 1; /* +1 held until every job is queued */
	/* The nodes whose BMC did not answer last time first: each may hold its slot for
	 * the whole bmc_timeout, and the batch answers when the last is done, so they start
	 * before the quick ones, not in the last wave of ipmi_concurrency (longest first). */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < hl.n; i++) {
			struct dl_err err = { 0 };
			struct node_rec n;
			bool dead = store_node_get(bs->store, hl.names[i], &n) == 0 &&
			    strcmp(n.bmc_state, "unreachable") == 0;
			if (dead != (pass == 0))
				continue;
			if (ctrl_power_now(bs->ctrl, hl.names[i], op, batch_one, b, &err) < 0)
				batch_one(bs, hl.names[i], op, err.code ? err.code : -EIO, false,
				    err.msg, b);
		}
	if (!b->pending) {
		/* No socket client to answer later (tests, fuzzing): say what was queued. */
		*ret = json_pack("{s:o,s:s}", "queued", names_json(&hl), "action", action);
		r = *ret ? 0 : -ENOMEM;
	} else
		r = CONTROL_DEFERRED;
	/* Drop the hold: answers now if every job already failed to queue. */
	batch_release(bs, b);
out:
	ctrl_bmc_creds_end(bs);
	hostlist_done(&hl);
	return r;
}

/* Nodes named by "names", or by "job" (the nodes of an allocation). */
static int
nodes_of_job(struct bootsvc *bs, const char *job, struct hostlist *ret);

static int
hold_release(struct bootsvc *bs, const json_t *args, json_t **ret, struct dl_err *reterr,
    bool hold)
{
	static const char *const allowed_hold[] = { "names", "reason", NULL };
	static const char *const allowed_release[] = { "names", "job", NULL };
	struct hostlist hl = { 0 };
	const char *reason = NULL, *job = NULL;
	int r;

	if ((r = proto_args_check(args, hold ? allowed_hold : allowed_release, reterr)) < 0 ||
	    (r = proto_arg_str(args, "reason", false, MAX_REASON - 1, &reason, reterr)) < 0 ||
	    (r = proto_arg_str(args, "job", false, MAX_NODE_NAME - 1, &job, reterr)) < 0)
		return r;
	if (job && json_object_get(args, "names"))
		return dl_err_set(reterr, -EINVAL, "give either names or job, not both");
	if (job) {
		if ((r = nodes_of_job(bs, job, &hl)) < 0)
			return r;
		if (hl.n == 0)
			return dl_err_set(reterr, -ENOENT, "no allocation '%s'", job);
	} else if ((r = existing(bs, args, &hl, reterr)) < 0)
		return r;
	for (size_t i = 0; i < hl.n; i++) {
		struct node_rec n;
		(void)store_node_get(bs->store, hl.names[i], &n);
		if (hold) {
			n.hold = true;
			(void)snprintf(n.hold_reason, sizeof(n.hold_reason), "%s",
			    reason ? reason : "held by an admin");
		} else {
			/* Release gives the node back to the idle pool: no hold, no allocation,
			 * no failed op (the controller tries again). */
			n.hold = false;
			n.hold_reason[0] = '\0';
			n.alloc_job[0] = '\0';
			n.alloc_class[0] = '\0';
			if (strcmp(n.op, "failed") == 0) {
				n.op[0] = '\0';
				n.attempts = 0;
			}
		}
		n.retry_at_ms = 0;
		(void)store_node_update_ctrl(bs->store, &n);
		(void)store_event_add(bs->store, n.name, hold ? "hold" : "release",
		    hold ? n.hold_reason : job ? job : "", (int64_t)time(NULL));
	}
	ctrl_kick(bs->ctrl);
	control_events_notify(bs);
	*ret = json_pack("{s:o}", "nodes", names_json(&hl));
	hostlist_done(&hl);
	return *ret ? 0 : -ENOMEM;
}

static int
hold(struct bootsvc *bs, const json_t *args, json_t **ret, struct dl_err *reterr)
{
	return hold_release(bs, args, ret, reterr, true);
}

static int
release(struct bootsvc *bs, const json_t *args, json_t **ret, struct dl_err *reterr)
{
	return hold_release(bs, args, ret, reterr, false);
}

/* drain {names, reason?} / undrain {names}: an admin's drain, as Slurm's. A drained node
 * gets no new allocation (ctrl_alloc.c asks nodes_drained()); nothing else changes: it
 * stays powered and up, keeps its allocation until released, boots normally, and the
 * controller keeps managing it (unlike hold). Draining a drained node again only
 * changes its reason. */
static int
drain_undrain(struct bootsvc *bs, const json_t *args, json_t **ret, struct dl_err *reterr,
    bool drain)
{
	static const char *const allowed_drain[] = { "names", "reason", NULL };
	static const char *const allowed_undrain[] = { "names", NULL };
	struct hostlist hl = { 0 };
	const char *reason = NULL;
	int r;

	if ((r = proto_args_check(args, drain ? allowed_drain : allowed_undrain, reterr)) < 0 ||
	    (r = proto_arg_str(args, "reason", false, MAX_REASON - 1, &reason, reterr)) < 0 ||
	    (r = existing(bs, args, &hl, reterr)) < 0)
		return r;
	if ((r = store_begin(bs->store)) < 0) {
		hostlist_done(&hl);
		return dl_err_set(reterr, r, "%s: the store could not begin", drain ? "drain" :
		    "undrain");
	}
	for (size_t i = 0; i < hl.n; i++) {
		struct node_rec n;
		char safe[MAX_LOG_VALUE + 1];

		if (store_node_get(bs->store, hl.names[i], &n) < 0)
			continue; /* removed since existing() */
		n.drain = drain;
		(void)snprintf(n.drain_reason, sizeof(n.drain_reason), "%s",
		    drain ? (reason && reason[0] ? reason : "drained by an admin") : "");
		(void)store_node_update_ctrl(bs->store, &n);
		(void)store_event_add(bs->store, n.name, drain ? "drain" : "undrain",
		    n.drain_reason, (int64_t)time(NULL));
		log_notice("event=node_drain node=%s drain=%s reason=\"%s\"", n.name,
		    drain ? "yes" : "no", log_safe(safe, sizeof(safe), n.drain_reason));
	}
	if ((r = store_commit(bs->store)) < 0) {
		hostlist_done(&hl);
		return dl_err_set(reterr, r, "%s: the store could not commit, no node changed",
		    drain ? "drain" : "undrain");
	}
	control_events_notify(bs);
	*ret = json_pack("{s:o}", "nodes", names_json(&hl));
	hostlist_done(&hl);
	return *ret ? 0 : -ENOMEM;
}

static int
drain(struct bootsvc *bs, const json_t *args, json_t **ret, struct dl_err *reterr)
{
	return drain_undrain(bs, args, ret, reterr, true);
}

static int
undrain(struct bootsvc *bs, const json_t *args, json_t **ret, struct dl_err *reterr)
{
	return drain_undrain(bs, args, ret, reterr, false);
}

static int
events(struct bootsvc *bs, const json_t *args, json_t **ret, struct dl_err *reterr)
{
	static const char *const allowed[] = { "since", NULL };
	json_t *v = json_object_get(args, "since");
	int64_t last = store_event_last_seq(bs->store), since = last;
	int r;

	if ((r = proto_args_check(args, allowed, reterr)) < 0)
		return r;
	if (v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return dl_err_set(reterr, -EINVAL, "'since' must be an event seq >= 0");
		since = json_integer_value(v);
	}
	r = control_subscribe(bs, since);
	if (r < 0)
		return dl_err_set(reterr, r, "events need a socket connection");
	*ret = json_pack("{s:I,s:I}", "seq", (json_int_t)last, "since", (json_int_t)since);
	return *ret ? 0 : -ENOMEM;
}

struct job_ctx {
	const char *job;
	struct hostlist *hl;
	int r;
};

static int
job_member(const struct node_rec *n, void *userdata)
{
	struct job_ctx *j = userdata;
	char **names;

	if (strcmp(n->alloc_job, j->job) != 0)
		return 0;
	names = reallocarray(j->hl->names, j->hl->n + 1, sizeof(char *));
	if (!names)
		return -ENOMEM;
	j->hl->names = names;
	if (!(names[j->hl->n] = strdup(n->name)))
		return -ENOMEM;
	j->hl->n++;
	return 0;
}

static int
nodes_of_job(struct bootsvc *bs, const char *job, struct hostlist *ret)
{
	struct job_ctx j = { .job = job, .hl = ret };
	int r;

	memset(ret, 0, sizeof(*ret));
	r = store_node_foreach(bs->store, job_member, &j);
	if (r < 0)
		hostlist_done(ret);
	return r;
}

/* ctrl_alloc_assign's choice, into the reply's "nodes" array. */
static void
append_name(const char *node, void *userdata)
{
	(void)json_array_append_new(userdata, json_string(node));
}

static int
allocate(struct bootsvc *bs, const json_t *args, json_t **ret, struct dl_err *reterr)
{
	static const char *const allowed[] = { "count", "image", "class", "job", NULL };
	const char *image, *class_name, *job;
	const struct job_class *jc;
	struct image_rec img;
	json_t *count = json_object_get(args, "count"), *chosen;
	size_t tiers[3] = { 0 };
	char jobbuf[MAX_NODE_NAME];
	int64_t seq;
	int r;

	if ((r = proto_args_check(args, allowed, reterr)) < 0 ||
	    (r = proto_arg_str(args, "image", true, 200, &image, reterr)) < 0 ||
	    (r = proto_arg_str(args, "class", false, 31, &class_name, reterr)) < 0 ||
	    (r = proto_arg_str(args, "job", false, MAX_NODE_NAME - 1, &job, reterr)) < 0)
		return r;
	if (!json_is_integer(count) || json_integer_value(count) < 1 ||
	    json_integer_value(count) > MAX_HOSTLIST_NAMES)
		return dl_err_set(reterr, -EINVAL, "'count' must be an integer from 1 to %d",
		    MAX_HOSTLIST_NAMES);
	if (!class_name)
		class_name = "default";
	jc = config_class(&bs->cfg, class_name);
	if (!jc && strcmp(class_name, "default") != 0)
		return dl_err_set(reterr, -ENOENT, "no job class '%s' in the config", class_name);
	if ((r = store_image_resolve(bs->store, image, &img, reterr)) < 0)
		return r;
	if (job) {
		struct hostlist hl;
		if (!hostname_is_valid(job))
			return dl_err_set(reterr, -EINVAL, "job id '%s' is not [a-z0-9-]", job);
		if ((r = nodes_of_job(bs, job, &hl)) < 0)
			return r;
		size_t existing_n = hl.n;
		hostlist_done(&hl);
		if (existing_n)
			return dl_err_set(reterr, -EEXIST, "allocation '%s' already holds %zu nodes",
			    job, existing_n);
	} else {
		(void)snprintf(jobbuf, sizeof(jobbuf), "a%lld",
		    (long long)store_event_last_seq(bs->store) + 1);
		job = jobbuf;
	}
	seq = store_event_last_seq(bs->store);
	chosen = json_array();
	if (!chosen || (r = store_begin(bs->store)) < 0) {
		json_decref(chosen);
		return r < 0 ? r : -ENOMEM;
	}
	r = ctrl_alloc_assign(bs, job, class_name, jc ? jc->allow_risky : false, &img,
	    (size_t)json_integer_value(count), append_name, chosen, tiers, reterr);
	if (r < 0) {
		store_rollback(bs->store);
		json_decref(chosen);
		return r;
	}
	if ((r = store_commit(bs->store)) < 0) {
		json_decref(chosen);
		return dl_err_set(reterr, r, "allocate: the store could not commit, no node was "
		    "allocated");
	}
	log_notice("event=allocate job=%s class=%s count=%lld image=%s reuse=%zu reimage=%zu "
		   "power_on=%zu", job, class_name, (long long)json_integer_value(count), img.name,
	    tiers[TIER_REUSE], tiers[TIER_REIMAGE], tiers[TIER_POWER_ON]);
	ctrl_kick(bs->ctrl);
	control_events_notify(bs);
	*ret = json_pack("{s:s,s:s,s:o,s:s,s:s,s:I,s:{s:I,s:I,s:I}}", "job", job, "class",
	    class_name, "nodes", chosen, "image", img.name, "image_id", img.id, "seq",
	    (json_int_t)seq, "tiers", "reuse", (json_int_t)tiers[TIER_REUSE], "reimage",
	    (json_int_t)tiers[TIER_REIMAGE], "power_on", (json_int_t)tiers[TIER_POWER_ON]);
	return *ret ? 0 : -ENOMEM;
}

static int
health_clear_verb(struct bootsvc *bs, const json_t *args, json_t **ret, struct dl_err *reterr)
{
	static const char *const allowed[] = { "names", NULL };
	struct hostlist hl = { 0 };
	int r;

	if ((r = proto_args_check(args, allowed, reterr)) < 0 ||
	    (r = existing(bs, args, &hl, reterr)) < 0)
		return r;
	for (size_t i = 0; i < hl.n; i++)
		(void)ctrl_health_clear(bs->ctrl, hl.names[i]);
	*ret = json_pack("{s:o}", "nodes", names_json(&hl));
	hostlist_done(&hl);
	return *ret ? 0 : -ENOMEM;
}

/* expect {image, count, within}: a scheduler's hint (issue #7). The reply lists every
 * live hint, so a scheduler sees what the controller is holding nodes for. */
static int
expect(struct bootsvc *bs, const json_t *args, json_t **ret, struct dl_err *reterr)
{
	static const char *const allowed[] = { "image", "count", "within", NULL };
	json_t *count = json_object_get(args, "count"), *hints;
	const struct green_hint *h;
	const char *image, *within;
	struct image_rec img;
	uint64_t within_ms;
	size_t n;
	int r;

	if ((r = proto_args_check(args, allowed, reterr)) < 0 ||
	    (r = proto_arg_str(args, "image", true, MAX_NODE_NAME - 1, &image, reterr)) < 0 ||
	    (r = proto_arg_str(args, "within", true, 32, &within, reterr)) < 0)
		return r;
	if (!json_is_integer(count) || json_integer_value(count) < 0 ||
	    json_integer_value(count) > MAX_HOSTLIST_NAMES)
		return dl_err_set(reterr, -EINVAL, "'count' must be an integer from 0 to %d",
		    MAX_HOSTLIST_NAMES);
	if ((r = parse_duration_ms(within, &within_ms, reterr)) < 0)
		return dl_err_prefix(reterr, "within"), r;
	/* A day is far beyond any queue's foresight; longer is a typo. */
	if (within_ms < 1000 || within_ms > 86400000)
		return dl_err_set(reterr, -EINVAL, "within '%s' is not between 1s and 24h", within);
	if ((r = store_image_resolve(bs->store, image, &img, reterr)) < 0)
		return r;
	r = ctrl_hints_expect(bs->ctrl, img.name, (unsigned)json_integer_value(count),
	    (int64_t)within_ms);
	if (r < 0)
		return dl_err_set(reterr, r, "too many live hints: let some expire");
	log_notice("event=expect image=%s count=%lld within_ms=%llu", img.name,
	    (long long)json_integer_value(count), (unsigned long long)within_ms);
	if (!(hints = json_array()))
		return -ENOMEM;
	n = ctrl_hints(bs->ctrl, &h);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(hints, json_pack("{s:s,s:i,s:I}", "image", h[i].image,
		    "count", (int)h[i].count, "until", (json_int_t)(h[i].until_ms / 1000)));
	*ret = json_pack("{s:s,s:I,s:o}", "image", img.name, "count",
	    (json_int_t)json_integer_value(count), "hints", hints);
	return *ret ? 0 : -ENOMEM;
}

static json_t *
energy_json(const struct energy_rec *e, const char *key)
{
	return json_pack("{s:s,s:f,s:f,s:f,s:s}", key, e->name, "on_kwh", energy_kwh(e->on_mj),
	    "off_kwh", energy_kwh(e->off_mj), "saved_kwh", energy_kwh(e->saved_mj), "source",
	    e->last_w ? "bmc" : "model");
}

struct energy_list {
	const struct hostlist *only; /* NULL: every node */
	json_t *arr;
	struct energy_rec total;
};

static int
energy_one(const struct energy_rec *e, void *userdata)
{
	struct energy_list *l = userdata;
	bool want = !l->only;

	for (size_t i = 0; !want && i < l->only->n; i++)
		want = strcmp(l->only->names[i], e->name) == 0;
	if (!want)
		return 0;
	l->total.on_mj += e->on_mj;
	l->total.off_mj += e->off_mj;
	l->total.saved_mj += e->saved_mj;
	return json_array_append_new(l->arr, energy_json(e, "name")) < 0 ? -ENOMEM : 0;
}

static int
energy_image_one(const struct energy_rec *e, void *userdata)
{
	json_t *arr = userdata;
	json_t *o = energy_json(e, "image");

	if (o)
		json_object_del(o, "source");
	return json_array_append_new(arr, o) < 0 ? -ENOMEM : 0;
}

/* energy {names?}: kWh on, off and saved per node (the named ones, else all), per image,
 * and the total of the nodes listed. */
static int
energy(struct bootsvc *bs, const json_t *args, json_t **ret, struct dl_err *reterr)
{
	static const char *const allowed[] = { "names", NULL };
	struct hostlist hl = { 0 };
	struct energy_list l = { 0 };
	json_t *images = NULL, *total;
	int r;

	if ((r = proto_args_check(args, allowed, reterr)) < 0)
		return r;
	if (json_object_get(args, "names") && (r = existing(bs, args, &hl, reterr)) < 0)
		return r;
	l.only = json_object_get(args, "names") ? &hl : NULL;
	strcpy(l.total.name, "total");
	r = -ENOMEM;
	if (!(l.arr = json_array()) || !(images = json_array()))
		goto out;
	if ((r = ctrl_energy_flush(bs->ctrl)) < 0) {
		dl_err_set(reterr, r, "energy: the totals accounted since the last write could not "
		    "be written");
		goto out;
	}
	if ((r = store_energy_foreach(bs->store, energy_one, &l)) < 0 ||
	    (r = store_energy_image_foreach(bs->store, energy_image_one, images)) < 0)
		goto out;
	total = energy_json(&l.total, "name");
	if (total)
		json_object_del(total, "source");
	*ret = json_pack("{s:o,s:o,s:o?}", "nodes", l.arr, "images", images, "total", total);
	l.arr = images = NULL;
	r = *ret ? 0 : -ENOMEM;
out:
	json_decref(l.arr);
	json_decref(images);
	hostlist_done(&hl);
	return r;
}

/* node.reset-bmc-pin {names}: forget the key each node's Redfish BMC was trusted with on
 * first use (redfish_tofu, docs/redfish.md): its next job records the key then offered.
 * What an admin does after checking a BMC's new certificate (firmware update, board
 * swap). Every name must exist before any pin is forgotten. */
static int
node_reset_bmc_pin(struct bootsvc *bs, const json_t *args, json_t **ret, struct dl_err *reterr)
{
	static const char *const allowed[] = { "names", NULL };
	struct hostlist names = { 0 };
	json_t *reset = NULL, *none = NULL;
	int r;

	if ((r = proto_args_check(args, allowed, reterr)) < 0 ||
	    (r = existing(bs, args, &names, reterr)) < 0)
		return r;
	reset = json_array();
	none = json_array();
	if (!reset || !none) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < names.n; i++) {
		if ((r = ctrl_bmc_pin_forget(bs, names.names[i], reterr)) < 0)
			goto out;
		json_array_append_new(r ? reset : none, json_string(names.names[i]));
		if (r)
			log_notice("event=bmc_pin_reset node=%s msg=\"the recorded key is "
				   "forgotten: the next contact trusts the key then offered\"",
			    names.names[i]);
	}
	*ret = json_pack("{s:O,s:O}", "reset", reset, "none", none);
	r = *ret ? 0 : -ENOMEM;
out:
	json_decref(reset);
	json_decref(none);
	hostlist_done(&names);
	return r;
}

const struct control_verb verbs_ctrl[] = {
	{ .name = "expect", .fn = expect },
	{ .name = "energy", .fn = energy },
	{ .name = "health.clear", .fn = health_clear_verb },
	{ .name = "allocate", .fn = allocate },
	{ .name = "provision", .fn = provision },
	{ .name = "power", .fn = power },
	{ .name = "hold", .fn = hold },
	{ .name = "release", .fn = release },
	{ .name = "drain", .fn = drain },
	{ .name = "undrain", .fn = undrain },
	{ .name = "events", .fn = events },
	{ .name = "node.reset-bmc-pin", .fn = node_reset_bmc_pin },
	{ .name = NULL },
};
