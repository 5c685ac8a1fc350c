/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "action/action.h"
#include "cluster/cluster.h"
#include "log.h"
#include "macro.h"
#include "vm/vm.h"
#include "vm/vm_conn.h"
#include "vm/vm_exec.h"
#include "vm/vm_internal.h"
#include "vm/vm_meta.h"
#include "vm/vm_policy.h"
#include "wallclock.h"

/* Closed connections the loop has not looked at yet: which hosts to read at once. More
 * at once than this (a switch died under a rack) and every connected host is read. */
#define MAX_VM_CLOSED_PENDING 64

/* The URI with ?pkipath=<dir>. */
#define MAX_VM_CONNECT_URI (MAX_VM_URI + MAX_CONF_PATH + 16)

/* One up VM host, in memory: its connection is not a store thing. */
struct vm_host {
	char node[MAX_NODE_NAME];
	char uri[MAX_VM_CONNECT_URI];
	uint64_t gen;          /* which incarnation: a job's result for an older one is dropped */
	struct vm_conn fsm;
	virConnectPtr conn;    /* the loop's reference, NULL while not connected */
	bool cap_logged;       /* the domain cap's refusal was logged for this host */
	int64_t listed_ms;     /* the last listing's time: each next one is later */
	bool has_temp;         /* temp_c is the BMC's last temperature (health poll) */
	double temp_c;
	struct vm_host *next;
};

struct vm {
	struct bootsvc *bs;
	struct vm_host *hosts;
	uint64_t next_gen;
	int64_t timer;
	bool sync_due;          /* node phases changed: check hosts against them */
	uint64_t sync_at_ms;    /* and at least this often, for changes nobody signals */
	struct vm_conn_params params;
	int64_t balanced_ms;    /* when the periodic policies last ran (vm_policy_tick) */
	char pki_dir[MAX_CONF_PATH];
	int wake_fd;            /* written by libvirt's close callback (its own thread) */
	pthread_mutex_t closed_lock; /* the callback's list, read by the loop */
	virConnectPtr closed[MAX_VM_CLOSED_PENDING]; /* compared, never dereferenced */
	unsigned n_closed;
	bool closed_overflow;
	pthread_t ev_thread;
	bool ev_started;
	atomic_bool ev_stop;
	int ev_wake_timer;      /* libvirt timeout that wakes the event thread to stop */
	struct action_type connect_type, refresh_type, close_type;
	struct vm_exec *exec;   /* the plans' executor (vm_exec.c) */
};

enum vm_job_what { JOB_CONNECT, JOB_REFRESH, JOB_CLOSE };

/* A job's payload: copies of what the worker needs in, what it read out. */
struct vm_job {
	struct vm *vm;
	enum vm_job_what what;
	char node[MAX_NODE_NAME];
	uint64_t gen;
	char uri[MAX_VM_CONNECT_URI];
	virConnectPtr conn;     /* connect: the new one (out); refresh, close: the job's ref */
	/* refresh, written by the worker */
	virNodeInfo ni;
	unsigned long lib_ver, hv_ver;
	struct vm_domain_rec *doms;
	size_t n_doms, n_listed;
	int64_t asked_ms;       /* refresh: wall ms when asked for; its listing is no older */
};

/* libvirt reports errors to stderr by default; ours go to our log, once, by who acts. */
static void
silent_error(void *userdata, virErrorPtr e)
{
	(void)userdata;
	(void)e;
}

void
vm_libvirt_error(char *buf, size_t size)
{
	const char *m = virGetLastErrorMessage();

	(void)snprintf(buf, size, "%s", m && m[0] ? m : "unknown libvirt error");
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '"')
			*p = ' ';
}

/* libvirt's close callback, on its event thread: note which connection, wake the loop. */
static void
on_close(virConnectPtr conn, int reason, void *opaque)
{
	struct vm *vm = opaque;
	uint64_t one = 1;

	(void)reason;
	pthread_mutex_lock(&vm->closed_lock);
	if (vm->n_closed < MAX_VM_CLOSED_PENDING)
		vm->closed[vm->n_closed++] = conn;
	else
		vm->closed_overflow = true;
	pthread_mutex_unlock(&vm->closed_lock);
	(void)!write(vm->wake_fd, &one, sizeof(one));
}

static void *
ev_main(void *arg)
{
	struct vm *vm = arg;

	while (!atomic_load(&vm->ev_stop))
		if (virEventRunDefaultImpl() < 0)
			break;
	return NULL;
}

static void
ev_wake(int timer, void *opaque)
{
	(void)timer;
	(void)opaque;
}

static const char *
domain_state_name(int s)
{
	switch (s) {
	case VIR_DOMAIN_RUNNING: return "running";
	case VIR_DOMAIN_BLOCKED: return "blocked";
	case VIR_DOMAIN_PAUSED: return "paused";
	case VIR_DOMAIN_SHUTDOWN: return "shutdown";
	case VIR_DOMAIN_SHUTOFF: return "shutoff";
	case VIR_DOMAIN_CRASHED: return "crashed";
	case VIR_DOMAIN_PMSUSPENDED: return "pmsuspended";
	case VIR_DOMAIN_NOSTATE:
	default: return "nostate";
	}
}

/* ---- on the libvirt pool ---- */

static void
conn_close(virConnectPtr c)
{
	(void)virConnectUnregisterCloseCallback(c, on_close);
	(void)virConnectClose(c);
}

static int
connect_run(struct vm_job *j, struct dl_err *reterr)
{
	char msg[MAX_REASON];
	virConnectPtr c;

	if (j->conn) { /* an earlier attempt's, when retried */
		conn_close(j->conn);
		j->conn = NULL;
	}
	c = virConnectOpen(j->uri);
	if (!c) {
		vm_libvirt_error(msg, sizeof(msg));
		return dl_err_set(reterr, -ECONNREFUSED, "%s", msg);
	}
	/* Keepalive is the remote driver's: a connection without a wire (libvirt's test
	 * driver, which the unit test uses) says VIR_ERR_NO_SUPPORT and has nothing to keep
	 * alive. Every URI bootsvc builds for a host is remote (+tls). */
	if ((virConnectSetKeepAlive(c, VM_KEEPALIVE_INTERVAL_S, VM_KEEPALIVE_COUNT) < 0 &&
	    (!virGetLastError() || virGetLastError()->code != VIR_ERR_NO_SUPPORT)) ||
	    virConnectRegisterCloseCallback(c, on_close, j->vm, NULL) < 0) {
		vm_libvirt_error(msg, sizeof(msg));
		(void)virConnectClose(c);
		return dl_err_set(reterr, -EIO, "keepalive: %s", msg);
	}
	j->conn = c;
	return 0;
}

/* The domain's placement metadata into d (none: no group, not pinned). A bad one is
 * logged and read as none: the VM still moves, only without the constraint it failed to
 * say. On the pool thread: logging is thread-safe. */
static void
read_placement(const char *node, virDomainPtr dom, struct vm_domain_rec *d)
{
	struct vm_placement pl;
	struct dl_err err = { 0 };
	char *xml = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, VM_META_NS, 0);

	if (!xml)
		return; /* VIR_ERR_NO_DOMAIN_METADATA, or gone meanwhile */
	if (vm_meta_parse(xml, &pl, &err) == 0) {
		(void)snprintf(d->group, sizeof(d->group), "%s", pl.group);
		(void)snprintf(d->job_class, sizeof(d->job_class), "%s", pl.job_class);
		d->pinned = pl.pin;
	} else
		log_warning("event=vm_placement node=%s vm=%s msg=\"%s, read as none\"", node,
		    d->name, err.msg);
	free(xml);
}

static int
refresh_run(struct vm_job *j, const atomic_bool *cancelled, struct dl_err *reterr)
{
	char msg[MAX_REASON];
	virDomainPtr *doms = NULL;
	int n;

	free(j->doms);
	j->doms = NULL;
	j->n_doms = j->n_listed = 0;
	if (virConnectIsAlive(j->conn) != 1)
		return dl_err_set(reterr, -ECONNRESET, "connection to libvirtd closed");
	if (virNodeGetInfo(j->conn, &j->ni) < 0 || virConnectGetLibVersion(j->conn,
	    &j->lib_ver) < 0 || virConnectGetVersion(j->conn, &j->hv_ver) < 0) {
		vm_libvirt_error(msg, sizeof(msg));
		return dl_err_set(reterr, -ECONNRESET, "%s", msg);
	}
	n = virConnectListAllDomains(j->conn, &doms, 0);
	if (n < 0) {
		vm_libvirt_error(msg, sizeof(msg));
		return dl_err_set(reterr, -ECONNRESET, "%s", msg);
	}
	j->n_listed = (size_t)n;
	/* What is kept, not what is listed: a host's listing is its own to make long. */
	j->doms = calloc(n > 0 && n < MAX_VM_DOMAINS_PER_HOST ? (size_t)n :
	    n > 0 ? MAX_VM_DOMAINS_PER_HOST : 1, sizeof(*j->doms));
	for (int i = 0; i < n; i++) {
		struct vm_domain_rec *d;
		virDomainInfo di;
		const char *name;

		/* Xen's Domain-0 (ID 0) is the host itself, not a guest: not a VM to count,
		 * to refuse a reimage for or to move, and every host's has the all-zero
		 * UUID. A domain undefined between the listing and these calls is simply not
		 * there: the next listing agrees. */
		if (virDomainGetID(doms[i]) == 0) {
			virDomainFree(doms[i]);
			continue;
		}
		if (j->doms && j->n_doms < MAX_VM_DOMAINS_PER_HOST && !atomic_load(cancelled) &&
		    virDomainGetInfo(doms[i], &di) == 0 && (name = virDomainGetName(doms[i]))) {
			d = &j->doms[j->n_doms];
			memset(d, 0, sizeof(*d));
			if (virDomainGetUUIDString(doms[i], d->uuid) == 0) {
				(void)snprintf(d->name, sizeof(d->name), "%s", name);
				(void)snprintf(d->state, sizeof(d->state), "%s",
				    domain_state_name(di.state));
				d->vcpus = di.nrVirtCpu;
				d->memory_kib = (int64_t)di.memory;
				read_placement(j->node, doms[i], d);
				j->n_doms++;
			}
		}
		virDomainFree(doms[i]);
	}
	free(doms);
	if (!j->doms)
		return dl_err_set(reterr, -ENOMEM, "out of memory for %d domains", n);
	return 0;
}

static int
job_run(void *payload, const atomic_bool *cancelled, struct dl_err *reterr)
{
	struct vm_job *j = payload;

	switch (j->what) {
	case JOB_CONNECT:
		return connect_run(j, reterr);
	case JOB_REFRESH:
		return refresh_run(j, cancelled, reterr);
	case JOB_CLOSE:
	default:
		if (j->conn)
			conn_close(j->conn);
		j->conn = NULL;
		return 0;
	}
}

/* ---- on the loop ---- */

static void
job_free(void *payload)
{
	struct vm_job *j = payload;

	/* Left here only by a job whose done() could not take it (timed out, cancelled, a
	 * host dropped meanwhile): the loop closes it, once, at the worker's return. */
	if (j->conn)
		conn_close(j->conn);
	free(j->doms);
	free(j);
}

static struct vm_host *
host_find(struct vm *vm, const char *node)
{
	for (struct vm_host *h = vm->hosts; h; h = h->next)
		if (strcmp(h->node, node) == 0)
			return h;
	return NULL;
}

static struct vm_job *
job_new(struct vm *vm, enum vm_job_what what, const char *node)
{
	struct vm_job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->vm = vm;
	j->what = what;
	(void)snprintf(j->node, sizeof(j->node), "%s", node);
	return j;
}

/* Close conn on the pool (the close is an RPC to a host that may be dead). */
static void
close_async(struct vm *vm, const char *node, virConnectPtr conn)
{
	struct vm_job *j = job_new(vm, JOB_CLOSE, node);

	if (j) {
		j->conn = conn;
		if (action_submit(vm->bs->action, node, &vm->close_type, j, ACTION_WAIT, NULL) == 0)
			return;
		j->conn = NULL;
		free(j);
	}
	/* No pool to take it (stopping, or out of memory): close here, bounded by keepalive. */
	conn_close(conn);
}

/* Write the host's connection state to its row, with since when it changed. */
static void
host_row_state(struct vm *vm, const struct vm_host *h, const char *reason)
{
	struct vm_host_rec r;
	const char *state = vm_conn_state_to_string(h->fsm.state);
	int64_t now = (int64_t)time(NULL);

	if (store_vm_host_get(vm->bs->store, h->node, &r) < 0)
		return;
	if (strcmp(r.state, state) != 0) {
		(void)snprintf(r.state, sizeof(r.state), "%s", state);
		r.state_since = now;
	}
	(void)snprintf(r.state_reason, sizeof(r.state_reason), "%s", reason ? reason : "");
	(void)store_vm_host_put(vm->bs->store, &r);
}

/* The health input: risky while lost, unless something worse is said already. */
static void
host_health(struct vm *vm, const char *node, bool lost)
{
	struct node_rec n;
	int64_t now = (int64_t)time(NULL);

	if (store_node_get(vm->bs->store, node, &n) < 0)
		return;
	if (lost && strcmp(n.health, "ok") == 0) {
		strcpy(n.health, "risky");
		(void)snprintf(n.health_reasons, sizeof(n.health_reasons), VM_HEALTH_REASON);
	} else if (!lost && strcmp(n.health, "risky") == 0 &&
	    strcmp(n.health_reasons, VM_HEALTH_REASON) == 0) {
		strcpy(n.health, "ok");
		n.health_reasons[0] = '\0';
	} else
		return;
	(void)store_node_update_ctrl(vm->bs->store, &n);
	(void)store_event_add(vm->bs->store, node, "health",
	    lost ? VM_HEALTH_REASON : "ok", now);
	log_notice("event=node_health node=%s health=%s reasons=\"%s\"", node, n.health,
	    n.health_reasons);
}

static void host_step(struct vm *vm, struct vm_host *h, enum vm_conn_event ev,
    const char *reason);

static void
host_lost(struct vm *vm, struct vm_host *h, const char *reason)
{
	char why[MAX_REASON];

	(void)snprintf(why, sizeof(why), "%s", reason && reason[0] ? reason : "unreachable");
	host_row_state(vm, h, why);
	(void)store_event_add(vm->bs->store, h->node, "host-lost", why, (int64_t)time(NULL));
	log_warning("event=vm_host node=%s state=lost msg=\"%s, will retry\"", h->node, why);
	host_health(vm, h->node, true);
	notify(&vm->bs->notify, NOTIFY_HISTORY);
}

static void
host_connected(struct vm *vm, struct vm_host *h)
{
	host_row_state(vm, h, NULL);
	(void)store_event_add(vm->bs->store, h->node, "host-connected", "", (int64_t)time(NULL));
	log_notice("event=vm_host node=%s state=connected", h->node);
	host_health(vm, h->node, false);
	notify(&vm->bs->notify, NOTIFY_HISTORY);
}

static void
submit(struct vm *vm, struct vm_host *h, enum vm_job_what what)
{
	struct vm_job *j = job_new(vm, what, h->node);
	struct dl_err err = { 0 };

	if (j) {
		j->gen = h->gen;
		j->asked_ms = wall_ms();
		(void)snprintf(j->uri, sizeof(j->uri), "%s", h->uri);
		if (what == JOB_REFRESH)
			j->conn = h->conn && virConnectRef(h->conn) == 0 ? h->conn : NULL;
		if ((what == JOB_CONNECT || j->conn) && action_submit(vm->bs->action, h->node,
		    what == JOB_CONNECT ? &vm->connect_type : &vm->refresh_type, j, 0,
		    &err) == 0)
			return;
		if (j->conn)
			(void)virConnectClose(j->conn); /* our extra reference: no I/O */
		free(j);
		log_debug("event=vm_host node=%s msg=\"call not queued: %s\"", h->node, err.msg);
	}
	host_step(vm, h, VM_EV_NOT_STARTED, NULL);
}

/* Feed ev to h's decision and do what it says. */
static void
host_step(struct vm *vm, struct vm_host *h, enum vm_conn_event ev, const char *reason)
{
	struct vm_conn_step s = vm_conn_decide(&h->fsm, ev, loop_now_ms(), &vm->params);

	if (s.lost)
		host_lost(vm, h, reason);
	if (s.connected)
		host_connected(vm, h);
	switch (s.act) {
	case VM_ACT_CONNECT:
		submit(vm, h, JOB_CONNECT);
		break;
	case VM_ACT_REFRESH:
		submit(vm, h, JOB_REFRESH);
		break;
	case VM_ACT_CLOSE_RECONNECT_LATER:
		if (h->conn)
			close_async(vm, h->node, h->conn);
		h->conn = NULL;
		break;
	case VM_ACT_NONE:
	default:
		break;
	}
}

/* A refresh's listing into the store: the host's facts as libvirt says them now, and
 * its domains reconciled. */
static void
refresh_store(struct vm *vm, struct vm_host *h, struct vm_job *j)
{
	struct vm_host_rec r;
	int64_t now = (int64_t)time(NULL);

	log_debug("event=vm_refresh node=%s listed=%zu kept=%zu", h->node, j->n_listed,
	    j->n_doms);
	if (j->n_listed > j->n_doms && j->n_listed > MAX_VM_DOMAINS_PER_HOST && !h->cap_logged) {
		log_warning("event=vm_domains node=%s listed=%zu kept=%d msg=\"more domains than "
		    "MAX_VM_DOMAINS_PER_HOST, the rest are not stored\"", h->node, j->n_listed,
		    MAX_VM_DOMAINS_PER_HOST);
		h->cap_logged = true;
	}
	for (size_t i = 0; i < j->n_doms; i++)
		j->doms[i].running_since =
		    strcmp(j->doms[i].state, "running") == 0 ? now : 0;
	/* A listing's rows carry its time, and what is older than it goes: so each of a
	 * host's listings must be later than the one before, whatever the wall clock does.
	 * Its time is when it was asked for, not when it came back: a row written meanwhile
	 * (a migration's move, another host's listing) is newer than it and stays. */
	h->listed_ms = j->asked_ms > h->listed_ms ? j->asked_ms : h->listed_ms + 1;
	if (store_vm_domains_reconcile(vm->bs->store, h->node, j->doms, j->n_doms,
	    h->listed_ms) < 0)
		log_err("event=vm_domains node=%s msg=\"store update failed\"", h->node);
	if (store_vm_host_get(vm->bs->store, h->node, &r) == 0) {
		r.cpus = j->ni.cpus;
		r.memory_mib = (int64_t)(j->ni.memory / 1024);
		r.numa_nodes = j->ni.nodes ? j->ni.nodes : 1;
		(void)snprintf(r.libvirt_version, sizeof(r.libvirt_version), "%lu.%lu.%lu",
		    j->lib_ver / 1000000, j->lib_ver / 1000 % 1000, j->lib_ver % 1000);
		(void)snprintf(r.hypervisor_version, sizeof(r.hypervisor_version), "%lu.%lu.%lu",
		    j->hv_ver / 1000000, j->hv_ver / 1000 % 1000, j->hv_ver % 1000);
		/* when the listing was asked for: a reader who saw something end at T knows a
		 * listing with last_seen > T shows the host after it (nodectl host drain --wait) */
		r.last_seen = h->listed_ms / 1000;
		(void)store_vm_host_put(vm->bs->store, &r);
	}
	vm_policy_keep_drained(vm->bs, h->node);
}

static void
job_done(void *payload, const struct action_result *res)
{
	struct vm_job *j = payload;
	struct vm *vm = j->vm;
	struct vm_host *h = host_find(vm, j->node);
	bool ok = res->outcome == ACTION_OK;

	if (j->what == JOB_CLOSE)
		return;
	if (res->outcome == ACTION_TIMED_OUT)
		ok = false; /* the worker still holds j->conn: job_free closes it */
	if (!h || h->gen != j->gen || res->outcome == ACTION_CANCELLED) {
		/* Dropped meanwhile (or stopping): what it opened is closed off the loop. */
		if (res->outcome != ACTION_TIMED_OUT && j->conn) {
			if (j->what == JOB_CONNECT)
				close_async(vm, j->node, j->conn);
			else
				(void)virConnectClose(j->conn);
			j->conn = NULL;
		}
		return;
	}
	if (j->what == JOB_CONNECT) {
		if (ok) {
			h->conn = j->conn;
			j->conn = NULL;
		}
		host_step(vm, h, ok ? VM_EV_CONNECT_OK : VM_EV_CONNECT_FAILED, res->msg);
		return;
	}
	if (ok)
		refresh_store(vm, h, j);
	if (res->outcome != ACTION_TIMED_OUT && j->conn) {
		(void)virConnectClose(j->conn); /* the job's reference: h->conn keeps one */
		j->conn = NULL;
	}
	host_step(vm, h, ok ? VM_EV_REFRESH_OK : VM_EV_REFRESH_FAILED, res->msg);
}

static void
host_drop(struct vm *vm, struct vm_host *h, const char *why)
{
	struct vm_host **pp = &vm->hosts;

	while (*pp != h)
		pp = &(*pp)->next;
	*pp = h->next;
	if (h->conn)
		close_async(vm, h->node, h->conn);
	log_notice("event=vm_host node=%s state=dropped msg=\"%s\"", h->node, why);
	free(h);
}

static int
host_add(struct vm *vm, const struct vm_host_rec *r)
{
	struct vm_host *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	(void)snprintf(h->node, sizeof(h->node), "%s", r->node);
	(void)snprintf(h->uri, sizeof(h->uri), "%s?pkipath=%s", r->uri, vm->pki_dir);
	h->gen = ++vm->next_gen;
	vm_conn_init(&h->fsm);
	h->next = vm->hosts;
	vm->hosts = h;
	return 0;
}

struct sync_ctx {
	struct vm *vm;
};

/* A host row: keep it while its node is up, else it is no host any more. */
static int
sync_one(const struct vm_host_rec *r, void *userdata)
{
	struct sync_ctx *sc = userdata;
	struct vm *vm = sc->vm;
	struct vm_host *h = host_find(vm, r->node);
	struct node_rec n;

	if (store_node_get(vm->bs->store, r->node, &n) < 0 || strcmp(n.phase, "up") != 0) {
		if (h)
			host_drop(vm, h, "its node left up");
		(void)store_vm_host_delete(vm->bs->store, r->node);
		return 0;
	}
	if (!h)
		(void)host_add(vm, r); /* out of memory: the next sync tries again */
	return 0;
}

/* Hosts in memory follow the rows: rows whose node left up go, new rows come, and
 * entries without a row (their node was removed) go. */
static void
vm_sync(struct vm *vm)
{
	struct sync_ctx sc = { .vm = vm };
	struct vm_host *h, *next;
	struct vm_host_rec r;

	vm->sync_due = false;
	(void)store_vm_host_foreach(vm->bs->store, sync_one, &sc);
	for (h = vm->hosts; h; h = next) {
		next = h->next;
		if (store_vm_host_get(vm->bs->store, h->node, &r) < 0)
			host_drop(vm, h, "its node is gone");
	}
}

static void
on_tick(struct loop *l, void *userdata)
{
	struct vm *vm = userdata;

	/* VM hosts are the leader's (issue 15): another instance holds no libvirt
	 * connection, writes no host rows, runs no plan. */
	if (!cluster_may_act(vm->bs->cluster)) {
		vm->timer = loop_add_timer(l, loop_now_ms() + VM_TICK_MS, on_tick, vm);
		return;
	}
	if (vm->sync_due || loop_now_ms() >= vm->sync_at_ms) {
		vm_sync(vm);
		vm->sync_at_ms = loop_now_ms() + vm->params.poll_ms;
	}
	for (struct vm_host *h = vm->hosts; h; h = h->next)
		host_step(vm, h, VM_EV_TICK, NULL);
	vm_exec_tick(vm);
	vm_policy_tick(vm->bs, (int64_t)loop_now_ms(), &vm->balanced_ms);
	vm->timer = loop_add_timer(l, loop_now_ms() + VM_TICK_MS, on_tick, vm);
}

static void
on_wake(struct loop *l, int fd, uint32_t events, void *userdata)
{
	struct vm *vm = userdata;
	uint64_t v;

	(void)l;
	(void)events;
	virConnectPtr closed[MAX_VM_CLOSED_PENDING];
	unsigned n;
	bool all;

	(void)!read(fd, &v, sizeof(v));
	pthread_mutex_lock(&vm->closed_lock);
	n = vm->n_closed;
	memcpy(closed, vm->closed, n * sizeof(closed[0]));
	all = vm->closed_overflow;
	vm->n_closed = 0;
	vm->closed_overflow = false;
	pthread_mutex_unlock(&vm->closed_lock);
	/* The hosts whose connection it was read at once (the read finds it dead). A pointer
	 * reused since for another host's connection costs that host one early read. */
	for (struct vm_host *h = vm->hosts; h; h = h->next) {
		bool hit = all;

		for (unsigned i = 0; !hit && i < n; i++)
			hit = h->conn && h->conn == closed[i];
		if (!hit)
			continue;
		log_info("event=vm_closed node=%s msg=\"libvirt closed the connection, reading "
		    "the host now\"", h->node);
		host_step(vm, h, VM_EV_CLOSED, NULL);
	}
}

static void
on_node_changed(void *userdata)
{
	((struct vm *)userdata)->sync_due = true;
}

/* A path that goes into a URI's query as is: no characters URIs give a meaning. */
static bool
pki_dir_ok(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr("/._-+", *s)))
			return false;
	return true;
}

int
vm_new(struct bootsvc *bs, struct vm **ret, struct dl_err *reterr)
{
	static bool ev_registered; /* libvirt's default event loop is process-wide */
	struct vm *vm;
	int r;

	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return dl_err_set(reterr, -ENOMEM, "vm: out of memory");
	vm->bs = bs;
	vm->wake_fd = -1;
	(void)pthread_mutex_init(&vm->closed_lock, NULL);
	vm->ev_wake_timer = -1;
	vm->timer = -1;
	vm->params = (struct vm_conn_params){ .poll_ms = bs->cfg.vm_poll_ms,
		.backoff_min_ms = VM_BACKOFF_MIN_MS, .backoff_max_ms = VM_BACKOFF_MAX_MS };
	if (bs->cfg.libvirt_pki_dir[0])
		(void)snprintf(vm->pki_dir, sizeof(vm->pki_dir), "%s", bs->cfg.libvirt_pki_dir);
	else
		(void)snprintf(vm->pki_dir, sizeof(vm->pki_dir), "%.*s/libvirt-pki",
		    (int)sizeof(vm->pki_dir) - 16, bs->cfg.state_dir);
	if (!pki_dir_ok(vm->pki_dir)) {
		r = dl_err_set(reterr, -EINVAL, "libvirt_pki_dir '%s' holds characters a libvirt "
		    "URI cannot carry (letters, digits and / . _ - + only)", vm->pki_dir);
		goto fail;
	}
	vm->connect_type = (struct action_type){ .name = "libvirt-connect",
		.pool = ACTION_POOL_LIBVIRT, .res = ACTION_RES_LIBVIRT, .routine = true,
		.deadline_ms = VM_CALL_DEADLINE_MS, .run = job_run, .done = job_done,
		.free = job_free };
	vm->refresh_type = vm->connect_type;
	vm->refresh_type.name = "libvirt-refresh";
	vm->close_type = vm->connect_type;
	vm->close_type.name = "libvirt-close";
	vm->close_type.res = ACTION_RES_LIBVIRT_CLOSE;
	vm->close_type.shared = true;
	virSetErrorFunc(NULL, silent_error);
	if (!ev_registered) {
		if (virEventRegisterDefaultImpl() < 0) {
			r = dl_err_set(reterr, -EIO, "vm: libvirt's event loop cannot start");
			goto fail;
		}
		ev_registered = true;
	}
	vm->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->wake_fd < 0) {
		r = dl_err_set(reterr, -errno, "vm: eventfd: %s", strerror(errno));
		goto fail;
	}
	if ((r = loop_add_fd(bs->loop, vm->wake_fd, EPOLLIN, on_wake, vm)) < 0) {
		dl_err_set(reterr, r, "vm: watching the wake fd: %s", strerror(-r));
		goto fail;
	}
	if ((r = -pthread_create(&vm->ev_thread, NULL, ev_main, vm)) < 0) {
		dl_err_set(reterr, r, "vm: libvirt event thread: %s", strerror(-r));
		goto fail;
	}
	vm->ev_started = true;
	(void)pthread_setname_np(vm->ev_thread, "libvirt-ev");
	if ((r = notify_listen(&bs->notify, NOTIFY_NODE, on_node_changed, vm)) < 0) {
		dl_err_set(reterr, r, "vm: too many listeners of node changes");
		goto fail;
	}
	if ((r = vm_exec_new(vm, &vm->exec, reterr)) < 0)
		goto fail;
	/* a failed migration is retried where the planner's rules say it fits */
	vm_exec_set_replace(vm, vm_policy_replace, bs);
	vm_sync(vm);
	/* the first look after one interval: the hosts are read by then */
	vm->balanced_ms = (int64_t)loop_now_ms();
	vm->timer = loop_add_timer(bs->loop, loop_now_ms(), on_tick, vm);
	*ret = vm;
	return 0;
fail:
	vm_free(vm);
	return r;
}

struct vm *
vm_free(struct vm *vm)
{
	if (!vm)
		return NULL;
	notify_unlisten(&vm->bs->notify, NOTIFY_NODE, vm);
	if (vm->timer > 0)
		loop_cancel_timer(vm->bs->loop, vm->timer);
	vm->exec = vm_exec_free(vm->exec);
	/* No pool any more (action_free ran): each close is an RPC bounded by keepalive. */
	while (vm->hosts) {
		struct vm_host *h = vm->hosts;

		vm->hosts = h->next;
		if (h->conn)
			conn_close(h->conn);
		free(h);
	}
	if (vm->ev_started) {
		atomic_store(&vm->ev_stop, true);
		/* A timeout of 0 fires at once: the thread returns from its wait and sees
		 * the flag. */
		vm->ev_wake_timer = virEventAddTimeout(0, ev_wake, NULL, NULL);
		(void)pthread_join(vm->ev_thread, NULL);
		if (vm->ev_wake_timer >= 0)
			(void)virEventRemoveTimeout(vm->ev_wake_timer);
	}
	if (vm->wake_fd >= 0) {
		loop_del_fd(vm->bs->loop, vm->wake_fd);
		close(vm->wake_fd);
	}
	(void)pthread_mutex_destroy(&vm->closed_lock);
	free(vm);
	return NULL;
}

/* A drain the VM layer set for a reimage ends with that boot, one set for health once
 * the node is healthy again; an admin's stays until the admin undoes it. */
static void
drain_after_boot(struct bootsvc *bs, const struct node_rec *n)
{
	char reason[MAX_REASON];

	if (!store_vm_drain_get(bs->store, n->name, reason, sizeof(reason)))
		return;
	if (!vm_reason_is(reason, "reimage") && !(strcmp(n->health, "ok") == 0 &&
	    (vm_reason_is(reason, "risky") || vm_reason_is(reason, "doomed"))))
		return;
	(void)store_vm_drain_set(bs->store, n->name, false, "");
	(void)store_event_add(bs->store, n->name, "undrain", "booted again", (int64_t)time(NULL));
	log_notice("event=vm_drain node=%s drain=no reason=\"booted again after %s\"",
	    n->name, reason);
}

int
vm_host_register(struct bootsvc *bs, struct vm *vm, const struct node_rec *n,
    const struct kind *k, const struct vm_facts *f)
{
	struct vm_host_rec r = { 0 };
	struct vm_host *h;
	int rc;

	(void)snprintf(r.node, sizeof(r.node), "%s", n->name);
	(void)snprintf(r.hypervisor, sizeof(r.hypervisor), "%s", f->hypervisor);
	(void)snprintf(r.hypervisor_version, sizeof(r.hypervisor_version), "%s",
	    f->hypervisor_version);
	(void)snprintf(r.libvirt_version, sizeof(r.libvirt_version), "%s", f->libvirt_version);
	if ((rc = vm_facts_uri(k, n->ip, r.uri, sizeof(r.uri))) < 0)
		return rc;
	r.cpus = f->cpus;
	r.memory_mib = f->memory_mib;
	r.numa_nodes = f->numa_nodes;
	r.guest_cpus = f->guest_cpus;
	r.guest_memory_mib = f->guest_memory_mib;
	strcpy(r.state, "connecting");
	r.state_since = (int64_t)time(NULL);
	/* A new boot is a new host: its old domains are gone with the old hypervisor. */
	(void)store_vm_host_delete(bs->store, n->name);
	drain_after_boot(bs, n);
	if ((rc = store_vm_host_put(bs->store, &r)) < 0)
		return rc;
	log_notice("event=vm_host node=%s state=registered hypervisor=%s uri=%s cpus=%u "
	    "memory_mib=%lld", n->name, r.hypervisor, r.uri, r.cpus, (long long)r.memory_mib);
	if (!vm)
		return 0;
	if ((h = host_find(vm, n->name)))
		host_drop(vm, h, "its node booted again");
	if (host_add(vm, &r) == 0)
		host_step(vm, vm->hosts, VM_EV_TICK, NULL);
	return 0;
}

bool
vm_host_is_lost(const struct vm *vm, const char *node)
{
	if (!vm)
		return false;
	for (const struct vm_host *h = vm->hosts; h; h = h->next)
		if (strcmp(h->node, node) == 0)
			return h->fsm.state == VM_CONN_LOST;
	return false;
}

/* ---- shared with vm_exec.c (vm_internal.h) ---- */

struct bootsvc *
vm_bootsvc(struct vm *vm)
{
	return vm->bs;
}

struct vm_exec *
vm_exec_of(struct vm *vm)
{
	return vm ? vm->exec : NULL;
}

bool
vm_host_connected(const struct vm *vm, const char *node)
{
	for (const struct vm_host *h = vm->hosts; h; h = h->next)
		if (strcmp(h->node, node) == 0)
			return h->fsm.state == VM_CONN_CONNECTED && h->conn;
	return false;
}

virConnectPtr
vm_host_conn_ref(struct vm *vm, const char *node)
{
	struct vm_host *h = host_find(vm, node);

	if (!h || h->fsm.state != VM_CONN_CONNECTED || !h->conn || virConnectRef(h->conn) < 0)
		return NULL;
	return h->conn;
}

void
vm_host_read_now(struct vm *vm, const char *node)
{
	struct vm_host *h = host_find(vm, node);

	/* "closed" on a connected host is "read it now": the decision's own word for it */
	if (h && h->fsm.state == VM_CONN_CONNECTED)
		host_step(vm, h, VM_EV_CLOSED, NULL);
}
void
vm_host_temperature(struct vm *vm, const char *node, bool has, double c)
{
	struct vm_host *h;

	if (!vm || !(h = host_find(vm, node)))
		return;
	h->has_temp = has;
	h->temp_c = c;
}

bool
vm_host_temp(const struct vm *vm, const char *node, double *ret)
{
	if (!vm)
		return false;
	for (const struct vm_host *h = vm->hosts; h; h = h->next)
		if (strcmp(h->node, node) == 0) {
			if (h->has_temp)
				*ret = h->temp_c;
			return h->has_temp;
		}
	return false;
}
