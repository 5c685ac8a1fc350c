/* SPDX-License-Identifier: MIT */
/* nodectl's remote control: --server/--cert/--key/--ca on the command line, where the
 * client config and the environment take over (client_conf.c), host:port splitting,
 * and the TLS transport end to end in one process: certificates made by tls_pki.c,
 * bootsvc's server side (control_tls.c) on loopback in this thread, nodectl's client.c
 * calling it from another. */
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../bootsvc/control/control_tls.h"
#include "../../nodectl/client.h"
#include "../../nodectl/client_conf.h"
#include "../../nodectl/cmd.h"
#include "../../nodectl/tls_client.h"
#include "tls_pki.h"
#include "macro.h"
#include "tmpdir.h"

static void
test_split(void **state)
{
	static const struct {
		const char *in, *host;
		unsigned port;
		const char *err;
	} v[] = {
		{ "10.0.0.1:8443", "10.0.0.1", 8443, NULL },
		{ "boot.example.org:1", "boot.example.org", 1, NULL },
		{ "[fd00::1]:65535", "fd00::1", 65535, NULL },
		{ "10.0.0.1", NULL, 0, "not host:port" },
		{ "fd00::1:80", NULL, 0, "not host:port" },
		{ ":80", NULL, 0, "the host is empty" },
		{ "h:", NULL, 0, "port is not a number" },
		{ "h:0", NULL, 0, "port is not a number" },
		{ "h:65536", NULL, 0, "port is not a number" },
		{ "h:+80", NULL, 0, "port is not a number" },
		{ "h:80x", NULL, 0, "port is not a number" },
		{ "[fd00::1]80", NULL, 0, "not [ipv6]:port" },
	};
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		char host[64] = "";
		unsigned port = 0;
		struct dl_err e = { 0 };
		int r = tls_client_split(v[i].in, host, sizeof(host), &port, &e);

		if (v[i].host) {
			if (r != 0 || !streq(host, v[i].host) || port != v[i].port)
				fail_msg("'%s': %d '%s' %u %s", v[i].in, r, host, port, e.msg);
		} else if (r != -EINVAL || !strstr(e.msg, v[i].err))
			fail_msg("'%s': %d '%s', want '%s'", v[i].in, r, e.msg, v[i].err);
	}
}

/* The connection options parse after the command like every common option. */
static void
test_options(void **state)
{
	char a0[] = "list", a1[] = "--server", a2[] = "h:1", a3[] = "--cert", a4[] = "/c",
	     a5[] = "--key", a6[] = "/k", a7[] = "--ca", a8[] = "/a", e1[] = "--cert", e2[] = "";
	char *argv[] = { a0, a1, a2, a3, a4, a5, a6, a7, a8, NULL };
	char *empty[] = { a0, e1, e2, NULL };
	struct cmd_opts opts = { 0 };
	struct dl_err err = { 0 };
	json_t *args = NULL;

	(void)state;
	assert_int_equal(cmd_node_list_parse(9, argv, &opts, &args, &err), 0);
	assert_string_equal(opts.server, "h:1");
	assert_string_equal(opts.cert, "/c");
	assert_string_equal(opts.key, "/k");
	assert_string_equal(opts.ca, "/a");
	json_decref(args);
	memset(&opts, 0, sizeof(opts));
	args = NULL;
	assert_int_equal(cmd_node_list_parse(3, empty, &opts, &args, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "option --cert is empty"));
}

struct resolve_vector {
	int line;
	struct cmd_opts opts;
	const char *env_socket;
	const char *conf;      /* client config text, or NULL: no file */
	const char *want;      /* "unix:PATH" or "tls:SERVER CERT KEY CA" */
	const char *err;
};

static const struct resolve_vector resolve_vectors[] = {
	{ __LINE__, { 0 }, NULL, NULL, "unix:/run/default.sock", NULL },
	{ __LINE__, { 0 }, "/env.sock", NULL, "unix:/env.sock", NULL },
	{ __LINE__, { .socket = "/opt.sock" }, "/env.sock", "server = h:1\n", "unix:/opt.sock",
	  NULL },
	{ __LINE__, { .server = "h:2", .cert = "c", .key = "k", .ca = "a" }, "/env.sock", NULL,
	  "tls:h:2 c k a", NULL },
	/* the config file: a server in it is the default when no socket was asked for */
	{ __LINE__, { 0 }, NULL, "server = h:3\ncert = /c\nkey = /k\nca = /a\n",
	  "tls:h:3 /c /k /a", NULL },
	{ __LINE__, { 0 }, "/env.sock", "server = h:3\ncert = /c\nkey = /k\nca = /a\n",
	  "unix:/env.sock", NULL },
	/* options win over the file, key by key */
	{ __LINE__, { .server = "h:4", .cert = "c2" }, NULL,
	  "server = h:3\ncert = /c\nkey = /k\nca = /a\n", "tls:h:4 c2 /k /a", NULL },
	{ __LINE__, { 0 }, NULL, "# only paths\ncert = /c\nkey = /k\nca = /a\n",
	  "unix:/run/default.sock", NULL },
	/* mistakes */
	{ __LINE__, { .socket = "/s", .server = "h:1" }, NULL, NULL, NULL, "exclude each other" },
	{ __LINE__, { .socket = "/s", .cert = "c" }, NULL, NULL, NULL, "--cert is for --server" },
	{ __LINE__, { .cert = "c" }, NULL, NULL, NULL, "option --cert needs --server" },
	{ __LINE__, { .server = "h:1" }, NULL, NULL, NULL, "needs a client certificate" },
	{ __LINE__, { .server = "h:1", .cert = "c", .key = "k" }, NULL, NULL, NULL,
	  "needs the CA" },
	{ __LINE__, { .server = "h" }, NULL, NULL, NULL, "option --server: server 'h' is not" },
	{ __LINE__, { 0 }, NULL, "server = h:1\nport = 2\n", NULL, "unknown key 'port'" },
	{ __LINE__, { 0 }, NULL, "server = h:1\ncert = c\n", NULL, "not an absolute path" },
	{ __LINE__, { 0 }, NULL, "server = nohost\n", NULL, ":1: server 'nohost'" },
};

static void
test_resolve(void **state)
{
	char path[128];

	(void)state;
	(void)snprintf(path, sizeof(path), "%s/client.conf", tmpdir);
	for (size_t i = 0; i < ELEMENTSOF(resolve_vectors); i++) {
		const struct resolve_vector *v = &resolve_vectors[i];
		struct client_target t;
		struct dl_err e = { 0 };
		char got[4200];
		int r;

		if (v->conf)
			tmpdir_write(path, v->conf, strlen(v->conf), 0644, 0);
		r = client_conf_resolve(&v->opts, v->env_socket, path, "/run/default.sock", &t, &e);
		if (!v->conf) /* no file: as with the default path when it does not exist */
			r = client_conf_resolve(&v->opts, v->env_socket, NULL, "/run/default.sock", &t,
			    &e);
		(void)unlink(path);
		if (v->err) {
			if (r != -EINVAL || !strstr(e.msg, v->err))
				fail_msg("line %d: %d '%s', want '%s'", v->line, r, e.msg, v->err);
			continue;
		}
		if (r != 0)
			fail_msg("line %d: %d %s", v->line, r, e.msg);
		if (t.tls)
			(void)snprintf(got, sizeof(got), "tls:%s %s %s %s", t.server, t.cert, t.key,
			    t.ca);
		else
			(void)snprintf(got, sizeof(got), "unix:%s", t.socket);
		if (!streq(got, v->want))
			fail_msg("line %d: got '%s', want '%s'", v->line, got, v->want);
	}
}

static void
test_missing_named_conf(void **state)
{
	struct cmd_opts opts = { 0 };
	struct client_target t;
	struct dl_err e = { 0 };

	(void)state;
	assert_int_equal(client_conf_resolve(&opts, NULL, "/nonexistent/client.conf", "/s", &t,
	    &e), -ENOENT);
	assert_non_null(strstr(e.msg, "/nonexistent/client.conf"));
}

static void
test_pki_names(void **state)
{
	(void)state;
	assert_true(tls_pki_name_is_valid("sched-01.example_x"));
	assert_false(tls_pki_name_is_valid(""));
	assert_false(tls_pki_name_is_valid(".hidden"));
	assert_false(tls_pki_name_is_valid("-x"));
	assert_false(tls_pki_name_is_valid("a/b"));
	assert_false(tls_pki_name_is_valid("ca"));
	assert_false(tls_pki_name_is_valid("a b"));
}

/* cmd_tls_main: argv -> files, exit codes, messages naming the option. */
static void
test_cmd_tls(void **state)
{
	static const struct {
		int line;
		const char *argv; /* words; DIR is replaced by the test's directory */
		int want;
		const char *err;  /* substring of stderr */
	} v[] = {
		{ __LINE__, "tls issue c1 --role admin --dir DIR", NODECTL_EXIT_DAEMON,
		  "cannot read the CA in" },
		{ __LINE__, "tls init --dir DIR --days 2", NODECTL_EXIT_OK, NULL },
		{ __LINE__, "tls init --dir DIR", NODECTL_EXIT_DAEMON, "already holds a CA" },
		{ __LINE__, "tls issue c1 --role scheduler --dir DIR", NODECTL_EXIT_OK, NULL },
		{ __LINE__, "tls issue c1 --role scheduler --dir DIR", NODECTL_EXIT_DAEMON,
		  "already exists" },
		{ __LINE__, "tls issue s1 --server --san 10.0.0.1 --san boot1 --dir DIR",
		  NODECTL_EXIT_OK, NULL },
		{ __LINE__, "tls issue c2 --dir DIR", NODECTL_EXIT_USAGE, "either --role" },
		{ __LINE__, "tls issue c2 --role admin --server --dir DIR", NODECTL_EXIT_USAGE,
		  "either --role" },
		{ __LINE__, "tls issue c2 --role root --dir DIR", NODECTL_EXIT_USAGE,
		  "'root' is not a role" },
		{ __LINE__, "tls issue c2 --role admin --san x --dir DIR", NODECTL_EXIT_USAGE,
		  "--san is for --server" },
		{ __LINE__, "tls issue c2 --role admin --days 0 --dir DIR", NODECTL_EXIT_USAGE,
		  "option --days" },
		{ __LINE__, "tls issue ../c2 --role admin --dir DIR", NODECTL_EXIT_USAGE,
		  "is not [A-Za-z0-9._-]" },
		{ __LINE__, "tls issue --role admin --dir DIR", NODECTL_EXIT_USAGE, "missing NAME" },
		{ __LINE__, "tls issue a b --role admin --dir DIR", NODECTL_EXIT_USAGE,
		  "unexpected operand 'b'" },
		{ __LINE__, "tls init --role admin --dir DIR", NODECTL_EXIT_USAGE, "is for tls issue" },
		{ __LINE__, "tls frob", NODECTL_EXIT_USAGE, "unknown verb 'frob'" },
		{ __LINE__, "tls init --bogus", NODECTL_EXIT_USAGE, "unknown option '--bogus'" },
	};
	char dir[128];

	(void)state;
	(void)snprintf(dir, sizeof(dir), "%s/cmd", tmpdir);
	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		char words[512], *argv[16], *save = NULL, *errbuf = NULL, *outbuf = NULL;
		size_t errlen = 0, outlen = 0;
		int argc = 0, r;
		FILE *err = open_memstream(&errbuf, &errlen);
		FILE *out = open_memstream(&outbuf, &outlen);

		assert_non_null(err);
		assert_non_null(out);
		(void)snprintf(words, sizeof(words), "%s", v[i].argv);
		for (char *w = strtok_r(words, " ", &save); w && argc < 15;
		    w = strtok_r(NULL, " ", &save))
			argv[argc++] = streq(w, "DIR") ? dir : w;
		argv[argc] = NULL;
		r = cmd_tls_main(argc, argv, out, err);
		(void)fclose(err);
		(void)fclose(out);
		if (r != v[i].want || (v[i].err && !strstr(errbuf, v[i].err)))
			fail_msg("line %d: exit %d, want %d; stderr '%s'", v[i].line, r, v[i].want,
			    errbuf);
		free(errbuf);
		free(outbuf);
	}
	rm_rf(dir);
}

/* --- the transport end to end */

struct peer {
	char server[64], cert[256], key[256], ca[256];
	int r;
	bool ok;
	char msg[MAX_ERR_MSG];
	char result[256];
};

static void *
client_thread(void *arg)
{
	struct peer *p = arg;
	struct client *c = NULL;
	struct client_reply reply = { 0 };
	struct dl_err e = { 0 };

	p->r = client_connect_tls(p->server, p->cert, p->key, p->ca, &c, &e);
	if (p->r == 0) {
		c->timeout_ms = 10000;
		p->r = client_call(c, "ping", NULL, &reply, &e);
		client_free(c);
	}
	if (p->r == 0) {
		p->ok = reply.ok;
		(void)snprintf(p->msg, sizeof(p->msg), "%s", reply.message);
		if (reply.ok) {
			char *s = json_dumps(reply.result, JSON_COMPACT | JSON_SORT_KEYS);
			(void)snprintf(p->result, sizeof(p->result), "%s", s ? s : "");
			free(s);
		}
		client_reply_done(&reply);
	} else
		(void)snprintf(p->msg, sizeof(p->msg), "%s", e.msg);
	return NULL;
}

/* Serve one connection on t's listener as control.c does, answering one line with a
 * canned response; *ret_role is the client's role, or -1 when it was refused. */
static void
serve_one(struct control_tls *t, int *ret_role, char *who, size_t who_size)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	struct pollfd lp = { .fd = control_tls_fd(t), .events = POLLIN };
	struct control_tls_conn *c;
	char buf[4096];
	size_t have = 0;
	int fd, r;

	assert_int_equal(poll(&lp, 1, 10000), 1);
	fd = accept4(control_tls_fd(t), (struct sockaddr *)&sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
	assert_true(fd >= 0);
	c = control_tls_conn_new(t, fd, "test");
	assert_non_null(c);
	*ret_role = -1;
	for (int rounds = 0; rounds < 1000; rounds++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		r = control_tls_conn_handshake(c);
		if (r == 0)
			break;
		if (r != -EAGAIN)
			goto out;
		if (control_tls_conn_wants_write(c))
			p.events |= POLLOUT;
		assert_true(poll(&p, 1, 10000) == 1);
	}
	assert_int_equal(r, 0);
	*ret_role = (int)control_tls_conn_role(c);
	(void)snprintf(who, who_size, "%s", control_tls_conn_who(c));
	while (!memchr(buf, '\n', have)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n = control_tls_conn_recv(c, buf + have, sizeof(buf) - have);

		if (n == -EAGAIN) {
			assert_true(poll(&p, 1, 10000) == 1);
			continue;
		}
		assert_true(n > 0);
		have += (size_t)n;
	}
	static const char answer[] = "{\"id\":1,\"ok\":true,\"result\":{\"version\":\"tls\"}}\n";
	size_t off = 0;
	while (off < sizeof(answer) - 1) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		ssize_t n = control_tls_conn_send(c, answer + off, sizeof(answer) - 1 - off);

		if (n == -EAGAIN) {
			assert_true(poll(&p, 1, 10000) == 1);
			continue;
		}
		assert_true(n > 0);
		off += (size_t)n;
	}
out:
	control_tls_conn_free(c);
	close(fd);
}

static void
test_transport(void **state)
{
	char dir[128], other[128], crt[4096], key[4096];
	struct tls_pki_req req = { .name = "sched", .role = ROLE_SCHEDULER, .days = 1 };
	struct tls_pki_req srv = { .name = "127.0.0.1", .server = true, .days = 1 };
	struct tls_pki_req evil = { .name = "evil", .role = ROLE_ADMIN, .days = 1 };
	struct control_tls *t = NULL;
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	struct dl_err e = { 0 };
	char who[128];
	int role;

	(void)state;
	(void)snprintf(dir, sizeof(dir), "%s/pki", tmpdir);
	(void)snprintf(other, sizeof(other), "%s/other", tmpdir);
	assert_int_equal(tls_pki_init(dir, 2, &e), 0);
	assert_int_equal(tls_pki_init(dir, 2, &e), -EEXIST);
	assert_int_equal(tls_pki_issue(dir, &req, crt, key, sizeof(crt), &e), 0);
	assert_int_equal(tls_pki_issue(dir, &req, crt, key, sizeof(crt), &e), -EEXIST);
	assert_int_equal(tls_pki_issue(dir, &srv, crt, key, sizeof(crt), &e), 0);
	assert_int_equal(tls_pki_init(other, 2, &e), 0);
	assert_int_equal(tls_pki_issue(other, &evil, crt, key, sizeof(crt), &e), 0);
	struct stat st;
	assert_int_equal(stat(key, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	(void)snprintf(crt, sizeof(crt), "%s/127.0.0.1.crt", dir);
	(void)snprintf(key, sizeof(key), "%s/127.0.0.1.key", dir);
	char ca[256];
	(void)snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
	if (control_tls_new(crt, key, ca, "127.0.0.1", 0, &t, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(getsockname(control_tls_fd(t), (struct sockaddr *)&sa, &len), 0);

	/* a scheduler: served, its role and name known to the server */
	struct peer p = { 0 };
	pthread_t th;
	(void)snprintf(p.server, sizeof(p.server), "127.0.0.1:%u", ntohs(sa.sin_port));
	(void)snprintf(p.cert, sizeof(p.cert), "%s/sched.crt", dir);
	(void)snprintf(p.key, sizeof(p.key), "%s/sched.key", dir);
	(void)snprintf(p.ca, sizeof(p.ca), "%s", ca);
	assert_int_equal(pthread_create(&th, NULL, client_thread, &p), 0);
	serve_one(t, &role, who, sizeof(who));
	assert_int_equal(pthread_join(th, NULL), 0);
	if (p.r != 0 || !p.ok)
		fail_msg("client: %d %s", p.r, p.msg);
	assert_string_equal(p.result, "{\"version\":\"tls\"}");
	assert_int_equal(role, ROLE_SCHEDULER);
	assert_string_equal(who, "sched");

	/* another CA's certificate: the client reads why */
	struct peer q = p;
	(void)snprintf(q.cert, sizeof(q.cert), "%s/evil.crt", other);
	(void)snprintf(q.key, sizeof(q.key), "%s/evil.key", other);
	assert_int_equal(pthread_create(&th, NULL, client_thread, &q), 0);
	serve_one(t, &role, who, sizeof(who));
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(role, -1);
	assert_int_equal(q.r, 0);
	assert_false(q.ok);
	assert_non_null(strstr(q.msg, "not signed by this bootsvc's CA"));

	/* the client checks the server: another CA for --ca */
	struct peer s = p;
	(void)snprintf(s.ca, sizeof(s.ca), "%s/ca.crt", other);
	assert_int_equal(pthread_create(&th, NULL, client_thread, &s), 0);
	serve_one(t, &role, who, sizeof(who));
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(role, -1);
	assert_int_equal(s.r, -EPERM);
	assert_non_null(strstr(s.msg, "does not verify against the CA"));

	control_tls_free(t);
	rm_rf(dir);
	rm_rf(other);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_missing_named_conf),
		cmocka_unit_test(test_pki_names),
		cmocka_unit_test(test_cmd_tls),
		cmocka_unit_test(test_transport),
	};
	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
