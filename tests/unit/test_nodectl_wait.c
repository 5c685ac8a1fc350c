/* SPDX-License-Identifier: MIT */
/* nodectl's provision --wait (nodectl/wait.c) against a canned bootsvc on a socketpair:
 * the node.list that follows provision finds the node failed, and nodectl says so by name
 * and reason. wait.c is linked as clang compiles it (Makefile): the announcement once took
 * the node from one call's two arguments, one of which the other set, and clang's order
 * read it before it was set (issue 11). */
#include <jansson.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../nodectl/client.h"
#include "../../nodectl/cmd.h"

/* The canned bootsvc: each request line answered by its verb, until the client hangs up. */
static void *
peer(void *arg)
{
	FILE *f = fdopen(*(int *)arg, "r+");
	char line[4096];

	while (f && fgets(line, sizeof(line), f)) {
		json_t *req = json_loads(line, 0, NULL);
		const char *verb = json_string_value(json_object_get(req, "verb"));
		json_t *id = json_object_get(req, "id"), *result, *reply;
		char *out;

		if (verb && strcmp(verb, "provision") == 0)
			result = json_pack("{s:[s],s:s,s:s,s:i}", "nodes", "n1", "image", "tiny",
			    "image_id", "abcdef012345", "seq", 5);
		else if (verb && strcmp(verb, "node.list") == 0)
			result = json_pack("{s:[{s:s,s:s,s:s,s:s}]}", "nodes", "name", "n1",
			    "phase", "pxe", "op", "failed", "last_error", "timed out in phase pxe");
		else
			result = json_object(); /* events: subscribed, nothing happens */
		reply = json_pack("{s:O,s:b,s:o}", "id", id, "ok", 1, "result", result);
		out = json_dumps(reply, JSON_COMPACT);
		fprintf(f, "%s\n", out);
		fflush(f);
		free(out);
		json_decref(reply);
		json_decref(req);
	}
	if (f)
		fclose(f);
	return NULL;
}

static void
test_wait_announces_failed_node(void **state)
{
	struct cmd_opts opts = { .timeout_ms = 10000 };
	struct dl_err err = { 0 };
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	struct client *c;
	pthread_t t;
	json_t *args;
	int sv[2], r;

	(void)state;
	assert_non_null(out);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(pthread_create(&t, NULL, peer, &sv[1]), 0);
	c = client_new_fd(sv[0]);
	assert_non_null(c);
	args = json_pack("{s:s,s:s}", "names", "n1", "image", "tiny");
	r = cmd_provision_follow(c, "provision", args, &opts, out, &err);
	json_decref(args);
	fclose(out);
	client_free(c); /* the peer sees the end of the stream and returns */
	pthread_join(t, NULL);
	print_message("%s", text);
	assert_int_equal(r, NODECTL_EXIT_DAEMON);
	assert_non_null(strstr(text, "n1 failed: timed out in phase pxe\n"));
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wait_announces_failed_node),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
