/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "vm/vm_reimage.h"

bool
vm_domain_state_active(const char *s)
{
	static const char *const active[] = { "running", "blocked", "paused", "shutdown",
		"pmsuspended" };

	for (size_t i = 0; i < ELEMENTSOF(active); i++)
		if (strcmp(s, active[i]) == 0)
			return true;
	return false;
}

struct running {
	unsigned n;
	char names[MAX_VM_REIMAGE_NAMES * (MAX_VM_NAME + 2) + 8];
};

static int
count_running(const struct vm_domain_rec *d, void *userdata)
{
	struct running *r = userdata;
	size_t len = strlen(r->names);

	if (!vm_domain_state_active(d->state))
		return 0;
	if (r->n < MAX_VM_REIMAGE_NAMES)
		(void)snprintf(r->names + len, sizeof(r->names) - len, "%s%s", r->n ? ", " : "",
		    d->name);
	else if (r->n == MAX_VM_REIMAGE_NAMES)
		(void)snprintf(r->names + len, sizeof(r->names) - len, ", ...");
	r->n++;
	return 0;
}

int
vm_reimage_check(struct store *s, const char *node, bool force, bool evacuate,
    struct dl_err *reterr)
{
	struct running r = { 0 };

	if (store_vm_domain_foreach(s, node, count_running, &r) < 0)
		return dl_err_set(reterr, -EIO, "node '%s': cannot read its VMs", node);
	if (r.n == 0 || force)
		return 0;
	if (evacuate)
		return 1;
	return dl_err_set(reterr, -EBUSY, "%s runs %u VM%s (%s): add --evacuate (they "
	    "move first) or --force (they die)", node, r.n, r.n == 1 ? "" : "s", r.names);
}
