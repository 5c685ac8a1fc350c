/* SPDX-License-Identifier: MIT */
/* A real store for the unit tests of the store and of what sits on it, on either backend:
 *
 * - SQLite (the default): /tmp/<test binary>.XXXXXX/state.db, made by a set-up and removed
 *   with all in it by the tear-down.
 * - PostgreSQL, when the environment has DL_TEST_PG (a libpq URL of a server whose role
 *   may CREATE DATABASE, naming database postgres; tests/run.sh starts one and runs
 *   each test that includes this a second time as unit/<name>@pg): a fresh database per
 *   fixture, dropped by the tear-down. The temp dir is made all the same (tests keep
 *   other files there).
 *
 * store_dir_setup/teardown are cmocka fixtures whose state is the struct store_dir; a
 * test with more state embeds one and calls store_dir_open and store_dir_remove. A test
 * that pokes SQLite's files itself registers those cases only when !store_dir_is_pg().
 * Include after <cmocka.h>. */
#pragma once

#include <errno.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../bootsvc/store/store.h"

struct store_dir {
	char dir[64];    /* /tmp/<test binary>.XXXXXX */
	char path[512];  /* dir/state.db, or the postgresql:// URL of the database */
	char pgdb[64];   /* the database made for it, "" for SQLite */
	struct store *s; /* open on path once store_dir_open() ran */
};

/* Whether the tests run on PostgreSQL (DL_TEST_PG set). */
static inline bool
store_dir_is_pg(void)
{
	const char *u = getenv("DL_TEST_PG");

	return u && *u;
}

/* url with its database (the path after the authority) replaced by db, into buf. */
static inline int
store_dir_pg_url(const char *url, const char *db, char *buf, size_t size)
{
	const char *auth = strstr(url, "://"), *slash, *rest;

	if (!auth)
		return -1;
	slash = auth + 3 + strcspn(auth + 3, "/?");
	rest = *slash == '/' ? slash + 1 + strcspn(slash + 1, "?") : slash;
	if (snprintf(buf, size, "%.*s/%s%s", (int)(slash - url), url, db, rest) >= (int)size)
		return -1;
	return 0;
}

/* sql on DL_TEST_PG's database: 0, or -1 (the reason printed). */
static inline int
store_dir_pg_admin(const char *sql)
{
	PGconn *db = PQconnectdb(getenv("DL_TEST_PG"));
	PGresult *res;
	int r = -1;

	if (PQstatus(db) != CONNECTION_OK) {
		print_error("DL_TEST_PG: %s", PQerrorMessage(db));
	} else {
		res = PQexec(db, sql);
		if (PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) ==
		    PGRES_TUPLES_OK)
			r = 0;
		else
			print_error("%s: %s", sql, PQresultErrorMessage(res));
		PQclear(res);
	}
	PQfinish(db);
	return r;
}

/* Make d's directory and name the store in it (SQLite: the file; PostgreSQL: a new
 * empty database), without opening it. 0, or -1. */
static inline int
store_dir_make(struct store_dir *d)
{
	static unsigned made;
	char sql[128];

	snprintf(d->dir, sizeof(d->dir), "/tmp/%s.XXXXXX", program_invocation_short_name);
	if (!mkdtemp(d->dir))
		return -1;
	if (!store_dir_is_pg()) {
		snprintf(d->path, sizeof(d->path), "%s/state.db", d->dir);
		return 0;
	}
	/* unique per process and fixture; lower case, as SQL folds unquoted names */
	snprintf(d->pgdb, sizeof(d->pgdb), "dltest_%d_%u", (int)getpid(), made++);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", d->pgdb);
	if (store_dir_pg_admin(sql) < 0 ||
	    store_dir_pg_url(getenv("DL_TEST_PG"), d->pgdb, d->path, sizeof(d->path)) < 0) {
		d->pgdb[0] = '\0';
		return -1;
	}
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

/* Close d->s (if open), drop its database, remove d's directory with all in it. */
static inline void
store_dir_remove(struct store_dir *d)
{
	char cmd[128];

	store_close(d->s);
	d->s = NULL;
	if (d->pgdb[0]) {
		/* FORCE: a reader a failed test left open must not keep it */
		snprintf(cmd, sizeof(cmd), "DROP DATABASE IF EXISTS %s WITH (FORCE)", d->pgdb);
		(void)store_dir_pg_admin(cmd);
		d->pgdb[0] = '\0';
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->dir);
	(void)!system(cmd);
}

/* Insert a node with this name, MAC and phase (token "a" x 64, created at 1000): the rows
 * the store tests hang theirs on. Fails the test if the store refuses it. */
static inline void
store_dir_add_node(struct store *s, const char *name, const char *mac, const char *phase)
{
	struct node_rec n = { 0 };
	struct dl_err e = { 0 };

	snprintf(n.name, sizeof(n.name), "%s", name);
	snprintf(n.mac, sizeof(n.mac), "%s", mac);
	memset(n.token, 'a', 64);
	snprintf(n.phase, sizeof(n.phase), "%s", phase);
	n.phase_at = n.created = 1000;
	if (store_node_insert(s, &n, &e) != 0)
		fail_msg("insert %s: %s", name, e.msg);
}

static inline int
store_dir_setup(void **state)
{
	struct store_dir *d = calloc(1, sizeof(*d));

	if (!d || store_dir_open(d) < 0) {
		if (d)
			store_dir_remove(d);
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
