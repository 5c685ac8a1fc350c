/* SPDX-License-Identifier: MIT */
/* The SQLite store's checkpoints, on a thread of their own.
 *
 * SQLite checkpoints on its own from the commit that takes the write-ahead log past 1,000
 * pages: on the committing thread, which for bootsvc is the loop. That commit then copies
 * the log's pages into the database and syncs both files before it returns, and every
 * HTTP request, DHCP host update and control verb waits behind it: a boot storm's first
 * scripts each write a phase and a history row, so it happened every few thousand of
 * them (docs/benchmarks.md, boot storm). Here the writer's commit only counts the log's
 * pages (sqlite3_wal_hook) and, past CKPT_FRAMES, wakes this thread, which checkpoints
 * PASSIVE on a connection of its own: it copies what no reader still needs, never waits
 * for the writer nor the writer for it, and the log is reused from its start once all of
 * it is copied. The loop's periodic TRUNCATE (ctrl_retention.c) still shrinks the file. */
#include <pthread.h>
#include <stdlib.h>

#include "log.h"
#include "store/store_sqlite.h"

/* SQLite's own threshold (SQLITE_DEFAULT_WAL_AUTOCHECKPOINT). */
#define CKPT_FRAMES 1000

struct sqlite_ckpt {
	sqlite3 *db;               /* the checkpointer's own connection */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool due, stop;            /* under lock */
	uint64_t done;             /* checkpoints run; under lock */
};

static void *
ckpt_main(void *arg)
{
	struct sqlite_ckpt *k = arg;
	int log_frames, copied, rc;

	pthread_mutex_lock(&k->lock);
	for (;;) {
		while (!k->due && !k->stop)
			pthread_cond_wait(&k->wake, &k->lock);
		if (k->stop)
			break;
		k->due = false;
		pthread_mutex_unlock(&k->lock);
		log_frames = copied = 0;
		rc = sqlite3_wal_checkpoint_v2(k->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
		    &log_frames, &copied);
		if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
			log_err("event=store_checkpoint mode=passive msg=\"%s\"",
			    sqlite3_errmsg(k->db));
		else
			log_debug("event=store_checkpoint mode=passive frames=%d copied=%d",
			    log_frames, copied);
		pthread_mutex_lock(&k->lock);
		k->done++;
	}
	pthread_mutex_unlock(&k->lock);
	return NULL;
}

/* sqlite3_wal_hook: after each commit of the writer, on its thread. Returns SQLITE_OK (a
 * hook's error would be the commit's). */
static int
on_wal(void *arg, sqlite3 *db, const char *schema, int frames)
{
	struct sqlite_ckpt *k = arg;

	(void)db;
	(void)schema;
	if (frames < CKPT_FRAMES)
		return SQLITE_OK;
	pthread_mutex_lock(&k->lock);
	k->due = true;
	pthread_cond_signal(&k->wake);
	pthread_mutex_unlock(&k->lock);
	return SQLITE_OK;
}

int
store_sqlite_ckpt_start(struct sqlite_ckpt **ret, sqlite3 *writer, const char *path,
    struct dl_err *reterr)
{
	struct sqlite_ckpt *k = calloc(1, sizeof(*k));
	int r;

	if (!k)
		return -ENOMEM;
	if (sqlite3_open_v2(path, &k->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		r = dl_err_set(reterr, -EIO, "store '%s': checkpoint connection: %s", path,
		    k->db ? sqlite3_errmsg(k->db) : "out of memory");
		(void)sqlite3_close_v2(k->db);
		free(k);
		return r;
	}
	pthread_mutex_init(&k->lock, NULL);
	pthread_cond_init(&k->wake, NULL);
	if ((r = -pthread_create(&k->thread, NULL, ckpt_main, k)) < 0) {
		(void)sqlite3_close_v2(k->db);
		pthread_cond_destroy(&k->wake);
		pthread_mutex_destroy(&k->lock);
		free(k);
		return dl_err_set(reterr, r, "store '%s': cannot start the checkpoint thread", path);
	}
	/* Replaces SQLite's own checkpoint-on-commit, which is a WAL hook too. */
	(void)sqlite3_wal_hook(writer, on_wal, k);
	*ret = k;
	return 0;
}

void
store_sqlite_ckpt_stop(struct sqlite_ckpt *k, sqlite3 *writer)
{
	if (!k)
		return;
	if (writer)
		(void)sqlite3_wal_hook(writer, NULL, NULL);
	pthread_mutex_lock(&k->lock);
	k->stop = true;
	pthread_cond_signal(&k->wake);
	pthread_mutex_unlock(&k->lock);
	(void)pthread_join(k->thread, NULL);
	(void)sqlite3_close_v2(k->db);
	pthread_cond_destroy(&k->wake);
	pthread_mutex_destroy(&k->lock);
	free(k);
}

uint64_t
store_sqlite_ckpt_done(struct sqlite_ckpt *k)
{
	uint64_t n;

	if (!k)
		return 0;
	pthread_mutex_lock(&k->lock);
	n = k->done;
	pthread_mutex_unlock(&k->lock);
	return n;
}
