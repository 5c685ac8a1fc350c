/* SPDX-License-Identifier: MIT */
/* Checks shared by nodectl's tests, each pointing a failure at its vector's line:
 * - argv vectors (test_nodectl_args.c, test_nodectl_alloc.c): a command line as an admin
 *   types it, split on spaces, parsed by the command's parser, and either the args object
 *   bootsvc must receive (docs/control-protocol.md) or the text the -EINVAL message must
 *   contain;
 * - progress steps (test_nodectl_progress.c, test_nodectl_alloc.c): the nodes counted in
 *   each bucket and whether the wait is over. */
#pragma once

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../../nodectl/cmd.h"
#include "../../nodectl/progress.h"

/* Most words in one vector's command line. */
#define MAX_WORDS 24

/* Split a vector's command line into a writable argv (getopt permutes it). */
static inline int
split(char *line, char **argv)
{
	int argc = 0;

	for (char *save = NULL, *w = strtok_r(line, " ", &save); w;
	    w = strtok_r(NULL, " ", &save)) {
		assert_true(argc < MAX_WORDS - 1);
		argv[argc++] = w;
	}
	argv[argc] = NULL;
	return argc;
}

/* Parse cmdline with parse; want: the args as JSON, or NULL when the error err (a
 * substring of the message) is expected. *ret_opts gets what the parser set, for the
 * caller's own checks. */
static inline void
check_cmd_vector(const char *file, int line, cmd_parse_fn parse, const char *cmdline,
    const char *want_json, const char *want_err, struct cmd_opts *ret_opts)
{
	char *words = strdup(cmdline), *argv[MAX_WORDS];
	struct cmd_opts opts = { 0 };
	struct dl_err err = { 0 };
	json_t *args = NULL;
	int argc, r;

	assert_non_null(words);
	argc = split(words, argv);
	r = parse(argc, argv, &opts, &args, &err);
	if (want_json) {
		json_t *want = json_loads(want_json, JSON_REJECT_DUPLICATES, NULL);
		char *got = args ? json_dumps(args, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

		assert_non_null(want);
		if (r != 0 || !json_equal(args, want))
			print_error("%s:%d: r=%d err='%s' got %s\n", file, line, r, err.msg,
			    got ? got : "(null)");
		_assert_int_equal(r, 0, file, line);
		_assert_true(json_equal(args, want), "args", file, line);
		free(got);
		json_decref(want);
	} else {
		if (r != -EINVAL || !strstr(err.msg, want_err))
			print_error("%s:%d: r=%d err='%s', want -EINVAL and '%s'\n", file, line, r,
			    err.msg, want_err);
		_assert_int_equal(r, -EINVAL, file, line);
		_assert_true(strstr(err.msg, want_err) != NULL, "message", file, line);
		_assert_true(args == NULL, "no args on error", file, line);
	}
	json_decref(args);
	free(words);
	*ret_opts = opts;
}

/* p's count in each bucket is counts[], and progress_finished() says finished. */
static inline void
check_progress(const char *file, int line, const struct progress *p,
    const size_t counts[static _PROGRESS_MAX], bool finished)
{
	for (int b = 0; b < _PROGRESS_MAX; b++) {
		if (p->count[b] != counts[b])
			print_error("%s:%d: %s: %zu, want %zu\n", file, line,
			    progress_bucket_name(b), p->count[b], counts[b]);
		_assert_int_equal(p->count[b], counts[b], file, line);
	}
	_assert_int_equal(progress_finished(p), finished, file, line);
}
