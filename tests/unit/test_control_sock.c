/* SPDX-License-Identifier: MIT */
/* The control socket's client handling (issue 11) on a real Unix socket and a real loop:
 * a half-closing client gets its whole reply; a pipelining client does not keep another
 * from being served; a client that never reads is not served further and is closed;
 * an idle client is closed with a line saying why; the client past the table gets a line
 * before it is closed, and the last slots are root's. Each test failed before the fix. */
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../bootsvc/control/control.h"
#include "log.h"
#include "loop_wait.h"
#include "store_dir.h"

/* Nodes in the store: enough that node.list is larger than a socket's buffers. */
#define N_NODES 1000

struct fixture {
	struct store_dir sd;
	struct bootsvc bs;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct dl_err e = { 0 };
	char *out;
	static const char add[] = "{\"id\":1,\"verb\":\"node.add\",\"args\":{\"names\":"
				  "\"n[0000-0999]\",\"macs\":\"52:54:00:00:[00-09]:[00-99]\"}}";

	if (!f)
		return -1;
	config_init(&f->bs.cfg);
	if (config_set(&f->bs.cfg, "node_ip_range", "10.1.0.1,10.1.15.250", &e) < 0 ||
	    config_set(&f->bs.cfg, "control_idle_timeout", "1s", &e) < 0 ||
	    config_set(&f->bs.cfg, "control_group", "nogroup", &e) < 0 ||
	    store_dir_open(&f->sd) < 0)
		return -1;
	f->bs.store = f->sd.s;
	(void)chmod(f->sd.dir, 0755); /* the non-root peer reaches the socket */
	(void)snprintf(f->bs.cfg.control_socket, sizeof(f->bs.cfg.control_socket), "%s/c.sock",
	    f->sd.dir);
	log_set_level(LOG_ERR);
	out = control_handle_line(&f->bs, add, strlen(add));
	if (!out || !strstr(out, "\"ok\":true"))
		return -1;
	free(out);
	if (loop_new(&f->bs.loop) < 0 || control_start(&f->bs, &f->bs.control, &e) < 0)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	f->bs.control = control_stop(f->bs.control);
	f->bs.loop = loop_free(f->bs.loop);
	store_dir_remove(&f->sd);
	free(f);
	return 0;
}

static int
connect_to(struct fixture *f)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	strcpy(sa.sun_path, f->bs.cfg.control_socket);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void
send_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
		assert_true(w > 0);
		s += w;
		n -= (size_t)w;
	}
}

/* What a client has read so far; eof once the daemon closed it. */
struct reader {
	int fd;
	char *buf;
	size_t len;
	bool eof;
};

static void
reader_sample(void *arg)
{
	struct reader *r = arg;
	char tmp[65536];
	ssize_t n = -1;

	while (!r->eof && (n = recv(r->fd, tmp, sizeof(tmp), MSG_DONTWAIT)) != 0) {
		if (n < 0) {
			if (errno == ECONNRESET)
				r->eof = true;
			return;
		}
		r->buf = realloc(r->buf, r->len + (size_t)n + 1);
		assert_non_null(r->buf);
		memcpy(r->buf + r->len, tmp, (size_t)n);
		r->len += (size_t)n;
		r->buf[r->len] = '\0';
	}
	if (n == 0)
		r->eof = true;
}

static bool
reader_eof(void *arg)
{
	return ((struct reader *)arg)->eof;
}

static size_t
lines(const struct reader *r)
{
	size_t n = 0;

	for (size_t i = 0; i < r->len; i++)
		n += r->buf[i] == '\n';
	return n;
}

/* node.list, then shutdown(SHUT_WR): the whole reply, then end of stream (before: the
 * daemon flushed once at the client's EOF and closed, 1.1 of 1.5 MB sent). */
static void
test_half_close_gets_whole_reply(void **state)
{
	struct fixture *f = *state;
	static const char req[] = "{\"id\":7,\"verb\":\"node.list\"}";
	char *want = control_handle_line(&f->bs, req, strlen(req));
	struct reader r = { .fd = connect_to(f) };

	assert_non_null(want);
	assert_true(strlen(want) > 300 * 1024); /* more than a socket buffer (212,992) holds */
	send_all(r.fd, req, strlen(req));
	send_all(r.fd, "\n", 1);
	assert_int_equal(shutdown(r.fd, SHUT_WR), 0);
	assert_true(loop_wait(f->bs.loop, reader_eof, reader_sample, &r, 10000));
	assert_int_equal(r.len, strlen(want));
	assert_memory_equal(r.buf, want, r.len);
	free(want);
	free(r.buf);
	close(r.fd);
}

struct fair {
	struct fixture *f;
	struct reader b;
	uint64_t served_when_b_answered;
};

static void
fair_sample(void *arg)
{
	struct fair *w = arg;

	reader_sample(&w->b);
	if (w->b.len && !w->served_when_b_answered)
		w->served_when_b_answered = w->f->bs.metrics.control_requests;
}

static bool
fair_done(void *arg)
{
	return ((struct fair *)arg)->served_when_b_answered > 0;
}

static bool
one_served(void *arg)
{
	return ((struct fixture *)arg)->bs.metrics.control_requests > 0;
}

/* A pipelines 400 requests in one write; B, arriving after A is being served, is answered
 * long before A's pipeline is done (before: A's whole pipeline was served in one go). */
static void
test_pipelining_client_does_not_starve_another(void **state)
{
	struct fixture *f = *state;
	static const char ping[] = "{\"id\":1,\"verb\":\"ping\"}\n";
	struct fair w = { .f = f };
	char *many = malloc(400 * (sizeof(ping) - 1));
	int a = connect_to(f);

	assert_non_null(many);
	for (int i = 0; i < 400; i++)
		memcpy(many + i * (sizeof(ping) - 1), ping, sizeof(ping) - 1);
	send_all(a, many, 400 * (sizeof(ping) - 1));
	f->bs.metrics.control_requests = 0;
	assert_true(loop_wait(f->bs.loop, one_served, NULL, f, 5000));
	w.b.fd = connect_to(f);
	send_all(w.b.fd, ping, sizeof(ping) - 1);
	assert_true(loop_wait(f->bs.loop, fair_done, fair_sample, &w, 5000));
	print_message("B answered after %llu requests of 401\n",
	    (unsigned long long)w.served_when_b_answered);
	assert_true(w.served_when_b_answered < 400);
	free(many);
	free(w.b.buf);
	close(a);
	close(w.b.fd);
}

/* 50 node.list of ~400 KB each, never read: the daemon serves a reply or two, then waits;
 * after control_idle_timeout without progress it closes the client (before: it queued
 * them all, 20 MB, and never closed it). */
static void
test_never_reading_client_is_bounded_and_closed(void **state)
{
	struct fixture *f = *state;
	static const char req[] = "{\"id\":1,\"verb\":\"node.list\"}\n";
	struct reader r = { 0 };
	char *many = malloc(50 * (sizeof(req) - 1));

	assert_non_null(many);
	for (int i = 0; i < 50; i++)
		memcpy(many + i * (sizeof(req) - 1), req, sizeof(req) - 1);
	r.fd = connect_to(f);
	send_all(r.fd, many, 50 * (sizeof(req) - 1));
	f->bs.metrics.control_requests = 0;
	(void)loop_wait(f->bs.loop, NULL, NULL, NULL, 2500);
	print_message("served %llu of 50 without a read\n",
	    (unsigned long long)f->bs.metrics.control_requests);
	assert_true(f->bs.metrics.control_requests <= 3);
	/* Closed: what is in our receive buffer, then end of stream. */
	reader_sample(&r);
	assert_true(r.eof);
	assert_true(r.len < 4 * 1024 * 1024);
	free(r.buf);
	free(many);
	close(r.fd);
}

/* A client that sends nothing is closed after control_idle_timeout, with a line. */
static void
test_idle_client_closed_with_a_line(void **state)
{
	struct fixture *f = *state;
	struct reader r = { .fd = connect_to(f) };

	assert_true(loop_wait(f->bs.loop, reader_eof, reader_sample, &r, 5000));
	assert_int_equal(lines(&r), 1);
	assert_non_null(strstr(r.buf, "idle"));
	free(r.buf);
	close(r.fd);
}

struct child_line {
	int fd; /* the pipe the child writes what it read to */
	char got[512];
	size_t len;
	bool done;
};

static void
child_sample(void *arg)
{
	struct child_line *c = arg;
	ssize_t n = read(c->fd, c->got + c->len, sizeof(c->got) - 1 - c->len);

	if (n > 0)
		c->len += (size_t)n;
	else if (n == 0)
		c->done = true;
}

static bool
child_done(void *arg)
{
	return ((struct child_line *)arg)->done;
}

/* In a child as nobody in group nogroup (control_group): connect, copy what the daemon
 * says until it closes (or 5 s) to the pipe. The loop runs in the parent meanwhile. */
static void
nobody_connects(struct fixture *f, struct child_line *c)
{
	struct group *g = getgrnam("nogroup");
	int p[2];
	pid_t pid;

	assert_non_null(g);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		struct pollfd pfd;
		char buf[512];
		ssize_t n;
		int fd;

		close(p[0]);
		if (setgroups(0, NULL) < 0 || setgid(g->gr_gid) < 0 || setuid(65534) < 0)
			_exit(2);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		strcpy(sa.sun_path, f->bs.cfg.control_socket);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			_exit(3);
		pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
		while (poll(&pfd, 1, 5000) > 0 && (n = read(fd, buf, sizeof(buf))) > 0)
			(void)!write(p[1], buf, (size_t)n);
		_exit(0);
	}
	close(p[1]);
	c->fd = p[0];
	(void)fcntl(c->fd, F_SETFL, O_NONBLOCK);
	assert_true(loop_wait(f->bs.loop, child_done, child_sample, c, 8000));
	close(c->fd);
	(void)waitpid(pid, NULL, 0);
}

/* As root: 128 clients fill the table; the 129th reads one line naming the limit, then
 * end of stream (before: closed without a word). With only the root-reserved slots free,
 * another user in control_group is refused with a line, and root still gets in. */
static void
test_full_table_says_so_and_keeps_root_slots(void **state)
{
	struct fixture *f = *state;
	int fds[CONTROL_MAX_CLIENTS + 1];
	struct reader r = { 0 };
	struct child_line c = { 0 };
	static const char ping[] = "{\"id\":1,\"verb\":\"ping\"}\n";

	if (geteuid() != 0)
		fail_msg("needs root: a root and a non-root peer (make check runs as root)");
	/* Accepted as they come: a Unix connect() blocks while the backlog (64) is full. */
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		fds[i] = connect_to(f);
		(void)loop_wait(f->bs.loop, NULL, NULL, NULL, 2);
	}
	r.fd = connect_to(f);
	assert_true(loop_wait(f->bs.loop, reader_eof, reader_sample, &r, 5000));
	assert_int_equal(lines(&r), 1);
	assert_non_null(strstr(r.buf, "too many control clients"));
	free(r.buf);
	close(r.fd);

	for (int i = 0; i < CONTROL_ROOT_RESERVED; i++)
		close(fds[i]);
	(void)loop_wait(f->bs.loop, NULL, NULL, NULL, 100);
	nobody_connects(f, &c);
	c.got[c.len] = '\0';
	print_message("nobody got: %s", c.got);
	assert_non_null(strstr(c.got, "kept for root"));

	memset(&r, 0, sizeof(r));
	r.fd = connect_to(f);
	send_all(r.fd, ping, sizeof(ping) - 1);
	assert_int_equal(shutdown(r.fd, SHUT_WR), 0);
	assert_true(loop_wait(f->bs.loop, reader_eof, reader_sample, &r, 5000));
	assert_non_null(strstr(r.buf, "\"version\""));
	free(r.buf);
	close(r.fd);
	for (int i = CONTROL_ROOT_RESERVED; i < CONTROL_MAX_CLIENTS; i++)
		close(fds[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_half_close_gets_whole_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipelining_client_does_not_starve_another,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_never_reading_client_is_bounded_and_closed,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_client_closed_with_a_line, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_full_table_says_so_and_keeps_root_slots,
		    setup, teardown),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
