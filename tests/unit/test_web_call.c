/* SPDX-License-Identifier: MIT */
/* control_call_as(): how the web view calls the control verbs (bootsvc/web/web.c), on a real
 * store: the same role check as a socket client's (read-only may list, may not act, and
 * the message names the user), unknown verbs, args that are not an object, and a text
 * verb's answer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "control_call.h"

static void
test_roles(void **state)
{
	struct control_fixture *f = *state;
	json_t *resp, *args, *res = NULL, *list;
	char *text = NULL;
	struct dl_err e = { 0 };

	check_ok(&f->bs, "{\"id\":1,\"verb\":\"node.add\",\"args\":{\"names\":\"n[1-3]\","
	    "\"macs\":\"52:54:00:00:00:[01-03]\"}}", &resp);
	json_decref(resp);

	/* a read: a text verb answers with its JSON text */
	args = json_pack("{s:s}", "names", "n[1-2]");
	assert_int_equal(control_call_as(&f->bs, ROLE_READ_ONLY, "rob", "node.list", args, &res,
	    &text, &e), 0);
	assert_null(res);
	assert_non_null(text);
	list = json_loads(text, 0, NULL);
	assert_int_equal(json_array_size(json_object_get(list, "nodes")), 2);
	json_decref(list);
	free(text);
	text = NULL;
	json_decref(args);

	/* an action of a role that may not: refused with who and what, nothing changed */
	args = json_pack("{s:s}", "names", "n1");
	assert_int_equal(control_call_as(&f->bs, ROLE_READ_ONLY, "rob", "node.remove", args, &res,
	    &text, &e), -EPERM);
	assert_string_equal(e.msg,
	    "role 'read-only' of 'rob' may not use 'node.remove' (it needs the admin role)");
	assert_null(res);
	assert_null(text);
	e = (struct dl_err){ 0 };
	assert_int_equal(control_call_as(&f->bs, ROLE_SCHEDULER, "sched", "node.remove", args, &res,
	    &text, &e), -EPERM);
	e = (struct dl_err){ 0 };
	assert_int_equal(control_call_as(&f->bs, ROLE_ADMIN, "ada", "node.remove", args, &res,
	    &text, &e), 0);
	assert_non_null(res);
	json_decref(res);
	res = NULL;
	json_decref(args);

	/* an unknown verb, args that are not an object, a verb's own refusal */
	e = (struct dl_err){ 0 };
	args = json_object();
	assert_int_equal(control_call_as(&f->bs, ROLE_ADMIN, "ada", "frobnicate", args, &res, &text,
	    &e), -ENOENT);
	assert_non_null(strstr(e.msg, "unknown verb 'frobnicate'"));
	json_decref(args);
	e = (struct dl_err){ 0 };
	args = json_array();
	assert_int_equal(control_call_as(&f->bs, ROLE_ADMIN, "ada", "node.list", args, &res, &text,
	    &e), -EINVAL);
	json_decref(args);
	e = (struct dl_err){ 0 };
	args = json_pack("{s:s}", "bogus", "x");
	assert_true(control_call_as(&f->bs, ROLE_ADMIN, "ada", "node.list", args, &res, &text,
	    &e) < 0);
	assert_non_null(strstr(e.msg, "bogus"));
	json_decref(args);
	assert_null(res);
	assert_null(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roles, control_setup, control_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
