/* SPDX-License-Identifier: MIT */
/* bootsvc/http/http_head.c on arbitrary bytes, as a client on the boot network sends them
 * to the direct path: what it returns is checked against its contract in http_head.h. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../bootsvc/http/http_head.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* No byte of the target that the direct path leaves to libmicrohttpd. */
static void
check_plain(const char *s)
{
	if (strpbrk(s, "%+# \r\n\t") != NULL)
		abort();
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct http_head h;
	int r;

	r = http_head_parse(s, size, &h);
	if (r == 0) {
		/* a beginning: shorter than the bound, with no head's end in it */
		if (size >= HTTP_HEAD_MAX || memmem(s, size, "\r\n\r\n", 4))
			abort();
		return 0;
	}
	if (r < 0) {
		if (r != -EINVAL)
			abort();
		return 0;
	}
	/* a head: all of the input, GET, ending in its one empty line */
	if ((size_t)r != size || size > HTTP_HEAD_MAX || memcmp(s, "GET /", 5) != 0 ||
	    memmem(s, size - 4, "\r\n\r\n", 4) || memcmp(s + size - 4, "\r\n\r\n", 4) != 0)
		abort();
	if (h.path[0] != '/' || h.n_args > HTTP_HEAD_ARGS)
		abort();
	check_plain(h.path);
	for (unsigned i = 0; i < h.n_args; i++) {
		if (!h.args[i].key[0] || strchr(h.args[i].key, '=') || strchr(h.args[i].key, '&') ||
		    strchr(h.args[i].value, '&'))
			abort();
		check_plain(h.args[i].key);
		check_plain(h.args[i].value);
		/* the first of a key is what a lookup finds */
		for (unsigned j = 0; j <= i; j++)
			if (strcmp(h.args[j].key, h.args[i].key) == 0) {
				if (http_head_arg(&h, h.args[i].key) != h.args[j].value)
					abort();
				break;
			}
	}
	return 0;
}
