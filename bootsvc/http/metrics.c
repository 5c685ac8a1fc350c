/* SPDX-License-Identifier: MIT */
/* GET /metrics: Prometheus text exposition format 0.0.4. */
#include <string.h>

#include "dhcp/dnsmasq.h"
#include "controller/energy.h"
#include "http/http_internal.h"
#include "strbuf.h"

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

enum MHD_Result
http_metrics(struct bootsvc *bs, struct MHD_Connection *c, struct req *r)
{
	const struct metrics *m = &bs->metrics;
	struct strbuf b = { 0 };
	uint64_t dns_restarts;
	pid_t dns_pid;
	enum MHD_Result ret;

	strbuf_printf(&b, "# HELP diskless_http_requests_total HTTP requests by route.\n");
	strbuf_printf(&b, "# TYPE diskless_http_requests_total counter\n");
	for (int i = 0; i < _ROUTE_MAX; i++)
		strbuf_printf(&b, "diskless_http_requests_total{route=\"%s\"} %llu\n", http_route_name(i),
		    (unsigned long long)m->requests[i]);
	strbuf_printf(&b, "# HELP diskless_http_responses_total HTTP responses by status class.\n");
	strbuf_printf(&b, "# TYPE diskless_http_responses_total counter\n");
	for (int i = 1; i <= 5; i++)
		strbuf_printf(&b, "diskless_http_responses_total{code=\"%dxx\"} %llu\n", i,
		    (unsigned long long)m->responses[i]);
	strbuf_printf(&b, "# HELP diskless_http_sent_bytes_total Response body bytes queued.\n");
	strbuf_printf(&b, "# TYPE diskless_http_sent_bytes_total counter\n");
	strbuf_printf(&b, "diskless_http_sent_bytes_total %llu\n", (unsigned long long)m->bytes_sent);
	strbuf_printf(&b, "# HELP diskless_nodes Nodes by boot phase.\n");
	strbuf_printf(&b, "# TYPE diskless_nodes gauge\n");
	(void)store_node_count_by_phase(bs->store, phase_count, &b);
	strbuf_printf(&b, "# HELP diskless_phase_reports_total Phase reports accepted from nodes.\n");
	strbuf_printf(&b, "# TYPE diskless_phase_reports_total counter\n");
	strbuf_printf(&b, "diskless_phase_reports_total %llu\n", (unsigned long long)m->phase_reports);
	strbuf_printf(&b, "# HELP diskless_api_auth_failures_total Node API calls with a wrong token.\n");
	strbuf_printf(&b, "# TYPE diskless_api_auth_failures_total counter\n");
	strbuf_printf(&b, "diskless_api_auth_failures_total %llu\n", (unsigned long long)m->phase_rejected);
	strbuf_printf(&b, "# HELP diskless_control_requests_total Control socket requests.\n");
	strbuf_printf(&b, "# TYPE diskless_control_requests_total counter\n");
	strbuf_printf(&b, "diskless_control_requests_total %llu\n",
	    (unsigned long long)m->control_requests);
	strbuf_printf(&b, "diskless_control_errors_total %llu\n", (unsigned long long)m->control_errors);
	strbuf_printf(&b, "# HELP diskless_dnsmasq_restarts_total Times dnsmasq was restarted.\n");
	strbuf_printf(&b, "# TYPE diskless_dnsmasq_restarts_total counter\n");
	/* dnsmasq is the privileged parent's: it knows both (dnsmasq.h) */
	dnsmasq_status(bs->dnsmasq, &dns_pid, &dns_restarts);
	strbuf_printf(&b, "diskless_dnsmasq_restarts_total %llu\n", (unsigned long long)dns_restarts);
	strbuf_printf(&b, "diskless_dnsmasq_up %d\n", dns_pid > 0);
	strbuf_printf(&b, "# HELP diskless_energy_kwh_total Energy drawn by nodes, by power state and image.\n");
	strbuf_printf(&b, "# TYPE diskless_energy_kwh_total counter\n");
	(void)store_energy_image_foreach(bs->store, energy_image, &b);
	strbuf_printf(&b, "# HELP diskless_energy_saved_kwh_total Energy saved versus always-on, by image.\n");
	/* A gauge: a boot costs more than staying on, so saved can go down. */
	strbuf_printf(&b, "# TYPE diskless_energy_saved_kwh_total gauge\n");
	(void)store_energy_image_foreach(bs->store, energy_saved, &b);
	if (b.oom) {
		strbuf_done(&b);
		return MHD_NO;
	}
	ret = http_respond(c, r, 200, "text/plain; version=0.0.4", b.s, b.len);
	strbuf_done(&b);
	return ret;
}
