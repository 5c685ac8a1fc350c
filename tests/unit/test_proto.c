/* SPDX-License-Identifier: MIT */
/* lib/proto.c: control-protocol messages as docs/control-protocol.md defines them.
 * Request lines are hand-written from that document; each vector carries its __LINE__. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proto.h"

/* Parse line; check r, the message, the verb and the id the error response would carry
 * (rendered compact, "null" when none). */
static void
check_req_at(const char *file, int line, const char *text, size_t len, int want_r,
    const char *want_msg, const char *want_verb, const char *want_id)
{
	struct proto_req req;
	struct dl_err e = { 0 };
	char *id;
	int r = proto_req_parse(text, len, &req, &e);

	id = json_dumps(req.id, JSON_ENCODE_ANY | JSON_COMPACT);
	if (r != want_r || (want_msg && !strstr(e.msg, want_msg)) ||
	    (want_id && (!id || strcmp(id, want_id) != 0)))
		print_error("%s:%d: r=%d msg='%s' id=%s, want r=%d msg '%s' id %s\n", file, line, r,
		    e.msg, id ? id : "(null)", want_r, want_msg ? want_msg : "",
		    want_id ? want_id : "-");
	_assert_int_equal(r, want_r, file, line);
	_assert_true(req.id != NULL, "id always usable", file, line);
	if (want_msg)
		_assert_true(strstr(e.msg, want_msg) != NULL, "message", file, line);
	if (want_id)
		_assert_string_equal(id, want_id, file, line);
	if (r == 0) {
		_assert_string_equal(req.verb, want_verb, file, line);
		_assert_true(json_is_object(req.args), "args is an object", file, line);
	} else
		_assert_int_equal(e.code, r, file, line);
	free(id);
	proto_req_done(&req);
}

static const struct {
	int line;
	const char *text;
	int want_r;
	const char *msg, *verb, *id;
} req_vectors[] = {
	{ __LINE__, "{\"id\":7,\"verb\":\"node.add\",\"args\":{\"names\":\"n[1-2]\"}}", 0, NULL, "node.add", "7" },
	{ __LINE__, "{\"id\":\"abc\",\"verb\":\"ping\"}", 0, NULL, "ping", "\"abc\"" },
	{ __LINE__, "{\"verb\":\"ping\"}", 0, NULL, "ping", "null" },
	{ __LINE__, "  {\"verb\" : \"ping\", \"args\": {} }  ", 0, NULL, "ping", "null" },
	{ __LINE__, "{\"id\":-1,\"verb\":\"image.list\",\"args\":null}", -EINVAL, "'args' must be an object", NULL, "-1" },
	{ __LINE__, "{\"id\":9007199254740993,\"verb\":\"ping\"}", 0, NULL, "ping", "9007199254740993" },
	{ __LINE__, "{\"verb\":\"abcdefghijklmnopqrstuvwxyzabcdef\"}", 0, NULL, "abcdefghijklmnopqrstuvwxyzabcdef", NULL }, /* 32 */
	{ __LINE__, "{\"verb\":\"node_set-x\"}", 0, NULL, "node_set-x", NULL },
	/* not JSON, not an object: id null */
	{ __LINE__, "", -EINVAL, "malformed JSON", NULL, "null" },
	{ __LINE__, "{", -EINVAL, "malformed JSON", NULL, "null" },
	{ __LINE__, "{\"id\":1,\"verb\":\"ping\"", -EINVAL, "malformed JSON", NULL, "null" },
	{ __LINE__, "{\"id\":1,\"verb\":\"ping\"} {}", -EINVAL, "malformed JSON", NULL, "null" },
	{ __LINE__, "[1,2]", -EINVAL, "request is not a JSON object", NULL, "null" },
	{ __LINE__, "\"ping\"", -EINVAL, "malformed JSON", NULL, "null" }, /* jansson: not an array or object */
	{ __LINE__, "{\"id\":1,\"id\":2,\"verb\":\"ping\"}", -EINVAL, "duplicate", NULL, "null" },
	/* bad ids */
	{ __LINE__, "{\"id\":1.5,\"verb\":\"ping\"}", -EINVAL, "'id' must be an integer or a string", NULL, "null" },
	{ __LINE__, "{\"id\":null,\"verb\":\"ping\"}", -EINVAL, "'id' must be", NULL, "null" },
	{ __LINE__, "{\"id\":{},\"verb\":\"ping\"}", -EINVAL, "'id' must be", NULL, "null" },
	{ __LINE__, "{\"id\":true,\"verb\":\"ping\"}", -EINVAL, "'id' must be", NULL, "null" },
	{ __LINE__, "{\"id\":\"" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\",\"verb\":\"ping\"}",
	    -EINVAL, "'id' longer than 128 bytes", NULL, "null" },
	/* strict keys; the error still carries the id */
	{ __LINE__, "{\"id\":3,\"verb\":\"ping\",\"arg\":{}}", -EINVAL, "unknown request key 'arg'", NULL, "3" },
	{ __LINE__, "{\"id\":3,\"verb\":\"ping\",\"\":1}", -EINVAL, "unknown request key ''", NULL, "3" },
	/* verbs */
	{ __LINE__, "{\"id\":4}", -EINVAL, "missing 'verb' string", NULL, "4" },
	{ __LINE__, "{\"id\":4,\"verb\":7}", -EINVAL, "missing 'verb' string", NULL, "4" },
	{ __LINE__, "{\"id\":4,\"verb\":\"\"}", -EINVAL, "bad verb length", NULL, "4" },
	{ __LINE__, "{\"id\":4,\"verb\":\"abcdefghijklmnopqrstuvwxyzabcdefg\"}", -EINVAL, "bad verb length", NULL, "4" }, /* 33 */
	{ __LINE__, "{\"id\":4,\"verb\":\"Ping\"}", -EINVAL, "bad character in verb", NULL, "4" },
	{ __LINE__, "{\"id\":4,\"verb\":\"node add\"}", -EINVAL, "bad character in verb", NULL, "4" },
	{ __LINE__, "{\"id\":4,\"verb\":\"ping\\n\"}", -EINVAL, "bad character in verb", NULL, "4" },
	{ __LINE__, "{\"id\":4,\"verb\":\"ping\",\"args\":[]}", -EINVAL, "'args' must be an object", NULL, "4" },
	{ __LINE__, "{\"id\":4,\"verb\":\"ping\",\"args\":\"x\"}", -EINVAL, "'args' must be an object", NULL, "4" },
};

static void
test_req_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(req_vectors); i++)
		check_req_at(__FILE__, req_vectors[i].line, req_vectors[i].text,
		    strlen(req_vectors[i].text), req_vectors[i].want_r, req_vectors[i].msg,
		    req_vectors[i].verb, req_vectors[i].id);
}

/* The length is what counts: no NUL needed, bytes after len ignored, NUL inside refused. */
static void
test_req_parse_bytes(void **state)
{
	static const char two[] = "{\"verb\":\"ping\"}{\"verb\":\"x\"}";
	static const char nul[] = "{\"verb\":\"ping\"}\0garbage";
	char *big;

	(void)state;
	check_req_at(__FILE__, __LINE__, two, 15, 0, NULL, "ping", "null");
	check_req_at(__FILE__, __LINE__, nul, sizeof(nul) - 1, -EINVAL, "malformed JSON", NULL,
	    "null");
	check_req_at(__FILE__, __LINE__, "{\"verb\":\"pi\\u0000ng\"}", 21, -EINVAL, NULL, NULL,
	    "null");
	big = malloc(MAX_CONTROL_LINE + 1);
	assert_non_null(big);
	memset(big, ' ', MAX_CONTROL_LINE + 1);
	memcpy(big, "{\"verb\":\"ping\"}", 15);
	check_req_at(__FILE__, __LINE__, big, MAX_CONTROL_LINE, 0, NULL, "ping", "null");
	check_req_at(__FILE__, __LINE__, big, MAX_CONTROL_LINE + 1, -E2BIG,
	    "request longer than 65536 bytes", NULL, "null");
	free(big);
}

static void
check_line_at(const char *file, int line, char *got, const char *want)
{
	if (!got || strcmp(got, want) != 0)
		print_error("%s:%d: got '%s', want '%s'\n", file, line, got ? got : "(null)", want);
	_assert_true(got != NULL, "line built", file, line);
	_assert_string_equal(got, want, file, line);
	free(got);
}

static void
test_responses(void **state)
{
	json_t *id = json_integer(7), *sid = json_string("x\"y");

	(void)state;
	check_line_at(__FILE__, __LINE__, proto_ok(id, NULL), "{\"id\":7,\"ok\":true,\"result\":{}}\n");
	check_line_at(__FILE__, __LINE__, proto_ok(id, json_pack("{s:s}", "version", "1")),
	    "{\"id\":7,\"ok\":true,\"result\":{\"version\":\"1\"}}\n");
	check_line_at(__FILE__, __LINE__, proto_ok(NULL, NULL), "{\"id\":null,\"ok\":true,\"result\":{}}\n");
	/* a result written as text gives proto_ok()'s bytes */
	check_line_at(__FILE__, __LINE__, proto_ok_text(id, "{\"version\":\"1\"}"),
	    "{\"id\":7,\"ok\":true,\"result\":{\"version\":\"1\"}}\n");
	check_line_at(__FILE__, __LINE__, proto_ok_text(sid, "{}"),
	    "{\"id\":\"x\\\"y\",\"ok\":true,\"result\":{}}\n");
	check_line_at(__FILE__, __LINE__, proto_ok_text(NULL, "{\"nodes\":[]}"),
	    "{\"id\":null,\"ok\":true,\"result\":{\"nodes\":[]}}\n");
	check_line_at(__FILE__, __LINE__, proto_ok(json_null(), NULL),
	    "{\"id\":null,\"ok\":true,\"result\":{}}\n");
	check_line_at(__FILE__, __LINE__, proto_error(sid, -EINVAL, "node 'n1x': bad"),
	    "{\"id\":\"x\\\"y\",\"ok\":false,\"error\":{\"code\":\"EINVAL\",\"message\":\"node 'n1x': bad\"}}\n");
	check_line_at(__FILE__, __LINE__, proto_error(NULL, -ENOENT, NULL),
	    "{\"id\":null,\"ok\":false,\"error\":{\"code\":\"ENOENT\",\"message\":\"\"}}\n");
	/* a message with a newline stays on one line */
	check_line_at(__FILE__, __LINE__, proto_error(id, -E2BIG, "a\nb"),
	    "{\"id\":7,\"ok\":false,\"error\":{\"code\":\"E2BIG\",\"message\":\"a\\nb\"}}\n");
	/* invalid UTF-8 (jansson's parse error quotes the bytes near the fault, cut anywhere)
	 * still makes a line, each bad byte a '?'; valid multibyte text is kept */
	check_line_at(__FILE__, __LINE__, proto_error(id, -EINVAL, "near '\"usi\\\xde'"),
	    "{\"id\":7,\"ok\":false,\"error\":{\"code\":\"EINVAL\",\"message\":\"near '\\\"usi\\\\?'\"}}\n");
	check_line_at(__FILE__, __LINE__, proto_error(id, -EINVAL, "\xc3\xa9\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80\xe2\x82"),
	    "{\"id\":7,\"ok\":false,\"error\":{\"code\":\"EINVAL\",\"message\":\"\xc3\xa9???????????\"}}\n");
	check_line_at(__FILE__, __LINE__, proto_request(id, "node.list", NULL),
	    "{\"id\":7,\"verb\":\"node.list\",\"args\":{}}\n");
	check_line_at(__FILE__, __LINE__, proto_request(id, "node.show", json_pack("{s:s}", "name", "n1")),
	    "{\"id\":7,\"verb\":\"node.show\",\"args\":{\"name\":\"n1\"}}\n");
	/* the id is borrowed, not stolen */
	assert_int_equal(id->refcount, 1);
	json_decref(id);
	json_decref(sid);
}

/* A request built by proto_request parses back to the same verb, id and args. */
static void
test_round_trip(void **state)
{
	json_t *id = json_string("req-1");
	char *line = proto_request(id, "node.set", json_pack("{s:s,s:s}", "names", "n[1-4]",
	    "image", "compute@abcd"));
	struct proto_req req;
	struct dl_err e = { 0 };

	(void)state;
	assert_non_null(line);
	assert_int_equal(proto_req_parse(line, strlen(line) - 1, &req, &e), 0);
	assert_string_equal(req.verb, "node.set");
	assert_true(json_equal(req.id, id));
	assert_string_equal(json_string_value(json_object_get(req.args, "image")), "compute@abcd");
	proto_req_done(&req);
	free(line);
	json_decref(id);
}

static void
test_args(void **state)
{
	static const char *const allowed[] = { "names", "image", "force", NULL };
	static const char *const none[] = { NULL };
	json_error_t jerr;
	json_t *a = json_loads("{\"names\":\"n1\",\"image\":7,\"force\":true,\"nul\":\"a\\u0000b\","
	    "\"null\":null,\"long\":\"abcdef\"}", JSON_ALLOW_NUL, &jerr);
	struct dl_err e = { 0 };
	const char *s = "untouched";
	bool b = false;

	(void)state;
	assert_non_null(a);
	/* proto_args_check */
	assert_int_equal(proto_args_check(a, allowed, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "unknown argument '"));
	{
		json_t *empty = json_object();

		assert_int_equal(proto_args_check(empty, none, &e), 0);
		assert_int_equal(proto_args_check(a, none, &e), -EINVAL);
		json_decref(empty);
	}
	{
		json_t *ok = json_pack("{s:s,s:b}", "names", "n1", "force", 0);
		json_t *bad = json_pack("{s:s,s:s}", "names", "n1", "colour", "red");

		assert_int_equal(proto_args_check(ok, allowed, &e), 0);
		assert_int_equal(proto_args_check(bad, allowed, &e), -EINVAL);
		assert_non_null(strstr(e.msg, "unknown argument 'colour'"));
		json_decref(ok);
		json_decref(bad);
	}
	/* proto_arg_str */
	assert_int_equal(proto_arg_str(a, "names", true, 64, &s, &e), 0);
	assert_string_equal(s, "n1");
	assert_int_equal(proto_arg_str(a, "missing", true, 64, &s, &e), -ENOENT);
	assert_null(s);
	assert_non_null(strstr(e.msg, "missing argument 'missing'"));
	s = "untouched";
	assert_int_equal(proto_arg_str(a, "missing", false, 64, &s, &e), 0);
	assert_null(s);
	assert_int_equal(proto_arg_str(a, "null", false, 64, &s, &e), 0);
	assert_null(s);
	assert_int_equal(proto_arg_str(a, "null", true, 64, &s, &e), -ENOENT);
	assert_int_equal(proto_arg_str(a, "image", true, 64, &s, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "argument 'image' must be a string"));
	assert_int_equal(proto_arg_str(a, "long", true, 6, &s, &e), 0);
	assert_int_equal(proto_arg_str(a, "long", true, 5, &s, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "argument 'long' longer than 5 bytes"));
	assert_int_equal(proto_arg_str(a, "nul", true, 64, &s, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "argument 'nul' contains a NUL byte"));
	/* proto_arg_bool */
	assert_int_equal(proto_arg_bool(a, "force", false, &b, &e), 0);
	assert_true(b);
	assert_int_equal(proto_arg_bool(a, "missing", true, &b, &e), 0);
	assert_true(b);
	assert_int_equal(proto_arg_bool(a, "null", false, &b, &e), 0);
	assert_false(b);
	assert_int_equal(proto_arg_bool(a, "names", false, &b, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "argument 'names' must be true or false"));
	json_decref(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_req_parse),
		cmocka_unit_test(test_req_parse_bytes),
		cmocka_unit_test(test_responses),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
