/* SPDX-License-Identifier: MIT */
/* The return code of a call under test against its vector, for the table-driven tests
 * whose vectors hold want_r and a substring of the message. Include after <cmocka.h>. */
#pragma once

#include <string.h>

#include "err.h"

/* Assert r == want_r at the vector's file:line. On any mismatch, of r or of want_msg (a
 * substring of e->msg; NULL: none), first print both, so a failing vector shows what it
 * got; what names the call (NULL: nothing). Checking the message is the caller's. */
static inline void
check_r_at(const char *file, int line, const char *what, int r, const struct dl_err *e,
    int want_r, const char *want_msg)
{
	if (r != want_r || (want_msg && !strstr(e->msg, want_msg)))
		print_error("%s:%d: %s%sr=%d msg='%s', want r=%d msg containing '%s'\n", file,
		    line, what ? what : "", what ? ": " : "", r, e->msg, want_r,
		    want_msg ? want_msg : "");
	_assert_int_equal(r, want_r, file, line);
}
