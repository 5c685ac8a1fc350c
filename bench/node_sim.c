/* node_sim: N simulated diskless nodes booting at once, each speaking a node's whole
 * protocol as iPXE, the init and dl-report do (docs/boot-protocol.md), from its own fixed
 * address: its script (/ipxe/boot?mac=..), then the kernel and the initrd the script names,
 * the one-time credential (the token read from its archive), `imaging` posted with that
 * token, the rootfs and the overlay fetched with it, and `up` posted with the receipt of
 * the image the script named (the manifest's hashes, given with -I). A hold script is
 * polled again after its `sleep`, as iPXE does. One thread, one epoll set, one connection
 * per request (as iPXE and the init open them); bodies that are not needed are dropped in
 * the kernel with recv(MSG_TRUNC), so the client costs little next to the server it
 * measures (bench/reimage_row.sh, docs/benchmarks.md).
 *
 *   node_sim -a ADDR -p PORT -n NODES [-f FIRST] [-c INFLIGHT] [-t SECONDS] [-e IMAGE_ID]
 *            -I ID,KERNEL_SHA256,INITRD_TREE,ROOTFS_SHA256 [-I ...]
 *   node_sim -a ADDR -p PORT -n NODES [-c INFLIGHT] [-t SECONDS] -R PATH[,PATH...]
 *
 * Node i (0-based; -f FIRST starts at node FIRST, so two clients can split the nodes
 * between two servers) is the one `nodectl node add` registered with MAC
 * 52:54:00:AA:BB:CC (decimal digits AA = i / 252 + 1, BB = i % 252 / 14 + 1,
 * CC = i % 14 + 1) and address 10.233.(i / 252 + 1).(i % 252 + 1): every socket of node i
 * is bound to that address, since bootsvc serves a node with a fixed address to that
 * address only and takes a script request from it as the node's own (re)boot
 * (boot/trust.h). -R is the reference: the same client and concurrency fetching PATH...
 * (static files) from each node's address, no protocol.
 *
 * A failed step is handled as the real programs handle it (MAX_REBOOTS and the constants
 * beside it): iPXE asks for its script again after its poll; the init retries the rootfs,
 * reports `failed` after a failed attempt and starts the attempt over, reboots after
 * three; dl-report retries `up`. Prints one line of key=value: nodes, inflight, ok,
 * failed, timed_out, ipxe_retries, attempts_failed, rootfs_retries, up_retries, reboots,
 * holds, wrong_image (booted another image than -e), bytes, wall_s, mib_s, boot_p50_s,
 * boot_p99_s, boot_max_s; then, but with -R, node_step_s=script:<s>,kernel:<s>,...: the
 * seconds a node spent on average in each step's requests (connect to last byte), which
 * says where the time went. Exits 1 if a node failed or the deadline passed. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* The seed's 3,780 nodes and room; each node in flight holds one socket. */
#define MAX_NODES 8192
/* Images whose receipts the nodes may be asked to report (A and B, and room). */
#define MAX_IMAGES 4
/* Reference paths: script, kernel, initrd, rootfs, and room. */
#define MAX_PATHS 8
/* A response head bigger than this is a failure (bootsvc's and nginx's are < 1 KiB). */
#define MAX_HEADER 4096
/* Bodies kept (script, credential): the linux script is ~1.3 KiB, the credential 200 B. */
#define MAX_BODY 8192
/* Reboots of one node (iPXE's `goto failed` loops do not count) before it counts as
 * failed: a healthy server never makes a node give up its init three times. */
#define MAX_REBOOTS 3
/* What the node does on a failed step, as the real programs do: iPXE sleeps its script's
 * poll (start.ipxe: 5 s before a script came) and asks for the script again; the init
 * retries the rootfs 6 times (1, 2, 4, 8, 8 s apart: initramfs/fetch.h), reports
 * `failed` after a failed attempt and starts it over after 5 s x the attempt, reboots
 * after 3 attempts (10 s, then iPXE again: initramfs/pid1.c); dl-report tries `up` 5
 * times, 1, 2, 4, 8 s apart, and stops at a 4xx (initramfs/dlreport.c). */
#define IPXE_START_RETRY_S 5.0
#define ROOTFS_TRIES 6
#define ROOTFS_BACKOFF_MAX_S 8.0
#define INIT_ATTEMPTS 3
#define INIT_BACKOFF_S 5.0
#define INIT_REBOOT_S 10.0
#define UP_TRIES 5
/* Fds beside the nodes' sockets: stdio, epoll, and room. */
#define FD_MARGIN 16
/* A token is 32 random bytes in hex (docs/boot-protocol.md); room for a longer one. */
#define MAX_TOKEN 128

enum step {
	ST_SCRIPT,
	ST_KERNEL,
	ST_INITRD,
	ST_CRED,
	ST_IMAGING,
	ST_ROOTFS,
	ST_OVERLAY,
	ST_UP,
	ST_FAILED,  /* the init's `failed` report after a failed attempt */
	ST_DONE,
};

struct image {
	char id[65], kernel[65], initrd[65], rootfs[65];
};

struct node {
	int fd;
	enum step step;            /* protocol mode; the path index in reference mode */
	char name[32];
	char kernel[256], initrd[256], cred[256];
	const struct image *img;   /* the image its script named */
	char token[MAX_TOKEN + 1];
	char req[1024];
	size_t req_len, req_off;
	char hdr[MAX_HEADER];
	size_t hdr_len;
	char *body;                /* kept bodies only */
	size_t body_len;
	bool keep_body, in_body;
	int status;
	long long body_left;       /* -1: until EOF */
	double wake_at;            /* > 0: waiting (hold poll, restart delay) */
	double t_start, t_up;
	double t_req;              /* this request's connect() */
	double poll_s;             /* the script's `sleep`: iPXE's wait after a failure */
	int attempt, tries, reboots;
	char why[96];              /* the failed attempt's reason, for the report */
	bool started, done, failed;
};

static const char *arg_addr = "127.0.0.1";
static int arg_port = 8080;
static int arg_nodes = 50;
static int arg_first;
static int arg_inflight;
static double arg_timeout = 1800;
static const char *arg_expect;
static struct image images[MAX_IMAGES];
static int nimages;
static char *ref_paths[MAX_PATHS];
static int nref;

static struct sockaddr_in srv;
static int ep;
static unsigned long long total_bytes;
static int holds, wrong_image, inflight;
/* what went wrong, counted: iPXE's retries, the init's failed attempts and retried
 * fetches, dl-report's retries, reboots */
static int n_ipxe_retries, n_attempts_failed, n_rootfs_retries, n_up_retries, n_reboots;
/* Seconds all nodes spent in each step's requests (connect to last byte), to say where a
 * boot's time goes; the names as printed. */
static double step_s[ST_DONE + 1];
static const char *const step_name[ST_DONE + 1] = {
	"script", "kernel", "initrd", "cred", "imaging", "rootfs", "overlay", "up", "failed", "",
};
static char last_error[256];

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
node_addr(int i, struct in_addr *ret)
{
	i += arg_first;
	ret->s_addr = htonl((10u << 24) | (233u << 16) | ((unsigned)(i / 252 + 1) << 8) |
	    (unsigned)(i % 252 + 1));
}

static void
node_mac(int i, char *buf, size_t size)
{
	i += arg_first;
	(void)snprintf(buf, size, "52:54:00:%02d:%02d:%02d", i / 252 + 1, i % 252 / 14 + 1,
	    i % 14 + 1);
}

static void
note_error(const struct node *n, const char *what)
{
	(void)snprintf(last_error, sizeof(last_error), "node '%s' step %d: %s",
	    n->name[0] ? n->name : "?", (int)n->step, what);
}

/* The request of n's current step into n->req; false when there is none to make. */
static bool
node_request(struct node *n, int idx)
{
	char mac[32], body[512];
	const char *method = "GET", *path = NULL, *token = NULL;
	char pathbuf[300];
	size_t blen = 0;

	n->keep_body = false;
	if (nref) {
		path = ref_paths[n->step];
	} else {
		switch (n->step) {
		case ST_SCRIPT:
			node_mac(idx, mac, sizeof(mac));
			(void)snprintf(pathbuf, sizeof(pathbuf), "/ipxe/boot?mac=%s", mac);
			path = pathbuf;
			n->keep_body = true;
			break;
		case ST_KERNEL:
			path = n->kernel;
			break;
		case ST_INITRD:
			path = n->initrd;
			break;
		case ST_CRED:
			path = n->cred;
			n->keep_body = true;
			break;
		case ST_IMAGING:
			method = "POST";
			(void)snprintf(pathbuf, sizeof(pathbuf), "/api/v1/nodes/%s/phase", n->name);
			path = pathbuf;
			token = n->token;
			blen = (size_t)snprintf(body, sizeof(body), "{\"phase\":\"imaging\"}");
			break;
		case ST_ROOTFS:
			/* the init fetches it by the id on its command line, with its token */
			(void)snprintf(pathbuf, sizeof(pathbuf), "/images/%s/rootfs", n->img->id);
			path = pathbuf;
			token = n->token;
			break;
		case ST_OVERLAY:
			(void)snprintf(pathbuf, sizeof(pathbuf), "/api/v1/nodes/%s/overlay", n->name);
			path = pathbuf;
			token = n->token;
			break;
		case ST_UP:
			method = "POST";
			(void)snprintf(pathbuf, sizeof(pathbuf), "/api/v1/nodes/%s/phase", n->name);
			path = pathbuf;
			token = n->token;
			blen = (size_t)snprintf(body, sizeof(body), "{\"phase\":\"up\",\"receipt\":"
			    "{\"kernel\":\"%s\",\"initrd\":\"%s\",\"rootfs\":\"%s\"}}",
			    n->img->kernel, n->img->initrd, n->img->rootfs);
			break;
		case ST_FAILED:
			method = "POST";
			(void)snprintf(pathbuf, sizeof(pathbuf), "/api/v1/nodes/%s/phase", n->name);
			path = pathbuf;
			token = n->token;
			blen = (size_t)snprintf(body, sizeof(body),
			    "{\"phase\":\"failed\",\"reason\":\"%s\"}", n->why);
			break;
		case ST_DONE:
			return false;
		}
	}
	n->req_len = (size_t)snprintf(n->req, sizeof(n->req),
	    "%s %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: iPXE/1.21.1\r\nConnection: close\r\n"
	    "%s%s%s",
	    method, path, arg_addr, arg_port, token ? "Authorization: Bearer " : "",
	    token ? token : "", token ? "\r\n" : "");
	if (blen)
		n->req_len += (size_t)snprintf(n->req + n->req_len, sizeof(n->req) - n->req_len,
		    "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s", blen, body);
	else
		n->req_len += (size_t)snprintf(n->req + n->req_len, sizeof(n->req) - n->req_len,
		    "\r\n");
	return n->req_len < sizeof(n->req);
}

static int
node_connect(struct node *n, int idx)
{
	struct sockaddr_in src = { .sin_family = AF_INET };
	int one = 1;

	if (!node_request(n, idx))
		return -EMSGSIZE;
	n->req_off = 0;
	n->hdr_len = 0;
	n->body_len = 0;
	n->in_body = false;
	n->status = 0;
	n->body_left = -1;
	n->t_req = now();
	n->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (n->fd < 0)
		return -errno;
	node_addr(idx, &src.sin_addr);
	/* the port is picked at connect(), per (source, destination): 3,780 sources never
	 * run out of ports */
	(void)setsockopt(n->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
	if (bind(n->fd, (struct sockaddr *)&src, sizeof(src)) < 0 ||
	    (connect(n->fd, (struct sockaddr *)&srv, sizeof(srv)) < 0 && errno != EINPROGRESS)) {
		int r = -errno;
		close(n->fd);
		n->fd = -1;
		return r;
	}
	struct epoll_event ev = { .events = EPOLLOUT | EPOLLIN, .data.u32 = (uint32_t)idx };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, n->fd, &ev) < 0)
		return -errno;
	return 0;
}

static void
node_close(struct node *n)
{
	if (n->fd >= 0) {
		(void)epoll_ctl(ep, EPOLL_CTL_DEL, n->fd, NULL);
		close(n->fd);
		n->fd = -1;
	}
}

static void node_go(struct node *n, int idx, enum step step, double delay);

/* After a failed attempt's report: the next attempt after 5 s x the attempt, or, after
 * the last, a reboot into iPXE. */
static void
node_after_failed_report(struct node *n, int idx)
{
	if (n->attempt < INIT_ATTEMPTS) {
		double d = INIT_BACKOFF_S * n->attempt;
		n->attempt++;
		n->tries = 0;
		node_go(n, idx, ST_IMAGING, d);
		return;
	}
	if (++n->reboots > MAX_REBOOTS) {
		n->failed = n->done = true;
		return;
	}
	n_reboots++;
	node_go(n, idx, ST_SCRIPT, INIT_REBOOT_S);
}

/* Go to step now, or after delay seconds (the wake scan connects it then). */
static void
node_go(struct node *n, int idx, enum step step, double delay)
{
	n->step = step;
	if (delay > 0) {
		n->wake_at = now() + delay;
		return;
	}
	if (node_connect(n, idx) < 0) {
		node_close(n);
		n->wake_at = now() + 1; /* no socket: ask again in a second */
	}
}

/* The init's attempt failed at step (why): it reports `failed` with the reason. */
static void
attempt_failed(struct node *n, int idx, const char *step, const char *why)
{
	(void)snprintf(n->why, sizeof(n->why), "%s: %s", step, why);
	for (char *c = n->why; *c; c++)
		if (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20)
			*c = '_';
	n_attempts_failed++;
	node_go(n, idx, ST_FAILED, 0);
}

/* n's step failed (why): what iPXE, the init or dl-report does next. */
static void
node_fail(struct node *n, int idx, const char *why)
{
	note_error(n, why);
	node_close(n);
	if (nref) {
		/* the reference fetches files only: all over again, as iPXE would */
		n_ipxe_retries++;
		node_go(n, idx, ST_SCRIPT, IPXE_START_RETRY_S);
		return;
	}
	switch (n->step) {
	case ST_SCRIPT:
	case ST_KERNEL:
	case ST_INITRD:
	case ST_CRED:
		n_ipxe_retries++;
		node_go(n, idx, ST_SCRIPT, n->poll_s > 0 ? n->poll_s : IPXE_START_RETRY_S);
		return;
	case ST_IMAGING:
		/* the init logs the failed report and goes on */
		node_go(n, idx, ST_ROOTFS, 0);
		return;
	case ST_ROOTFS:
		if (++n->tries < ROOTFS_TRIES) {
			double b = (double)(1 << (n->tries - 1));
			n_rootfs_retries++;
			node_go(n, idx, ST_ROOTFS, b > ROOTFS_BACKOFF_MAX_S ? ROOTFS_BACKOFF_MAX_S : b);
			return;
		}
		attempt_failed(n, idx, "fetch rootfs", why);
		return;
	case ST_OVERLAY:
		attempt_failed(n, idx, "fetch overlay", why);
		return;
	case ST_FAILED:
	case ST_DONE:
		break;
	case ST_UP:
		if (++n->tries < UP_TRIES && !strstr(why, "status 4")) {
			n_up_retries++;
			node_go(n, idx, ST_UP, (double)(1 << (n->tries - 1)));
			return;
		}
		n->failed = n->done = true;
		return;
	}
	/* the `failed` report itself failed: the init ignores that too */
	node_after_failed_report(n, idx);
}

/* The value of "key=" in the space-separated words of line (up to its end), into buf. */
static bool
word_value(const char *line, const char *end, const char *key, char *buf, size_t size)
{
	size_t kl = strlen(key);

	for (const char *p = line; p < end; ) {
		const char *w = p, *we = p;
		while (we < end && *we != ' ')
			we++;
		if ((size_t)(we - w) > kl && memcmp(w, key, kl) == 0 && (size_t)(we - w) - kl < size) {
			memcpy(buf, w + kl, (size_t)(we - w) - kl);
			buf[(size_t)(we - w) - kl] = '\0';
			return true;
		}
		p = we + 1;
	}
	return false;
}

/* The path of an absolute URL's first word at s, into buf. */
static bool
url_path(const char *s, const char *end, char *buf, size_t size)
{
	const char *p = memmem(s, (size_t)(end - s), "://", 3), *e;

	if (!p || !(p = memchr(p + 3, '/', (size_t)(end - p - 3))))
		return false;
	for (e = p; e < end && *e != ' ' && *e != '\n'; e++)
		;
	if ((size_t)(e - p) >= size)
		return false;
	memcpy(buf, p, (size_t)(e - p));
	buf[e - p] = '\0';
	return true;
}

/* A line of the script beginning with prefix, or NULL; *ret_end its end. */
static const char *
script_line(const char *s, const char *prefix, const char **ret_end)
{
	size_t pl = strlen(prefix);

	for (const char *l = s; l && *l; ) {
		const char *e = strchr(l, '\n');
		if (!e)
			e = l + strlen(l);
		if ((size_t)(e - l) >= pl && memcmp(l, prefix, pl) == 0) {
			*ret_end = e;
			return l;
		}
		l = *e ? e + 1 : NULL;
	}
	return NULL;
}

/* The script arrived: a linux boot script sets the node's next steps; a hold script
 * has it ask again after its sleep. */
static int
node_script(struct node *n)
{
	const char *l, *e;
	char id[80], rootfs[80], node[40];

	if (!n->body)
		return -EPROTO;
	n->body[n->body_len] = '\0';
	if ((l = script_line(n->body, "kernel ", &e))) {
		if (!url_path(l + 7, e, n->kernel, sizeof(n->kernel)) ||
		    !word_value(l, e, "dl.image=", id, sizeof(id)) ||
		    !word_value(l, e, "dl.rootfs=", rootfs, sizeof(rootfs)) ||
		    !word_value(l, e, "dl.node=", node, sizeof(node)) || strlen(node) >= sizeof(n->name))
			return -EPROTO;
		strcpy(n->name, node);
		n->img = NULL;
		for (int i = 0; i < nimages; i++)
			if (strcmp(images[i].id, id) == 0)
				n->img = &images[i];
		if (!n->img || strcmp(n->img->rootfs, rootfs) != 0)
			return -ENOENT;
		if (!(l = script_line(n->body, "initrd --name initrd ", &e)) ||
		    !url_path(l, e, n->initrd, sizeof(n->initrd)) ||
		    !(l = script_line(n->body, "initrd --name credential ", &e)) ||
		    !url_path(l, e, n->cred, sizeof(n->cred)))
			return -EPROTO;
		if (arg_expect && strcmp(arg_expect, id) != 0)
			wrong_image++;
		if ((l = script_line(n->body, "sleep ", &e)))
			n->poll_s = strtod(l + 6, NULL);
		return 1;
	}
	if ((l = script_line(n->body, "sleep ", &e))) {
		char *x;
		double s = strtod(l + 6, &x);
		if (x == l + 6 || s < 0 || s > 3600)
			return -EPROTO;
		holds++;
		n->poll_s = s;
		n->wake_at = now() + s;
		return 0;
	}
	return -EPROTO;
}

/* The credential archive: a newc cpio in one stored deflate block, so its one file's
 * `token=<hex>` line is there as is (bootsvc/boot/credential.c). */
static int
node_cred(struct node *n)
{
	const char *p;
	size_t k = 0;

	if (!n->body)
		return -EPROTO;
	p = memmem(n->body, n->body_len, "token=", 6);
	if (!p)
		return -EPROTO;
	p += 6;
	while (p + k < n->body + n->body_len && k < MAX_TOKEN &&
	    ((p[k] >= '0' && p[k] <= '9') || (p[k] >= 'a' && p[k] <= 'f')))
		k++;
	if (k < 32)
		return -EPROTO;
	memcpy(n->token, p, k);
	n->token[k] = '\0';
	return 0;
}

/* One request is over with status and body: check, and go on to the next step. */
static void
node_next(struct node *n, int idx, bool ok)
{
	char why[64];
	int r, want;

	if (!nref && n->step <= ST_DONE)
		step_s[n->step] += now() - n->t_req;
	node_close(n);
	if (!ok)
		return node_fail(n, idx, "connection closed early or malformed answer");
	if (nref) {
		if (n->status != 200)
			return node_fail(n, idx, "status not 200");
		if (++n->step >= (enum step)nref) {
			n->done = true;
			n->t_up = now();
			return;
		}
		return node_go(n, idx, n->step, 0);
	}
	want = n->step == ST_IMAGING || n->step == ST_UP || n->step == ST_FAILED ? 204 : 200;
	if (n->status != want && n->step != ST_FAILED) {
		(void)snprintf(why, sizeof(why), "status %d, expected %d", n->status, want);
		return node_fail(n, idx, why);
	}
	switch (n->step) {
	case ST_SCRIPT:
		r = node_script(n);
		if (r < 0)
			return node_fail(n, idx, r == -ENOENT ? "script names an image not given "
			    "with -I" : "script not understood");
		if (r == 0)
			return; /* held: asks again at wake_at */
		return node_go(n, idx, ST_KERNEL, 0);
	case ST_KERNEL:
		return node_go(n, idx, ST_INITRD, 0);
	case ST_INITRD:
		return node_go(n, idx, ST_CRED, 0);
	case ST_CRED:
		if (node_cred(n) < 0)
			return node_fail(n, idx, "credential archive has no token");
		/* the kernel boots, the init starts its first attempt */
		n->attempt = 1;
		n->tries = 0;
		return node_go(n, idx, ST_IMAGING, 0);
	case ST_IMAGING:
		n->tries = 0;
		return node_go(n, idx, ST_ROOTFS, 0);
	case ST_ROOTFS:
		return node_go(n, idx, ST_OVERLAY, 0);
	case ST_OVERLAY:
		/* switch_root, the image's init, dl-report */
		n->tries = 0;
		return node_go(n, idx, ST_UP, 0);
	case ST_UP:
		n->done = true;
		n->t_up = now();
		return;
	case ST_FAILED:
		return node_after_failed_report(n, idx);
	case ST_DONE:
		break;
	}
}

/* Parse the status line and Content-Length once the header is complete. */
static int
node_header(struct node *n, size_t *ret_body_in_hdr)
{
	char *end = memmem(n->hdr, n->hdr_len, "\r\n\r\n", 4);
	if (!end)
		return n->hdr_len >= sizeof(n->hdr) ? -EMSGSIZE : 0;
	size_t hlen = (size_t)(end - n->hdr) + 4;
	if (n->hdr_len < 12 || memcmp(n->hdr, "HTTP/1.", 7) != 0)
		return -EPROTO;
	n->status = (n->hdr[9] - '0') * 100 + (n->hdr[10] - '0') * 10 + (n->hdr[11] - '0');
	n->body_left = n->status == 204 ? 0 : -1;
	for (char *l = n->hdr; l < end; ) {
		char *nl = memmem(l, (size_t)(end - l) + 2, "\r\n", 2);
		if (!nl)
			break;
		if ((size_t)(nl - l) > 15 && strncasecmp(l, "content-length:", 15) == 0) {
			char tmp[32], *e;
			size_t k = (size_t)(nl - l) - 15;
			if (k >= sizeof(tmp))
				return -EPROTO;
			memcpy(tmp, l + 15, k);
			tmp[k] = '\0';
			n->body_left = strtoll(tmp, &e, 10);
			while (*e == ' ')
				e++;
			if (*e || n->body_left < 0)
				return -EPROTO;
		}
		l = nl + 2;
	}
	if (n->keep_body && n->body_left >= MAX_BODY)
		return -EMSGSIZE;
	n->in_body = true;
	*ret_body_in_hdr = n->hdr_len - hlen;
	if (n->keep_body) {
		memcpy(n->body, end + 4, *ret_body_in_hdr);
		n->body_len = *ret_body_in_hdr;
	}
	return 1;
}

static void
node_event(struct node *n, int idx, uint32_t events)
{
	if (n->req_off < n->req_len) {
		if (events & (EPOLLERR | EPOLLHUP) && !(events & EPOLLIN)) {
			node_next(n, idx, false);
			return;
		}
		if (!(events & EPOLLOUT))
			return;
		ssize_t k = send(n->fd, n->req + n->req_off, n->req_len - n->req_off, MSG_NOSIGNAL);
		if (k < 0) {
			if (errno != EAGAIN)
				node_next(n, idx, false);
			return;
		}
		n->req_off += (size_t)k;
		if (n->req_off == n->req_len) {
			struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)idx };
			(void)epoll_ctl(ep, EPOLL_CTL_MOD, n->fd, &ev);
		}
		return;
	}
	for (;;) {
		ssize_t k;
		if (!n->in_body) {
			k = recv(n->fd, n->hdr + n->hdr_len, sizeof(n->hdr) - n->hdr_len, 0);
			if (k > 0) {
				size_t extra = 0;
				n->hdr_len += (size_t)k;
				total_bytes += (unsigned long long)k;
				int r = node_header(n, &extra);
				if (r < 0) {
					node_next(n, idx, false);
					return;
				}
				if (r > 0 && n->body_left >= 0) {
					n->body_left -= (long long)extra;
					if (n->body_left <= 0) {
						node_next(n, idx, n->body_left == 0);
						return;
					}
				}
				continue;
			}
		} else if (n->keep_body) {
			k = recv(n->fd, n->body + n->body_len, MAX_BODY - 1 - n->body_len, 0);
			if (k > 0) {
				n->body_len += (size_t)k;
				total_bytes += (unsigned long long)k;
				if (n->body_left >= 0 && (n->body_left -= k) <= 0) {
					node_next(n, idx, n->body_left == 0);
					return;
				}
				if (n->body_len >= MAX_BODY - 1) {
					node_next(n, idx, false);
					return;
				}
				continue;
			}
		} else {
			/* MSG_TRUNC on TCP: the kernel drops the bytes without copying them. */
			size_t want = n->body_left < 0 || n->body_left > (1 << 30) ? (1 << 30) :
			    (size_t)n->body_left;
			k = recv(n->fd, NULL, want, MSG_TRUNC);
			if (k > 0) {
				total_bytes += (unsigned long long)k;
				if (n->body_left >= 0 && (n->body_left -= k) == 0) {
					node_next(n, idx, true);
					return;
				}
				continue;
			}
		}
		if (k == 0) {
			/* EOF: the end of a body without Content-Length, else too early */
			node_next(n, idx, n->in_body && n->body_left < 0);
			return;
		}
		if (errno != EAGAIN)
			node_next(n, idx, false);
		return;
	}
}

/* -I ID,KERNEL,INITRD,ROOTFS: four 64-hex fields. */
static bool
parse_image(char *s, struct image *img)
{
	char *f[4];
	int k = 0;

	for (char *p = strtok(s, ","); p && k < 4; p = strtok(NULL, ","))
		f[k++] = p;
	if (k != 4)
		return false;
	for (int i = 0; i < 4; i++)
		if (strlen(f[i]) != 64 || strspn(f[i], "0123456789abcdef") != 64)
			return false;
	strcpy(img->id, f[0]);
	strcpy(img->kernel, f[1]);
	strcpy(img->initrd, f[2]);
	strcpy(img->rootfs, f[3]);
	return true;
}

static int
usage(void)
{
	fprintf(stderr, "usage: node_sim -a ADDR -p PORT -n NODES [-f FIRST] [-c INFLIGHT] [-t SECONDS] "
	    "[-e IMAGE_ID] -I ID,KERNEL_SHA256,INITRD_TREE,ROOTFS_SHA256 [-I ...]\n"
	    "       node_sim -a ADDR -p PORT -n NODES [-c INFLIGHT] [-t SECONDS] -R PATH[,PATH...]\n");
	return 2;
}

int
main(int argc, char **argv)
{
	int opt;

	while ((opt = getopt(argc, argv, "a:p:n:f:c:t:e:I:R:")) != -1) {
		char *e;
		switch (opt) {
		case 'a': arg_addr = optarg; break;
		case 'p': arg_port = (int)strtol(optarg, &e, 10); if (*e) return usage(); break;
		case 'n': arg_nodes = (int)strtol(optarg, &e, 10); if (*e) return usage(); break;
		case 'f': arg_first = (int)strtol(optarg, &e, 10); if (*e) return usage(); break;
		case 'c': arg_inflight = (int)strtol(optarg, &e, 10); if (*e) return usage(); break;
		case 't': arg_timeout = strtod(optarg, &e); if (*e) return usage(); break;
		case 'e': arg_expect = optarg; break;
		case 'I':
			if (nimages == MAX_IMAGES || !parse_image(optarg, &images[nimages++]))
				return usage();
			break;
		case 'R':
			for (char *p = strtok(optarg, ","); p; p = strtok(NULL, ",")) {
				if (nref == MAX_PATHS || *p != '/' || strlen(p) > 200)
					return usage();
				ref_paths[nref++] = p;
			}
			break;
		default: return usage();
		}
	}
	if (arg_nodes < 1 || arg_first < 0 || arg_first + arg_nodes > MAX_NODES || optind != argc ||
	    (!nref && !nimages) ||
	    arg_inflight < 0)
		return usage();
	if (!arg_inflight || arg_inflight > arg_nodes)
		arg_inflight = arg_nodes;

	/* One socket per node in flight: raise the limit to 65536 where root may, else to
	 * the hard limit, and keep the nodes in flight within it. */
	struct rlimit rl = { .rlim_cur = 65536, .rlim_max = 65536 };
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
		if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
			return perror("node_sim: getrlimit"), 1;
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < FD_MARGIN + 1) {
		fprintf(stderr, "node_sim: RLIMIT_NOFILE %llu leaves no fd for a node\n",
		    (unsigned long long)rl.rlim_cur);
		return 2;
	}
	if ((rlim_t)arg_inflight > rl.rlim_cur - FD_MARGIN)
		arg_inflight = (int)(rl.rlim_cur - FD_MARGIN);
	srv.sin_family = AF_INET;
	srv.sin_port = htons((uint16_t)arg_port);
	if (inet_pton(AF_INET, arg_addr, &srv.sin_addr) != 1) {
		fprintf(stderr, "node_sim: address '%s' is not a dotted quad\n", arg_addr);
		return 2;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	struct node *nodes = calloc((size_t)arg_nodes, sizeof(*nodes));
	struct epoll_event *evs = calloc(1024, sizeof(*evs));
	double *boot_s = calloc((size_t)arg_nodes, sizeof(*boot_s));
	if (ep < 0 || !nodes || !evs || !boot_s) {
		fprintf(stderr, "node_sim: out of memory or fds\n");
		return 1;
	}
	for (int i = 0; i < arg_nodes; i++) {
		nodes[i].fd = -1;
		if (!nref && !(nodes[i].body = malloc(MAX_BODY))) {
			fprintf(stderr, "node_sim: out of memory\n");
			return 1;
		}
	}
	double t0 = now(), next_scan = 0;
	int left = arg_nodes, next = 0;
	bool timed_out = false;
/* a node just finished (up or failed): its slot goes to the next one */
#define SETTLE(n) do { if ((n)->done && (n)->started) { (n)->started = false; inflight--; left--; } } while (0)
	while (left > 0) {
		double t = now(), rem = arg_timeout - (t - t0);
		if (rem <= 0) {
			timed_out = true;
			break;
		}
		/* start nodes up to the in-flight bound; wake the waiting ones */
		while (next < arg_nodes && inflight < arg_inflight) {
			struct node *n = &nodes[next];
			n->started = true;
			n->t_start = t;
			inflight++;
			node_go(n, next, ST_SCRIPT, 0);
			SETTLE(n);
			next++;
		}
		if (t >= next_scan) {
			for (int i = 0; i < next; i++) {
				struct node *n = &nodes[i];
				if (n->done || n->wake_at <= 0 || n->wake_at > t)
					continue;
				n->wake_at = 0;
				node_go(n, i, n->step, 0);
				SETTLE(n);
			}
			next_scan = t + 0.05;
		}
		if (left == 0)
			break;
		int k = epoll_wait(ep, evs, 1024, 50);
		if (k < 0 && errno != EINTR)
			break;
		for (int j = 0; j < k; j++) {
			int idx = (int)evs[j].data.u32;
			if (nodes[idx].done || nodes[idx].fd < 0)
				continue;
			node_event(&nodes[idx], idx, evs[j].events);
			SETTLE(&nodes[idx]);
		}
	}
	double wall = now() - t0;
	int ok = 0, failed = 0, nb = 0;
	for (int i = 0; i < arg_nodes; i++) {
		if (nodes[i].done && !nodes[i].failed) {
			ok++;
			boot_s[nb++] = nodes[i].t_up - nodes[i].t_start;
		} else {
			failed++;
		}
	}
	qsort(boot_s, (size_t)nb, sizeof(*boot_s), cmp_double);
	printf("nodes=%d inflight=%d ok=%d failed=%d timed_out=%d ipxe_retries=%d "
	    "attempts_failed=%d rootfs_retries=%d up_retries=%d reboots=%d holds=%d "
	    "wrong_image=%d bytes=%llu wall_s=%.3f mib_s=%.1f boot_p50_s=%.3f boot_p99_s=%.3f "
	    "boot_max_s=%.3f\n", arg_nodes, arg_inflight, ok, failed, timed_out, n_ipxe_retries,
	    n_attempts_failed, n_rootfs_retries, n_up_retries, n_reboots, holds, wrong_image, total_bytes, wall, total_bytes / wall / 1048576.0,
	    nb ? boot_s[(nb - 1) * 50 / 100] : -1, nb ? boot_s[(nb - 1) * 99 / 100] : -1,
	    nb ? boot_s[nb - 1] : -1);
	if (!nref) {
		/* where a node's boot went, on average: step=seconds,... */
		printf("node_step_s=");
		for (int i = 0; i < ST_DONE; i++)
			printf("%s%s:%.3f", i ? "," : "", step_name[i], step_s[i] / arg_nodes);
		printf("\n");
	}
	if (last_error[0])
		fprintf(stderr, "node_sim: last error: %s\n", last_error);
	for (int i = 0; i < arg_nodes; i++) {
		node_close(&nodes[i]);
		free(nodes[i].body);
	}
	free(nodes);
	free(evs);
	free(boot_s);
	close(ep);
	return failed || timed_out || wrong_image ? 1 : 0;
}
