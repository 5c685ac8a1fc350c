/* SPDX-License-Identifier: MIT */
/* The controller and the imperative power verb share one cap (issue #10): a struct
 * bootsvc with a real loop, action path and controller, a SQLite store in a temp dir and
 * nodes whose BMC address answers nothing (127.0.0.1 port 1), so their power actions
 * fail quickly; the cap is filled by test actions blocked on a gate. Before the action
 * path, ctrl_power_now() queued its job straight to the worker pool whatever the cap.
 * And an admin's drain is no hold: the controller still acts on a drained node. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../bootsvc/action/action.h"
#include "../../bootsvc/bootsvc.h"
#include "../../bootsvc/control/control.h"
#include "../../bootsvc/controller/ctrl.h"
#include "../../bootsvc/controller/ctrl_internal.h"
#include "history.h"
#include "log.h"
#include "loop_wait.h"
#include "silent_bmc.h"
#include "store_dir.h"

/* The cap under test: two BMC actions in flight. */
#define CAP 2

static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static bool gate_open;

/* payload NULL: waits for the gate; else for the gate or *(bool *)payload (one blocker
 * let go alone, under gate_lock). */
static int
blocker_run(void *payload, const atomic_bool *cancelled, struct dl_err *reterr)
{
	const bool *own = payload;

	(void)cancelled;
	(void)reterr;
	pthread_mutex_lock(&gate_lock);
	while (!gate_open && !(own && *own))
		pthread_cond_wait(&gate_cond, &gate_lock);
	pthread_mutex_unlock(&gate_lock);
	return 0;
}

static void
blocker_done(void *payload, const struct action_result *res)
{
	(void)payload;
	(void)res;
}

static void
blocker_free(void *payload)
{
	(void)payload; /* a test's static flag, or NULL */
}

/* Another user of the bmc pool (a health read, say), holding a slot until the gate. */
static const struct action_type blocker = { .name = "blocker", .pool = ACTION_POOL_BMC,
	.res = ACTION_RES_BMC_SENSORS, .routine = true, .deadline_ms = 60000,
	.run = blocker_run, .done = blocker_done, .free = blocker_free };

static void
gate(bool open)
{
	pthread_mutex_lock(&gate_lock);
	gate_open = open;
	pthread_cond_broadcast(&gate_cond);
	pthread_mutex_unlock(&gate_lock);
}

struct fixture {
	struct store_dir sd; /* bs.store */
	struct bootsvc bs;
	unsigned max_inflight;
	/* the verb's answer */
	bool answered;
	int answer_r;
	char answer_msg[256];
};

static void
add_node(struct fixture *f, const char *name, const char *mac, const char *want)
{
	struct node_rec n = { 0 };
	struct dl_err e = { 0 };

	snprintf(n.name, sizeof(n.name), "%s", name);
	snprintf(n.mac, sizeof(n.mac), "%s", mac);
	memset(n.token, 'a', 64);
	strcpy(n.phase, "new");
	n.phase_at = n.created = 1000;
	strcpy(n.bmc, "127.0.0.1:1");
	snprintf(n.bmc_creds, sizeof(n.bmc_creds), "%s/bmc.creds", f->sd.dir);
	assert_int_equal(store_node_insert(f->bs.store, &n, &e), 0);
	assert_int_equal(store_node_get(f->bs.store, name, &n), 0);
	snprintf(n.want_power, sizeof(n.want_power), "%s", want);
	assert_int_equal(store_node_update_ctrl(f->bs.store, &n), 0);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct action_pool_conf pools[_ACTION_POOL_MAX];
	struct dl_err e = { 0 };
	char path[128];
	FILE *creds;

	if (!f)
		return -1;
	gate(false);
	if (store_dir_open(&f->sd) < 0 || loop_new(&f->bs.loop) < 0)
		return -1;
	f->bs.store = f->sd.s;
	config_init(&f->bs.cfg);
	snprintf(f->bs.cfg.state_dir, sizeof(f->bs.cfg.state_dir), "%s", f->sd.dir);
	f->bs.cfg.ipmi_concurrency = CAP;
	f->bs.cfg.bmc_timeout_ms = 200;       /* the dead BMC fails fast */
	f->bs.cfg.health_poll_ms = 0;         /* no health reads competing for the slots */
	f->bs.cfg.power_poll_ms = 86400000;   /* one status round, at the first tick */
	f->bs.cfg.power_on_rate = 0;
	snprintf(path, sizeof(path), "%s/bmc.creds", f->sd.dir);
	creds = fopen(path, "we");
	if (!creds || fputs("user=admin\npassword=secret\n", creds) < 0 || fclose(creds) != 0 ||
	    chmod(path, 0600) < 0)
		return -1;
	log_set_level(getenv("TEST_DEBUG") ? 7 : -1);
	action_pools_conf(&f->bs.cfg, pools);
	if (action_new(&f->bs, pools, _ACTION_POOL_MAX, &f->bs.action, &e) < 0)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	gate(true);
	f->bs.action = action_free(f->bs.action);
	f->bs.ctrl = ctrl_free(f->bs.ctrl);
	f->bs.loop = loop_free(f->bs.loop);
	store_dir_remove(&f->sd);
	free(f);
	return 0;
}

/* The bmc pool's in-flight count at its highest so far. */
static void
sample_inflight(void *arg)
{
	struct fixture *f = arg;
	unsigned n = action_inflight(f->bs.action, ACTION_POOL_BMC);

	if (n > f->max_inflight)
		f->max_inflight = n;
}

/* Run the loop until pred(f) holds (NULL: for all of ms) or ms pass, sampling the bmc
 * pool's in-flight count every millisecond. */
static bool
run_until(struct fixture *f, bool (*pred)(void *f), unsigned ms)
{
	return loop_wait(f->bs.loop, pred, sample_inflight, f, ms);
}

static void
answer(struct bootsvc *bs, const char *node, enum power_op op, int r, bool on,
    const char *message, void *userdata)
{
	struct fixture *f = userdata;

	(void)bs;
	(void)on;
	assert_string_equal(node, "v1");
	assert_int_equal(op, POWER_CYCLE);
	f->answered = true;
	f->answer_r = r;
	(void)snprintf(f->answer_msg, sizeof(f->answer_msg), "%s", message);
}

static bool
all_idle(void *arg)
{
	struct fixture *f = arg;

	return action_busy_count(f->bs.action) == 0;
}

static bool
all_done(void *arg)
{
	struct fixture *f = arg;
	struct node_rec n;

	return f->answered && store_node_get(f->bs.store, "c1", &n) == 0 &&
	    n.last_error[0] && all_idle(f);
}

static void
test_cap_shared(void **state)
{
	struct fixture *f = *state;
	struct dl_err e = { 0 };
	struct node_rec n;

	add_node(f, "v1", "52:54:00:00:00:01", "");   /* unmanaged: the verb's */
	add_node(f, "c1", "52:54:00:00:00:02", "off"); /* managed: the controller powers it off */
	/* The cap is full before the controller's first tick. */
	assert_int_equal(action_submit(f->bs.action, "x1", &blocker, NULL, 0, NULL), 0);
	assert_int_equal(action_submit(f->bs.action, "x2", &blocker, NULL, 0, NULL), 0);
	assert_int_equal(ctrl_new(&f->bs, &f->bs.ctrl, &e), 0);

	/* The verb waits for a slot instead of going past the cap, and holds its node. */
	assert_int_equal(ctrl_power_now(f->bs.ctrl, "v1", POWER_CYCLE, answer, f, &e), 0);
	assert_int_equal(action_inflight(f->bs.action, ACTION_POOL_BMC), CAP);
	assert_int_equal(action_waiting(f->bs.action, ACTION_POOL_BMC), 1);
	assert_true(action_busy(f->bs.action, "v1", ACTION_RES_BMC_POWER));
	assert_int_equal(ctrl_power_now(f->bs.ctrl, "v1", POWER_RESET, answer, f, &e), -EBUSY);
	assert_non_null(strstr(e.msg, "'v1' has a BMC operation in flight"));
	/* The cycle an admin ordered armed v1 (boot/trust.h): a new token, once */
	assert_int_equal(store_node_get(f->bs.store, "v1", &n), 0);
	assert_true(n.armed);
	assert_string_equal(n.armed_by, "admin");
	assert_int_not_equal(strspn(n.token, "a"), 64); /* not the token it was added with */

	/* Ticks come and go (a kick's 10 ms, then every second is too slow to wait for:
	 * 300 ms covers the first); the controller finds no room, so it writes no intent
	 * for c1 and starts nothing. */
	(void)run_until(f, NULL, 300);
	assert_int_equal(store_node_get(f->bs.store, "c1", &n), 0);
	assert_string_equal(n.op, "");
	assert_false(action_busy(f->bs.action, "c1", ACTION_RES_BMC_POWER));
	assert_false(f->answered);
	assert_int_equal(action_inflight(f->bs.action, ACTION_POOL_BMC), CAP);

	/* Slots free: the verb's cycle goes first, then the controller's power-off; both
	 * meet the dead BMC. Never more than the cap in flight. */
	gate(true);
	assert_true(run_until(f, all_done, 10000));
	assert_true(f->max_inflight <= CAP);
	assert_true(f->answer_r < 0);
	assert_non_null(strstr(f->answer_msg, "127.0.0.1"));
	assert_int_equal(store_node_get(f->bs.store, "c1", &n), 0);
	assert_string_equal(n.bmc_state, "unreachable");
	assert_string_equal(n.op, "");     /* the intent undone: the BMC did not act */
	assert_true(n.retry_at_ms > 0);    /* and retried after retry_backoff */
}

/* A power action that must wait (the cap full, or no power-on token) asks for the next
 * tick in 200 ms, and never later than a wake another node's decision of the same tick
 * asked for: before ctrl_wake_by() here the 200 ms overwrote an earlier wake. Applied
 * straight to ctrl_power_apply(), so no tick's timing is measured. */
static void
test_wait_keeps_earlier_wake(void **state)
{
	struct fixture *f = *state;
	struct dl_err e = { 0 };
	struct ctrl_decision off = { .act = CA_POWER_OFF, .op = COP_POWER_OFF };
	struct ctrl_decision on = { .act = CA_POWER_ON, .op = COP_BOOTING };
	struct ctrl_tick t = { .now = 5000000 };
	struct node_rec n;
	struct ctrl *c;

	add_node(f, "c1", "52:54:00:00:00:02", "off");
	assert_int_equal(ctrl_new(&f->bs, &f->bs.ctrl, &e), 0);
	c = t.c = f->bs.ctrl;
	assert_int_equal(store_node_get(f->bs.store, "c1", &n), 0);

	/* the cap full */
	assert_int_equal(action_submit(f->bs.action, "x1", &blocker, NULL, 0, NULL), 0);
	assert_int_equal(action_submit(f->bs.action, "x2", &blocker, NULL, 0, NULL), 0);
	c->next_wake_ms = 0;
	ctrl_power_apply(c, &n, &off, &t);
	assert_int_equal(c->next_wake_ms, t.now + 200); /* no wake asked: in 200 ms */
	c->next_wake_ms = t.now + 50;                   /* another node's, earlier */
	ctrl_power_apply(c, &n, &off, &t);
	assert_int_equal(c->next_wake_ms, t.now + 50);
	assert_string_equal(n.op, "");                  /* and nothing started */

	/* room, but no power-on token */
	gate(true);
	assert_true(run_until(f, all_idle, 10000));
	c->bs->cfg.power_on_rate = 0.001;
	c->tokens = 0;
	c->tokens_at_ms = t.now;
	c->next_wake_ms = t.now + 50;
	ctrl_power_apply(c, &n, &on, &t);
	assert_int_equal(c->next_wake_ms, t.now + 50);
	c->next_wake_ms = 0;
	ctrl_power_apply(c, &n, &on, &t);
	assert_int_equal(c->next_wake_ms, t.now + 200);
	assert_string_equal(n.op, "");
}

#define N_DEAD 3
static int dead_fd[N_DEAD];

static bool
has_datagram(int fd)
{
	char c;

	return recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) >= 0;
}

static bool
any_asked(void *arg)
{
	(void)arg;
	for (int i = 0; i < N_DEAD; i++)
		if (has_datagram(dead_fd[i]))
			return true;
	return false;
}

/* The power verb over d[1-3] queues d3 first, the one whose BMC did not answer last time:
 * with one slot free, d3's BMC is the first asked, though d1 and d2 come before it in the
 * hostlist. Each node's BMC is a silent socket of its own, so which is asked first is
 * seen on the sockets, not in a time. */
static void
test_verb_unreachable_first(void **state)
{
	struct fixture *f = *state;
	static bool let_go; /* the first blocker's own gate */
	const char *req = "{\"id\":1,\"verb\":\"power\",\"args\":{\"names\":\"d[1-3]\","
	    "\"action\":\"status\"}}";
	struct dl_err e = { 0 };
	char *out;

	let_go = false;
	for (int i = 0; i < N_DEAD; i++) {
		char name[16], mac[24];
		uint16_t port;
		struct node_rec n;

		dead_fd[i] = silent_bmc(&port);
		snprintf(name, sizeof(name), "d%d", i + 1);
		snprintf(mac, sizeof(mac), "52:54:00:00:01:%02x", i + 1);
		add_node(f, name, mac, "");
		assert_int_equal(store_node_get(f->bs.store, name, &n), 0);
		snprintf(n.bmc, sizeof(n.bmc), "127.0.0.1:%u", (unsigned)port);
		assert_int_equal(store_node_update(f->bs.store, &n), 0);
		if (i == N_DEAD - 1) {
			strcpy(n.bmc_state, "unreachable");
			assert_int_equal(store_node_update_ctrl(f->bs.store, &n), 0);
		}
	}
	/* The cap is full: the verb's three jobs wait, in the order it queued them. */
	assert_int_equal(action_submit(f->bs.action, "x1", &blocker, &let_go, 0, NULL), 0);
	assert_int_equal(action_submit(f->bs.action, "x2", &blocker, NULL, 0, NULL), 0);
	assert_int_equal(ctrl_new(&f->bs, &f->bs.ctrl, &e), 0);
	out = control_handle_line(&f->bs, req, strlen(req));
	assert_non_null(out);
	assert_non_null(strstr(out, "\"ok\":true"));
	free(out);
	assert_int_equal(action_waiting(f->bs.action, ACTION_POOL_BMC), N_DEAD);

	/* One slot: the head of the queue goes first. */
	pthread_mutex_lock(&gate_lock);
	let_go = true;
	pthread_cond_broadcast(&gate_cond);
	pthread_mutex_unlock(&gate_lock);
	assert_true(run_until(f, any_asked, 10000));
	assert_true(has_datagram(dead_fd[N_DEAD - 1]));
	assert_false(has_datagram(dead_fd[0]));
	assert_false(has_datagram(dead_fd[1]));
	gate(true);
	for (int i = 0; i < N_DEAD; i++)
		close(dead_fd[i]);
}

static bool
drained_acted(void *arg)
{
	struct fixture *f = arg;
	struct node_rec n;

	return store_node_get(f->bs.store, "b-drained", &n) == 0 && n.op[0];
}

/* An admin's drain is not a hold: the controller keeps managing a drained node (its
 * desired power off is acted on) and leaves a held one alone. Both in one tick, the held
 * one first (name order), so when the drained one's op is written the held one's
 * decision was made. */
static void
test_drained_still_managed(void **state)
{
	struct fixture *f = *state;
	struct dl_err e = { 0 };
	struct node_rec n;

	add_node(f, "a-held", "52:54:00:00:02:01", "off");
	add_node(f, "b-drained", "52:54:00:00:02:02", "off");
	assert_int_equal(store_node_get(f->bs.store, "a-held", &n), 0);
	n.hold = true;
	strcpy(n.hold_reason, "rack work");
	assert_int_equal(store_node_update_ctrl(f->bs.store, &n), 0);
	assert_int_equal(store_node_get(f->bs.store, "b-drained", &n), 0);
	n.drain = true;
	strcpy(n.drain_reason, "bad DIMM");
	assert_int_equal(store_node_update_ctrl(f->bs.store, &n), 0);

	assert_int_equal(ctrl_new(&f->bs, &f->bs.ctrl, &e), 0);
	assert_true(run_until(f, drained_acted, 10000));
	assert_int_equal(store_node_get(f->bs.store, "b-drained", &n), 0);
	assert_string_equal(n.op, "power-off");
	/* the controller's own writes keep the drain */
	assert_true(n.drain);
	assert_string_equal(n.drain_reason, "bad DIMM");
	assert_int_equal(store_node_get(f->bs.store, "a-held", &n), 0);
	assert_string_equal(n.op, "");
	assert_true(n.hold);
	gate(true);
}

/* Image "tiny" (linux) in the store, for nodes the controller boots. */
static void
add_image(struct fixture *f, struct image_rec *img)
{
	char sha[SHA256_HEX_SIZE] = { 0 };
	struct dl_err e = { 0 };

	memset(img, 0, sizeof(*img));
	memset(img->id, 'c', 64);
	strcpy(img->name, "tiny");
	strcpy(img->kind, "linux");
	strcpy(img->path, "/tmp/x");
	memset(sha, '1', 64);
	assert_int_equal(image_rec_file_set(img, "kernel", sha, 1), 0);
	assert_int_equal(image_rec_file_set(img, "initrd", sha, 1), 0);
	assert_int_equal(image_rec_file_set(img, "rootfs", sha, 1), 0);
	img->added = 1;
	assert_int_equal(store_image_insert(f->bs.store, img, &e), 0);
}

static bool
blocked_twice(void *arg)
{
	struct fixture *f = arg;

	return history_actions(f->bs.store, "e-boot", "boot-blocked").n >= 2 && all_idle(f);
}

/* A boot whose power-on cannot happen says so on every attempt (boot-blocked), where
 * bmc-unreachable comes once, at the change: a scheduler waiting for the node learns it
 * from the attempt after its order even when the BMC was silent long before. A status
 * read that fails (the power poll of a node left off) is no boot: no such event. */
static void
test_boot_blocked(void **state)
{
	struct fixture *f = *state;
	struct image_rec img;
	struct dl_err e = { 0 };
	struct node_rec n;

	f->bs.cfg.retry_backoff_ms = 100;
	add_image(f, &img);
	add_node(f, "e-boot", "52:54:00:00:04:01", "on");
	assert_int_equal(store_node_get(f->bs.store, "e-boot", &n), 0);
	strcpy(n.image, "tiny");
	assert_int_equal(store_node_update(f->bs.store, &n), 0);
	add_node(f, "f-off", "52:54:00:00:04:02", "off");

	assert_int_equal(ctrl_new(&f->bs, &f->bs.ctrl, &e), 0);
	assert_true(run_until(f, blocked_twice, 20000));
	assert_int_equal(history_actions(f->bs.store, "e-boot", "bmc-unreachable").n, 1);
	/* a node whose power was never read is booted by a reboot: its off half failed */
	assert_true(history_actions(f->bs.store, "e-boot", "power-cycle").n >= 2);
	assert_non_null(strstr(history_actions(f->bs.store, "e-boot", "boot-blocked").reason,
	    "power off failed: BMC '127.0.0.1'"));
	assert_int_equal(store_node_get(f->bs.store, "e-boot", &n), 0);
	assert_string_equal(n.bmc_state, "unreachable");
	assert_string_equal(n.phase, "powering-on");
	/* the node left off: its BMC is as dead (status reads fail), no boot to block */
	assert_int_equal(store_node_get(f->bs.store, "f-off", &n), 0);
	assert_string_equal(n.bmc_state, "unreachable");
	assert_int_equal(history_actions(f->bs.store, "f-off", "boot-blocked").n, 0);
	gate(true);
}

static bool
undrained_idle(void *arg)
{
	struct fixture *f = arg;
	struct node_rec n;

	return store_node_get(f->bs.store, "d-up", &n) == 0 && n.idle_since_ms != 0;
}

/* A drained node stays up as it is: never idle for the green policy (so never powered
 * off as idle), where the same node undrained is. Both in one tick, the drained first. */
static void
test_drained_not_idle(void **state)
{
	static const char *const names[] = { "c-drained-up", "d-up" };
	struct fixture *f = *state;
	struct image_rec img;
	struct dl_err e = { 0 };
	struct node_rec n;

	add_image(f, &img);
	for (size_t i = 0; i < 2; i++) {
		char mac[24];

		snprintf(mac, sizeof(mac), "52:54:00:00:03:%02zx", i + 1);
		add_node(f, names[i], mac, "on");
		assert_int_equal(store_node_get(f->bs.store, names[i], &n), 0);
		strcpy(n.image, "tiny");
		assert_int_equal(store_node_update(f->bs.store, &n), 0);
		assert_int_equal(store_node_set_phase(f->bs.store, names[i], "up", "", 1000), 0);
		assert_int_equal(store_node_get(f->bs.store, names[i], &n), 0);
		memcpy(n.booted_image, img.id, sizeof(n.booted_image));
		strcpy(n.power, "on");
		n.drain = i == 0;
		assert_int_equal(store_node_update_ctrl(f->bs.store, &n), 0);
	}

	assert_int_equal(ctrl_new(&f->bs, &f->bs.ctrl, &e), 0);
	assert_true(run_until(f, undrained_idle, 10000));
	assert_int_equal(store_node_get(f->bs.store, "c-drained-up", &n), 0);
	assert_int_equal(n.idle_since_ms, 0);
	assert_true(n.drain);
	assert_string_equal(n.want_power, "on");
	gate(true);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cap_shared, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_keeps_earlier_wake, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verb_unreachable_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drained_still_managed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drained_not_idle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_boot_blocked, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
