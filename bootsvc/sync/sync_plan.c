/* SPDX-License-Identifier: MIT */
/* The sync room's pure decisions (sync_plan.h). */
#include <string.h>

#include "name_table.h"
#include "sync/sync_plan.h"
#include "sync/sync_limits.h"

enum sync_step
sync_plan_file(uint64_t have, uint64_t size, bool verified, uint64_t *ret_from)
{
	if (verified && have == size)
		return SYNC_STEP_DONE;
	if (have > size)
		return SYNC_STEP_DISCARD;
	if (have == size)
		return SYNC_STEP_VERIFY;
	*ret_from = have;
	return SYNC_STEP_FETCH;
}

enum sync_verdict
sync_plan_verdict(const char *want_sha256, const char *got_sha256, uint64_t want_size,
    uint64_t got_size)
{
	if (want_size != got_size || strlen(want_sha256) != 64 ||
	    strcmp(want_sha256, got_sha256) != 0)
		return SYNC_VERDICT_REFUSE;
	return SYNC_VERDICT_KEEP;
}

int
sync_plan_next_peer(int last, unsigned n_peers, uint32_t failed)
{
	for (int i = last < 0 ? 0 : last + 1; i < (int)n_peers && i < 32; i++)
		if (!(failed & (UINT32_C(1) << i)))
			return i;
	return -1;
}

enum sync_state
sync_plan_state(bool files_present, bool sync_active)
{
	if (files_present)
		return SYNC_STATE_PRESENT;
	return sync_active ? SYNC_STATE_SYNCING : SYNC_STATE_MISSING;
}

const char *
sync_state_to_string(enum sync_state s)
{
	static const char *const names[_SYNC_STATE_MAX] = {
		[SYNC_STATE_PRESENT] = "present", [SYNC_STATE_SYNCING] = "syncing",
		[SYNC_STATE_MISSING] = "missing",
	};
	return NAME_OF(names, s, "missing");
}

uint64_t
sync_plan_file_deadline_ms(uint64_t size)
{
	uint64_t rate_ms = size / SYNC_MIN_RATE_BPS * 1000;

	if (rate_ms > SYNC_MAX_FILE_MS - SYNC_FILE_FLOOR_MS)
		return SYNC_MAX_FILE_MS;
	return SYNC_FILE_FLOOR_MS + rate_ms;
}
