/* SPDX-License-Identifier: MIT */
/* Control verbs for schedulers and admins that change desired state or touch BMCs:
 * provision, power, hold, release, events (docs/control-protocol.md). Desired state is
 * written to the store here, before the controller acts on it. */
#include <string.h>
#include <time.h>

#include "control.h"
#include "controller.h"
#include "hostlist.h"
#include "log.h"
#include "nodes.h"
#include "proto.h"

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

static int
provision(struct bootsvc *bs, const json_t *args, json_t **ret, struct dl_err *reterr)
{
	static const char *const allowed[] = { "names", "image", "force", NULL };
	struct hostlist hl = { 0 };
	struct image_rec img;
	const char *image;
	bool force;
	int64_t seq;
	int r;

	if ((r = proto_args_check(args, allowed, reterr)) < 0 ||
	    (r = proto_arg_str(args, "image", true, 200, &image, reterr)) < 0 ||
	    (r = proto_arg_bool(args, "force", false, &force, reterr)) < 0)
		return r;
	if ((r = store_image_resolve(bs->store, image, &img, reterr)) < 0)
		return r;
	if ((r = existing(bs, args, &hl, reterr)) < 0)
		return r;
	for (size_t i = 0; i < hl.n; i++) {
		struct node_rec n;
		(void)store_node_get(bs->store, hl.names[i], &n);
		if (!n.bmc[0] || !n.bmc_creds[0]) {
			r = dl_err_set(reterr, -EINVAL,
			    "node '%s' has no BMC (add it with --bmc and --bmc-creds)", n.name);
			goto out;
		}
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
	if ((r = store_commit(bs->store)) < 0)
		goto out;
	log_notice("event=provision count=%zu first=%s image=%s image_id=%.12s", hl.n,
	    hl.names[0], img.name, img.id);
	controller_kick(bs->controller);
	control_events_notify(bs);
	*ret = json_pack("{s:o,s:s,s:s,s:I}", "nodes", names_json(&hl), "image", img.name,
	    "image_id", img.id, "seq", (json_int_t)seq);
	r = *ret ? 0 : -ENOMEM;
out:
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
	if ((r = existing(bs, args, &hl, reterr)) < 0)
		return r;
	for (size_t i = 0; i < hl.n; i++) {
		struct node_rec n;
		struct bmc_target t;
		(void)store_node_get(bs->store, hl.names[i], &n);
		if ((r = controller_target(bs, &n, &t, reterr)) < 0)
			goto out;
		explicit_bzero(t.pass, sizeof(t.pass));
	}
	if (op == POWER_ON || op == POWER_OFF) {
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
				(void)controller_power(bs->controller, n.name, POWER_ON, NULL, NULL,
				    NULL);
		}
		controller_kick(bs->controller);
		control_events_notify(bs);
		*ret = json_pack("{s:o,s:s}", "nodes", names_json(&hl), "want", action);
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
	for (size_t i = 0; i < hl.n; i++) {
		struct dl_err err = { 0 };
		if (controller_power(bs->controller, hl.names[i], op, batch_one, b, &err) < 0)
			batch_one(bs, hl.names[i], op, err.code ? err.code : -EIO, false, err.msg,
			    b);
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
	hostlist_done(&hl);
	return r;
}

static int
hold_release(struct bootsvc *bs, const json_t *args, json_t **ret, struct dl_err *reterr,
    bool hold)
{
	static const char *const allowed_hold[] = { "names", "reason", NULL };
	static const char *const allowed_release[] = { "names", NULL };
	struct hostlist hl = { 0 };
	const char *reason = NULL;
	int r;

	if ((r = proto_args_check(args, hold ? allowed_hold : allowed_release, reterr)) < 0 ||
	    (r = proto_arg_str(args, "reason", false, MAX_REASON - 1, &reason, reterr)) < 0)
		return r;
	if ((r = existing(bs, args, &hl, reterr)) < 0)
		return r;
	for (size_t i = 0; i < hl.n; i++) {
		struct node_rec n;
		(void)store_node_get(bs->store, hl.names[i], &n);
		n.hold = hold;
		(void)snprintf(n.hold_reason, sizeof(n.hold_reason), "%s",
		    hold ? (reason ? reason : "held by an admin") : "");
		if (!hold && strcmp(n.op, "failed") == 0) {
			/* Release also clears a failure: the controller tries again. */
			n.op[0] = '\0';
			n.attempts = 0;
		}
		n.retry_at_ms = 0;
		(void)store_node_update_ctrl(bs->store, &n);
		(void)store_event_add(bs->store, n.name, hold ? "hold" : "release",
		    hold ? n.hold_reason : "", (int64_t)time(NULL));
	}
	controller_kick(bs->controller);
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

const struct control_verb ctl_ctrl_verbs[] = {
	{ "provision", provision },
	{ "power", power },
	{ "hold", hold },
	{ "release", release },
	{ "events", events },
	{ NULL, NULL },
};
