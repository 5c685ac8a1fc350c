/* SPDX-License-Identifier: MIT */
/* nodectl/client.c: response parsing (table-driven) and the client's framing against a
 * canned peer on a socketpair or a Unix socket in a temp dir. This tests the client
 * alone; talking to the real bootsvc is the integration tests' job. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../nodectl/client.h"
#include "macro.h"
#include "proto.h"

/* Responses to a request with id 7, as docs/control-protocol.md defines them, and the
 * ways a broken or impostor peer gets them wrong. */
static const struct {
	int line;
	const char *text;
	int want_r;         /* 0 or -EPROTO */
	int want_ok;        /* when want_r == 0 */
	const char *want;   /* ok: result as JSON; error: message; failure: substring */
} response_vectors[] = {
	{ __LINE__, "{\"id\":7,\"ok\":true,\"result\":{\"version\":\"0.1\"}}", 0, 1,
	  "{\"version\":\"0.1\"}" },
	{ __LINE__, "{\"ok\":true,\"result\":{},\"id\":7}", 0, 1, "{}" },
	{ __LINE__, "{\"id\":7,\"ok\":false,\"error\":{\"code\":\"EINVAL\","
	  "\"message\":\"node 'n1x': MAC 'zz' is not six hex octets\"}}", 0, 0,
	  "node 'n1x': MAC 'zz' is not six hex octets" },
	/* The daemon could not read our line (too long, not JSON): id null, still ours. */
	{ __LINE__, "{\"id\":null,\"ok\":false,\"error\":{\"code\":\"E2BIG\","
	  "\"message\":\"line longer than 65536 bytes\"}}", 0, 0,
	  "line longer than 65536 bytes" },
	/* Control characters from the daemon never reach the terminal. */
	{ __LINE__, "{\"id\":7,\"ok\":false,\"error\":{\"code\":\"EINVAL\","
	  "\"message\":\"bad \\u001b[2J name\"}}", 0, 0, "bad ?[2J name" },

	{ __LINE__, "", -EPROTO, 0, "is not JSON" },
	{ __LINE__, "hello", -EPROTO, 0, "is not JSON" },
	{ __LINE__, "{\"id\":7,\"ok\":true,\"result\":{}", -EPROTO, 0, "is not JSON" },
	{ __LINE__, "{\"id\":7,\"id\":7,\"ok\":true,\"result\":{}}", -EPROTO, 0, "is not JSON" },
	{ __LINE__, "[7,true]", -EPROTO, 0, "not a JSON object" },
	{ __LINE__, "{\"id\":8,\"ok\":true,\"result\":{}}", -EPROTO, 0,
	  "has id 8, the request had id 7" },
	{ __LINE__, "{\"id\":\"7\",\"ok\":true,\"result\":{}}", -EPROTO, 0, "has id \"7\"" },
	{ __LINE__, "{\"ok\":true,\"result\":{}}", -EPROTO, 0, "no 'id'" },
	{ __LINE__, "{\"id\":null,\"ok\":true,\"result\":{}}", -EPROTO, 0, "id null but says ok" },
	{ __LINE__, "{\"id\":7,\"result\":{}}", -EPROTO, 0, "no boolean 'ok'" },
	{ __LINE__, "{\"id\":7,\"ok\":1,\"result\":{}}", -EPROTO, 0, "no boolean 'ok'" },
	{ __LINE__, "{\"id\":7,\"ok\":true}", -EPROTO, 0, "no result object" },
	{ __LINE__, "{\"id\":7,\"ok\":true,\"result\":[]}", -EPROTO, 0, "no result object" },
	{ __LINE__, "{\"id\":7,\"ok\":true,\"result\":{},\"error\":{}}", -EPROTO, 0,
	  "says ok but carries an error" },
	{ __LINE__, "{\"id\":7,\"ok\":false}", -EPROTO, 0, "no error object" },
	{ __LINE__, "{\"id\":7,\"ok\":false,\"result\":{},\"error\":{}}", -EPROTO, 0,
	  "carries a result" },
	{ __LINE__, "{\"id\":7,\"ok\":false,\"error\":{\"code\":\"EINVAL\"}}", -EPROTO, 0,
	  "lacks a string 'code' or 'message'" },
	{ __LINE__, "{\"id\":7,\"ok\":false,\"error\":{\"code\":1,\"message\":\"x\"}}", -EPROTO,
	  0, "lacks a string" },
	{ __LINE__, "{\"id\":7,\"ok\":false,\"error\":{\"code\":\"E\",\"message\":\"x\","
	  "\"at\":1}}", -EPROTO, 0, "unknown key 'at'" },
	{ __LINE__, "{\"id\":7,\"ok\":true,\"result\":{},\"event\":\"x\"}", -EPROTO, 0,
	  "unknown key 'event'" },
};

static void
test_parse_response(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(response_vectors); i++) {
		const char *text = response_vectors[i].text, *want = response_vectors[i].want;
		int line = response_vectors[i].line;
		struct client_reply reply = { 0 };
		struct dl_err err = { 0 };
		int r;

		r = client_parse_response(text, strlen(text), 7, &reply, &err);
		if (r != response_vectors[i].want_r)
			print_error("%s:%d: r=%d err='%s'\n", __FILE__, line, r, err.msg);
		_assert_int_equal(r, response_vectors[i].want_r, __FILE__, line);
		if (r < 0) {
			if (!strstr(err.msg, want))
				print_error("%s:%d: err='%s', want '%s'\n", __FILE__, line,
				    err.msg, want);
			_assert_true(strstr(err.msg, want) != NULL, "message", __FILE__, line);
			_assert_true(reply.result == NULL, "no result", __FILE__, line);
			continue;
		}
		_assert_int_equal(reply.ok, response_vectors[i].want_ok, __FILE__, line);
		if (reply.ok) {
			json_t *w = json_loads(want, 0, NULL);

			_assert_true(json_equal(reply.result, w), "result", __FILE__, line);
			json_decref(w);
		} else {
			if (!streq(reply.message, want))
				print_error("%s:%d: message='%s'\n", __FILE__, line, reply.message);
			_assert_true(streq(reply.message, want), "message", __FILE__, line);
			_assert_true(reply.code[0] == 'E', "code", __FILE__, line);
		}
		client_reply_done(&reply);
	}
}

/* A canned peer: reads one request line, writes chunks (pausing between them so the
 * client sees partial lines), reads nreq - 1 more request lines, then closes. */
struct peer {
	int fd;
	int nreq;
	const char *chunks[4];
	char req[2][1024]; /* the request lines read, without '\n' */
};

static void
peer_read_line(int fd, char *buf, size_t size)
{
	size_t n = 0;

	while (n + 1 < size) {
		char c;

		if (read(fd, &c, 1) != 1 || c == '\n')
			break;
		buf[n++] = c;
	}
	buf[n] = '\0';
}

static void *
peer_run(void *userdata)
{
	struct peer *p = userdata;

	if (p->nreq > 0)
		peer_read_line(p->fd, p->req[0], sizeof(p->req[0]));
	for (size_t i = 0; i < ELEMENTSOF(p->chunks) && p->chunks[i]; i++) {
		(void)send(p->fd, p->chunks[i], strlen(p->chunks[i]), MSG_NOSIGNAL);
		(void)usleep(20 * 1000);
	}
	for (int i = 1; i < p->nreq && i < 2; i++)
		peer_read_line(p->fd, p->req[i], sizeof(p->req[i]));
	(void)close(p->fd);
	return NULL;
}

/* A client on one end of a socketpair, the peer thread on the other. */
static struct client *
start_peer(struct peer *p, pthread_t *thread)
{
	int sv[2];
	struct client *c;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	p->fd = sv[1];
	c = client_new_fd(sv[0]);
	assert_non_null(c);
	assert_int_equal(pthread_create(thread, NULL, peer_run, p), 0);
	return c;
}

static void
test_framing(void **state)
{
	/* First answer split mid-line; the second arrives in the same write as the end of
	 * the first, so the client must keep the bytes after the first '\n'. */
	struct peer p = { .nreq = 2, .chunks = {
		"{\"id\":1,\"ok\":true,\"res",
		"ult\":{\"version\":\"0.1\"}}\n{\"id\":2,\"ok\":false,\"error\":",
		"{\"code\":\"ENOENT\",\"message\":\"no node 'n9'\"}}\n",
	} };
	struct client_reply reply = { 0 };
	struct dl_err err = { 0 };
	json_t *args;
	pthread_t t;
	struct client *c = start_peer(&p, &t);

	(void)state;
	assert_int_equal(client_call(c, "ping", NULL, &reply, &err), 0);
	assert_true(reply.ok);
	assert_string_equal(json_string_value(json_object_get(reply.result, "version")), "0.1");
	client_reply_done(&reply);

	args = json_pack("{s:s}", "name", "n9");
	assert_int_equal(client_call(c, "node.show", args, &reply, &err), 0);
	json_decref(args);
	assert_false(reply.ok);
	assert_string_equal(reply.code, "ENOENT");
	assert_string_equal(reply.message, "no node 'n9'");
	client_reply_done(&reply);
	c = client_free(c);
	assert_int_equal(pthread_join(t, NULL), 0);

	/* What went over the wire: one line each, ids counting up, args as given. */
	{
		json_t *r1 = json_loads(p.req[0], JSON_REJECT_DUPLICATES, NULL);
		json_t *r2 = json_loads(p.req[1], JSON_REJECT_DUPLICATES, NULL);
		json_t *w1 = json_loads("{\"id\":1,\"verb\":\"ping\",\"args\":{}}", 0, NULL);
		json_t *w2 = json_loads("{\"id\":2,\"verb\":\"node.show\",\"args\":{\"name\":\"n9\"}}",
		    0, NULL);

		assert_true(json_equal(r1, w1));
		assert_true(json_equal(r2, w2));
		json_decref(r1);
		json_decref(r2);
		json_decref(w1);
		json_decref(w2);
	}
}

static void
test_peer_failures(void **state)
{
	static const struct {
		int line;
		const char *chunks[2];
		size_t max_line;
		int timeout_ms;
		int want_r;
		const char *want;
	} vectors[] = {
		{ __LINE__, { NULL }, 0, 0, -ECONNRESET, "closed the connection without answering" },
		{ __LINE__, { "{\"id\":1,\"ok\"" }, 0, 0, -ECONNRESET, "in the middle" },
		{ __LINE__, { "{\"id\":2,\"ok\":true,\"result\":{}}\n" }, 0, 0, -EPROTO,
		  "has id 2, the request had id 1" },
		{ __LINE__, { "garbage\n" }, 0, 0, -EPROTO, "is not JSON" },
		/* An answer over the cap is refused before it is buffered whole. */
		{ __LINE__, { "{\"id\":1,\"ok\":true,\"result\":{\"x\":\"", "aaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" }, 40, 0,
		  -EMSGSIZE, "longer than 40 bytes" },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(vectors); i++) {
		struct peer p = { .nreq = 1, .chunks = { vectors[i].chunks[0], vectors[i].chunks[1] } };
		struct client_reply reply = { 0 };
		struct dl_err err = { 0 };
		pthread_t t;
		struct client *c = start_peer(&p, &t);
		int r;

		if (vectors[i].max_line)
			c->max_line = vectors[i].max_line;
		r = client_call(c, "ping", NULL, &reply, &err);
		if (r != vectors[i].want_r || !strstr(err.msg, vectors[i].want))
			print_error("%s:%d: r=%d err='%s'\n", __FILE__, vectors[i].line, r, err.msg);
		_assert_int_equal(r, vectors[i].want_r, __FILE__, vectors[i].line);
		_assert_true(strstr(err.msg, vectors[i].want) != NULL, "message", __FILE__,
		    vectors[i].line);
		client_reply_done(&reply);
		c = client_free(c);
		assert_int_equal(pthread_join(t, NULL), 0);
	}
}

static void
test_timeout_and_oversized_request(void **state)
{
	struct client_reply reply = { 0 };
	struct dl_err err = { 0 };
	char *big;
	json_t *args;
	int sv[2];
	struct client *c;

	(void)state;
	/* A peer that never answers: the client gives up at its deadline. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	c = client_new_fd(sv[0]);
	c->timeout_ms = 100;
	assert_int_equal(client_call(c, "ping", NULL, &reply, &err), -ETIMEDOUT);
	assert_non_null(strstr(err.msg, "did not answer"));

	/* A request over the protocol's line limit is refused before anything is sent. */
	big = malloc(MAX_CONTROL_LINE + 1);
	memset(big, 'a', MAX_CONTROL_LINE);
	big[MAX_CONTROL_LINE] = '\0';
	args = json_pack("{s:s}", "names", big);
	assert_int_equal(client_call(c, "node.remove", args, &reply, &err), -EMSGSIZE);
	assert_non_null(strstr(err.msg, "split it"));
	json_decref(args);
	free(big);
	client_free(c);
	(void)close(sv[1]);
}

static void *
listener_run(void *userdata)
{
	int lfd = *(int *)userdata, fd;
	char line[1024];
	static const char answer[] = "{\"id\":1,\"ok\":true,\"result\":{\"version\":\"t\"}}\n";

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd >= 0) {
		peer_read_line(fd, line, sizeof(line));
		(void)send(fd, answer, sizeof(answer) - 1, MSG_NOSIGNAL);
		(void)close(fd);
	}
	return NULL;
}

static void
test_connect(void **state)
{
	char dir[] = "/tmp/test_nodectl_client.XXXXXX", path[128], longpath[200];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct client_reply reply = { 0 };
	struct dl_err err = { 0 };
	struct client *c = NULL;
	pthread_t t;
	int lfd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	(void)snprintf(path, sizeof(path), "%s/control.sock", dir);

	/* Nothing listening: the message names the socket, the reason and a hint. */
	assert_int_equal(client_connect(path, &c, &err), -ENOENT);
	assert_null(c);
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, "No such file or directory"));
	assert_non_null(strstr(err.msg, "is bootsvc running?"));

	memset(longpath, 'x', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	assert_int_equal(client_connect(longpath, &c, &err), -ENAMETOOLONG);

	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	assert_int_equal(pthread_create(&t, NULL, listener_run, &lfd), 0);

	assert_int_equal(client_connect(path, &c, &err), 0);
	assert_int_equal(client_call(c, "ping", NULL, &reply, &err), 0);
	assert_true(reply.ok);
	client_reply_done(&reply);
	c = client_free(c);
	assert_int_equal(pthread_join(t, NULL), 0);
	(void)close(lfd);
	(void)unlink(path);
	(void)rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_response),
		cmocka_unit_test(test_framing),
		cmocka_unit_test(test_peer_failures),
		cmocka_unit_test(test_timeout_and_oversized_request),
		cmocka_unit_test(test_connect),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
