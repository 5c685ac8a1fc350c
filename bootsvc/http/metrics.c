/* SPDX-License-Identifier: MIT */
/* GET /metrics: Prometheus text exposition format 0.0.4. */
#include <string.h>

#include "dhcp/dnsmasq.h"
#include "controller/energy.h"
#include "iscsi/disks.h"
#include "http/http_internal.h"
#include "strbuf.h"

/* The script latency histogram's bucket bounds in ms: a script is rendered from the store
 * in well under 10 ms on an idle server; a boot storm of thousands of nodes, or a slow
 * store, pushes it toward seconds, and iPXE gives up on a fetch after about a minute. */
static const uint64_t script_bounds_ms[METRICS_SCRIPT_BUCKETS] = {
	1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000,
};

/* The HELP and TYPE lines that open a metric family. */
static void
family(struct strbuf *b, const char *name, const char *type, const char *help)
{
	strbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void
http_metrics_script_observe(struct metrics *m, uint64_t ms)
{
	for (size_t i = 0; i < METRICS_SCRIPT_BUCKETS; i++)
		if (ms <= script_bounds_ms[i])
			metric_add(&m->script_buckets[i], 1); /* cumulative, as Prometheus reads them */
	metric_add(&m->script_count, 1);
	metric_add(&m->script_ms_sum, ms);
}

/* The nodes' power, BMC and failure state, from one walk of the store: a handful of
 * counts, never a series per node, so a scrape of 3,780 nodes stays a few lines. */
struct node_counts {
	int64_t power[3];  /* on, off, unknown */
	int64_t bmc[3];    /* ok, unreachable, unknown (nodes with a BMC only) */
	int64_t failed;    /* phase failed, or the controller gave up booting it */
};

static int
node_count(const struct node_rec *n, void *userdata)
{
	struct node_counts *k = userdata;

	k->power[strcmp(n->power, "on") == 0 ? 0 : strcmp(n->power, "off") == 0 ? 1 : 2]++;
	if (n->bmc[0])
		k->bmc[strcmp(n->bmc_state, "ok") == 0 ? 0 :
		    strcmp(n->bmc_state, "unreachable") == 0 ? 1 : 2]++;
	if (strcmp(n->phase, "failed") == 0 || strcmp(n->op, "failed") == 0)
		k->failed++;
	return 0;
}

static void
node_metrics(struct bootsvc *bs, struct strbuf *b)
{
	static const char *const power[] = { "on", "off", "unknown" };
	static const char *const bmc[] = { "ok", "unreachable", "unknown" };
	struct node_counts k = { 0 };

	(void)store_node_foreach(bs->store, node_count, &k);
	family(b, "diskless_nodes_power", "gauge", "Nodes by power state as their BMC last "
	    "said (unknown: no BMC, or not asked yet).");
	for (size_t i = 0; i < 3; i++)
		strbuf_printf(b, "diskless_nodes_power{state=\"%s\"} %lld\n", power[i],
		    (long long)k.power[i]);
	family(b, "diskless_bmcs", "gauge", "Nodes with a BMC, by whether it answers "
	    "(unknown: not asked yet).");
	for (size_t i = 0; i < 3; i++)
		strbuf_printf(b, "diskless_bmcs{state=\"%s\"} %lld\n", bmc[i], (long long)k.bmc[i]);
	family(b, "diskless_nodes_failed", "gauge", "Nodes whose boot failed (phase failed, "
	    "or the controller gave up).");
	strbuf_printf(b, "diskless_nodes_failed %lld\n", (long long)k.failed);
}

static void
script_histogram(const struct metrics *m, struct strbuf *b)
{
	family(b, "diskless_ipxe_script_duration_seconds", "histogram", "Time to answer an /ipxe "
	    "request, from its arrival to the response sent.");
	for (size_t i = 0; i < METRICS_SCRIPT_BUCKETS; i++)
		strbuf_printf(b, "diskless_ipxe_script_duration_seconds_bucket{le=\"%g\"} %llu\n",
		    (double)script_bounds_ms[i] / 1000, (unsigned long long)m->script_buckets[i]);
	strbuf_printf(b, "diskless_ipxe_script_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
	    (unsigned long long)m->script_count);
	strbuf_printf(b, "diskless_ipxe_script_duration_seconds_sum %.3f\n",
	    (double)m->script_ms_sum / 1000);
	strbuf_printf(b, "diskless_ipxe_script_duration_seconds_count %llu\n",
	    (unsigned long long)m->script_count);
}

static void
phase_count(const char *phase, int64_t count, void *userdata)
{
	strbuf_printf(userdata, "diskless_nodes{phase=\"%s\"} %lld\n", phase, (long long)count);
}

/* Energy per image (issue #7): images are few, nodes may be thousands, so the series are
 * labelled by image and node figures stay with the energy verb. */
static int
energy_image(const struct energy_rec *e, void *userdata)
{
	struct strbuf *b = userdata;

	strbuf_printf(b, "diskless_energy_kwh_total{state=\"on\",image=\"%s\"} %.6f\n", e->name,
	    energy_kwh(e->on_mj));
	strbuf_printf(b, "diskless_energy_kwh_total{state=\"off\",image=\"%s\"} %.6f\n", e->name,
	    energy_kwh(e->off_mj));
	return 0;
}

static int
energy_saved(const struct energy_rec *e, void *userdata)
{
	strbuf_printf(userdata, "diskless_energy_saved_kwh_total{image=\"%s\"} %.6f\n", e->name,
	    energy_kwh(e->saved_mj));
	return 0;
}

/* VM hosts and their domains (issue 12): hosts by connection state, per host its CPUs,
 * memory and VM count (hosts are nodes, a label set bounded as the nodes' is), VMs by
 * state. Each family's lines gather in a buffer of their own, so each is written whole
 * under its HELP and TYPE from one walk of the hosts. */
struct vm_metrics {
	struct bootsvc *bs;
	struct strbuf cpus, mem, vms;
	int64_t hosts[3]; /* connecting, connected, lost */
	struct {
		char state[16];
		int64_t n;
	} states[12];
	size_t n_states;
	unsigned host_vms;
};

static int
vm_count_state(const struct vm_domain_rec *d, void *userdata)
{
	struct vm_metrics *m = userdata;
	size_t i;

	m->host_vms++;
	for (i = 0; i < m->n_states; i++)
		if (strcmp(m->states[i].state, d->state) == 0)
			break;
	if (i == m->n_states) {
		if (i == sizeof(m->states) / sizeof(m->states[0]))
			return 0; /* libvirt has 8 states: more are not exported */
		(void)snprintf(m->states[i].state, sizeof(m->states[i].state), "%s", d->state);
		m->n_states++;
	}
	m->states[i].n++;
	return 0;
}

static int
vm_host_metrics(const struct vm_host_rec *h, void *userdata)
{
	struct vm_metrics *m = userdata;

	m->hosts[strcmp(h->state, "connected") == 0 ? 1 : strcmp(h->state, "lost") == 0 ? 2 :
	    0]++;
	m->host_vms = 0;
	(void)store_vm_domain_foreach(m->bs->store, h->node, vm_count_state, m);
	strbuf_printf(&m->cpus, "diskless_vm_host_cpus{node=\"%s\"} %u\n", h->node, h->cpus);
	strbuf_printf(&m->mem, "diskless_vm_host_memory_mib{node=\"%s\"} %lld\n", h->node,
	    (long long)h->memory_mib);
	strbuf_printf(&m->vms, "diskless_vm_host_vms{node=\"%s\"} %u\n", h->node, m->host_vms);
	return 0;
}

static void
vm_metrics(struct bootsvc *bs, struct strbuf *b)
{
	static const char *const states[] = { "connecting", "connected", "lost" };
	struct vm_metrics m = { .bs = bs };

	(void)store_vm_host_foreach(bs->store, vm_host_metrics, &m);
	family(b, "diskless_vm_hosts", "gauge", "VM hosts by the state of bootsvc's libvirt "
	    "connection.");
	for (size_t i = 0; i < 3; i++)
		strbuf_printf(b, "diskless_vm_hosts{state=\"%s\"} %lld\n", states[i],
		    (long long)m.hosts[i]);
	family(b, "diskless_vm_host_cpus", "gauge", "CPUs of each VM host.");
	strbuf_printf(b, "%s", m.cpus.s ? m.cpus.s : "");
	family(b, "diskless_vm_host_memory_mib", "gauge", "Memory of each VM host.");
	strbuf_printf(b, "%s", m.mem.s ? m.mem.s : "");
	family(b, "diskless_vm_host_vms", "gauge", "Domains libvirt lists on each VM host.");
	strbuf_printf(b, "%s", m.vms.s ? m.vms.s : "");
	family(b, "diskless_vms", "gauge", "Domains on VM hosts by libvirt state.");
	for (size_t i = 0; i < m.n_states; i++)
		strbuf_printf(b, "diskless_vms{state=\"%s\"} %lld\n", m.states[i].state,
		    (long long)m.states[i].n);
	if (m.cpus.oom || m.mem.oom || m.vms.oom)
		b->oom = true;
	strbuf_done(&m.cpus);
	strbuf_done(&m.mem);
	strbuf_done(&m.vms);
}

enum MHD_Result
http_metrics(struct bootsvc *bs, struct MHD_Connection *c, struct req *r)
{
	struct metrics sum = bs->metrics, *m = &sum;
	struct strbuf b = { 0 };
	uint64_t dns_restarts;
	struct http_thread_count per[HTTP_MAX_THREADS];
	unsigned n_threads;
	pid_t dns_pid;
	enum MHD_Result ret;

	http_metrics_readers(bs, &sum);

	family(&b, "diskless_http_requests_total", "counter", "HTTP requests by route.");
	for (int i = 0; i < _ROUTE_MAX; i++)
		strbuf_printf(&b, "diskless_http_requests_total{route=\"%s\"} %llu\n", http_route_name(i),
		    (unsigned long long)m->requests[i]);
	family(&b, "diskless_http_responses_total", "counter", "HTTP responses by status class.");
	for (int i = 1; i <= 5; i++)
		strbuf_printf(&b, "diskless_http_responses_total{code=\"%dxx\"} %llu\n", i,
		    (unsigned long long)m->responses[i]);
	family(&b, "diskless_http_sent_bytes_total", "counter", "Response body bytes queued.");
	strbuf_printf(&b, "diskless_http_sent_bytes_total %llu\n", (unsigned long long)m->bytes_sent);
	/* Which serving thread took them (config: http_threads): the loop is 0. */
	family(&b, "diskless_http_thread_requests_total", "counter", "HTTP requests by the "
	    "serving thread whose connection carried them (0: the loop).");
	n_threads = http_thread_counts(bs, per, HTTP_MAX_THREADS);
	for (unsigned i = 0; i < n_threads; i++)
		strbuf_printf(&b, "diskless_http_thread_requests_total{thread=\"%u\"} %llu\n", i,
		    (unsigned long long)per[i].requests);
	/* What the reader threads could not answer from their views (http_reader.c). */
	family(&b, "diskless_http_thread_handoffs_total", "counter", "Requests a reader thread "
	    "handed to the loop to answer (a node API POST twice: headers, body).");
	for (unsigned i = 1; i < n_threads; i++)
		strbuf_printf(&b, "diskless_http_thread_handoffs_total{thread=\"%u\"} %llu\n", i,
		    (unsigned long long)per[i].handoffs);
	/* Scripts answered without libmicrohttpd (http_direct.c): a storm's first requests. */
	family(&b, "diskless_http_thread_direct_total", "counter", "Boot scripts a serving thread "
	    "answered on connections of its own (a whole plain GET), not libmicrohttpd's.");
	for (unsigned i = 0; i < n_threads; i++)
		strbuf_printf(&b, "diskless_http_thread_direct_total{thread=\"%u\"} %llu\n", i,
		    (unsigned long long)per[i].direct);
	family(&b, "diskless_nodes", "gauge", "Nodes by boot phase.");
	(void)store_node_count_by_phase(bs->store, phase_count, &b);
	family(&b, "diskless_phase_reports_total", "counter", "Phase reports accepted from nodes.");
	strbuf_printf(&b, "diskless_phase_reports_total %llu\n", (unsigned long long)m->phase_reports);
	family(&b, "diskless_api_auth_failures_total", "counter", "Node API calls with a wrong token.");
	strbuf_printf(&b, "diskless_api_auth_failures_total %llu\n", (unsigned long long)m->phase_rejected);
	/* Image versions fetched from peers (sync/sync.h, docs/scale-out.md). */
	family(&b, "diskless_image_sync_bytes_total", "counter", "Image file bytes fetched from peers.");
	strbuf_printf(&b, "diskless_image_sync_bytes_total %llu\n", (unsigned long long)m->sync_bytes);
	family(&b, "diskless_image_sync_versions_total", "counter", "Image versions synced from peers.");
	strbuf_printf(&b, "diskless_image_sync_versions_total %llu\n",
	    (unsigned long long)m->sync_versions);
	family(&b, "diskless_image_sync_failures_total", "counter", "Sync rounds that failed (each retried).");
	strbuf_printf(&b, "diskless_image_sync_failures_total %llu\n",
	    (unsigned long long)m->sync_failures);
	family(&b, "diskless_control_requests_total", "counter", "Control socket requests.");
	strbuf_printf(&b, "diskless_control_requests_total %llu\n",
	    (unsigned long long)m->control_requests);
	family(&b, "diskless_control_errors_total", "counter", "Control socket requests answered "
	    "with an error.");
	strbuf_printf(&b, "diskless_control_errors_total %llu\n", (unsigned long long)m->control_errors);
	family(&b, "diskless_dnsmasq_restarts_total", "counter", "Times dnsmasq was restarted.");
	/* dnsmasq is the privileged parent's: it knows both (dnsmasq.h) */
	dnsmasq_status(bs->dnsmasq, &dns_pid, &dns_restarts);
	strbuf_printf(&b, "diskless_dnsmasq_restarts_total %llu\n", (unsigned long long)dns_restarts);
	family(&b, "diskless_dnsmasq_up", "gauge", "Whether dnsmasq (DHCP, TFTP) runs.");
	strbuf_printf(&b, "diskless_dnsmasq_up %d\n", dns_pid > 0);
	family(&b, "diskless_boot_scripts_total", "counter", "Image boot scripts served: each is "
	    "a node starting to boot.");
	strbuf_printf(&b, "diskless_boot_scripts_total %llu\n",
	    (unsigned long long)m->boot_scripts);
	script_histogram(m, &b);
	node_metrics(bs, &b);
	family(&b, "diskless_store_errors_total", "counter", "Store transactions that failed to "
	    "begin or commit.");
	strbuf_printf(&b, "diskless_store_errors_total %llu\n",
	    (unsigned long long)store_errors(bs->store));
	family(&b, "diskless_store_checkpoints_total", "counter", "Write-ahead log checkpoints "
	    "the store ran off the loop (SQLite; 0 for PostgreSQL).");
	strbuf_printf(&b, "diskless_store_checkpoints_total %llu\n",
	    (unsigned long long)store_wal_checkpoints(bs->store));
	family(&b, "diskless_energy_kwh_total", "counter", "Energy drawn by nodes, by power state and image.");
	(void)store_energy_image_foreach(bs->store, energy_image, &b);
	/* A gauge: a boot costs more than staying on, so saved can go down. */
	family(&b, "diskless_energy_saved_kwh_total", "gauge", "Energy saved versus always-on, by image.");
	(void)store_energy_image_foreach(bs->store, energy_saved, &b);
	vm_metrics(bs, &b);
	disks_metrics(bs->disks, &b); /* issue 14: nothing when iscsi = off */
	if (b.oom) {
		strbuf_done(&b);
		return MHD_NO;
	}
	ret = http_respond(c, r, 200, "text/plain; version=0.0.4", b.s, b.len);
	strbuf_done(&b);
	return ret;
}
