/* SPDX-License-Identifier: MIT */
/* server.list (issue 15, docs/scale-out.md "The registry"): the bootsvc instances sharing
 * this one's PostgreSQL, their roles and segments, from the cluster room's last read of
 * the `servers` table (never a query on the loop); alone, this instance as the leader. */
#include <string.h>

#include "cluster/cluster.h"
#include "control/control.h"
#include "proto.h"

static int
server_list(struct bootsvc *bs, const json_t *args, json_t **ret, struct dl_err *reterr)
{
	static const char *const allowed[] = { NULL };
	struct cluster_server *v = NULL;
	size_t n = 0;
	json_t *arr;
	int r;

	if ((r = proto_args_check(args, allowed, reterr)) < 0)
		return r;
	if ((r = cluster_servers(bs->cluster, bs, &v, &n)) < 0)
		return dl_err_set(reterr, r, "listing the servers: out of memory");
	if (!(arr = json_array())) {
		free(v);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:b,s:b}", "name", v[i].name,
		    "url", v[i].url, "segments", v[i].segments, "role", v[i].role,
		    "pid", (json_int_t)v[i].pid, "seen_ms_ago", (json_int_t)v[i].age_ms,
		    "gone", v[i].gone, "self", v[i].self);
		if (!o || json_array_append_new(arr, o) < 0) {
			json_decref(arr);
			free(v);
			return -ENOMEM;
		}
	}
	free(v);
	*ret = json_pack("{s:o,s:b,s:I,s:I}", "servers", arr, "clustered", bs->cluster != NULL,
	    "generation", (json_int_t)cluster_generation(bs->cluster),
	    "notifications", (json_int_t)cluster_notifications(bs->cluster));
	return *ret ? 0 : -ENOMEM;
}

const struct control_verb verbs_server[] = {
	{ .name = "server.list", .fn = server_list },
	{ .name = NULL },
};
