/* SPDX-License-Identifier: MIT */
/* Control verbs on iscsi nodes' disks (issue 14, docs/iscsi.md "Disks"): node.reset-disk.
 * (A node's persistent-disk property is node.set's persistent_disk; its disk is in
 * node.show's reply.) */
#include <string.h>
#include <time.h>

#include "control/control.h"
#include "hostlist.h"
#include "log.h"
#include "proto.h"
#include "iscsi/disk_fsm.h"
#include "iscsi/disks.h"

/* node.reset-disk {names, force}: the next boot of each node gets a fresh clone of its
 * image (a persistent node's disk is otherwise kept). Refused for a node that is up (its
 * OS has the disk mounted; dropping it under it loses what it has not written) unless
 * force. All or none: every name is checked before any row is marked. */
static int
node_reset_disk(struct bootsvc *bs, const json_t *args, json_t **ret, struct dl_err *reterr)
{
	static const char *const allowed[] = { "names", "force", NULL };
	struct hostlist names = { 0 };
	json_t *reset = NULL, *none = NULL;
	const char *s;
	bool force;
	int r;

	if ((r = proto_args_check(args, allowed, reterr)) < 0 ||
	    (r = proto_arg_str(args, "names", true, MAX_HOSTLIST_LEN, &s, reterr)) < 0 ||
	    (r = proto_arg_bool(args, "force", false, &force, reterr)) < 0)
		return r;
	if (!bs->cfg.iscsi)
		return dl_err_set(reterr, -EOPNOTSUPP, "bootsvc.conf has iscsi = off: no node "
		    "has a disk to reset");
	if ((r = hostlist_parse(s, &names, reterr)) < 0)
		return dl_err_prefix(reterr, "names"), r;
	for (size_t i = 0; i < names.n; i++) {
		struct node_rec n;
		struct disk_rec d;

		if (store_node_get(bs->store, names.names[i], &n) < 0) {
			r = dl_err_set(reterr, -ENOENT, "no node '%s'", names.names[i]);
			goto out;
		}
		if (disk_reset_decide(store_disk_get(bs->store, n.name, &d) == 0,
		    strcmp(n.phase, "up") == 0, force) == DR_REFUSE) {
			r = dl_err_set(reterr, -EBUSY, "node '%s' is up, its disk in use: power it "
			    "off first, or give --force to drop what it has not written at its "
			    "next boot", n.name);
			log_notice("event=node_reset_disk node=%s msg=\"refused: node is up\"",
			    n.name);
			goto out;
		}
	}
	reset = json_array();
	none = json_array();
	if (!reset || !none || (r = store_begin(bs->store)) < 0) {
		r = r < 0 ? r : -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < names.n; i++) {
		struct disk_rec d;

		if (store_disk_get(bs->store, names.names[i], &d) < 0) {
			json_array_append_new(none, json_string(names.names[i]));
			continue;
		}
		d.reset = true;
		r = store_disk_put(bs->store, &d);
		explicit_bzero(&d, sizeof(d));
		if (r < 0)
			break;
		(void)store_event_add(bs->store, names.names[i], "disk",
		    force ? "reset by an admin (forced)" : "reset by an admin",
		    (int64_t)time(NULL));
		json_array_append_new(reset, json_string(names.names[i]));
	}
	if (r < 0) {
		store_rollback(bs->store);
		dl_err_set(reterr, r, "node.reset-disk: marking the disks failed");
		goto out;
	}
	if ((r = store_commit(bs->store)) < 0) {
		dl_err_set(reterr, r, "node.reset-disk: the store could not commit");
		goto out;
	}
	log_notice("event=node_reset_disk count=%zu first=%s force=%d", json_array_size(reset),
	    names.names[0], force);
	*ret = json_pack("{s:O,s:O}", "reset", reset, "no_disk", none);
	r = *ret ? 0 : -ENOMEM;
out:
	json_decref(reset);
	json_decref(none);
	hostlist_done(&names);
	return r;
}

const struct control_verb verbs_disk[] = {
	{ .name = "node.reset-disk", .fn = node_reset_disk },
	{ .name = NULL },
};
