/* SPDX-License-Identifier: MIT */
/* httpflood: the connection flood of issue 11 from one process, for tests/integ only.
 *
 *   httpflood ADDR PORT [--idle N] [--trickle N] [--every MS] [--seconds S]
 *             [--src A.B.C.D] [--nsrc K]
 *
 * Opens N idle connections (connect, then silence) and N trickling ones (a GET request
 * head one byte per --every ms, never finished), from --src and the K-1 addresses after
 * it (round robin), and reopens each one the server closes a second later, for --seconds. Every second
 * it prints "t=S open=N closed_idle=N closed_trickle=N connect_failed=N"; at the end a
 * summary with the longest a trickling connection lived. Exits 0; a bad command line 2. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "parse.h"

/* More would need a second source port range; 12,000 is the flood. */
#define MAX_CONNS 60000

static const char request[] = "GET /ipxe/boot?mac=52:54:00:ff:ff:ff HTTP/1.1\r\nHost: x\r\n"
			      "X-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";

struct conn {
	int fd;
	bool trickle;
	bool connected;
	size_t sent;
	uint64_t opened, next_byte;
	uint64_t reopen_at; /* closed by the server: open again then */
};

/* A closed connection is reopened after this: the flood keeps its numbers up without
 * spinning both ends on accept-and-close (which would starve the test's qemu node). */
#define REOPEN_MS 1000

static uint64_t
now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static struct sockaddr_in dst;
static uint32_t src_first;
static unsigned n_src = 1, next_src;
static int epfd;
static unsigned long long n_open, closed_idle, closed_trickle, connect_failed;
static uint64_t trickle_longest;

static void
conn_open(struct conn *c)
{
	struct sockaddr_in src = { .sin_family = AF_INET };
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP, .data.ptr = c };

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		connect_failed++;
		c->reopen_at = now_ms() + REOPEN_MS;
		return;
	}
	if (src_first) {
		src.sin_addr.s_addr = htonl(src_first + next_src++ % n_src);
		(void)bind(c->fd, (struct sockaddr *)&src, sizeof(src));
	}
	if (connect(c->fd, (struct sockaddr *)&dst, sizeof(dst)) < 0 && errno != EINPROGRESS) {
		connect_failed++;
		c->reopen_at = now_ms() + REOPEN_MS;
		close(c->fd);
		c->fd = -1;
		return;
	}
	c->connected = false;
	c->sent = 0;
	c->opened = now_ms();
	c->next_byte = c->opened;
	(void)epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
	n_open++;
}

static void
conn_closed(struct conn *c)
{
	if (c->trickle) {
		closed_trickle++;
		if (now_ms() - c->opened > trickle_longest)
			trickle_longest = now_ms() - c->opened;
	} else
		closed_idle++;
	(void)epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	c->reopen_at = now_ms() + REOPEN_MS;
	n_open--;
}

static int
parse_count(const char *s, uint64_t max, unsigned *ret)
{
	struct dl_err err = { 0 };
	uint64_t u;

	if (parse_u64(s, 0, max, &u, &err) < 0) {
		fprintf(stderr, "httpflood: %s\n", err.msg);
		return -1;
	}
	*ret = (unsigned)u;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "idle", required_argument, NULL, 'i' },
		{ "trickle", required_argument, NULL, 't' },
		{ "every", required_argument, NULL, 'e' },
		{ "seconds", required_argument, NULL, 's' },
		{ "src", required_argument, NULL, 'S' },
		{ "nsrc", required_argument, NULL, 'n' },
		{ 0 },
	};
	unsigned idle = 0, trickle = 0, every = 1000, seconds = 60, port;
	struct rlimit rl;
	struct conn *conns;
	struct in_addr a;
	uint64_t start, end, next_report;
	size_t n;

	for (int o; (o = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
		int r = 0;
		switch (o) {
		case 'i': r = parse_count(optarg, MAX_CONNS, &idle); break;
		case 't': r = parse_count(optarg, MAX_CONNS, &trickle); break;
		case 'e': r = parse_count(optarg, 600000, &every); break;
		case 's': r = parse_count(optarg, 86400, &seconds); break;
		case 'n': r = parse_count(optarg, 65536, &n_src); break;
		case 'S':
			if (inet_pton(AF_INET, optarg, &a) != 1) {
				fprintf(stderr, "httpflood: --src '%s' is not IPv4\n", optarg);
				return 2;
			}
			src_first = ntohl(a.s_addr);
			break;
		default: return 2;
		}
		if (r < 0)
			return 2;
	}
	if (argc - optind != 2 || inet_pton(AF_INET, argv[optind], &dst.sin_addr) != 1 ||
	    parse_count(argv[optind + 1], 65535, &port) < 0 || idle + trickle > MAX_CONNS ||
	    n_src == 0) {
		fprintf(stderr, "usage: httpflood ADDR PORT [--idle N] [--trickle N] [--every MS] "
				"[--seconds S] [--src ADDR] [--nsrc K]\n");
		return 2;
	}
	dst.sin_family = AF_INET;
	dst.sin_port = htons((uint16_t)port);
	/* Root in a test namespace may lift its own limit: every connection is an fd. */
	rl.rlim_cur = rl.rlim_max = idle + trickle + 64;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		fprintf(stderr, "httpflood: cannot raise RLIMIT_NOFILE to %llu: %s\n",
		    (unsigned long long)rl.rlim_cur, strerror(errno));
	n = (size_t)idle + trickle;
	conns = calloc(n ? n : 1, sizeof(*conns));
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!conns || epfd < 0)
		return 1;
	for (size_t i = 0; i < n; i++) {
		conns[i].trickle = i >= idle;
		conn_open(&conns[i]);
	}
	start = now_ms();
	end = start + (uint64_t)seconds * 1000;
	next_report = start + 1000;
	for (uint64_t t = start; t < end; t = now_ms()) {
		struct epoll_event evs[512];
		int k = epoll_wait(epfd, evs, 512, 50);

		for (int i = 0; i < k; i++) {
			struct conn *c = evs[i].data.ptr;
			if (c->fd < 0)
				continue;
			/* Anything from the server (an answer, its end) ends this connection. */
			if (evs[i].events & (EPOLLERR | EPOLLHUP | EPOLLRDHUP | EPOLLIN)) {
				conn_closed(c);
				continue;
			}
			if ((evs[i].events & EPOLLOUT) && !c->connected) {
				struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = c };
				c->connected = true;
				(void)epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
			}
		}
		for (size_t i = 0; i < n; i++) {
			struct conn *c = &conns[i];
			if (c->fd < 0) {
				if (t >= c->reopen_at)
					conn_open(c);
				continue;
			}
			if (c->trickle && c->connected && t >= c->next_byte) {
				if (send(c->fd, request + c->sent % (sizeof(request) - 1), 1,
				    MSG_NOSIGNAL | MSG_DONTWAIT) == 1)
					c->sent++;
				c->next_byte = t + every;
			}
		}
		if (t >= next_report) {
			printf("t=%llu open=%llu closed_idle=%llu closed_trickle=%llu "
			       "connect_failed=%llu\n", (unsigned long long)(t - start) / 1000,
			    n_open, closed_idle, closed_trickle, connect_failed);
			fflush(stdout);
			next_report += 1000;
		}
	}
	printf("done open=%llu closed_idle=%llu closed_trickle=%llu connect_failed=%llu "
	       "trickle_longest_ms=%llu\n", n_open, closed_idle, closed_trickle, connect_failed,
	    (unsigned long long)trickle_longest);
	return 0;
}
