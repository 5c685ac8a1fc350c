/* SPDX-License-Identifier: MIT */
/* The node-facing HTTP routes end to end (http_ipxe.c, api_node.c, http_images.c): a real
 * bootsvc HTTP server (MHD on the test's loop, a real SQLite store, the shipped
 * ipxe-scripts/) on 127.0.0.1, driven by a tiny HTTP/1.0 client on a thread of its own.
 * The whole 127/8 is local, so the client picks its source address: 127.0.0.1 is the
 * nodes' registered address, 127.0.0.2 an attacker's on the same boot network.
 *
 * Issue #11: a script request moves a node only from its own address or in a boot the
 * controller ordered; a node's credential is handed out once, to its own address, while it
 * is armed; the overlay and phase reports take only the current credential. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../bootsvc/bootsvc.h"
#include "../../bootsvc/boot/overlay.h"
#include "../../bootsvc/boot/boot_records.h"
#include "../../bootsvc/boot/nodes.h"
#include "../../bootsvc/control/control.h"
#include "../../bootsvc/http/http.h"
#include "../../bootsvc/http/http_internal.h"
#include "../../bootsvc/http/http_srv.h"
#include "../../bootsvc/iscsi/disks.h"
#include "../../bootsvc/loop.h"
#include "log.h"
#include "loop_wait.h"
#include "store_dir.h"

#define OWN "127.0.0.1"
#define ATTACKER "127.0.0.2"
#define MAC1 "52:54:00:11:00:01"
#define MAC2 "52:54:00:11:00:02"
#define MAC3 "52:54:00:11:00:03"
/* A response we read: scripts, a credential, a tiny overlay, a 3-byte image file. */
#define MAX_RESPONSE (256 * 1024)

struct fixture {
	struct store_dir sd;
	struct bootsvc bs;
	uint16_t port;
	char image_id[SHA256_HEX_SIZE];
};

struct exchange {
	/* in */
	struct fixture *f;
	const char *src, *method, *path, *headers, *body;
	/* instead of method..body: these bytes as they are, then raw2 after pause_ms (both
	 * NULL with raw_only: a connection that sends nothing) */
	const char *raw, *raw2;
	int pause_ms;
	bool raw_only;
	/* out */
	int status;
	char *resp;    /* whole response, NUL-terminated */
	size_t len;
	const char *payload;
	size_t payload_len;
	atomic_bool done;
};

/* A connection to the server on port from the loopback address src (a node's own, OWN,
 * or another), or -1. */
static int
connect_from(const char *src, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET }, da = { .sin_family = AF_INET,
		.sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	(void)inet_pton(AF_INET, src, &sa.sin_addr);
	(void)inet_pton(AF_INET, "127.0.0.1", &da.sin_addr);
	if (fd >= 0 && (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    connect(fd, (struct sockaddr *)&da, sizeof(da)) < 0)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static void *
client(void *arg)
{
	struct exchange *x = arg;
	char req[2048];
	int fd, n;

	x->resp = calloc(1, MAX_RESPONSE + 1);
	if (!x->resp || (fd = connect_from(x->src, x->f->port)) < 0)
		goto out;
	n = snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\nHost: x\r\n%s%s%s\r\n%s", x->method,
	    x->path, x->headers ? x->headers : "", x->body ? "Content-Type: application/json\r\n" :
	    "", "", x->body ? x->body : "");
	if (x->body) {
		/* Content-Length goes in the head: rebuild with it */
		n = snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\nHost: x\r\n%sContent-Type: "
		    "application/json\r\nContent-Length: %zu\r\n\r\n%s", x->method, x->path,
		    x->headers ? x->headers : "", strlen(x->body), x->body);
	}
	if (x->raw || x->raw_only) {
		n = x->raw ? (int)strlen(x->raw) : 0;
		if (write(fd, x->raw ? x->raw : "", (size_t)n) != n)
			goto out_close;
		if (x->raw2) {
			(void)usleep((useconds_t)x->pause_ms * 1000);
			n = (int)strlen(x->raw2);
			if (write(fd, x->raw2, (size_t)n) != n)
				goto out_close;
		}
	} else if (n < 0 || (size_t)n >= sizeof(req) || write(fd, req, (size_t)n) != n)
		goto out_close;
	for (;;) {
		ssize_t got = read(fd, x->resp + x->len, MAX_RESPONSE - x->len);
		if (got <= 0)
			break;
		x->len += (size_t)got;
	}
	if (sscanf(x->resp, "HTTP/1.%*d %d", &x->status) != 1)
		x->status = -1;
	x->payload = strstr(x->resp, "\r\n\r\n");
	if (x->payload) {
		x->payload += 4;
		x->payload_len = x->len - (size_t)(x->payload - x->resp);
	}
out_close:
	close(fd);
out:
	atomic_store(&x->done, true);
	return NULL;
}

static bool
exchange_done(void *arg)
{
	return atomic_load(&((struct exchange *)arg)->done);
}

/* No connection open on the loop's server: none leaked by the direct path. (A reader
 * thread's count is its own thread's; with http_threads = 1 every connection is here.) */
static bool
conns_none(void *arg)
{
	const struct fixture *f = arg;

	return f->bs.http->main.n_conns == 0;
}

static bool
records_idle(void *arg)
{
	return http_records_idle(arg);
}

/* One request from src; the loop serves it while the client thread waits, and then
 * writes the boot record a reader thread's answer left it (boot/boot_records.h), so the
 * test reads the store as the node's next request would find it. */
static void
exchange_run(struct exchange *x)
{
	pthread_t t;

	assert_int_equal(pthread_create(&t, NULL, client, x), 0);
	assert_true(loop_wait(x->f->bs.loop, exchange_done, NULL, x, 10000));
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_true(loop_wait(x->f->bs.loop, records_idle, NULL, &x->f->bs, 10000));
}

static int
http_get_at(const char *file, int line, struct fixture *f, const char *src, const char *path,
    const char *headers, struct exchange *ret)
{
	struct exchange x = { .f = f, .src = src, .method = "GET", .path = path,
		.headers = headers };

	exchange_run(&x);
	_assert_true(x.status > 0, "an HTTP answer", file, line);
	if (ret)
		*ret = x;
	else
		free(x.resp);
	return x.status;
}
#define http_get(...) http_get_at(__FILE__, __LINE__, __VA_ARGS__)

static int
http_post(struct fixture *f, const char *src, const char *path, const char *headers,
    const char *body)
{
	struct exchange x = { .f = f, .src = src, .method = "POST", .path = path,
		.headers = headers, .body = body };

	exchange_run(&x);
	free(x.resp);
	return x.status;
}

static uint16_t
free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	(void)inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static void
write_file(const char *dir, const char *name, const char *data)
{
	char p[512];
	FILE *fp;

	(void)snprintf(p, sizeof(p), "%s/%s", dir, name);
	fp = fopen(p, "we");
	assert_non_null(fp);
	assert_int_equal(fputs(data, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

/* Image "tiny": three files with a made-up id (the routes never hash them). */
static void
add_image(struct fixture *f)
{
	struct image_rec img = { 0 };
	struct dl_err e = { 0 };

	char tdir[MAX_STORE_PATH + 32];

	memset(f->image_id, '7', SHA256_HEX_SIZE - 1);
	f->image_id[SHA256_HEX_SIZE - 1] = '\0';
	strcpy(img.id, f->image_id);
	strcpy(img.name, "tiny");
	strcpy(img.kind, "linux");
	(void)snprintf(img.path, sizeof(img.path), "%s/img", f->sd.dir);
	assert_int_equal(mkdir(img.path, 0755), 0);
	write_file(img.path, "vmlinuz", "KERNEL");
	write_file(img.path, "initrd", "INITRD");
	write_file(img.path, "rootfs.squashfs", "ROOTFS");
	write_file(img.path, "manifest.json", "{}");
	(void)snprintf(tdir, sizeof(tdir), "%s/templates", img.path);
	assert_int_equal(mkdir(tdir, 0755), 0);
	write_file(tdir, "motd", "MOTD");
	assert_int_equal(symlink("../manifest.json", strcat(tdir, "/link")), 0);
	strcpy(img.kernel_version, "6.1.0");
	strcpy(img.built, "2026-12-04T00:00:00Z");
	strcpy(img.cmdline, "console=ttyS0");
	assert_int_equal(image_rec_file_set(&img, "kernel",
	    "1111111111111111111111111111111111111111111111111111111111111111", 6), 0);
	assert_int_equal(image_rec_file_set(&img, "initrd",
	    "2222222222222222222222222222222222222222222222222222222222222222", 6), 0);
	assert_int_equal(image_rec_file_set(&img, "rootfs",
	    "3333333333333333333333333333333333333333333333333333333333333333", 6), 0);
	img.added = 1;
	if (store_image_insert(f->bs.store, &img, &e) < 0)
		fail_msg("image insert: %s", e.msg);
}

/* A node of image tiny; managed (BMC, wants on) when managed is set. */
static void
add_node(struct fixture *f, const char *name, const char *mac, const char *ip,
    const char *phase, bool managed)
{
	struct node_rec n = { 0 };
	struct dl_err e = { 0 };

	(void)snprintf(n.name, sizeof(n.name), "%s", name);
	(void)snprintf(n.mac, sizeof(n.mac), "%s", mac);
	(void)snprintf(n.ip, sizeof(n.ip), "%s", ip);
	strcpy(n.image, "tiny");
	assert_int_equal(nodes_token_new(n.token), 0);
	(void)snprintf(n.phase, sizeof(n.phase), "%s", phase);
	n.phase_at = n.created = 1000;
	if (managed) {
		strcpy(n.bmc, "10.9.9.9");
		strcpy(n.bmc_creds, "/nonexistent");
		strcpy(n.want_power, "on");
		strcpy(n.power, "on");
	}
	if (store_node_insert(f->bs.store, &n, &e) < 0)
		fail_msg("node insert: %s", e.msg);
}

static struct node_rec
get_node(struct fixture *f, const char *name)
{
	struct node_rec n;

	assert_int_equal(store_node_get(f->bs.store, name, &n), 0);
	return n;
}

struct ev_find {
	const char *node, *what, *reason;
	int n;
};

static int
ev_one(const struct event_rec *e, void *userdata)
{
	struct ev_find *q = userdata;

	if (strcmp(e->node, q->node) == 0 && strcmp(e->what, q->what) == 0 &&
	    (!q->reason || strstr(e->reason, q->reason)))
		q->n++;
	return 0;
}

/* How many events of node with what (and reason containing reason, if given). */
static int
events(struct fixture *f, const char *node, const char *what, const char *reason)
{
	struct ev_find q = { .node = node, .what = what, .reason = reason };

	assert_int_equal(store_events_since(f->bs.store, 0, 10000, ev_one, &q), 0);
	return q.n;
}

/* threads: the server's http_threads (1: the loop alone; 2: a reader thread beside it,
 * started, so each connection lands on either and every test's requests take both the
 * reader's own path and its hand-off to the loop). */
static int
setup_threads(void **state, unsigned threads)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct dl_err e = { 0 };
	char url[64];

	if (!f || store_dir_open(&f->sd) < 0 || loop_new(&f->bs.loop) < 0)
		return -1;
	f->bs.store = f->sd.s;
	config_init(&f->bs.cfg);
	log_set_level(LOG_ERR);
	f->port = free_port();
	strcpy(f->bs.cfg.http_addr, "127.0.0.1");
	f->bs.cfg.http_port = f->port;
	f->bs.cfg.discover = false;
	f->bs.cfg.max_connections = 64;
	f->bs.cfg.http_threads = threads;
	/* dnsmasq's evidence of PXE boots (dnsmasq.c: pxe-seen/<mac>) is looked for here */
	(void)snprintf(f->bs.cfg.state_dir, sizeof(f->bs.cfg.state_dir), "%s", f->sd.dir);
	(void)snprintf(url, sizeof(url), "http://127.0.0.1:%u", f->port);
	if (config_set(&f->bs.cfg, "boot_url", url, &e) < 0 ||
	    templates_load(&f->bs.tmpl, "ipxe-scripts", &e) < 0) {
		print_error("setup: %s\n", e.msg);
		return -1;
	}
	add_image(f);
	if (http_start(&f->bs, &f->bs.http, &e) < 0 ||
	    http_serve(f->bs.http, &e) < 0) {
		print_error("http_start: %s\n", e.msg);
		return -1;
	}
	*state = f;
	return 0;
}

static int
setup(void **state)
{
	return setup_threads(state, 1);
}

static int
setup_reader(void **state)
{
	return setup_threads(state, 2);
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	f->bs.http = http_stop(f->bs.http);
	tmpl_bound_cache_done(&f->bs.tmpl_bound);
	templates_done(&f->bs.tmpl);
	overlay_hosts_done(&f->bs.hosts);
	f->bs.loop = loop_free(f->bs.loop);
	store_dir_remove(&f->sd);
	free(f);
	return 0;
}

/* A GET of an up node's script from another address: 403, an event naming the address,
 * and nothing moves (the controller would have power-cycled it). */
static void
test_script_other_address(void **state)
{
	struct fixture *f = *state;
	struct node_rec before, after;

	add_node(f, "n1", MAC1, OWN, "up", true);
	before = get_node(f, "n1");
	assert_int_equal(http_get(f, ATTACKER, "/ipxe/boot?mac=" MAC1, NULL, NULL), 403);
	after = get_node(f, "n1");
	assert_string_equal(after.phase, "up");
	assert_string_equal(after.op, "");
	assert_false(after.armed);
	assert_string_equal(after.token, before.token);
	assert_int_equal(events(f, "n1", "script-refused", "from " ATTACKER), 1);
	/* a flood is recorded in a burst of 10, then at a rate (http_observe.c): the history
	 * stays bounded */
	for (int i = 0; i < 14; i++)
		assert_int_equal(http_get(f, ATTACKER, "/ipxe/boot?mac=" MAC1, NULL, NULL), 403);
	assert_int_equal(events(f, "n1", "script-refused", "from " ATTACKER), 10);
	assert_string_equal(get_node(f, "n1").phase, "up");
	/* the failed node too: no move to pxe */
	add_node(f, "n3", MAC3, "127.0.0.3", "failed", true);
	assert_int_equal(http_get(f, ATTACKER, "/ipxe/boot?mac=" MAC3, NULL, NULL), 403);
	assert_string_equal(get_node(f, "n3").phase, "failed");
}

/* A node without a fixed address, not armed, not in a controller boot: its script
 * request is an observation (hold script, event), never a boot. */
static void
test_script_no_address_observed(void **state)
{
	struct fixture *f = *state;
	struct exchange x;

	add_node(f, "n2", MAC2, "", "up", true);
	assert_int_equal(http_get(f, ATTACKER, "/ipxe/boot?mac=" MAC2, NULL, &x), 200);
	assert_non_null(strstr(x.payload, "not armed"));
	assert_null(strstr(x.payload, "credential"));
	free(x.resp);
	assert_string_equal(get_node(f, "n2").phase, "up");
	assert_string_equal(get_node(f, "n2").op, "");
	assert_false(get_node(f, "n2").armed);
	assert_int_equal(events(f, "n2", "script-observed", "from " ATTACKER), 1);

	/* an admin arms it: the next script request boots it, through the controller's
	 * watch (self-boot), not a power cycle */
	{
		struct node_rec n = get_node(f, "n2");
		assert_int_equal(nodes_arm(&f->bs, &n, "admin", "test"), 0);
	}
	assert_int_equal(http_get(f, ATTACKER, "/ipxe/boot?mac=" MAC2, NULL, &x), 200);
	assert_non_null(strstr(x.payload, "initrd --name credential"));
	free(x.resp);
	assert_string_equal(get_node(f, "n2").phase, "pxe");
	assert_string_equal(get_node(f, "n2").op, "self-boot");
}

/* The node reboots itself (its script from its own address while up): armed with a fresh
 * token, phase pxe, the self-boot op; the script carries no secret. */
/* What dnsmasq's dhcp-script leaves after a PXE DHCP exchange from mac, at unix time at. */
static void
pxe_seen(struct fixture *f, const char *mac, time_t at)
{
	char path[256];
	struct timeval tv[2] = { { .tv_sec = at }, { .tv_sec = at } };
	FILE *fp;

	(void)snprintf(path, sizeof(path), "%s/dnsmasq", f->sd.dir);
	(void)mkdir(path, 0755);
	(void)snprintf(path, sizeof(path), "%s/dnsmasq/pxe-seen", f->sd.dir);
	(void)mkdir(path, 0755);
	(void)snprintf(path, sizeof(path), "%s/dnsmasq/pxe-seen/%s", f->sd.dir, mac);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fclose(fp);
	assert_int_equal(utimes(path, tv), 0);
}

/* An up node's script asked for from its own address with no PXE DHCP exchange since it
 * came up: a user on the running node, not a reboot. Nothing armed, nothing moved. */
static void
test_up_node_asked_by_its_user(void **state)
{
	struct fixture *f = *state;
	struct node_rec before, n;
	struct exchange x;

	add_node(f, "n1", MAC1, OWN, "up", true);
	before = get_node(f, "n1");
	/* no evidence at all, then one from before it came up (phase_at 1000) */
	for (int i = 0; i < 2; i++) {
		if (i == 1)
			pxe_seen(f, MAC1, 500);
		assert_int_equal(http_get(f, OWN, "/ipxe/boot?mac=" MAC1, NULL, &x), 200);
		assert_null(strstr(x.payload, "credential"));
		free(x.resp);
		n = get_node(f, "n1");
		assert_string_equal(n.phase, "up");
		assert_string_equal(n.op, "");
		assert_false(n.armed);
		assert_string_equal(n.token, before.token);
		assert_int_equal(http_get(f, OWN, "/api/v1/nodes/n1/credential", NULL, NULL), 403);
	}
	assert_int_equal(events(f, "n1", "script-observed", "not a reboot"), 2);
}

static void
test_self_reboot_and_credential_once(void **state)
{
	struct fixture *f = *state;
	struct node_rec before, n;
	struct exchange x;
	char want[128], bearer[160], other[160];

	add_node(f, "n1", MAC1, OWN, "up", true);
	before = get_node(f, "n1");
	pxe_seen(f, MAC1, time(NULL)); /* it PXE-booted after it came up: a real reboot */
	assert_int_equal(http_get(f, OWN, "/ipxe/boot?mac=" MAC1, NULL, &x), 200);
	n = get_node(f, "n1");
	assert_non_null(strstr(x.payload, "initrd --name credential http://127.0.0.1:"));
	assert_non_null(strstr(x.payload, "/api/v1/nodes/n1/credential"));
	assert_null(strstr(x.payload, "dl.token"));
	assert_null(strstr(x.payload, n.token));
	assert_null(strstr(x.payload, before.token));
	free(x.resp);
	assert_string_equal(n.phase, "pxe");
	assert_string_equal(n.op, "self-boot");
	assert_true(n.armed);
	assert_string_equal(n.armed_by, "self");
	assert_string_not_equal(n.token, before.token);
	assert_int_equal(events(f, "n1", "self-boot", "from " OWN), 1);
	/* iPXE asking again before it took the credential: same token */
	assert_int_equal(http_get(f, OWN, "/ipxe/boot?mac=" MAC1, NULL, NULL), 200);
	assert_string_equal(get_node(f, "n1").token, n.token);

	/* the attacker asks for the credential, by name: refused, evented, still armed */
	assert_int_equal(http_get(f, ATTACKER, "/api/v1/nodes/n1/credential", NULL, NULL), 403);
	assert_true(get_node(f, "n1").armed);
	assert_int_equal(events(f, "n1", "cred-refused", "from " ATTACKER), 1);
	assert_int_equal(http_post(f, OWN, "/api/v1/nodes/n1/credential", NULL, "{}"), 405);

	/* the node takes it: a cpio with token=<current> in dl-credential */
	assert_int_equal(http_get(f, OWN, "/api/v1/nodes/n1/credential", NULL, &x), 200);
	(void)snprintf(want, sizeof(want), "token=%s\n", n.token);
	assert_non_null(x.payload);
	assert_true(x.payload_len > 110);
	/* gzip (stored block: the bytes as they are) around the newc cpio */
	assert_memory_equal(x.payload, "\x1f\x8b\x08", 3);
	assert_memory_equal(x.payload + 15, "070701", 6);
	assert_non_null(memmem(x.payload, x.payload_len, "dl-credential", 13));
	assert_non_null(memmem(x.payload, x.payload_len, want, strlen(want)));
	assert_non_null(strstr(x.resp, "application/gzip"));
	free(x.resp);
	assert_false(get_node(f, "n1").armed);
	assert_int_equal(events(f, "n1", "credential", "handed out to " OWN), 1);

	/* a replay, even from the node's address: refused and evented */
	assert_int_equal(http_get(f, OWN, "/api/v1/nodes/n1/credential", NULL, NULL), 403);
	assert_int_equal(events(f, "n1", "cred-refused", "not armed"), 1);

	/* the overlay: the current credential from the node's address only */
	(void)snprintf(bearer, sizeof(bearer), "Authorization: Bearer %s\r\n", n.token);
	(void)snprintf(other, sizeof(other), "Authorization: Bearer %s\r\n", before.token);
	assert_int_equal(http_get(f, OWN, "/api/v1/nodes/n1/overlay", NULL, NULL), 401);
	assert_int_equal(http_get(f, ATTACKER, "/api/v1/nodes/n1/overlay", NULL, NULL), 401);
	assert_int_equal(http_get(f, OWN, "/api/v1/nodes/n1/overlay", other, NULL), 403);
	assert_int_equal(http_get(f, ATTACKER, "/api/v1/nodes/n1/overlay", bearer, NULL), 403);
	assert_int_equal(events(f, "n1", "api-refused", "from " ATTACKER), 1);
	assert_int_equal(http_get(f, OWN, "/api/v1/nodes/n1/overlay", bearer, &x), 200);
	assert_non_null(memmem(x.payload, x.payload_len, "etc/diskless/node.conf", 22));
	free(x.resp);

	/* phase reports likewise */
	assert_int_equal(http_post(f, ATTACKER, "/api/v1/nodes/n1/phase", bearer,
	    "{\"phase\":\"loading\"}"), 403);
	assert_string_equal(get_node(f, "n1").phase, "pxe");
	assert_int_equal(http_post(f, OWN, "/api/v1/nodes/n1/phase", other,
	    "{\"phase\":\"loading\"}"), 403);
	assert_int_equal(http_post(f, OWN, "/api/v1/nodes/n1/phase", bearer,
	    "{\"phase\":\"loading\"}"), 204);
	assert_string_equal(get_node(f, "n1").phase, "loading");
}

/* A boot the controller ordered (op booting; ctrl_power.c armed the node): the script
 * moves the phase even for a node without a fixed address; its credential once. */
static void
test_controller_boot(void **state)
{
	struct fixture *f = *state;
	struct node_rec n;

	add_node(f, "n2", MAC2, "", "powering-on", true);
	n = get_node(f, "n2");
	strcpy(n.op, "booting");
	n.op_at_ms = 5000;
	n.attempts = 1;
	assert_int_equal(store_node_update_ctrl(f->bs.store, &n), 0);
	assert_int_equal(nodes_arm(&f->bs, &n, "controller", "test"), 0);
	assert_int_equal(http_get(f, OWN, "/ipxe/boot?mac=" MAC2, NULL, NULL), 200);
	n = get_node(f, "n2");
	assert_string_equal(n.phase, "pxe");
	assert_string_equal(n.op, "booting"); /* the controller's op, untouched */
	assert_true(n.armed);
	assert_int_equal(http_get(f, OWN, "/api/v1/nodes/n2/credential", NULL, NULL), 200);
	assert_int_equal(http_get(f, OWN, "/api/v1/nodes/n2/credential", NULL, NULL), 403);
	/* asking for the script again re-arms nothing: no address to trust */
	assert_int_equal(http_get(f, ATTACKER, "/ipxe/boot?mac=" MAC2, NULL, NULL), 200);
	assert_false(get_node(f, "n2").armed);
	assert_int_equal(http_get(f, ATTACKER, "/api/v1/nodes/n2/credential", NULL, NULL), 403);

	/* unknown names and MACs */
	assert_int_equal(http_get(f, OWN, "/api/v1/nodes/zz/credential", NULL, NULL), 404);
	assert_int_equal(http_get(f, OWN, "/ipxe/boot?mac=52:54:00:99:99:99", NULL, NULL), 404);
	assert_int_equal(http_get(f, OWN, "/ipxe/boot?mac=zz", NULL, NULL), 400);
}

/* http_images.c: files by content id and role, Range, ETag; never by name. */
static void
test_images(void **state)
{
	struct fixture *f = *state;
	struct exchange x;
	char path[160], hdr[128];

	(void)snprintf(path, sizeof(path), "/images/%s/kernel", f->image_id);
	assert_int_equal(http_get(f, ATTACKER, path, NULL, &x), 200);
	assert_int_equal(x.payload_len, 6);
	assert_memory_equal(x.payload, "KERNEL", 6);
	free(x.resp);
	assert_int_equal(http_get(f, OWN, path, "Range: bytes=2-3\r\n", &x), 206);
	assert_int_equal(x.payload_len, 2);
	assert_memory_equal(x.payload, "RN", 2);
	free(x.resp);
	assert_int_equal(http_get(f, OWN, path, "Range: bytes=10-\r\n", NULL), 416);
	(void)snprintf(hdr, sizeof(hdr), "If-None-Match: \"%s\"\r\n",
	    "1111111111111111111111111111111111111111111111111111111111111111");
	assert_int_equal(http_get(f, OWN, path, hdr, NULL), 304);
	(void)snprintf(path, sizeof(path), "/images/%s/rootfs", f->image_id);
	assert_int_equal(http_get(f, OWN, path, NULL, NULL), 200);
	/* What a peer's sync asks for (sync/sync_fetch.c): the manifest as stored, a template
	 * beneath templates/ and never through a link out of it. */
	(void)snprintf(path, sizeof(path), "/images/%s/manifest", f->image_id);
	assert_int_equal(http_get(f, OWN, path, NULL, &x), 200);
	assert_int_equal(x.payload_len, 2);
	assert_memory_equal(x.payload, "{}", 2);
	free(x.resp);
	(void)snprintf(path, sizeof(path), "/images/%s/templates/motd", f->image_id);
	assert_int_equal(http_get(f, OWN, path, NULL, &x), 200);
	assert_memory_equal(x.payload, "MOTD", 4);
	free(x.resp);
	(void)snprintf(path, sizeof(path), "/images/%s/templates/link", f->image_id);
	assert_int_equal(http_get(f, OWN, path, NULL, NULL), 404);
	(void)snprintf(path, sizeof(path), "/images/%s/templates/nosuch", f->image_id);
	assert_int_equal(http_get(f, OWN, path, NULL, NULL), 404);
	(void)snprintf(path, sizeof(path), "/images/%s/templates/../manifest.json", f->image_id);
	assert_int_equal(http_get(f, OWN, path, NULL, NULL), 404);
	assert_int_equal(http_get(f, OWN, "/images/tiny/kernel", NULL, NULL), 404);
	assert_int_equal(http_get(f, OWN, "/images/"
	    "8888888888888888888888888888888888888888888888888888888888888888/kernel", NULL, NULL),
	    404);
	assert_int_equal(http_post(f, OWN, "/images/x/kernel", NULL, "{}"), 405);
}

/* A registered version whose files are not here (another server added it to a shared
 * store, or its sync is under way): its files are 404, never partial, and its node's
 * script is the hold script rather than one whose files would 404 (sync/sync.h). */
static void
test_version_not_here(void **state)
{
	struct fixture *f = *state;
	char path[160], kernel[MAX_STORE_PATH + 64], moved[MAX_STORE_PATH + 64];
	struct exchange x;

	(void)snprintf(kernel, sizeof(kernel), "%s/img/vmlinuz", f->sd.dir);
	(void)snprintf(moved, sizeof(moved), "%s/vmlinuz.away", f->sd.dir);
	assert_int_equal(rename(kernel, moved), 0);
	add_node(f, "n1", MAC1, OWN, "up", false);
	assert_int_equal(http_get(f, OWN, "/ipxe/boot?mac=" MAC1, NULL, &x), 200);
	assert_non_null(strstr(x.payload, "is not on this server"));
	assert_null(strstr(x.payload, f->image_id));
	free(x.resp);
	assert_string_equal(get_node(f, "n1").served_image, "");
	(void)snprintf(path, sizeof(path), "/images/%s/rootfs", f->image_id);
	assert_int_equal(http_get(f, OWN, path, NULL, NULL), 404);
	(void)snprintf(path, sizeof(path), "/images/%s/manifest", f->image_id);
	assert_int_equal(http_get(f, OWN, path, NULL, NULL), 404);
	/* a file of the wrong size is not the version's either (a copy cut short) */
	write_file(f->sd.dir, "img/vmlinuz", "KERN");
	(void)snprintf(path, sizeof(path), "/images/%s/kernel", f->image_id);
	assert_int_equal(http_get(f, OWN, path, NULL, NULL), 404);
	/* whole again: served */
	assert_int_equal(rename(moved, kernel), 0);
	assert_int_equal(http_get(f, OWN, path, NULL, NULL), 200);
	assert_int_equal(http_get(f, OWN, "/ipxe/boot?mac=" MAC1, NULL, &x), 200);
	assert_null(strstr(x.payload, "is not on this server"));
	free(x.resp);
}

/* A VM host's up report (issue 12, docs/vm.md): a kvm node is up only with good facts,
 * and is then a VM host whose URI is the one bootsvc builds; bad or missing facts fail
 * it naming the field; facts from a linux node, or with another phase, are a 400. */
#define UP_RECEIPT "\"receipt\":{\"kernel\":\"1111111111111111111111111111111111111111111111111111111111111111\"," \
	"\"initrd\":\"2222222222222222222222222222222222222222222222222222222222222222\"," \
	"\"rootfs\":\"3333333333333333333333333333333333333333333333333333333333333333\"}"
#define FACTS(uri, cpus) "\"facts\":{\"hypervisor\":\"QEMU\",\"hypervisor_version\":\"7.2.0\"," \
	"\"libvirt_version\":\"9.0.0\",\"uri\":\"" uri "\",\"cpus\":" cpus ",\"memory_mib\":2048," \
	"\"numa_nodes\":1,\"guest_cpus\":1,\"guest_memory_mib\":1500}"
static void
test_vm_host_up_facts(void **state)
{
	struct fixture *f = *state;
	struct image_rec img;
	struct vm_host_rec h;
	struct node_rec n;
	struct dl_err e = { 0 };
	char bearer[128];
	static const struct {
		const char *body;
		int status;
		const char *phase, *reason; /* reason: a part of it */
	} reports[] = {
		{ "{\"phase\":\"up\"," UP_RECEIPT "}", 204, "failed", "facts missing" },
		{ "{\"phase\":\"up\"," UP_RECEIPT "," FACTS("qemu+tls://127.0.0.5/system", "0") "}",
		  204, "failed", "facts: 'cpus' must be an integer 1..8192" },
		{ "{\"phase\":\"up\"," UP_RECEIPT "," FACTS("qemu+tls://10.1.1.1/system", "2") "}",
		  204, "failed", "facts: 'uri' must be 'qemu+tls://127.0.0.5/system'" },
		{ "{\"phase\":\"imaging\"," FACTS("qemu+tls://127.0.0.5/system", "2") "}", 400,
		  "failed", NULL },
		{ "{\"phase\":\"up\"," UP_RECEIPT "," FACTS("qemu+tls://127.0.0.5/system", "2") "}",
		  204, "up", "" },
	};

	/* the same files as tiny, of kind kvm */
	assert_int_equal(store_image_get(f->bs.store, f->image_id, &img), 0);
	memset(img.id, '8', SHA256_HEX_SIZE - 1);
	strcpy(img.name, "kvmhost");
	strcpy(img.kind, "kvm");
	if (store_image_insert(f->bs.store, &img, &e) < 0)
		fail_msg("image insert: %s", e.msg);
	add_node(f, "hv1", "52:54:00:12:00:01", "127.0.0.5", "imaging", false);
	n = get_node(f, "hv1");
	strcpy(n.served_image, img.id);
	assert_int_equal(store_node_update(f->bs.store, &n), 0);
	(void)snprintf(bearer, sizeof(bearer), "Authorization: Bearer %s\r\n", n.token);
	for (size_t i = 0; i < ELEMENTSOF(reports); i++) {
		int st = http_post(f, "127.0.0.5", "/api/v1/nodes/hv1/phase", bearer,
		    reports[i].body);

		if (st != reports[i].status)
			fail_msg("report %zu: HTTP %d, want %d", i, st, reports[i].status);
		n = get_node(f, "hv1");
		if (strcmp(n.phase, reports[i].phase) != 0 ||
		    (reports[i].reason && !strstr(n.reason, reports[i].reason)))
			fail_msg("report %zu: phase %s reason '%s', want %s '%s'", i, n.phase,
			    n.reason, reports[i].phase, reports[i].reason);
		/* a VM host only once up with good facts */
		assert_int_equal(store_vm_host_get(f->bs.store, "hv1", &h),
		    strcmp(n.phase, "up") == 0 ? 0 : -ENOENT);
	}
	assert_string_equal(h.uri, "qemu+tls://127.0.0.5/system");
	assert_string_equal(h.state, "connecting");
	assert_int_equal(h.cpus, 2);
	assert_int_equal(h.guest_memory_mib, 1500);

	/* a linux node's up with facts: refused, nothing recorded */
	add_node(f, "l1", "52:54:00:12:00:02", "127.0.0.6", "imaging", false);
	n = get_node(f, "l1");
	strcpy(n.served_image, f->image_id);
	assert_int_equal(store_node_update(f->bs.store, &n), 0);
	(void)snprintf(bearer, sizeof(bearer), "Authorization: Bearer %s\r\n", n.token);
	assert_int_equal(http_post(f, "127.0.0.6", "/api/v1/nodes/l1/phase", bearer,
	    "{\"phase\":\"up\"," UP_RECEIPT "," FACTS("qemu+tls://127.0.0.6/system", "2") "}"),
	    400);
	assert_string_equal(get_node(f, "l1").phase, "imaging");
	assert_int_equal(store_vm_host_get(f->bs.store, "l1", &h), -ENOENT);
}

/* Image "hv" of kind xen: the three linux files plus the hypervisor's two, and what its
 * manifest says of the hypervisor. */
#define HV_ID "6666666666666666666666666666666666666666666666666666666666666666"
static void
add_xen_image(struct fixture *f)
{
	struct image_rec img = { 0 };
	struct dl_err e = { 0 };
	static const char *const roles[] = { "kernel", "initrd", "rootfs", "hypervisor",
		"hypervisor_efi" };

	strcpy(img.id, HV_ID);
	strcpy(img.name, "hv");
	strcpy(img.kind, "xen");
	(void)snprintf(img.path, sizeof(img.path), "%s/hv", f->sd.dir);
	assert_int_equal(mkdir(img.path, 0755), 0);
	write_file(img.path, "vmlinuz", "DOM0KN");
	write_file(img.path, "xen", "XENXEN");
	/* all five: a version whose files are not all here is not served (sync/sync.h) */
	write_file(img.path, "initrd", "INITRD");
	write_file(img.path, "rootfs.squashfs", "ROOTFS");
	write_file(img.path, "xen.efi", "XENEFI");
	strcpy(img.kernel_version, "6.1.0");
	strcpy(img.built, "2026-12-04T00:00:00Z");
	strcpy(img.cmdline, "console=hvc0");
	strcpy(img.hypervisor_version, "4.17.7");
	strcpy(img.hypervisor_build_id, "abcdef0123");
	strcpy(img.hypervisor_cmdline, "dom0_mem=512M,max:512M console=com1");
	for (size_t i = 0; i < ELEMENTSOF(roles); i++)
		assert_int_equal(image_rec_file_set(&img, roles[i],
		    "4444444444444444444444444444444444444444444444444444444444444444", 6), 0);
	img.added = 1;
	if (store_image_insert(f->bs.store, &img, &e) < 0)
		fail_msg("image insert: %s", e.msg);
}

/* A Xen node: xen.ipxe with the hypervisor's command line and the dom0 arguments (the
 * credential fetched by the init, never on a command line); on UEFI xen.cfg rendered
 * for the node from the query iPXE fills in, to its own address only, only after it
 * was served a xen image. */
static void
test_xen_script_and_cfg(void **state)
{
	struct fixture *f = *state;
	struct exchange x;
	struct node_rec n;
	char *body;

	add_xen_image(f);
	add_node(f, "x1", MAC3, OWN, "powering-on", true);
	n = get_node(f, "x1");
	strcpy(n.image, "hv");
	strcpy(n.op, "booting");
	n.op_at_ms = 5000;
	n.attempts = 1;
	assert_int_equal(store_node_update(f->bs.store, &n), 0);
	assert_int_equal(store_node_update_ctrl(f->bs.store, &n), 0);
	/* before any script: no xen image was served to it */
	assert_int_equal(http_get(f, OWN, "/ipxe/xen.cfg?mac=" MAC3 "&ip=" OWN
	    "&netmask=255.0.0.0&gateway=", NULL, NULL), 409);
	assert_int_equal(nodes_arm(&f->bs, &n, "controller", "test"), 0);
	assert_int_equal(http_get(f, OWN, "/ipxe/boot?mac=" MAC3, NULL, &x), 200);
	body = strndup(x.payload, x.payload_len);
	free(x.resp);
	/* BIOS: short lines, files by node (iPXE's multiboot keeps 512 bytes for all) */
	assert_non_null(strstr(body, "/images/n/x1/hypervisor dom0_mem=512M,max:512M "
	    "console=com1 || goto failed"));
	assert_non_null(strstr(body, "/images/n/x1/kernel console=hvc0 dl.server="));
	assert_non_null(strstr(body, " dl.cred=fetch "));
	{
		/* every multiboot line, as iPXE will hold them: URI, its arguments, NUL */
		const char *p = body;
		size_t mb = 0;

		for (p = body; *p; ) {
			const char *eol = strchr(p, '\n');
			size_t ln = eol ? (size_t)(eol - p) : strlen(p);

			if (!strncmp(p, "kernel ", 7) || !strncmp(p, "module ", 7)) {
				const char *tail = strstr(p, " || goto failed");

				mb += (tail && tail < p + ln ? (size_t)(tail - p) : ln) - 7 + 1;
			}
			p += ln + (eol ? 1 : 0);
		}
		print_message("multiboot command lines: %zu bytes of iPXE's 512\n", mb);
		assert_true(mb > 100 && mb < 512);
	}
	assert_non_null(strstr(body, "/images/" HV_ID "/hypervisor_efi"));
	assert_null(strstr(body, n.token));
	free(body);
	assert_string_equal(get_node(f, "x1").phase, "pxe");

	/* its files by node name: the version it was just served, to its own address */
	assert_int_equal(http_get(f, OWN, "/images/n/x1/hypervisor", NULL, &x), 200);
	assert_int_equal(x.payload_len, 6);
	assert_memory_equal(x.payload, "XENXEN", 6);
	assert_non_null(strstr(x.resp, "Cache-Control: no-cache"));
	free(x.resp);
	assert_int_equal(http_get(f, OWN, "/images/n/x1/kernel", NULL, &x), 200);
	assert_memory_equal(x.payload, "DOM0KN", 6);
	free(x.resp);
	assert_string_equal(get_node(f, "x1").phase, "loading"); /* the kernel's fetch */
	assert_int_equal(http_get(f, ATTACKER, "/images/n/x1/kernel", NULL, NULL), 403);
	assert_int_equal(http_get(f, OWN, "/images/n/zz/kernel", NULL, NULL), 404);
	assert_int_equal(http_get(f, OWN, "/images/n/x1/vmlinuz", NULL, NULL), 404);
	assert_int_equal(http_get(f, OWN, "/images/n/x1/../x1/kernel", NULL, NULL), 404);

	assert_int_equal(http_get(f, OWN, "/ipxe/xen.cfg?mac=" MAC3 "&ip=" OWN
	    "&netmask=255.0.0.0&gateway=", NULL, &x), 200);
	body = strndup(x.payload, x.payload_len);
	free(x.resp);
	assert_non_null(strstr(body, "options=dom0_mem=512M,max:512M console=com1\n"));
	assert_non_null(strstr(body, "kernel=vmlinuz console=hvc0 dl.server="));
	assert_non_null(strstr(body, " dl.node=x1 dl.image=" HV_ID " "));
	assert_non_null(strstr(body, " dl.mac=" MAC3 " dl.cred=fetch ip=" OWN
	    ":::255.0.0.0:x1::off\n"));
	assert_non_null(strstr(body, "ramdisk=initrd\n"));
	assert_null(strstr(body, n.token));
	free(body);
	/* what iPXE fills in is checked: nothing but addresses reaches the command line */
	assert_int_equal(http_get(f, OWN, "/ipxe/xen.cfg?mac=" MAC3 "&ip=1.2.3.4%20x=y"
	    "&netmask=255.0.0.0", NULL, NULL), 400);
	assert_int_equal(http_get(f, OWN, "/ipxe/xen.cfg?mac=" MAC3 "&ip=" OWN, NULL, NULL),
	    400);
	assert_int_equal(http_get(f, OWN, "/ipxe/xen.cfg?mac=" MAC3 "&ip=" OWN
	    "&netmask=255.0.0.0&gateway=10.0.0.1.1", NULL, NULL), 400);
	assert_int_equal(http_get(f, OWN, "/ipxe/xen.cfg?ip=" OWN "&netmask=255.0.0.0", NULL,
	    NULL), 400);
	/* only a kind's own configuration file is one */
	{
		static const char *const near[] = { "/ipxe/xen.cfgx", "/ipxe/xe.cfg",
			"/ipxe/xenn.cfg", "/ipxe/.cfg", "/ipxe/xen.cf", "/ipxe//xen.cfg",
			"/ipxe/linux.cfg", "/ipxe/xen" };

		for (size_t i = 0; i < ELEMENTSOF(near); i++) {
			char url[128];

			(void)snprintf(url, sizeof(url), "%s?mac=" MAC3 "&ip=" OWN
			    "&netmask=255.0.0.0", near[i]);
			assert_int_equal(http_get(f, OWN, url, NULL, NULL), 404);
		}
	}
	/* another address: refused and observed */
	assert_int_equal(http_get(f, ATTACKER, "/ipxe/xen.cfg?mac=" MAC3 "&ip=" OWN
	    "&netmask=255.0.0.0", NULL, NULL), 403);
	assert_int_equal(events(f, "x1", "script-refused", "loader configuration"), 1);
	/* a node served linux has no xen.cfg; an unknown one none at all */
	add_node(f, "n1", MAC1, "", "powering-on", false);
	n = get_node(f, "n1");
	strcpy(n.served_image, f->image_id);
	assert_int_equal(store_node_update(f->bs.store, &n), 0);
	assert_int_equal(http_get(f, OWN, "/ipxe/xen.cfg?mac=" MAC1 "&ip=" OWN
	    "&netmask=255.0.0.0", NULL, NULL), 409);
	assert_int_equal(http_get(f, OWN, "/ipxe/xen.cfg?mac=52:54:00:99:99:99&ip=" OWN
	    "&netmask=255.0.0.0", NULL, NULL), 404);
	assert_int_equal(http_get(f, OWN, "/ipxe/kvm.cfg?mac=" MAC3, NULL, NULL), 404);
}

/* Image "win" of kind iscsi: a golden disk.img of 1 MiB with data at its start. */
#define WIN_ID "5555555555555555555555555555555555555555555555555555555555555555"
static void
add_iscsi_image(struct fixture *f)
{
	struct image_rec img = { 0 };
	struct dl_err e = { 0 };
	char p[600];
	FILE *fp;

	strcpy(img.id, WIN_ID);
	strcpy(img.name, "win");
	strcpy(img.kind, "iscsi");
	strcpy(img.up_probe, "tcp:3389");
	(void)snprintf(img.path, sizeof(img.path), "%s/win", f->sd.dir);
	assert_int_equal(mkdir(img.path, 0755), 0);
	(void)snprintf(p, sizeof(p), "%s/disk.img", img.path);
	fp = fopen(p, "we");
	assert_non_null(fp);
	assert_int_equal(fputs("MBR!", fp) >= 0, 1);
	assert_int_equal(ftruncate(fileno(fp), 1 << 20), 0);
	assert_int_equal(fclose(fp), 0);
	strcpy(img.built, "2026-12-04T00:00:00Z");
	assert_int_equal(image_rec_file_set(&img, "disk",
	    "6666666666666666666666666666666666666666666666666666666666666666", 1 << 20), 0);
	img.added = 1;
	if (store_image_insert(f->bs.store, &img, &e) < 0)
		fail_msg("image insert: %s", e.msg);
}

static bool
disk_ready(void *arg)
{
	struct fixture *f = arg;
	struct disk_rec d;

	return store_disk_get(f->bs.store, "s1", &d) == 0 && strcmp(d.state, "making") != 0 &&
	    !disks_in_flight(f->bs.disks, "s1");
}

static bool
disk3_ready(void *arg)
{
	struct fixture *f = arg;
	struct disk_rec d;

	return store_disk_get(f->bs.store, "s3", &d) == 0 && strcmp(d.state, "ready") == 0 &&
	    !disks_in_flight(f->bs.disks, "s3");
}

static bool
disk1_gone(void *arg)
{
	struct fixture *f = arg;
	struct disk_rec d;

	return store_disk_get(f->bs.store, "s1", &d) == -ENOENT;
}

static bool
disk3_gone(void *arg)
{
	struct fixture *f = arg;
	struct disk_rec d;

	return store_disk_get(f->bs.store, "s3", &d) == -ENOENT;
}

/* GET s1's script as its own address; the body (malloc'd) and the status. */
static char *
script_of(struct fixture *f, const char *mac, int *ret_status)
{
	struct exchange x;
	char path[64];
	char *body;

	(void)snprintf(path, sizeof(path), "/ipxe/boot?mac=%s", mac);
	*ret_status = http_get(f, OWN, path, NULL, &x);
	body = strndup(x.payload, x.payload_len);
	free(x.resp);
	return body;
}

/* An iscsi node (issue 14): iscsi.ipxe with its own target, initiator and CHAP, only in
 * its armed boot; the hold script while its disk is made or when it cannot have one; a
 * fresh clone with new secrets each armed boot unless persistent; a failed sanboot
 * reported as its failed phase. */
static void
test_iscsi_script(void **state)
{
	struct fixture *f = *state;
	struct dl_err e = { 0 };
	struct disk_rec d;
	struct node_rec n;
	char secret[MAX_DISK_CHAP], want[256], disk_dir[200];
	char *body;
	int st;

	add_iscsi_image(f);
	add_node(f, "s1", MAC2, OWN, "powering-on", false);
	n = get_node(f, "s1");
	strcpy(n.image, "win");
	assert_int_equal(store_node_update(f->bs.store, &n), 0);

	/* iscsi = off: no disk room, the node waits saying why */
	assert_int_equal(nodes_arm(&f->bs, &n, "admin", "test"), 0);
	body = script_of(f, MAC2, &st);
	assert_int_equal(st, 200);
	assert_non_null(strstr(body, "on hold: iscsi is off"));
	free(body);

	f->bs.cfg.iscsi = true;
	strcpy(f->bs.cfg.iscsi_portal, "10.0.0.1");
	(void)snprintf(disk_dir, sizeof(disk_dir), "%.60s/disks", f->sd.dir);
	(void)snprintf(f->bs.cfg.disk_dir, sizeof(f->bs.cfg.disk_dir), "%s", disk_dir);
	assert_int_equal(disks_new(&f->bs, NULL, &f->bs.disks, &e), 0);
	assert_non_null(f->bs.disks);

	/* the first request of the armed boot starts the clone: hold, phase pxe */
	body = script_of(f, MAC2, &st);
	assert_int_equal(st, 200);
	assert_non_null(strstr(body, "on hold: disk being made"));
	free(body);
	assert_string_equal(get_node(f, "s1").phase, "pxe");
	assert_true(loop_wait(f->bs.loop, disk_ready, NULL, f, 10000));
	assert_int_equal(store_disk_get(f->bs.store, "s1", &d), 0);
	assert_string_equal(d.state, "ready");
	assert_string_equal(d.image_id, WIN_ID);
	assert_int_equal(d.tid, 1);
	assert_int_equal(d.apparent_bytes, 1 << 20);
	assert_int_equal(strlen(d.chap_secret), 16);
	strcpy(secret, d.chap_secret);

	/* then the script, with its secrets, once */
	body = script_of(f, MAC2, &st);
	assert_int_equal(st, 200);
	assert_non_null(strstr(body, "sanboot iscsi:10.0.0.1::3260:1:"
	    "iqn.2026-12.local.diskless:s1 || goto retry1"));
	assert_non_null(strstr(body, "set initiator-iqn iqn.2026-12.local.diskless:s1.initiator\n"));
	(void)snprintf(want, sizeof(want), "set password %s\n", secret);
	assert_non_null(strstr(body, want));
	assert_non_null(strstr(body, "set username s1\n"));
	(void)snprintf(want, sizeof(want), "set reverse-password %s\n", d.mutual_secret);
	assert_non_null(strstr(body, want));
	assert_non_null(strstr(body, "set reverse-username target-1\n"));
	assert_string_not_equal(d.chap_secret, d.mutual_secret);
	assert_non_null(strstr(body, "/ipxe/failed?mac=${mac}&what=sanboot&errno=${errno}"));
	free(body);
	n = get_node(f, "s1");
	assert_false(n.armed);
	assert_string_equal(n.served_image, WIN_ID);

	/* a second fetch from its own address is a new boot (boot/trust.h re-arms it): a
	 * new disk is made, and the last boot's secret is not handed out again */
	body = script_of(f, MAC2, &st);
	assert_int_equal(st, 200);
	assert_non_null(strstr(body, "disk being made"));
	assert_null(strstr(body, secret));
	free(body);
	assert_true(get_node(f, "s1").armed);
	assert_true(loop_wait(f->bs.loop, disk_ready, NULL, f, 10000));
	assert_int_equal(store_disk_get(f->bs.store, "s1", &d), 0);
	assert_string_not_equal(d.chap_secret, secret);
	body = script_of(f, MAC2, &st);
	assert_non_null(strstr(body, "sanboot iscsi:"));
	free(body);
	assert_int_equal(events(f, "s1", "disk", "clone ready: copy"), 2);
	n = get_node(f, "s1");

	/* mutual CHAP off: no reverse secret */
	f->bs.cfg.iscsi_mutual_chap = false;
	/* a new armed boot: a fresh clone with new secrets */
	assert_int_equal(nodes_arm(&f->bs, &n, "admin", "test"), 0);
	body = script_of(f, MAC2, &st);
	assert_non_null(strstr(body, "disk being made"));
	free(body);
	assert_true(loop_wait(f->bs.loop, disk_ready, NULL, f, 10000));
	assert_int_equal(store_disk_get(f->bs.store, "s1", &d), 0);
	assert_string_equal(d.state, "ready");
	assert_int_equal(d.tid, 1);
	assert_string_not_equal(d.chap_secret, secret);
	strcpy(secret, d.chap_secret);
	body = script_of(f, MAC2, &st);
	(void)snprintf(want, sizeof(want), "set password %s\n", secret);
	assert_non_null(strstr(body, want));
	assert_non_null(strstr(body, "set reverse-password \n"));
	free(body);

	/* persistent: the next armed boot keeps the clone and its secrets */
	assert_int_equal(store_disk_persistent_set(f->bs.store, "s1", true), 0);
	n = get_node(f, "s1");
	assert_int_equal(nodes_arm(&f->bs, &n, "admin", "test"), 0);
	body = script_of(f, MAC2, &st);
	assert_non_null(strstr(body, want));
	free(body);
	/* ... until reset-disk */
	assert_int_equal(store_disk_get(f->bs.store, "s1", &d), 0);
	d.reset = true;
	assert_int_equal(store_disk_put(f->bs.store, &d), 0);
	n = get_node(f, "s1");
	assert_int_equal(nodes_arm(&f->bs, &n, "admin", "test"), 0);
	body = script_of(f, MAC2, &st);
	assert_non_null(strstr(body, "disk being made"));
	free(body);
	assert_true(loop_wait(f->bs.loop, disk_ready, NULL, f, 10000));
	assert_int_equal(store_disk_get(f->bs.store, "s1", &d), 0);
	assert_false(d.reset);
	assert_string_not_equal(d.chap_secret, secret);

	/* the controller's power-on starts the clone (disks_prepare): the first script
	 * request of that boot finds it made */
	assert_int_equal(store_disk_persistent_set(f->bs.store, "s1", false), 0);
	strcpy(secret, d.chap_secret);
	n = get_node(f, "s1");
	assert_int_equal(nodes_arm(&f->bs, &n, "controller", "test"), 0);
	disks_prepare(f->bs.disks, &n);
	assert_true(disks_in_flight(f->bs.disks, "s1"));
	assert_true(loop_wait(f->bs.loop, disk_ready, NULL, f, 10000));
	assert_int_equal(store_disk_get(f->bs.store, "s1", &d), 0);
	assert_string_not_equal(d.chap_secret, secret);
	body = script_of(f, MAC2, &st);
	(void)snprintf(want, sizeof(want), "set password %s\n", d.chap_secret);
	assert_non_null(strstr(body, want));
	free(body);

	/* a node of an iscsi image without a fixed address: refused, naming the fix */
	add_node(f, "s2", MAC3, "", "powering-on", false);
	n = get_node(f, "s2");
	strcpy(n.image, "win");
	assert_int_equal(store_node_update(f->bs.store, &n), 0);
	assert_int_equal(nodes_arm(&f->bs, &n, "admin", "test"), 0);
	body = script_of(f, MAC3, &st);
	assert_non_null(strstr(body, "fixed address"));
	assert_non_null(strstr(body, "--ip"));
	free(body);
	assert_int_equal(store_disk_get(f->bs.store, "s2", &d), -ENOENT);

	/* the failed sanboot's report: strict query, own address, then the phase */
	assert_int_equal(http_get(f, OWN, "/ipxe/failed?mac=" MAC2 "&what=kernel&errno=0x1",
	    NULL, NULL), 400);
	assert_int_equal(http_get(f, OWN, "/ipxe/failed?mac=" MAC2 "&what=sanboot&errno=0xzz",
	    NULL, NULL), 400);
	assert_int_equal(http_get(f, OWN, "/ipxe/failed?mac=" MAC2 "&what=sanboot"
	    "&errno=0x123456789", NULL, NULL), 400);
	assert_int_equal(http_get(f, OWN, "/ipxe/failed?what=sanboot&errno=0x1", NULL, NULL),
	    400);
	assert_int_equal(http_get(f, ATTACKER, "/ipxe/failed?mac=" MAC2 "&what=sanboot"
	    "&errno=0x3d126083", NULL, NULL), 403);
	assert_int_equal(http_get(f, OWN, "/ipxe/failed?mac=52:54:00:99:99:99&what=sanboot"
	    "&errno=0x3d126083", NULL, NULL), 404);
	assert_string_not_equal(get_node(f, "s1").phase, "failed");
	assert_int_equal(http_get(f, OWN, "/ipxe/failed?mac=" MAC2 "&what=sanboot"
	    "&errno=0x3d126083", NULL, NULL), 200);
	n = get_node(f, "s1");
	assert_string_equal(n.phase, "failed");
	assert_string_equal(n.reason,
	    "sanboot failed: iPXE error 0x3d126083 (https://ipxe.org/3d126083)");
	/* asked again: no second write */
	assert_int_equal(http_get(f, OWN, "/ipxe/failed?mac=" MAC2 "&what=sanboot"
	    "&errno=0x1", NULL, NULL), 200);
	assert_string_equal(get_node(f, "s1").reason,
	    "sanboot failed: iPXE error 0x3d126083 (https://ipxe.org/3d126083)");

	/* a node that goes loses its target, its clone file and its row at the next tick;
	 * one moved to an image without a disk too */
	{
		char p[400];
		struct image_rec tiny;

		(void)snprintf(p, sizeof(p), "%s/s1.img", disk_dir);
		assert_int_equal(access(p, F_OK), 0);
		add_node(f, "s3", "52:54:00:11:00:04", "127.0.0.3", "powering-on", false);
		n = get_node(f, "s3");
		strcpy(n.image, "win");
		assert_int_equal(store_node_update(f->bs.store, &n), 0);
		assert_int_equal(nodes_arm(&f->bs, &n, "admin", "test"), 0);
		disks_prepare(f->bs.disks, &n);
		assert_true(loop_wait(f->bs.loop, disk3_ready, NULL, f, 10000));
		(void)snprintf(p, sizeof(p), "%s/s3.img", disk_dir);
		assert_int_equal(access(p, F_OK), 0);
		assert_int_equal(store_image_current(f->bs.store, "tiny", &tiny), 0);
		n = get_node(f, "s3");
		strcpy(n.image, "tiny");
		assert_int_equal(store_node_update(f->bs.store, &n), 0);
		assert_true(loop_wait(f->bs.loop, disk3_gone, NULL, f, 3 * DISKS_TICK_MS));
		assert_int_equal(access(p, F_OK), -1);
		assert_int_equal(store_node_delete(f->bs.store, "s3"), 0);
	}

	/* /metrics counts the clones (six, by copy on this file system) and their bytes */
	{
		struct exchange x;

		assert_int_equal(http_get(f, OWN, "/metrics", NULL, &x), 200);
		body = strndup(x.payload, x.payload_len);
		free(x.resp);
		assert_non_null(strstr(body, "diskless_disk_clones_total{method=\"copy\"} 6\n"));
		assert_non_null(strstr(body, "diskless_disk_clones_total{method=\"reflink\"} 0\n"));
		assert_non_null(strstr(body, "diskless_disk_clone_seconds_count 6\n"));
		assert_non_null(strstr(body, "diskless_disk_clone_bytes "));
		assert_null(strstr(body, "diskless_disk_clone_bytes 0\n"));
		free(body);
	}
	/* s1 deleted: its disk goes too */
	assert_int_equal(store_node_delete(f->bs.store, "s1"), 0);
	assert_true(loop_wait(f->bs.loop, disk1_gone, NULL, f, 3 * DISKS_TICK_MS));
	f->bs.disks = disks_free(f->bs.disks);
	{
		char p[400];

		(void)snprintf(p, sizeof(p), "%s/s1.img", disk_dir);
		assert_int_equal(access(p, F_OK), -1);
		assert_int_equal(rmdir(disk_dir), 0);
		(void)snprintf(p, sizeof(p), "%s/win/disk.img", f->sd.dir);
		assert_int_equal(unlink(p), 0);
		(void)snprintf(p, sizeof(p), "%s/win", f->sd.dir);
		assert_int_equal(rmdir(p), 0);
	}
}

/* A bootsvc killed mid-clone (issue 14): at the next start the temp file is removed and
 * the row left making is failed, of no boot, so the node's next armed boot makes it
 * again; nothing half made is ever ready. */
static void
test_disks_start_after_crash(void **state)
{
	struct fixture *f = *state;
	struct dl_err e = { 0 };
	struct disk_rec d = { 0 };
	char dir[200], tmp[300];
	FILE *fp;

	(void)snprintf(dir, sizeof(dir), "%.60s/disks", f->sd.dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	(void)snprintf(tmp, sizeof(tmp), "%s/.n9.img.making-Ab12Cd", dir);
	fp = fopen(tmp, "we");
	assert_non_null(fp);
	assert_int_equal(fputs("half", fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
	strcpy(d.node, "n9");
	memset(d.image_id, '5', 64);
	(void)snprintf(d.path, sizeof(d.path), "%s/n9.img", dir);
	strcpy(d.method, "auto");
	strcpy(d.state, "making");
	strcpy(d.boot, "0123456789abcdef");
	assert_int_equal(store_disk_put(f->bs.store, &d), 0);

	f->bs.cfg.iscsi = true;
	(void)snprintf(f->bs.cfg.disk_dir, sizeof(f->bs.cfg.disk_dir), "%s", dir);
	assert_int_equal(disks_new(&f->bs, NULL, &f->bs.disks, &e), 0);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(store_disk_get(f->bs.store, "n9", &d), 0);
	assert_string_equal(d.state, "failed");
	assert_non_null(strstr(d.reason, "bootsvc stopped while making it"));
	assert_string_equal(d.boot, "");
	f->bs.disks = disks_free(f->bs.disks);
	assert_int_equal(rmdir(dir), 0);
}

/* The scripts answered on the direct path, every serving thread's. */
static uint64_t
direct_count(struct fixture *f)
{
	struct http_thread_count per[HTTP_MAX_THREADS];
	unsigned n = http_thread_counts(&f->bs, per, HTTP_MAX_THREADS);
	uint64_t sum = 0;

	for (unsigned i = 0; i < n; i++)
		sum += per[i].direct;
	return sum;
}

/* Requests on one kept-alive connection, one after the other: each answer read to its
 * Content-Length (the last to the end), its status and its head kept. */
#define SEQ_MAX 4
struct seq {
	struct fixture *f;
	const char *req[SEQ_MAX];
	int status[SEQ_MAX];
	char head[SEQ_MAX][512];
	atomic_bool done;
};

static void *
seq_client(void *arg)
{
	struct seq *q = arg;
	char buf[65536];
	int fd = connect_from(OWN, q->f->port);

	if (fd < 0)
		goto out;
	for (int i = 0; i < SEQ_MAX && q->req[i]; i++) {
		size_t have = 0, want = SIZE_MAX;
		const char *end, *cl;

		if (write(fd, q->req[i], strlen(q->req[i])) != (ssize_t)strlen(q->req[i]))
			break;
		while (have < want && have < sizeof(buf) - 1) {
			ssize_t got = read(fd, buf + have, sizeof(buf) - 1 - have);

			if (got <= 0)
				break;
			have += (size_t)got;
			buf[have] = '\0';
			if (want == SIZE_MAX && (end = strstr(buf, "\r\n\r\n")) &&
			    (cl = strcasestr(buf, "\r\nContent-Length: ")) && cl < end)
				want = (size_t)(end + 4 - buf) + strtoul(cl + 18, NULL, 10);
		}
		buf[have] = '\0';
		if (sscanf(buf, "HTTP/1.%*d %d", &q->status[i]) != 1)
			break;
		end = strstr(buf, "\r\n\r\n");
		(void)snprintf(q->head[i], sizeof(q->head[i]), "%.*s",
		    end ? (int)(end - buf) : 0, buf);
	}
	close(fd);
out:
	atomic_store(&q->done, true);
	return NULL;
}

static bool
seq_done(void *arg)
{
	return atomic_load(&((struct seq *)arg)->done);
}

/* raw's answer: its status, and its body into *payload (the caller frees *resp). */
static int
raw_get(struct fixture *f, const char *raw, const char *raw2, struct exchange *ret)
{
	*ret = (struct exchange){ .f = f, .src = OWN, .raw = raw, .raw2 = raw2, .pause_ms = 150,
		.raw_only = true };
	exchange_run(ret);
	return ret->status;
}

/* The direct path (http_direct.c): a whole plain GET of a script is answered without
 * libmicrohttpd, and everything else is handed to it unread and answered the same: an
 * escaped query, a head in two writes, a second request behind the first, which the
 * direct path must never answer (or swallow) as if it were alone. A connection that sends
 * nothing is cut at its deadline, and one that closes at once is forgotten. */
static void
test_direct(void **state)
{
	struct fixture *f = *state;
	struct exchange x;
	struct node_rec n;
	uint64_t d0;
	char *script, want[64];

	add_node(f, "n1", MAC1, "", "registered", false);
	n = get_node(f, "n1");
	assert_int_equal(nodes_arm(&f->bs, &n, "admin", "test"), 0);
	/* the first boot request moves the node; the retries below give the same script */
	assert_int_equal(http_get(f, OWN, "/ipxe/boot?mac=" MAC1, NULL, NULL), 200);
	d0 = direct_count(f);
	assert_int_equal(http_get(f, OWN, "/ipxe/boot?mac=" MAC1, NULL, &x), 200);
	assert_int_equal(direct_count(f), d0 + 1);
	assert_non_null(strstr(x.payload, "dl.node=n1 "));
	assert_non_null(strstr(x.resp, "\r\nContent-Type: text/plain\r\n"));
	assert_non_null(strstr(x.resp, "\r\nConnection: close\r\n"));
	assert_non_null(strstr(x.resp, " GMT\r\n"));
	assert_non_null(strstr(x.resp, "\r\nDate: "));
	(void)snprintf(want, sizeof(want), "\r\nContent-Length: %zu\r\n", x.payload_len);
	assert_non_null(strstr(x.resp, want));
	script = strdup(x.payload);
	free(x.resp);

	/* libmicrohttpd's: the same answer, and none of them counted as direct */
	assert_int_equal(raw_get(f, "GET /ipxe/boot?mac=52%3A54%3A00%3A11%3A00%3A01 HTTP/1.0"
	    "\r\n\r\n", NULL, &x), 200);
	assert_string_equal(x.payload, script);
	free(x.resp);
	assert_int_equal(raw_get(f, "GET /ipxe/boot?mac=" MAC1 " HTTP/1.1\r\nHo",
	    "st: x\r\nConnection: close\r\n\r\n", &x), 200);
	assert_string_equal(x.payload, script);
	free(x.resp);
	assert_int_equal(raw_get(f, "GET /ipxe/boot?mac=" MAC1 " HTTP/1.0\r\n\r\n"
	    "GET /metrics HTTP/1.0\r\n\r\n", NULL, &x), 200);
	assert_true(strncmp(x.payload, script, strlen(script)) == 0);
	free(x.resp);
	assert_int_equal(raw_get(f, "GET /ipxe/boot?mac=" MAC1 " HTTP/1.0\r\n"
	    "Content-Length: 0\r\n\r\n", NULL, &x), 200);
	assert_string_equal(x.payload, script);
	free(x.resp);
	assert_int_equal(direct_count(f), d0 + 1);
	/* a refusal is an answer too: an unknown node's 404, on whichever path takes it */
	assert_int_equal(http_get(f, OWN, "/ipxe/boot?mac=52:54:00:11:00:99", NULL, &x), 404);
	assert_non_null(strstr(x.payload, "unknown node"));
	free(x.resp);
	free(script);

	/* One connection kept alive: two scripts answered on it directly, then a request of
	 * libmicrohttpd's on the same connection, handed on unread and answered. */
	{
		struct seq q = { .f = f, .req = {
			"GET /ipxe/boot?mac=" MAC1 " HTTP/1.1\r\nHost: x\r\n\r\n",
			"GET /ipxe/boot?mac=" MAC1 " HTTP/1.1\r\nHost: x\r\n\r\n",
			"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" } };
		pthread_t t;
		uint64_t d1 = direct_count(f);

		assert_int_equal(pthread_create(&t, NULL, seq_client, &q), 0);
		assert_true(loop_wait(f->bs.loop, seq_done, NULL, &q, 10000));
		assert_int_equal(pthread_join(t, NULL), 0);
		for (int i = 0; i < 3; i++)
			if (q.status[i] != 200)
				fail_msg("request %d on the kept connection: %d", i, q.status[i]);
		assert_non_null(strstr(q.head[0], "\r\nConnection: keep-alive"));
		assert_non_null(strstr(q.head[1], "\r\nConnection: keep-alive"));
		assert_int_equal(direct_count(f), d1 + 2);
	}

	/* Nothing sent: closed at the request deadline; closed at once: forgotten. With the
	 * loop alone: a reader thread reads the deadline from the config this changes. */
	if (f->bs.cfg.http_threads > 1)
		return;
	f->bs.cfg.http_request_timeout_ms = 200;
	x = (struct exchange){ .f = f, .src = OWN, .raw_only = true };
	exchange_run(&x);
	assert_int_equal(x.len, 0);
	free(x.resp);
	for (int i = 0; i < 3; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(f->port) };

		(void)inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
		assert_int_equal(connect(fd, (struct sockaddr *)&dst, sizeof(dst)), 0);
		close(fd);
	}
	assert_true(loop_wait(f->bs.loop, conns_none, NULL, f, 10000));
}

/* A script whose request is in when its connection is accepted is answered in that turn of
 * the loop (on_listen), not a turn later, after a pass of libmicrohttpd's over other
 * nodes' image files. */
static void
test_direct_at_accept(void **state)
{
	struct fixture *f = *state;
	const char req[] = "GET /ipxe/boot?mac=" MAC1 " HTTP/1.0\r\n\r\n";
	struct node_rec n;
	char buf[256];
	uint64_t d0;
	int fd;

	add_node(f, "n1", MAC1, "", "registered", false);
	n = get_node(f, "n1");
	assert_int_equal(nodes_arm(&f->bs, &n, "admin", "test"), 0);
	assert_int_equal(http_get(f, OWN, "/ipxe/boot?mac=" MAC1, NULL, NULL), 200);
	d0 = direct_count(f);
	fd = connect_from(OWN, f->port);
	assert_true(fd >= 0);
	assert_int_equal(send(fd, req, sizeof(req) - 1, 0), (ssize_t)sizeof(req) - 1);
	loop_turn(f->bs.loop);
	assert_int_equal(direct_count(f), d0 + 1);
	assert_true(recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 12);
	assert_memory_equal(buf, "HTTP/1.1 200", 12);
	close(fd);
}

/* A reader thread (http_threads = 2) answers the scripts that move nothing from its own
 * view, and hands the rest to the loop: every answer is the loop's own, the first request
 * of a boot is recorded once (by the loop), a committed change (an admin hold) is seen by
 * the next request whichever thread takes it, and a template reload reaches both. An idle
 * server's connections go to the reader (it accepts first, srv_accept_on); the loop's
 * share is test_reader_busy's. */
static void
test_reader_thread(void **state)
{
	struct fixture *f = *state;
	struct metrics m = f->bs.metrics;
	struct http_thread_count per[HTTP_MAX_THREADS], before[HTTP_MAX_THREADS];
	char *first = NULL, dir[] = "/tmp/test_http_node.XXXXXX", cmd[256], path[160];
	struct exchange x;
	struct node_rec n;

	add_node(f, "n1", MAC1, "", "registered", false);
	n = get_node(f, "n1");
	assert_int_equal(nodes_arm(&f->bs, &n, "admin", "test"), 0);
	for (int i = 0; i < 40; i++) {
		assert_int_equal(http_get(f, OWN, "/ipxe/boot?mac=" MAC1, NULL, &x), 200);
		assert_non_null(strstr(x.payload, "dl.node=n1 "));
		if (!first)
			first = strdup(x.payload);
		else
			assert_string_equal(x.payload, first);
		free(x.resp);
	}
	n = get_node(f, "n1");
	assert_string_equal(n.phase, "pxe");
	assert_string_equal(n.served_image, f->image_id);
	/* one boot: the phase moved once, by the first request */
	assert_int_equal(events(f, "n1", "pxe", NULL), 1);
	assert_int_equal(http_thread_counts(&f->bs, per, HTTP_MAX_THREADS), 2);
	print_message("scripts: loop %llu, reader %llu (%llu handed over)\n",
	    (unsigned long long)per[0].requests, (unsigned long long)per[1].requests,
	    (unsigned long long)per[1].handoffs);
	assert_true(per[1].requests > 0);
	/* only a boot's first request moves the node: the reader answered the rest itself */
	assert_true(per[1].handoffs <= 1);
	/* every script counted once, whichever thread served it */
	m = f->bs.metrics;
	http_metrics_readers(&f->bs, &m);
	assert_int_equal(m.boot_scripts, 40);
	assert_int_equal(m.requests[ROUTE_IPXE], 40);
	assert_int_equal(m.responses[2], 40);

	/* an admin's hold, committed by the writer: every next answer holds */
	n.hold = true;
	strcpy(n.hold_reason, "bad dimm");
	assert_int_equal(store_node_update_ctrl(f->bs.store, &n), 0);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(http_get(f, OWN, "/ipxe/boot?mac=" MAC1, NULL, &x), 200);
		if (!strstr(x.payload, "admin hold: bad dimm"))
			fail_msg("not held: %s", x.payload);
		free(x.resp);
	}
	n.hold = false;
	assert_int_equal(store_node_update_ctrl(f->bs.store, &n), 0);

	/* a reload (main.c's, under reload_lock): the new template from both threads */
	assert_non_null(mkdtemp(dir));
	(void)snprintf(cmd, sizeof(cmd), "cp ipxe-scripts/* %s/ && echo '#reloaded' >> %s/linux.ipxe",
	    dir, dir);
	assert_int_equal(system(cmd), 0);
	{
		struct dl_err e = { 0 };

		pthread_mutex_lock(&f->bs.reload_lock);
		assert_int_equal(templates_load(&f->bs.tmpl, dir, &e), 0);
		pthread_mutex_unlock(&f->bs.reload_lock);
	}
	for (int i = 0; i < 10; i++) {
		assert_int_equal(http_get(f, OWN, "/ipxe/boot?mac=" MAC1, NULL, &x), 200);
		assert_non_null(strstr(x.payload, "#reloaded"));
		free(x.resp);
	}
	(void)snprintf(cmd, sizeof(cmd), "rm -r %s", dir);
	assert_int_equal(system(cmd), 0);

	/* the loop's routes through a reader's connection: a phase report, and a report with
	 * a wrong token refused on its headers */
	for (int i = 0; i < 10; i++) {
		char hdr[128];

		(void)snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s\r\n", n.token);
		assert_int_equal(http_post(f, OWN, "/api/v1/nodes/n1/phase", hdr,
		    "{\"phase\":\"loading\"}"), 204);
		assert_int_equal(http_post(f, OWN, "/api/v1/nodes/n1/phase",
		    "Authorization: Bearer 0000\r\n", "{\"phase\":\"loading\"}"), 403);
	}
	assert_string_equal(get_node(f, "n1").phase, "loading");
	free(first);

	/* image files: the fetch that moves a node (its kernel, pxe -> loading) is the
	 * loop's, the rest the reader serves itself, the same bytes */
	add_node(f, "n2", MAC2, OWN, "pxe", false);
	(void)http_thread_counts(&f->bs, before, HTTP_MAX_THREADS);
	(void)snprintf(path, sizeof(path), "/images/%s/kernel", f->image_id);
	for (int i = 0; i < 40; i++) {
		assert_int_equal(http_get(f, OWN, path, NULL, &x), 200);
		assert_int_equal(x.payload_len, 6);
		assert_memory_equal(x.payload, "KERNEL", 6);
		free(x.resp);
	}
	assert_string_equal(get_node(f, "n2").phase, "loading");
	(void)http_thread_counts(&f->bs, per, HTTP_MAX_THREADS);
	print_message("images: loop %llu, reader %llu (%llu handed over)\n",
	    (unsigned long long)(per[0].requests - before[0].requests),
	    (unsigned long long)(per[1].requests - before[1].requests),
	    (unsigned long long)(per[1].handoffs - before[1].handoffs));
	assert_true(per[1].requests - before[1].requests > 0);
	assert_true(per[1].handoffs - before[1].handoffs <= 1);
}

/* A boot's first script from a reader thread (boot/boot_records.h): armed nodes without
 * a fixed address, each asking once then again, on connections either thread may take.
 * Whichever answered, each node ends with the version served and one phase change, dated
 * when it asked. On SQLite the reader answered first boots itself (it handed none over)
 * and left their records to the loop; on PostgreSQL there are no boot records (a write
 * there can fail after the answer), and it handed each first boot it took to the loop. */
static void
test_reader_records(void **state)
{
	struct fixture *f = *state;
	struct http_thread_count per[HTTP_MAX_THREADS];
	int64_t t0 = (int64_t)time(NULL);
	char name[32], mac[24], path[64];
	struct node_rec n;

	for (int i = 0; i < 30; i++) {
		(void)snprintf(name, sizeof(name), "r%02d", i);
		(void)snprintf(mac, sizeof(mac), "52:54:00:12:00:%02x", i);
		add_node(f, name, mac, "", "registered", false);
		n = get_node(f, name);
		assert_int_equal(nodes_arm(&f->bs, &n, "admin", "test"), 0);
	}
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < 30; i++) {
			struct exchange x;

			(void)snprintf(mac, sizeof(mac), "52:54:00:12:00:%02x", i);
			(void)snprintf(path, sizeof(path), "/ipxe/boot?mac=%s", mac);
			assert_int_equal(http_get(f, OWN, path, NULL, &x), 200);
			(void)snprintf(name, sizeof(name), "dl.node=r%02d ", i);
			assert_non_null(strstr(x.payload, name));
			free(x.resp);
		}
	for (int i = 0; i < 30; i++) {
		(void)snprintf(name, sizeof(name), "r%02d", i);
		n = get_node(f, name);
		assert_string_equal(n.phase, "pxe");
		assert_true(n.phase_at >= t0 && n.phase_at <= (int64_t)time(NULL));
		assert_string_equal(n.served_image, f->image_id);
		assert_int_equal(events(f, name, "pxe", NULL), 1);
	}
	assert_int_equal(http_thread_counts(&f->bs, per, HTTP_MAX_THREADS), 2);
	print_message("first scripts: loop %llu, reader %llu (%llu handed over)\n",
	    (unsigned long long)per[0].requests, (unsigned long long)per[1].requests,
	    (unsigned long long)per[1].handoffs);
	assert_true(per[1].requests > 0);
	if (store_is_embedded(f->bs.store))
		/* its first boots were its own (before boot records, each was handed over) */
		assert_int_equal(per[1].handoffs, 0);
	else
		assert_true(per[1].handoffs > 0);
	assert_true(http_records_idle(&f->bs));
}

/* The syscall the thread named name (of this process) is blocked in, or -1. */
static long
thread_syscall(const char *name)
{
	char path[320], comm[32], line[64];
	long nr = -1;
	struct dirent *e;
	DIR *d = opendir("/proc/self/task");
	FILE *fp;

	assert_non_null(d);
	while (nr < 0 && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		(void)snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
		if (!(fp = fopen(path, "r")))
			continue;
		comm[0] = '\0';
		if (fgets(comm, sizeof(comm), fp))
			comm[strcspn(comm, "\n")] = '\0';
		(void)fclose(fp);
		if (strcmp(comm, name) != 0)
			continue;
		(void)snprintf(path, sizeof(path), "/proc/self/task/%s/syscall", e->d_name);
		if ((fp = fopen(path, "r"))) {
			if (fgets(line, sizeof(line), fp))
				nr = strtol(line, NULL, 10);
			(void)fclose(fp);
		}
	}
	(void)closedir(d);
	return nr;
}

/* The serving threads share one listening socket, and the kernel hands a connection to
 * one that is free (srv_accept_on): a reader held up in the middle of an answer strands
 * no connection. The reader is held on the reload lock, which it takes to bind a script
 * it answers itself (http_ipxe_read: n1 asks a second time, so on PostgreSQL too, where a
 * first boot is the loop's); the next node's script is then the loop's, answered while
 * the reader still waits. With a socket per thread (SO_REUSEPORT) it waited on the held
 * thread one time in two, and this test failed. */
static void
test_reader_busy(void **state)
{
	struct fixture *f = *state;
	struct http_thread_count per[HTTP_MAX_THREADS], before[HTTP_MAX_THREADS];
	struct exchange held = { .f = f, .src = OWN, .method = "GET",
		.path = "/ipxe/boot?mac=" MAC1 };
	struct exchange next = { .f = f, .src = OWN, .method = "GET",
		.path = "/ipxe/boot?mac=" MAC2 };
	bool blocked, started, answered = false, held_waiting = false;
	pthread_t t1, t2;
	struct node_rec n;
	int i;

	add_node(f, "n1", MAC1, "", "registered", false);
	add_node(f, "n2", MAC2, "", "registered", false);
	n = get_node(f, "n1");
	assert_int_equal(nodes_arm(&f->bs, &n, "admin", "test"), 0);
	n = get_node(f, "n2");
	assert_int_equal(nodes_arm(&f->bs, &n, "admin", "test"), 0);
	assert_int_equal(http_get(f, OWN, "/ipxe/boot?mac=" MAC1, NULL, NULL), 200);
	assert_string_equal(get_node(f, "n1").phase, "pxe");
	(void)http_thread_counts(&f->bs, before, HTTP_MAX_THREADS);

	/* Nothing asserted while the lock is held: a failure there would leave the reader
	 * on it, and the teardown waiting for the reader. */
	pthread_mutex_lock(&f->bs.reload_lock);
	if (pthread_create(&t1, NULL, client, &held) != 0) {
		pthread_mutex_unlock(&f->bs.reload_lock);
		fail_msg("pthread_create");
	}
	/* the reader, first to accept, blocked on the lock in the middle of n1's answer */
	for (i = 0; i < 1000 && thread_syscall("http/1") != SYS_futex; i++)
		(void)loop_wait(f->bs.loop, exchange_done, NULL, &held, 10);
	blocked = i < 1000 && !atomic_load(&held.done);
	started = blocked && pthread_create(&t2, NULL, client, &next) == 0;
	if (started) {
		answered = loop_wait(f->bs.loop, exchange_done, NULL, &next, 10000);
		/* the reader still holds n1's */
		held_waiting = !atomic_load(&held.done);
		(void)http_thread_counts(&f->bs, per, HTTP_MAX_THREADS);
	}
	pthread_mutex_unlock(&f->bs.reload_lock);
	/* both clients done and joined before anything is asserted: they use this frame */
	(void)loop_wait(f->bs.loop, exchange_done, NULL, &held, 10000);
	assert_int_equal(pthread_join(t1, NULL), 0);
	if (started) {
		(void)loop_wait(f->bs.loop, exchange_done, NULL, &next, 10000);
		assert_int_equal(pthread_join(t2, NULL), 0);
	}
	assert_true(blocked);
	assert_true(started);
	assert_true(answered); /* the loop took n2's connection while the reader was held */
	assert_true(held_waiting);
	assert_int_equal(next.status, 200);
	assert_non_null(strstr(next.payload, "dl.node=n2 "));
	assert_int_equal(per[0].requests, before[0].requests + 1);
	assert_int_equal(held.status, 200);
	assert_non_null(strstr(held.payload, "dl.node=n1 "));
	assert_true(loop_wait(f->bs.loop, records_idle, NULL, &f->bs, 10000));
	(void)http_thread_counts(&f->bs, per, HTTP_MAX_THREADS);
	assert_int_equal(per[1].requests, before[1].requests + 1);
	assert_string_equal(get_node(f, "n1").phase, "pxe");
	assert_string_equal(get_node(f, "n2").phase, "pxe");
	free(held.resp);
	free(next.resp);
}

/* A control verb reads the cluster as the boots so far left it: a boot record waiting to
 * fall due (boot/boot_records.h: after the burst of scripts that queued it) is written
 * before the verb runs. The loop does not run between the push and the verb, so only the
 * verb's flush can have written it. */
static void
test_control_sees_records(void **state)
{
	struct fixture *f = *state;
	struct boot_records *q = http_records(&f->bs);
	struct boot_record rec = { .phase = "pxe", .at = (int64_t)time(NULL) };
	json_t *args, *res = NULL, *node;
	struct dl_err e = { 0 };
	char *text = NULL;

	if (!q) /* PostgreSQL: a first boot's writes come before its answer, no records */
		return;
	add_node(f, "c1", "52:54:00:13:00:01", "", "registered", false);
	(void)snprintf(rec.node, sizeof(rec.node), "c1");
	memcpy(rec.served, f->image_id, sizeof(rec.served));
	assert_true(boot_records_push(q, &rec));
	assert_false(http_records_idle(&f->bs));
	args = json_pack("{s:s}", "name", "c1");
	assert_int_equal(control_call_as(&f->bs, ROLE_READ_ONLY, "rob", "node.show", args, &res,
	    &text, &e), 0);
	json_decref(args);
	if (!res)
		res = json_loads(text, 0, NULL);
	free(text);
	assert_non_null(res);
	node = json_object_get(res, "node") ? json_object_get(res, "node") : res;
	assert_string_equal(json_string_value(json_object_get(node, "phase")), "pxe");
	assert_string_equal(json_string_value(json_object_get(node, "served_image")),
	    f->image_id);
	json_decref(res);
	assert_true(http_records_idle(&f->bs));
	assert_int_equal(events(f, "c1", "pxe", NULL), 1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
/* The same test with a reader thread beside the loop: the answers must not change. */
#define R(fn) cmocka_unit_test_setup_teardown(fn, setup_reader, teardown)
#define BOTH(fn) T(fn), R(fn)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_script_other_address),
		BOTH(test_script_no_address_observed),
		BOTH(test_up_node_asked_by_its_user),
		BOTH(test_self_reboot_and_credential_once),
		BOTH(test_controller_boot),
		BOTH(test_images),
		BOTH(test_version_not_here),
		BOTH(test_vm_host_up_facts),
		BOTH(test_xen_script_and_cfg),
		BOTH(test_iscsi_script),
		BOTH(test_disks_start_after_crash),
		R(test_reader_thread),
		R(test_reader_records),
		R(test_reader_busy),
		R(test_control_sees_records),
		BOTH(test_direct),
		T(test_direct_at_accept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
