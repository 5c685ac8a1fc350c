/* SPDX-License-Identifier: MIT */
/* A known node's script request, decided (boot_decide.h). */
#include <string.h>

#include "boot/boot_decide.h"

enum boot_gate
boot_gate_decide(const struct boot_gate_in *in)
{
	if (!in->source_ok)
		return BG_REFUSE;
	if (in->discovered_unassigned)
		return BG_DISCOVER;
	if (in->hold)
		return BG_HOLD_ADMIN;
	if (!in->have_version)
		return BG_HOLD_NO_VERSION;
	if (!in->kind_known)
		return BG_HOLD_UNKNOWN_KIND;
	if (!in->files_here)
		return BG_HOLD_NOT_HERE;
	return BG_TRUST;
}

bool
boot_moves_phase(const struct trust_script_verdict *v, const char *script_phase,
    const char *phase_now)
{
	return v->serve == TS_BOOT && v->set_pxe && script_phase &&
	    strcmp(phase_now, script_phase) != 0;
}

bool
boot_record_only(const struct trust_script_verdict *v, bool sanboot)
{
	return v->serve == TS_BOOT && !v->arm && !v->event && !v->self_op && !sanboot;
}

bool
boot_read_only(const struct trust_script_verdict *v, bool sanboot, bool served_same,
    bool moves_phase)
{
	return boot_record_only(v, sanboot) && served_same && !moves_phase;
}
