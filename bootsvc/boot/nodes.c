/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <string.h>
#include <time.h>

#include "dhcp/dnsmasq.h"
#include "log.h"
#include "random.h"
#include "loop.h"
#include "boot/nodes.h"
#include "store/store_rows.h"

static const char *const phases[] = {
	"discovered", "off", "powering-on", "pxe", "loading", "imaging", "up", "failed", "hold",
	"new", NULL,
};
static const char *const reportable[] = { "pxe", "loading", "imaging", "up", "failed", NULL };

static bool
in_list(const char *const *l, const char *s)
{
	for (; *l; l++)
		if (strcmp(*l, s) == 0)
			return true;
	return false;
}

bool
phase_is_valid(const char *phase)
{
	return in_list(phases, phase);
}

bool
phase_is_reportable(const char *phase)
{
	return in_list(reportable, phase);
}

int
nodes_token_new(char ret[static SHA256_HEX_SIZE])
{
	uint8_t b[32];
	int r = dl_random(b, sizeof(b));

	if (r < 0)
		return r;
	sha256_to_hex(b, ret);
	return 0;
}

int
nodes_arm(struct bootsvc *bs, struct node_rec *n, const char *by, const char *why)
{
	char token[SHA256_HEX_SIZE], safe[MAX_LOG_VALUE + 1];
	int r;

	if ((r = nodes_token_new(token)) < 0 ||
	    (r = store_node_arm(bs->store, n->name, token, true, by)) < 0) {
		log_err("event=node_arm node=%s by=%s msg=\"cannot arm\" err=%s", n->name, by,
		    dl_errno_name(r));
		return r;
	}
	memcpy(n->token, token, sizeof(token));
	n->armed = true;
	(void)snprintf(n->armed_by, sizeof(n->armed_by), "%s", by);
	(void)store_event_add(bs->store, n->name, "arm", why, (int64_t)time(NULL));
	log_notice("event=node_arm node=%s by=%s msg=\"%s\"", n->name, by,
	    log_safe(safe, sizeof(safe), why));
	notify(&bs->notify, NOTIFY_HISTORY);
	return 0;
}

int
nodes_disarm(struct bootsvc *bs, struct node_rec *n)
{
	int r = store_node_arm(bs->store, n->name, n->token, false, n->armed_by);

	if (r < 0) {
		log_err("event=node_disarm node=%s msg=\"store update failed\" err=%s", n->name,
		    dl_errno_name(r));
		return r;
	}
	n->armed = false;
	return 0;
}

int
nodes_set_phase(struct bootsvc *bs, const char *name, const char *phase, const char *reason)
{
	return nodes_set_phase_at(bs, name, phase, reason, (int64_t)time(NULL));
}

int
nodes_set_phase_at(struct bootsvc *bs, const char *name, const char *phase,
    const char *reason, int64_t at)
{
	char safe[MAX_LOG_VALUE + 1];
	int r = store_node_set_phase(bs->store, name, phase, reason ? reason : "", at);

	if (r < 0) {
		log_err("event=node_phase node=%s phase=%s msg=\"store update failed\" err=%s", name,
		    phase, dl_errno_name(r));
		return r;
	}
	if (reason && *reason)
		log_notice("event=node_phase node=%s phase=%s reason=\"%s\"", name, phase,
		    log_safe(safe, sizeof(safe), reason));
	else
		log_notice("event=node_phase node=%s phase=%s", name, phase);
	notify(&bs->notify, NOTIFY_HISTORY);
	notify(&bs->notify, NOTIFY_NODE);
	return 0;
}

int
nodes_boot_image(struct bootsvc *bs, const struct node_rec *n, struct image_rec *ret)
{
	const struct rows w = { .s = bs->store };

	return rows_boot_image(&w, n, ret);
}

int
nodes_alloc_ip(struct bootsvc *bs, char ret[static 16], struct dl_err *reterr)
{
	struct in_addr a, b;
	uint32_t lo, hi, start;

	if (!bs->cfg.node_ip_start[0])
		return dl_err_set(reterr, -EINVAL,
		    "no --ip given and node_ip_range is not configured");
	(void)inet_pton(AF_INET, bs->cfg.node_ip_start, &a); /* validated by config */
	(void)inet_pton(AF_INET, bs->cfg.node_ip_end, &b);
	lo = ntohl(a.s_addr);
	hi = ntohl(b.s_addr);
	/* Start after the address given last, wrapping once: adding n[0001-10000] then
	 * looks at one address per node instead of all the used ones before it. */
	start = bs->ip_hint >= lo && bs->ip_hint <= hi ? bs->ip_hint : lo;
	for (uint64_t i = 0; i <= (uint64_t)hi - lo; i++) {
		uint32_t x = (uint32_t)(lo + ((uint64_t)start - lo + i) % ((uint64_t)hi - lo + 1));
		struct in_addr c = { .s_addr = htonl(x) };
		char buf[16];

		inet_ntop(AF_INET, &c, buf, sizeof(buf));
		if (!store_ip_used(bs->store, buf)) {
			strcpy(ret, buf);
			bs->ip_hint = x == hi ? lo : x + 1;
			return 0;
		}
	}
	return dl_err_set(reterr, -ENOSPC, "node_ip_range %s-%s has no free address",
	    bs->cfg.node_ip_start, bs->cfg.node_ip_end);
}

static void
count_discovered(const char *phase, int64_t count, void *userdata)
{
	if (strcmp(phase, "discovered") == 0)
		*(int64_t *)userdata = count;
}

/* The bounds of boot/discover.h: 0, -EAGAIN or -ENOSPC. */
static int
discover_allowed(struct bootsvc *bs, const struct boot_query *q, const char *src)
{
	char reason[MAX_REASON];
	int64_t discovered = 0, now = (int64_t)loop_now_ms();

	switch (discover_rate_take(&bs->discover, src, bs->cfg.discover_rate, now)) {
	case DISCOVER_OK:
		break;
	case DISCOVER_REFUSED_FIRST:
		log_warning("event=node_discover src=%s mac=%s msg=\"more than %u discoveries a "
		    "minute from this address, refusing until it slows down\"", src[0] ? src : "-",
		    q->mac_str, bs->cfg.discover_rate);
		return -EAGAIN;
	case DISCOVER_REFUSED:
		return -EAGAIN;
	}
	if (!discover_cap_recount(&bs->discover, now)) {
		bs->discover.refused_cap++;
		return -ENOSPC;
	}
	if (store_node_count_by_phase(bs->store, count_discovered, &discovered) < 0)
		return -EIO;
	switch (discover_cap_check(&bs->discover, discovered, bs->cfg.discover_max, now)) {
	case DISCOVER_OK:
		return 0;
	case DISCOVER_REFUSED_FIRST:
		(void)snprintf(reason, sizeof(reason), "%lld nodes are discovered (discover_max): "
		    "unknown machines are not registered until some are assigned or removed; "
		    "first refused: MAC %s from %s", (long long)discovered, q->mac_str,
		    src[0] ? src : "-");
		log_warning("event=node_discover src=%s mac=%s msg=\"%s\"", src[0] ? src : "-",
		    q->mac_str, reason);
		if (store_event_add(bs->store, "-", "discover-cap", reason,
		    (int64_t)time(NULL)) == 0)
			notify(&bs->notify, NOTIFY_HISTORY);
		return -ENOSPC;
	case DISCOVER_REFUSED:
		break;
	}
	return -ENOSPC;
}

int
nodes_discover(struct bootsvc *bs, const struct boot_query *q, const char *src,
    struct node_rec *ret)
{
	struct node_rec n = { 0 };
	struct dl_err err = { 0 };
	int r;

	if ((r = discover_allowed(bs, q, src ? src : "")) < 0)
		return r;

	(void)snprintf(n.name, sizeof(n.name), "d-%02x%02x%02x%02x%02x%02x", q->mac.b[0],
	    q->mac.b[1], q->mac.b[2], q->mac.b[3], q->mac.b[4], q->mac.b[5]);
	strcpy(n.mac, q->mac_str);
	strcpy(n.uuid, q->uuid);
	strcpy(n.serial, q->serial);
	strcpy(n.phase, "discovered");
	n.phase_at = n.created = (int64_t)time(NULL);
	r = nodes_token_new(n.token);
	if (r < 0)
		return r;
	r = store_node_insert(bs->store, &n, &err);
	if (r < 0) {
		log_warning("event=node_discover mac=%s msg=\"%s\", ignoring", n.mac, err.msg);
		return r;
	}
	(void)store_node_set_phase(bs->store, n.name, "discovered", "", n.phase_at);
	log_notice("event=node_discover node=%s mac=%s uuid=%s serial=%s", n.name, n.mac,
	    n.uuid[0] ? n.uuid : "-", n.serial[0] ? n.serial : "-");
	*ret = n;
	return 0;
}

static int
sync_one(const struct node_rec *n, void *userdata)
{
	struct bootsvc *bs = userdata;

	return dnsmasq_host_write(bs->dnsmasq, n);
}

/* A host entry stays while the store has its node, and when the store cannot say. */
static int
keep_host(const char *name, void *userdata)
{
	struct bootsvc *bs = userdata;
	struct node_rec n;
	int r = store_node_get(bs->store, name, &n);

	return r == -ENOENT ? 0 : r < 0 ? r : 1;
}

int
nodes_sync_dhcp_hosts(struct bootsvc *bs)
{
	int r;

	if (!bs->dnsmasq)
		return 0;
	if ((r = store_node_foreach(bs->store, sync_one, bs)) < 0)
		return r;
	r = dnsmasq_hosts_prune(bs->dnsmasq, keep_host, bs);
	return r < 0 ? r : 0;
}

bool
nodes_drained(struct bootsvc *bs, const struct node_rec *n)
{
	if (n->drain)
		return true;
	if (strcmp(n->health, "doomed") == 0)
		return (bs->cfg.on_doomed & HA_DRAIN) != 0;
	if (strcmp(n->health, "risky") == 0)
		return (bs->cfg.on_risky & HA_DRAIN) != 0;
	return false;
}
