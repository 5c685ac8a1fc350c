/* SPDX-License-Identifier: MIT */
/* Who may move a node and who gets its credential (issue #11), as pure functions of what
 * bootsvc knows when a request arrives: no I/O, no clock, no store. http_ipxe.c and
 * api_node.c gather the inputs and carry the verdict out; tests/unit/test_trust.c checks
 * every row of the table below.
 *
 * A node's credential is its token. It is handed out once per boot, as a small cpio that
 * iPXE fetches as a second initrd (never on the kernel command line), and only while the
 * node is armed. A node is armed, with a fresh token, by
 *   - a boot the controller orders (ctrl_power.c, at the power-on) or an admin's power
 *     verb (on, cycle, reset),
 *   - a script request from the node's registered (fixed) address while no controller
 *     boot is in flight: a node without a BMC, or one that rebooted itself,
 *   - an admin (control verb node.arm, `nodectl node arm`).
 * Handing the credential out disarms the node; a second fetch is refused and evented.
 *
 * A script request is (docs/security.md "The boot network"):
 *   - refused (403, evented) when the node has a fixed address and the request comes
 *     from another one;
 *   - a boot (the node's phase becomes pxe) when the controller is booting the node, when
 *     it comes from the node's fixed address, or when the node is armed (an admin armed
 *     a node without a fixed address);
 *   - otherwise an observation: evented with its source address, answered with a hold
 *     script, and nothing moves. A node without a fixed address that reboots by itself
 *     therefore waits at the hold script until the controller boots it or an admin arms
 *     it: without an address to check, a script request proves nothing.
 * A request from an up (or failed) node's own address is a reboot only with evidence of
 * one: a PXE DHCP exchange from its MAC since its phase began (dnsmasq's dhcp-script). A
 * user on the running node can send any HTTP request iPXE sends, from that address, but
 * no DHCP; without the evidence the request is an observation, or that user would be
 * handed the next credential.
 * A boot that comes from the node's own address while the controller is not booting it is
 * self-initiated: the script request starts the controller's "self-boot" op, which the
 * FSM watches with the boot timeouts instead of power-cycling a node already on its way
 * (ctrl_fsm.h). */
#pragma once

#include <stdbool.h>

/* Where the node's boot stands, for the decision. */
enum trust_phase {
	TP_IDLE,    /* new, discovered, off, hold, powering-on: not in a boot of its own */
	TP_BOOTING, /* pxe, loading, imaging */
	TP_UP,
	TP_FAILED,
};

struct trust_script_in {
	bool fixed_ip;        /* the node has a registered address */
	bool from_registered; /* the request's source is that address */
	bool ctrl_booting;    /* the controller's op for the node is "booting" */
	bool op_idle;         /* no controller op at all (not booting, off, failed, self) */
	bool armed;           /* the current token has not been handed out yet */
	enum trust_phase phase;
	/* A PXE DHCP exchange from the node's MAC since its phase began (dnsmasq's
	 * pxe-seen), or bootsvc cannot see the node's DHCP (proxy or off: docs/security.md).
	 * Without it a request for an up or failed node's script is the running system's,
	 * not a reboot's. */
	bool reboot_evidence;
};

enum trust_serve {
	TS_REFUSE, /* 403: a fixed-address node asked for from elsewhere */
	TS_HOLD,   /* the hold script: an observation only */
	TS_BOOT,   /* the boot script */
};

struct trust_script_verdict {
	enum trust_serve serve;
	bool set_pxe;  /* move the node's phase to pxe (if not there already) */
	bool arm;      /* rotate the token and arm the node */
	bool self_op;  /* start the controller's self-boot op */
	bool event;    /* record an observation event naming the source address */
	const char *why; /* for the event, the log line and the hold script */
};

struct trust_script_verdict trust_script_decide(const struct trust_script_in *in);

/* Per-node endpoints other than the script (credential, overlay, phase reports): may a
 * request from this source be served at all? Only the node's fixed address where it has
 * one; anyone where it has none (the credential and the token still apply). */
bool trust_source_ok(bool fixed_ip, bool from_registered);

/* The credential endpoint: serve it (and disarm) or refuse. */
enum trust_cred {
	TC_SERVE,
	TC_WRONG_SOURCE, /* 403: fixed address, request from elsewhere */
	TC_NOT_ARMED,    /* 403: handed out already, or never armed */
};
enum trust_cred trust_cred_decide(bool fixed_ip, bool from_registered, bool armed);

/* The trust phase of a stored phase name. */
enum trust_phase trust_phase_of(const char *phase);
