/* SPDX-License-Identifier: MIT */
/* A node disk's lifecycle decisions (disk_fsm.h). */
#include <errno.h>
#include <string.h>

#include "iscsi/disk_fsm.h"
#include "macro.h"
#include "name_table.h"

static const char *const state_names[_DS_MAX] = {
	[DS_NONE] = "",
	[DS_MAKING] = "making",
	[DS_READY] = "ready",
	[DS_FAILED] = "failed",
};

enum disk_state
disk_state_from_string(const char *s)
{
	long i = name_table_index(state_names, ELEMENTSOF(state_names), s);

	return i < 0 ? _DS_INVALID : (enum disk_state)i;
}

const char *
disk_state_to_string(enum disk_state s)
{
	return NAME_OF(state_names, s, "invalid");
}

static struct disk_verdict
verdict(enum disk_do act, const char *why)
{
	return (struct disk_verdict){ .act = act, .why = why };
}

struct disk_verdict
disk_decide(const struct disk_in *in)
{
	if (!in->iscsi_on)
		return verdict(DD_REFUSE, "iscsi is off in bootsvc.conf (iscsi = on serves "
		    "iscsi images)");
	if (!in->fixed_ip)
		return verdict(DD_REFUSE, "an iscsi node needs a fixed address, its target is "
		    "bound to it: nodectl node set NODE --ip ADDR");
	switch (in->state) {
	case DS_MAKING:
		/* A row left making by a bootsvc that died mid-clone is redone: its temp
		 * file was swept at start, nothing was exported. */
		return in->in_flight ? verdict(DD_WAIT, "disk being made") :
		    verdict(DD_MAKE, "a clone left unfinished is made again");
	case DS_NONE:
		return verdict(DD_MAKE, "the node has no disk yet");
	case DS_READY:
	case DS_FAILED:
		break;
	default:
		return verdict(DD_MAKE, "the disk's state is unknown");
	}
	/* Once a clone is in the making nothing else is asked: these only start one. */
	if (in->golden_changed)
		return verdict(DD_MAKE, "reimaged to another image version");
	if (in->reset)
		return verdict(DD_MAKE, "an admin reset the disk");
	if (in->state == DS_FAILED)
		return in->armed && !in->fresh ?
		    verdict(DD_MAKE, "a new boot, the last clone failed") :
		    verdict(DD_FAILED, "making the disk failed");
	if (in->persistent || in->fresh || !in->armed)
		return verdict(DD_KEEP, in->persistent ? "persistent disk" :
		    in->fresh ? "the disk of this boot" : "not an armed boot");
	return verdict(DD_MAKE, "a new boot gets a fresh disk");
}

enum disk_reset
disk_reset_decide(bool has_disk, bool node_up, bool force)
{
	if (!has_disk)
		return DR_NOTHING;
	if (node_up && !force)
		return DR_REFUSE;
	return DR_RESET;
}
