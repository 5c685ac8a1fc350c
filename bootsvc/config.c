/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "config.h"
#include "controller/energy.h"
#include "health/rule.h"
#include "hostlist.h"
#include "log.h"
#include "name_table.h"
#include "parse.h"
#include "tls_pki.h"

unsigned
config_http_threads_auto(void)
{
	cpu_set_t set;
	long n = 0;

	/* The CPUs this process may run on (a cpuset or taskset narrows them), else the
	 * online ones. */
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		n = CPU_COUNT(&set);
	if (n < 1)
		n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > HTTP_MAX_THREADS ? HTTP_MAX_THREADS : (unsigned)n;
}

void
config_init(struct config *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->state_dir, "/var/lib/diskless");
	strcpy(c->template_dir, "/usr/share/diskless/ipxe-scripts");
	strcpy(c->web_dir, "/usr/share/diskless/web");
	strcpy(c->control_socket, "/run/diskless/control.sock");
	strcpy(c->user, "diskless");
	strcpy(c->bmc_creds_dir, "/etc/diskless/bmc");
	strcpy(c->tls_ca_dir, TLS_PKI_DEFAULT_DIR); /* where 'nodectl tls init' writes */
	strcpy(c->http_addr, "0.0.0.0");
	c->http_port = 8080;
	c->dhcp_mode = DHCP_MODE_RANGE;
	c->dhcp_lease_s = 3600;
	c->ipv6_ra = true;
	strcpy(c->dnsmasq, "/usr/sbin/dnsmasq");
	strcpy(c->ipxe_dir, "/usr/lib/ipxe");
	strcpy(c->uefi_binary, "snponly.efi");
	c->discover = true;
	c->discover_max = 256;
	c->discover_rate = 10;
	c->hold_poll_ms = 10000;
	/* docs/scale-out.md "The leader": a dead leader's nodes wait up to two leases for
	 * the next one; 10 s is short against a boot's minutes and long against a
	 * PostgreSQL round trip. */
	c->leader_lease_ms = 10000;
	c->max_connections = 4096;
	/* A node uses 1-3 at once (iPXE keeps one alive, the init fetches the rootfs); 64
	 * leaves room for a NAT or a relay in front of a few nodes. */
	c->http_max_per_ip = 64;
	/* auto, as nginx's worker_processes: with a reader thread the steady script row
	 * reaches nginx and storms keep its throughput, where the loop alone answers 0.8x
	 * of its scripts (docs/architecture.md, "More threads"). */
	c->http_threads = config_http_threads_auto();
	/* A connection's send buffer, as nginx's listen sndbuf=: what one transfer may queue
	 * in the kernel (the kernel doubles it for its bookkeeping), so 1,000 nodes fetching
	 * at once hold 0.5 GiB, not the 4 GiB tcp_wmem's autotuning allows, and each pass
	 * of a serving thread sends at most that much per connection before it comes back
	 * to new requests. 512 KiB in flight fills 40 Gbit/s at a 100 us round trip
	 * (docs/bootsvc.conf.md, docs/benchmarks.md). */
	c->http_sndbuf = 256 * 1024;
	/* iPXE sends a whole request in one segment; 10 s is far beyond any honest client
	 * and short enough that a trickling one cannot hold a slot for long. */
	c->http_request_timeout_ms = 10000;
	/* nodectl invocations last seconds; a scheduler reconnects. */
	c->control_idle_timeout_ms = 300000;
	c->log_level = LOG_INFO;
	c->bmc_timeout_ms = 5000;
	strcpy(c->bmc_protocol, "ipmi");
	c->power_on_rate = 10;
	c->ipmi_concurrency = 64;
	c->ipmi_workers = 0; /* as many as ipmi_concurrency */
	c->power_poll_ms = 30000;
	c->timeout_pxe_ms = 180000;
	c->timeout_loading_ms = 120000;
	c->timeout_imaging_ms = 180000;
	c->timeout_up_ms = 600000;
	c->boot_attempts = 3;
	c->retry_backoff_ms = 5000;
	c->failed_retry_ms = 30 * 60000;
	/* A risky VM host's VMs move off while it still works (issue 13); other nodes
	 * have nothing to evacuate. */
	c->on_risky = HA_NOTIFY | HA_EVACUATE;
	c->on_doomed = HA_DRAIN | HA_POWEROFF | HA_NOTIFY | HA_EVACUATE;
	c->health_poll_ms = 60000;
	c->vm_poll_ms = 10000;
	/* Nova's initial_cpu_allocation_ratio; memory is never overcommitted */
	c->vm_cpu_ratio = 4.0;
	c->vm_warm_spares = 1;
	/* a CPU package idle to fully loaded is some 30-40 C */
	c->vm_thermal_c_per_cpu = 30.0;
	c->vm_plan_max_steps = 64;
	c->vm_balance_interval_ms = 60000;
	c->vm_migrations_max = 4;
	c->vm_migrations_per_host = 1;
	c->vm_postcopy = true;
	c->vm_migrate_s_per_gib = 120;
	strcpy(c->tgtd, "/usr/sbin/tgtd");
	strcpy(c->tgtadm, "/usr/sbin/tgtadm");
	strcpy(c->qemu_img, "/usr/bin/qemu-img");
	strcpy(c->qemu_storage_daemon, "/usr/bin/qemu-storage-daemon");
	c->iscsi_port = 3260;
	strcpy(c->iscsi_iqn, "iqn.2026-12.local.diskless");
	c->iscsi_mutual_chap = true;
	c->idle_poweroff_ms = 600000;
	c->watts_on = 250;
	c->watts_off = 8;
	c->watts_booting = 300;
	c->energy_interval_ms = 30000;
	c->energy_flush_ms = 600000;
	c->notify_hook_timeout_ms = 30000;
	c->history_max_per_node = 200;
	c->history_max_age_ms = 30 * 86400000ULL;
}

const struct job_class *
config_class(const struct config *c, const char *name)
{
	for (unsigned i = 0; i < c->n_classes; i++)
		if (strcmp(c->classes[i].name, name) == 0)
			return &c->classes[i];
	return NULL;
}

/* "mpi risky=no": a class name ([a-z0-9_-]) and its options. */
static int
add_class(struct config *c, const char *v, struct dl_err *reterr)
{
	struct job_class jc = { 0 };
	char buf[128], *save = NULL, *tok;
	bool first = true;

	if (strlen(v) >= sizeof(buf))
		return dl_err_set(reterr, -EINVAL, "class '%.64s...' is too long", v);
	strcpy(buf, v);
	for (tok = strtok_r(buf, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		if (first) {
			if (strlen(tok) >= sizeof(jc.name) || strspn(tok,
			    "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(tok))
				return dl_err_set(reterr, -EINVAL,
				    "class name '%s' is not [a-z0-9_-], at most 31 chars", tok);
			strcpy(jc.name, tok);
			first = false;
		} else if (strncmp(tok, "risky=", 6) == 0) {
			int r = parse_bool(tok + 6, &jc.allow_risky, reterr);
			if (r < 0)
				return dl_err_prefix(reterr, "class '%s'", jc.name), r;
		} else
			return dl_err_set(reterr, -EINVAL,
			    "class '%s': unknown option '%s' (expected risky=yes|no)", jc.name, tok);
	}
	if (first)
		return dl_err_set(reterr, -EINVAL, "class needs a name");
	for (unsigned i = 0; i < c->n_classes; i++)
		if (strcmp(c->classes[i].name, jc.name) == 0) {
			c->classes[i] = jc; /* a later line (or --class) redefines it */
			return 0;
		}
	if (c->n_classes == MAX_CLASSES)
		return dl_err_set(reterr, -E2BIG, "more than %d classes", MAX_CLASSES);
	c->classes[c->n_classes++] = jc;
	return 0;
}

static bool
is_name(const char *s, size_t max)
{
	return s[0] && strlen(s) < max &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_.-") == strlen(s);
}

/* "compute=4": keep 4 idle nodes on image compute warm; a later line for the same image
 * redefines it, =0 drops it. */
static int
add_warm(struct config *c, const char *v, struct dl_err *reterr)
{
	const char *eq = strrchr(v, '=');
	struct warm_spare w = { 0 };
	uint64_t n;

	if (!eq || (size_t)(eq - v) >= sizeof(w.image))
		return dl_err_set(reterr, -EINVAL, "warm '%.64s' is not <image>=<count>", v);
	memcpy(w.image, v, (size_t)(eq - v));
	if (!is_name(w.image, sizeof(w.image)))
		return dl_err_set(reterr, -EINVAL, "warm: image name '%s' is not [a-z0-9_.-]",
		    w.image);
	int r = parse_u64(eq + 1, 0, 100000, &n, reterr);
	if (r < 0)
		return dl_err_prefix(reterr, "warm '%s'", w.image), r;
	w.count = (unsigned)n;
	for (unsigned i = 0; i < c->n_warm; i++)
		if (strcmp(c->warm[i].image, w.image) == 0) {
			c->warm[i] = w;
			return 0;
		}
	if (c->n_warm == MAX_CONF_WARM)
		return dl_err_set(reterr, -E2BIG, "more than %d warm lines", MAX_CONF_WARM);
	c->warm[c->n_warm++] = w;
	return 0;
}

/* "rack1:n[01-08]=2": at least 2 of the hostlist n[01-08] stay on. */
static int
add_min_on(struct config *c, const char *v, struct dl_err *reterr)
{
	const char *colon = strchr(v, ':'), *eq = strrchr(v, '=');
	struct min_on_floor f = { 0 };
	struct hostlist hl;
	uint64_t n;

	if (!colon || !eq || eq < colon || colon == v || eq == colon + 1)
		return dl_err_set(reterr, -EINVAL, "min_on '%.64s' is not <group>:<hostlist>=<count>",
		    v);
	if ((size_t)(colon - v) >= sizeof(f.group) || (size_t)(eq - colon - 1) >= sizeof(f.hosts))
		return dl_err_set(reterr, -EINVAL, "min_on '%.64s': group or hostlist too long", v);
	memcpy(f.group, v, (size_t)(colon - v));
	memcpy(f.hosts, colon + 1, (size_t)(eq - colon - 1));
	if (!is_name(f.group, sizeof(f.group)))
		return dl_err_set(reterr, -EINVAL, "min_on: group '%s' is not [a-z0-9_.-]", f.group);
	int r = hostlist_parse(f.hosts, &hl, reterr);
	if (r < 0)
		return dl_err_prefix(reterr, "min_on '%s'", f.group), r;
	hostlist_done(&hl);
	r = parse_u64(eq + 1, 0, 100000, &n, reterr);
	if (r < 0)
		return dl_err_prefix(reterr, "min_on '%s'", f.group), r;
	f.count = (unsigned)n;
	for (unsigned i = 0; i < c->n_min_on; i++)
		if (strcmp(c->min_on[i].group, f.group) == 0) {
			c->min_on[i] = f;
			return 0;
		}
	if (c->n_min_on == MAX_CONF_FLOORS)
		return dl_err_set(reterr, -E2BIG, "more than %d min_on groups", MAX_CONF_FLOORS);
	c->min_on[c->n_min_on++] = f;
	return 0;
}

/* "drain,poweroff,notify,evacuate" or "none". */
static int
set_actions(unsigned *dst, const char *key, const char *v, struct dl_err *reterr)
{
	static const struct { const char *name; unsigned bit; } names[] = {
		{ "drain", HA_DRAIN }, { "poweroff", HA_POWEROFF }, { "notify", HA_NOTIFY },
		{ "evacuate", HA_EVACUATE },
	};
	char buf[128], *save = NULL, *tok;
	unsigned bits = 0;

	if (strcmp(v, "none") == 0) {
		*dst = 0;
		return 0;
	}
	if (strlen(v) >= sizeof(buf))
		return dl_err_set(reterr, -EINVAL, "%s: value too long", key);
	strcpy(buf, v);
	for (tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		bool found = false;
		for (size_t i = 0; i < ELEMENTSOF(names); i++)
			if (strcmp(tok, names[i].name) == 0) {
				bits |= names[i].bit;
				found = true;
			}
		if (!found)
			return dl_err_set(reterr, -EINVAL,
			    "%s: unknown action '%s' (drain, poweroff, notify, evacuate or none)", key,
			    tok);
	}
	*dst = bits;
	return 0;
}

/* A duration key with bounds; the value goes to *dst in ms. */
static int
set_duration(uint64_t *dst, const char *key, const char *v, uint64_t min_ms, uint64_t max_ms,
    struct dl_err *reterr)
{
	uint64_t u;
	int r = parse_duration_ms(v, &u, reterr);

	if (r < 0)
		return dl_err_prefix(reterr, "%s", key), r;
	if (u < min_ms || u > max_ms)
		return dl_err_set(reterr, -EINVAL, "%s '%s' is not between %llu ms and %llu ms", key,
		    v, (unsigned long long)min_ms, (unsigned long long)max_ms);
	*dst = u;
	return 0;
}

static int
set_uint(unsigned *dst, const char *key, const char *v, uint64_t min, uint64_t max,
    struct dl_err *reterr)
{
	uint64_t u;
	int r = parse_u64(v, min, max, &u, reterr);

	if (r < 0)
		return dl_err_prefix(reterr, "%s", key), r;
	*dst = (unsigned)u;
	return 0;
}

static int
set_str(char *dst, size_t size, const char *key, const char *v, struct dl_err *reterr)
{
	if (strlen(v) >= size)
		return dl_err_set(reterr, -EINVAL, "value for '%s' longer than %zu bytes", key,
		    size - 1);
	strcpy(dst, v);
	return 0;
}

static int
set_path(char *dst, size_t size, const char *key, const char *v, struct dl_err *reterr)
{
	if (v[0] != '/')
		return dl_err_set(reterr, -EINVAL, "'%s' for %s is not an absolute path", v, key);
	return set_str(dst, size, key, v, reterr);
}

/* store = <path|sqlite:PATH|postgresql://...>: store_open() judges the target; here only
 * what no target has. The value is never quoted back: a URL may hold a password. */
static int
set_store(struct config *c, const char *key, const char *v, struct dl_err *reterr)
{
	if (strlen(v) >= sizeof(c->store))
		return dl_err_set(reterr, -EINVAL, "value for '%s' longer than %zu bytes", key,
		    sizeof(c->store) - 1);
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return dl_err_set(reterr, -EINVAL, "%s: a control character at offset %zu",
			    key, (size_t)(p - v));
	strcpy(c->store, v);
	return 0;
}

static int
set_ipv4(char *dst, const char *key, const char *v, struct dl_err *reterr)
{
	uint32_t a;
	int r = parse_ipv4(v, &a, reterr);

	if (r < 0)
		return dl_err_prefix(reterr, "%s", key), r;
	return set_str(dst, 16, key, v, reterr);
}

/* "a.b.c.d,e.f.g.h" into two addresses, start <= end. */
static int
set_range(char *start, char *end, const char *key, const char *v, struct dl_err *reterr)
{
	char a[32], b[32];
	const char *comma = strchr(v, ',');
	uint32_t x, y;
	int r;

	if (!comma || (size_t)(comma - v) >= sizeof(a) || strlen(comma + 1) >= sizeof(b))
		return dl_err_set(reterr, -EINVAL, "'%s' for %s is not <start-ip>,<end-ip>", v,
		    key);
	memcpy(a, v, (size_t)(comma - v));
	a[comma - v] = '\0';
	strcpy(b, comma + 1);
	if ((r = parse_ipv4(a, &x, reterr)) < 0 || (r = parse_ipv4(b, &y, reterr)) < 0)
		return dl_err_prefix(reterr, "%s", key), r;
	if (ntohl(x) > ntohl(y))
		return dl_err_set(reterr, -EINVAL, "%s: start '%s' is after end '%s'", key, a, b);
	strcpy(start, a);
	strcpy(end, b);
	return 0;
}

/* A decimal with at most one digit after the point, min..max: "4", "1.5". */
static int
set_tenths(double *dst, const char *key, const char *v, uint64_t min, uint64_t max,
    const char *what, struct dl_err *reterr)
{
	uint64_t whole, tenth = 0;
	char buf[32];
	const char *dot = strchr(v, '.');
	double d;

	if (strlen(v) >= sizeof(buf))
		return dl_err_set(reterr, -EINVAL, "%s '%s' is too long", key, v);
	strcpy(buf, v);
	if (dot)
		buf[dot - v] = '\0';
	/* the range is checked on the value, so its message names the range */
	if (parse_u64(buf, 0, UINT32_MAX, &whole, reterr) < 0 ||
	    (dot && (strlen(dot + 1) != 1 || parse_u64(dot + 1, 0, 9, &tenth, reterr) < 0)))
		return dl_err_set(reterr, -EINVAL, "%s '%s' is not %s", key, v, what);
	d = (double)whole + (double)tenth / 10.0;
	if (d < (double)min || d > (double)max)
		return dl_err_set(reterr, -EINVAL, "%s '%s' is out of range %llu..%llu", key, v,
		    (unsigned long long)min, (unsigned long long)max);
	*dst = d;
	return 0;
}

static int
set_bool(bool *dst, const char *key, const char *v, struct dl_err *reterr)
{
	int r = parse_bool(v, dst, reterr);
	return r < 0 ? (dl_err_prefix(reterr, "%s", key), r) : 0;
}

/* <ipv4>:<port> into addr (16 bytes) and *port. */
static int
set_listen(char addr_out[static 16], uint16_t *port, const char *key, const char *v,
    struct dl_err *reterr)
{
	const char *colon = strrchr(v, ':');
	char addr[32];
	uint64_t u;
	uint32_t a;
	int r;

	if (!colon || (size_t)(colon - v) >= sizeof(addr))
		return dl_err_set(reterr, -EINVAL, "'%s' for %s is not <ipv4>:<port>", v, key);
	memcpy(addr, v, (size_t)(colon - v));
	addr[colon - v] = '\0';
	r = parse_ipv4(addr, &a, reterr);
	if (r < 0)
		return dl_err_prefix(reterr, "%s", key), r;
	r = parse_u64(colon + 1, 1, 65535, &u, reterr);
	if (r < 0)
		return dl_err_prefix(reterr, "%s port", key), r;
	strcpy(addr_out, addr);
	*port = (uint16_t)u;
	return 0;
}

/* An http:// base URL as nodes' scripts use it (boot_url, each of peers): nothing a
 * script or a URL would read as syntax, no trailing slash (templates append paths). */
static int
set_http_url(char *dst, size_t size, const char *key, const char *v, struct dl_err *reterr)
{
	int r;

	/* A --key=value override is argv, not a config line: a newline there would start a
	 * line of its own in the start script (dhcp/start_script.c). Checked first: the
	 * message below quotes the value. */
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return dl_err_set(reterr, -EINVAL,
			    "%s: a control character at byte %zu is not part of a URL", key,
			    (size_t)(p - v));
	if (strncmp(v, "http://", 7) != 0 || strlen(v) < 8 || strpbrk(v, " \t\"'\\{}<>$;,#?"))
		return dl_err_set(reterr, -EINVAL, "'%s' for %s is not an http:// URL", v, key);
	r = set_str(dst, size, key, v, reterr);
	if (r == 0 && dst[strlen(dst) - 1] == '/')
		dst[strlen(dst) - 1] = '\0';
	return r;
}

/* peers = <url>[, <url>...]: the whole list, replacing any before ("" = none); a list
 * with one bad URL changes nothing. */
static int
set_peers(struct config *c, const char *key, const char *v, struct dl_err *reterr)
{
	char one[sizeof(c->peers[0]) + 1];
	char peers[MAX_PEERS][sizeof(c->peers[0])] = { { 0 } };
	unsigned n = 0;
	int r;

	while (*v) {
		size_t len;

		v += strspn(v, " \t");
		len = strcspn(v, ",");
		while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
			len--;
		if (len >= sizeof(one))
			return dl_err_set(reterr, -EINVAL, "%s: '%.*s...' longer than %zu bytes",
			    key, 32, v, sizeof(c->peers[0]) - 1);
		if (len) {
			if (n == MAX_PEERS)
				return dl_err_set(reterr, -EINVAL, "%s: more than %d peers", key,
				    MAX_PEERS);
			memcpy(one, v, len);
			one[len] = '\0';
			r = set_http_url(peers[n], sizeof(peers[n]), key, one, reterr);
			if (r < 0)
				return r;
			n++;
		}
		v += strcspn(v, ",");
		if (*v == ',')
			v++;
	}
	memcpy(c->peers, peers, sizeof(c->peers));
	c->n_peers = n;
	return 0;
}

static int set_iscsi(struct config *c, const char *key, const char *v,
    struct dl_err *reterr);

int
config_set(struct config *c, const char *key, const char *v, struct dl_err *reterr)
{
	uint64_t u;
	int r;

	if (streq(key, "state_dir"))
		return set_path(c->state_dir, sizeof(c->state_dir), key, v, reterr);
	if (streq(key, "store"))
		return set_store(c, key, v, reterr);
	if (streq(key, "template_dir"))
		return set_path(c->template_dir, sizeof(c->template_dir), key, v, reterr);
	if (streq(key, "control_socket"))
		return set_path(c->control_socket, sizeof(c->control_socket), key, v, reterr);
	if (streq(key, "user"))
		return set_str(c->user, sizeof(c->user), key, v, reterr);
	if (streq(key, "vm_poll"))
		return set_duration(&c->vm_poll_ms, key, v, 1000, 3600000, reterr);
	/* The VM layer's policy (issue 13, docs/vm.md "Policy"). */
	if (streq(key, "vm_cpu_ratio"))
		return set_tenths(&c->vm_cpu_ratio, key, v, 1, 64,
		    "a number of vCPUs per guest CPU (e.g. 4 or 1.5)", reterr);
	if (streq(key, "vm_warm_spares"))
		return set_uint(&c->vm_warm_spares, key, v, 0, 4096, reterr);
	if (streq(key, "vm_thermal_hot"))
		return set_tenths(&c->vm_thermal_hot, key, v, 0, 150, "degrees C (0: off)",
		    reterr);
	if (streq(key, "vm_thermal_cool"))
		return set_tenths(&c->vm_thermal_cool, key, v, 0, 150, "degrees C", reterr);
	if (streq(key, "vm_thermal_c_per_cpu"))
		return set_tenths(&c->vm_thermal_c_per_cpu, key, v, 0, 100,
		    "degrees C per fully loaded guest CPU", reterr);
	if (streq(key, "vm_plan_max_steps"))
		return set_uint(&c->vm_plan_max_steps, key, v, 1, 4096 /* MAX_VM_PLAN_STEPS */,
		    reterr);
	if (streq(key, "vm_balance_interval"))
		return set_duration(&c->vm_balance_interval_ms, key, v, 0, 86400000, reterr);
	if (streq(key, "vm_consolidate"))
		return set_bool(&c->vm_consolidate, key, v, reterr);
	/* Each running migration holds a libvirt pool thread (action.c sizes the pool by
	 * it): 64 bounds the threads; a host link carries one or two well, never 16. */
	if (streq(key, "vm_migrations_max"))
		return set_uint(&c->vm_migrations_max, key, v, 1, 64, reterr);
	if (streq(key, "vm_migrations_per_host"))
		return set_uint(&c->vm_migrations_per_host, key, v, 1, 16, reterr);
	if (streq(key, "vm_postcopy"))
		return set_bool(&c->vm_postcopy, key, v, reterr);
	if (streq(key, "vm_migrate_s_per_gib"))
		return set_uint(&c->vm_migrate_s_per_gib, key, v, 1, 86400, reterr);
	if (streq(key, "bmc_creds_dir"))
		return set_path(c->bmc_creds_dir, sizeof(c->bmc_creds_dir), key, v, reterr);
	if (streq(key, "tls_ca_dir"))
		return set_path(c->tls_ca_dir, sizeof(c->tls_ca_dir), key, v, reterr);
	if (streq(key, "libvirt_pki_dir"))
		return set_path(c->libvirt_pki_dir, sizeof(c->libvirt_pki_dir), key, v, reterr);
	if (streq(key, "control_group"))
		return set_str(c->control_group, sizeof(c->control_group), key, v, reterr);
	if (streq(key, "http_listen"))
		return set_listen(c->http_addr, &c->http_port, key, v, reterr);
	if (streq(key, "control_tcp"))
		return set_listen(c->control_tcp_addr, &c->control_tcp_port, key, v, reterr);
	if (streq(key, "control_tls_cert"))
		return set_path(c->control_tls_cert, sizeof(c->control_tls_cert), key, v, reterr);
	if (streq(key, "control_tls_key"))
		return set_path(c->control_tls_key, sizeof(c->control_tls_key), key, v, reterr);
	if (streq(key, "control_tls_ca"))
		return set_path(c->control_tls_ca, sizeof(c->control_tls_ca), key, v, reterr);
	if (streq(key, "admin_listen"))
		return set_listen(c->admin_addr, &c->admin_port, key, v, reterr);
	if (streq(key, "admin_cert"))
		return set_path(c->admin_cert, sizeof(c->admin_cert), key, v, reterr);
	if (streq(key, "admin_key"))
		return set_path(c->admin_key, sizeof(c->admin_key), key, v, reterr);
	if (streq(key, "admin_ca"))
		return set_path(c->admin_ca, sizeof(c->admin_ca), key, v, reterr);
	if (streq(key, "admin_passwords"))
		return set_path(c->admin_passwords, sizeof(c->admin_passwords), key, v, reterr);
	if (streq(key, "web_dir"))
		return set_path(c->web_dir, sizeof(c->web_dir), key, v, reterr);
	if (streq(key, "boot_url"))
		return set_http_url(c->boot_url, sizeof(c->boot_url), key, v, reterr);
	if (streq(key, "peers"))
		return set_peers(c, key, v, reterr);
	if (streq(key, "server_name")) {
		for (const char *p = v; *p; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_'))
				return dl_err_set(reterr, -EINVAL, "%s '%.64s': only letters, "
				    "digits, '-', '.' and '_'", key, v);
		return set_str(c->server_name, sizeof(c->server_name), key, v, reterr);
	}
	/* At least 3 s: the lease is checked every third of it with a statement timeout
	 * below that, and a round trip to PostgreSQL must fit; at most 10 min, past which a
	 * dead leader's nodes would wait longer than any boot timeout. */
	if (streq(key, "leader_lease"))
		return set_duration(&c->leader_lease_ms, key, v, 3000, 600000, reterr);
	if (streq(key, "interface")) {
		if (strlen(v) >= IFNAMSIZ || strpbrk(v, " /,:"))
			return dl_err_set(reterr, -EINVAL, "'%s' is not an interface name", v);
		return set_str(c->interface, sizeof(c->interface), key, v, reterr);
	}
	if (streq(key, "dhcp_mode")) {
		if (streq(v, "range"))
			c->dhcp_mode = DHCP_MODE_RANGE;
		else if (streq(v, "proxy"))
			c->dhcp_mode = DHCP_MODE_PROXY;
		else if (streq(v, "off"))
			c->dhcp_mode = DHCP_MODE_OFF;
		else
			return dl_err_set(reterr, -EINVAL,
			    "'%s' for dhcp_mode is not one of range, proxy, off", v);
		return 0;
	}
	if (streq(key, "dhcp_range"))
		return set_range(c->dhcp_range_start, c->dhcp_range_end, key, v, reterr);
	if (streq(key, "node_ip_range"))
		return set_range(c->node_ip_start, c->node_ip_end, key, v, reterr);
	if (streq(key, "proxy_subnet"))
		return set_ipv4(c->proxy_subnet, key, v, reterr);
	if (streq(key, "dhcp_lease")) {
		r = parse_duration_ms(v, &u, reterr);
		if (r < 0)
			return dl_err_prefix(reterr, "%s", key), r;
		if (u < 120000)
			return dl_err_set(reterr, -EINVAL, "%s '%s' is under dnsmasq's 2 minutes",
			    key, v);
		c->dhcp_lease_s = u / 1000;
		return 0;
	}
	if (streq(key, "ipv6_ra"))
		return set_bool(&c->ipv6_ra, key, v, reterr);
	if (streq(key, "discover"))
		return set_bool(&c->discover, key, v, reterr);
	if (streq(key, "discover_max"))
		return set_uint(&c->discover_max, key, v, 1, 100000, reterr);
	if (streq(key, "discover_rate"))
		return set_uint(&c->discover_rate, key, v, 1, 6000, reterr);
	if (streq(key, "dnsmasq"))
		return set_path(c->dnsmasq, sizeof(c->dnsmasq), key, v, reterr);
	r = set_iscsi(c, key, v, reterr);
	if (r != -ENOENT)
		return r;
	if (streq(key, "ipxe_dir"))
		return set_path(c->ipxe_dir, sizeof(c->ipxe_dir), key, v, reterr);
	if (streq(key, "uefi_binary")) {
		if (!streq(v, "snponly.efi") && !streq(v, "ipxe.efi"))
			return dl_err_set(reterr, -EINVAL,
			    "'%s' for uefi_binary is not snponly.efi or ipxe.efi", v);
		return set_str(c->uefi_binary, sizeof(c->uefi_binary), key, v, reterr);
	}
	if (streq(key, "hold_poll")) {
		r = parse_duration_ms(v, &u, reterr);
		if (r < 0)
			return dl_err_prefix(reterr, "%s", key), r;
		if (u < 1000 || u > 3600000)
			return dl_err_set(reterr, -EINVAL, "%s '%s' is not between 1s and 1h", key,
			    v);
		c->hold_poll_ms = u;
		return 0;
	}
	if (streq(key, "max_connections")) {
		r = parse_u64(v, 16, 1000000, &u, reterr);
		if (r < 0)
			return dl_err_prefix(reterr, "%s", key), r;
		c->max_connections = (unsigned)u;
		return 0;
	}
	if (streq(key, "http_max_per_ip")) {
		r = parse_u64(v, 1, 1000000, &u, reterr);
		if (r < 0)
			return dl_err_prefix(reterr, "%s", key), r;
		c->http_max_per_ip = (unsigned)u;
		return 0;
	}
	if (streq(key, "http_threads")) {
		if (streq(v, "auto")) {
			c->http_threads = config_http_threads_auto();
			return 0;
		}
		r = parse_u64(v, 1, HTTP_MAX_THREADS, &u, reterr);
		if (r < 0)
			return dl_err_prefix(reterr, "%s", key), r;
		c->http_threads = (unsigned)u;
		return 0;
	}
	if (streq(key, "http_sndbuf")) {
		r = parse_size(v, &u, reterr);
		if (r < 0)
			return dl_err_prefix(reterr, "%s", key), r;
		if (u && (u < HTTP_SNDBUF_MIN || u > HTTP_SNDBUF_MAX))
			return dl_err_set(reterr, -EINVAL, "http_sndbuf '%s' is neither 0 (the "
			    "kernel's) nor between 16k and 64m", v);
		c->http_sndbuf = u;
		return 0;
	}
	if (streq(key, "http_request_timeout"))
		return set_duration(&c->http_request_timeout_ms, key, v, 1000, 600000, reterr);
	if (streq(key, "control_idle_timeout"))
		return set_duration(&c->control_idle_timeout_ms, key, v, 1000, 86400000, reterr);
	if (streq(key, "log_level")) {
		r = log_level_from_string(v);
		if (r < 0)
			return dl_err_set(reterr, -EINVAL,
			    "'%s' for log_level is not debug, info, notice, warning or err", v);
		c->log_level = r;
		return 0;
	}
	if (streq(key, "class"))
		return add_class(c, v, reterr);
	if (streq(key, "health_rule")) {
		struct health_rule hr;
		r = health_rule_parse(v, &hr, reterr);
		if (r < 0)
			return r; /* the parser names the rule and the word */
		if (strlen(v) >= MAX_RULE_TEXT)
			return dl_err_set(reterr, -EINVAL, "health_rule longer than %d chars",
			    MAX_RULE_TEXT - 1);
		if (c->n_health_rules == MAX_CONF_HEALTH_RULES)
			return dl_err_set(reterr, -E2BIG, "more than %d health rules",
			    MAX_CONF_HEALTH_RULES);
		strcpy(c->health_rules[c->n_health_rules++], v);
		return 0;
	}
	if (streq(key, "on_risky"))
		return set_actions(&c->on_risky, key, v, reterr);
	if (streq(key, "on_doomed"))
		return set_actions(&c->on_doomed, key, v, reterr);
	if (streq(key, "notify_hook"))
		return set_path(c->notify_hook, sizeof(c->notify_hook), key, v, reterr);
	if (streq(key, "notify_hook_timeout"))
		return set_duration(&c->notify_hook_timeout_ms, key, v, 100, 3600000, reterr);
	if (streq(key, "site_overlay"))
		return set_path(c->site_overlay, sizeof(c->site_overlay), key, v, reterr);
	if (streq(key, "health_poll")) {
		if (streq(v, "off")) {
			c->health_poll_ms = 0;
			return 0;
		}
		return set_duration(&c->health_poll_ms, key, v, 1000, 86400000, reterr);
	}
	if (streq(key, "failed_retry")) {
		if (streq(v, "off")) {
			c->failed_retry_ms = 0;
			return 0;
		}
		return set_duration(&c->failed_retry_ms, key, v, 1000, 30 * 86400000ULL, reterr);
	}
	if (streq(key, "idle_poweroff")) {
		if (streq(v, "off")) {
			c->idle_poweroff_ms = 0;
			return 0;
		}
		return set_duration(&c->idle_poweroff_ms, key, v, 1000, 30 * 86400000ULL, reterr);
	}
	if (streq(key, "warm"))
		return add_warm(c, v, reterr);
	if (streq(key, "min_on"))
		return add_min_on(c, v, reterr);
	if (streq(key, "watts_on"))
		return set_uint(&c->watts_on, key, v, 1, 100000, reterr);
	if (streq(key, "watts_off"))
		return set_uint(&c->watts_off, key, v, 0, 100000, reterr);
	if (streq(key, "watts_booting"))
		return set_uint(&c->watts_booting, key, v, 1, 100000, reterr);
	if (streq(key, "history_max_per_node"))
		return set_uint(&c->history_max_per_node, key, v, 0, 1000000, reterr);
	if (streq(key, "history_max_age")) {
		if (streq(v, "off")) {
			c->history_max_age_ms = 0;
			return 0;
		}
		return set_duration(&c->history_max_age_ms, key, v, 60000, 3650 * 86400000ULL,
		    reterr);
	}
	if (streq(key, "energy_flush"))
		return set_duration(&c->energy_flush_ms, key, v, 1000, MAX_ENERGY_GAP_MS, reterr);
	if (streq(key, "energy_interval"))
		return set_duration(&c->energy_interval_ms, key, v, 1000, 3600000, reterr);
	if (streq(key, "bmc_timeout"))
		return set_duration(&c->bmc_timeout_ms, key, v, 100, 120000, reterr);
	if (streq(key, "bmc_protocol")) {
		if (!streq(v, "ipmi") && !streq(v, "redfish") && !streq(v, "auto"))
			return dl_err_set(reterr, -EINVAL,
			    "'%s' for bmc_protocol is not ipmi, redfish or auto", v);
		return set_str(c->bmc_protocol, sizeof(c->bmc_protocol), key, v, reterr);
	}
	if (streq(key, "redfish_tofu"))
		return set_bool(&c->redfish_tofu, key, v, reterr);
	if (streq(key, "redfish_ca_file"))
		return set_path(c->redfish_ca_file, sizeof(c->redfish_ca_file), key, v, reterr);
	if (streq(key, "power_on_rate"))
		/* per second: "0.5" is one power-on every 2 s */
		return set_tenths(&c->power_on_rate, key, v, 0, 100000,
		    "a number of power-ons per second (e.g. 10 or 0.5)", reterr);
	if (streq(key, "ipmi_concurrency"))
		return set_uint(&c->ipmi_concurrency, key, v, 1, 4096, reterr);
	if (streq(key, "ipmi_workers"))
		return set_uint(&c->ipmi_workers, key, v, 0, 256, reterr);
	if (streq(key, "power_poll"))
		return set_duration(&c->power_poll_ms, key, v, 1000, 86400000, reterr);
	if (streq(key, "timeout_pxe"))
		return set_duration(&c->timeout_pxe_ms, key, v, 1000, 86400000, reterr);
	if (streq(key, "timeout_loading"))
		return set_duration(&c->timeout_loading_ms, key, v, 1000, 86400000, reterr);
	if (streq(key, "timeout_imaging"))
		return set_duration(&c->timeout_imaging_ms, key, v, 1000, 86400000, reterr);
	if (streq(key, "timeout_up"))
		return set_duration(&c->timeout_up_ms, key, v, 1000, 86400000, reterr);
	if (streq(key, "boot_attempts"))
		return set_uint(&c->boot_attempts, key, v, 1, 100, reterr);
	if (streq(key, "retry_backoff"))
		return set_duration(&c->retry_backoff_ms, key, v, 0, 3600000, reterr);
	return dl_err_set(reterr, -EINVAL, "unknown key '%.64s'", key);
}

static int
config_item(const char *key, const char *value, void *userdata, struct dl_err *reterr)
{
	return config_set(userdata, key, value, reterr);
}

int
config_parse_buffer(struct config *c, const char *name, const char *buf, size_t len,
    struct dl_err *reterr)
{
	return conf_parse_buffer(name, buf, len, config_item, c, reterr);
}

int
config_parse_file(struct config *c, const char *path, struct dl_err *reterr)
{
	return conf_parse_file(path, config_item, c, reterr);
}

static const char *const disk_clone_names[_DISK_CLONE_MAX] = {
	[DISK_CLONE_AUTO] = "auto",
	[DISK_CLONE_REFLINK] = "reflink",
	[DISK_CLONE_QCOW2] = "qcow2",
	[DISK_CLONE_COPY] = "copy",
};

const char *
disk_clone_to_string(enum disk_clone m)
{
	return NAME_OF(disk_clone_names, m, NULL);
}

enum disk_clone
disk_clone_from_string(const char *s)
{
	for (int i = 0; s && i < _DISK_CLONE_MAX; i++)
		if (streq(disk_clone_names[i], s))
			return (enum disk_clone)i;
	return _DISK_CLONE_INVALID;
}

/* "iqn.YYYY-MM.reversed.domain" (RFC 3720 3.2.6.3.1), lower case as RFC 3722's
 * stringprep would make it; the ":<node>" each target adds comes later. */
static bool
iqn_prefix_is_valid(const char *v)
{
	size_t n = strlen(v);

	if (n < 13 || n >= MAX_ISCSI_IQN_PREFIX || strncmp(v, "iqn.", 4) != 0)
		return false;
	for (int i = 4; i < 11; i++)
		if (i == 8 ? v[i] != '-' : (v[i] < '0' || v[i] > '9'))
			return false;
	if (v[11] != '.' || !((v[9] == '0' && v[10] >= '1') || (v[9] == '1' && v[10] <= '2')))
		return false;
	return strspn(v + 12, "abcdefghijklmnopqrstuvwxyz0123456789.-") == n - 12 &&
	    v[12] != '.' && v[12] != '-' && v[n - 1] != '.' && v[n - 1] != '-';
}

/* The iSCSI keys (issue 14); -ENOENT for a key that is not one of them. */
static int
set_iscsi(struct config *c, const char *key, const char *v, struct dl_err *reterr)
{
	if (streq(key, "iscsi"))
		return set_bool(&c->iscsi, key, v, reterr);
	if (streq(key, "tgtd"))
		return set_path(c->tgtd, sizeof(c->tgtd), key, v, reterr);
	if (streq(key, "tgtadm"))
		return set_path(c->tgtadm, sizeof(c->tgtadm), key, v, reterr);
	if (streq(key, "qemu_img"))
		return set_path(c->qemu_img, sizeof(c->qemu_img), key, v, reterr);
	if (streq(key, "qemu_storage_daemon"))
		return set_path(c->qemu_storage_daemon, sizeof(c->qemu_storage_daemon), key, v,
		    reterr);
	if (streq(key, "iscsi_portal"))
		return set_ipv4(c->iscsi_portal, key, v, reterr);
	if (streq(key, "iscsi_port")) {
		unsigned u;
		int r = set_uint(&u, key, v, 1, 65535, reterr);
		if (r == 0)
			c->iscsi_port = (uint16_t)u;
		return r;
	}
	if (streq(key, "iscsi_iqn")) {
		if (!iqn_prefix_is_valid(v))
			return dl_err_set(reterr, -EINVAL, "'%s' for iscsi_iqn is not "
			    "iqn.YYYY-MM.reversed.domain in lower case (RFC 3720), e.g. "
			    "iqn.2026-12.org.example.cluster", v);
		return set_str(c->iscsi_iqn, sizeof(c->iscsi_iqn), key, v, reterr);
	}
	if (streq(key, "disk_dir"))
		return set_path(c->disk_dir, sizeof(c->disk_dir), key, v, reterr);
	if (streq(key, "disk_clone")) {
		enum disk_clone m = disk_clone_from_string(v);
		if (m < 0)
			return dl_err_set(reterr, -EINVAL,
			    "'%s' for disk_clone is not auto, reflink, qcow2 or copy", v);
		c->disk_clone = m;
		return 0;
	}
	if (streq(key, "iscsi_mutual_chap"))
		return set_bool(&c->iscsi_mutual_chap, key, v, reterr);
	return -ENOENT;
}

int
config_resolve(struct config *c, struct dl_err *reterr)
{
	if (!c->disk_dir[0] &&
	    (size_t)snprintf(c->disk_dir, sizeof(c->disk_dir), "%s/disks", c->state_dir) >=
	    sizeof(c->disk_dir)) {
		c->disk_dir[0] = '\0';
		return dl_err_set(reterr, -ENAMETOOLONG, "disk_dir: state_dir '%.64s...' "
		    "is too long to hold it; set disk_dir", c->state_dir);
	}
	if (!c->libvirt_pki_dir[0] &&
	    (size_t)snprintf(c->libvirt_pki_dir, sizeof(c->libvirt_pki_dir), "%s/libvirt-pki",
	    c->state_dir) >= sizeof(c->libvirt_pki_dir)) {
		c->libvirt_pki_dir[0] = '\0';
		return dl_err_set(reterr, -ENAMETOOLONG, "libvirt_pki_dir: state_dir '%.64s...' "
		    "is too long to hold it; set libvirt_pki_dir", c->state_dir);
	}
	/* tgtd's portal is where nodes already reach us: boot_url's host. */
	if (c->iscsi && !c->iscsi_portal[0] && strncmp(c->boot_url, "http://", 7) == 0) {
		const char *h = c->boot_url + 7;
		size_t n = strcspn(h, ":/");
		uint32_t a;
		char host[16];

		if (n < sizeof(host)) {
			memcpy(host, h, n);
			host[n] = '\0';
			if (parse_ipv4(host, &a, NULL) == 0)
				strcpy(c->iscsi_portal, host);
		}
	}
	/* An instance is named by its host unless the site says otherwise. */
	if (!c->server_name[0]) {
		char host[256] = "";

		if (gethostname(host, sizeof(host) - 1) < 0 || !host[0])
			strcpy(host, "bootsvc");
		(void)snprintf(c->server_name, sizeof(c->server_name), "%.63s", host);
	}
	/* A host cools by 10 C before it receives again, unless the site says otherwise. */
	if (c->vm_thermal_hot > 0 && c->vm_thermal_cool == 0)
		c->vm_thermal_cool = c->vm_thermal_hot > 10 ? c->vm_thermal_hot - 10 : 0;
	return 0;
}

bool
config_clustered(const struct config *c)
{
	return strncmp(c->store, "postgresql://", 13) == 0 || strncmp(c->store, "postgres://", 11) == 0;
}

int
config_validate(const struct config *c, struct dl_err *reterr)
{
	if (c->dhcp_mode != DHCP_MODE_OFF) {
		if (!c->interface[0])
			return dl_err_set(reterr, -EINVAL,
			    "dhcp_mode is on but no interface is named (dnsmasq never guesses)");
		if (!c->boot_url[0])
			return dl_err_set(reterr, -EINVAL,
			    "dhcp_mode is on but boot_url (how nodes reach bootsvc) is not set");
	}
	if (c->dhcp_mode == DHCP_MODE_RANGE && !c->dhcp_range_start[0])
		return dl_err_set(reterr, -EINVAL, "dhcp_mode=range needs dhcp_range");
	if (c->dhcp_mode == DHCP_MODE_PROXY && !c->proxy_subnet[0])
		return dl_err_set(reterr, -EINVAL, "dhcp_mode=proxy needs proxy_subnet");
	if (c->dhcp_mode == DHCP_MODE_RANGE && !c->node_ip_start[0])
		return dl_err_set(reterr, -EINVAL,
		    "dhcp_mode=range needs node_ip_range (fixed addresses of known nodes)");
	if (c->vm_thermal_hot > 0 && c->vm_thermal_cool >= c->vm_thermal_hot)
		return dl_err_set(reterr, -EINVAL, "vm_thermal_cool (%.1f C) must be below "
		    "vm_thermal_hot (%.1f C): the gap is what keeps VMs from moving back",
		    c->vm_thermal_cool, c->vm_thermal_hot);
	if (c->iscsi && !c->iscsi_portal[0])
		return dl_err_set(reterr, -EINVAL, "iscsi is on but iscsi_portal is not set and "
		    "boot_url's host is not an IPv4 address: set iscsi_portal to the boot network "
		    "address tgtd listens on");
	/* There is no plain-TCP mode: remote control is mutual TLS or nothing. */
	if (c->control_tcp_addr[0] && (!c->control_tls_cert[0] || !c->control_tls_key[0] ||
	    !c->control_tls_ca[0]))
		return dl_err_set(reterr, -EINVAL,
		    "control_tcp needs control_tls_cert, control_tls_key and control_tls_ca "
		    "(there is no plain-TCP control)");
	/* The web view is HTTPS only, and someone must be able to log in. */
	if (c->admin_addr[0] && (!c->admin_cert[0] || !c->admin_key[0]))
		return dl_err_set(reterr, -EINVAL, "admin_listen needs admin_cert and admin_key "
		    "(the web view is HTTPS only)");
	if (c->admin_addr[0] && !c->admin_passwords[0] && !c->admin_ca[0] &&
	    !c->control_tls_ca[0])
		return dl_err_set(reterr, -EINVAL, "admin_listen needs admin_passwords or a "
		    "client CA (admin_ca or control_tls_ca): nobody could log in");
	return 0;
}
