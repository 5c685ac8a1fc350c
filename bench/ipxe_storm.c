/* ipxe_storm: N simulated iPXE clients at once, each replaying the fetch sequence of one
 * network boot: its script, then the kernel, the initrd and the rootfs, one HTTP/1.0-style
 * connection per file as iPXE and the init open them. One thread, one epoll set; bodies are
 * discarded in the kernel with recv(MSG_TRUNC), so the client costs little CPU next to the
 * server it measures (bench/run.sh, docs/benchmarks.md). A client sends its request as
 * its connection opens; each wake serves the sockets of scripts before those of file
 * bodies, and a body one recv.
 *
 * A script's latency runs from just before its connect to the moment the kernel took in
 * the answer's last bytes (SO_TIMESTAMPNS on the client's socket), not to when this thread
 * got round to reading them: a node reads its answer at once, where this one thread reads
 * N sockets in turn and, at N = 200, opens the others' connections first (3-7 ms, which a
 * latency taken at the read counted for every early answer). -R takes it at the read
 * instead, as before.
 *
 *   ipxe_storm -a ADDR -p PORT -n CLIENTS -s SCRIPT_FMT [-M MACPREFIX] [-t SECONDS]
 *              [-L FILE] [-D FILE] [-R] PATH...
 *
 * SCRIPT_FMT is the script's path with one %s for the client's MAC: MACPREFIX (four octets,
 * default 52:54:00:01) then the client index i as %02d:%02d of i / 100 and i % 100, the
 * MACs `nodectl node add --mac 52:54:00:01:[00-99]:[00-99]` registered; PATH... the files. Prints
 * one line of key=value: clients, ok, failed, bytes, wall_s, mib_s, script_p50_ms,
 * script_p99_ms, unstamped (answers without the kernel's stamp, measured at the read; 0
 * is expected). -L appends each script's latency in ms to FILE, one a line, so a caller
 * can take percentiles over the answers of several storms (bench/run.sh: one storm's p99
 * of 50 answers is its second slowest). -D appends a line "# round" (with the storm's start
 * on CLOCK_MONOTONIC, the clock of `perf record -k mono`), then one line per
 * script: the client's index, and in ms since the storm began, its connect, its answer's
 * arrival (nan when the kernel did not stamp it) and its read (a round's timeline: which
 * answers waited, and from when). Exits 1
 * if a client failed or the deadline passed.
 *
 * A fetch counts only if the status is 200 and exactly Content-Length bytes arrived. */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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

/* The storm rows go to 1000 clients; more would need a bigger fd limit than Debian's. */
#define MAX_CLIENTS 20000
/* Paths after the script: kernel, initrd, rootfs, and a little room. */
#define MAX_PATHS 8
/* Response header bytes we parse; a longer header is a failure. */
#define MAX_HEADER 8192

struct client {
	int fd;
	int step;              /* 0 = script, 1.. = paths[step - 1] */
	char req[512];
	size_t req_len, req_off;
	char hdr[MAX_HEADER];
	size_t hdr_len;
	bool in_body;
	long long body_left;
	double t_start;      /* CLOCK_REALTIME, the clock of the kernel's receive stamps */
	double t_arrived;    /* the script's last bytes reached the socket (SO_TIMESTAMPNS) */
	bool done, failed;
};

static const char *arg_addr = "127.0.0.1";
static int arg_port = 8080;
static int arg_clients = 50;
static const char *arg_script = "/ipxe/boot?mac=%s";
static const char *arg_macpfx = "52:54:00:01";
static double arg_timeout = 600;
static const char *arg_latfile;
static bool arg_stamp = true;
static const char *arg_dump;
static FILE *dump;
static double t0_real;
static int unstamped;
static const char *paths[MAX_PATHS];
static int npaths;

static struct sockaddr_in sa;
static int ep;
static unsigned long long total_bytes;
static double *script_ms;
static int nscript;

/* Seconds on clock id: CLOCK_MONOTONIC for the storm's own times, CLOCK_REALTIME beside
 * the kernel's receive stamps. */
static double
clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* recv, and the time the kernel took in the last of the bytes it returned
 * (SO_TIMESTAMPNS; 0 without one). */
static ssize_t
recv_stamped(int fd, void *buf, size_t len, int flags, double *arrived)
{
	char cbuf[CMSG_SPACE(sizeof(struct timespec))];
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
		.msg_controllen = sizeof(cbuf) };
	ssize_t n = recvmsg(fd, &mh, flags);

	if (n <= 0)
		return n;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec ts;

			memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
			*arrived = ts.tv_sec + ts.tv_nsec / 1e9;
		}
	}
	return n;
}

/* c's recv: for its script (and unless -R), with the kernel's arrival stamp into
 * c->t_arrived; a file body's plain. */
static ssize_t
client_recv(struct client *c, void *buf, size_t len, int flags)
{
	if (c->step == 0 && arg_stamp)
		return recv_stamped(c->fd, buf, len, flags, &c->t_arrived);
	return recv(c->fd, buf, len, flags);
}

/* The kernel stamps received packets only while some socket asks, and turns that on in
 * deferred work (a static key) when the first asks: a round's first answers came in
 * unstamped while that work waited for a CPU. So a TCP pair on loopback that asks is held
 * open for the whole run, and the storm starts once a byte over it comes back stamped
 * (UDP would not tell: its receive path stamps a packet that came in unstamped). */
static int
stamps_on(void)
{
	struct sockaddr_in self = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(self);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, c = -1, a = -1;
	int r = -1;

	if (l < 0 || bind(l, (struct sockaddr *)&self, sizeof(self)) < 0 || listen(l, 1) < 0 ||
	    getsockname(l, (struct sockaddr *)&self, &len) < 0 ||
	    (c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(c, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) < 0 ||
	    connect(c, (struct sockaddr *)&self, sizeof(self)) < 0 ||
	    (a = accept(l, NULL, NULL)) < 0)
		goto out;
	for (int i = 0; i < 1000 && r < 0; i++) {
		char b;
		double at = 0;

		if (send(a, "x", 1, 0) != 1 || recv_stamped(c, &b, 1, 0, &at) != 1)
			break;
		if (at > 0)
			r = c; /* c and a stay open: the pair that keeps stamping on */
		else
			usleep(1000);
	}
out:
	if (l >= 0)
		close(l);
	if (r < 0) {
		if (c >= 0)
			close(c);
		if (a >= 0)
			close(a);
	}
	return r;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int
client_start(struct client *c, int idx)
{
	char mac[32], path[256];
	const char *p;

	if (c->step == 0) {
		/* decimal digits are hex digits too: nodectl's hostlists count in decimal */
		(void)snprintf(mac, sizeof(mac), "%s:%02d:%02d", arg_macpfx, (idx / 100) % 100,
		    idx % 100);
		(void)snprintf(path, sizeof(path), arg_script, mac);
		p = path;
	} else {
		p = paths[c->step - 1];
	}
	c->req_len = (size_t)snprintf(c->req, sizeof(c->req),
	    "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: iPXE/1.21.1\r\nConnection: close\r\n\r\n",
	    p, arg_addr);
	c->req_off = 0;
	c->hdr_len = 0;
	c->in_body = false;
	c->body_left = -1;
	c->t_start = clock_s(CLOCK_REALTIME);
	c->t_arrived = 0;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	if (c->step == 0 && arg_stamp) {
		int one = 1;
		(void)setsockopt(c->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	}
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
		int r = -errno;
		close(c->fd);
		c->fd = -1;
		return r;
	}
	/* The request goes at once if the connection is up (loopback's handshake is done
	 * inside connect): a node sends its request as soon as its own connection opens, not
	 * after this thread has opened the other clients' (up to 7 ms at N = 200, which was
	 * counted as every script's latency). Otherwise, or for what is left, on EPOLLOUT. */
	ssize_t n = send(c->fd, c->req, c->req_len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n > 0)
		c->req_off = (size_t)n;
	struct epoll_event ev = { .events = (c->req_off < c->req_len ? EPOLLOUT : 0) | EPOLLIN,
		.data.u32 = (uint32_t)idx };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
		return -errno;
	return 0;
}

/* This fetch is over: next one, or the client is done. */
static void
client_next(struct client *c, int idx, bool ok)
{
	(void)epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	if (!ok) {
		c->failed = c->done = true;
		return;
	}
	if (c->step == 0 && dump) /* an arrival without the kernel's stamp: nan */
		fprintf(dump, "%d %.3f %.3f %.3f\n", idx, (c->t_start - t0_real) * 1e3,
		    c->t_arrived > 0 ? (c->t_arrived - t0_real) * 1e3 : NAN,
		    (clock_s(CLOCK_REALTIME) - t0_real) * 1e3);
	if (c->step == 0) {
		if (arg_stamp && c->t_arrived > 0)
			script_ms[nscript++] = (c->t_arrived - c->t_start) * 1000.0;
		else {
			/* -R, or no stamp came (counted): taken at the read */
			if (arg_stamp)
				unstamped++;
			script_ms[nscript++] = (clock_s(CLOCK_REALTIME) - c->t_start) * 1000.0;
		}
	}
	if (++c->step > npaths) {
		c->done = true;
		return;
	}
	if (client_start(c, idx) < 0)
		c->failed = c->done = true;
}

/* Parse the status line and Content-Length once the header is complete. */
static int
client_header(struct client *c, size_t *ret_body_in_hdr)
{
	char *end = memmem(c->hdr, c->hdr_len, "\r\n\r\n", 4);
	if (!end)
		return c->hdr_len >= sizeof(c->hdr) ? -EMSGSIZE : 0;
	size_t hlen = (size_t)(end - c->hdr) + 4;
	if (c->hdr_len < 12 || memcmp(c->hdr + 9, "200", 3) != 0)
		return -EPROTO;
	c->body_left = -1;
	for (char *l = c->hdr; l < end; ) {
		char *nl = memmem(l, (size_t)(end - l) + 2, "\r\n", 2);
		if (!nl)
			break;
		if ((size_t)(nl - l) > 15 && strncasecmp(l, "content-length:", 15) == 0) {
			char tmp[32];
			size_t n = (size_t)(nl - l) - 15;
			if (n >= sizeof(tmp))
				return -EPROTO;
			memcpy(tmp, l + 15, n);
			tmp[n] = '\0';
			char *e;
			c->body_left = strtoll(tmp, &e, 10);
			while (*e == ' ')
				e++;
			if (*e || c->body_left < 0)
				return -EPROTO;
		}
		l = nl + 2;
	}
	if (c->body_left < 0)
		return -EPROTO;
	c->in_body = true;
	*ret_body_in_hdr = c->hdr_len - hlen;
	return 1;
}

static void
client_event(struct client *c, int idx, uint32_t events)
{
	if (c->req_off < c->req_len) {
		if (events & (EPOLLERR | EPOLLHUP) && !(events & EPOLLIN)) {
			client_next(c, idx, false);
			return;
		}
		if (!(events & EPOLLOUT))
			return;
		ssize_t n = send(c->fd, c->req + c->req_off, c->req_len - c->req_off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno != EAGAIN)
				client_next(c, idx, false);
			return;
		}
		c->req_off += (size_t)n;
		if (c->req_off == c->req_len) {
			struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)idx };
			(void)epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
		}
		return;
	}
	for (;;) {
		ssize_t n;
		if (!c->in_body) {
			n = client_recv(c, c->hdr + c->hdr_len, sizeof(c->hdr) - c->hdr_len, 0);
			if (n > 0) {
				size_t extra = 0;
				c->hdr_len += (size_t)n;
				total_bytes += (unsigned long long)n;
				int r = client_header(c, &extra);
				if (r < 0) {
					client_next(c, idx, false);
					return;
				}
				if (r > 0) {
					c->body_left -= (long long)extra;
					if (c->body_left <= 0) {
						client_next(c, idx, c->body_left == 0);
						return;
					}
				}
				continue;
			}
		} else {
			/* MSG_TRUNC on TCP: the kernel drops the bytes without copying them. */
			size_t want = c->body_left > (1 << 30) ? (1 << 30) : (size_t)c->body_left;
			n = client_recv(c, NULL, want, MSG_TRUNC);
			if (n > 0) {
				total_bytes += (unsigned long long)n;
				c->body_left -= n;
				if (c->body_left == 0) {
					client_next(c, idx, true);
					return;
				}
				/* A file's body: one recv per wake (epoll reports it again), so
				 * a server that refills it as fast as it is read cannot keep
				 * this one thread from the other clients' scripts. */
				if (c->step > 0)
					return;
				continue;
			}
		}
		if (n == 0) {
			client_next(c, idx, false); /* closed early */
			return;
		}
		if (errno != EAGAIN)
			client_next(c, idx, false);
		return;
	}
}

static int
usage(void)
{
	fprintf(stderr, "usage: ipxe_storm -a ADDR -p PORT -n CLIENTS -s SCRIPT_FMT [-M MACPREFIX] "
	    "[-t SECONDS] [-L FILE] PATH...\n");
	return 2;
}

int
main(int argc, char **argv)
{
	int opt;

	while ((opt = getopt(argc, argv, "a:p:n:s:M:t:L:RD:")) != -1) {
		char *e;
		switch (opt) {
		case 'a': arg_addr = optarg; break;
		case 'p': arg_port = (int)strtol(optarg, &e, 10); if (*e) return usage(); break;
		case 'n': arg_clients = (int)strtol(optarg, &e, 10); if (*e) return usage(); break;
		case 's': arg_script = optarg; break;
		case 'M': arg_macpfx = optarg; break;
		case 't': arg_timeout = strtod(optarg, &e); if (*e) return usage(); break;
		case 'L': arg_latfile = optarg; break;
		case 'R': arg_stamp = false; break;
		case 'D': arg_dump = optarg; break;
		default: return usage();
		}
	}
	if (arg_clients < 1 || arg_clients > MAX_CLIENTS || arg_clients > 10000 || argc - optind > MAX_PATHS)
		return usage();
	for (int i = optind; i < argc; i++)
		paths[npaths++] = argv[i];

	struct rlimit rl = { .rlim_cur = 65536, .rlim_max = 65536 };
	(void)setrlimit(RLIMIT_NOFILE, &rl); /* best effort: 1000 clients fit the default too */
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)arg_port);
	if (inet_pton(AF_INET, arg_addr, &sa.sin_addr) != 1) {
		fprintf(stderr, "ipxe_storm: address '%s' is not a dotted quad\n", arg_addr);
		return 2;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	struct client *cl = calloc((size_t)arg_clients, sizeof(*cl));
	script_ms = calloc((size_t)arg_clients, sizeof(*script_ms));
	struct epoll_event *evs = calloc(1024, sizeof(*evs));
	bool *handled = calloc(1024, sizeof(*handled));
	if (ep < 0 || !cl || !script_ms || !evs || !handled) {
		fprintf(stderr, "ipxe_storm: out of memory or fds\n");
		return 1;
	}
	if (arg_stamp && stamps_on() < 0) {
		fprintf(stderr, "ipxe_storm: the kernel does not stamp received packets\n");
		return 1;
	}
	double t0 = clock_s(CLOCK_MONOTONIC);
	t0_real = clock_s(CLOCK_REALTIME);
	if (arg_dump && !(dump = fopen(arg_dump, "a")))
		return 1;
	if (dump)
		fprintf(dump, "# round monotonic_s=%.6f\n", t0); /* beside a profile's clock */
	int left = arg_clients;
	for (int i = 0; i < arg_clients; i++) {
		cl[i].fd = -1;
		if (client_start(&cl[i], i) < 0) {
			cl[i].failed = cl[i].done = true;
			left--;
		}
	}
	bool timed_out = false;
	while (left > 0) {
		double rem = arg_timeout - (clock_s(CLOCK_MONOTONIC) - t0);
		if (rem <= 0) {
			timed_out = true;
			break;
		}
		int n = epoll_wait(ep, evs, 1024, rem > 1 ? 1000 : (int)(rem * 1000) + 1);
		if (n < 0 && errno != EINTR)
			break;
		/* Scripts first: the clients still fetching theirs, then the file bodies. A
		 * node is a machine of its own, whose script is not read after other nodes'
		 * kernels; one thread reading both must not add the bulk's time to the script
		 * latency it reports (docs/benchmarks.md, boot storm). */
		for (int pass = 0; pass < 2; pass++) {
			for (int k = 0; k < n; k++) {
				int idx = (int)evs[k].data.u32;
				if (handled[k] || cl[idx].done || (cl[idx].step == 0) != (pass == 0))
					continue;
				handled[k] = true;
				client_event(&cl[idx], idx, evs[k].events);
				if (cl[idx].done)
					left--;
			}
		}
		memset(handled, 0, (size_t)(n > 0 ? n : 0) * sizeof(*handled));
	}
	double wall = clock_s(CLOCK_MONOTONIC) - t0;
	int ok = 0, failed = 0;
	for (int i = 0; i < arg_clients; i++) {
		if (cl[i].done && !cl[i].failed)
			ok++;
		else
			failed++;
	}
	qsort(script_ms, (size_t)nscript, sizeof(*script_ms), cmp_double);
	double p50 = nscript ? script_ms[(nscript - 1) * 50 / 100] : -1;
	double p99 = nscript ? script_ms[(nscript - 1) * 99 / 100] : -1;
	if (arg_latfile) {
		FILE *f = fopen(arg_latfile, "a");

		if (!f) {
			fprintf(stderr, "ipxe_storm: cannot open %s\n", arg_latfile);
			return 1;
		}
		for (int i = 0; i < nscript; i++)
			fprintf(f, "%.3f\n", script_ms[i]);
		if (fclose(f) != 0) {
			fprintf(stderr, "ipxe_storm: cannot write %s\n", arg_latfile);
			return 1;
		}
	}
	printf("clients=%d ok=%d failed=%d timed_out=%d bytes=%llu wall_s=%.3f mib_s=%.1f "
	    "script_p50_ms=%.2f script_p99_ms=%.2f unstamped=%d\n", arg_clients, ok, failed,
	    timed_out, total_bytes, wall, total_bytes / wall / 1048576.0, p50, p99, unstamped);
	return failed ? 1 : 0;
}
