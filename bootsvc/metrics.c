/* SPDX-License-Identifier: MIT */
/* GET /metrics: Prometheus text exposition format 0.0.4. */
#include <stdarg.h>
#include <string.h>

#include "dnsmasq.h"
#include "energy.h"
#include "http_internal.h"

struct mbuf {
	char *s;
	size_t len, cap;
	bool oom;
};

static void _printf_(2, 3)
put(struct mbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = (b->cap + (size_t)n + 1) * 2;
		char *s = realloc(b->s, cap);
		if (!s) {
			b->oom = true;
			return;
		}
		b->s = s;
		b->cap = cap;
	}
}

static void
phase_count(const char *phase, int64_t count, void *userdata)
{
	put(userdata, "diskless_nodes{phase=\"%s\"} %lld\n", phase, (long long)count);
}

/* Energy per image (issue #7): images are few, nodes may be thousands, so the series are
 * labelled by image and node figures stay with the energy verb. */
static int
energy_image(const struct energy_rec *e, void *userdata)
{
	struct mbuf *b = userdata;

	put(b, "diskless_energy_kwh_total{state=\"on\",image=\"%s\"} %.6f\n", e->name,
	    energy_kwh(e->on_mj));
	put(b, "diskless_energy_kwh_total{state=\"off\",image=\"%s\"} %.6f\n", e->name,
	    energy_kwh(e->off_mj));
	return 0;
}

static int
energy_saved(const struct energy_rec *e, void *userdata)
{
	put(userdata, "diskless_energy_saved_kwh_total{image=\"%s\"} %.6f\n", e->name,
	    energy_kwh(e->saved_mj));
	return 0;
}

enum MHD_Result
http_metrics(struct bootsvc *bs, struct MHD_Connection *c, struct req *r)
{
	const struct metrics *m = &bs->metrics;
	struct mbuf b = { 0 };
	enum MHD_Result ret;

	put(&b, "# HELP diskless_http_requests_total HTTP requests by route.\n");
	put(&b, "# TYPE diskless_http_requests_total counter\n");
	for (int i = 0; i < _ROUTE_MAX; i++)
		put(&b, "diskless_http_requests_total{route=\"%s\"} %llu\n", http_route_name(i),
		    (unsigned long long)m->requests[i]);
	put(&b, "# HELP diskless_http_responses_total HTTP responses by status class.\n");
	put(&b, "# TYPE diskless_http_responses_total counter\n");
	for (int i = 1; i <= 5; i++)
		put(&b, "diskless_http_responses_total{code=\"%dxx\"} %llu\n", i,
		    (unsigned long long)m->responses[i]);
	put(&b, "# HELP diskless_http_sent_bytes_total Response body bytes queued.\n");
	put(&b, "# TYPE diskless_http_sent_bytes_total counter\n");
	put(&b, "diskless_http_sent_bytes_total %llu\n", (unsigned long long)m->bytes_sent);
	put(&b, "# HELP diskless_nodes Nodes by boot phase.\n");
	put(&b, "# TYPE diskless_nodes gauge\n");
	(void)store_node_count_by_phase(bs->store, phase_count, &b);
	put(&b, "# HELP diskless_phase_reports_total Phase reports accepted from nodes.\n");
	put(&b, "# TYPE diskless_phase_reports_total counter\n");
	put(&b, "diskless_phase_reports_total %llu\n", (unsigned long long)m->phase_reports);
	put(&b, "# HELP diskless_api_auth_failures_total Node API calls with a wrong token.\n");
	put(&b, "# TYPE diskless_api_auth_failures_total counter\n");
	put(&b, "diskless_api_auth_failures_total %llu\n", (unsigned long long)m->phase_rejected);
	put(&b, "# HELP diskless_control_requests_total Control socket requests.\n");
	put(&b, "# TYPE diskless_control_requests_total counter\n");
	put(&b, "diskless_control_requests_total %llu\n",
	    (unsigned long long)m->control_requests);
	put(&b, "diskless_control_errors_total %llu\n", (unsigned long long)m->control_errors);
	put(&b, "# HELP diskless_dnsmasq_restarts_total Times dnsmasq was restarted.\n");
	put(&b, "# TYPE diskless_dnsmasq_restarts_total counter\n");
	put(&b, "diskless_dnsmasq_restarts_total %llu\n", (unsigned long long)m->dnsmasq_restarts);
	put(&b, "diskless_dnsmasq_up %d\n", dnsmasq_pid(bs->dnsmasq) > 0);
	put(&b, "# HELP diskless_energy_kwh_total Energy drawn by nodes, by power state and image.\n");
	put(&b, "# TYPE diskless_energy_kwh_total counter\n");
	(void)store_energy_image_foreach(bs->store, energy_image, &b);
	put(&b, "# HELP diskless_energy_saved_kwh_total Energy saved versus always-on, by image.\n");
	/* A gauge: a boot costs more than staying on, so saved can go down. */
	put(&b, "# TYPE diskless_energy_saved_kwh_total gauge\n");
	(void)store_energy_image_foreach(bs->store, energy_saved, &b);
	if (b.oom) {
		free(b.s);
		return MHD_NO;
	}
	ret = http_respond(c, r, 200, "text/plain; version=0.0.4", b.s, b.len);
	free(b.s);
	return ret;
}
