/* SPDX-License-Identifier: MIT */
/* lib/template.c: rendering, the "{{{{" escape, and errors that name line and name.
 * Templates are shaped like ipxe-scripts/linux.ipxe (iPXE scripting: ipxe.org/scripting). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "template.h"

static const char *const vars[][2] = {
	{ "mac", "52:54:00:00:00:01" },
	{ "node.name", "n001" },
	{ "image.kernel", "/images/3f2a/vmlinuz" },
	{ "token", "abc123" },
	{ "empty", "" },
	{ "x_1", "X" },
	{ "braces", "{{mac}}" }, /* values are not re-expanded */
};

static const char *
lookup(const char *name, void *userdata)
{
	int *calls = userdata;

	if (calls)
		(*calls)++;
	for (size_t i = 0; i < ELEMENTSOF(vars); i++)
		if (strcmp(vars[i][0], name) == 0)
			return vars[i][1];
	return NULL;
}

static const struct {
	int line;
	const char *tmpl;
	const char *want;
} render_vectors[] = {
	{ __LINE__, "", "" },
	{ __LINE__, "#!ipxe\n", "#!ipxe\n" },
	{ __LINE__, "{{mac}}", "52:54:00:00:00:01" },
	{ __LINE__, "kernel {{image.kernel}} token={{token}}\nboot\n",
	    "kernel /images/3f2a/vmlinuz token=abc123\nboot\n" },
	{ __LINE__, "a{{empty}}b", "ab" },
	{ __LINE__, "{{x_1}}{{x_1}}", "XX" },
	{ __LINE__, "{{braces}}", "{{mac}}" },
	{ __LINE__, "{{{{mac}}", "{{mac}}" },         /* "{{{{" is a literal "{{" */
	{ __LINE__, "{{{{{{mac}}", "{{52:54:00:00:00:01" },
	{ __LINE__, "${mac} {x} }} } {", "${mac} {x} }} } {" }, /* iPXE's own syntax untouched */
	{ __LINE__, "set a ${net0/mac}\n", "set a ${net0/mac}\n" },
	{ __LINE__, "trailing {", "trailing {" },
};

static void
test_render(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(render_vectors); i++) {
		struct dl_err e = { 0 };
		char *out = NULL;
		size_t len = 99;
		int r = template_render(render_vectors[i].tmpl, strlen(render_vectors[i].tmpl),
		    lookup, NULL, &out, &len, &e);

		if (r < 0)
			print_error("%s:%d: %s\n", __FILE__, render_vectors[i].line, e.msg);
		_assert_int_equal(r, 0, __FILE__, render_vectors[i].line);
		_assert_string_equal(out, render_vectors[i].want, __FILE__, render_vectors[i].line);
		_assert_int_equal(len, strlen(render_vectors[i].want), __FILE__,
		    render_vectors[i].line);
		free(out);
	}
}

/* Each error says the line and quotes the name or the text it choked on. */
static const struct {
	int line;
	const char *tmpl;
	int err;
	const char *msg;
} error_vectors[] = {
	{ __LINE__, "{{nope}}", -EINVAL, "line 1: unknown variable 'nope'" },
	{ __LINE__, "#!ipxe\n\nkernel {{image.kernal}}\n", -EINVAL, "line 3: unknown variable 'image.kernal'" },
	{ __LINE__, "{{mac", -EINVAL, "line 1: unterminated placeholder '{{mac'" },
	{ __LINE__, "{{mac}", -EINVAL, "line 1: unterminated placeholder '{{mac'" },
	{ __LINE__, "a\n{{mac}x}}", -EINVAL, "line 2: unterminated placeholder '{{mac'" },
	{ __LINE__, "{{mac\n}}", -EINVAL, "line 1: unterminated placeholder '{{mac'" },
	{ __LINE__, "{{", -EINVAL, "line 1: unterminated placeholder '{{'" },
	{ __LINE__, "{{{", -EINVAL, "line 1: bad character '{' in placeholder '{{'" },
	{ __LINE__, "{{}}", -EINVAL, "line 1: empty placeholder '{{}}'" },
	{ __LINE__, "{{ mac }}", -EINVAL, "line 1: bad character ' ' in placeholder '{{'" },
	{ __LINE__, "\n\n{{Mac}}", -EINVAL, "line 3: bad character 'M' in placeholder '{{'" },
	{ __LINE__, "{{ma-c}}", -EINVAL, "line 1: bad character '-' in placeholder '{{ma'" },
	{ __LINE__, "{{ma'c}}", -EINVAL, "line 1: bad character '?' in placeholder '{{ma'" },
	{ __LINE__, "{{aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}}", -EINVAL,
	    "line 1: variable name 'aaaa" }, /* 65 chars: over MAX_TEMPLATE_NAME */
};

static void
test_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(error_vectors); i++) {
		struct dl_err e = { 0 };
		char *out = (char *)0x1;
		size_t len = 99;
		int r = template_render(error_vectors[i].tmpl, strlen(error_vectors[i].tmpl), lookup,
		    NULL, &out, &len, &e);

		if (r != error_vectors[i].err || !strstr(e.msg, error_vectors[i].msg))
			print_error("%s:%d: r=%d '%s', want %d '%s'\n", __FILE__,
			    error_vectors[i].line, r, e.msg, error_vectors[i].err,
			    error_vectors[i].msg);
		_assert_int_equal(r, error_vectors[i].err, __FILE__, error_vectors[i].line);
		_assert_true(strstr(e.msg, error_vectors[i].msg) != NULL, "message", __FILE__,
		    error_vectors[i].line);
		_assert_true(out == (char *)0x1 && len == 99, "ret untouched", __FILE__,
		    error_vectors[i].line);
	}
}

static void
test_len_and_nul(void **state)
{
	struct dl_err e = { 0 };
	char *out = NULL;
	int calls = 0;

	(void)state;
	/* len bounds the template: it need not be NUL-terminated */
	assert_int_equal(template_render("{{mac}}GARBAGE", 7, lookup, &calls, &out, NULL, &e), 0);
	assert_string_equal(out, "52:54:00:00:00:01");
	assert_int_equal(calls, 1); /* userdata reaches the lookup */
	free(out);
	/* a cut in the middle of a placeholder is unterminated, not read past len */
	assert_int_equal(template_render("{{mac}}", 6, lookup, NULL, &out, NULL, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "unterminated placeholder '{{mac'"));
	assert_int_equal(template_render("a\nb\0c", 5, lookup, NULL, &out, NULL, &e), -EINVAL);
	assert_string_equal(e.msg, "line 2: NUL byte in template");
	/* no lookup: every name is unknown */
	assert_int_equal(template_render("{{mac}}", 7, NULL, NULL, &out, NULL, &e), -EINVAL);
	assert_string_equal(e.msg, "line 1: unknown variable 'mac'");
}

static const char *
lookup_big(const char *name, void *userdata)
{
	(void)name;
	return userdata;
}

/* MAX_TEMPLATE_SIZE bounds the input and the output, one byte either side. */
static void
test_limits(void **state)
{
	char *big = malloc(MAX_TEMPLATE_SIZE + 2), *out = NULL;
	struct dl_err e = { 0 };
	size_t len = 0;

	(void)state;
	assert_non_null(big);
	memset(big, 'a', MAX_TEMPLATE_SIZE + 1);
	big[MAX_TEMPLATE_SIZE + 1] = '\0';
	assert_int_equal(template_render(big, MAX_TEMPLATE_SIZE, lookup, NULL, &out, &len, &e), 0);
	assert_int_equal(len, MAX_TEMPLATE_SIZE);
	free(out);
	assert_int_equal(template_render(big, MAX_TEMPLATE_SIZE + 1, lookup, NULL, &out, &len, &e),
	    -E2BIG);
	assert_string_equal(e.msg, "template is larger than 65536 bytes");

	/* a value of MAX_TEMPLATE_SIZE - 1 bytes plus one literal byte fits; two do not */
	big[MAX_TEMPLATE_SIZE - 1] = '\0';
	assert_int_equal(template_render("x{{v}}", 6, lookup_big, big, &out, &len, &e), 0);
	assert_int_equal(len, MAX_TEMPLATE_SIZE);
	free(out);
	assert_int_equal(template_render("\nxy{{v}}", 8, lookup_big, big, &out, &len, &e), -E2BIG);
	assert_string_equal(e.msg, "line 2: output is larger than 65536 bytes");
	free(big);
}

/* A compiled template expands like template_render, as often as asked; its syntax errors
 * come at compile, an unknown name at expand with the placeholder's line. */
static void
test_compiled(void **state)
{
	struct dl_err e = { 0 };
	struct template *t = NULL;
	char *out;
	size_t len;

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(render_vectors); i++) {
		const char *tmpl = render_vectors[i].tmpl;

		assert_int_equal(template_compile(tmpl, strlen(tmpl), &t, &e), 0);
		for (int twice = 0; twice < 2; twice++) {
			if (template_expand(t, lookup, NULL, &out, &len, &e) != 0)
				fail_msg("vector at line %d: %s", render_vectors[i].line, e.msg);
			assert_string_equal(out, render_vectors[i].want);
			assert_int_equal(len, strlen(render_vectors[i].want));
			free(out);
		}
		template_free(t);
	}
	/* more placeholders than fit on the stack between expand's two passes */
	{
		char many[100 * 7 + 1] = "", want[101] = "";

		for (int i = 0; i < 100; i++) {
			strcat(many, "{{x_1}}");
			strcat(want, "X");
		}
		assert_int_equal(template_compile(many, strlen(many), &t, &e), 0);
		assert_int_equal(template_expand(t, lookup, NULL, &out, &len, &e), 0);
		assert_string_equal(out, want);
		assert_int_equal(len, 100);
		free(out);
		template_free(t);
	}
	assert_int_equal(template_compile("a\n{{mac", 7, &t, &e), -EINVAL);
	assert_string_equal(e.msg, "line 2: unterminated placeholder '{{mac'");
	assert_int_equal(template_compile("a\nb\n{{nosuch}}\n", 15, &t, &e), 0);
	out = NULL;
	assert_int_equal(template_expand(t, lookup, NULL, &out, &len, &e), -EINVAL);
	assert_null(out);
	assert_string_equal(e.msg, "line 3: unknown variable 'nosuch'");
	template_free(t);
	template_free(NULL);
}

/* Only mac: what a template bound but for {{mac}} may still ask for. */
static const char *
lookup_mac(const char *name, void *userdata)
{
	(void)userdata;
	return strcmp(name, "mac") == 0 ? "52:54:00:00:00:01" : NULL;
}

/* A template bound but for one name renders as the whole template does, asking only for
 * that name; a value holding "{{" stays text; the errors are named. */
static void
test_bind(void **state)
{
	char *big = malloc(MAX_TEMPLATE_SIZE + 1), *out = NULL;
	struct dl_err e = { 0 };
	struct template *t = NULL, *b = NULL;
	size_t len;
	int calls = 0;

	(void)state;
	assert_non_null(big);
	for (size_t i = 0; i < ELEMENTSOF(render_vectors); i++) {
		const char *tmpl = render_vectors[i].tmpl;

		assert_int_equal(template_compile(tmpl, strlen(tmpl), &t, &e), 0);
		for (int keep = 0; keep < 2; keep++) {
			/* kept: mac, which most vectors have; or a name none has */
			if (template_bind(t, keep ? "mac" : "zz", lookup, NULL, &b, &e) != 0)
				fail_msg("vector at line %d: %s", render_vectors[i].line, e.msg);
			if (template_expand(b, lookup_mac, NULL, &out, &len, &e) != 0)
				fail_msg("vector at line %d: %s", render_vectors[i].line, e.msg);
			assert_string_equal(out, render_vectors[i].want);
			assert_int_equal(len, strlen(render_vectors[i].want));
			free(out);
			template_free(b);
		}
		template_free(t);
	}

	/* the kept name is asked for at each placeholder of it, the others never again */
	assert_int_equal(template_compile("{{mac}} {{token}}\n{{mac}}", 25, &t, &e), 0);
	assert_int_equal(template_bind(t, "mac", lookup, &calls, &b, &e), 0);
	assert_int_equal(calls, 1);
	calls = 0;
	assert_int_equal(template_expand(b, lookup, &calls, &out, &len, &e), 0);
	assert_string_equal(out, "52:54:00:00:00:01 abc123\n52:54:00:00:00:01");
	assert_int_equal(calls, 2);
	free(out);
	template_free(b);
	template_free(t);

	assert_int_equal(template_compile("a\nb\n{{nosuch}}\n", 15, &t, &e), 0);
	assert_int_equal(template_bind(t, "mac", lookup, NULL, &b, &e), -EINVAL);
	assert_string_equal(e.msg, "line 3: unknown variable 'nosuch'");
	assert_int_equal(template_bind(t, "", lookup, NULL, &b, &e), -EINVAL);
	template_free(t);

	/* bound values count towards the output's limit, at bind and at expand */
	memset(big, 'a', MAX_TEMPLATE_SIZE);
	big[MAX_TEMPLATE_SIZE - 1] = '\0';
	assert_int_equal(template_compile("\nxy{{v}}", 8, &t, &e), 0);
	assert_int_equal(template_bind(t, "mac", lookup_big, big, &b, &e), -E2BIG);
	assert_string_equal(e.msg, "line 2: output is larger than 65536 bytes");
	assert_int_equal(template_bind(t, "v", lookup_big, big, &b, &e), 0);
	assert_int_equal(template_expand(b, lookup_big, big, &out, &len, &e), -E2BIG);
	assert_string_equal(e.msg, "line 2: output is larger than 65536 bytes");
	template_free(b);
	template_free(t);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_len_and_nul),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_compiled),
		cmocka_unit_test(test_bind),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
