/* SPDX-License-Identifier: MIT */
/* Control verbs on nodes: node.add, node.remove, node.list, node.show, node.set,
 * node.arm. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control/control.h"
#include "dhcp/dnsmasq.h"
#include "hostlist.h"
#include "log.h"
#include "boot/nodes.h"
#include "iscsi/disks.h"
#include "proto.h"
#include "strbuf.h"

/* History entries returned by node.show. */
#define MAX_SHOW_HISTORY 50



static json_t *
verbs_node_json(struct bootsvc *bs, const struct node_rec *n)
{
	struct image_rec img;
	const char *image_id = "";

	if (nodes_boot_image(bs, n, &img) == 0)
		image_id = img.id;
	/* bmc_creds is a path, never the secret itself; still, only the path is shown. */
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:s}",
	    "name", n->name, "mac", n->mac, "ip", n->ip, "uuid", n->uuid, "serial", n->serial,
	    "bmc", n->bmc, "image", n->image, "image_pin", n->image_pin, "image_id",
	    image_id, "served_image", n->served_image, "phase", n->phase, "reason", n->reason,
	    "phase_at", (json_int_t)n->phase_at, "image_name", n->image);
	json_t *ctrl = json_pack("{s:s,s:b,s:s,s:s,s:s,s:s,s:i,s:s,s:s,s:s,s:s,s:s,s:s,s:b}",
	    "want_power", n->want_power, "hold", n->hold, "hold_reason", n->hold_reason,
	    "booted_image", n->booted_image, "power", n->power, "op", n->op, "attempts",
	    n->attempts, "bmc_state", n->bmc_state, "last_error", n->last_error, "job",
	    n->alloc_job, "class", n->alloc_class, "health", n->health[0] ? n->health : "ok",
	    "health_reasons", n->health_reasons, "drained", nodes_drained(bs, n));

	if (!o || !ctrl || json_object_update(o, ctrl) < 0 ||
	    /* issue #7: when the green policy's idle clock started (unix s, 0 = not idle) */
	    json_object_set_new(o, "idle_since", json_integer(n->idle_since_ms / 1000)) < 0 ||
	    /* issue #11: whether its credential may be handed out, and who armed it */
	    json_object_set_new(o, "armed", json_boolean(n->armed)) < 0 ||
	    json_object_set_new(o, "armed_by", json_string(n->armed_by)) < 0 ||
	    /* an admin's drain (drained above is it or a health drain) */
	    json_object_set_new(o, "drain", json_boolean(n->drain)) < 0 ||
	    json_object_set_new(o, "drain_reason", json_string(n->drain_reason)) < 0) {
		json_decref(o);
		o = NULL;
	}
	json_decref(ctrl);
	return o;
}

/* Expand an optional hostlist argument; its count must be want (or it is absent). */
static int
expand_arg(const json_t *args, const char *key, size_t want, struct hostlist *ret,
    struct dl_err *reterr)
{
	const char *s;
	int r;

	memset(ret, 0, sizeof(*ret));
	r = proto_arg_str(args, key, false, MAX_HOSTLIST_LEN, &s, reterr);
	if (r < 0 || !s)
		return r;
	r = hostlist_parse(s, ret, reterr);
	if (r < 0)
		return dl_err_prefix(reterr, "%s", key), r;
	if (ret->n != want) {
		size_t got = ret->n;
		hostlist_done(ret);
		return dl_err_set(reterr, -EINVAL, "%s: %zu values for %zu nodes", key, got, want);
	}
	return 0;
}

static int
node_add(struct bootsvc *bs, const json_t *args, json_t **ret, struct dl_err *reterr)
{
	static const char *const allowed[] = { "names", "macs", "ips", "uuids", "serials", "bmcs",
		"bmc_creds", "image", NULL };
	struct hostlist names = { 0 }, macs = { 0 }, ips = { 0 }, uuids = { 0 }, serials = { 0 },
			bmcs = { 0 };
	struct image_rec img;
	const char *s, *creds = NULL, *image = NULL;
	json_t *added = NULL;
	bool in_tx = false;
	uint32_t ip_hint;
	int r;

	if ((r = proto_args_check(args, allowed, reterr)) < 0)
		return r;
	if ((r = proto_arg_str(args, "names", true, MAX_HOSTLIST_LEN, &s, reterr)) < 0)
		return r;
	if ((r = hostlist_parse(s, &names, reterr)) < 0)
		return dl_err_prefix(reterr, "names"), r;
	if ((r = proto_arg_str(args, "macs", true, MAX_HOSTLIST_LEN, &s, reterr)) < 0)
		goto out;
	if ((r = expand_arg(args, "macs", names.n, &macs, reterr)) < 0 ||
	    (r = expand_arg(args, "ips", names.n, &ips, reterr)) < 0 ||
	    (r = expand_arg(args, "uuids", names.n, &uuids, reterr)) < 0 ||
	    (r = expand_arg(args, "serials", names.n, &serials, reterr)) < 0 ||
	    (r = expand_arg(args, "bmcs", names.n, &bmcs, reterr)) < 0)
		goto out;
	if ((r = proto_arg_str(args, "bmc_creds", false, MAX_STORE_PATH - 1, &creds, reterr)) < 0 ||
	    (r = proto_arg_str(args, "image", false, 200, &image, reterr)) < 0)
		goto out;
	if (creds && creds[0] != '/') {
		r = dl_err_set(reterr, -EINVAL, "bmc_creds '%s' is not an absolute path", creds);
		goto out;
	}
	if (image && (r = store_image_resolve(bs->store, image, &img, reterr)) < 0)
		goto out;

	ip_hint = bs->ip_hint;
	added = json_array();
	if (!added || (r = store_begin(bs->store)) < 0) {
		r = r < 0 ? r : -ENOMEM;
		goto out;
	}
	in_tx = true;
	for (size_t i = 0; i < names.n; i++) {
		struct node_rec n = { 0 };
		struct mac_addr mac;
		uint32_t ip;

		if (!hostname_is_valid(names.names[i])) {
			r = dl_err_set(reterr, -EINVAL,
			    "node name '%s' is not a hostname ([a-z0-9-], at most 63)",
			    names.names[i]);
			goto out;
		}
		strcpy(n.name, names.names[i]);
		if ((r = parse_mac(macs.names[i], &mac, reterr)) < 0) {
			dl_err_prefix(reterr, "node '%s'", n.name);
			goto out;
		}
		mac_to_string(&mac, n.mac);
		if (ips.n) {
			if ((r = parse_ipv4(ips.names[i], &ip, reterr)) < 0) {
				dl_err_prefix(reterr, "node '%s'", n.name);
				goto out;
			}
			strcpy(n.ip, ips.names[i]);
		} else if (bs->cfg.node_ip_start[0] && bs->cfg.dhcp_mode == DHCP_MODE_RANGE) {
			/* Only our own DHCP hands the address out. With another server's (proxy,
			 * off) an address we made up would not be the node's, and every per-node
			 * call is checked against it (docs/security.md "The boot network"). */
			if ((r = nodes_alloc_ip(bs, n.ip, reterr)) < 0)
				goto out;
		}
		if (uuids.n && (r = parse_uuid(uuids.names[i], n.uuid, reterr)) < 0) {
			dl_err_prefix(reterr, "node '%s'", n.name);
			goto out;
		}
		if (serials.n) {
			if (!serial_is_valid(serials.names[i]) ||
			    strlen(serials.names[i]) >= sizeof(n.serial)) {
				r = dl_err_set(reterr, -EINVAL, "node '%s': serial '%s' is not valid",
				    n.name, serials.names[i]);
				goto out;
			}
			strcpy(n.serial, serials.names[i]);
		}
		if (bmcs.n) {
			if (strlen(bmcs.names[i]) >= sizeof(n.bmc)) {
				r = dl_err_set(reterr, -EINVAL, "node '%s': bmc '%s' too long", n.name,
				    bmcs.names[i]);
				goto out;
			}
			strcpy(n.bmc, bmcs.names[i]);
		}
		if (creds)
			strcpy(n.bmc_creds, creds);
		if (image) {
			if ((r = disks_image_check(bs, &n, &img, reterr)) < 0)
				goto out;
			strcpy(n.image, img.name);
			if (strchr(image, '@') || strcmp(image, img.id) == 0)
				strcpy(n.image_pin, img.id);
		}
		if ((r = nodes_token_new(n.token)) < 0)
			goto out;
		strcpy(n.phase, "new");
		n.phase_at = n.created = (int64_t)time(NULL);
		if ((r = store_node_insert(bs->store, &n, reterr)) < 0)
			goto out;
		if ((r = dnsmasq_host_write(bs->dnsmasq, &n)) < 0) {
			dl_err_set(reterr, r, "writing the DHCP host entry of '%s'", n.name);
			goto out;
		}
		json_array_append_new(added, json_string(n.name));
	}
	if ((r = store_commit(bs->store)) < 0) {
		/* store_commit() rolled it back; out: undoes the rest */
		dl_err_set(reterr, r, "node.add: the store could not commit, no node was added");
		goto out;
	}
	in_tx = false;
	log_notice("event=node_add count=%zu first=%s", names.n, names.names[0]);
	*ret = json_pack("{s:O}", "added", added);
	r = *ret ? 0 : -ENOMEM;
out:
	if (in_tx) {
		store_rollback(bs->store);
		bs->ip_hint = ip_hint; /* the rolled-back nodes' addresses are free again */
		/* Host files written for rolled-back nodes must go too. */
		for (size_t i = 0; i < json_array_size(added); i++)
			(void)dnsmasq_host_remove(bs->dnsmasq,
			    json_string_value(json_array_get(added, i)));
	}
	json_decref(added);
	hostlist_done(&names);
	hostlist_done(&macs);
	hostlist_done(&ips);
	hostlist_done(&uuids);
	hostlist_done(&serials);
	hostlist_done(&bmcs);
	return r;
}

/* Every name of the hostlist must exist: an admin's typo must not half-apply. */
static int
names_existing(struct bootsvc *bs, const json_t *args, const char *key, struct hostlist *ret,
    struct dl_err *reterr)
{
	struct node_rec n;
	const char *s;
	int r;

	if ((r = proto_arg_str(args, key, true, MAX_HOSTLIST_LEN, &s, reterr)) < 0)
		return r;
	if ((r = hostlist_parse(s, ret, reterr)) < 0)
		return dl_err_prefix(reterr, "%s", key), r;
	for (size_t i = 0; i < ret->n; i++)
		if (store_node_get(bs->store, ret->names[i], &n) < 0) {
			r = dl_err_set(reterr, -ENOENT, "no node '%s'", ret->names[i]);
			hostlist_done(ret);
			return r;
		}
	return 0;
}

static int
node_remove(struct bootsvc *bs, const json_t *args, json_t **ret, struct dl_err *reterr)
{
	static const char *const allowed[] = { "names", NULL };
	struct hostlist names = { 0 };
	json_t *removed;
	int r;

	if ((r = proto_args_check(args, allowed, reterr)) < 0 ||
	    (r = names_existing(bs, args, "names", &names, reterr)) < 0)
		return r;
	removed = json_array();
	if (!removed || (r = store_begin(bs->store)) < 0) {
		hostlist_done(&names);
		json_decref(removed);
		return r < 0 ? r : -ENOMEM;
	}
	for (size_t i = 0; i < names.n; i++) {
		r = store_node_delete(bs->store, names.names[i]);
		if (r < 0) {
			store_rollback(bs->store);
			dl_err_set(reterr, r, "removing '%s' failed", names.names[i]);
			goto out;
		}
		json_array_append_new(removed, json_string(names.names[i]));
	}
	if ((r = store_commit(bs->store)) < 0) {
		dl_err_set(reterr, r, "node.remove: the store could not commit, no node was "
		    "removed");
		goto out;
	}
	for (size_t i = 0; i < names.n; i++)
		(void)dnsmasq_host_remove(bs->dnsmasq, names.names[i]);
	log_notice("event=node_remove count=%zu first=%s", names.n, names.names[0]);
	*ret = json_pack("{s:O}", "removed", removed);
	r = *ret ? 0 : -ENOMEM;
out:
	json_decref(removed);
	hostlist_done(&names);
	return r;
}

struct list_ctx {
	struct bootsvc *bs;
	struct strbuf out;
	size_t n;
	const char **filter; /* sorted names, or NULL for every node */
	size_t n_filter;
};

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* One node's JSON appended to the reply and freed: the reply is text, never a tree of
 * every node (10,000 nodes as json_t objects peaked at 57 MiB, docs/benchmarks.md). */
static int
list_one(const struct node_rec *n, void *userdata)
{
	struct list_ctx *c = userdata;
	const char *name = n->name;
	json_t *o;
	char *s;

	if (c->filter && !bsearch(&name, c->filter, c->n_filter, sizeof(*c->filter), cmp_name))
		return 0;
	o = verbs_node_json(c->bs, n);
	s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!s)
		return -ENOMEM;
	strbuf_printf(&c->out, "%s%s", c->n++ ? "," : "", s);
	free(s);
	return c->out.oom ? -ENOMEM : 0;
}

static int
node_list(struct bootsvc *bs, const json_t *args, char **ret, struct dl_err *reterr)
{
	static const char *const allowed[] = { "names", NULL };
	struct hostlist filter = { 0 };
	struct list_ctx c = { .bs = bs };
	const char *s;
	int r;

	if ((r = proto_args_check(args, allowed, reterr)) < 0 ||
	    (r = proto_arg_str(args, "names", false, MAX_HOSTLIST_LEN, &s, reterr)) < 0)
		return r;
	if (s) {
		if ((r = hostlist_parse(s, &filter, reterr)) < 0)
			return dl_err_prefix(reterr, "names"), r;
		c.filter = malloc(filter.n * sizeof(*c.filter));
		if (!c.filter) {
			hostlist_done(&filter);
			return -ENOMEM;
		}
		for (size_t i = 0; i < filter.n; i++)
			c.filter[i] = filter.names[i];
		qsort(c.filter, filter.n, sizeof(*c.filter), cmp_name);
		c.n_filter = filter.n;
	}
	strbuf_printf(&c.out, "{\"nodes\":[");
	r = store_node_foreach(bs->store, list_one, &c);
	strbuf_printf(&c.out, "]}");
	free(c.filter);
	hostlist_done(&filter);
	if (r == 0 && c.out.oom)
		r = -ENOMEM;
	if (r < 0) {
		strbuf_done(&c.out);
		return dl_err_set(reterr, r, "listing nodes failed");
	}
	*ret = c.out.s;
	return 0;
}

static int
node_show(struct bootsvc *bs, const json_t *args, json_t **ret, struct dl_err *reterr)
{
	static const char *const allowed[] = { "name", NULL };
	struct phase_event hist[MAX_SHOW_HISTORY];
	struct node_rec n;
	const char *name;
	json_t *o, *h;
	size_t nh = 0;
	int r;

	if ((r = proto_args_check(args, allowed, reterr)) < 0 ||
	    (r = proto_arg_str(args, "name", true, MAX_NODE_NAME, &name, reterr)) < 0)
		return r;
	if (store_node_get(bs->store, name, &n) < 0)
		return dl_err_set(reterr, -ENOENT, "no node '%s'", name);
	(void)store_node_history(bs->store, name, hist, ELEMENTSOF(hist), &nh);
	o = verbs_node_json(bs, &n);
	h = json_array();
	if (!o || !h) {
		json_decref(o);
		json_decref(h);
		return -ENOMEM;
	}
	for (size_t i = 0; i < nh; i++)
		json_array_append_new(h, json_pack("{s:s,s:s,s:I}", "phase", hist[i].phase,
		    "reason", hist[i].reason, "at", (json_int_t)hist[i].at));
	json_object_set_new(o, "bmc_creds", json_string(n.bmc_creds));
	json_object_set_new(o, "history", h);
	/* issue 14: its iSCSI disk, if it has one (never a secret), and whether it is kept
	 * across boots */
	json_object_set_new(o, "persistent_disk",
	    json_boolean(store_disk_persistent_get(bs->store, n.name)));
	json_object_set_new(o, "disk", disks_show_json(bs, &n) ?: json_null());
	*ret = json_pack("{s:o}", "node", o);
	return *ret ? 0 : -ENOMEM;
}

/* A node without a fixed address given an image (a discovered one, d-<mac>, being
 * assigned): with our own DHCP it keeps the address dnsmasq leased it as its fixed one,
 * so it is then what a registered node is: its host entry reserves the address, its
 * script and phase calls are taken from it, `node list` shows it, and its boot gets its
 * credential and reports `loading` (docs/security.md "The boot network"; issue 16). A
 * made-up address instead would refuse the requests the node makes from its lease until
 * it next asks DHCP. No lease, or the address another node's: it stays without one.
 * 1 when n->ip was set, else 0. */
static int
assign_lease_ip(struct bootsvc *bs, struct node_rec *n)
{
	char ip[16];
	struct node_rec other;

	if (n->ip[0] || bs->cfg.dhcp_mode != DHCP_MODE_RANGE ||
	    dnsmasq_lease_ip(bs->cfg.state_dir, n->mac, ip) < 0)
		return 0;
	if (store_node_get_by_ip(bs->store, ip, &other) == 0) {
		log_warning("event=node_set node=%s ip=%s msg=\"its leased address is node %s's, "
		    "left without a fixed address\"", n->name, ip, other.name);
		return 0;
	}
	strcpy(n->ip, ip);
	log_notice("event=node_set node=%s ip=%s msg=\"keeps its leased address as its fixed "
	    "one\"", n->name, ip);
	return 1;
}

/* After the commit: the host entries of nodes that now have a fixed address, "mac,ip,name"
 * in place of "mac,name". dnsmasq only adds what its hostsdir's inotify shows it, so the
 * old entry goes with a SIGHUP (dnsmasq_host_remove's way). */
static void
sync_addressed(struct bootsvc *bs, const struct hostlist *names)
{
	for (size_t i = 0; i < names->n; i++) {
		struct node_rec n;

		if (store_node_get(bs->store, names->names[i], &n) == 0 && n.ip[0] &&
		    dnsmasq_host_write(bs->dnsmasq, &n) < 0)
			log_warning("event=node_set node=%s msg=\"cannot write its DHCP host entry, "
			    "the next start writes it\"", n.name);
	}
	dnsmasq_reload_hosts(bs->dnsmasq);
}

/* node.set {names, image?, persistent_disk?}: the image the nodes boot, and whether an
 * iscsi node's disk is kept across boots (issue 14); at least one of them. */
static int
node_set(struct bootsvc *bs, const json_t *args, json_t **ret, struct dl_err *reterr)
{
	static const char *const allowed[] = { "names", "image", "persistent_disk", NULL };
	struct hostlist names = { 0 };
	struct image_rec img;
	const char *image;
	json_t *updated;
	bool persistent = false, set_persistent = json_object_get(args, "persistent_disk") != NULL;
	unsigned addressed = 0; /* nodes given their leased address (assign_lease_ip) */
	int r;

	if ((r = proto_args_check(args, allowed, reterr)) < 0 ||
	    (r = proto_arg_str(args, "image", false, 200, &image, reterr)) < 0 ||
	    (r = proto_arg_bool(args, "persistent_disk", false, &persistent, reterr)) < 0)
		return r;
	if (!image && !set_persistent)
		return dl_err_set(reterr, -EINVAL, "node.set: nothing to change: give image or "
		    "persistent_disk");
	if (image && (r = store_image_resolve(bs->store, image, &img, reterr)) < 0)
		return r;
	if ((r = names_existing(bs, args, "names", &names, reterr)) < 0)
		return r;
	if (image)
		for (size_t i = 0; i < names.n; i++) {
			struct node_rec n;

			if ((r = store_node_get(bs->store, names.names[i], &n)) < 0 ||
			    (r = disks_image_check(bs, &n, &img, reterr)) < 0) {
				hostlist_done(&names);
				return r;
			}
		}
	updated = json_array();
	if (!updated || (r = store_begin(bs->store)) < 0) {
		hostlist_done(&names);
		json_decref(updated);
		return r < 0 ? r : -ENOMEM;
	}
	for (size_t i = 0; i < names.n; i++) {
		struct node_rec n;
		if ((r = store_node_get(bs->store, names.names[i], &n)) < 0)
			break;
		if (set_persistent &&
		    (r = store_disk_persistent_set(bs->store, n.name, persistent)) < 0)
			break;
		if (image) {
			strcpy(n.image, img.name);
			/* name@prefix or a full id pins the version; a bare name follows the
			 * newest. */
			if (strchr(image, '@') || strcmp(image, img.id) == 0)
				strcpy(n.image_pin, img.id);
			else
				n.image_pin[0] = '\0';
			addressed += assign_lease_ip(bs, &n);
			if ((r = store_node_update(bs->store, &n)) < 0)
				break;
		}
		json_array_append_new(updated, json_string(n.name));
	}
	if (r < 0) {
		store_rollback(bs->store);
		dl_err_set(reterr, r, "updating nodes failed");
	} else if ((r = store_commit(bs->store)) < 0) {
		dl_err_set(reterr, r, "node.set: the store could not commit, no node was changed");
	} else {
		if (addressed)
			sync_addressed(bs, &names);
		log_notice("event=node_set count=%zu first=%s image=%s image_id=%.12s "
		    "persistent_disk=%s", names.n, names.names[0], image ? img.name : "-",
		    image ? img.id : "-", set_persistent ? (persistent ? "on" : "off") : "-");
		*ret = image ? json_pack("{s:O,s:s}", "updated", updated, "image_id", img.id) :
		    json_pack("{s:O}", "updated", updated);
		r = *ret ? 0 : -ENOMEM;
	}
	json_decref(updated);
	hostlist_done(&names);
	return r;
}

/* An admin arms nodes (boot/trust.h): each gets a fresh token that its next boot's
 * credential fetch may take once. For a node without a fixed address this is the only way
 * a boot it starts by itself gets a credential; for any node, a way to let a boot
 * through that neither the controller nor the node's own script request armed. All or
 * none: the names are checked first, the writes are one transaction. */
static int
node_arm(struct bootsvc *bs, const json_t *args, json_t **ret, struct dl_err *reterr)
{
	static const char *const allowed[] = { "names", NULL };
	struct hostlist names = { 0 };
	json_t *armed;
	int r;

	if ((r = proto_args_check(args, allowed, reterr)) < 0 ||
	    (r = names_existing(bs, args, "names", &names, reterr)) < 0)
		return r;
	armed = json_array();
	if (!armed || (r = store_begin(bs->store)) < 0) {
		hostlist_done(&names);
		json_decref(armed);
		return r < 0 ? r : -ENOMEM;
	}
	for (size_t i = 0; i < names.n; i++) {
		struct node_rec n;

		if ((r = store_node_get(bs->store, names.names[i], &n)) < 0 ||
		    (r = nodes_arm(bs, &n, "admin", "armed by an admin (node.arm)")) < 0)
			break;
		json_array_append_new(armed, json_string(n.name));
	}
	if (r < 0) {
		store_rollback(bs->store);
		dl_err_set(reterr, r, "arming '%s' failed", names.names[json_array_size(armed)]);
	} else if ((r = store_commit(bs->store)) == 0) {
		*ret = json_pack("{s:O}", "armed", armed);
		r = *ret ? 0 : -ENOMEM;
	} else
		dl_err_set(reterr, r, "arming nodes failed: the store could not commit");
	json_decref(armed);
	hostlist_done(&names);
	return r;
}

const struct control_verb verbs_node[] = {
	{ .name = "node.add", .fn = node_add },
	{ .name = "node.remove", .fn = node_remove },
	{ .name = "node.list", .text_fn = node_list },
	{ .name = "node.show", .fn = node_show },
	{ .name = "node.set", .fn = node_set },
	{ .name = "node.arm", .fn = node_arm },
	{ .name = NULL },
};
