/* SPDX-License-Identifier: MIT */
/* The controller's lifecycle and its tick: read every managed node, ask the FSM what to
 * do, and hand the node to power, health, green and energy (ctrl_internal.h says which
 * file does what). */
#include <assert.h>
#include <string.h>
#include <time.h>

#include "cluster/cluster.h"
#include "controller/ctrl_internal.h"
#include "http/http.h"
#include "kind.h"
#include "vm/vm_policy.h"
#include "log.h"
#include "boot/nodes.h"
#include "wallclock.h"

int64_t
ctrl_now_ms(void)
{
	return wall_ms();
}

static int
tick_node(const struct node_rec *rec, void *userdata)
{
	struct ctrl_tick *t = userdata;
	struct ctrl *c = t->c;
	struct node_rec n = *rec;
	struct image_rec img;
	struct ctrl_node in = { 0 };
	struct ctrl_decision d;
	bool vm_busy = false;

	if (!n.bmc[0] || !n.bmc_creds[0])
		return 0;
	/* Health is read for every node with a BMC, managed or not. */
	if (!n.want_power[0]) {
		ctrl_health_poll(c, &n, t);
		return 0;
	}
	in.want = strcmp(n.want_power, "on") == 0 ? CW_ON : CW_OFF;
	in.hold = n.hold;
	in.has_bmc = n.bmc[0] && n.bmc_creds[0];
	in.bmc_busy = ctrl_power_busy(c, n.name);
	in.target_set = nodes_boot_image(c->bs, &n, &img) == 0;
	/* A VM host whose VMs have to move first (issue 13): held while it is drained and
	 * still runs some, so a doomed host's power-off and a reimage --evacuate wait for
	 * the evacuation; never idle for the green policy while it runs any. */
	if (in.target_set && kind_is_vm_host(kind_find(img.kind)) &&
	    vm_host_in_use(c->bs, n.name)) {
		vm_busy = true;
		in.hold = in.hold || store_vm_drain_get(c->bs->store, n.name, NULL, 0);
	}
	in.booted_is_target = in.target_set && strcmp(n.booted_image, img.id) == 0;
	in.phase = ctrl_phase_from_string(n.phase);
	/* A kind that runs no init of ours (iscsi: pxe -> loading -> up) has no imaging: its
	 * loading is the OS's whole boot from its disk, which gets the span of the phase
	 * before up (timeout_up), not the kernel-to-init one. */
	if (in.phase == CP_LOADING && in.target_set && kind_find(img.kind) &&
	    !kind_passes_phase(kind_find(img.kind), "imaging"))
		in.phase = CP_IMAGING;
	/* Phases are stored in seconds: compare at that grain with the op start. */
	in.phase_at_ms = n.phase_at * 1000;
	in.power = strcmp(n.power, "on") == 0 ? CPOW_ON : strcmp(n.power, "off") == 0 ?
	    CPOW_OFF : CPOW_UNKNOWN;
	in.op = ctrl_op_from_string(n.op);
	in.op_at_ms = n.op_at_ms / 1000 * 1000;
	in.attempts = n.attempts;
	in.retry_at_ms = n.retry_at_ms;
	d = ctrl_decide(&in, &c->policy, t->now);
	ctrl_power_apply(c, &n, &d, t);
	ctrl_green_add(c, &n, in.booted_is_target && !vm_busy, t->now);
	ctrl_health_poll(c, &n, t);
	/* Observed power is polled at an interval (and after every action). */
	ctrl_power_poll(c, &n, t);
	return 0;
}

static void
tick(struct loop *l, void *userdata)
{
	struct ctrl *c = userdata;
	struct ctrl_tick t = { .c = c, .now = ctrl_now_ms() };
	int64_t next;

	(void)l;
	c->tick_timer = 0;
	c->last_tick_ms = loop_now_ms();
	c->next_wake_ms = 0;
	/* Only the leader acts (issue 15): another instance's controller does nothing at
	 * all, no BMC call, no policy, no write of its own, no energy accounting or
	 * retention (they would count twice); it looks again each second and, once it
	 * leads, resumes from the rows as after a restart. */
	if (!cluster_may_act(c->bs->cluster))
		goto schedule;
	if (t.now - c->last_poll_ms >= (int64_t)c->bs->cfg.power_poll_ms) {
		t.poll = true;
		c->last_poll_ms = t.now;
	}
	if (c->bs->cfg.health_poll_ms &&
	    t.now - c->last_health_ms >= (int64_t)c->bs->cfg.health_poll_ms) {
		t.health = true;
		c->last_health_ms = t.now;
	}
	/* decided on every phase the nodes reached: the boot records their scripts left
	 * queued (boot/boot_records.h) are written first, so a timeout never fires on a
	 * node whose script was answered a moment before */
	http_records_flush(c->bs);
	ctrl_green_begin(c);
	(void)store_node_foreach_managed(c->bs->store, tick_node, &t);
	ctrl_green_run(c, t.now);
	ctrl_energy_run(c, t.now);
	ctrl_retention_run(c, t.now);
	notify(&c->bs->notify, NOTIFY_HISTORY);
schedule:
	/* Level-triggered: decide again at least once a second, sooner if asked. */
	next = loop_now_ms() + 1000;
	if (c->next_wake_ms && c->next_wake_ms - t.now < 1000)
		next = loop_now_ms() + (c->next_wake_ms > t.now ? (uint64_t)(c->next_wake_ms - t.now) :
		    0);
	/* A kick during this tick may have scheduled the next one already: keep the sooner. */
	if (c->tick_timer > 0) {
		if (c->tick_due_ms <= (uint64_t)next)
			return;
		loop_cancel_timer(c->bs->loop, c->tick_timer);
	}
	c->tick_due_ms = (uint64_t)next;
	c->tick_timer = loop_add_timer(c->bs->loop, (uint64_t)next, tick, c);
}

/* A kick asks for a tick soon: in 10 ms, so one burst of changes makes one tick, and not
 * sooner than MIN_TICK_GAP_MS after the last one began, because a tick reads every managed
 * node and a boot storm kicks on every phase report. A tick already due by then serves
 * the kick too: a kick never postpones one, so a steady stream of them cannot starve it. */
#define MIN_TICK_GAP_MS 100

void
ctrl_kick(struct ctrl *c)
{
	uint64_t due;

	if (!c || c->stopping)
		return;
	due = loop_now_ms() + 10;
	if (c->last_tick_ms && due < c->last_tick_ms + MIN_TICK_GAP_MS)
		due = c->last_tick_ms + MIN_TICK_GAP_MS;
	if (c->tick_timer > 0) {
		if (c->tick_due_ms <= due)
			return;
		loop_cancel_timer(c->bs->loop, c->tick_timer);
	}
	c->tick_due_ms = due;
	c->tick_timer = loop_add_timer(c->bs->loop, due, tick, c);
}

/* A phase or desired state changed somewhere (boot/nodes.c, a verb): decide again. */
static void
on_node_changed(void *userdata)
{
	ctrl_kick(userdata);
}

int
ctrl_new(struct bootsvc *bs, struct ctrl **ret, struct dl_err *reterr)
{
	struct ctrl *c;
	int r;

	assert(bs->action);
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->bs = bs;
	hooks_init(&c->hooks, bs->loop, (unsigned)bs->cfg.notify_hook_timeout_ms);
	ctrl_policy_default(&c->policy);
	c->policy.timeout_ms[CP_NONE] = c->policy.timeout_ms[CP_POWERING] =
	    (int64_t)bs->cfg.timeout_pxe_ms;
	c->policy.timeout_ms[CP_PXE] = (int64_t)bs->cfg.timeout_loading_ms;
	c->policy.timeout_ms[CP_LOADING] = (int64_t)bs->cfg.timeout_imaging_ms;
	c->policy.timeout_ms[CP_IMAGING] = (int64_t)bs->cfg.timeout_up_ms;
	c->policy.timeout_ms[CP_UP] = (int64_t)bs->cfg.timeout_pxe_ms;
	c->policy.max_attempts = (int)bs->cfg.boot_attempts;
	c->policy.backoff_ms = (int64_t)bs->cfg.retry_backoff_ms;
	c->policy.failed_retry_ms = (int64_t)bs->cfg.failed_retry_ms;
	if ((r = ctrl_health_init(c, reterr)) < 0 || (r = ctrl_green_init(c, reterr)) < 0) {
		ctrl_free(c);
		return r;
	}
	ctrl_power_init(c);
	ctrl_retention_init(c);
	if ((r = notify_listen(&bs->notify, NOTIFY_NODE, on_node_changed, c)) < 0) {
		ctrl_free(c);
		return dl_err_set(reterr, r, "controller: too many listeners of node changes");
	}
	*ret = c;
	ctrl_kick(c);
	return 0;
}

struct ctrl *
ctrl_free(struct ctrl *c)
{
	if (!c)
		return NULL;
	c->stopping = true;
	notify_unlisten(&c->bs->notify, NOTIFY_NODE, c);
	if (c->tick_timer > 0)
		loop_cancel_timer(c->bs->loop, c->tick_timer);
	ctrl_green_done(c);
	hooks_done(&c->hooks);
	(void)ctrl_energy_flush(c); /* logged */
	energy_acc_done(&c->energy);
	free(c);
	return NULL;
}
