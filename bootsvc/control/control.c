/* SPDX-License-Identifier: MIT */
/* The control protocol's verbs: a request line dispatched to its verb (after the client's
 * role is checked), answers deferred and completed, and the event stream to subscribers.
 * A client's I/O is conn.c; accepting is listen.c. */
#include <string.h>

#include "control/control_internal.h"
#include "control/control_tls.h"
#include "http/http.h"
#include "log.h"
#include "proto.h"
#include "version.h"

/* The request being dispatched, so control_defer() can refer back to it. */
static json_t *current_req_id;

static int
verb_ping(struct bootsvc *bs, const json_t *args, json_t **ret, struct dl_err *reterr)
{
	static const char *const allowed[] = { NULL };
	int r = proto_args_check(args, allowed, reterr);

	(void)bs;
	if (r < 0)
		return r;
	*ret = json_pack("{s:s}", "version", DISKLESS_VERSION);
	return *ret ? 0 : -ENOMEM;
}

static const struct control_verb misc_verbs[] = {
	{ .name = "ping", .fn = verb_ping },
	{ .name = NULL },
};

static const struct control_verb *
find_verb(const char *name)
{
	const struct control_verb *tables[] = { misc_verbs, verbs_node, verbs_image,
		verbs_ctrl, verbs_vm, verbs_vm_plan, verbs_disk, verbs_server };

	for (size_t t = 0; t < ELEMENTSOF(tables); t++)
		for (const struct control_verb *v = tables[t]; v->name; v++)
			if (strcmp(v->name, name) == 0)
				return v;
	return NULL;
}

/* A verb's failure that carries no message of its own: the errno's text, except where
 * that would mislead (a store write refused by the fencing token is not a file). */
static const char *
verb_errno_message(int r)
{
	if (r == -ESTALE)
		return "refused: a newer leader of the cluster took over from this instance "
		    "(the fencing token); retry";
	return strerror(-r);
}

/* A verb, on the cluster as every boot so far left it: the boot records the scripts
 * queued are written first (they wait to fall due otherwise, boot/boot_records.h), so
 * `nodectl node show` right after a node's script sees its phase and version served. */
static int
verb_run(struct bootsvc *bs, const struct control_verb *v, const json_t *args,
    json_t **ret_result, char **ret_text, struct dl_err *reterr)
{
	http_records_flush(bs);
	return v->text_fn ? v->text_fn(bs, args, ret_text, reterr) :
	    v->fn(bs, args, ret_result, reterr);
}

char *
control_handle_line(struct bootsvc *bs, const char *line, size_t len)
{
	struct dl_err err = { 0 };
	struct proto_req req;
	json_t *result = NULL;
	char *text = NULL;
	const struct control_verb *v;
	char *out;
	/* how long the verb held the loop: every other client, timer and result waited */
	uint64_t t0 = loop_now_ms();
	int r;

	bs->metrics.control_requests++;
	r = proto_req_parse(line, len, &req, &err);
	if (r == 0) {
		v = find_verb(req.verb);
		if (!v)
			r = dl_err_set(&err, -EINVAL, "unknown verb '%s'", req.verb);
		else if (bs->control && bs->control->current &&
		    (r = role_check(bs->control->current->role, bs->control->current->tls ?
		    control_tls_conn_who(bs->control->current->tls) : NULL, req.verb,
		    &err)) < 0)
			; /* refused: the message names the role and the verb */
		else {
			current_req_id = req.id;
			r = verb_run(bs, v, req.args, &result, &text, &err);
			current_req_id = NULL;
		}
	}
	if (r == CONTROL_DEFERRED) {
		log_info("event=control verb=%s ok=deferred loop_ms=%llu", req.verb,
		    (unsigned long long)(loop_now_ms() - t0));
		proto_req_done(&req);
		return NULL;
	}
	if (r < 0) {
		bs->metrics.control_errors++;
		if (!err.msg[0])
			dl_err_set(&err, r, "%s", verb_errno_message(r));
		out = proto_error(req.id, r, err.msg);
		/* The message may quote what the client sent: clean it before logging. */
		char safe[MAX_LOG_VALUE + 1];
		log_info("event=control verb=%s ok=0 loop_ms=%llu err=%s msg=\"%s\"",
		    req.verb[0] ? req.verb : "-", (unsigned long long)(loop_now_ms() - t0),
		    dl_errno_name(r), log_safe(safe, sizeof(safe), err.msg));
	} else {
		out = text ? proto_ok_text(req.id, text) : proto_ok(req.id, result);
		free(text);
		log_info("event=control verb=%s ok=1 loop_ms=%llu", req.verb,
		    (unsigned long long)(loop_now_ms() - t0));
	}
	proto_req_done(&req);
	return out;
}

int
control_call_as(struct bootsvc *bs, enum role role, const char *who, const char *verb,
    const json_t *args, json_t **ret_result, char **ret_text, struct dl_err *reterr)
{
	const struct control_verb *v = find_verb(verb);
	struct client *saved = bs->control ? bs->control->current : NULL;
	int r;

	bs->metrics.control_requests++;
	if (!v)
		r = dl_err_set(reterr, -ENOENT, "unknown verb '%s'", verb);
	else if ((r = role_check(role, who, verb, reterr)) < 0)
		; /* refused: the message names the role and the verb */
	else if (!json_is_object(args))
		r = dl_err_set(reterr, -EINVAL, "args must be an object");
	else {
		/* No socket client is current, so a deferring verb answers with what it
		 * queued, and events cannot subscribe (the caller streams them itself). */
		if (bs->control)
			bs->control->current = NULL;
		r = verb_run(bs, v, args, ret_result, ret_text, reterr);
		if (bs->control)
			bs->control->current = saved;
	}
	if (r < 0) {
		char safe[MAX_LOG_VALUE + 1];

		bs->metrics.control_errors++;
		if (!reterr->msg[0])
			dl_err_set(reterr, r, "%s", verb_errno_message(r));
		log_info("event=control verb=%s via=web who=\"%s\" ok=0 err=%s msg=\"%s\"",
		    v ? verb : "-", who ? who : "", dl_errno_name(r), log_safe(safe, sizeof(safe),
		    reterr->msg));
		return r;
	}
	log_info("event=control verb=%s via=web who=\"%s\" ok=1", verb, who ? who : "");
	return 0;
}

struct control_pending {
	uint64_t client_id;
	json_t *id;
	uint64_t deferred_ms; /* loop_now_ms() at control_defer(): the answer's log says how long */
};

struct control_pending *
control_defer(struct bootsvc *bs)
{
	struct control_pending *p;

	if (!bs->control || !bs->control->current)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->client_id = bs->control->current->id;
	p->deferred_ms = loop_now_ms();
	bs->control->current->n_deferred++;
	p->id = json_incref(current_req_id ? current_req_id : json_null());
	return p;
}

void
control_complete(struct bootsvc *bs, struct control_pending *p, json_t *result, int code,
    const char *message)
{
	struct client *cl;
	char *line;

	if (!p) {
		json_decref(result);
		return;
	}
	line = code < 0 ? proto_error(p->id, code, message) : proto_ok(p->id, result);
	if (code < 0)
		json_decref(result);
	cl = bs->control ? conn_by_id(bs->control, p->client_id) : NULL;
	log_info("event=control deferred=answered ok=%d client=%s ms=%llu", code < 0 ? 0 : 1,
	    cl ? "connected" : "gone", (unsigned long long)(loop_now_ms() - p->deferred_ms));
	if (cl) {
		cl->n_deferred--;
		conn_respond(cl, line);
		/* Inside a dispatch (a batch whose every job failed to queue answers at once):
		 * serving now would dispatch within the dispatch; the next pass sends it. */
		if (bs->control->current)
			conn_kick(cl);
		else
			conn_service(cl);
	} else
		free(line);
	json_decref(p->id);
	free(p);
}

int
control_subscribe(struct bootsvc *bs, int64_t since)
{
	if (!bs->control || !bs->control->current)
		return -ENOTSUP;
	bs->control->current->subscribed = true;
	bs->control->current->last_seq = since;
	control_events_notify(bs);
	return 0;
}

/* Events per flush and client: a subscriber far behind catches up over several rounds
 * instead of one huge buffer. */
#define MAX_EVENTS_PER_FLUSH 1000

json_t *
control_event_json(const struct event_rec *e)
{
	return json_pack("{s:{s:I,s:s,s:s,s:s,s:s,s:I}}", "event", "seq", (json_int_t)e->seq,
	    "node", e->node, "kind", e->kind, strcmp(e->kind, "phase") == 0 ? "phase" : "action",
	    e->what, "reason", e->reason, "at", (json_int_t)e->at);
}

static int
send_event(const struct event_rec *e, void *userdata)
{
	struct client *cl = userdata;
	json_t *o = control_event_json(e);
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	int r = -ENOMEM;

	json_decref(o);
	if (s) {
		r = conn_queue(cl, s);
		if (r == 0)
			r = conn_queue(cl, "\n");
		free(s);
	}
	if (r == 0)
		cl->last_seq = e->seq;
	return r;
}

static void
events_flush(struct loop *l, void *userdata)
{
	struct control *ctl = userdata;
	bool more = false;

	(void)l;
	ctl->flush_timer = 0;
	for (struct client *cl = ctl->clients; cl; cl = cl->next) {
		int64_t before;
		if (!cl->subscribed)
			continue;
		if (cl->out_len - cl->out_off >= CONTROL_OUT_LOW) {
			/* Sent when it has read what is queued (conn_flush). */
			cl->events_behind = true;
			continue;
		}
		before = cl->last_seq;
		(void)store_events_since(ctl->bs->store, cl->last_seq, MAX_EVENTS_PER_FLUSH,
		    send_event, cl);
		if (cl->last_seq - before >= MAX_EVENTS_PER_FLUSH)
			more = true;
		(void)conn_flush(cl);
	}
	if (more)
		control_events_notify(ctl->bs);
	if (ctl->events_hook)
		ctl->events_hook(ctl->events_hook_data);
}

void
control_events_hook(struct bootsvc *bs, void (*fn)(void *userdata), void *userdata)
{
	if (!bs->control)
		return;
	bs->control->events_hook = fn;
	bs->control->events_hook_data = userdata;
}

void
control_events_notify(struct bootsvc *bs)
{
	struct control *ctl = bs->control;

	if (!ctl || ctl->flush_timer > 0)
		return;
	ctl->flush_timer = loop_add_timer(bs->loop, loop_now_ms(), events_flush, ctl);
}

/* History rows were appended (boot, the controller, the action path): stream them. */
static void
on_history(void *userdata)
{
	struct control *ctl = userdata;

	control_events_notify(ctl->bs);
}

int
control_start(struct bootsvc *bs, struct control **ret, struct dl_err *reterr)
{
	struct control *ctl;
	int r;

	ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return -ENOMEM;
	ctl->bs = bs;
	ctl->rl_refuse = (struct log_ratelimit){ .interval_ms = CONTROL_LOG_INTERVAL_MS,
		.burst = CONTROL_LOG_BURST };
	ctl->rl_accept = ctl->rl_refuse;
	for (size_t i = 0; i < _CLOSE_MAX; i++)
		ctl->rl_close[i] = ctl->rl_refuse;
	r = notify_listen(&bs->notify, NOTIFY_HISTORY, on_history, ctl);
	if (r < 0) {
		free(ctl);
		return dl_err_set(reterr, r, "control socket: too many listeners of the history");
	}
	r = listen_start(ctl, reterr);
	if (r < 0) {
		notify_unlisten(&bs->notify, NOTIFY_HISTORY, ctl);
		free(ctl);
		return r;
	}
	ctl->sweep_timer = loop_add_timer(bs->loop, loop_now_ms() + CONTROL_SWEEP_MS,
	    conn_sweep, ctl);
	*ret = ctl;
	return 0;
}

struct control *
control_stop(struct control *ctl)
{
	if (!ctl)
		return NULL;
	notify_unlisten(&ctl->bs->notify, NOTIFY_HISTORY, ctl);
	while (ctl->clients)
		conn_free(ctl->clients);
	if (ctl->flush_timer > 0)
		loop_cancel_timer(ctl->bs->loop, ctl->flush_timer);
	if (ctl->sweep_timer > 0)
		loop_cancel_timer(ctl->bs->loop, ctl->sweep_timer);
	if (ctl->resume_timer > 0)
		loop_cancel_timer(ctl->bs->loop, ctl->resume_timer);
	listen_stop(ctl);
	free(ctl);
	return NULL;
}
