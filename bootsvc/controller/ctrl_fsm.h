/* SPDX-License-Identifier: MIT */
/* The controller's decision as a pure function: (a node's desired and observed state,
 * policy, now) -> one action and the node's next bookkeeping. No I/O, no clock, no
 * store: ctrl.c and its files gather the inputs and carry the action out, so every
 * transition is unit-tested from a table (tests/unit/test_ctrl_fsm.c).
 *
 * The model, after Ironic's provision states: a node with want_power=on and a target
 * image is driven until its receipt proves it booted that image (phase up, booted ==
 * target). The controller acts only when it is idle for that node; an action starts an
 * op ("booting", "power-off") whose start time is persisted before the BMC is asked, so
 * after a crash the restarted controller waits on the op instead of acting twice.
 *
 * A reboot is two idempotent steps, as Ironic does it: power off, and once the BMC reads
 * the node off, power on. A chassis "power cycle" is not idempotent: when its answer is
 * slow (a busy BMC, a node slow to stop) the request is retransmitted or retried after a
 * timeout, and a BMC that executes the copy restarts the node twice. Off twice is off,
 * on twice is on. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

enum ctrl_phase {
	CP_NONE,     /* new, discovered, off, hold: not in a boot */
	CP_POWERING, /* powering-on (our own mark) */
	CP_PXE,
	CP_LOADING,
	CP_IMAGING,
	CP_UP,
	CP_FAILED,
	_CP_MAX,
};

enum ctrl_power { CPOW_UNKNOWN, CPOW_ON, CPOW_OFF };
enum ctrl_want { CW_NONE, CW_ON, CW_OFF };
/* COP_SELF: a boot the node started by itself (a panic, an admin's reboot, a node that
 * failed and came back), seen by its script request from its own address (boot/trust.h).
 * It is watched like a boot the controller ordered, with the same timeouts, but nothing is
 * power-cycled to start it: a node already on its way is not cycled again mid-boot. If it
 * times out, the controller's retry is an ordinary boot. */
enum ctrl_op { COP_IDLE, COP_BOOTING, COP_POWER_OFF, COP_FAILED, COP_SELF, _COP_MAX };

struct ctrl_node {
	enum ctrl_want want;
	bool hold;
	bool has_bmc;
	bool bmc_busy;          /* a BMC job for this node is in flight */
	bool target_set;        /* a target image version exists */
	bool booted_is_target;  /* the receipt matched the target version */
	enum ctrl_phase phase;
	int64_t phase_at_ms;
	enum ctrl_power power;
	enum ctrl_op op;
	int64_t op_at_ms;
	int attempts;
	int64_t retry_at_ms;
};

struct ctrl_policy {
	int64_t timeout_ms[_CP_MAX]; /* longest stay in a phase during a boot */
	int64_t off_timeout_ms;      /* power-off must be observed within this */
	int max_attempts;            /* boots tried before failing the node */
	int64_t backoff_ms;          /* first retry delay, doubled per attempt */
	int64_t backoff_max_ms;
	int64_t failed_retry_ms;     /* a failed node is tried again after this; 0: never */
};

enum ctrl_act {
	CA_NONE,
	CA_POWER_ON,    /* boot device PXE, then power on */
	CA_POWER_CYCLE, /* power off; CA_POWER_ON follows once the BMC reads off */
	CA_POWER_OFF,
	CA_FAIL,        /* give up: mark failed with reason */
	CA_DONE,        /* converged: op finished */
	_CA_MAX,
};

struct ctrl_decision {
	enum ctrl_act act;
	enum ctrl_op op;      /* the node's op after this decision */
	int64_t op_at_ms;
	int attempts;
	int64_t wake_at_ms;   /* 0, or when to decide again even if nothing changes */
	char reason[160];     /* why: for the event and, with CA_FAIL, the node */
};

void ctrl_policy_default(struct ctrl_policy *p);
const char *ctrl_phase_name(enum ctrl_phase p);
enum ctrl_phase ctrl_phase_from_string(const char *s);
const char *ctrl_act_name(enum ctrl_act a);
const char *ctrl_op_name(enum ctrl_op o);
enum ctrl_op ctrl_op_from_string(const char *s);

struct ctrl_decision ctrl_decide(const struct ctrl_node *n, const struct ctrl_policy *p,
    int64_t now_ms);
