/* SPDX-License-Identifier: MIT */
/* Out-of-band power control through libfreeipmi: one IPMI 2.0 / RMCP+ session per call,
 * opened, used for one or two commands and closed. Runs on worker threads only; every
 * blocking wait is bounded by the target's session timeout. */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <freeipmi/freeipmi.h>

#include "bmc/ipmi_timing.h"
#include "bmc/power.h"

/* Below this a session cannot even finish its four-message handshake on a busy host,
 * and libfreeipmi needs room for at least one retransmission inside the timeout. */
#define MIN_TIMEOUT_MS 100
/* libfreeipmi's own default retransmission interval (IPMI_RETRANSMISSION_TIMEOUT_DEFAULT):
 * shorter timeouts retransmit more often (bmc/ipmi_timing.c), never less often than this. */
#define MAX_RETRANSMIT_MS 1000

static void
ipmi_ctx_freep(ipmi_ctx_t *ctx)
{
	if (*ctx) {
		/* close fails only when no session is open, which is fine here */
		(void)ipmi_ctx_close(*ctx);
		ipmi_ctx_destroy(*ctx);
	}
}

static void
fiid_obj_freep(fiid_obj_t *obj)
{
	fiid_obj_destroy(*obj); /* accepts NULL */
}

/* libfreeipmi's error for ctx as one of power.h's errnos. Timeouts and names that do not
 * resolve both mean "cannot reach the BMC now": the controller retries those with backoff
 * and marks the node bmc-unreachable, where a credential or protocol error needs a human. */
static int
errnum_to_errno(int errnum)
{
	switch (errnum) {
	case IPMI_ERR_CONNECTION_TIMEOUT:
	case IPMI_ERR_SESSION_TIMEOUT:
	case IPMI_ERR_MESSAGE_TIMEOUT:
	case IPMI_ERR_BMC_BUSY:
	case IPMI_ERR_HOSTNAME_INVALID:
		return -ETIMEDOUT;
	case IPMI_ERR_USERNAME_INVALID:
	case IPMI_ERR_PASSWORD_INVALID:
	case IPMI_ERR_K_G_INVALID:
	case IPMI_ERR_PRIVILEGE_LEVEL_INSUFFICIENT:
	case IPMI_ERR_PRIVILEGE_LEVEL_CANNOT_BE_OBTAINED:
	case IPMI_ERR_PASSWORD_VERIFICATION_TIMEOUT:
	case IPMI_ERR_PERMISSION:
		return -EACCES;
	case IPMI_ERR_CIPHER_SUITE_ID_UNAVAILABLE:
	case IPMI_ERR_AUTHENTICATION_TYPE_UNAVAILABLE:
	case IPMI_ERR_IPMI_2_0_UNAVAILABLE:
	case IPMI_ERR_COMMAND_INVALID_OR_UNSUPPORTED:
		return -ENOTSUP;
	case IPMI_ERR_OUT_OF_MEMORY:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

/* Fill reterr for a failed step: host and operation always, the BMC's completion code when
 * it sent one. what never contains the password (it comes from string literals and the
 * user name only). */
static int
fail_step(struct dl_err *reterr, const char *host, const char *what, ipmi_ctx_t ctx,
    fiid_obj_t rs, unsigned timeout_ms)
{
	int errnum = ipmi_ctx_errnum(ctx);
	int r = errnum_to_errno(errnum);
	char ccmsg[128];
	uint64_t cc;

	if (r == -ETIMEDOUT && errnum != IPMI_ERR_HOSTNAME_INVALID)
		return dl_err_set(reterr, r, "BMC '%s': %s: no answer within %u ms (%s)", host,
		    what, timeout_ms, ipmi_ctx_errormsg(ctx));
	if (errnum == IPMI_ERR_BAD_COMPLETION_CODE && rs &&
	    FIID_OBJ_GET(rs, "comp_code", &cc) > 0) {
		if (ipmi_completion_code_strerror_cmd_r(rs, IPMI_NET_FN_CHASSIS_RQ, ccmsg,
			sizeof(ccmsg)) < 0)
			snprintf(ccmsg, sizeof(ccmsg), "unknown");
		return dl_err_set(reterr, r, "BMC '%s': %s: completion code 0x%02x (%s)", host,
		    what, (unsigned)cc, ccmsg);
	}
	return dl_err_set(reterr, r, "BMC '%s': %s: %s", host, what, ipmi_ctx_errormsg(ctx));
}

static int
chassis_power_is_on(ipmi_ctx_t ctx, const char *host, unsigned timeout_ms, bool *ret_on,
    struct dl_err *reterr)
{
	_cleanup_(fiid_obj_freep) fiid_obj_t rs = NULL;
	uint64_t on;

	rs = fiid_obj_create(tmpl_cmd_get_chassis_status_rs);
	if (!rs)
		return -ENOMEM;
	if (ipmi_cmd_get_chassis_status(ctx, rs) < 0)
		return fail_step(reterr, host, "get chassis status", ctx, rs, timeout_ms);
	/* A reply too short to hold the power bit is a broken BMC, not "off". */
	if (FIID_OBJ_GET(rs, "current_power_state.power_is_on", &on) <= 0)
		return dl_err_set(reterr, -EIO,
		    "BMC '%s': get chassis status: reply lacks the power state", host);
	*ret_on = on != 0;
	return 0;
}

/* Set System Boot Options, parameter 5 (boot flags, IPMI 2.0 §28.13 Table 28-14): force
 * PXE, valid for the next boot only, so a node that later reboots on its own comes back
 * through its normal boot order. The BIOS/EFI boot-type bit is read back and kept: forcing
 * "PC compatible" would turn a UEFI node's PXE into a legacy one on real hardware. */
static int
boot_flags_set_pxe(ipmi_ctx_t ctx, const char *host, unsigned timeout_ms,
    struct dl_err *reterr)
{
	_cleanup_(fiid_obj_freep) fiid_obj_t get_rs = NULL;
	_cleanup_(fiid_obj_freep) fiid_obj_t set_rs = NULL;
	uint8_t boot_type = IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAG_BOOT_TYPE_PC_COMPATIBLE;
	uint64_t v;

	get_rs = fiid_obj_create(tmpl_cmd_get_system_boot_options_boot_flags_rs);
	set_rs = fiid_obj_create(tmpl_cmd_set_system_boot_options_rs);
	if (!get_rs || !set_rs)
		return -ENOMEM;
	/* A BMC that cannot report the flags can still take them: fall back to legacy. */
	if (ipmi_cmd_get_system_boot_options_boot_flags(ctx, IPMI_SYSTEM_BOOT_OPTIONS_NO_SET_SELECTOR,
		IPMI_SYSTEM_BOOT_OPTIONS_NO_BLOCK_SELECTOR, get_rs) == 0 &&
	    FIID_OBJ_GET(get_rs, "bios_boot_type", &v) > 0)
		boot_type = v ? IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAG_BOOT_TYPE_EFI :
				IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAG_BOOT_TYPE_PC_COMPATIBLE;
	else if (ipmi_ctx_errnum(ctx) != IPMI_ERR_BAD_COMPLETION_CODE &&
	    ipmi_ctx_errnum(ctx) != IPMI_ERR_COMMAND_INVALID_OR_UNSUPPORTED)
		return fail_step(reterr, host, "get boot flags", ctx, get_rs, timeout_ms);

	if (ipmi_cmd_set_system_boot_options_boot_flags(ctx,
		IPMI_SYSTEM_BOOT_OPTIONS_PARAMETER_VALID_UNLOCKED, boot_type,
		IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAG_VALID_FOR_NEXT_BOOT,
		IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAG_VALID,
		IPMI_SYSTEM_BOOT_OPTION_DISABLE, /* lock out reset button */
		IPMI_SYSTEM_BOOT_OPTION_DISABLE, /* screen blank */
		IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAG_BOOT_DEVICE_FORCE_PXE,
		IPMI_SYSTEM_BOOT_OPTION_DISABLE, /* lock keyboard */
		IPMI_SYSTEM_BOOT_OPTION_DISABLE, /* CMOS clear */
		IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAG_CONSOLE_REDIRECTION_DEFAULT,
		IPMI_SYSTEM_BOOT_OPTION_DISABLE, /* lock out sleep button */
		IPMI_SYSTEM_BOOT_OPTION_DISABLE, /* user password bypass */
		IPMI_SYSTEM_BOOT_OPTION_DISABLE, /* force progress event traps */
		IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAG_FIRMWARE_BIOS_VERBOSITY_DEFAULT,
		IPMI_SYSTEM_BOOT_OPTION_DISABLE, /* lock out via power button */
		IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAGS_SET_MUX_TO_RECOMENDED_AT_END_OF_POST,
		IPMI_SYSTEM_BOOT_OPTION_DISABLE, /* BIOS shared mode override */
		0,                               /* device instance: any */
		set_rs) < 0)
		return fail_step(reterr, host, "set boot device PXE", ctx, set_rs, timeout_ms);
	return 0;
}

static int
chassis_control(ipmi_ctx_t ctx, const char *host, unsigned timeout_ms, uint8_t control,
    const char *what, struct dl_err *reterr)
{
	_cleanup_(fiid_obj_freep) fiid_obj_t rs = NULL;

	rs = fiid_obj_create(tmpl_cmd_chassis_control_rs);
	if (!rs)
		return -ENOMEM;
	if (ipmi_cmd_chassis_control(ctx, control, rs) < 0)
		return fail_step(reterr, host, what, ctx, rs, timeout_ms);
	return 0;
}

/* Power down and poll the chassis status until it reads off: a BMC may answer the
 * command before the power has actually dropped, and powering up before then is a
 * no-op on many BMCs. Bounded by the session timeout. */
static int
chassis_power_off_confirmed(ipmi_ctx_t ctx, const char *host, unsigned timeout_ms,
    struct dl_err *reterr)
{
	struct timespec t0, now, pause = { .tv_nsec = 100 * 1000 * 1000 };
	bool on = true;
	int r;

	r = chassis_control(ctx, host, timeout_ms, IPMI_CHASSIS_CONTROL_POWER_DOWN,
	    "power cycle: power off", reterr);
	if (r < 0)
		return r;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		r = chassis_power_is_on(ctx, host, timeout_ms, &on, reterr);
		if (r < 0)
			return r;
		if (!on)
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 >=
		    (long)timeout_ms)
			return dl_err_set(reterr, -ETIMEDOUT,
			    "BMC '%s': power cycle: still on %u ms after power off", host,
			    timeout_ms);
		nanosleep(&pause, NULL);
	}
}

int
power_ipmi_run(const struct bmc_target *t, enum power_op op, bool *ret_on,
    struct dl_err *reterr)
{
	_cleanup_(ipmi_ctx_freep) ipmi_ctx_t ctx = NULL;
	char hostport[BMC_HOSTPORT_SIZE];
	unsigned session_ms = 0, retransmit_ms = 0, timeout_ms;
	uint8_t priv, control;
	const char *what;
	bool on;
	int r;

	assert(t);
	assert(ret_on);
	assert(op >= 0 && op < _POWER_OP_MAX); /* bmc_power_run() checks it */
	if (strnlen(t->host, sizeof(t->host)) == 0 ||
	    strnlen(t->host, sizeof(t->host)) == sizeof(t->host))
		return dl_err_set(reterr, -EINVAL, "power %s: BMC host is empty or too long",
		    power_op_to_string(op));
	r = bmc_target_hostport(t, hostport, reterr);
	if (r < 0)
		return r;

	/* 0 keeps libfreeipmi's defaults (20 s session, 1 s retransmission). */
	timeout_ms = t->timeout_ms ? t->timeout_ms : IPMI_SESSION_TIMEOUT_DEFAULT;
	if (t->timeout_ms) {
		if (t->timeout_ms < MIN_TIMEOUT_MS)
			return dl_err_set(reterr, -EINVAL,
			    "BMC '%s': timeout %u ms is below %d ms", t->host, t->timeout_ms,
			    MIN_TIMEOUT_MS);
		session_ms = t->timeout_ms;
		/* Three sends or more per timeout, and no wait of libfreeipmi's ending just
		 * at the timeout (bmc/ipmi_timing.h: a dead BMC took a wait longer). */
		retransmit_ms = ipmi_retransmit_ms(t->timeout_ms, MAX_RETRANSMIT_MS);
	}

	/* Status needs only User privilege (IPMI 2.0 Table G-1), so a read-only account
	 * works for polling; chassis control and boot options need Operator, and we ask
	 * for Administrator as the lab's and most sites' BMC accounts are. */
	priv = op == POWER_STATUS ? IPMI_PRIVILEGE_LEVEL_USER : IPMI_PRIVILEGE_LEVEL_ADMIN;

	ctx = ipmi_ctx_create();
	if (!ctx)
		return -ENOMEM;
	/* OPEN_SESSION_PRIVILEGE: request the real privilege in the RMCP+ Open Session
	 * Request instead of "highest"; ipmi_sim echoes "highest" (0) back and FreeIPMI then
	 * refuses the session (lab pitfall 1). Real BMCs accept either form. */
	if (ipmi_ctx_open_outofband_2_0(ctx, hostport, t->user, t->pass, NULL, 0, priv,
		t->cipher, session_ms, retransmit_ms,
		IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_OPEN_SESSION_PRIVILEGE,
		IPMI_FLAGS_DEFAULT) < 0) {
		char what_open[64];

		snprintf(what_open, sizeof(what_open), "power %s: open session",
		    power_op_to_string(op));
		/* While opening, a system error is a failed sendto()/recvfrom() on the
		 * session's UDP socket: no route to the BMC, which is "unreachable" too. */
		if (ipmi_ctx_errnum(ctx) == IPMI_ERR_SYSTEM_ERROR)
			return dl_err_set(reterr, -ETIMEDOUT, "BMC '%s': %s: unreachable (%s)",
			    t->host, what_open, ipmi_ctx_errormsg(ctx));
		return fail_step(reterr, t->host, what_open, ctx, NULL, timeout_ms);
	}

	switch (op) {
	case POWER_STATUS:
		r = chassis_power_is_on(ctx, t->host, timeout_ms, &on, reterr);
		if (r < 0)
			return r;
		*ret_on = on;
		return 0;
	case POWER_OFF:
		r = chassis_control(ctx, t->host, timeout_ms, IPMI_CHASSIS_CONTROL_POWER_DOWN,
		    "power off", reterr);
		if (r < 0)
			return r;
		*ret_on = false;
		return 0;
	case POWER_ON:
	case POWER_CYCLE:
	case POWER_RESET:
		break; /* the node is to boot: below */
	default:
		/* NOTREACHED: op was range-checked above */
		return -EINVAL;
	}

	if (t->pxe_first) {
		r = boot_flags_set_pxe(ctx, t->host, timeout_ms, reterr);
		if (r < 0)
			return r;
	}
	control = IPMI_CHASSIS_CONTROL_POWER_UP;
	what = "power on";
	if (op != POWER_ON) {
		r = chassis_power_is_on(ctx, t->host, timeout_ms, &on, reterr);
		if (r < 0)
			return r;
		if (!on) {
			/* IPMI 2.0 §28.3 leaves cycle and reset of a chassis that is off
			 * undefined (many BMCs do nothing and answer success). The caller asks
			 * for a node that boots, so it gets a plain power-up, like ipmipower's
			 * --on-if-off. */
			what = op == POWER_CYCLE ? "power cycle (off: power on)" :
						   "hard reset (off: power on)";
		} else if (op == POWER_CYCLE) {
			/* Not the chassis "power cycle" command: off, confirmed off, then on,
			 * as Ironic reboots. Each step is idempotent, so a request the BMC got
			 * twice (libfreeipmi retransmits when an answer is slow, and ipmi_sim,
			 * like many BMCs, executes the copy) cannot cycle the node twice; a
			 * bootsvc killed between the steps leaves a node that is off, which
			 * reconcile powers on. */
			r = chassis_power_off_confirmed(ctx, t->host, timeout_ms, reterr);
			if (r < 0)
				return r;
			what = "power cycle: power on";
		} else {
			control = IPMI_CHASSIS_CONTROL_HARD_RESET;
			what = "hard reset";
		}
	}
	r = chassis_control(ctx, t->host, timeout_ms, control, what, reterr);
	if (r < 0)
		return r;
	*ret_on = true;
	return 0;
}
