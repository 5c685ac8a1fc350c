/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "boot/trust.h"

enum trust_phase
trust_phase_of(const char *phase)
{
	if (strcmp(phase, "up") == 0)
		return TP_UP;
	if (strcmp(phase, "failed") == 0)
		return TP_FAILED;
	if (strcmp(phase, "pxe") == 0 || strcmp(phase, "loading") == 0 ||
	    strcmp(phase, "imaging") == 0)
		return TP_BOOTING;
	return TP_IDLE;
}

bool
trust_source_ok(bool fixed_ip, bool from_registered)
{
	return !fixed_ip || from_registered;
}

enum trust_cred
trust_cred_decide(bool fixed_ip, bool from_registered, bool armed)
{
	if (!trust_source_ok(fixed_ip, from_registered))
		return TC_WRONG_SOURCE;
	return armed ? TC_SERVE : TC_NOT_ARMED;
}

struct trust_script_verdict
trust_script_decide(const struct trust_script_in *in)
{
	struct trust_script_verdict v = { .serve = TS_HOLD };

	if (!trust_source_ok(in->fixed_ip, in->from_registered)) {
		v.serve = TS_REFUSE;
		v.event = true;
		v.why = "script asked for from an address other than the node's";
		return v;
	}
	if (in->ctrl_booting) {
		/* The controller ordered this boot and armed the node when it did. iPXE asking
		 * again after the credential went (a failed kernel fetch, an init that
		 * rebooted) gets a fresh one only from the node's own address: without one,
		 * the controller's next attempt arms it. */
		v.serve = TS_BOOT;
		v.set_pxe = true;
		v.arm = !in->armed && in->fixed_ip;
		v.why = "controller boot";
		return v;
	}
	if (in->fixed_ip && (in->phase == TP_UP || in->phase == TP_FAILED) &&
	    !in->reboot_evidence) {
		/* Up (or failed: an OS that booted the wrong image may run), and no PXE DHCP
		 * exchange from its MAC since: the running system asks (a user on the node
		 * can), not iPXE after a reboot. Arming here would hand that user the next
		 * credential, and with it the overlay's site secrets. */
		v.event = true;
		v.why = "asked for from the node's address while it may be running, with no PXE "
			"DHCP exchange from its MAC since: not a reboot";
		return v;
	}
	if (in->fixed_ip) {
		/* From the node's own address and no controller boot: the node (re)booted
		 * by itself, or it has no BMC. It boots through, once: the controller
		 * watches the boot instead of starting one. An unconsumed credential is
		 * kept, so iPXE retrying its script does not rotate it under its feet. */
		v.serve = TS_BOOT;
		v.set_pxe = true;
		v.arm = !in->armed || in->phase == TP_UP;
		v.self_op = in->op_idle;
		v.event = in->phase == TP_UP || in->phase == TP_FAILED;
		v.why = in->phase == TP_UP ? "rebooted by itself while up" :
		    in->phase == TP_FAILED ? "failed node booting again by itself" :
		    "boot from the node's address";
		return v;
	}
	if (in->armed) {
		/* No address to check: an admin armed it (or the controller's boot did and
		 * its op has ended); the credential is still one-time. */
		v.serve = TS_BOOT;
		v.set_pxe = true;
		v.self_op = in->op_idle;
		v.why = "armed node without a fixed address";
		return v;
	}
	v.event = true;
	v.why = "not armed: no fixed address, and neither the controller nor an admin "
		"(nodectl node arm) is booting it";
	return v;
}
