/* SPDX-License-Identifier: MIT */
/* The node rows the SQLite writer committed, handed to the readers (store_sqlite.h).
 *
 * A reader keeps the node rows it read (store_sqlite_cache.c) while they are what its read
 * transaction sees, and each commit of the writer used to empty them. In a storm the boot
 * records commit every few hundred scripts, so the readers read every node again from the
 * file and the log, the very nodes the records had just written (docs/architecture.md,
 * "Keeping the readers' rows"). Now the writer, just before a COMMIT that changed nodes or
 * image versions, reads back the node rows it wrote, and once the commit is in publishes
 * them here as one group; a reader that begins a read transaction after such commits puts
 * their rows into what it keeps instead of emptying it.
 *
 * Which commits a reader's snapshot holds, the store itself says: triggers count every
 * change of a node or an image row in row_gen.gen (store_sqlite_schema.c), in the same
 * transaction, whoever writes (a sqlite3 shell too). A group spans gen_before..gen_after.
 * A reader whose rows were those of gen L, now reading gen G, applies the groups that
 * chain from L to G, oldest first, and empties its rows when they do not: another
 * connection wrote, a write outside a transaction, a savepoint rolled back, a group too
 * big to list or already pushed out of the log. Every doubt empties, as every commit did
 * before: a reader never keeps a row the store no longer holds.
 *
 * A group goes into the log before its COMMIT, so no reader whose snapshot already holds
 * the commit finds it missing (published after, a reader in a tight loop missed one
 * commit in three), and comes out again when the COMMIT fails. Its transaction also
 * writes row_gen.tx, a tag of the group's own, and a reader applies a chain only when the
 * tag its snapshot holds is the last group's: a group whose COMMIT failed, still in the
 * log for the moment before it comes out, can then never be taken for a commit another
 * connection made with the same gens.
 *
 * Bounded: at most ROWLOG_GROUPS groups and ROWLOG_ROWS rows in all; the oldest go first,
 * and a transaction that wrote more rows than that publishes a group that only says so. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "random.h"
#include "store/store_sqlite.h"

/* Rows listed in all groups: the seed's 3,780 nodes each once, with room for a burst of
 * boot records (2,048 queued at most). */
#define ROWLOG_ROWS 4096
/* Groups kept: a reader that sleeps through more commits than this empties its rows. */
#define ROWLOG_GROUPS 256

struct rowlog_row {
	int64_t rowid;
	size_t len;               /* the packed row's bytes; 0: the row is gone */
	const char *mac, *name;   /* into data, before the packed row */
	const unsigned char *bytes; /* into data: the packed row */
	unsigned char data[];
};

struct rowlog_group {
	int64_t gen_before, gen_after;
	int64_t tx;               /* the tag its transaction wrote in row_gen.tx */
	bool images;              /* an image version changed: readers drop the ones they keep */
	bool whole;               /* more rows than the log lists: readers empty their rows */
	unsigned n;
	struct rowlog_row *rows[];
};

struct sqlite_rowlog {
	pthread_mutex_t lock;
	struct rowlog_group *groups[ROWLOG_GROUPS]; /* a ring, the oldest at head */
	unsigned head, count;
	unsigned rows;                              /* listed in all groups */
	uint64_t tx_next;                           /* the next group's tag; writer only */
};

/* The writer's open transaction, as its update hook saw it. */
struct rowlog_tx {
	int64_t rowids[ROWLOG_ROWS]; /* node rows written, in order, repeats allowed */
	unsigned n;
	unsigned bumps;              /* row_gen rows written: the triggers' counts */
	bool images, whole, unsure;
};

static const char row_gen_sql[] = "SELECT gen, tx FROM row_gen";
static const char row_tx_sql[] = "UPDATE row_gen SET tx = ?1";

static struct sqlite_rowlog *
log_new(void)
{
	struct sqlite_rowlog *log = calloc(1, sizeof(*log));

	if (!log)
		return NULL;
	/* Tags from a random start: a store's row_gen.tx may hold one an earlier bootsvc
	 * wrote, which must not be one of ours. */
	if (dl_random(&log->tx_next, sizeof(log->tx_next)) < 0 ||
	    pthread_mutex_init(&log->lock, NULL) != 0) {
		free(log);
		return NULL;
	}
	log->tx_next &= INT64_MAX >> 1; /* positive for a long while */
	return log;
}

static void
group_free(struct rowlog_group *g)
{
	if (!g)
		return;
	for (unsigned i = 0; i < g->n; i++)
		free(g->rows[i]);
	free(g);
}

static void
log_free(struct sqlite_rowlog *log)
{
	if (!log)
		return;
	for (unsigned i = 0; i < log->count; i++)
		group_free(log->groups[(log->head + i) % ROWLOG_GROUPS]);
	pthread_mutex_destroy(&log->lock);
	free(log);
}

int
store_sqlite_rowlog_gen(struct sqlite_conn *c, int64_t *ret, int64_t *ret_tx)
{
	sqlite3_stmt *st = store_sqlite_stmt(c, S_ROW_GEN, row_gen_sql);
	int rc;

	if (!st)
		return -EIO;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*ret = sqlite3_column_int64(st, 0);
		*ret_tx = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : -EIO;
}

/* The group's tag into row_gen.tx, in the transaction about to commit. */
static int
write_tag(struct sqlite_conn *c, int64_t tx)
{
	sqlite3_stmt *st = store_sqlite_stmt(c, S_ROW_TX, row_tx_sql);

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, tx);
	return store_sqlite_step_done(st);
}

int
store_sqlite_rowlog_open(struct sqlite_conn *c)
{
	if (!(c->rowlog_tx = calloc(1, sizeof(*c->rowlog_tx))) || !(c->rowlog = log_new())) {
		store_sqlite_rowlog_close(c);
		return -ENOMEM;
	}
	return 0;
}

void
store_sqlite_rowlog_close(struct sqlite_conn *c)
{
	free(c->rowlog_tx);
	c->rowlog_tx = NULL;
	log_free(c->rowlog);
	c->rowlog = NULL;
}

void
store_sqlite_rowlog_begin(struct sqlite_conn *c)
{
	struct rowlog_tx *t = c->rowlog_tx;

	if (!t)
		return;
	t->n = t->bumps = 0;
	t->images = t->whole = t->unsure = false;
}

void
store_sqlite_rowlog_note(struct sqlite_conn *c, const char *table, int64_t rowid)
{
	struct rowlog_tx *t = c->rowlog_tx;

	if (!t)
		return;
	if (strcmp(table, "nodes") == 0) {
		if (t->n < ROWLOG_ROWS)
			t->rowids[t->n++] = rowid;
		else
			t->whole = true;
	} else if (strcmp(table, "images") == 0)
		t->images = true;
	else if (strcmp(table, "row_gen") == 0)
		t->bumps++;
}

void
store_sqlite_rowlog_unsure(struct sqlite_conn *c)
{
	if (c->rowlog_tx)
		c->rowlog_tx->unsure = true;
}

static int
cmp_rowid(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Node rowid as c reads it now, packed with its keys; a row of length 0 when it is gone.
 * NULL for want of memory or on an error of SQLite's. */
static struct rowlog_row *
row_read(struct sqlite_conn *c, int64_t rowid)
{
	struct rowlog_row *row;
	struct node_rec n;
	size_t lm, ln, len = 0;
	int r = store_sqlite_node_get_rowid(c, rowid, &n);

	if (r < 0 && r != -ENOENT)
		return NULL;
	if (r == -ENOENT) {
		if ((row = calloc(1, sizeof(*row) + 1))) {
			row->rowid = rowid;
			row->mac = row->name = (const char *)row->data;
			row->bytes = row->data;
		}
		return row;
	}
	lm = strlen(n.mac) + 1;
	ln = strlen(n.name) + 1;
	len = store_sqlite_node_packed_size(&n);
	if (!(row = malloc(sizeof(*row) + lm + ln + len)))
		return NULL;
	row->rowid = rowid;
	row->len = len;
	memcpy(row->data, n.mac, lm);
	memcpy(row->data + lm, n.name, ln);
	row->mac = (const char *)row->data;
	row->name = (const char *)row->data + lm;
	row->bytes = row->data + lm + ln;
	store_sqlite_node_pack(row->data + lm + ln, &n);
	return row;
}

/* Put g at the log's end, making room: the oldest groups go. */
static void
log_append(struct sqlite_rowlog *log, struct rowlog_group *g)
{
	pthread_mutex_lock(&log->lock);
	while (log->count && (log->count == ROWLOG_GROUPS || log->rows + g->n > ROWLOG_ROWS)) {
		struct rowlog_group *old = log->groups[log->head];

		log->rows -= old->n;
		group_free(old);
		log->head = (log->head + 1) % ROWLOG_GROUPS;
		log->count--;
	}
	log->groups[(log->head + log->count) % ROWLOG_GROUPS] = g;
	log->count++;
	log->rows += g->n;
	pthread_mutex_unlock(&log->lock);
}

/* The group of what c's transaction wrote, its node rows read back in it; NULL when it
 * cannot be made. */
static struct rowlog_group *
group_make(struct sqlite_conn *c, struct rowlog_tx *t)
{
	struct rowlog_group *g;
	unsigned n = 0;
	int64_t gen, tx;

	if (store_sqlite_rowlog_gen(c, &gen, &tx) < 0)
		return NULL;
	if (!t->whole) {
		qsort(t->rowids, t->n, sizeof(t->rowids[0]), cmp_rowid);
		for (unsigned i = 0; i < t->n; i++)
			if (i == 0 || t->rowids[i] != t->rowids[i - 1])
				t->rowids[n++] = t->rowids[i];
	}
	if (!(g = calloc(1, sizeof(*g) + n * sizeof(g->rows[0]))))
		return NULL;
	g->gen_after = gen;
	/* A savepoint rolled back undid bumps the hook counted: no reader can chain to it. */
	g->gen_before = t->unsure ? -1 : gen - t->bumps;
	g->images = t->images;
	g->whole = t->whole;
	for (unsigned i = 0; i < n && !g->whole; i++) {
		if (!(g->rows[i] = row_read(c, t->rowids[i])))
			g->whole = true; /* what could not be read, readers must not keep */
		else
			g->n = i + 1;
	}
	if (g->whole) { /* the rows read are not the whole of it */
		for (unsigned i = 0; i < g->n; i++)
			free(g->rows[i]);
		g->n = 0;
	}
	g->tx = (int64_t)c->rowlog->tx_next++;
	if (write_tag(c, g->tx) < 0) {
		group_free(g);
		return NULL;
	}
	return g;
}

struct rowlog_group *
store_sqlite_rowlog_prepare(struct sqlite_conn *c)
{
	struct rowlog_tx *t = c->rowlog_tx;
	struct rowlog_group *g;

	if (!t || !c->rowlog || (!t->bumps && !t->n && !t->images))
		return NULL; /* nothing a reader keeps changed */
	/* NULL: no group for these gens, so readers empty their rows */
	if (!(g = group_make(c, t)))
		return NULL;
	log_append(c->rowlog, g);
	return g;
}

void
store_sqlite_rowlog_publish(struct sqlite_conn *c, struct rowlog_group *g, bool committed)
{
	struct sqlite_rowlog *log = c->rowlog;

	if (!g || committed)
		return;
	/* The COMMIT failed: out again. It is the newest (one writer), unless more groups
	 * than the log holds were appended since, which cannot be before its own commit. */
	pthread_mutex_lock(&log->lock);
	if (log->count && log->groups[(log->head + log->count - 1) % ROWLOG_GROUPS] == g) {
		log->count--;
		log->rows -= g->n;
		group_free(g);
	}
	pthread_mutex_unlock(&log->lock);
}

int
store_sqlite_rowlog_catch_up(struct sqlite_rowlog *log, int64_t from, int64_t to,
    int64_t to_tx, const struct rowlog_apply *fn, void *arg)
{
	unsigned first = 0, last = 0;
	int64_t at = from;
	bool found = false;

	if (!log || from < 0 || to <= from)
		return -ESTALE;
	pthread_mutex_lock(&log->lock);
	/* gen only grows, and groups are published in commit order: find the one that
	 * starts at from, then follow the chain */
	for (unsigned i = 0; i < log->count && at != to; i++) {
		const struct rowlog_group *g = log->groups[(log->head + i) % ROWLOG_GROUPS];

		if (g->gen_before != at) {
			if (found)
				break; /* a gap: someone else wrote between two of ours */
			continue;
		}
		if (!found)
			first = i, found = true;
		last = i;
		at = g->gen_after;
	}
	/* the snapshot's tag must be the last group's: else another connection's commit
	 * made these gens (the file's comment) */
	if (!found || at != to || log->groups[(log->head + last) % ROWLOG_GROUPS]->tx != to_tx) {
		pthread_mutex_unlock(&log->lock);
		return -ESTALE;
	}
	/* Applied under the lock: the writer publishes a group a commit, and holds it up by
	 * a put per row; a reader's rows stay its own. */
	for (unsigned i = first; i <= last; i++) {
		const struct rowlog_group *g = log->groups[(log->head + i) % ROWLOG_GROUPS];

		if (g->whole)
			fn->empty(arg);
		if (g->images)
			fn->images(arg);
		for (unsigned k = 0; k < g->n; k++) {
			const struct rowlog_row *row = g->rows[k];

			fn->row(arg, row->rowid, row->mac, row->name, row->bytes, row->len);
		}
	}
	pthread_mutex_unlock(&log->lock);
	return 0;
}
