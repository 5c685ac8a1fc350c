/* SPDX-License-Identifier: MIT */
/* The cluster room's loop side (cluster.h): start and stop the session threads, turn what
 * they publish into this instance's role (fencing on the loop's own clock), pass history
 * notifications on, and answer `server list`. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "bootsvc.h"
#include "action/action.h"
#include "boot/nodes.h"
#include "cluster/cluster_internal.h"
#include "log.h"
#include "wallclock.h"

void
cluster_segments(const struct bootsvc *bs, char *buf, size_t size)
{
	const struct config *cfg = &bs->cfg;
	int n = 0;

	buf[0] = '\0';
	if (cfg->dhcp_mode == DHCP_MODE_RANGE)
		n = snprintf(buf, size, "%s %s-%s", cfg->interface, cfg->dhcp_range_start,
		    cfg->dhcp_range_end);
	else if (cfg->dhcp_mode == DHCP_MODE_PROXY)
		n = snprintf(buf, size, "%s proxy %s", cfg->interface, cfg->proxy_subnet);
	else
		n = snprintf(buf, size, "no-dhcp");
	if (n > 0 && (size_t)n < size && cfg->node_ip_start[0])
		(void)snprintf(buf + n, size - (size_t)n, " nodes %s-%s", cfg->node_ip_start,
		    cfg->node_ip_end);
}

/* Stop acting: what the controller started on the BMC and libvirt pools is drained
 * (queued jobs dropped, running ones recorded but not acted on: action_fence()). */
static void
fence(struct cluster *c, const char *why)
{
	struct bootsvc *bs = c->bs;
	unsigned dropped = 0;

	c->leading = false;
	c->acting_until = 0;
	store_fence(bs->store, 0);
	if (bs->action) {
		dropped += action_fence(bs->action, ACTION_POOL_BMC);
		dropped += action_fence(bs->action, ACTION_POOL_LIBVIRT);
	}
	log_notice("event=cluster_fence name=%s msg=\"%s: no longer acting\" drained=%u",
	    c->name, why, dropped);
}

static void on_fence_timer(struct loop *l, void *userdata);

/* The lease may say yes while the database says a newer leader took over: the store
 * refused a write of ours for the generation we lead with (store_fence()). Stop acting
 * now, and have the thread drop the session (stale) so this generation never leads
 * again; the next takeover, ours or another's, has a new one. */
static void
fence_if_refused(struct cluster *c)
{
	if (!c->leading || !store_fence_refused(c->bs->store))
		return;
	fence(c, "a write was refused for a newer leader's generation");
	atomic_store(&c->stale, true);
}

/* Nodes another instance added or moved reach this one's dnsmasq within this: the host
 * files are compared before they are written (dhcp/dnsmasq.c), so a pass over a few
 * thousand nodes that changes nothing costs reads, not dnsmasq re-reads. */
#define CLUSTER_DHCP_SYNC_MS 15000

static void
on_dhcp_sync(struct loop *l, void *userdata)
{
	struct cluster *c = userdata;

	(void)nodes_sync_dhcp_hosts(c->bs); /* a file that cannot be written: next pass */
	c->dhcp_timer = loop_add_timer(l, loop_now_ms() + CLUSTER_DHCP_SYNC_MS, on_dhcp_sync, c);
	if (c->dhcp_timer < 0)
		c->dhcp_timer = 0;
}

/* The leader thread's latest word, applied on the loop. */
static void
apply(struct cluster *c)
{
	struct cluster_out o;
	int64_t gen;
	uint64_t now = loop_now_ms();

	pthread_mutex_lock(&c->mu);
	o = c->out;
	gen = c->generation;
	pthread_mutex_unlock(&c->mu);
	if (c->fence_timer > 0) {
		loop_cancel_timer(c->bs->loop, c->fence_timer);
		c->fence_timer = 0;
	}
	/* A write refused for gen since the last word (store_fence()): fence now, whatever
	 * the lease says, and have the thread drop the session. */
	fence_if_refused(c);
	/* stale: the store refused a write for gen; the thread has not dropped the
	 * session yet, and gen must not lead again meanwhile. */
	if (o.acting && (int64_t)now < o.acting_until && gen > 0 && !atomic_load(&c->stale)) {
		c->acting_until = o.acting_until;
		if (!c->leading) {
			c->leading = true;
			/* From here every write of this instance is checked against gen inside
			 * its transaction (store.h, store_fence()). */
			store_fence(c->bs->store, gen);
			log_notice("event=cluster_leader name=%s generation=%" PRId64
			    " msg=\"acting as the leader\"", c->name, gen);
			/* Like a restart: the controller reads the rows and waits on the ops
			 * the last leader started (docs/architecture.md). */
			notify(&c->bs->notify, NOTIFY_NODE);
		}
		c->fence_timer = loop_add_timer(c->bs->loop, (uint64_t)c->acting_until,
		    on_fence_timer, c);
		if (c->fence_timer < 0) {
			c->fence_timer = 0;
			fence(c, "out of memory for the lease timer");
		}
	} else if (c->leading)
		fence(c, o.acting ? "the lease ran out" : "the leader session was lost");
}

static void
on_fence_timer(struct loop *l, void *userdata)
{
	struct cluster *c = userdata;

	(void)l;
	c->fence_timer = 0;
	/* The thread may have extended it meanwhile without its wake being read yet. */
	apply(c);
	if (c->leading && (int64_t)loop_now_ms() >= c->acting_until)
		fence(c, "the lease ran out");
}

static void
on_wake(struct loop *l, int fd, uint32_t events, void *userdata)
{
	struct cluster *c = userdata;
	uint64_t v;

	(void)l;
	(void)events;
	(void)!read(fd, &v, sizeof(v));
	apply(c);
	if (atomic_exchange(&c->history, false)) {
		/* Rows another instance (or this one) wrote: the event stream reads from its
		 * last seq; a desired state changed elsewhere reaches the controller now. */
		notify(&c->bs->notify, NOTIFY_HISTORY);
		notify(&c->bs->notify, NOTIFY_NODE);
	}
}

int
cluster_new(struct bootsvc *bs, struct cluster **ret, struct dl_err *reterr)
{
	struct cluster *c;
	int r;

	*ret = NULL;
	if (!config_clustered(&bs->cfg))
		return 0;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->bs = bs;
	c->wake_fd = c->stop_fd = -1;
	pthread_mutex_init(&c->mu, NULL);
	(void)snprintf(c->conninfo, sizeof(c->conninfo), "%s", bs->cfg.store);
	c->lease_ms = (int64_t)bs->cfg.leader_lease_ms;
	(void)snprintf(c->name, sizeof(c->name), "%s", bs->cfg.server_name);
	(void)snprintf(c->url, sizeof(c->url), "%s", bs->cfg.boot_url);
	cluster_segments(bs, c->segments, sizeof(c->segments));
	c->pid = getpid();
	c->started_ms = wall_ms();
	c->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	c->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->wake_fd < 0 || c->stop_fd < 0) {
		r = dl_err_set(reterr, negative_errno(), "cluster: eventfd: %s", strerror(errno));
		cluster_free(c);
		return r;
	}
	if ((r = loop_add_fd(bs->loop, c->wake_fd, EPOLLIN, on_wake, c)) < 0) {
		dl_err_set(reterr, r, "cluster: watching its eventfd: %s", strerror(-r));
		cluster_free(c);
		return r;
	}
	if ((r = -pthread_create(&c->leader_thread, NULL, cluster_pg_leader_main, c)) < 0) {
		dl_err_set(reterr, r, "cluster: leader thread: %s", strerror(-r));
		cluster_free(c);
		return r;
	}
	c->leader_started = true;
	if ((r = -pthread_create(&c->listen_thread, NULL, cluster_pg_listen_main, c)) < 0) {
		dl_err_set(reterr, r, "cluster: listen thread: %s", strerror(-r));
		cluster_free(c);
		return r;
	}
	c->listen_started = true;
	if (bs->cfg.dhcp_mode != DHCP_MODE_OFF) {
		c->dhcp_timer = loop_add_timer(bs->loop, loop_now_ms() + CLUSTER_DHCP_SYNC_MS,
		    on_dhcp_sync, c);
		if (c->dhcp_timer < 0)
			c->dhcp_timer = 0; /* main.c's own sync at start still runs */
	}
	log_notice("event=cluster_start name=%s lease_ms=%" PRId64 " segments=\"%s\"", c->name,
	    c->lease_ms, c->segments);
	*ret = c;
	return 0;
}

struct cluster *
cluster_free(struct cluster *c)
{
	uint64_t one = 1;

	if (!c)
		return NULL;
	atomic_store(&c->stopping, true);
	if (c->stop_fd >= 0)
		(void)!write(c->stop_fd, &one, sizeof(one));
	if (c->leader_started)
		pthread_join(c->leader_thread, NULL);
	if (c->listen_started)
		pthread_join(c->listen_thread, NULL);
	if (c->fence_timer > 0)
		loop_cancel_timer(c->bs->loop, c->fence_timer);
	if (c->dhcp_timer > 0)
		loop_cancel_timer(c->bs->loop, c->dhcp_timer);
	if (c->wake_fd >= 0) {
		loop_del_fd(c->bs->loop, c->wake_fd);
		close(c->wake_fd);
	}
	if (c->stop_fd >= 0)
		close(c->stop_fd);
	pthread_mutex_destroy(&c->mu);
	free(c);
	return NULL;
}

bool
cluster_may_act(struct cluster *c)
{
	if (!c)
		return true;
	fence_if_refused(c);
	return c->leading && (int64_t)loop_now_ms() < c->acting_until;
}

int64_t
cluster_generation(struct cluster *c)
{
	int64_t g;

	if (!c || !c->leading)
		return 0;
	pthread_mutex_lock(&c->mu);
	g = c->generation;
	pthread_mutex_unlock(&c->mu);
	return g;
}

uint64_t
cluster_notifications(struct cluster *c)
{
	return c ? atomic_load(&c->notifications) : 0;
}

int
cluster_servers(struct cluster *c, const struct bootsvc *bs,
    struct cluster_server **ret, size_t *ret_n)
{
	struct cluster_server *v;
	size_t n;

	if (!c) {
		v = calloc(1, sizeof(*v));
		if (!v)
			return -ENOMEM;
		(void)snprintf(v->name, sizeof(v->name), "%s", bs->cfg.server_name);
		(void)snprintf(v->url, sizeof(v->url), "%s", bs->cfg.boot_url);
		cluster_segments(bs, v->segments, sizeof(v->segments));
		strcpy(v->role, "leader");
		v->pid = getpid();
		v->self = true;
		*ret = v;
		*ret_n = 1;
		return 0;
	}
	pthread_mutex_lock(&c->mu);
	n = c->n_servers;
	v = calloc(n ? n : 1, sizeof(*v));
	if (v) {
		/* Ages as read, plus the time since the read: one clock, the database's. */
		int64_t since = c->servers_read_ms ? (int64_t)(loop_now_ms() - c->servers_read_ms) :
		    0;
		memcpy(v, c->servers, n * sizeof(*v));
		for (size_t i = 0; i < n; i++) {
			v[i].age_ms += since;
			v[i].gone = v[i].age_ms > CLUSTER_GONE_LEASES * c->lease_ms;
		}
	}
	pthread_mutex_unlock(&c->mu);
	if (!v)
		return -ENOMEM;
	*ret = v;
	*ret_n = n;
	return 0;
}
