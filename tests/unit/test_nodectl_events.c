/* SPDX-License-Identifier: MIT */
/* nodectl/client.c event lines and nodectl/cmd_events.c: parsing {"event": {...}} lines
 * (shaped as bootsvc/control/control.c send_event() makes them), responses and events
 * interleaved on one subscribed connection, and the human line format. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../nodectl/client.h"
#include "../../nodectl/cmd_events.h"
#include "macro.h"

static const struct {
	int line;
	const char *text;
	int want_r;
	const char *want; /* node/kind/what/reason joined by '|', or an error substring */
} vectors[] = {
	{ __LINE__, "{\"event\":{\"seq\":42,\"node\":\"n01\",\"kind\":\"phase\",\"phase\":\"up\","
	  "\"reason\":\"\",\"at\":1764040000}}", 0, "n01|phase|up|" },
	{ __LINE__, "{\"event\":{\"seq\":43,\"node\":\"n01\",\"kind\":\"action\","
	  "\"action\":\"power-cycle\",\"reason\":\"up on another image: reimage\",\"at\":1}}", 0,
	  "n01|action|power-cycle|up on another image: reimage" },
	/* A newer bootsvc may add keys inside the event; reason and at may be absent. */
	{ __LINE__, "{\"event\":{\"seq\":1,\"node\":\"n1\",\"kind\":\"action\",\"action\":\"hold\","
	  "\"by\":\"root\"}}", 0, "n1|action|hold|" },
	/* Control characters from a node's report never reach the terminal. */
	{ __LINE__, "{\"event\":{\"seq\":1,\"node\":\"n1\",\"kind\":\"phase\",\"phase\":\"failed\","
	  "\"reason\":\"a\\u001b[2Jb\"}}", 0, "n1|phase|failed|a?[2Jb" },
	/* Not an event: the caller tries it as a response. */
	{ __LINE__, "{\"id\":1,\"ok\":true,\"result\":{}}", -ENOMSG, "" },
	{ __LINE__, "[1]", -EPROTO, "not a JSON object" },
	{ __LINE__, "{\"event\":", -EPROTO, "not JSON" },
	{ __LINE__, "{\"event\":{\"seq\":1},\"id\":3}", -EPROTO, "a key besides 'event'" },
	{ __LINE__, "{\"event\":7}", -EPROTO, "event is not an object" },
	{ __LINE__, "{\"event\":{\"node\":\"n1\",\"kind\":\"phase\",\"phase\":\"up\"}}", -EPROTO,
	  "no seq" },
	{ __LINE__, "{\"event\":{\"seq\":-1,\"node\":\"n1\",\"kind\":\"phase\",\"phase\":\"up\"}}",
	  -EPROTO, "no seq" },
	{ __LINE__, "{\"event\":{\"seq\":1,\"kind\":\"phase\",\"phase\":\"up\"}}", -EPROTO,
	  "no string 'node'" },
	{ __LINE__, "{\"event\":{\"seq\":1,\"node\":\"n1\",\"kind\":\"phase\",\"action\":\"up\"}}",
	  -EPROTO, "no string 'phase'" },
	{ __LINE__, "{\"event\":{\"seq\":1,\"node\":\"n1\",\"kind\":\"action\",\"phase\":\"up\"}}",
	  -EPROTO, "no string 'action'" },
	{ __LINE__, "{\"event\":{\"seq\":1,\"node\":\"n1\",\"kind\":\"phase\",\"phase\":\"up\","
	  "\"at\":\"noon\"}}", -EPROTO, "non-integer 'at'" },
	{ __LINE__, "{\"event\":{\"seq\":1,\"node\":\"n1234567890123456789012345678901234567890"
	  "12345678901234567890123\",\"kind\":\"phase\",\"phase\":\"up\"}}", -EPROTO,
	  "'node' longer than 63 bytes" },
};

static void
test_parse_event(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(vectors); i++) {
		struct client_event e = { 0 };
		struct dl_err err = { 0 };
		int line = vectors[i].line;
		int r = client_parse_event(vectors[i].text, strlen(vectors[i].text), &e, &err);

		if (r != vectors[i].want_r)
			print_error("%s:%d: r=%d err='%s'\n", __FILE__, line, r, err.msg);
		_assert_int_equal(r, vectors[i].want_r, __FILE__, line);
		if (r == 0) {
			char got[512];

			(void)snprintf(got, sizeof(got), "%s|%s|%s|%s", e.node, e.kind, e.what,
			    e.reason);
			if (!streq(got, vectors[i].want))
				print_error("%s:%d: got '%s'\n", __FILE__, line, got);
			_assert_true(streq(got, vectors[i].want), "fields", __FILE__, line);
			_assert_true(json_is_object(e.raw), "raw", __FILE__, line);
		} else if (r == -EPROTO) {
			if (!strstr(err.msg, vectors[i].want))
				print_error("%s:%d: err='%s'\n", __FILE__, line, err.msg);
			_assert_true(strstr(err.msg, vectors[i].want) != NULL, "message",
			    __FILE__, line);
		}
		client_event_done(&e);
	}
}

#define EVENT(seq, node, phase) \
	"{\"event\":{\"seq\":" #seq ",\"node\":\"" node "\",\"kind\":\"phase\",\"phase\":\"" \
	phase "\",\"reason\":\"\",\"at\":1714564803}}\n"

/* Events before a response are kept for client_next_event(), in order; the response
 * still answers the call; a response where only events may come is an error. */
static void
test_interleaved(void **state)
{
	static const char peer[] =
	    EVENT(1, "n01", "pxe")
	    EVENT(2, "n02", "pxe")
	    "{\"id\":1,\"ok\":true,\"result\":{\"seq\":0,\"since\":0}}\n"
	    EVENT(3, "n01", "loading")
	    "{\"id\":9,\"ok\":true,\"result\":{}}\n";
	struct client_reply reply = { 0 };
	struct client_event e = { 0 };
	struct dl_err err = { 0 };
	struct client *c;
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(write(sv[1], peer, strlen(peer)), (ssize_t)strlen(peer));
	c = client_new_fd(sv[0]);
	assert_non_null(c);
	c->timeout_ms = 2000;

	assert_int_equal(client_call(c, "events", NULL, &reply, &err), 0);
	assert_true(reply.ok);
	assert_int_equal(json_integer_value(json_object_get(reply.result, "since")), 0);
	client_reply_done(&reply);
	assert_int_equal(c->queued, 2);

	for (int64_t seq = 1; seq <= 3; seq++) {
		assert_int_equal(client_next_event(c, 1000, &e, &err), 0);
		assert_int_equal(e.seq, seq);
		client_event_done(&e);
	}
	assert_int_equal(c->queued, 0);
	assert_int_equal(client_next_event(c, 1000, &e, &err), -EPROTO);
	assert_non_null(strstr(err.msg, "only events were expected"));
	/* Nothing more: a zero timeout returns at once. */
	assert_int_equal(client_next_event(c, 0, &e, &err), -ETIMEDOUT);

	/* The wake fd ends a wait (SIGINT through a signalfd in main.c). */
	{
		int p[2];

		assert_int_equal(pipe2(p, O_CLOEXEC), 0);
		assert_int_equal(write(p[1], "x", 1), 1);
		c->wake_fd = p[0];
		assert_int_equal(client_next_event(c, 5000, &e, &err), -EINTR);
		close(p[0]);
		close(p[1]);
	}
	/* The peer goes away mid-stream. */
	close(sv[1]);
	c->wake_fd = -1;
	assert_int_equal(client_next_event(c, 1000, &e, &err), -ECONNRESET);
	client_free(c);
}

static void
test_print_line(void **state)
{
	static const char ev[] = "{\"event\":{\"seq\":7,\"node\":\"n01\",\"kind\":\"action\","
	    "\"action\":\"power-cycle\",\"reason\":\"up on another image: reimage\","
	    "\"at\":1714564803}}";
	struct client_event e = { 0 };
	struct dl_err err = { 0 };
	char *buf = NULL;
	size_t size = 0;
	FILE *f;

	(void)state;
	assert_int_equal(client_parse_event(ev, strlen(ev), &e, &err), 0);
	f = open_memstream(&buf, &size);
	assert_int_equal(cmd_events_print_header(f), 0);
	assert_int_equal(cmd_events_print_line(f, &e, false), 0);
	e.reason[0] = '\0';
	assert_int_equal(cmd_events_print_line(f, &e, false), 0);
	assert_int_equal(cmd_events_print_line(f, &e, true), 0);
	/* a discovered node's name, "d-" and 12 hex digits, keeps the columns (issue 16) */
	(void)snprintf(e.node, sizeof(e.node), "d-525400aabbcc");
	assert_int_equal(cmd_events_print_line(f, &e, false), 0);
	fclose(f);
	assert_string_equal(buf,
	    "TIME                  NODE            KIND    WHAT             REASON\n"
	    "2024-05-01T12:00:03Z  n01             action  power-cycle      "
	    "up on another image: reimage\n"
	    "2024-05-01T12:00:03Z  n01             action  power-cycle      -\n"
	    "{\"seq\":7,\"node\":\"n01\",\"kind\":\"action\",\"action\":\"power-cycle\","
	    "\"reason\":\"up on another image: reimage\",\"at\":1714564803}\n"
	    "2024-05-01T12:00:03Z  d-525400aabbcc  action  power-cycle      -\n");
	free(buf);
	client_event_done(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_event),
		cmocka_unit_test(test_interleaved),
		cmocka_unit_test(test_print_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
