/* SPDX-License-Identifier: MIT */
/* bootsvc/privsep/privsep_msg.c on arbitrary datagrams, as either process receives them:
 * the first byte selects the check.
 *   0: decode, and on success the contract of privsep_msg.h: strings NUL-terminated at
 *      data_len with no NUL before it, lengths within their caps, rc and pid in range;
 *      a decoded message encodes back to the same bytes.
 *   1: the parent's path policy (privsep_creds_path_check) with the rest split at the
 *      first '\n' into dir and path: an accepted path is under dir with no ".." part.
 * The input after the selector is the datagram (or the two strings). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../bootsvc/privsep/privsep_msg.h"
#include "../../bootsvc/privsep/privsep_policy.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out[MAX_PRIVSEP_MSG];

static void
check_decode(const uint8_t *data, size_t size)
{
	struct dl_err e = { 0 };
	struct privsep_msg m;
	size_t len = 0;

	if (privsep_msg_decode(data, size, &m, &e) != 0) {
		if (e.code != -EBADMSG || !e.msg[0])
			abort();
		return;
	}
	switch (m.type) {
	case PRIVSEP_READ_CREDS:
	case PRIVSEP_READ_SITE:
	case PRIVSEP_READ_TLS_CA:
	case PRIVSEP_RESULT:
		if (m.data[m.data_len] != '\0' || strlen(m.data) != m.data_len)
			abort();
		if (m.type != PRIVSEP_RESULT &&
		    (m.data_len == 0 || m.data_len >= MAX_PRIVSEP_PATH))
			abort();
		if (m.type == PRIVSEP_RESULT && (m.rc > 0 || m.rc < -4095 ||
		    m.data_len > MAX_PRIVSEP_TEXT))
			abort();
		break;
	case PRIVSEP_STATUS:
		if (m.pid < 0)
			abort();
		break;
	case PRIVSEP_FILE:
		if (m.data_len > MAX_PRIVSEP_FILE || m.mode > 07777)
			abort();
		break;
	default:
		if (!privsep_type_is_request(m.type) || m.data_len != 0)
			abort();
	}
	/* What was accepted is what would have been sent. */
	if (privsep_msg_encode(&m, out, sizeof(out), &len, &e) != 0 || len != size ||
	    memcmp(out, data, size) != 0)
		abort();
}

/* A "." or ".." component anywhere in p ("...." is a name, not a way up). */
static bool
has_dot_component(const char *p)
{
	for (const char *c = p; *c;) {
		size_t n = strcspn(c, "/");

		if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return true;
		c += n;
		if (*c == '/')
			c++;
	}
	return false;
}

static void
check_policy(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size), *path;
	const char *rel = NULL;
	struct dl_err e = { 0 };
	size_t dlen;

	if (!s)
		return;
	path = strchr(s, '\n');
	if (!path) {
		free(s);
		return;
	}
	*path++ = '\0';
	if (privsep_creds_path_check(s, path, &rel, &e) == 0) {
		dlen = strlen(s);
		while (dlen > 1 && s[dlen - 1] == '/')
			dlen--;
		if (s[0] != '/' || path[0] != '/' || !rel || !*rel || rel < path ||
		    rel > path + strlen(path) || strncmp(path, s, dlen == 1 ? 1 : dlen) != 0 ||
		    rel[-1] != '/' || has_dot_component(rel) || strstr(rel, "//") ||
		    strlen(path) >= MAX_PRIVSEP_PATH)
			abort();
	} else if (e.code != -EACCES || rel != NULL) {
		abort();
	}
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 2) {
	case 0:
		check_decode(data + 1, size - 1);
		break;
	case 1:
		check_policy(data + 1, size - 1);
		break;
	}
	return 0;
}
