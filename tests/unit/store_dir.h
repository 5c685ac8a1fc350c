/* SPDX-License-Identifier: MIT */
/* A real SQLite store in a temp dir of its own, for the unit tests of the store and of
 * what sits on it: /tmp/<test binary>.XXXXXX/state.db, made by a set-up and removed with
 * all in it by the tear-down. store_dir_setup/teardown are cmocka fixtures whose state is
 * the struct store_dir; a test with more state embeds one and calls store_dir_open and
 * store_dir_remove. Include after <cmocka.h>. */
#pragma once

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../bootsvc/store/store.h"

struct store_dir {
	char dir[64];    /* /tmp/<test binary>.XXXXXX */
	char path[96];   /* dir/state.db */
	struct store *s; /* open on path once store_dir_open() ran */
};

/* Make d's directory and name the store file in it, without opening it. 0, or -1. */
static inline int
store_dir_make(struct store_dir *d)
{
	snprintf(d->dir, sizeof(d->dir), "/tmp/%s.XXXXXX", program_invocation_short_name);
	if (!mkdtemp(d->dir))
		return -1;
	snprintf(d->path, sizeof(d->path), "%s/state.db", d->dir);
	return 0;
}

/* store_dir_make(), then a new store on d->path in d->s. 0, or -1 (the reason printed). */
static inline int
store_dir_open(struct store_dir *d)
{
	struct dl_err e = { 0 };

	if (store_dir_make(d) < 0)
		return -1;
	if (store_open(d->path, &d->s, &e) < 0) {
		print_error("store_open: %s\n", e.msg);
		return -1;
	}
	return 0;
}

/* Close d->s (if open) and remove d's directory with all in it. */
static inline void
store_dir_remove(struct store_dir *d)
{
	char cmd[128];

	store_close(d->s);
	d->s = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->dir);
	(void)!system(cmd);
}

static inline int
store_dir_setup(void **state)
{
	struct store_dir *d = calloc(1, sizeof(*d));

	if (!d || store_dir_open(d) < 0) {
		free(d);
		return -1;
	}
	*state = d;
	return 0;
}

static inline int
store_dir_teardown(void **state)
{
	struct store_dir *d = *state;

	store_dir_remove(d);
	free(d);
	return 0;
}
