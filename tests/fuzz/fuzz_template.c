/* SPDX-License-Identifier: MIT */
/* template_render() on arbitrary templates, with a lookup that knows a few names, one of
 * them large enough that a few placeholders reach MAX_TEMPLATE_SIZE; and a template bound
 * but for {{mac}} (template_bind) renders the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char big_value[4096 + 1];

static const char *
lookup(const char *name, void *userdata)
{
	static const char *const vars[][2] = {
		{ "mac", "52:54:00:00:00:01" },
		{ "node.name", "n001" },
		{ "image.kernel", "/images/3f2a/vmlinuz" },
		{ "token", "abc123" },
		{ "empty", "" },
		{ "braces", "{{mac}}" },
	};

	(void)userdata;
	if (strcmp(name, "big") == 0) {
		if (!big_value[0])
			memset(big_value, 'B', sizeof(big_value) - 1);
		return big_value;
	}
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if (strcmp(vars[i][0], name) == 0)
			return vars[i][1];
	return NULL;
}

/* data rendered to want: bound but for mac, then expanded, it must render the same. */
static void
bound_same(const uint8_t *data, size_t size, const char *want, size_t want_len)
{
	struct dl_err e = { 0 };
	struct template *t = NULL, *b = NULL;
	char *out = NULL;
	size_t len = 0;

	if (template_compile((const char *)data, size, &t, &e) < 0)
		abort();
	if (template_bind(t, "mac", lookup, NULL, &b, &e) < 0 ||
	    template_expand(b, lookup, NULL, &out, &len, &e) < 0 || len != want_len ||
	    memcmp(out, want, len) != 0)
		abort();
	free(out);
	template_free(b);
	template_free(t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dl_err e = { 0 };
	char *out = NULL;
	size_t len = 0;
	int r;

	/* data is not NUL-terminated: template_render() must keep within size */
	r = template_render((const char *)data, size, lookup, NULL, &out, &len, &e);
	if (r < 0) {
		if (out || e.code != r || !e.msg[0])
			abort();
		return 0;
	}
	if (!out || len > MAX_TEMPLATE_SIZE || strlen(out) != len)
		abort();
	bound_same(data, size, out, len);
	free(out);
	return 0;
}
