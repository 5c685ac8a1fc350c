/* SPDX-License-Identifier: MIT */
/* Inventory verbs of VM hosts and their domains (issue 12, docs/vm.md): host.list and
 * vm.list, read-only, from the store (which the vm room keeps reconciled with libvirt).
 * What the scheduler and nodectl's host and vm nouns read. */
#include <string.h>
#include <time.h>

#include "control/control.h"
#include "proto.h"
#include "vm/vm.h"
#include "vm/vm_reimage.h"

/* What a host's domains use of it: the active ones' vCPUs and memory, and counts. */
struct usage {
	const char *host;
	unsigned vcpus;
	int64_t memory_kib;
	unsigned vms, active;
};

static int
add_usage(const struct vm_domain_rec *d, void *userdata)
{
	struct usage *u = userdata;

	u->vms++;
	if (vm_domain_state_active(d->state)) {
		u->active++;
		u->vcpus += d->vcpus;
		u->memory_kib += d->memory_kib;
	}
	return 0;
}

struct list_ctx {
	struct bootsvc *bs;
	json_t *arr;
};

static int
host_one(const struct vm_host_rec *h, void *userdata)
{
	struct list_ctx *lc = userdata;
	struct usage u = { .host = h->node };
	struct node_rec n;
	json_t *o;

	if (store_vm_domain_foreach(lc->bs->store, h->node, add_usage, &u) < 0)
		return -EIO;
	if (store_node_get(lc->bs->store, h->node, &n) < 0)
		memset(&n, 0, sizeof(n));
	o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:i,s:i,s:I,s:I,s:i,s:i,s:I,s:i,s:i,s:s,s:I,s:s,"
	    "s:I,s:s,s:s}",
	    "node", h->node, "hypervisor", h->hypervisor,
	    "hypervisor_version", h->hypervisor_version, "libvirt_version", h->libvirt_version,
	    "uri", h->uri, "cpus", (int)h->cpus, "cpus_used", (int)u.vcpus,
	    "memory_mib", (json_int_t)h->memory_mib,
	    "memory_used_mib", (json_int_t)(u.memory_kib / 1024),
	    "numa_nodes", (int)h->numa_nodes, "guest_cpus", (int)h->guest_cpus,
	    "guest_memory_mib", (json_int_t)h->guest_memory_mib,
	    "vms", (int)u.vms, "vms_active", (int)u.active,
	    "state", h->state, "state_since", (json_int_t)h->state_since,
	    "state_reason", h->state_reason, "last_seen", (json_int_t)h->last_seen,
	    "health", n.health[0] ? n.health : "ok", "health_reasons", n.health_reasons);
	if (o) {
		char drain_reason[MAX_REASON] = "";
		bool drain = store_vm_drain_get(lc->bs->store, h->node, drain_reason,
		    sizeof(drain_reason));
		double temp;

		(void)json_object_set_new(o, "drain", json_boolean(drain));
		(void)json_object_set_new(o, "drain_reason", json_string(drain_reason));

		/* null: no BMC temperature known (none read since bootsvc started, or none) */
		(void)json_object_set_new(o, "temp_c", vm_host_temp(lc->bs->vm, h->node, &temp) ?
		    json_real(temp) : json_null());
	}
	if (!o || json_array_append_new(lc->arr, o) < 0)
		return -ENOMEM;
	return 0;
}

static int
host_list(struct bootsvc *bs, const json_t *args, json_t **ret, struct dl_err *reterr)
{
	static const char *const allowed[] = { NULL };
	struct list_ctx lc = { .bs = bs };
	int r;

	if ((r = proto_args_check(args, allowed, reterr)) < 0)
		return r;
	if (!(lc.arr = json_array()))
		return -ENOMEM;
	if ((r = store_vm_host_foreach(bs->store, host_one, &lc)) < 0) {
		json_decref(lc.arr);
		return dl_err_set(reterr, r, "reading the VM hosts failed");
	}
	*ret = json_pack("{s:o}", "hosts", lc.arr);
	return *ret ? 0 : -ENOMEM;
}

static int
vm_one(const struct vm_domain_rec *d, void *userdata)
{
	struct list_ctx *lc = userdata;
	int64_t now = (int64_t)time(NULL);
	json_t *o;

	o = json_pack("{s:s,s:s,s:s,s:s,s:i,s:I,s:I,s:I}", "name", d->name, "uuid", d->uuid,
	    "host", d->host, "state", d->state, "vcpus", (int)d->vcpus,
	    "memory_mib", (json_int_t)(d->memory_kib / 1024),
	    "running_since", (json_int_t)d->running_since,
	    "uptime_s", (json_int_t)(d->running_since > 0 && now > d->running_since ?
		now - d->running_since : 0));
	if (!o || json_array_append_new(lc->arr, o) < 0)
		return -ENOMEM;
	return 0;
}

static int
vm_list(struct bootsvc *bs, const json_t *args, json_t **ret, struct dl_err *reterr)
{
	static const char *const allowed[] = { "host", NULL };
	struct list_ctx lc = { .bs = bs };
	struct vm_host_rec h;
	const char *host = NULL;
	int r;

	if ((r = proto_args_check(args, allowed, reterr)) < 0 ||
	    (r = proto_arg_str(args, "host", false, MAX_NODE_NAME - 1, &host, reterr)) < 0)
		return r;
	if (host && store_vm_host_get(bs->store, host, &h) < 0)
		return dl_err_set(reterr, -ENOENT, "no VM host '%s'", host);
	if (!(lc.arr = json_array()))
		return -ENOMEM;
	if ((r = store_vm_domain_foreach(bs->store, host, vm_one, &lc)) < 0) {
		json_decref(lc.arr);
		return dl_err_set(reterr, r, "reading the VMs failed");
	}
	*ret = json_pack("{s:o}", "vms", lc.arr);
	return *ret ? 0 : -ENOMEM;
}

const struct control_verb verbs_vm[] = {
	{ .name = "host.list", .fn = host_list },
	{ .name = "vm.list", .fn = vm_list },
	{ .name = NULL },
};
